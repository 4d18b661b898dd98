//! Name resolution for deliveries, with the URL policy applied to the addresses found, so the
//! address that is checked is the address that is connected to.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Resolves through the operating system (`getaddrinfo`, so `/etc/hosts` applies).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Which addresses deliveries may connect to.
#[derive(Debug, Clone, Copy, Default)]
pub struct TargetPolicy {
    /// Only globally reachable addresses (`--strict-urls`).
    pub strict: bool,
    /// Only loopback addresses (`--loopback-only`).
    pub loopback_only: bool,
}

impl TargetPolicy {
    /// Why a connection to `ip` is refused, if it is.
    pub fn refusal(&self, ip: IpAddr) -> Option<String> {
        if self.loopback_only && !crate::ip_registry::is_loopback(ip) {
            return Some(format!("{ip} is not a loopback address"));
        }
        if self.strict
            && let Some(block) = crate::ip_registry::special_purpose(ip)
        {
            return Some(format!("{ip} is not globally reachable ({block})"));
        }
        None
    }
}

/// Resolves a host name with `resolver`; an empty answer is an error.
pub async fn lookup(resolver: &dyn Resolve, host: &str) -> Result<Vec<IpAddr>, String> {
    let name = Name::from_str(host).map_err(|_| "not a valid host name".to_string())?;
    let addrs = resolver
        .resolve(name)
        .await
        .map_err(|_| "the host does not resolve".to_string())?;
    let ips: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
    if ips.is_empty() {
        return Err("the host does not resolve".to_string());
    }
    Ok(ips)
}

/// The delivery client's resolver: resolves with the configured resolver, then refuses the whole
/// answer when any address breaks the policy, so a name that also points somewhere forbidden is
/// never connected to (whichever address the connector would try first).
pub struct Guarded {
    inner: Arc<dyn Resolve>,
    policy: TargetPolicy,
}

impl Guarded {
    /// `inner` checked against `policy`.
    pub fn new(inner: Arc<dyn Resolve>, policy: TargetPolicy) -> Self {
        Self { inner, policy }
    }
}

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let answer = self.inner.resolve(name);
        let policy = self.policy;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = answer.await?.collect();
            if let Some(refusal) = addrs.iter().find_map(|a| policy.refusal(a.ip())) {
                return Err(refusal.into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers every name with these addresses.
    struct Fixed(Vec<IpAddr>);

    impl Resolve for Fixed {
        fn resolve(&self, _name: Name) -> Resolving {
            let addrs: Vec<SocketAddr> = self.0.iter().map(|ip| SocketAddr::new(*ip, 0)).collect();
            Box::pin(async move { Ok(Box::new(addrs.into_iter()) as Addrs) })
        }
    }

    async fn guarded(answer: &[&str], policy: TargetPolicy) -> Result<Vec<IpAddr>, String> {
        let inner = Fixed(answer.iter().map(|a| a.parse().unwrap()).collect());
        let guard = Guarded::new(Arc::new(inner), policy);
        let name = Name::from_str("host.test").unwrap();
        match guard.resolve(name).await {
            Ok(addrs) => Ok(addrs.map(|a| a.ip()).collect()),
            Err(e) => Err(e.to_string()),
        }
    }

    const LOOPBACK: TargetPolicy = TargetPolicy {
        strict: false,
        loopback_only: true,
    };
    const STRICT: TargetPolicy = TargetPolicy {
        strict: true,
        loopback_only: false,
    };

    #[tokio::test]
    async fn loopback_only_refuses_any_other_address_in_the_answer() {
        assert!(guarded(&["127.0.0.1", "::1"], LOOPBACK).await.is_ok());
        for answer in [
            &["10.1.2.3"][..],
            &["127.0.0.1", "10.1.2.3"],
            &["0.0.0.0"],
            &["::"],
            &["8.8.8.8"],
        ] {
            let refused = guarded(answer, LOOPBACK).await.unwrap_err();
            assert!(refused.contains("not a loopback address"), "{refused}");
        }
    }

    #[tokio::test]
    async fn strict_refuses_special_purpose_addresses_in_the_answer() {
        assert!(
            guarded(&["1.1.1.1", "2606:4700::1111"], STRICT)
                .await
                .is_ok()
        );
        for answer in [
            &["127.0.0.1"][..],
            &["1.1.1.1", "169.254.169.254"],
            &["::ffff:10.0.0.1"],
            &["64:ff9b::7f00:1"],
        ] {
            let refused = guarded(answer, STRICT).await.unwrap_err();
            assert!(refused.contains("not globally reachable"), "{refused}");
        }
        // Without a policy, any answer is used as is.
        let open = guarded(&["10.1.2.3"], TargetPolicy::default()).await;
        assert_eq!(open, Ok(vec!["10.1.2.3".parse::<IpAddr>().unwrap()]));
    }
}

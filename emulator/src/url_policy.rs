//! Which webhook URLs are accepted at endpoint create/update, and which ones are contacted on delivery.

use std::net::IpAddr;

use reqwest::Url;

use reqwest::dns::Resolve;

use crate::{ip_registry, resolve};

/// Parses a webhook URL: http or https, with a host and without credentials.
pub fn parse(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|_| invalid("not a valid URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.host().is_none() {
        return Err(invalid("a host is required"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("credentials are not allowed"));
    }
    Ok(url)
}

/// Host names the production service refuses when they contain one of these (cloud metadata).
const METADATA_HOST_PARTS: [&str; 4] = [
    "metadata.google.internal",
    "169.254.169.254",
    "metadata",
    "instance-data",
];

/// The strict policy: what the production service refuses (localhost names, private and reserved
/// IP literals, metadata host names), and beyond it, for safety, every address the IANA
/// special-purpose registries do not mark globally reachable (CGNAT, benchmarking, IPv4 embedded
/// in IPv6…), literally or through what a hostname resolves to with `resolver`, the one deliveries
/// use. The production service does not resolve names when it checks them, nor when it delivers.
///
/// Without a resolver (loopback-only delivery), hostnames are not looked up: the emulator will
/// never contact them anyway. Deliveries check the addresses again when they connect, so a name
/// that later resolves elsewhere (DNS rebinding) is still refused.
pub async fn check_strict(url: &Url, resolver: Option<&dyn Resolve>) -> Result<(), String> {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => check_address(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => check_address(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            check_name(name)?;
            let Some(resolver) = resolver else {
                return Ok(());
            };
            let addresses = resolve::lookup(resolver, name)
                .await
                .map_err(|e| invalid(&e))?;
            addresses.into_iter().try_for_each(check_address)
        }
        None => Err(invalid("a host is required")),
    }
}

fn check_name(name: &str) -> Result<(), String> {
    let lower = name.to_ascii_lowercase();
    if is_localhost_name(&lower) {
        return Err(invalid(&format!("Localhost URLs are not allowed: {name}")));
    }
    if METADATA_HOST_PARTS.iter().any(|part| lower.contains(part)) {
        return Err(invalid(&format!(
            "Potentially dangerous hostname detected: {name}"
        )));
    }
    Ok(())
}

fn check_address(ip: IpAddr) -> Result<(), String> {
    match ip_registry::special_purpose(ip) {
        Some(block) => Err(invalid(&format!(
            "Private or reserved IP addresses are not allowed: {ip} ({block})"
        ))),
        None => Ok(()),
    }
}

/// Whether a delivery to this URL stays on this machine: a loopback IP literal or `localhost`.
pub fn is_loopback_target(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip_registry::is_loopback(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => ip_registry::is_loopback(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => is_localhost_name(name),
        None => false,
    }
}

fn is_localhost_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

fn invalid(reason: &str) -> String {
    format!("Invalid webhook URL: {reason}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_http_and_https_only() {
        assert!(parse("https://example.com/hook").is_ok());
        assert!(parse("http://127.0.0.1:9000/").is_ok());
        assert!(parse("ftp://example.com/").is_err());
        assert!(parse("https://user:pw@example.com/").is_err());
        assert!(parse("not a url").is_err());
    }

    #[test]
    fn blocked_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(check_address(ip.parse().unwrap()).is_err(), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "100.128.0.1"] {
            assert!(check_address(ip.parse().unwrap()).is_ok(), "{ip}");
        }
    }

    #[tokio::test]
    async fn strict_checks_literals_and_localhost_without_lookups() {
        for url in [
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://localhost:8080/",
            "http://169.254.169.254/",
        ] {
            assert!(
                check_strict(&parse(url).unwrap(), None).await.is_err(),
                "{url}"
            );
        }
        assert!(
            check_strict(&parse("https://example.com/").unwrap(), None)
                .await
                .is_ok()
        );
        assert!(
            check_strict(&parse("https://8.8.8.8/").unwrap(), None)
                .await
                .is_ok()
        );
        for url in [
            "https://metadata.google.internal/",
            "https://Instance-Data.example/",
            "https://my-metadata.example.com/",
        ] {
            let refused = check_strict(&parse(url).unwrap(), None).await.unwrap_err();
            assert!(refused.contains("dangerous hostname"), "{refused}");
        }
    }

    #[test]
    fn loopback_targets() {
        for url in [
            "http://127.0.0.1:1/",
            "http://127.8.9.1/",
            "http://[::1]/",
            "http://localhost/",
            "http://LOCALHOST./",
        ] {
            assert!(is_loopback_target(&parse(url).unwrap()), "{url}");
        }
        for url in [
            "http://example.com/",
            "http://10.0.0.1/",
            "http://192.168.0.1/",
        ] {
            assert!(!is_loopback_target(&parse(url).unwrap()), "{url}");
        }
    }
}

//! The emulator's network boundaries under attack: the strict URL policy covers every special-purpose
//! address, a name is checked at the address actually connected to (no DNS rebinding), loopback-only
//! delivery holds for names too, and slow clients cannot starve the API. Loopback only: no test
//! sends a packet to any other address; names are resolved by a resolver the test controls.

mod common;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Receiver, assert_error, start_with};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wacht_webhooks_emulator::dns::{Addrs, Name, Resolve, Resolving};

/// A resolver the test scripts: each name answers its list of answers in order, the last one
/// repeating; every lookup is counted. Unknown names do not resolve.
#[derive(Clone, Default)]
struct ScriptedDns {
    answers: Arc<Mutex<HashMap<String, Vec<IpAddr>>>>,
    lookups: Arc<Mutex<HashMap<String, usize>>>,
}

impl ScriptedDns {
    fn answer(self, name: &str, answers: &[&str]) -> Self {
        let ips = answers.iter().map(|a| a.parse().unwrap()).collect();
        self.answers.lock().unwrap().insert(name.to_string(), ips);
        self
    }

    fn lookups(&self, name: &str) -> usize {
        self.lookups.lock().unwrap().get(name).copied().unwrap_or(0)
    }
}

impl Resolve for ScriptedDns {
    fn resolve(&self, name: Name) -> Resolving {
        let name = name.as_str().to_string();
        let count = {
            let mut lookups = self.lookups.lock().unwrap();
            let count = lookups.entry(name.clone()).or_insert(0);
            *count += 1;
            *count
        };
        let answer = self
            .answers
            .lock()
            .unwrap()
            .get(&name)
            .map(|ips| ips[(count - 1).min(ips.len() - 1)]);
        Box::pin(async move {
            let ip = answer.ok_or_else(|| format!("{name} does not resolve"))?;
            let addrs: Addrs = Box::new(std::iter::once(SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

fn port(receiver: &Receiver) -> u16 {
    receiver.base.rsplit(':').next().unwrap().parse().unwrap()
}

/// Endpoint URLs the strict policy must refuse: special-purpose addresses of the IANA registries,
/// written directly or embedded in IPv6 forms that reach them.
const SPECIAL_PURPOSE_URLS: &[&str] = &[
    // IPv4
    "http://0.1.2.3/",
    "http://192.0.0.1/",
    "http://192.0.0.8/",
    "http://192.0.0.170/",
    "http://192.0.2.1/",
    "http://198.18.0.1/",
    "http://198.19.255.254/",
    "http://198.51.100.7/",
    "http://203.0.113.9/",
    "http://192.88.99.2/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    // IPv6 and IPv4 embedded in IPv6
    "http://[::7f00:1]/",
    "http://[::a00:1]/",
    "http://[::ffff:0:7f00:1]/",
    "http://[::ffff:7f00:1]/",
    "http://[2002:7f00:1::1]/",
    "http://[2002:a9fe:a9fe::1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[64:ff9b:1::a00:1]/",
    "http://[2001::1]/",
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    "http://[2001:2::1]/",
    "http://[2001:db8::1]/",
    "http://[3fff::1]/",
    "http://[fec0::1]/",
    "http://[100::1]/",
    "http://[100:0:0:1::1]/",
    "http://[5f00::1]/",
    "http://[ff02::1]/",
];

// D12: every special-purpose block is refused when an endpoint is saved.
#[tokio::test]
async fn strict_policy_refuses_every_special_purpose_address() {
    let (_emu, api) = start_with(common::builder().allow_private_urls(false)).await;
    let app = api.app_with_events(&["e"]).await;
    let slug = app["app_slug"].as_str().unwrap();
    let path = format!("/webhooks/apps/{slug}/endpoints");
    let mut accepted = Vec::new();
    for url in SPECIAL_PURPOSE_URLS {
        let answer = api
            .post(
                &path,
                json!({"app_slug": slug, "url": url, "subscriptions": [{"event_name": "e"}]}),
            )
            .await;
        if answer.0 != 400 {
            accepted.push(*url);
        } else {
            assert_error(&answer, 400, None);
        }
    }
    assert!(accepted.is_empty(), "accepted: {accepted:?}");
    // Globally reachable addresses, including the registry's global exceptions, stay accepted.
    for url in [
        "https://8.8.8.8/",
        "https://192.0.0.9/",
        "https://[2001:4860:4860::8888]/",
        "https://[2002:808:808::1]/",
        "https://[64:ff9b::808:808]/",
        "https://[2001:20::1]/",
    ] {
        api.endpoint(&app, url, "e", json!({})).await;
    }
}

// D1: a name checked when saved and re-pointed to loopback afterwards is refused when the delivery
// connects, on every attempt. The public address is only ever the save-time answer: no connection
// is made to it, and the loopback receiver must see nothing.
#[tokio::test]
async fn dns_rebinding_is_refused_at_connect_time() {
    let receiver = Receiver::start().await;
    let dns = ScriptedDns::default().answer("rebind.test", &["1.1.1.1", "127.0.0.1"]);
    let builder = common::builder()
        .allow_private_urls(false)
        .deliver_to_loopback_only(false)
        .dns_resolver(Arc::new(dns.clone()));
    let (_emu, api) = start_with(builder).await;
    let app = api.app_with_events(&["e"]).await;
    let url = format!("http://rebind.test:{}/hook", port(&receiver));
    api.endpoint(&app, &url, "e", json!({"max_retries": 3}))
        .await;
    assert_eq!(dns.lookups("rebind.test"), 1, "checked once when saved");
    let ids = api.trigger(&app, "e", json!({})).await["delivery_ids"].clone();
    let id = ids[0].as_str().unwrap();
    let details = api.settled(&app, id).await;
    assert_eq!(details["status"], "permanently_failed", "{details}");
    assert!(
        receiver.received("/hook").is_empty(),
        "the signed POST reached loopback"
    );
    assert_eq!(
        dns.lookups("rebind.test"),
        1 + 3,
        "resolved and checked on every attempt"
    );
}

// D1: the strict check at save time asks the same resolver.
#[tokio::test]
async fn strict_save_time_check_uses_the_configured_resolver() {
    let dns = ScriptedDns::default()
        .answer("inside.test", &["10.1.2.3"])
        .answer("mapped.test", &["::ffff:192.168.0.1"])
        .answer("public.test", &["1.1.1.1"]);
    let builder = common::builder()
        .allow_private_urls(false)
        .deliver_to_loopback_only(false)
        .dns_resolver(Arc::new(dns.clone()));
    let (_emu, api) = start_with(builder).await;
    let app = api.app_with_events(&["e"]).await;
    let slug = app["app_slug"].as_str().unwrap();
    for url in [
        "https://inside.test/",
        "https://mapped.test/",
        "https://nowhere.test/",
    ] {
        let answer = api
            .post(
                &format!("/webhooks/apps/{slug}/endpoints"),
                json!({"app_slug": slug, "url": url, "subscriptions": [{"event_name": "e"}]}),
            )
            .await;
        assert_error(&answer, 400, None);
    }
    api.endpoint(&app, "https://public.test/", "e", json!({}))
        .await;
    assert_eq!(dns.lookups("inside.test"), 1);
    assert_eq!(dns.lookups("public.test"), 1);
}

// D4: loopback-only delivery checks the address a `*.localhost` name resolves to. `0.0.0.0` is
// not a loopback address, yet connecting to it reaches this machine on Linux: before the check
// the receiver got the delivery; no packet leaves the machine either way. (Other non-loopback
// answers are covered without any connection by the resolver's unit tests.)
#[tokio::test]
async fn loopback_only_checks_resolved_addresses() {
    let receiver = Receiver::start().await;
    let dns = ScriptedDns::default()
        .answer("elsewhere.localhost", &["0.0.0.0"])
        .answer("home.localhost", &["127.0.0.1"]);
    let builder = common::builder().dns_resolver(Arc::new(dns.clone()));
    let (_emu, api) = start_with(builder).await;
    let app = api.app_with_events(&["e"]).await;
    let port = port(&receiver);
    for (host, path) in [
        ("elsewhere.localhost", "/elsewhere"),
        ("home.localhost", "/home"),
    ] {
        let url = format!("http://{host}:{port}{path}");
        api.endpoint(&app, &url, "e", json!({"max_retries": 1}))
            .await;
    }
    let ids = api.trigger(&app, "e", json!({})).await["delivery_ids"].clone();
    let mut statuses = Vec::new();
    for id in ids.as_array().unwrap() {
        let details = api.settled(&app, id.as_str().unwrap()).await;
        statuses.push(details["status"].as_str().unwrap().to_string());
    }
    statuses.sort();
    assert_eq!(statuses, ["permanently_failed", "success"]);
    assert_eq!(receiver.received("/home").len(), 1);
    assert!(receiver.received("/elsewhere").is_empty());
    assert_eq!(
        dns.lookups("elsewhere.localhost"),
        1,
        "checked when connecting"
    );
}

/// Opens a connection to the emulator and sends `prefix` of a request, never the rest.
async fn half_request(emu: &wacht_webhooks_emulator::Emulator, prefix: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(emu.local_addr()).await.unwrap();
    stream.write_all(prefix).await.unwrap();
    stream
}

/// Whether the server closes `stream` (end of file or reset) within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                // A 408 or similar answer before the close is fine.
                Ok(_) => {}
            }
        }
    })
    .await;
    read.is_ok()
}

// D10: a request head that never completes is closed after the header-read timeout, and so is a
// connection that sends nothing at all.
#[tokio::test]
async fn half_sent_requests_are_closed_after_the_header_read_timeout() {
    let builder = common::builder().header_read_timeout(Duration::from_millis(200));
    let (emu, api) = start_with(builder).await;
    let started = Instant::now();
    let mut half = half_request(&emu, b"GET /webhooks/ap").await;
    let mut headers_pending =
        half_request(&emu, b"GET /webhooks/apps HTTP/1.1\r\nHost: x\r\n").await;
    let mut silent = half_request(&emu, b"").await;
    for stream in [&mut half, &mut headers_pending, &mut silent] {
        assert!(
            closed_within(stream, Duration::from_secs(5)).await,
            "still open"
        );
    }
    assert!(started.elapsed() >= Duration::from_millis(200));
    // A client that sends its request in time is served as usual.
    assert_eq!(api.get("/webhooks/apps").await.0, 200);
}

// D10: at most `max_connections` are served at once; the next one waits until a slot frees.
#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let builder = common::builder()
        .max_connections(4)
        .header_read_timeout(Duration::from_secs(30));
    let (emu, api) = start_with(builder).await;
    let mut holders = Vec::new();
    for _ in 0..4 {
        holders.push(half_request(&emu, b"GET /").await);
    }
    // The accept queue is first in, first out: the four holders take the four slots.
    let request = tokio::spawn({
        let api = api.clone();
        async move { api.get("/webhooks/apps").await.0 }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!request.is_finished(), "served beyond the cap");
    drop(holders.pop());
    let status = tokio::time::timeout(Duration::from_secs(5), request)
        .await
        .expect("served once a slot is free")
        .unwrap();
    assert_eq!(status, 200);
}

// D10: a crowd of slow clients, many more than the cap, delays a normal request by a bounded
// time instead of starving it; every slow connection is closed by the server.
#[tokio::test]
async fn slow_clients_cannot_starve_the_api() {
    const SLOW_CLIENTS: usize = 200;
    let builder = common::builder()
        .max_connections(32)
        .header_read_timeout(Duration::from_millis(250));
    let (emu, api) = start_with(builder).await;
    let mut slow = Vec::with_capacity(SLOW_CLIENTS);
    for _ in 0..SLOW_CLIENTS {
        slow.push(half_request(&emu, b"POST /webhooks/apps HTT").await);
    }
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(10), api.get("/webhooks/apps")).await;
    assert_eq!(answer.expect("answered despite the slow clients").0, 200);
    // 200 slow clients at 32 per 250 ms round: about 1.6 s in the worst case.
    assert!(started.elapsed() < Duration::from_secs(10));
    for stream in &mut slow {
        assert!(closed_within(stream, Duration::from_secs(10)).await);
    }
}

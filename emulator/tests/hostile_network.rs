//! The emulator's network boundaries under attack: the strict URL policy covers every special-purpose
//! address, a name is checked at the address actually connected to (no DNS rebinding), loopback-only
//! delivery holds for names too, and slow clients cannot starve the API. Loopback only: no test
//! sends a packet to any other address; names are resolved by a resolver the test controls.

mod common;

use common::{assert_error, start_with};
use serde_json::json;

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

//! The API under hostile or careless input: authentication comes before routing, endpoint headers
//! cannot take over the framing of deliveries, catalog slugs stay addressable, and malformed or
//! oversized requests are refused without harm. Loopback only, bounded in count and time.

mod common;

use common::{KEY, Receiver, assert_error, signature_valid, start, start_with};
use serde_json::{Value, json};

/// A request with any method, path, headers and raw body; answers status and JSON (or text) body.
async fn raw(
    api: &common::Api,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, Value) {
    let mut request = api
        .http
        .request(method, format!("{}{}", api.base, path))
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn unauthorized() -> Value {
    json!({"errors": [{"message": "Unauthorized", "code": 401}]})
}

// D14: an unauthenticated caller learns nothing about which routes exist.
#[tokio::test]
async fn authentication_comes_before_routing() {
    let (_emu, api) = start().await;
    let get = reqwest::Method::GET;
    for path in [
        "/nope",
        "/webhooks/nope",
        "/webhooks/apps/x/unknown",
        "/webhooks/apps",
    ] {
        for auth in [None, Some("Bearer wrong"), Some("Basic dGVzdF9rZXk6")] {
            let headers: Vec<(&str, &str)> =
                auth.map(|a| ("authorization", a)).into_iter().collect();
            let answer = raw(&api, get.clone(), path, &headers, Vec::new()).await;
            assert_eq!(answer, (401, unauthorized()), "{path} with {auth:?}");
        }
    }
    // Wrong method on a known route, unauthenticated: still 401, not 405.
    let answer = raw(
        &api,
        reqwest::Method::DELETE,
        "/webhooks/apps",
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(answer, (401, unauthorized()));
    // Authenticated, the unknown route is a 404 and the wrong method a 405.
    assert_error(&api.get("/webhooks/nope").await, 404, None);
    assert_error(&api.delete("/webhooks/apps").await, 405, None);
}

#[tokio::test]
async fn wrong_schemes_and_keys_are_refused() {
    let (_emu, api) = start().await;
    let near_misses = [
        format!("Bearer {KEY}x"),
        format!("Bearer {}", &KEY[..KEY.len() - 1]),
        format!("Bearer {}", KEY.to_uppercase()),
        format!("Token {KEY}"),
        format!("Basic {KEY}"),
        format!("Bearer{KEY}"),
        KEY.to_string(),
        "Bearer ".to_string(),
        "Bearer".to_string(),
        String::new(),
    ];
    for header in &near_misses {
        let answer = raw(
            &api,
            reqwest::Method::GET,
            "/webhooks/apps",
            &[("authorization", header)],
            Vec::new(),
        )
        .await;
        assert_eq!(answer, (401, unauthorized()), "{header:?}");
    }
    // Two Authorization headers, the first wrong: refused.
    let response = api
        .http
        .get(format!("{}/webhooks/apps", api.base))
        .header("authorization", "Bearer wrong")
        .header("authorization", format!("Bearer {KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(api.get("/webhooks/apps").await.0, 200);
}

const FRAMING_HEADERS: [&str; 9] = [
    "Host",
    "Content-Length",
    "transfer-encoding",
    "Connection",
    "Keep-Alive",
    "Upgrade",
    "TE",
    "Trailer",
    "Proxy-Connection",
];

// D5: the framing of a delivery is the emulator's: such headers are refused when saved.
#[tokio::test]
async fn framing_headers_are_refused_on_endpoints() {
    let (_emu, api) = start().await;
    let receiver = Receiver::start().await;
    let app = api.app_with_events(&["e"]).await;
    let slug = app["app_slug"].as_str().unwrap();
    let endpoints = format!("/webhooks/apps/{slug}/endpoints");
    let existing = api
        .endpoint(&app, &receiver.url("/hook"), "e", json!({}))
        .await;
    let one = format!("{endpoints}/{}", existing["id"].as_str().unwrap());
    for name in FRAMING_HEADERS {
        let headers = json!({ name: "5", "X-Fine": "1" });
        let created = api
            .post(
                &endpoints,
                json!({
                    "app_slug": slug,
                    "url": receiver.url("/hook"),
                    "subscriptions": [{"event_name": "e"}],
                    "headers": headers,
                }),
            )
            .await;
        assert_error(&created, 400, None);
        let message = created.1["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(name), "{message}");
        let updated = api.patch(&one, json!({ "headers": headers })).await;
        assert_error(&updated, 400, None);
    }
    let listed = api.ok(&endpoints).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["data"][0]["headers"], json!({}));
}

// D5: headers the emulator sets itself are stored as production stores them, but never replace or
// duplicate the emulator's own values on the wire; other custom headers are sent as given.
#[tokio::test]
async fn custom_headers_never_replace_signature_or_content_headers() {
    let (_emu, api) = start().await;
    let receiver = Receiver::start().await;
    let app = api.app_with_events(&["e"]).await;
    let headers = json!({
        "webhook-signature": "v1,forged",
        "Webhook-Id": "msg_forged",
        "webhook-timestamp": "1",
        "Content-Type": "text/plain",
        "User-Agent": "curl/8",
        "X-Tenant": "acme",
    });
    let endpoint = api
        .endpoint(
            &app,
            &receiver.url("/hook"),
            "e",
            json!({ "headers": headers }),
        )
        .await;
    assert_eq!(endpoint["headers"], headers);
    api.trigger(&app, "e", json!({"n": 1})).await;
    let got = receiver.wait_for("/hook", 1).await.remove(0);
    let secret = app["signing_secret"].as_str().unwrap();
    assert!(signature_valid(secret, &got.headers, &got.body));
    for name in [
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "content-type",
        "user-agent",
        "x-tenant",
        "host",
        "content-length",
    ] {
        assert_eq!(got.headers.get_all(name).iter().count(), 1, "{name}");
    }
    assert_ne!(got.header("webhook-id"), "msg_forged");
    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(got.header("user-agent"), "Wacht-Webhook/1.0");
    assert_eq!(got.header("x-tenant"), "acme");
    assert_eq!(
        got.header("content-length"),
        got.body.len().to_string(),
        "the whole signed body is on the wire"
    );
}

// D13: a slug no URL path can carry is refused.
#[tokio::test]
async fn unaddressable_catalog_slugs_are_refused() {
    let (_emu, api) = start().await;
    for slug in [
        "", ".", "..", " ", " a", "a ", "a\u{0}b", "a\nb", "\t", "a\u{7f}", "a\u{85}",
    ] {
        let answer = api
            .post(
                "/webhooks/event-catalogs",
                json!({"slug": slug, "name": "C", "events": []}),
            )
            .await;
        assert_error(&answer, 400, None);
        let message = answer.1["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("slug"), "{slug:?}: {message}");
    }
    let listed = api.ok("/webhooks/event-catalogs").await;
    assert_eq!(listed["data"], json!([]));
    // Ordinary slugs, dots inside included, keep working and can be read back by their path.
    for slug in ["orders", "billing.v2", "a..b", "ünïcode"] {
        let (status, body) = api
            .post(
                "/webhooks/event-catalogs",
                json!({"slug": slug, "name": "C", "events": []}),
            )
            .await;
        assert_eq!(status, 200, "{slug}: {body}");
        let path: String = url::form_urlencoded::byte_serialize(slug.as_bytes()).collect();
        let read = api.ok(&format!("/webhooks/event-catalogs/{path}")).await;
        assert_eq!(read["slug"], slug);
    }
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let (_emu, api) = start().await;
    let big = format!(
        "{{\"name\":\"{}\",\"event_catalog_slug\":\"x\"}}",
        "a".repeat(3 * 1024 * 1024)
    );
    let answer = raw(
        &api,
        reqwest::Method::POST,
        "/webhooks/apps",
        &[
            ("authorization", &format!("Bearer {KEY}")),
            ("content-type", "application/json"),
        ],
        big.into_bytes(),
    )
    .await;
    assert_eq!(answer.0, 413, "{}", answer.1);
    assert_eq!(api.get("/webhooks/apps").await.0, 200);
}

#[tokio::test]
async fn deep_json_and_invalid_utf8_are_invalid_payloads() {
    let (_emu, api) = start().await;
    let auth = format!("Bearer {KEY}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let deep = format!(
        "{{\"name\":{}1{},\"event_catalog_slug\":\"x\"}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let mut not_utf8 = br#"{"name":"a"#.to_vec();
    not_utf8.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    not_utf8.extend_from_slice(br#"","event_catalog_slug":"x"}"#);
    for body in [deep.into_bytes(), not_utf8] {
        let answer = raw(
            &api,
            reqwest::Method::POST,
            "/webhooks/apps",
            &headers,
            body,
        )
        .await;
        assert_error(&answer, 422, Some("Invalid request payload"));
    }
    assert_eq!(api.get("/webhooks/apps").await.0, 200);
}

#[tokio::test]
async fn huge_query_strings_are_answered_without_harm() {
    let (_emu, api) = start().await;
    let app = api.app_with_events(&["e"]).await;
    let slug = app["app_slug"].as_str().unwrap();
    // Many parameters, and one enormous value: answered (the extra parameters are ignored).
    let many: Vec<String> = (0..5_000).map(|i| format!("p{i}=v")).collect();
    let path = format!("/webhooks/apps/{slug}/deliveries?{}", many.join("&"));
    assert_eq!(api.get(&path).await.0, 200);
    let path = format!(
        "/webhooks/apps/{slug}/deliveries?status={}",
        "x".repeat(60_000)
    );
    assert_eq!(api.get(&path).await.0, 200);
    // Past what a request head may hold: refused by the HTTP layer, and the server stays up.
    let path = format!("/webhooks/apps?q={}", "x".repeat(1024 * 1024));
    let status = api
        .http
        .get(format!("{}{path}", api.base))
        .bearer_auth(KEY)
        .send()
        .await
        .map(|r| r.status().as_u16());
    assert!(
        matches!(status, Ok(400..=499) | Err(_)),
        "an over-long request line is not served: {status:?}"
    );
    assert_eq!(api.get("/webhooks/apps").await.0, 200);
}

#[tokio::test]
async fn strict_mode_also_refuses_framing_headers() {
    let (_emu, api) = start_with(common::builder().allow_private_urls(false)).await;
    let app = api.app_with_events(&["e"]).await;
    let slug = app["app_slug"].as_str().unwrap();
    let created = api
        .post(
            &format!("/webhooks/apps/{slug}/endpoints"),
            json!({
                "app_slug": slug,
                "url": "https://hooks.example.com/x",
                "subscriptions": [{"event_name": "e"}],
                "headers": {"host": "internal.example"},
            }),
        )
        .await;
    assert_error(&created, 400, None);
}

//! What `ClientBuilder::retry_policy` and `ClientBuilder::http_client` change on the wire, against
//! a wiremock server on 127.0.0.1.

use std::sync::LazyLock;
use std::time::Duration;

use serde_json::{Value, json};
use wacht_webhooks::{Client, ClientBuilder, ErrorKind, RetryPolicy};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "wk_test_config_key_0123";
const USER_AGENT: &str = concat!("wacht-webhooks-rust/", env!("CARGO_PKG_VERSION"));

static APP: LazyLock<Value> = LazyLock::new(|| {
    let spec: Value = serde_json::from_str(include_str!("../spec/webhooks.json")).unwrap();
    spec["components"]["schemas"]["WebhookApp"]["example"].clone()
});

/// A policy whose waits are a millisecond or two, so that retries cost the test nothing.
fn quick() -> RetryPolicy {
    RetryPolicy::new()
        .base_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(2))
}

fn builder(server: &MockServer) -> ClientBuilder {
    Client::builder().api_key(KEY).base_url(server.uri())
}

fn unavailable() -> ResponseTemplate {
    ResponseTemplate::new(503).set_body_json(json!({"errors": [{"message": "busy", "code": 503}]}))
}

/// Mounts `failures` answers of `failure`, then the app.
async fn flaky(failure: ResponseTemplate, failures: u64) -> MockServer {
    let server = MockServer::start().await;
    if failures > 0 {
        Mock::given(method("GET"))
            .and(path("/webhooks/apps/billing"))
            .respond_with(failure)
            .up_to_n_times(failures)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/webhooks/apps/billing"))
        .respond_with(ResponseTemplate::new(200).set_body_json(APP.clone()))
        .mount(&server)
        .await;
    server
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

#[tokio::test]
async fn the_policy_sets_how_many_retries_a_call_gets() {
    let server = flaky(unavailable(), 3).await;
    let webhooks = builder(&server)
        .retry_policy(quick().max_retries(3))
        .build()
        .unwrap()
        .webhooks();
    webhooks.get_webhook_app("billing").await.unwrap();
    assert_eq!(requests(&server).await, 4);

    let server = flaky(unavailable(), 3).await;
    let webhooks = builder(&server)
        .retry_policy(quick().max_retries(2))
        .build()
        .unwrap()
        .webhooks();
    let err = webhooks.get_webhook_app("billing").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn the_policy_chooses_which_kinds_are_retried() {
    let server = flaky(unavailable(), 1).await;
    let webhooks = builder(&server)
        .retry_policy(quick().retry_on([ErrorKind::RateLimited]))
        .build()
        .unwrap()
        .webhooks();
    let err = webhooks.get_webhook_app("billing").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(requests(&server).await, 1, "503 is not in the policy");

    let limited = ResponseTemplate::new(429)
        .insert_header("retry-after", "0")
        .set_body_json(json!({"errors": [{"message": "slow down", "code": 429}]}));
    let server = flaky(limited, 1).await;
    let webhooks = builder(&server)
        .retry_policy(quick().retry_on([ErrorKind::RateLimited]))
        .build()
        .unwrap()
        .webhooks();
    webhooks.get_webhook_app("billing").await.unwrap();
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn a_retry_that_would_outlast_the_budget_is_not_made() {
    // The server asks for a one-second wait; the budget is 100 ms.
    let asks_to_wait = unavailable().insert_header("retry-after", "1");
    let server = flaky(asks_to_wait, 1).await;
    let webhooks = builder(&server)
        .retry_policy(quick().budget(Duration::from_millis(100)))
        .build()
        .unwrap()
        .webhooks();
    let started = std::time::Instant::now();
    let err = webhooks.get_webhook_app("billing").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(requests(&server).await, 1);
    assert!(started.elapsed() < Duration::from_millis(900));
}

#[tokio::test]
async fn max_retries_is_a_shortcut_on_the_policy() {
    let server = flaky(unavailable(), 5).await;
    let webhooks = builder(&server)
        .retry_policy(quick())
        .max_retries(0)
        .build()
        .unwrap()
        .webhooks();
    webhooks.get_webhook_app("billing").await.unwrap_err();
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn an_own_http_client_carries_the_key_agent_and_its_own_headers() {
    let server = flaky(unavailable(), 0).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-app", "checkout".parse().unwrap());
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    let client = builder(&server).http_client(http).build().unwrap();
    assert!(
        !format!("{client:?}").contains(KEY),
        "the key stays out of Debug"
    );
    let app = client.webhooks().get_webhook_app("billing").await.unwrap();
    assert_eq!(
        serde_json::to_value(app).unwrap()["app_slug"],
        APP["app_slug"]
    );
    let received = server.received_requests().await.unwrap();
    let header = |name: &str| received[0].headers.get(name).unwrap().to_str().unwrap();
    assert_eq!(header("authorization"), format!("Bearer {KEY}"));
    assert_eq!(header("user-agent"), USER_AGENT);
    assert_eq!(header("x-app"), "checkout");
}

#[tokio::test]
async fn the_builders_timeout_applies_to_an_own_http_client_when_set() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(APP.clone())
                .set_delay(Duration::from_millis(500)),
        )
        .mount(&server)
        .await;
    let webhooks = builder(&server)
        .http_client(reqwest::Client::new())
        .timeout(Duration::from_millis(50))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
        .webhooks();
    let err = webhooks.get_webhook_app("billing").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    // Without the builder's timeout, the HTTP client's own (none here) applies.
    let webhooks = builder(&server)
        .http_client(reqwest::Client::new())
        .build()
        .unwrap()
        .webhooks();
    webhooks.get_webhook_app("billing").await.unwrap();
}

#[tokio::test]
async fn an_own_http_client_may_serve_https_whatever_the_features() {
    let client = Client::builder()
        .api_key(KEY)
        .base_url("https://api.wacht.dev")
        .http_client(reqwest::Client::new())
        .build();
    assert!(client.is_ok());
}

//! The client against servers that misbehave on purpose: error bodies that never end, redirects
//! the API never sends, and secrets that must stay out of `Debug` output. Loopback only.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::any;
use futures_util::stream;
use serde_json::{Value, json};
use wacht_webhooks::client::DEFAULT_MAX_RESPONSE_BODY;
use wacht_webhooks::{
    Client, CreateWebhookAppRequest, CreateWebhookEndpointRequest, ErrorKind, Page,
    UpdateWebhookEndpointRequest, WebhookApp, WebhookEndpoint,
};
use wiremock::matchers::{any as any_request, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The example of every schema, from the published spec.
fn example(schema: &str) -> Value {
    let spec: Value = serde_json::from_str(include_str!("../spec/webhooks.json")).unwrap();
    spec["components"]["schemas"][schema]["example"].clone()
}

fn client(base_url: &str) -> Client {
    Client::builder()
        .api_key("hostile_client_key")
        .base_url(base_url)
        .max_retries(0)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

// ----- error bodies ---------------------------------------------------------------------------

/// What the streaming server saw of the body it was sending.
#[derive(Default)]
struct Sent {
    bytes: AtomicUsize,
    /// Set when the server stopped sending: the body ended or the client went away.
    finished: AtomicBool,
}

/// Marks the body as finished when the server drops it, whether it was sent to the end or not.
struct FinishOnDrop(Arc<Sent>);

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        self.0.finished.store(true, Ordering::SeqCst);
    }
}

/// A server on loopback whose every answer has `status` and a body of `total` bytes of `x` of
/// unknown length (chunked), sent 64 KiB at a time (the server never holds the whole body).
async fn huge_body_server(status: StatusCode, total: usize) -> (String, Arc<Sent>) {
    const CHUNK: usize = 64 * 1024;
    let sent = Arc::new(Sent::default());
    let state = sent.clone();
    let chunk = Bytes::from(vec![b'x'; CHUNK]);
    let app = Router::new().fallback(any(move || {
        let sent = state.clone();
        let chunk = chunk.clone();
        async move {
            let guard = FinishOnDrop(sent.clone());
            let chunks = stream::unfold((0usize, guard), move |(done, guard)| {
                let chunk = chunk.clone();
                async move {
                    if done >= total {
                        return None;
                    }
                    let len = CHUNK.min(total - done);
                    guard.0.bytes.fetch_add(len, Ordering::SeqCst);
                    Some((Ok::<_, Infallible>(chunk.slice(..len)), (done + len, guard)))
                }
            });
            Response::builder()
                .status(status)
                .header("content-type", "text/plain")
                .body(Body::from_stream(chunks))
                .unwrap()
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}"), sent)
}

#[tokio::test]
async fn a_huge_error_body_is_not_read_to_the_end() {
    const TOTAL: usize = 256 * 1024 * 1024;
    let (url, sent) = huge_body_server(StatusCode::INTERNAL_SERVER_ERROR, TOTAL).await;
    let err = client(&url)
        .webhooks()
        .get_webhook_app("billing")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert_eq!(err.status(), Some(500));
    let snippet = err.body_snippet().expect("a snippet of the body");
    assert!(snippet.starts_with("xxxx"), "{snippet}");
    assert!(snippet.chars().count() <= 201);
    // The client dropped the connection once it had what it keeps: the server's send failed long
    // before the end (what it got out is the client's cap plus the sockets' buffers).
    let bytes = sent_before_hang_up(&sent).await;
    assert!(bytes < TOTAL / 4, "{bytes} of {TOTAL} bytes were sent");
}

/// How much of its body the server got out before it stopped sending.
async fn sent_before_hang_up(sent: &Sent) -> usize {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !sent.finished.load(Ordering::SeqCst) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        sent.finished.load(Ordering::SeqCst),
        "the server still sends"
    );
    sent.bytes.load(Ordering::SeqCst)
}

#[tokio::test]
async fn a_success_body_past_the_default_limit_is_cut_off() {
    const TOTAL: usize = 2 * DEFAULT_MAX_RESPONSE_BODY;
    let (url, sent) = huge_body_server(StatusCode::OK, TOTAL).await;
    let err = client(&url)
        .webhooks()
        .get_webhook_app("billing")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(!err.is_retryable());
    let text = err.to_string();
    assert!(text.contains("get_webhook_app"), "{text}");
    assert!(
        text.contains(&format!("limit of {DEFAULT_MAX_RESPONSE_BODY} bytes")),
        "{text}"
    );
    let bytes = sent_before_hang_up(&sent).await;
    assert!(bytes < TOTAL * 3 / 4, "{bytes} of {TOTAL} bytes were sent");
}

#[tokio::test]
async fn the_success_body_limit_is_configurable_and_applies_to_declared_lengths() {
    let server = MockServer::start().await;
    Mock::given(any_request())
        .respond_with(ResponseTemplate::new(200).set_body_json(example("WebhookApp")))
        .mount(&server)
        .await;
    let length = serde_json::to_vec(&example("WebhookApp")).unwrap().len();
    let limited = |bytes: usize| {
        Client::builder()
            .api_key("hostile_client_key")
            .base_url(server.uri())
            .max_response_body(bytes)
            .build()
            .unwrap()
            .webhooks()
    };
    let app = limited(length).get_webhook_app("billing").await.unwrap();
    assert_eq!(app.app_slug, example("WebhookApp")["app_slug"]);
    let err = limited(length - 1)
        .get_webhook_app("billing")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(
        err.to_string()
            .contains(&format!("limit of {} bytes", length - 1)),
        "{err}"
    );
    // A Decode error is not retried: the same body would come back.
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    // A body of unknown length is cut where it passes the limit.
    let (url, _sent) = huge_body_server(StatusCode::OK, 100_000).await;
    let small = |bytes| {
        Client::builder()
            .api_key("hostile_client_key")
            .base_url(&url)
            .max_response_body(bytes)
            .build()
            .unwrap()
            .webhooks()
    };
    let err = small(99_999).get_webhook_app("billing").await.unwrap_err();
    assert!(err.to_string().contains("limit of 99999 bytes"), "{err}");
    // At the limit, the body is read (and fails to decode as an app: it is not JSON).
    let err = small(100_000).get_webhook_app("billing").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(!err.to_string().contains("limit of"), "{err}");
}

#[tokio::test]
async fn large_error_envelopes_are_still_read() {
    // An envelope of about 40 KiB (many messages) is under the cap and keeps its messages.
    let messages: Vec<String> = (0..400)
        .map(|i| format!("{i}: {}", "m".repeat(90)))
        .collect();
    let errors: Vec<Value> = messages
        .iter()
        .map(|m| json!({"message": m, "code": 400}))
        .collect();
    let server = MockServer::start().await;
    Mock::given(any_request())
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({ "errors": errors })))
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .webhooks()
        .get_webhook_app("billing")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest, "{err}");
    assert_eq!(err.messages(), messages.as_slice());
    assert_eq!(err.body_snippet(), None);
}

// ----- redirects ------------------------------------------------------------------------------

#[tokio::test]
async fn redirects_are_not_followed_and_are_errors() {
    let server = MockServer::start().await;
    let elsewhere = format!("{}/somewhere/else", server.uri());
    Mock::given(method("POST"))
        .and(path("/webhooks/apps"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", elsewhere.as_str()))
        .mount(&server)
        .await;
    // Were the redirect followed, the GET that replaces the POST would answer an app.
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(example("WebhookApp")))
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .webhooks()
        .create_webhook_app(CreateWebhookAppRequest::new("Billing").app_slug("a"))
        .await
        .expect_err("a redirect is not a created app");
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert_eq!(err.status(), Some(302));
    assert!(!err.is_retryable());
    let text = err.to_string();
    assert!(text.contains("302"), "{text}");
    assert!(text.contains(&elsewhere), "{text}");
    assert!(text.contains("create_webhook_app"), "{text}");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "only the POST was sent");

    // Every redirect status, with or without a `Location`, on reads too.
    for status in [301, 303, 307, 308] {
        server.reset().await;
        Mock::given(method("GET"))
            .and(path("/webhooks/apps/billing"))
            .respond_with(ResponseTemplate::new(status).insert_header("location", "/elsewhere"))
            .mount(&server)
            .await;
        let err = client(&server.uri())
            .webhooks()
            .get_webhook_app("billing")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
        assert_eq!(err.status(), Some(status));
        assert!(err.to_string().contains("/elsewhere"), "{err}");
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }
    server.reset().await;
    Mock::given(any_request())
        .respond_with(ResponseTemplate::new(302))
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .webhooks()
        .get_webhook_app("billing")
        .await
        .unwrap_err();
    assert_eq!((err.kind(), err.status()), (ErrorKind::Decode, Some(302)));
    assert!(err.to_string().contains("no Location"), "{err}");
}

// ----- secrets in Debug -----------------------------------------------------------------------

#[test]
fn debug_output_never_shows_the_signing_secret() {
    let secret = "whsec_c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1sZWFrLTEyMzQ1Ng==";
    let mut body = example("WebhookApp");
    body["signing_secret"] = json!(secret);
    let app: WebhookApp = serde_json::from_value(body).unwrap();
    let page = Page {
        data: vec![app.clone()],
        has_more: false,
        limit: None,
        offset: None,
    };
    for text in [
        format!("{app:?}"),
        format!("{app:#?}"),
        format!("{page:?}"),
        format!("{:?}", Some(&app)),
    ] {
        assert!(!text.contains(secret), "{text}");
        assert!(!text.contains("c2VjcmV0"), "{text}");
        assert!(text.contains("signing_secret"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
        // The rest stays visible.
        assert!(text.contains(&app.app_slug), "{text}");
    }
    // The field itself is still the secret, and the app serializes it.
    assert_eq!(app.signing_secret, secret);
    assert_eq!(
        serde_json::to_value(&app).unwrap()["signing_secret"],
        secret
    );
}

/// Endpoint headers often carry a receiver's credentials (`Authorization`): requests and
/// endpoints never print them.
#[test]
fn debug_output_never_shows_endpoint_headers() {
    let token = "Bearer receiver-token-that-must-never-leak";
    let mut body = example("WebhookEndpoint");
    body["headers"] = json!({"Authorization": token});
    let endpoint: WebhookEndpoint = serde_json::from_value(body).unwrap();
    let create = CreateWebhookEndpointRequest::new("https://example.com/hooks")
        .subscribe("order.paid")
        .header("Authorization", token);
    let update = UpdateWebhookEndpointRequest::new().header("Authorization", token);
    for text in [
        format!("{endpoint:?}"),
        format!("{create:?}"),
        format!("{update:?}"),
    ] {
        assert!(!text.contains("receiver-token"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }
    assert_eq!(endpoint.header("Authorization"), Some(token));
}

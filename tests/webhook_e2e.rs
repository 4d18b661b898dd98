//! End to end: a delivery made by the emulator, over real HTTP, verifies with the app's `signing_secret`.
//!
//! The emulator is driven through its HTTP API with plain JSON, so that this test depends on nothing but the
//! wire format and the `webhook` module.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use wacht_webhooks::{VerifyError, Webhook};
use wacht_webhooks_emulator::Emulator;

const API_KEY: &str = "k";

/// What the receiver got: the headers and the raw body, untouched.
type Received = (HeaderMap, Bytes);

/// A receiver on 127.0.0.1 that answers 200 and hands every request to the test; returns its URL.
async fn start_receiver() -> (String, mpsc::UnboundedReceiver<Received>) {
    let (sender, received) = mpsc::unbounded_channel::<Received>();
    let app = Router::new()
        .route(
            "/hook",
            post(
                |State(sender): State<mpsc::UnboundedSender<Received>>,
                 headers: HeaderMap,
                 body: Bytes| async move {
                    let _ = sender.send((headers, body));
                    "ok"
                },
            ),
        )
        .with_state(sender);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

/// POSTs JSON to the emulator's API and returns the JSON answer, failing the test on a non-200.
async fn api_post(base_url: &str, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{base_url}{path}"))
        .bearer_auth(API_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "POST {path}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// Creates a catalog with `order.paid` and an app using it; returns the app.
async fn create_app(base_url: &str) -> Value {
    let catalog = json!({
        "slug": "shop",
        "name": "Shop",
        "events": [{"name": "order.paid", "description": "An order was paid"}],
    });
    api_post(base_url, "/webhooks/event-catalogs", catalog).await;
    let app = json!({"name": "Shop", "app_slug": "shop_app", "event_catalog_slug": "shop"});
    api_post(base_url, "/webhooks/apps", app).await
}

/// Subscribes `hook_url` to `order.paid` and triggers it once; returns the delivery's id.
async fn trigger_one_delivery(base_url: &str, hook_url: &str) -> String {
    let endpoint = json!({
        "app_slug": "shop_app",
        "url": hook_url,
        "subscriptions": [{"event_name": "order.paid"}],
    });
    api_post(base_url, "/webhooks/apps/shop_app/endpoints", endpoint).await;
    let trigger = json!({
        "app_slug": "shop_app",
        "event_name": "order.paid",
        "payload": {"order_id": "ord_1", "amount": 4200},
    });
    let triggered = api_post(base_url, "/webhooks/apps/shop_app/trigger", trigger).await;
    triggered["delivery_ids"][0].as_str().unwrap().to_owned()
}

async fn start_emulator() -> Emulator {
    Emulator::builder()
        .api_key(API_KEY)
        .retry_schedule(vec![Duration::from_millis(20)])
        .start()
        .await
        .unwrap()
}

async fn next<T>(received: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("the emulator delivers within 10 s")
        .unwrap()
}

#[tokio::test]
async fn an_emulator_delivery_verifies_with_the_apps_signing_secret() {
    let (hook_url, mut received) = start_receiver().await;
    let emu = start_emulator().await;
    let app = create_app(&emu.base_url()).await;
    let delivery_id = trigger_one_delivery(&emu.base_url(), &hook_url).await;
    let (headers, body) = next(&mut received).await;

    let webhook = Webhook::new(app["signing_secret"].as_str().unwrap()).unwrap();
    let event = webhook.verify(&headers, &body).unwrap();
    assert_eq!(event.id, format!("msg_{delivery_id}"));
    assert_eq!(event.event_type, "order.paid");
    assert_eq!(event.data, json!({"order_id": "ord_1", "amount": 4200}));
    let signed_at: i64 = headers["webhook-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((event.timestamp.timestamp() - signed_at).abs() <= 1);

    // The same delivery must fail with any other key or any change to the body.
    let other = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    assert_eq!(
        other.verify(&headers, &body).unwrap_err(),
        VerifyError::NoMatchingSignature
    );
    let altered = String::from_utf8(body.to_vec())
        .unwrap()
        .replace("4200", "4201");
    assert_eq!(
        webhook.verify(&headers, altered.as_bytes()).unwrap_err(),
        VerifyError::NoMatchingSignature
    );
    emu.shutdown().await;
}

/// The same through the extractor: the receiver only sees verified events.
#[cfg(feature = "axum")]
#[tokio::test]
async fn the_axum_extractor_accepts_emulator_deliveries() {
    use wacht_webhooks::VerifiedWebhook;

    let emu = start_emulator().await;
    let app = create_app(&emu.base_url()).await;
    let webhook = Webhook::new(app["signing_secret"].as_str().unwrap()).unwrap();
    let (sender, mut received) = mpsc::unbounded_channel();
    let receiver = Router::new()
        .route(
            "/hook",
            post(move |VerifiedWebhook(event): VerifiedWebhook| async move {
                let _ = sender.send(event);
                "ok"
            }),
        )
        .with_state(webhook);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let delivery_id = trigger_one_delivery(&emu.base_url(), &hook_url).await;
    let event = next(&mut received).await;
    assert_eq!(event.id, format!("msg_{delivery_id}"));
    assert_eq!(event.data["amount"], 4200);
    emu.shutdown().await;
}

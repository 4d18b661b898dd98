//! End to end: a delivery made by the emulator, over real HTTP, verifies with the app's `signing_secret`.
//!
//! The emulator is driven through its HTTP API with plain JSON, so that this test depends on nothing but the
//! wire format and the `webhook` module.

use std::time::Duration;

#[cfg(feature = "axum")]
use axum::{Router, body::Bytes, http::HeaderMap, routing::post};
use serde_json::{Value, json};
#[cfg(feature = "axum")]
use tokio::{net::TcpListener, sync::mpsc};
use wacht_webhooks::{VerifyError, Webhook};
use wacht_webhooks_emulator::Emulator;

const API_KEY: &str = "k";

/// What the receiver got: the headers and the raw body, untouched.
#[cfg(feature = "axum")]
type Received = (HeaderMap, Bytes);

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

#[cfg(feature = "axum")]
async fn next<T>(received: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("the emulator delivers within 10 s")
        .unwrap()
}

#[tokio::test]
async fn an_emulator_delivery_verifies_with_the_apps_signing_secret() {
    let emu = start_emulator().await;
    let app = create_app(&emu.base_url()).await;
    let inbox = emu.inbox("hook");
    let delivery_id = trigger_one_delivery(&emu.base_url(), &inbox.url()).await;
    let received = inbox.wait_for(1).await.unwrap();
    let (headers, body) = (&received[0].headers, &received[0].body);

    let webhook = Webhook::new(app["signing_secret"].as_str().unwrap()).unwrap();
    let event = webhook.verify(headers, body).unwrap();
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
        other.verify(headers, body).unwrap_err(),
        VerifyError::NoMatchingSignature
    );
    let altered = String::from_utf8(body.to_vec())
        .unwrap()
        .replace("4200", "4201");
    assert_eq!(
        webhook.verify(headers, altered.as_bytes()).unwrap_err(),
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

#[cfg(feature = "axum")]
/// The `data` of the deliveries these tests trigger.
#[derive(Debug, serde::Deserialize, PartialEq)]
struct OrderPaid {
    order_id: String,
    amount: u64,
}

#[cfg(feature = "axum")]
/// Seconds from the trigger to attempt `n` (1-based) in production, when every earlier attempt failed at
/// once: the sum of Wacht's waits (the emulator's default schedule; its last wait repeats).
fn production_send_offset(n: usize) -> i64 {
    let schedule = wacht_webhooks_emulator::default_retry_schedule();
    (1..n)
        .map(|after| schedule[(after - 1).min(schedule.len() - 1)].as_secs() as i64)
        .sum()
}

#[cfg(feature = "axum")]
fn unix(seconds: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(seconds, 0).unwrap()
}

/// A receiver behind `VerifiedWebhook<OrderPaid>` that answers 503 to its first `failures` verified
/// requests and 200 afterwards; a middleware records every request's headers and raw body first.
#[cfg(feature = "axum")]
async fn start_flaky_receiver(
    webhook: Webhook,
    failures: usize,
) -> (
    String,
    mpsc::UnboundedReceiver<Received>,
    mpsc::UnboundedReceiver<wacht_webhooks::WebhookEvent<OrderPaid>>,
) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::body::Body;
    use axum::extract::{Extension, Request};
    use axum::http::StatusCode;
    use axum::middleware::{self, Next};
    use wacht_webhooks::VerifiedWebhook;

    let (raw_sender, raw) = mpsc::unbounded_channel::<Received>();
    let (event_sender, events) = mpsc::unbounded_channel();
    let answered = Arc::new(AtomicUsize::new(0));
    let record = move |request: Request, next: Next| {
        let raw_sender = raw_sender.clone();
        async move {
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            let _ = raw_sender.send((parts.headers.clone(), body.clone()));
            next.run(Request::from_parts(parts, Body::from(body))).await
        }
    };
    let receive = move |Extension(answered): Extension<Arc<AtomicUsize>>,
                        VerifiedWebhook(event): VerifiedWebhook<OrderPaid>| async move {
        let _ = event_sender.send(event);
        if answered.fetch_add(1, Ordering::SeqCst) < failures {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::OK
        }
    };
    let app = Router::new()
        .route("/hook", post(receive))
        .layer(Extension(answered))
        .layer(middleware::from_fn(record))
        .with_state(webhook);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, raw, events)
}

/// Every attempt of a delivery that fails 31 times is signed with the trigger's time; checked at the instant
/// production would send it (up to 6.8 days later), each verifies with the default window, while the
/// Standard Webhooks ±5 minutes would refuse all from the fourth on.
#[cfg(feature = "axum")]
#[tokio::test]
async fn every_retry_of_a_delivery_verifies_at_its_production_send_time() {
    const ATTEMPTS: usize = 32;
    let emu = Emulator::builder()
        .api_key(API_KEY)
        .retry_schedule(vec![Duration::from_millis(2)])
        .start()
        .await
        .unwrap();
    let base_url = emu.base_url();
    let app = create_app(&base_url).await;
    let webhook = Webhook::new(app["signing_secret"].as_str().unwrap()).unwrap();
    let (hook_url, mut raw, mut events) = start_flaky_receiver(webhook.clone(), ATTEMPTS - 1).await;
    let endpoint = json!({
        "app_slug": "shop_app",
        "url": hook_url,
        "subscriptions": [{"event_name": "order.paid"}],
        "max_retries": ATTEMPTS,
    });
    api_post(&base_url, "/webhooks/apps/shop_app/endpoints", endpoint).await;
    let trigger = json!({
        "app_slug": "shop_app",
        "event_name": "order.paid",
        "payload": {"order_id": "ord_1", "amount": 4200},
    });
    api_post(&base_url, "/webhooks/apps/shop_app/trigger", trigger).await;

    let mut attempts = Vec::new();
    for _ in 0..ATTEMPTS {
        attempts.push(next(&mut raw).await);
        // The receiver's own check, at the real (emulated) send time, let every attempt through.
        assert_eq!(next(&mut events).await.data.amount, 4200);
    }
    let triggered: i64 = attempts[0].0["webhook-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(production_send_offset(ATTEMPTS) > 6 * 86_400 + 18 * 3_600);

    let standard = webhook.clone().with_tolerance(Duration::from_secs(5 * 60));
    for (n, (headers, body)) in attempts.iter().enumerate().map(|(i, a)| (i + 1, a)) {
        assert_eq!(
            headers["webhook-timestamp"],
            attempts[0].0["webhook-timestamp"]
        );
        assert_eq!(headers["webhook-id"], attempts[0].0["webhook-id"]);
        let sent = unix(triggered + production_send_offset(n));
        let event = webhook
            .verify_at::<OrderPaid>(headers, body, sent)
            .unwrap_or_else(|e| panic!("attempt {n}: {e}"));
        assert_eq!(
            event.data,
            OrderPaid {
                order_id: "ord_1".into(),
                amount: 4200
            }
        );
        let symmetric = standard.verify_at::<OrderPaid>(headers, body, sent);
        assert_eq!(symmetric.is_ok(), n < 4, "attempt {n}: {symmetric:?}");
    }

    // The future side stays tight.
    let (headers, body) = &attempts[0];
    let skew = wacht_webhooks::webhook::DEFAULT_MAX_FUTURE_SKEW.as_secs() as i64;
    assert!(
        webhook
            .verify_at::<OrderPaid>(headers, body, unix(triggered - skew))
            .is_ok()
    );
    assert_eq!(
        webhook
            .verify_at::<OrderPaid>(headers, body, unix(triggered - skew - 1))
            .unwrap_err(),
        VerifyError::TimestampTooNew
    );
    emu.shutdown().await;
}

/// GETs JSON from the emulator's API, failing the test on a non-200.
#[cfg(feature = "axum")]
async fn api_get(base_url: &str, path: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!("{base_url}{path}"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

/// Replays one delivery once it has succeeded (a delivery still in flight is not replayed).
#[cfg(feature = "axum")]
async fn replay_when_settled(base_url: &str, delivery_id: &str) {
    let path = format!("/webhooks/apps/shop_app/deliveries/{delivery_id}");
    for _ in 0..500 {
        if api_get(base_url, &path).await["status"] == "success" {
            let ids = json!({"delivery_ids": [delivery_id]});
            api_post(base_url, "/webhooks/apps/shop_app/deliveries/replay", ids).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("delivery {delivery_id} did not succeed");
}

/// A replay as production sends it (the emulator's default behaviour): the stored envelope of the
/// original delivery becomes the `data` of a new envelope, with a new id and time, and a replay of
/// that replay wraps it once more. The typed receiver gets the original payload and time every time;
/// against the documented behaviour the same receiver gets the same payload, not marked a replay.
#[cfg(feature = "axum")]
#[tokio::test]
async fn a_typed_receiver_gets_the_original_payload_of_a_replay() {
    use wacht_webhooks_emulator::Behaviour;

    let paid = OrderPaid {
        order_id: "ord_1".into(),
        amount: 4200,
    };
    for behaviour in [Behaviour::Production, Behaviour::Documented] {
        let emu = Emulator::builder()
            .api_key(API_KEY)
            .behaviour(behaviour)
            .start()
            .await
            .unwrap();
        let base_url = emu.base_url();
        let app = create_app(&base_url).await;
        let webhook = Webhook::new(app["signing_secret"].as_str().unwrap()).unwrap();
        let (hook_url, mut raw, mut events) = start_flaky_receiver(webhook, 0).await;
        let delivery_id = trigger_one_delivery(&base_url, &hook_url).await;
        let original = next(&mut events).await;
        let (_, original_body) = next(&mut raw).await;
        assert!(!original.is_replay());
        assert_eq!(original.data, paid);

        replay_when_settled(&base_url, &delivery_id).await;
        let replay = next(&mut events).await;
        let (_, replay_body) = next(&mut raw).await;
        let replay_body: Value = serde_json::from_slice(&replay_body).unwrap();
        assert_ne!(replay.id, original.id, "a replay is a new delivery");
        assert_eq!(replay.data, paid, "{behaviour:?}");
        let replay_id = replay.id.strip_prefix("msg_").unwrap().to_owned();
        if behaviour == Behaviour::Production {
            let stored: Value = serde_json::from_slice(&original_body).unwrap();
            assert_eq!(
                replay_body["data"], stored,
                "the stored envelope is re-sent"
            );
            assert!(replay.is_replay());
            assert_eq!(replay.timestamp, original.timestamp);
            let sent_at = replay_body["timestamp"].as_str().unwrap().parse().unwrap();
            assert_eq!(replay.replayed_at, Some(sent_at));
        } else {
            assert!(!replay.is_replay());
            assert_eq!(
                replay_body["data"],
                json!({"order_id": "ord_1", "amount": 4200})
            );
        }

        replay_when_settled(&base_url, &replay_id).await;
        let again = next(&mut events).await;
        assert_eq!(again.data, paid, "{behaviour:?}");
        assert_eq!(again.is_replay(), behaviour == Behaviour::Production);
        if behaviour == Behaviour::Production {
            assert_eq!(again.timestamp, original.timestamp);
            assert!(again.replayed_at >= replay.replayed_at);
        }
        emu.shutdown().await;
    }
}

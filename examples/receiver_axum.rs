//! A webhook receiver written with axum that only ever sees verified deliveries.
//!
//! ```sh
//! # Receive for real: your app's signing secret, then point an endpoint at
//! # http://127.0.0.1:3000/webhooks/wacht (through a tunnel for the hosted service). Ctrl-C stops it.
//! WACHT_WEBHOOK_SECRET=whsec_... cargo run --example receiver_axum --features axum
//!
//! # Prove it works, with nothing else running: an emulator in this process sends it one event.
//! cargo run --example receiver_axum --features axum -- --self-test
//! ```

use std::error::Error;
use std::time::Duration;

use axum::Router;
use axum::extract::Extension;
use axum::http::StatusCode;
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use wacht_webhooks::{
    Client, CreateWebhookAppRequest, CreateWebhookEndpointRequest,
    CreateWebhookEventCatalogRequest, TriggerWebhookEventRequest, VerifiedWebhook, Webhook,
    WebhookEvent, WebhookEventDefinition,
};
use wacht_webhooks_emulator::{DEFAULT_API_KEY, Emulator};

type Result<T = (), E = Box<dyn Error + Send + Sync>> = std::result::Result<T, E>;

/// The payload of the `order.paid` events this receiver handles.
#[derive(Debug, Deserialize)]
struct OrderPaid {
    order_id: String,
    amount: u64,
}

type Seen = mpsc::UnboundedSender<WebhookEvent<OrderPaid>>;

/// The receiver: `VerifiedWebhook` checks the signature and the timestamp on the raw body, and
/// answers 400/401 itself when they are wrong, so this handler runs for genuine deliveries only.
/// Use `event.id` to drop duplicates: it is the same for every retry of a delivery.
async fn receive(
    Extension(seen): Extension<Seen>,
    VerifiedWebhook(event): VerifiedWebhook<OrderPaid>,
) -> StatusCode {
    println!(
        "verified {} {}: order {} paid {}",
        event.id, event.event_type, event.data.order_id, event.data.amount
    );
    let _ = seen.send(event);
    StatusCode::NO_CONTENT
}

fn router(webhook: Webhook, seen: Seen) -> Router {
    Router::new()
        .route("/webhooks/wacht", post(receive))
        .layer(Extension(seen))
        .with_state(webhook)
}

#[tokio::main]
async fn main() -> Result {
    if std::env::args().any(|arg| arg == "--self-test") {
        return self_test().await;
    }
    let secret = std::env::var("WACHT_WEBHOOK_SECRET")
        .map_err(|_| "set WACHT_WEBHOOK_SECRET to your app's signing_secret (whsec_...)")?;
    let webhook = Webhook::new(&secret)?;
    let (seen, _) = mpsc::unbounded_channel();
    let listener = TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://127.0.0.1:3000/webhooks/wacht (Ctrl-C to stop)");
    axum::serve(listener, router(webhook, seen))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    println!("stopped");
    Ok(())
}

/// Starts an emulator, points an endpoint at this receiver, triggers one event, and checks that it
/// arrived verified; also checks that an unsigned request is turned away.
async fn self_test() -> Result {
    let emulator = Emulator::builder()
        .deliver_to_loopback_only(true)
        .start()
        .await?;
    let webhooks = Client::builder()
        .api_key(DEFAULT_API_KEY)
        .base_url(emulator.base_url())
        .build()?
        .webhooks();
    webhooks
        .create_webhook_event_catalog(
            CreateWebhookEventCatalogRequest::new("shop-events", "Shop").event(
                WebhookEventDefinition::new("order.paid", "An order was paid"),
            ),
        )
        .await?;
    let app = webhooks
        .create_webhook_app(
            CreateWebhookAppRequest::new("Shop")
                .app_slug("shop")
                .event_catalog_slug("shop-events"),
        )
        .await?;

    // The receiver, on a free port, with the app's secret.
    let (seen, mut received) = mpsc::unbounded_channel();
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/webhooks/wacht", listener.local_addr()?);
    let (stop, stopped) = oneshot::channel::<()>();
    let server = axum::serve(listener, router(Webhook::new(&app.signing_secret)?, seen))
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        });
    let server = tokio::spawn(async move { server.await });
    println!("receiver on {url}");

    let unsigned = reqwest::Client::new()
        .post(&url)
        .json(&json!({"type": "order.paid", "data": {}}))
        .send()
        .await?;
    println!("an unsigned request gets {}", unsigned.status());
    if !unsigned.status().is_client_error() {
        return Err("an unsigned request was accepted".into());
    }

    webhooks
        .create_webhook_endpoint(
            &app.app_slug,
            CreateWebhookEndpointRequest::new(&url).subscribe("order.paid"),
        )
        .await?;
    let sent = webhooks
        .trigger_webhook_event(
            &app.app_slug,
            TriggerWebhookEventRequest::new(
                "order.paid",
                json!({"order_id": "ord_42", "amount": 4200}),
            ),
        )
        .await?;
    let event = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .map_err(|_| "no delivery within 10 s")?
        .ok_or("the receiver stopped")?;
    if event.id != format!("msg_{}", sent.delivery_ids[0]) || event.data.amount != 4200 {
        return Err(format!("unexpected event {event:?}").into());
    }

    let _ = stop.send(());
    server.await??;
    emulator.shutdown().await;
    println!("self-test passed");
    Ok(())
}

//! Replaying every delivery that failed in the last 3 days, after an outage of a receiver.
//!
//! ```sh
//! cargo run --example replay_failed                  # a self-contained demo on an in-process emulator
//! WACHT_API_KEY=... WACHT_APP_SLUG=billing cargo run --example replay_failed   # for real
//! ```
//!
//! `replay(..).failed_since(..)` covers any span: the client splits it into the windows of 48 hours
//! the server accepts, asks for `failed` and `permanently_failed` deliveries in each, and keeps to
//! the server's limit of three running replay tasks per app. Its idempotency key makes running the
//! same job again (after a crash, within 30 minutes) replay nothing twice.

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::Utc;
use futures_util::TryStreamExt;
use serde_json::json;
use wacht_webhooks::{
    Client, CreateWebhookAppRequest, CreateWebhookEndpointRequest,
    CreateWebhookEventCatalogRequest, DeliveryStatus, ListWebhookDeliveriesOptions,
    TriggerWebhookEventRequest, WaitOptions, WebhookEventDefinition, Webhooks,
};
use wacht_webhooks_emulator::{DEFAULT_API_KEY, Emulator};

type Result<T = (), E = Box<dyn Error + Send + Sync>> = std::result::Result<T, E>;

#[tokio::main]
async fn main() -> Result {
    match (
        std::env::var("WACHT_API_KEY"),
        std::env::var("WACHT_APP_SLUG"),
    ) {
        (Ok(_), Ok(app_slug)) => {
            let webhooks = Client::from_env()?.webhooks();
            replay_failed(&webhooks, &app_slug).await?;
            Ok(())
        }
        _ => demo().await,
    }
}

/// The job itself.
async fn replay_failed(webhooks: &Webhooks, app_slug: &str) -> Result<i64> {
    let since = Utc::now() - chrono::Duration::days(3);

    // What failed: the stream pages through any number of deliveries.
    let failed: Vec<_> = webhooks
        .list_webhook_deliveries_stream(
            app_slug,
            ListWebhookDeliveriesOptions::new().since(since).limit(100),
        )
        .try_filter(|d| {
            let failed = matches!(
                d.status,
                DeliveryStatus::Failed | DeliveryStatus::PermanentlyFailed
            );
            async move { failed }
        })
        .try_collect()
        .await?;
    println!(
        "{} deliveries failed since {}",
        failed.len(),
        since.format("%Y-%m-%d %H:%M UTC")
    );

    let job = webhooks
        .replay(app_slug)
        .failed_since(since)
        .idempotency_key(format!(
            "replay-failed-{app_slug}-{}",
            since.format("%Y%m%d%H")
        ))
        .send()
        .await?;
    println!("{} replay tasks started", job.task_ids().len());
    let summary = job
        .wait(
            WaitOptions::new()
                .poll_interval(Duration::from_millis(200))
                .timeout(Duration::from_secs(600)),
        )
        .await?;
    println!(
        "replayed {} of {} ({} skipped: endpoint gone, inactive or unsubscribed, or still in flight)",
        summary.replayed_count, summary.total_count, summary.failed_count
    );
    Ok(summary.replayed_count)
}

/// An app whose endpoint was down for a while, then the job, then a check that the receiver got
/// every replayed delivery.
async fn demo() -> Result {
    let emulator = Emulator::builder()
        .deliver_to_loopback_only(true)
        .start()
        .await?;
    let webhooks = Client::builder()
        .api_key(DEFAULT_API_KEY)
        .base_url(emulator.base_url())
        .build()?
        .webhooks();
    let receiver = Receiver::start().await?;

    webhooks
        .create_webhook_event_catalog(
            CreateWebhookEventCatalogRequest::new("billing-events", "Billing").event(
                WebhookEventDefinition::new("invoice.paid", "An invoice was paid"),
            ),
        )
        .await?;
    let app = webhooks
        .create_webhook_app(
            CreateWebhookAppRequest::new("Billing")
                .app_slug("billing")
                .event_catalog_slug("billing-events"),
        )
        .await?;
    webhooks
        .create_webhook_endpoint(
            &app.app_slug,
            CreateWebhookEndpointRequest::new(&receiver.url)
                .subscribe("invoice.paid")
                .max_retries(1),
        )
        .await?;

    // The outage: five invoices are paid while the receiver answers 500.
    receiver.down.store(true, Ordering::SeqCst);
    let mut ids = Vec::new();
    for n in 1..=5 {
        let request = TriggerWebhookEventRequest::new("invoice.paid", json!({"invoice": n}));
        ids.extend(
            webhooks
                .trigger_webhook_event(&app.app_slug, request)
                .await?
                .delivery_ids,
        );
    }
    for id in &ids {
        wait_until_failed(&webhooks, &app.app_slug, id).await?;
    }
    receiver.down.store(false, Ordering::SeqCst);
    println!(
        "the receiver was down for {} deliveries; it is back",
        ids.len()
    );

    let replayed = replay_failed(&webhooks, &app.app_slug).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while receiver.received.load(Ordering::SeqCst) < ids.len() {
        if tokio::time::Instant::now() > deadline {
            return Err("the replayed deliveries did not all arrive".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if replayed != ids.len() as i64 {
        return Err(format!("replayed {replayed} of {}", ids.len()).into());
    }
    println!("the receiver got all {} again", ids.len());
    emulator.shutdown().await;
    Ok(())
}

async fn wait_until_failed(webhooks: &Webhooks, app_slug: &str, id: &str) -> Result {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while webhooks.get_webhook_delivery(app_slug, id).await?.status
        != DeliveryStatus::PermanentlyFailed
    {
        if tokio::time::Instant::now() > deadline {
            return Err(format!("delivery {id} did not fail").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// A receiver on 127.0.0.1 that answers 500 while `down`, and counts what it accepts.
#[derive(Clone)]
struct Receiver {
    url: String,
    down: Arc<AtomicBool>,
    received: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start() -> Result<Receiver> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let receiver = Receiver {
            url: format!("http://{}/hooks", listener.local_addr()?),
            down: Arc::default(),
            received: Arc::default(),
        };
        let router = Router::new()
            .route("/hooks", post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(receiver)
    }
}

async fn receive(State(receiver): State<Receiver>) -> StatusCode {
    if receiver.down.load(Ordering::SeqCst) {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    receiver.received.fetch_add(1, Ordering::SeqCst);
    StatusCode::OK
}

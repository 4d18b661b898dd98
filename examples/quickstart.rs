//! A tour of the webhooks module in a few seconds, with nothing to install and no account:
//! an emulator of the Wacht API and a small receiver both run in this process, on 127.0.0.1.
//!
//! ```sh
//! cargo run --example quickstart
//! ```

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::Utc;
use futures_util::TryStreamExt;
use serde_json::json;
use tokio::sync::{Mutex, mpsc};
use wacht_webhooks::{
    Client, CreateWebhookAppRequest, CreateWebhookEndpointRequest,
    CreateWebhookEventCatalogRequest, DeliveryStatus, ListWebhookDeliveriesOptions,
    TimeseriesInterval, TriggerWebhookEventRequest, VerifyError, WaitOptions, Webhook,
    WebhookAnalyticsOptions, WebhookEventDefinition, WebhookTimeseriesOptions, Webhooks,
};
use wacht_webhooks_emulator::Emulator;

type Result<T = (), E = Box<dyn Error + Send + Sync>> = std::result::Result<T, E>;

/// How long any wait of this tour may take.
const PATIENCE: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> Result {
    let started = Instant::now();

    // An emulator of the API (retrying failed deliveries after 50 ms instead of 30 s), and a
    // receiver for the deliveries.
    let emulator = Emulator::builder()
        .api_key("quickstart_key")
        .retry_schedule(vec![Duration::from_millis(50)])
        .deliver_to_loopback_only(true)
        .start()
        .await?;
    let receiver = Receiver::start().await?;
    println!(
        "emulator on {}, receiver on {}",
        emulator.base_url(),
        receiver.base_url
    );

    // The client: the same code talks to https://api.wacht.dev with your key.
    let client = Client::builder()
        .api_key("quickstart_key")
        .base_url(emulator.base_url())
        .build()?;
    let webhooks = client.webhooks();

    // 1. A catalog of events, and an app that uses it. The app's secret signs every delivery.
    webhooks
        .create_webhook_event_catalog(
            CreateWebhookEventCatalogRequest::new("billing-events", "Billing events")
                .event(WebhookEventDefinition::new(
                    "invoice.paid",
                    "An invoice was paid",
                ))
                .event(WebhookEventDefinition::new(
                    "invoice.refunded",
                    "An invoice was refunded",
                )),
        )
        .await?;
    let app = webhooks
        .create_webhook_app(
            CreateWebhookAppRequest::new("Billing")
                .app_slug("billing")
                .event_catalog_slug("billing-events"),
        )
        .await?;
    let slug = app.app_slug.as_str();
    println!("1. created the app `{slug}` on the catalog `billing-events`");
    let trigger = |event: &str, payload| {
        webhooks.trigger_webhook_event(slug, TriggerWebhookEventRequest::new(event, payload))
    };

    // 2. An endpoint for both events; refunds only from 100 up.
    let endpoint = webhooks
        .create_webhook_endpoint(
            slug,
            CreateWebhookEndpointRequest::new(receiver.url("/hooks"))
                .subscribe("invoice.paid")
                .subscribe_filtered("invoice.refunded", json!({"amount": {"$gte": 100}})),
        )
        .await?;
    println!(
        "2. endpoint {} takes invoice.paid, and invoice.refunded when amount >= 100",
        endpoint.id
    );

    // 3. Three events; the small refund is filtered out.
    let paid = trigger("invoice.paid", json!({"invoice": "in_1", "amount": 4200})).await?;
    let small = trigger("invoice.refunded", json!({"invoice": "in_1", "amount": 20})).await?;
    let large = trigger(
        "invoice.refunded",
        json!({"invoice": "in_2", "amount": 250}),
    )
    .await?;
    ensure(
        small.delivery_ids.is_empty() && small.filtered_count == 1,
        "the small refund is filtered out",
    )?;
    println!(
        "3. triggered 3 events: {} deliveries queued, {} filtered out",
        paid.delivered_count + small.delivered_count + large.delivered_count,
        small.filtered_count
    );

    // 4. The receiver verifies each delivery with the app's secret before trusting it.
    let verifier = Webhook::new(&app.signing_secret)?;
    println!("4. received, each verified with the app's signing secret:");
    for _ in 0..2 {
        let (headers, body) = receiver.next().await?;
        let event = verifier.verify(&headers, &body)?;
        println!("   {} {} {}", event.id, event.event_type, event.data);
    }

    // 5. The delivery log, as a stream that pages through any number of deliveries.
    wait_until_settled(&webhooks, slug).await?;
    let deliveries: Vec<_> = webhooks
        .list_webhook_deliveries_stream(slug, ListWebhookDeliveriesOptions::new().limit(50))
        .try_collect()
        .await?;
    println!("5. the delivery log, newest first:");
    for delivery in &deliveries {
        println!(
            "   {} {} {} (HTTP {})",
            delivery.delivery_id,
            delivery.event_name,
            delivery.status,
            delivery.http_status_code.unwrap_or_default()
        );
    }

    // 6. A second endpoint that is down: its delivery fails (one attempt only). Once it is back,
    //    replaying sends the same payload again, as a new delivery.
    receiver.set_broken(true);
    let flaky = webhooks
        .create_webhook_endpoint(
            slug,
            CreateWebhookEndpointRequest::new(receiver.url("/flaky"))
                .subscribe("invoice.paid")
                .max_retries(1),
        )
        .await?;
    trigger("invoice.paid", json!({"invoice": "in_3", "amount": 990})).await?;
    receiver.next().await?; // the first endpoint's copy
    // The stream applies the endpoint filter itself: the production service ignores it.
    let to_flaky = ListWebhookDeliveriesOptions::new().endpoint_id(&flaky.id);
    let mut to_flaky = std::pin::pin!(webhooks.list_webhook_deliveries_stream(slug, to_flaky));
    let failed = to_flaky
        .try_next()
        .await?
        .ok_or("no delivery to the broken endpoint")?;
    let failed = wait_for_status(
        &webhooks,
        slug,
        &failed.delivery_id,
        DeliveryStatus::PermanentlyFailed,
    )
    .await?;
    println!(
        "6. delivery {} to the broken endpoint: {} (HTTP {})",
        failed.delivery_id,
        failed.status,
        failed.http_status_code.unwrap_or_default()
    );
    receiver.set_broken(false);
    let queued = webhooks
        .replay_webhook_delivery(slug, &failed.delivery_id)
        .await?;
    let task_id = queued.task_id.ok_or("the replay started no task")?;
    let task = webhooks
        .wait_for_replay_task(
            slug,
            &task_id,
            WaitOptions::new()
                .poll_interval(Duration::from_millis(20))
                .timeout(PATIENCE),
        )
        .await?;
    let (headers, body) = receiver.next().await?;
    let event = verifier.verify(&headers, &body)?;
    println!(
        "   fixed it and replayed it: task {task_id} {} ({} replayed); received {} again as {}",
        task.status, task.replayed_count, event.data["invoice"], event.id
    );

    // 7. A new secret: the next deliveries verify with it, and no longer with the old one.
    let rotated = webhooks.rotate_webhook_secret(slug).await?;
    let new_verifier = Webhook::new(&rotated.signing_secret)?;
    let sent = trigger("invoice.paid", json!({"invoice": "in_4", "amount": 10})).await?;
    for _ in &sent.delivery_ids {
        let (headers, body) = receiver.next().await?;
        new_verifier.verify(&headers, &body)?;
        ensure(
            verifier.verify(&headers, &body) == Err(VerifyError::NoMatchingSignature),
            "the old secret no longer verifies",
        )?;
    }
    println!(
        "7. rotated the secret: the next {} deliveries verify with the new one only",
        sent.delivery_ids.len()
    );

    // 8. What happened, in numbers.
    wait_until_settled(&webhooks, slug).await?;
    let stats = webhooks.get_webhook_stats(slug).await?;
    println!(
        "8. stats: {} deliveries, {:.0}% successful, {} failed in 24 h, {} active endpoints",
        stats.total_deliveries,
        stats.success_rate,
        stats.failed_deliveries_24h,
        stats.active_endpoints
    );
    let analytics = webhooks
        .get_webhook_analytics(slug, WebhookAnalyticsOptions::new())
        .await?;
    let top: Vec<String> = analytics
        .top_events
        .iter()
        .map(|e| format!("{} x{}", e.event_name, e.count))
        .collect();
    println!(
        "   analytics: {} ok, {} failed, p50 {:.1} ms, top events: {}",
        analytics.successful_deliveries,
        analytics.failed_deliveries,
        analytics.p50_response_time_ms.unwrap_or_default(),
        top.join(", ")
    );
    let now = Utc::now();
    let series = webhooks
        .get_webhook_timeseries(
            slug,
            WebhookTimeseriesOptions::new()
                .interval(TimeseriesInterval::Minute)
                .start_date(now - chrono::Duration::minutes(5))
                .end_date(now),
        )
        .await?;
    for point in &series.data {
        println!(
            "   timeseries {}: {} deliveries, {:.0}% successful",
            point.timestamp.format("%H:%M"),
            point.total_deliveries,
            point.success_rate
        );
    }

    emulator.shutdown().await;
    println!("done in {:.1?}", started.elapsed());
    Ok(())
}

/// Polls a delivery until it reaches `status`.
async fn wait_for_status(
    webhooks: &Webhooks,
    slug: &str,
    delivery_id: &str,
    status: DeliveryStatus,
) -> Result<wacht_webhooks::WebhookDeliveryDetails> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let delivery = webhooks.get_webhook_delivery(slug, delivery_id).await?;
        if delivery.status == status {
            return Ok(delivery);
        }
        ensure(
            Instant::now() < deadline,
            "the delivery reaches its state in time",
        )?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls until no delivery is pending or waiting for a retry.
async fn wait_until_settled(webhooks: &Webhooks, slug: &str) -> Result {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let page = webhooks
            .list_webhook_deliveries(slug, ListWebhookDeliveriesOptions::new())
            .await?;
        let busy = |status: &DeliveryStatus| {
            matches!(status, DeliveryStatus::Pending | DeliveryStatus::Failed)
        };
        if !page.data.iter().any(|d| busy(&d.status)) {
            return Ok(());
        }
        ensure(Instant::now() < deadline, "the deliveries settle in time")?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn ensure(condition: bool, what: &str) -> Result {
    if condition {
        Ok(())
    } else {
        Err(format!("check failed: {what}").into())
    }
}

/// A webhook receiver on 127.0.0.1: `/hooks` takes everything, `/flaky` answers 500 while broken.
/// It hands each accepted delivery (headers and raw body) to the tour.
struct Receiver {
    base_url: String,
    broken: Arc<AtomicBool>,
    inbox: Mutex<mpsc::UnboundedReceiver<(HeaderMap, Bytes)>>,
}

#[derive(Clone)]
struct ReceiverState {
    broken: Arc<AtomicBool>,
    inbox: mpsc::UnboundedSender<(HeaderMap, Bytes)>,
}

impl Receiver {
    async fn start() -> Result<Receiver> {
        let (sender, inbox) = mpsc::unbounded_channel();
        let broken = Arc::new(AtomicBool::new(false));
        let state = ReceiverState {
            broken: broken.clone(),
            inbox: sender,
        };
        let router = Router::new()
            .route("/hooks", post(accept))
            .route("/flaky", post(flaky))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(Receiver {
            base_url,
            broken,
            inbox: Mutex::new(inbox),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    fn set_broken(&self, broken: bool) {
        self.broken.store(broken, Ordering::SeqCst);
    }

    /// The next accepted delivery.
    async fn next(&self) -> Result<(HeaderMap, Bytes)> {
        let mut inbox = self.inbox.lock().await;
        let received = tokio::time::timeout(PATIENCE, inbox.recv()).await;
        Ok(received?.ok_or("the receiver stopped")?)
    }
}

async fn accept(State(state): State<ReceiverState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let _ = state.inbox.send((headers, body));
    StatusCode::OK
}

async fn flaky(state: State<ReceiverState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if state.broken.load(Ordering::SeqCst) {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    accept(state, headers, body).await
}

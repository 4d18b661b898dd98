//! A tour of the webhooks module in a few seconds, with nothing to install and no account: an
//! emulator of the Wacht API runs in this process on 127.0.0.1, and its built-in inboxes receive
//! the deliveries.
//!
//! ```sh
//! cargo run --example quickstart
//! ```

use std::error::Error;
use std::time::Duration;

use chrono::Utc;
use futures_util::TryStreamExt;
use serde_json::json;
use wacht_webhooks::{
    CreateWebhookAppRequest, CreateWebhookEndpointRequest, CreateWebhookEventCatalogRequest,
    ListWebhookDeliveriesOptions, TimeseriesInterval, TriggerWebhookEventRequest, VerifyError,
    WaitOptions, Webhook, WebhookAnalyticsOptions, WebhookEventDefinition,
    WebhookTimeseriesOptions,
};
use wacht_webhooks_emulator::Emulator;

/// How often and how long the tour polls: the emulator settles in milliseconds.
fn patient() -> WaitOptions {
    WaitOptions::new()
        .poll_interval(Duration::from_millis(20))
        .timeout(Duration::from_secs(10))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // Failed deliveries are retried after 50 ms instead of 30 s.
    let emulator = Emulator::builder()
        .retry_schedule(vec![Duration::from_millis(50)])
        .deliver_to_loopback_only(true)
        .start()
        .await?;
    // The same code talks to https://api.wacht.dev with `Client::new(your_key)`.
    let webhooks = emulator.client().webhooks();
    println!("inspector: {}", emulator.inspector_url());

    // 1. A catalog of events, and an app that uses it. The app's secret signs every delivery.
    let event = |name, about| WebhookEventDefinition::new(name, about);
    let catalog = CreateWebhookEventCatalogRequest::new("billing-events", "Billing events")
        .event(event("invoice.paid", "An invoice was paid"))
        .event(event("invoice.refunded", "An invoice was refunded"));
    webhooks.create_webhook_event_catalog(catalog).await?;
    let app = CreateWebhookAppRequest::new("Billing")
        .app_slug("billing")
        .event_catalog_slug("billing-events");
    let app = webhooks.create_webhook_app(app).await?;
    let slug = app.app_slug.as_str();
    println!("1. created the app `{slug}` on the catalog `billing-events`");
    let trigger = |event: &str, payload| {
        webhooks.trigger_webhook_event(slug, TriggerWebhookEventRequest::new(event, payload))
    };

    // 2. An endpoint for both events (refunds only from 100 up), at an inbox of the emulator.
    let hooks = emulator.inbox("hooks");
    let endpoint = CreateWebhookEndpointRequest::new(hooks.url())
        .subscribe("invoice.paid")
        .subscribe_filtered("invoice.refunded", json!({"amount": {"$gte": 100}}));
    let endpoint = webhooks.create_webhook_endpoint(slug, endpoint).await?.id;
    println!("2. endpoint {endpoint} takes invoice.paid, and refunds from 100 up");

    // 3. Three events; the small refund is filtered out.
    let paid = trigger("invoice.paid", json!({"invoice": "in_1", "amount": 4200})).await?;
    let small = trigger("invoice.refunded", json!({"invoice": "in_1", "amount": 20})).await?;
    let big = json!({"invoice": "in_2", "amount": 250});
    let big = trigger("invoice.refunded", big).await?;
    assert!(small.delivery_ids.is_empty() && small.filtered_count == 1);
    let queued = paid.delivered_count + small.delivered_count + big.delivered_count;
    let filtered = small.filtered_count;
    println!("3. triggered 3 events: {queued} deliveries queued, {filtered} filtered out");

    // 4. A receiver verifies each delivery with the app's secret before trusting it.
    let verifier = Webhook::new(&app.signing_secret)?;
    println!("4. received, each verified with the app's signing secret:");
    for request in hooks.wait_for(2).await? {
        let event = verifier.verify(&request.headers, &request.body)?;
        println!("   {} {} {}", event.id, event.event_type, event.data);
    }

    // 5. The delivery log, as a stream that pages through any number of deliveries.
    emulator.wait_idle().await?;
    let options = ListWebhookDeliveriesOptions::new().limit(50);
    let deliveries: Vec<_> = webhooks
        .list_webhook_deliveries_stream(slug, options)
        .try_collect()
        .await?;
    println!("5. the delivery log, newest first:");
    for d in &deliveries {
        let (id, event, status) = (&d.delivery_id, &d.event_name, &d.status);
        let http = d.http_status_code.unwrap_or_default();
        println!("   {id} {event} {status} (HTTP {http})");
    }

    // 6. A second endpoint that is down: its delivery fails (one attempt only). Once it is back,
    //    replaying sends the same payload again, as a new delivery.
    let flaky = emulator.inbox("flaky");
    flaky.respond_with([500])?;
    let down = CreateWebhookEndpointRequest::new(flaky.url())
        .subscribe("invoice.paid")
        .max_retries(1);
    let down = webhooks.create_webhook_endpoint(slug, down).await?;
    let sent = trigger("invoice.paid", json!({"invoice": "in_3", "amount": 990})).await?;
    let mut failed = None;
    for id in &sent.delivery_ids {
        let delivery = webhooks.wait_for_delivery(slug, id, patient()).await?;
        failed = failed.or((delivery.endpoint_id == down.id).then_some(delivery));
    }
    let failed = failed.ok_or("no delivery to the broken endpoint")?;
    let code = failed.http_status_code.unwrap_or_default();
    let status = &failed.status;
    println!("6. the delivery to the broken endpoint: {status} (HTTP {code})");
    flaky.respond_with([])?; // back to 200
    let replay = webhooks
        .replay_webhook_delivery(slug, &failed.delivery_id)
        .await?;
    let task_id = replay.task_id.ok_or("the replay started no task")?;
    let task = webhooks
        .wait_for_replay_task(slug, &task_id, patient())
        .await?;
    let received = flaky.wait_for(2).await?;
    let event = verifier.verify(&received[1].headers, &received[1].body)?;
    println!(
        "   fixed it and replayed it: task {task_id} {} ({} replayed); received {} again as {}",
        task.status, task.replayed_count, event.data["invoice"], event.id
    );

    // 7. A new secret: the next deliveries verify with it, and no longer with the old one.
    let rotated = webhooks.rotate_webhook_secret(slug).await?;
    let new_verifier = Webhook::new(&rotated.signing_secret)?;
    let before = hooks.received().len();
    trigger("invoice.paid", json!({"invoice": "in_4", "amount": 10})).await?;
    let received = hooks.wait_for(before + 1).await?;
    let latest = &received[before];
    new_verifier.verify(&latest.headers, &latest.body)?;
    let old = verifier.verify(&latest.headers, &latest.body);
    assert_eq!(old.unwrap_err(), VerifyError::NoMatchingSignature);
    println!("7. rotated the secret: the next deliveries verify with the new one only");

    // 8. What happened, in numbers.
    emulator.wait_idle().await?;
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
    let window = WebhookTimeseriesOptions::new()
        .interval(TimeseriesInterval::Minute)
        .start_date(now - chrono::Duration::minutes(5))
        .end_date(now);
    for p in webhooks.get_webhook_timeseries(slug, window).await?.data {
        let (time, total) = (p.timestamp.format("%H:%M"), p.total_deliveries);
        println!(
            "   timeseries {time}: {total} deliveries, {:.0}% ok",
            p.success_rate
        );
    }

    emulator.shutdown().await;
    Ok(())
}

//! Every call of the webhooks module against the emulator, through the public API only: a success
//! and at least one error path each, with the error's kind, status and the server's message.

mod common;

use std::collections::BTreeMap;

use chrono::{Duration as Span, Utc};
use serde::Serialize;
use serde_json::json;
use wacht_webhooks::types::{EventSubscription, EventSubscriptionRequest, RateLimitConfig};
use wacht_webhooks::{
    CreateWebhookAppRequest, CreateWebhookEndpointRequest, CreateWebhookEventCatalogRequest,
    DeliveryStatus, ErrorKind, ListWebhookAppsOptions, ListWebhookDeliveriesOptions,
    ListWebhookEndpointsOptions, ListWebhookReplayTasksOptions, ReplayStatusFilter,
    ReplayTaskState, ReplayWebhookDeliveriesRequest, TestWebhookEndpointRequest,
    TimeseriesInterval, TriggerWebhookEventRequest, UpdateWebhookAppRequest,
    UpdateWebhookEndpointRequest, UpdateWebhookEventCatalogRequest, VerifyError, WaitOptions,
    Webhook, WebhookAnalyticsOptions, WebhookEventDefinition, WebhookTimeseriesOptions,
};

use common::*;

const APP_NOT_FOUND: &str = "Webhook app not found";
const ENDPOINT_NOT_FOUND: &str = "Webhook endpoint not found";
const CATALOG_NOT_FOUND: &str = "Event catalog not found";

/// An app id nobody created.
const NO_SUCH_ID: &str = "1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apps_are_created_listed_read_updated_and_deleted() {
    let h = Harness::start().await;
    let w = &h.webhooks;
    h.catalog("billing_events").await;

    // create_webhook_app: the slug is normalised, every field comes back.
    let app = w
        .create_webhook_app(
            CreateWebhookAppRequest::new("Billing")
                .app_slug(" Billing App! ")
                .description("Invoices")
                .failure_notification_emails(["ops@example.com"])
                .event_catalog_slug("billing_events"),
        )
        .await
        .unwrap();
    assert_eq!(app.app_slug, "billing_app");
    assert_eq!(app.name, "Billing");
    assert_eq!(app.description.as_deref(), Some("Invoices"));
    assert_eq!(app.failure_notification_emails, ["ops@example.com"]);
    assert_eq!(app.event_catalog_slug.as_deref(), Some("billing_events"));
    assert!(app.is_active);
    Webhook::new(&app.signing_secret).expect("the secret is whsec_ + base64");
    let unnamed = w
        .create_webhook_app(CreateWebhookAppRequest::new("No slug"))
        .await
        .unwrap();
    assert!(
        unnamed.app_slug.starts_with("slug_"),
        "{}",
        unnamed.app_slug
    );
    expect_error(
        w.create_webhook_app(CreateWebhookAppRequest::new("Again").app_slug("billing_app"))
            .await,
        ErrorKind::Conflict,
        Some(409),
        Some("Resource already exists"),
    );
    expect_bad_request(
        w.create_webhook_app(CreateWebhookAppRequest::new("Bad").app_slug("!!!"))
            .await,
        "app_slug must contain at least one alphanumeric character",
    );

    // get_webhook_app
    assert_eq!(w.get_webhook_app("billing_app").await.unwrap(), app);
    expect_not_found(w.get_webhook_app("nope").await, APP_NOT_FOUND);

    // list_webhook_apps: creation order, exact-slug search, inactive apps hidden by default.
    let all = w
        .list_webhook_apps(ListWebhookAppsOptions::new())
        .await
        .unwrap();
    let slugs: Vec<_> = all.data.iter().map(|a| a.app_slug.as_str()).collect();
    assert_eq!(slugs, ["billing_app", unnamed.app_slug.as_str()]);
    assert!(!all.has_more);
    let found = w
        .list_webhook_apps(ListWebhookAppsOptions::new().search("billing_app"))
        .await
        .unwrap();
    assert_eq!(found.data, std::slice::from_ref(&app));
    let wrong_key = h.client_with_key("not_the_key").webhooks();
    expect_error(
        wrong_key
            .list_webhook_apps(ListWebhookAppsOptions::new())
            .await,
        ErrorKind::Unauthorized,
        Some(401),
        Some("Unauthorized"),
    );

    // update_webhook_app
    let updated = w
        .update_webhook_app(
            "billing_app",
            UpdateWebhookAppRequest::new()
                .name("Billing v2")
                .description("All invoices")
                .is_active(false),
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "Billing v2");
    assert_eq!(updated.description.as_deref(), Some("All invoices"));
    assert!(!updated.is_active);
    assert_eq!(updated.signing_secret, app.signing_secret);
    expect_not_found(
        w.update_webhook_app("nope", UpdateWebhookAppRequest::new().name("x"))
            .await,
        APP_NOT_FOUND,
    );
    let active = w
        .list_webhook_apps(ListWebhookAppsOptions::new())
        .await
        .unwrap();
    assert_eq!(active.data.len(), 1, "the inactive app is hidden");
    let with_inactive = w
        .list_webhook_apps(ListWebhookAppsOptions::new().include_inactive(true))
        .await
        .unwrap();
    assert_eq!(with_inactive.data.len(), 2);

    // delete_webhook_app
    w.delete_webhook_app("billing_app").await.unwrap();
    expect_not_found(w.get_webhook_app("billing_app").await, APP_NOT_FOUND);
    expect_not_found(w.delete_webhook_app("billing_app").await, APP_NOT_FOUND);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_rotating_the_secret_deliveries_verify_only_with_the_new_one() {
    let h = Harness::start().await;
    let fx = h.fixture("shop").await;
    let old = Webhook::new(&fx.app.signing_secret).unwrap();

    let first = h.trigger(fx.slug(), ORDER_PAID, json!({"order": 1})).await;
    let received = h.receiver.wait_for_delivery(&fx.hook, &first[0]).await;
    let event = old.verify(&received.headers, &received.body).unwrap();
    assert_eq!(event.id, format!("msg_{}", first[0]));
    assert_eq!(event.event_type, ORDER_PAID);
    assert_eq!(event.data, json!({"order": 1}));

    // rotate_webhook_secret
    let rotated = h.webhooks.rotate_webhook_secret(fx.slug()).await.unwrap();
    assert_ne!(rotated.signing_secret, fx.app.signing_secret);
    assert_eq!(
        h.webhooks
            .get_webhook_app(fx.slug())
            .await
            .unwrap()
            .signing_secret,
        rotated.signing_secret
    );
    expect_not_found(
        h.webhooks.rotate_webhook_secret("nope").await,
        APP_NOT_FOUND,
    );

    let second = h.trigger(fx.slug(), ORDER_PAID, json!({"order": 2})).await;
    let received = h.receiver.wait_for_delivery(&fx.hook, &second[0]).await;
    let new = Webhook::new(&rotated.signing_secret).unwrap();
    let event = new.verify(&received.headers, &received.body).unwrap();
    assert_eq!(event.data, json!({"order": 2}));
    assert_eq!(
        old.verify(&received.headers, &received.body).unwrap_err(),
        VerifyError::NoMatchingSignature
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_are_created_listed_updated_and_deleted() {
    let h = Harness::start().await;
    let w = &h.webhooks;
    let fx = h.fixture("crm").await;
    let slug = fx.slug();

    // create_webhook_endpoint, with every option.
    let second = w
        .create_webhook_endpoint(
            slug,
            CreateWebhookEndpointRequest::new(h.receiver.url("crm_second"))
                .subscribe(ORDER_PAID)
                .subscribe_filtered(ORDER_REFUNDED, json!({"amount": {"$gte": 100}}))
                .description("Second")
                .header("x-team", "crm")
                .max_retries(5)
                .timeout_seconds(10)
                .rate_limit(50, std::time::Duration::from_secs(1)),
        )
        .await
        .unwrap();
    assert_eq!(second.app_slug, slug);
    assert_eq!(second.url, h.receiver.url("crm_second"));
    assert_eq!(second.description.as_deref(), Some("Second"));
    assert_eq!(second.headers, json!({"x-team": "crm"}));
    assert_eq!(second.header("x-team"), Some("crm"));
    assert_eq!(second.max_retries, 5);
    assert_eq!(second.timeout_seconds, 10);
    assert_eq!(
        second.rate_limit_config,
        Some(RateLimitConfig::new(1000, 50))
    );
    assert!(second.is_active);
    assert_eq!(second.failure_count, 0);
    let endpoint = |url: &str| CreateWebhookEndpointRequest::new(h.receiver.url(url));
    expect_bad_request(
        w.create_webhook_endpoint(slug, endpoint("x")).await,
        "At least one subscription is required",
    );
    expect_bad_request(
        w.create_webhook_endpoint(slug, endpoint("x").subscribe("order.shipped"))
            .await,
        "Unknown event 'order.shipped' for app 'crm'",
    );
    expect_bad_request(
        w.create_webhook_endpoint(slug, endpoint("x").subscribe(ORDER_PAID).max_retries(0))
            .await,
        "max_retries must be between 1 and 32",
    );
    expect_not_found(
        w.create_webhook_endpoint("nope", endpoint("x").subscribe(ORDER_PAID))
            .await,
        APP_NOT_FOUND,
    );

    // list_webhook_endpoints: with subscriptions, creation order.
    let listed = w
        .list_webhook_endpoints(slug, ListWebhookEndpointsOptions::new())
        .await
        .unwrap();
    let ids: Vec<_> = listed.data.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, [fx.endpoint.id.as_str(), second.id.as_str()]);
    assert_eq!(
        listed.data[1].subscriptions,
        [
            subscription(ORDER_PAID, json!({})),
            subscription(ORDER_REFUNDED, json!({"amount": {"$gte": 100}})),
        ]
    );
    // Production lists the endpoints of an unknown app as an empty page (P7).
    let unknown = w
        .list_webhook_endpoints("nope", ListWebhookEndpointsOptions::new())
        .await
        .unwrap();
    assert!(unknown.data.is_empty() && !unknown.has_more);

    // update_webhook_endpoint: only the given fields change; subscriptions are replaced.
    let updated = w
        .update_webhook_endpoint(
            slug,
            &second.id,
            UpdateWebhookEndpointRequest::new()
                .description("Renamed")
                .is_active(false)
                .subscriptions([EventSubscriptionRequest::new(ORDER_PAID)
                    .filter_rules(json!({"currency": "EUR"}))]),
        )
        .await
        .unwrap();
    assert_eq!(updated.description.as_deref(), Some("Renamed"));
    assert!(!updated.is_active);
    assert_eq!(updated.max_retries, 5);
    let active = w
        .list_webhook_endpoints(slug, ListWebhookEndpointsOptions::new())
        .await
        .unwrap();
    assert_eq!(active.data.len(), 1, "inactive endpoints are hidden");
    let all = w
        .list_webhook_endpoints(
            slug,
            ListWebhookEndpointsOptions::new().include_inactive(true),
        )
        .await
        .unwrap();
    assert_eq!(
        all.data[1].subscriptions,
        [subscription(ORDER_PAID, json!({"currency": "EUR"}))]
    );
    expect_not_found(
        w.update_webhook_endpoint(slug, NO_SUCH_ID, UpdateWebhookEndpointRequest::new())
            .await,
        ENDPOINT_NOT_FOUND,
    );
    expect_bad_request(
        w.update_webhook_endpoint(
            slug,
            &second.id,
            UpdateWebhookEndpointRequest::new().max_retries(33),
        )
        .await,
        "max_retries must be between 1 and 32",
    );
    // Another app's path does not reach this endpoint.
    h.webhooks
        .create_webhook_app(
            CreateWebhookAppRequest::new("Other")
                .app_slug("other")
                .event_catalog_slug(&fx.catalog),
        )
        .await
        .unwrap();
    expect_not_found(
        w.update_webhook_endpoint(
            "other",
            &second.id,
            UpdateWebhookEndpointRequest::new().is_active(true),
        )
        .await,
        ENDPOINT_NOT_FOUND,
    );

    // delete_webhook_endpoint
    w.delete_webhook_endpoint(slug, &second.id).await.unwrap();
    let left = w
        .list_webhook_endpoints(
            slug,
            ListWebhookEndpointsOptions::new().include_inactive(true),
        )
        .await
        .unwrap();
    assert_eq!(left.data.len(), 1);
    expect_not_found(
        w.delete_webhook_endpoint(slug, &second.id).await,
        ENDPOINT_NOT_FOUND,
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_sends_and_reactivation_after_a_410() {
    let h = Harness::start().await;
    let w = &h.webhooks;
    let fx = h.fixture("ops").await;
    let (slug, endpoint_id) = (fx.slug(), fx.endpoint.id.as_str());

    // test_webhook_endpoint: answered at once; a real signed `test.webhook` delivery follows.
    let answer = w
        .test_webhook_endpoint(
            slug,
            endpoint_id,
            TestWebhookEndpointRequest::new(ORDER_PAID).payload(json!({"ping": 1})),
        )
        .await
        .unwrap();
    assert!(answer.success);
    assert_eq!(answer.status_code, 202);
    assert_eq!(answer.response_time_ms, 0);
    assert_eq!(
        answer.response_body,
        "Test webhook initiated. Check delivery history for results."
    );
    assert_eq!(answer.error, None);
    let received = h.receiver.wait_for(&fx.hook, 1).await;
    let event = Webhook::new(&fx.app.signing_secret)
        .unwrap()
        .verify(&received[0].headers, &received[0].body)
        .unwrap();
    assert_eq!(event.event_type, "test.webhook");
    assert_eq!(event.data, json!({"ping": 1}));
    expect_not_found(
        w.test_webhook_endpoint(
            slug,
            NO_SUCH_ID,
            TestWebhookEndpointRequest::new(ORDER_PAID),
        )
        .await,
        ENDPOINT_NOT_FOUND,
    );
    // Production finds the endpoint by its id alone: the app slug of a test send is ignored (P10).
    let via_unknown_app = w
        .test_webhook_endpoint(
            "nope",
            endpoint_id,
            TestWebhookEndpointRequest::new(ORDER_PAID),
        )
        .await
        .unwrap();
    assert!(via_unknown_app.success);
    h.receiver.wait_for(&fx.hook, 2).await;
    h.wait_until_settled(slug).await;

    // A 410 deactivates the endpoint at once; reactivate_webhook_endpoint brings it back.
    h.receiver.respond(&fx.hook, 410);
    let ids = h.trigger(slug, ORDER_PAID, json!({"order": 7})).await;
    h.wait_for_status(slug, &ids[0], DeliveryStatus::EndpointDisabled)
        .await;
    let options = ListWebhookEndpointsOptions::new().include_inactive(true);
    let disabled = w
        .list_webhook_endpoints(slug, options.clone())
        .await
        .unwrap();
    assert!(!disabled.data[0].is_active);
    let answer = w.reactivate_webhook_endpoint(endpoint_id).await.unwrap();
    assert!(answer.success);
    assert_eq!(
        answer.message,
        format!("Endpoint {} reactivated successfully", fx.endpoint.url)
    );
    let back = w.list_webhook_endpoints(slug, options).await.unwrap();
    assert!(back.data[0].is_active);
    assert!(!back.data[0].auto_disabled);
    assert_eq!(back.data[0].failure_count, 0);
    expect_not_found(
        w.reactivate_webhook_endpoint(NO_SUCH_ID).await,
        ENDPOINT_NOT_FOUND,
    );
    h.shutdown().await;
}

#[derive(Serialize)]
struct Refund {
    order: u32,
    amount: u32,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triggers_fan_out_and_deliveries_are_listed_read_and_replayed() {
    let h = Harness::documented().await;
    let w = &h.webhooks;
    let fx = h.fixture("store").await;
    let slug = fx.slug();
    // A second endpoint for big orders only, a third that is down (one attempt per delivery).
    let big = w
        .create_webhook_endpoint(
            slug,
            CreateWebhookEndpointRequest::new(h.receiver.url("store_big"))
                .subscribe_filtered(ORDER_PAID, json!({"amount": {"$gte": 100}})),
        )
        .await
        .unwrap();
    let down = w
        .create_webhook_endpoint(
            slug,
            CreateWebhookEndpointRequest::new(h.receiver.url("store_down"))
                .subscribe(ORDER_REFUNDED)
                .max_retries(1),
        )
        .await
        .unwrap();
    h.receiver.respond("store_down", 500);

    // trigger_webhook_event: fan-out, filters, from_serializable.
    let small = w
        .trigger_webhook_event(
            slug,
            TriggerWebhookEventRequest::new(ORDER_PAID, json!({"amount": 50}))
                .filter_context(json!({"ignored": true})),
        )
        .await
        .unwrap();
    assert_eq!(small.delivered_count, 1);
    assert_eq!(small.filtered_count, 1);
    assert_eq!(small.delivery_ids.len(), 1);
    let large = w
        .trigger_webhook_event(
            slug,
            TriggerWebhookEventRequest::new(ORDER_PAID, json!({"amount": 500})),
        )
        .await
        .unwrap();
    assert_eq!((large.delivered_count, large.filtered_count), (2, 0));
    let refund = TriggerWebhookEventRequest::from_serializable(
        ORDER_REFUNDED,
        &Refund {
            order: 9,
            amount: 20,
        },
    )
    .unwrap();
    let refunded = w.trigger_webhook_event(slug, refund).await.unwrap();
    assert_eq!(refunded.delivered_count, 2);
    expect_not_found(
        w.trigger_webhook_event(
            "nope",
            TriggerWebhookEventRequest::new(ORDER_PAID, json!({})),
        )
        .await,
        APP_NOT_FOUND,
    );
    h.wait_until_settled(slug).await;

    // list_webhook_deliveries: newest first, every filter.
    let mut created: Vec<String> = [&small, &large, &refunded]
        .iter()
        .flat_map(|t| t.delivery_ids.clone())
        .collect();
    created.sort_by_key(|id| std::cmp::Reverse(id.parse::<i64>().unwrap()));
    let listed = w
        .list_webhook_deliveries(slug, ListWebhookDeliveriesOptions::new())
        .await
        .unwrap();
    let listed_ids: Vec<_> = listed.data.iter().map(|d| d.delivery_id.clone()).collect();
    assert_eq!(listed_ids, created);
    assert!(!listed.has_more);
    let list = |options: ListWebhookDeliveriesOptions| async move {
        w.list_webhook_deliveries(slug, options).await.unwrap().data
    };
    let failed =
        list(ListWebhookDeliveriesOptions::new().status(DeliveryStatus::PermanentlyFailed)).await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].endpoint_id, down.id);
    let failed_id = failed[0].delivery_id.clone();
    assert_eq!(
        list(ListWebhookDeliveriesOptions::new().event_name(ORDER_REFUNDED))
            .await
            .len(),
        2
    );
    let to_big = list(ListWebhookDeliveriesOptions::new().endpoint_id(&big.id)).await;
    assert_eq!(to_big.len(), 1);
    assert_eq!(to_big[0].status, DeliveryStatus::Success);
    let later = Utc::now() + Span::hours(1);
    assert!(
        list(ListWebhookDeliveriesOptions::new().since(later))
            .await
            .is_empty()
    );
    assert_eq!(
        list(ListWebhookDeliveriesOptions::new().until(later))
            .await
            .len(),
        5
    );
    let page = w
        .list_webhook_deliveries(slug, ListWebhookDeliveriesOptions::new().limit(2).offset(1))
        .await
        .unwrap();
    assert_eq!((page.data.len(), page.has_more), (2, true));
    assert_eq!(page.data[0].delivery_id, created[1]);
    expect_not_found(
        w.list_webhook_deliveries("nope", ListWebhookDeliveriesOptions::new())
            .await,
        APP_NOT_FOUND,
    );
    expect_bad_request(
        w.list_webhook_deliveries(
            slug,
            ListWebhookDeliveriesOptions::new().status(DeliveryStatus::from("bogus")),
        )
        .await,
        "Invalid value for query parameter 'status'",
    );

    // get_webhook_delivery: the outbound envelope and the endpoint's answer.
    let details = w.get_webhook_delivery(slug, &failed_id).await.unwrap();
    assert_eq!(details.status, DeliveryStatus::PermanentlyFailed);
    assert_eq!(details.http_status_code, Some(500));
    assert_eq!((details.attempt_number, details.max_attempts), (1, 1));
    assert_eq!(details.payload["type"], ORDER_REFUNDED);
    assert_eq!(details.payload["data"], json!({"order": 9, "amount": 20}));
    expect_not_found(
        w.get_webhook_delivery(slug, NO_SUCH_ID).await,
        "Webhook delivery not found",
    );
    expect_bad_request(
        w.get_webhook_delivery(slug, "abc").await,
        "Invalid delivery ID",
    );

    // replay_webhook_delivery: once the endpoint is back, the failed delivery is sent again as
    // a new delivery with a new id.
    h.receiver.respond("store_down", 200);
    let queued = w.replay_webhook_delivery(slug, &failed_id).await.unwrap();
    assert_eq!(queued.status, ReplayTaskState::Queued);
    let task_id = queued.task_id.expect("a task id");
    let task = w
        .wait_for_replay_task(
            slug,
            &task_id,
            WaitOptions::new().poll_interval(POLL).timeout(DEADLINE),
        )
        .await
        .unwrap();
    assert_eq!(
        (task.total_count, task.replayed_count, task.failed_count),
        (1, 1, 0)
    );
    let resent = h.receiver.wait_for("store_down", 2).await;
    assert_ne!(resent[1].headers["webhook-id"], format!("msg_{failed_id}"));
    assert_eq!(json(&resent[1])["data"], json!({"order": 9, "amount": 20}));
    expect_not_found(
        w.replay_webhook_delivery("nope", &failed_id).await,
        APP_NOT_FOUND,
    );

    // replay_webhook_deliveries: by date range with filters, deduplicated by its key.
    let range = || {
        ReplayWebhookDeliveriesRequest::by_date_range(Utc::now() - Span::hours(1), None)
            .status(ReplayStatusFilter::Success)
            .event_name(ORDER_PAID)
            .endpoint_id(&big.id)
            .idempotency_key("store-range")
    };
    let queued = w.replay_webhook_deliveries(slug, range()).await.unwrap();
    let task_id = queued.task_id.expect("a task id");
    let task = w
        .wait_for_replay_task(
            slug,
            &task_id,
            WaitOptions::new().poll_interval(POLL).timeout(DEADLINE),
        )
        .await
        .unwrap();
    assert_eq!((task.total_count, task.replayed_count), (1, 1));
    let again = w.replay_webhook_deliveries(slug, range()).await.unwrap();
    assert_eq!(again.task_id.as_deref(), Some(task_id.as_str()));
    assert_eq!(
        again.message,
        "Replay already queued for this idempotency key"
    );
    let too_many: Vec<String> = (1..=501).map(|n| n.to_string()).collect();
    expect_bad_request(
        w.replay_webhook_deliveries(slug, ReplayWebhookDeliveriesRequest::by_ids(too_many))
            .await,
        "Maximum 500 delivery IDs are allowed per replay",
    );
    let now = Utc::now();
    expect_bad_request(
        w.replay_webhook_deliveries(
            slug,
            ReplayWebhookDeliveriesRequest::by_date_range(now - Span::hours(72), Some(now)),
        )
        .await,
        "Replay range cannot exceed 48 hours",
    );
    expect_not_found(
        w.replay_webhook_deliveries("nope", ReplayWebhookDeliveriesRequest::by_ids(["1"]))
            .await,
        APP_NOT_FOUND,
    );
    expect_invalid_input(
        w.replay_webhook_deliveries(
            slug,
            ReplayWebhookDeliveriesRequest::by_ids(Vec::<String>::new()),
        )
        .await,
    );
    expect_invalid_input(
        w.replay_webhook_deliveries(
            slug,
            ReplayWebhookDeliveriesRequest::by_date_range(now, Some(now - Span::hours(1))),
        )
        .await,
    );

    // An inactive app takes no triggers.
    w.update_webhook_app(slug, UpdateWebhookAppRequest::new().is_active(false))
        .await
        .unwrap();
    expect_not_found(
        w.trigger_webhook_event(slug, TriggerWebhookEventRequest::new(ORDER_PAID, json!({})))
            .await,
        APP_NOT_FOUND,
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_analytics_and_timeseries_follow_the_delivery_log() {
    let h = Harness::documented().await;
    let w = &h.webhooks;
    let fx = h.fixture("metrics").await;
    let slug = fx.slug();
    let down = w
        .create_webhook_endpoint(
            slug,
            CreateWebhookEndpointRequest::new(h.receiver.url("metrics_down"))
                .subscribe(ORDER_REFUNDED)
                .max_retries(1),
        )
        .await
        .unwrap();
    h.receiver.respond("metrics_down", 503);
    h.trigger(slug, ORDER_PAID, json!({"n": 1})).await;
    h.trigger(slug, ORDER_PAID, json!({"n": 2})).await;
    h.trigger(slug, ORDER_REFUNDED, json!({"n": 3})).await;
    h.wait_until_settled(slug).await;

    // get_webhook_stats: 3 of 4 deliveries succeeded.
    let stats = w.get_webhook_stats(slug).await.unwrap();
    assert_eq!(stats.total_deliveries, 4);
    assert_eq!(stats.success_rate, 75.0);
    assert_eq!(stats.active_endpoints, 2);
    assert_eq!(stats.failed_deliveries_24h, 1);
    expect_not_found(w.get_webhook_stats("nope").await, APP_NOT_FOUND);

    // get_webhook_analytics: the last 30 days, then one endpoint in an explicit window.
    let analytics = w
        .get_webhook_analytics(slug, WebhookAnalyticsOptions::new())
        .await
        .unwrap();
    assert_eq!(analytics.total_deliveries, 4);
    assert_eq!(analytics.successful_deliveries, 3);
    assert_eq!(analytics.failed_deliveries, 1);
    assert_eq!(analytics.filtered_deliveries, 0);
    assert_eq!(analytics.total_events, 2);
    assert_eq!(analytics.success_rate, 75.0);
    assert!(analytics.avg_response_time_ms.is_some());
    assert_eq!(analytics.endpoint_performance.len(), 2);
    let mut top: Vec<_> = analytics
        .top_events
        .iter()
        .map(|e| (e.event_name.as_str(), e.count))
        .collect();
    top.sort();
    assert_eq!(top, [(ORDER_PAID, 2), (ORDER_REFUNDED, 2)]);
    assert_eq!(analytics.failure_reasons.len(), 1);
    assert_eq!(analytics.failure_reasons[0].reason, "Server Error (5xx)");
    assert_eq!(analytics.failure_reasons[0].count, 1);
    let now = Utc::now();
    let window = WebhookAnalyticsOptions::new()
        .endpoint_id(&down.id)
        .start_date(now - Span::hours(1))
        .end_date(now + Span::minutes(1));
    let one = w.get_webhook_analytics(slug, window).await.unwrap();
    assert_eq!((one.total_deliveries, one.failed_deliveries), (1, 1));
    assert_eq!(one.endpoint_performance[0].endpoint_url, down.url);
    expect_not_found(
        w.get_webhook_analytics("nope", WebhookAnalyticsOptions::new())
            .await,
        APP_NOT_FOUND,
    );

    // get_webhook_timeseries: hourly buckets that add up to the deliveries.
    let series = w
        .get_webhook_timeseries(
            slug,
            WebhookTimeseriesOptions::new()
                .interval(TimeseriesInterval::Hour)
                .start_date(now - Span::hours(2))
                .end_date(now + Span::minutes(1)),
        )
        .await
        .unwrap();
    assert_eq!(series.interval, TimeseriesInterval::Hour);
    assert_eq!(
        series.data.iter().map(|p| p.total_deliveries).sum::<i64>(),
        4
    );
    assert_eq!(
        series
            .data
            .iter()
            .map(|p| p.successful_deliveries)
            .sum::<i64>(),
        3
    );
    assert!(
        series
            .data
            .windows(2)
            .all(|p| p[0].timestamp < p[1].timestamp)
    );
    let daily = w
        .get_webhook_timeseries(slug, WebhookTimeseriesOptions::new())
        .await
        .unwrap();
    assert_eq!(daily.interval, TimeseriesInterval::Day);
    expect_not_found(
        w.get_webhook_timeseries("nope", WebhookTimeseriesOptions::new())
            .await,
        APP_NOT_FOUND,
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogs_define_the_events_an_app_knows() {
    let h = Harness::start().await;
    let w = &h.webhooks;

    // create_webhook_event_catalog
    let catalog = w
        .create_webhook_event_catalog(
            CreateWebhookEventCatalogRequest::new("crm_events", "CRM")
                .description("Contacts")
                .event(
                    WebhookEventDefinition::new("contact.created", "A contact was created")
                        .group("contacts")
                        .schema(json!({"type": "object", "properties": {"id": {"type": "string"}}}))
                        .example_payload(json!({"id": "c_1"})),
                )
                .event(WebhookEventDefinition::new(
                    "contact.deleted",
                    "A contact was deleted",
                )),
        )
        .await
        .unwrap();
    assert_eq!(catalog.slug, "crm_events");
    assert_eq!(catalog.name, "CRM");
    assert_eq!(catalog.description.as_deref(), Some("Contacts"));
    assert_eq!(catalog.events.len(), 2);
    assert_eq!(catalog.events[0].group.as_deref(), Some("contacts"));
    assert_eq!(
        catalog.events[0].example_payload,
        Some(json!({"id": "c_1"}))
    );
    assert!(!catalog.events[0].is_archived);
    expect_error(
        w.create_webhook_event_catalog(CreateWebhookEventCatalogRequest::new(
            "crm_events",
            "Again",
        ))
        .await,
        ErrorKind::Conflict,
        Some(409),
        Some("Resource already exists"),
    );

    // list_webhook_event_catalogs
    let listed = w.list_webhook_event_catalogs().await.unwrap();
    assert_eq!(listed.data, std::slice::from_ref(&catalog));
    assert!(!listed.has_more);
    expect_error(
        h.client_with_key("wrong")
            .webhooks()
            .list_webhook_event_catalogs()
            .await,
        ErrorKind::Unauthorized,
        Some(401),
        Some("Unauthorized"),
    );

    // get_webhook_event_catalog
    assert_eq!(
        w.get_webhook_event_catalog("crm_events").await.unwrap(),
        catalog
    );
    expect_not_found(w.get_webhook_event_catalog("nope").await, CATALOG_NOT_FOUND);

    // update_webhook_event_catalog
    let renamed = w
        .update_webhook_event_catalog(
            "crm_events",
            UpdateWebhookEventCatalogRequest::new()
                .name("CRM v2")
                .description("People"),
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "CRM v2");
    assert_eq!(renamed.description.as_deref(), Some("People"));
    assert_eq!(renamed.events, catalog.events);
    expect_not_found(
        w.update_webhook_event_catalog("nope", UpdateWebhookEventCatalogRequest::new().name("x"))
            .await,
        CATALOG_NOT_FOUND,
    );

    // append_webhook_event_catalog_events
    let appended = w
        .append_webhook_event_catalog_events(
            "crm_events",
            vec![WebhookEventDefinition::new(
                "contact.merged",
                "Two contacts were merged",
            )],
        )
        .await
        .unwrap();
    let names: Vec<_> = appended.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["contact.created", "contact.deleted", "contact.merged"]
    );
    expect_bad_request(
        w.append_webhook_event_catalog_events(
            "crm_events",
            vec![WebhookEventDefinition::new("contact.created", "Again")],
        )
        .await,
        "Event 'contact.created' already exists in catalog",
    );
    expect_not_found(
        w.append_webhook_event_catalog_events("nope", vec![]).await,
        CATALOG_NOT_FOUND,
    );

    // archive_webhook_event_in_catalog: archived events refuse new subscriptions.
    let archived = w
        .archive_webhook_event_in_catalog("crm_events", "contact.merged", true)
        .await
        .unwrap();
    assert!(archived.events[2].is_archived);
    expect_not_found(
        w.archive_webhook_event_in_catalog("crm_events", "contact.nope", true)
            .await,
        "Event 'contact.nope' not found in catalog",
    );
    let app = w
        .create_webhook_app(
            CreateWebhookAppRequest::new("CRM")
                .app_slug("crm")
                .event_catalog_slug("crm_events"),
        )
        .await
        .unwrap();
    let subscribe =
        |event: &str| CreateWebhookEndpointRequest::new(h.receiver.url("crm")).subscribe(event);
    expect_bad_request(
        w.create_webhook_endpoint(&app.app_slug, subscribe("contact.merged"))
            .await,
        "Event 'contact.merged' is archived",
    );
    // Filter paths must exist in the event's schema.
    expect_bad_request(
        w.create_webhook_endpoint(
            &app.app_slug,
            CreateWebhookEndpointRequest::new(h.receiver.url("crm"))
                .subscribe_filtered("contact.created", json!({"missing": 1})),
        )
        .await,
        "Filter path 'missing' is not in the event schema",
    );
    let restored = w
        .archive_webhook_event_in_catalog("crm_events", "contact.merged", false)
        .await
        .unwrap();
    assert!(!restored.events[2].is_archived);
    w.create_webhook_endpoint(&app.app_slug, subscribe("contact.merged"))
        .await
        .unwrap();

    // list_webhook_events: the catalog's events in order, archived ones included.
    w.archive_webhook_event_in_catalog("crm_events", "contact.deleted", true)
        .await
        .unwrap();
    let events = w.list_webhook_events("crm").await.unwrap();
    let names: Vec<_> = events.iter().map(|e| e.event_name.as_str()).collect();
    assert_eq!(
        names,
        ["contact.created", "contact.deleted", "contact.merged"]
    );
    assert_eq!(events[0].app_slug, "crm");
    assert_eq!(
        events[0].description.as_deref(),
        Some("A contact was created")
    );
    assert_eq!(events[0].schema["properties"]["id"]["type"], "string");
    let bare = w
        .create_webhook_app(CreateWebhookAppRequest::new("Bare").app_slug("bare"))
        .await
        .unwrap();
    assert!(
        w.list_webhook_events(&bare.app_slug)
            .await
            .unwrap()
            .is_empty()
    );
    expect_not_found(w.list_webhook_events("nope").await, APP_NOT_FOUND);

    // get_webhook_catalog: the app's catalog, or why there is none.
    assert_eq!(
        w.get_webhook_catalog("crm").await.unwrap().slug,
        "crm_events"
    );
    expect_not_found(
        w.get_webhook_catalog(&bare.app_slug).await,
        "No catalog assigned to this app",
    );
    expect_not_found(w.get_webhook_catalog("nope").await, APP_NOT_FOUND);
    w.create_webhook_app(
        CreateWebhookAppRequest::new("Dangling")
            .app_slug("dangling")
            .event_catalog_slug("gone"),
    )
    .await
    .unwrap();
    expect_not_found(w.get_webhook_catalog("dangling").await, CATALOG_NOT_FOUND);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_tasks_are_listed_followed_and_cancelled() {
    // Slow replay tasks, so that one is still running when it is cancelled.
    let h = Harness::start_with(|emulator| {
        emulator.replay_item_delay(std::time::Duration::from_millis(20))
    })
    .await;
    let w = &h.webhooks;
    let fx = h.fixture("tasks").await;
    let slug = fx.slug();
    let ids = h.trigger(slug, ORDER_PAID, json!({"n": 1})).await;
    h.wait_for_status(slug, &ids[0], DeliveryStatus::Success)
        .await;

    let short = w.replay_webhook_delivery(slug, &ids[0]).await.unwrap();
    let short = short.task_id.unwrap();
    // Ids that are not deliveries of the app are counted failed, one every 20 ms.
    let long_ids: Vec<String> = (1..=500).map(|n| n.to_string()).collect();
    let long = w
        .replay_webhook_deliveries(slug, ReplayWebhookDeliveriesRequest::by_ids(long_ids))
        .await
        .unwrap()
        .task_id
        .unwrap();

    // list_webhook_replay_tasks: newest first.
    let tasks = w
        .list_webhook_replay_tasks(slug, ListWebhookReplayTasksOptions::new())
        .await
        .unwrap();
    let listed: Vec<_> = tasks.data.iter().map(|t| t.task_id.as_str()).collect();
    assert_eq!(listed, [long.as_str(), short.as_str()]);
    assert_eq!(tasks.data[0].total_count, 500);
    assert_eq!(tasks.data[0].app_slug, slug);
    let one = w
        .list_webhook_replay_tasks(
            slug,
            ListWebhookReplayTasksOptions::new().limit(1).offset(1),
        )
        .await
        .unwrap();
    assert_eq!((one.data.len(), one.has_more), (1, false));
    assert_eq!(one.data[0].task_id, short);
    expect_not_found(
        w.list_webhook_replay_tasks("nope", ListWebhookReplayTasksOptions::new())
            .await,
        APP_NOT_FOUND,
    );

    // get_webhook_replay_task_status
    let done = w
        .wait_for_replay_task(
            slug,
            &short,
            WaitOptions::new().poll_interval(POLL).timeout(DEADLINE),
        )
        .await
        .unwrap();
    assert_eq!(done.status, ReplayTaskState::Completed);
    assert_eq!(
        done,
        w.get_webhook_replay_task_status(slug, &short)
            .await
            .unwrap()
    );
    assert_eq!(
        (done.total_count, done.processed, done.replayed_count),
        (1, 1, 1)
    );
    assert_eq!(done.last_delivery_id.as_deref(), Some(ids[0].as_str()));
    assert!(done.created_at.is_some() && done.started_at.is_some() && done.completed_at.is_some());
    expect_not_found(
        w.get_webhook_replay_task_status(slug, NO_SUCH_ID).await,
        "Replay task not found",
    );

    // cancel_webhook_replay_task: the long task stops before its next item.
    let answer = w.cancel_webhook_replay_task(slug, &long).await.unwrap();
    assert_eq!(answer.status, ReplayTaskState::Cancelled);
    assert_eq!(answer.message, "Replay task cancellation requested");
    let cancelled = w
        .wait_for_replay_task(
            slug,
            &long,
            WaitOptions::new().poll_interval(POLL).timeout(DEADLINE),
        )
        .await
        .unwrap();
    assert_eq!(cancelled.status, ReplayTaskState::Cancelled);
    assert!(cancelled.processed < 500);
    expect_not_found(
        w.cancel_webhook_replay_task(slug, NO_SUCH_ID).await,
        "Replay task not found",
    );
    expect_not_found(
        w.cancel_webhook_replay_task("nope", &long).await,
        APP_NOT_FOUND,
    );
    h.shutdown().await;
}

/// The spec: `auto_disabled` is "whether the service deactivated the endpoint itself (410 answer
/// or too many failures)"; production only ever writes `is_active` (P11).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_410_deactivates_the_endpoint_and_only_the_documented_service_marks_it() {
    for behaviour in [Behaviour::Production, Behaviour::Documented] {
        let h = Harness::start_with(|b| b.behaviour(behaviour)).await;
        let fx = h.fixture("gone").await;
        h.receiver.respond(&fx.hook, 410);
        let ids = h.trigger(fx.slug(), ORDER_PAID, json!({})).await;
        h.wait_for_status(fx.slug(), &ids[0], DeliveryStatus::EndpointDisabled)
            .await;
        let endpoints = h
            .webhooks
            .list_webhook_endpoints(
                fx.slug(),
                ListWebhookEndpointsOptions::new().include_inactive(true),
            )
            .await
            .unwrap();
        let endpoint = &endpoints.data[0];
        assert!(!endpoint.is_active, "{behaviour:?}");
        let marked = behaviour == Behaviour::Documented;
        assert_eq!(endpoint.auto_disabled, marked, "{behaviour:?}");
        assert_eq!(endpoint.auto_disabled_at.is_some(), marked, "{behaviour:?}");
        h.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_clear_lists_and_maps_set_empty_and_keep_unset_fields() {
    let h = Harness::start().await;
    let w = &h.webhooks;
    let fx = h.fixture("clearing").await;
    let slug = fx.slug();

    // failure_notification_emails: an unset field keeps the list, `[]` clears it.
    let app = w
        .update_webhook_app(
            slug,
            UpdateWebhookAppRequest::new().failure_notification_emails(["ops@example.com"]),
        )
        .await
        .unwrap();
    assert_eq!(app.failure_notification_emails, ["ops@example.com"]);
    let renamed = w
        .update_webhook_app(slug, UpdateWebhookAppRequest::new().name("Renamed"))
        .await
        .unwrap();
    assert_eq!(renamed.failure_notification_emails, ["ops@example.com"]);
    let cleared = w
        .update_webhook_app(
            slug,
            UpdateWebhookAppRequest::new().failure_notification_emails(Vec::<String>::new()),
        )
        .await
        .unwrap();
    assert!(
        cleared.failure_notification_emails.is_empty(),
        "{cleared:?}"
    );

    // headers: an unset field keeps them, `{}` clears them.
    let id = &fx.endpoint.id;
    let with_header = w
        .update_webhook_endpoint(
            slug,
            id,
            UpdateWebhookEndpointRequest::new().header("x-team", "crm"),
        )
        .await
        .unwrap();
    assert_eq!(with_header.header("x-team"), Some("crm"));
    let described = w
        .update_webhook_endpoint(
            slug,
            id,
            UpdateWebhookEndpointRequest::new().description("Kept"),
        )
        .await
        .unwrap();
    assert_eq!(described.headers, json!({"x-team": "crm"}));
    let cleared = w
        .update_webhook_endpoint(
            slug,
            id,
            UpdateWebhookEndpointRequest::new().headers(BTreeMap::new()),
        )
        .await
        .unwrap();
    assert_eq!(cleared.headers, json!({}));

    // subscriptions: an empty set is sent, and the server refuses it rather than keeping the old set.
    expect_bad_request(
        w.update_webhook_endpoint(
            slug,
            id,
            UpdateWebhookEndpointRequest::new()
                .subscriptions(Vec::<EventSubscriptionRequest>::new()),
        )
        .await,
        "At least one subscription is required",
    );
}

/// A subscription as the server answers it (response models cannot be built field by field).
fn subscription(event_name: &str, filter_rules: serde_json::Value) -> EventSubscription {
    serde_json::from_value(json!({"event_name": event_name, "filter_rules": filter_rules}))
        .expect("a valid subscription")
}

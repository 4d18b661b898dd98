//! What only a scripted server can show: the exact requests the client sends for each of the 31
//! calls (method, raw path, query, headers, body), how it reads answers and errors, when it retries,
//! timeouts, tolerance of unknown values, secrecy of the API key, and the pagination streams against
//! misbehaving servers. Everything goes through the public API; the server is `wiremock`.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write;
use std::pin::pin;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde_json::{Value, json};
use wacht_webhooks::types::EventSubscriptionRequest;
use wacht_webhooks::{
    Client, CreateWebhookAppRequest, CreateWebhookEndpointRequest,
    CreateWebhookEventCatalogRequest, DeliveryStatus, Error, ErrorKind, ListWebhookAppsOptions,
    ListWebhookDeliveriesOptions, ListWebhookEndpointsOptions, ListWebhookReplayTasksOptions,
    ReplayStatusFilter, ReplayTaskState, ReplayWebhookDeliveriesRequest,
    TestWebhookEndpointRequest, TimeseriesInterval, TriggerWebhookEventRequest,
    UpdateWebhookAppRequest, UpdateWebhookEndpointRequest, UpdateWebhookEventCatalogRequest,
    WaitOptions, WebhookAnalyticsOptions, WebhookEventDefinition, WebhookTimeseriesOptions,
    Webhooks,
};
use wiremock::matchers::{any, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "wk_test_K3y_that_must_never_leak_81f0";
const USER_AGENT: &str = concat!("wacht-webhooks-rust/", env!("CARGO_PKG_VERSION"));

/// Path parameters with `/`, space, `#`, `?` and `%`, and how they must look in the raw path.
const SLUG: &str = "acme/bill ing#1";
const SLUG_ENC: &str = "acme%2Fbill%20ing%231";
const ID: &str = "72918/35 01#?%";
const ID_ENC: &str = "72918%2F35%2001%23%3F%25";
const CAT: &str = "billing/v2 #x";
const CAT_ENC: &str = "billing%2Fv2%20%23x";

/// The example of every schema, from the published spec.
static SPEC: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_str(include_str!("../spec/webhooks.json")).unwrap());

fn example(schema: &str) -> Value {
    SPEC["components"]["schemas"][schema]["example"].clone()
}

fn client(server: &MockServer, retries: u32) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .max_retries(retries)
        .build()
        .unwrap()
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn envelope(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({"errors": [{"message": message, "code": status}]}))
}

fn query(req: &Request) -> BTreeMap<String, String> {
    req.url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn body_json(req: &Request) -> Value {
    assert_eq!(
        req.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "a JSON body is announced as such"
    );
    serde_json::from_slice(&req.body).expect("the request body is JSON")
}

/// Runs one call against a server answering 200 with `answer`; returns the call's result and the one
/// request the server got, after checking the headers every request carries.
async fn exchange<T, F, Fut>(answer: Value, call: F) -> (T, Request)
where
    F: FnOnce(Webhooks) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ok(answer))
        .mount(&server)
        .await;
    let result = call(client(&server, 0).webhooks()).await;
    let result = result.unwrap_or_else(|err| panic!("the call failed: {err}"));
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "exactly one request per call");
    let request = requests.remove(0);
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    assert_eq!(header("authorization"), Some(format!("Bearer {KEY}")));
    assert_eq!(header("user-agent").as_deref(), Some(USER_AGENT));
    (result, request)
}

/// Checks the method and the raw (still percent-encoded) path.
fn route(req: &Request, expected_method: &str, expected_path: &str) {
    assert_eq!(req.method.as_str(), expected_method, "{}", req.url);
    assert_eq!(req.url.path(), expected_path);
}

/// A request with neither query string nor body.
fn bare(req: &Request, expected_method: &str, expected_path: &str) {
    route(req, expected_method, expected_path);
    assert_eq!(req.url.query(), None, "no query string");
    assert!(req.body.is_empty(), "no body: {:?}", req.body);
}

/// A request with a JSON body and no query string.
fn with_body(req: &Request, expected_method: &str, expected_path: &str, expected: Value) {
    route(req, expected_method, expected_path);
    assert_eq!(req.url.query(), None, "no query string");
    assert_eq!(body_json(req), expected);
}

// ----- the 31 calls on the wire ---------------------------------------------------------------

#[tokio::test]
async fn create_webhook_app_posts_the_request() {
    let request = CreateWebhookAppRequest::new("Billing events")
        .app_slug("billing_events")
        .description("Invoices and payments")
        .failure_notification_emails(["ops@example.com"])
        .event_catalog_slug("billing");
    let (app, req) = exchange(example("WebhookApp"), |w| async move {
        w.create_webhook_app(request).await
    })
    .await;
    with_body(
        &req,
        "POST",
        "/webhooks/apps",
        json!({
            "name": "Billing events",
            "app_slug": "billing_events",
            "description": "Invoices and payments",
            "failure_notification_emails": ["ops@example.com"],
            "event_catalog_slug": "billing",
        }),
    );
    assert_eq!(app.app_slug, "billing_events");
    assert_eq!(
        app.signing_secret,
        "whsec_MS0tfLkgengXIJCU4OG32EVUMNlU0AsIazBbm8FDVWY="
    );
    assert_eq!(app.created_at, time("2026-06-01T12:00:00.123456Z"));
    assert_eq!(app.failure_notification_emails, ["ops@example.com"]);
}

#[tokio::test]
async fn list_webhook_apps_sends_every_option_and_returns_a_page() {
    let mut answer = example("WebhookAppPage");
    answer["has_more"] = json!(true);
    answer["limit"] = json!(20);
    answer["offset"] = json!(40);
    let options = ListWebhookAppsOptions::new()
        .limit(20)
        .offset(40)
        .include_inactive(true)
        .search("billing events&x=1+2");
    let (page, req) = exchange(
        answer,
        |w| async move { w.list_webhook_apps(options).await },
    )
    .await;
    route(&req, "GET", "/webhooks/apps");
    assert!(req.body.is_empty());
    let expected: BTreeMap<String, String> = [
        ("include_inactive", "true"),
        ("limit", "20"),
        ("offset", "40"),
        ("search", "billing events&x=1+2"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(query(&req), expected);
    assert!(page.has_more);
    assert_eq!((page.limit, page.offset), (Some(20), Some(40)));
    assert_eq!(page.data.len(), 1);
    assert_eq!(page.data[0].app_slug, "billing_events");
    assert_eq!(page.data[0].description, None);
}

#[tokio::test]
async fn default_options_send_no_query_string() {
    let (page, req) = exchange(example("WebhookAppPage"), |w| async move {
        w.list_webhook_apps(ListWebhookAppsOptions::default()).await
    })
    .await;
    bare(&req, "GET", "/webhooks/apps");
    assert!(!page.has_more);
    let (_, req) = exchange(example("WebhookDeliveryPage"), |w| async move {
        w.list_webhook_deliveries(SLUG, ListWebhookDeliveriesOptions::default())
            .await
    })
    .await;
    bare(
        &req,
        "GET",
        &format!("/webhooks/apps/{SLUG_ENC}/deliveries"),
    );
}

#[tokio::test]
async fn get_webhook_app_encodes_the_slug() {
    let (app, req) = exchange(example("WebhookApp"), |w| async move {
        w.get_webhook_app(SLUG).await
    })
    .await;
    bare(&req, "GET", &format!("/webhooks/apps/{SLUG_ENC}"));
    assert_eq!(app.name, "Billing events");
    assert_eq!(app.event_catalog_slug.as_deref(), Some("billing"));
}

#[tokio::test]
async fn update_webhook_app_patches_only_the_given_fields() {
    let request = UpdateWebhookAppRequest::new()
        .name("Billing")
        .is_active(false);
    let mut answer = example("WebhookApp");
    answer["is_active"] = json!(false);
    let (app, req) = exchange(answer, |w| async move {
        w.update_webhook_app(SLUG, request).await
    })
    .await;
    with_body(
        &req,
        "PATCH",
        &format!("/webhooks/apps/{SLUG_ENC}"),
        json!({"name": "Billing", "is_active": false}),
    );
    assert!(!app.is_active);
}

#[tokio::test]
async fn delete_webhook_app_returns_unit() {
    let ((), req) = exchange(example("EmptyObject"), |w| async move {
        w.delete_webhook_app(SLUG).await
    })
    .await;
    bare(&req, "DELETE", &format!("/webhooks/apps/{SLUG_ENC}"));
}

#[tokio::test]
async fn rotate_webhook_secret_posts_without_a_body() {
    let mut answer = example("WebhookApp");
    answer["signing_secret"] = json!("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let (app, req) = exchange(
        answer,
        |w| async move { w.rotate_webhook_secret(SLUG).await },
    )
    .await;
    bare(
        &req,
        "POST",
        &format!("/webhooks/apps/{SLUG_ENC}/rotate-secret"),
    );
    assert_eq!(
        app.signing_secret,
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    );
}

#[tokio::test]
async fn create_webhook_endpoint_fills_app_slug_from_the_path() {
    let mut request = CreateWebhookEndpointRequest::new("https://hooks.example.com/wacht")
        .subscribe("invoice.paid")
        .subscribe_filtered("invoice.failed", json!({"amount": {"$gte": 1000}}))
        .description("Accounting service")
        .header("X-Tenant", "acme")
        .max_retries(5)
        .timeout_seconds(10)
        .rate_limit(20, Duration::from_secs(1));
    // Whatever the caller put there, the path's slug wins.
    request.app_slug = "someone_else".into();
    let (endpoint, req) = exchange(example("WebhookEndpoint"), |w| async move {
        w.create_webhook_endpoint(SLUG, request).await
    })
    .await;
    with_body(
        &req,
        "POST",
        &format!("/webhooks/apps/{SLUG_ENC}/endpoints"),
        json!({
            "app_slug": SLUG,
            "url": "https://hooks.example.com/wacht",
            "subscriptions": [
                {"event_name": "invoice.paid"},
                {"event_name": "invoice.failed", "filter_rules": {"amount": {"$gte": 1000}}},
            ],
            "description": "Accounting service",
            "headers": {"X-Tenant": "acme"},
            "max_retries": 5,
            "timeout_seconds": 10,
            "rate_limit_config": {"duration_ms": 1000, "max_requests": 20},
        }),
    );
    assert_eq!(endpoint.id, "7291835012917346304");
    assert!(
        endpoint.subscriptions.is_empty(),
        "create answers leave subscriptions out"
    );
    assert_eq!(endpoint.rate_limit_config.unwrap().max_requests, 20);
}

#[tokio::test]
async fn list_webhook_endpoints_sends_its_options() {
    let options = ListWebhookEndpointsOptions::new()
        .limit(10)
        .offset(0)
        .include_inactive(false);
    let (page, req) = exchange(example("WebhookEndpointPage"), |w| async move {
        w.list_webhook_endpoints(SLUG, options).await
    })
    .await;
    route(&req, "GET", &format!("/webhooks/apps/{SLUG_ENC}/endpoints"));
    let q = query(&req);
    assert_eq!(q["limit"], "10");
    assert_eq!(q["offset"], "0");
    assert_eq!(q["include_inactive"], "false");
    assert_eq!(q.len(), 3);
    assert_eq!(
        (page.limit, page.offset, page.has_more),
        (Some(100), Some(0), false)
    );
    assert_eq!(page.data[0].subscriptions[0].event_name, "invoice.paid");
}

#[tokio::test]
async fn update_webhook_endpoint_patches_the_endpoint() {
    let request = UpdateWebhookEndpointRequest::new()
        .url("https://hooks.example.com/v2")
        .is_active(false)
        .subscriptions([EventSubscriptionRequest::new("invoice.paid").filter_rules(json!({}))]);
    let (endpoint, req) = exchange(example("WebhookEndpoint"), |w| async move {
        w.update_webhook_endpoint(SLUG, ID, request).await
    })
    .await;
    with_body(
        &req,
        "PATCH",
        &format!("/webhooks/apps/{SLUG_ENC}/endpoints/{ID_ENC}"),
        json!({
            "url": "https://hooks.example.com/v2",
            "is_active": false,
            "subscriptions": [{"event_name": "invoice.paid", "filter_rules": {}}],
        }),
    );
    assert_eq!(endpoint.url, "https://hooks.example.com/wacht");
}

#[tokio::test]
async fn delete_webhook_endpoint_returns_unit() {
    let ((), req) = exchange(json!({}), |w| async move {
        w.delete_webhook_endpoint(SLUG, ID).await
    })
    .await;
    bare(
        &req,
        "DELETE",
        &format!("/webhooks/apps/{SLUG_ENC}/endpoints/{ID_ENC}"),
    );
}

#[tokio::test]
async fn test_webhook_endpoint_posts_event_and_payload() {
    let request = TestWebhookEndpointRequest::new("invoice.paid").payload(json!({"amount": 1}));
    let (answer, req) = exchange(example("TestWebhookEndpointResponse"), |w| async move {
        w.test_webhook_endpoint(SLUG, ID, request).await
    })
    .await;
    with_body(
        &req,
        "POST",
        &format!("/webhooks/apps/{SLUG_ENC}/endpoints/{ID_ENC}/test"),
        json!({"event_name": "invoice.paid", "payload": {"amount": 1}}),
    );
    assert!(answer.success);
    assert_eq!(answer.status_code, 202);
    assert_eq!(answer.error, None);
}

#[tokio::test]
async fn reactivate_webhook_endpoint_has_no_app_in_its_path() {
    let (answer, req) = exchange(example("ReactivateEndpointResponse"), |w| async move {
        w.reactivate_webhook_endpoint(ID).await
    })
    .await;
    bare(
        &req,
        "POST",
        &format!("/webhooks/endpoints/{ID_ENC}/reactivate"),
    );
    assert!(answer.success);
    assert!(answer.message.contains("reactivated"));
}

#[tokio::test]
async fn list_webhook_deliveries_sends_filters_and_rfc3339_times() {
    // Offsets other than UTC and fractional seconds: what goes out must parse back to the instant.
    let since = time("2026-06-01T14:00:00.123456+02:00");
    let until = time("2026-06-01T23:59:59.5-05:30");
    let options = ListWebhookDeliveriesOptions::new()
        .limit(25)
        .offset(50)
        .status(DeliveryStatus::PermanentlyFailed)
        .event_name("invoice.paid&x=1+2")
        .endpoint_id(ID)
        .since(since)
        .until(until);
    let (page, req) = exchange(example("WebhookDeliveryPage"), |w| async move {
        w.list_webhook_deliveries(SLUG, options).await
    })
    .await;
    route(
        &req,
        "GET",
        &format!("/webhooks/apps/{SLUG_ENC}/deliveries"),
    );
    assert!(req.body.is_empty());
    let q = query(&req);
    assert_eq!(q.len(), 7, "{q:?}");
    assert_eq!(q["limit"], "25");
    assert_eq!(q["offset"], "50");
    assert_eq!(q["status"], "permanently_failed");
    assert_eq!(q["event_name"], "invoice.paid&x=1+2");
    assert_eq!(q["endpoint_id"], ID);
    assert_eq!(time(&q["since"]), since);
    assert_eq!(time(&q["until"]), until);
    assert!(page.has_more);
    assert_eq!((page.limit, page.offset), (Some(1), Some(0)));
    assert_eq!(page.data[0].status, DeliveryStatus::Success);
    assert_eq!(page.data[0].http_status_code, Some(200));
}

#[tokio::test]
async fn get_webhook_delivery_returns_details() {
    let (delivery, req) = exchange(example("WebhookDeliveryDetails"), |w| async move {
        w.get_webhook_delivery(SLUG, ID).await
    })
    .await;
    bare(
        &req,
        "GET",
        &format!("/webhooks/apps/{SLUG_ENC}/deliveries/{ID_ENC}"),
    );
    assert_eq!(delivery.delivery_id, "7291836620163923968");
    assert_eq!(delivery.payload["data"]["invoice_id"], "inv_1042");
    assert_eq!(delivery.response_body.as_deref(), Some("{\"ok\":true}"));
}

#[tokio::test]
async fn replay_webhook_delivery_uses_the_bulk_route_with_a_key() {
    let (answer, req) = exchange(example("ReplayWebhookDeliveryResponse"), |w| async move {
        w.replay_webhook_delivery(SLUG, ID).await
    })
    .await;
    route(
        &req,
        "POST",
        &format!("/webhooks/apps/{SLUG_ENC}/deliveries/replay"),
    );
    assert_eq!(req.url.query(), None);
    let body = body_json(&req);
    let fields: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["delivery_ids", "idempotency_key"]);
    assert_eq!(body["delivery_ids"], json!([ID]));
    let key = body["idempotency_key"].as_str().unwrap();
    assert!(!key.trim().is_empty());
    assert_eq!(answer.status, ReplayTaskState::Queued);
    assert_eq!(answer.task_id.as_deref(), Some("7291840133570707456"));
}

#[tokio::test]
async fn replay_webhook_deliveries_sends_either_shape() {
    let start = time("2026-06-01T00:00:00Z");
    let end = time("2026-06-02T00:00:00.25+01:00");
    let request = ReplayWebhookDeliveriesRequest::by_date_range(start, Some(end))
        .status(ReplayStatusFilter::Failed)
        .event_name("invoice.paid")
        .endpoint_id(ID)
        .idempotency_key("incident-42");
    let (answer, req) = exchange(example("ReplayWebhookDeliveryResponse"), |w| async move {
        w.replay_webhook_deliveries(SLUG, request).await
    })
    .await;
    route(
        &req,
        "POST",
        &format!("/webhooks/apps/{SLUG_ENC}/deliveries/replay"),
    );
    let body = body_json(&req);
    assert_eq!(body.as_object().unwrap().len(), 6, "{body}");
    assert_eq!(time(body["start_date"].as_str().unwrap()), start);
    assert_eq!(time(body["end_date"].as_str().unwrap()), end);
    assert_eq!(body["status"], "failed");
    assert_eq!(body["event_name"], "invoice.paid");
    assert_eq!(body["endpoint_id"], ID);
    assert_eq!(body["idempotency_key"], "incident-42");
    assert_eq!(answer.message, "Replay queued");

    let request = ReplayWebhookDeliveriesRequest::by_ids(["1", "2"]).idempotency_key("k-1");
    let (_, req) = exchange(example("ReplayWebhookDeliveryResponse"), |w| async move {
        w.replay_webhook_deliveries(SLUG, request).await
    })
    .await;
    with_body(
        &req,
        "POST",
        &format!("/webhooks/apps/{SLUG_ENC}/deliveries/replay"),
        json!({"delivery_ids": ["1", "2"], "idempotency_key": "k-1"}),
    );
}

#[tokio::test]
async fn trigger_webhook_event_fills_app_slug_from_the_path() {
    let request = TriggerWebhookEventRequest::new(
        "invoice.paid",
        json!({"invoice_id": "inv_1042", "amount": 4200}),
    )
    .filter_context(json!({"region": "eu"}));
    let (answer, req) = exchange(example("TriggerWebhookEventResponse"), |w| async move {
        w.trigger_webhook_event(SLUG, request).await
    })
    .await;
    with_body(
        &req,
        "POST",
        &format!("/webhooks/apps/{SLUG_ENC}/trigger"),
        json!({
            "app_slug": SLUG,
            "event_name": "invoice.paid",
            "payload": {"invoice_id": "inv_1042", "amount": 4200},
            "filter_context": {"region": "eu"},
        }),
    );
    assert_eq!(answer.delivered_count, 2);
    assert_eq!(answer.filtered_count, 1);
    assert_eq!(answer.delivery_ids.len(), 2);
}

#[tokio::test]
async fn get_webhook_stats_reads_the_stats() {
    let (stats, req) = exchange(example("WebhookStats"), |w| async move {
        w.get_webhook_stats(SLUG).await
    })
    .await;
    bare(&req, "GET", &format!("/webhooks/apps/{SLUG_ENC}/stats"));
    assert_eq!(stats.total_deliveries, 1250);
    assert_eq!(stats.success_rate, 98.4);
}

#[tokio::test]
async fn get_webhook_analytics_sends_the_window() {
    let start = time("2026-05-01T00:00:00Z");
    let end = time("2026-06-01T06:30:00.75+06:30");
    let options = WebhookAnalyticsOptions::new()
        .endpoint_id(ID)
        .start_date(start)
        .end_date(end);
    let (analytics, req) = exchange(example("WebhookAnalytics"), |w| async move {
        w.get_webhook_analytics(SLUG, options).await
    })
    .await;
    route(&req, "GET", &format!("/webhooks/apps/{SLUG_ENC}/analytics"));
    let q = query(&req);
    assert_eq!(q.len(), 3, "{q:?}");
    assert_eq!(q["endpoint_id"], ID);
    assert_eq!(time(&q["start_date"]), start);
    assert_eq!(time(&q["end_date"]), end);
    assert_eq!(analytics.p95_response_time_ms, Some(310.0));
    assert_eq!(analytics.top_events[0].event_name, "invoice.paid");
    assert_eq!(analytics.failure_reasons.len(), 2);
}

#[tokio::test]
async fn get_webhook_timeseries_sends_the_interval() {
    let start = time("2026-05-31T00:00:00Z");
    let end = time("2026-06-01T00:00:00Z");
    let options = WebhookTimeseriesOptions::new()
        .interval(TimeseriesInterval::Hour)
        .endpoint_id("7291835012917346304")
        .start_date(start)
        .end_date(end);
    let (series, req) = exchange(example("WebhookTimeseries"), |w| async move {
        w.get_webhook_timeseries(SLUG, options).await
    })
    .await;
    route(
        &req,
        "GET",
        &format!("/webhooks/apps/{SLUG_ENC}/timeseries"),
    );
    let q = query(&req);
    assert_eq!(q.len(), 4, "{q:?}");
    assert_eq!(q["interval"], "hour");
    assert_eq!(q["endpoint_id"], "7291835012917346304");
    assert_eq!(time(&q["start_date"]), start);
    assert_eq!(time(&q["end_date"]), end);
    assert_eq!(series.interval, TimeseriesInterval::Day);
    assert_eq!(series.data[0].total_deliveries, 180);
}

#[tokio::test]
async fn list_webhook_events_unwraps_the_events() {
    let (events, req) = exchange(example("WebhookAppEventList"), |w| async move {
        w.list_webhook_events(SLUG).await
    })
    .await;
    bare(&req, "GET", &format!("/webhooks/apps/{SLUG_ENC}/events"));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_name, "invoice.paid");
    assert_eq!(events[0].schema, Value::Null);
}

#[tokio::test]
async fn get_webhook_catalog_reads_the_apps_catalog() {
    let (catalog, req) = exchange(example("WebhookEventCatalog"), |w| async move {
        w.get_webhook_catalog(SLUG).await
    })
    .await;
    bare(&req, "GET", &format!("/webhooks/apps/{SLUG_ENC}/catalog"));
    assert_eq!(catalog.slug, "billing");
    assert_eq!(catalog.events.len(), 2);
    assert!(catalog.events[1].is_archived);
}

#[tokio::test]
async fn list_webhook_event_catalogs_returns_a_page_without_limit_and_offset() {
    let (page, req) = exchange(example("WebhookEventCatalogPage"), |w| async move {
        w.list_webhook_event_catalogs().await
    })
    .await;
    bare(&req, "GET", "/webhooks/event-catalogs");
    assert!(!page.has_more);
    assert_eq!((page.limit, page.offset), (None, None));
    assert_eq!(page.data[0].slug, "billing");
}

#[tokio::test]
async fn create_webhook_event_catalog_posts_the_events() {
    let request = CreateWebhookEventCatalogRequest::new(CAT, "Billing")
        .description("Events of the billing service")
        .event(
            WebhookEventDefinition::new("invoice.paid", "An invoice was paid in full.")
                .group("invoices")
                .schema(json!({"type": "object"}))
                .example_payload(json!({"amount": 4200})),
        )
        .event(WebhookEventDefinition::new(
            "invoice.failed",
            "A payment failed.",
        ));
    let (catalog, req) = exchange(example("WebhookEventCatalog"), |w| async move {
        w.create_webhook_event_catalog(request).await
    })
    .await;
    with_body(
        &req,
        "POST",
        "/webhooks/event-catalogs",
        json!({
            "slug": CAT,
            "name": "Billing",
            "description": "Events of the billing service",
            "events": [
                {
                    "name": "invoice.paid",
                    "description": "An invoice was paid in full.",
                    "group": "invoices",
                    "schema": {"type": "object"},
                    "example_payload": {"amount": 4200},
                },
                {"name": "invoice.failed", "description": "A payment failed."},
            ],
        }),
    );
    assert_eq!(catalog.name, "Billing");
}

#[tokio::test]
async fn get_webhook_event_catalog_encodes_the_slug() {
    let (catalog, req) = exchange(example("WebhookEventCatalog"), |w| async move {
        w.get_webhook_event_catalog(CAT).await
    })
    .await;
    bare(&req, "GET", &format!("/webhooks/event-catalogs/{CAT_ENC}"));
    assert_eq!(catalog.updated_at, time("2026-06-01T11:59:10Z"));
}

#[tokio::test]
async fn update_webhook_event_catalog_puts() {
    let request = UpdateWebhookEventCatalogRequest::new()
        .name("Billing v2")
        .description("More events");
    let (_, req) = exchange(example("WebhookEventCatalog"), |w| async move {
        w.update_webhook_event_catalog(CAT, request).await
    })
    .await;
    with_body(
        &req,
        "PUT",
        &format!("/webhooks/event-catalogs/{CAT_ENC}"),
        json!({"name": "Billing v2", "description": "More events"}),
    );
}

#[tokio::test]
async fn append_webhook_event_catalog_events_posts_events() {
    let events = vec![WebhookEventDefinition::new(
        "invoice.refunded",
        "An invoice was refunded.",
    )];
    let (catalog, req) = exchange(example("WebhookEventCatalog"), |w| async move {
        w.append_webhook_event_catalog_events(CAT, events).await
    })
    .await;
    with_body(
        &req,
        "POST",
        &format!("/webhooks/event-catalogs/{CAT_ENC}/append-events"),
        json!({"events": [{
            "name": "invoice.refunded",
            "description": "An invoice was refunded.",
        }]}),
    );
    assert_eq!(catalog.events[0].name, "invoice.paid");
}

#[tokio::test]
async fn archive_webhook_event_in_catalog_posts_name_and_flag() {
    let (_, req) = exchange(example("WebhookEventCatalog"), |w| async move {
        w.archive_webhook_event_in_catalog(CAT, "invoice.failed", true)
            .await
    })
    .await;
    with_body(
        &req,
        "POST",
        &format!("/webhooks/event-catalogs/{CAT_ENC}/archive-event"),
        json!({"event_name": "invoice.failed", "is_archived": true}),
    );
    let (_, req) = exchange(example("WebhookEventCatalog"), |w| async move {
        w.archive_webhook_event_in_catalog(CAT, "invoice.failed", false)
            .await
    })
    .await;
    assert_eq!(
        body_json(&req),
        json!({"event_name": "invoice.failed", "is_archived": false})
    );
}

#[tokio::test]
async fn list_webhook_replay_tasks_sends_limit_and_offset() {
    let options = ListWebhookReplayTasksOptions::new().limit(5).offset(15);
    let (page, req) = exchange(example("ReplayTaskStatusPage"), |w| async move {
        w.list_webhook_replay_tasks(SLUG, options).await
    })
    .await;
    route(
        &req,
        "GET",
        &format!("/webhooks/apps/{SLUG_ENC}/deliveries/replay"),
    );
    let q = query(&req);
    assert_eq!(q.len(), 2);
    assert_eq!((q["limit"].as_str(), q["offset"].as_str()), ("5", "15"));
    assert_eq!((page.limit, page.offset), (Some(20), Some(0)));
    assert_eq!(page.data[0].status, ReplayTaskState::Running);
    assert_eq!(page.data[0].completed_at, None);
}

#[tokio::test]
async fn get_webhook_replay_task_status_reads_the_task() {
    let (task, req) = exchange(example("ReplayTaskStatus"), |w| async move {
        w.get_webhook_replay_task_status(SLUG, ID).await
    })
    .await;
    bare(
        &req,
        "GET",
        &format!("/webhooks/apps/{SLUG_ENC}/deliveries/replay/{ID_ENC}"),
    );
    assert_eq!(task.status, ReplayTaskState::Completed);
    assert_eq!((task.replayed_count, task.failed_count), (1, 1));
}

#[tokio::test]
async fn cancel_webhook_replay_task_posts_without_a_body() {
    let (answer, req) = exchange(example("CancelReplayTaskResponse"), |w| async move {
        w.cancel_webhook_replay_task(SLUG, ID).await
    })
    .await;
    bare(
        &req,
        "POST",
        &format!("/webhooks/apps/{SLUG_ENC}/deliveries/replay/{ID_ENC}/cancel"),
    );
    assert_eq!(answer.status, ReplayTaskState::Cancelled);
}

#[tokio::test]
async fn a_base_url_with_a_path_and_trailing_slash_keeps_its_path() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ok(example("WebhookApp")))
        .mount(&server)
        .await;
    let webhooks = Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/api/", server.uri()))
        .build()
        .unwrap()
        .webhooks();
    webhooks.get_webhook_app("billing").await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[0].url.path(), "/api/webhooks/apps/billing");
}

/// `.` and `..` are path segments a URL parser removes; sent as they are, they would address another
/// resource (`delete_webhook_endpoint(app, "..")` would become `DELETE /webhooks/apps/{app}`).
#[tokio::test]
async fn dot_segments_in_path_parameters_never_reach_another_route() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ok(json!({})))
        .mount(&server)
        .await;
    let webhooks = client(&server, 0).webhooks();
    let err = webhooks
        .delete_webhook_endpoint("billing", "..")
        .await
        .expect_err("an id of `..` is not sent");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = webhooks.delete_webhook_app(".").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = webhooks.get_webhook_app("").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "nothing was sent"
    );
    // Dots inside a segment are ordinary characters.
    webhooks.delete_webhook_app("..billing..").await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[0].url.path(), "/webhooks/apps/..billing..");
}

// ----- errors ---------------------------------------------------------------------------------

#[tokio::test]
async fn error_envelopes_map_to_kinds_statuses_and_messages() {
    let cases = [
        (400, ErrorKind::BadRequest, false),
        (401, ErrorKind::Unauthorized, false),
        (403, ErrorKind::Forbidden, false),
        (404, ErrorKind::NotFound, false),
        (409, ErrorKind::Conflict, false),
        (422, ErrorKind::Unprocessable, false),
        (429, ErrorKind::RateLimited, true),
        (500, ErrorKind::Server, false),
        (503, ErrorKind::Server, true),
    ];
    let server = MockServer::start().await;
    let webhooks = client(&server, 0).webhooks();
    for (status, kind, retryable) in cases {
        server.reset().await;
        let message = format!("Server says no ({status})");
        Mock::given(any())
            .respond_with(envelope(status, &message))
            .mount(&server)
            .await;
        let err = webhooks.get_webhook_app("billing").await.unwrap_err();
        assert_eq!(err.kind(), kind, "{status}: {err}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.messages(), std::slice::from_ref(&message));
        assert_eq!(err.body_snippet(), None);
        assert_eq!(err.operation(), Some("get_webhook_app"));
        assert_eq!(err.is_retryable(), retryable, "{status}");
        let text = err.to_string();
        assert!(text.contains("get_webhook_app"), "{text}");
        assert!(text.contains(&status.to_string()), "{text}");
        assert!(text.contains(&message), "{text}");
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn every_message_of_the_envelope_is_kept_in_order() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "errors": [
                {"message": "Maximum 500 delivery IDs are allowed per replay", "code": 400},
                {"message": "second", "code": 400, "field": "delivery_ids"},
            ],
            "request_id": "req_1",
        })))
        .mount(&server)
        .await;
    let err = client(&server, 0)
        .webhooks()
        .replay_webhook_delivery("billing", "1")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert_eq!(
        err.messages(),
        ["Maximum 500 delivery IDs are allowed per replay", "second"]
    );
    assert!(
        err.to_string().contains("Maximum 500 delivery IDs"),
        "{err}"
    );
    assert!(err.to_string().contains("second"), "{err}");
}

#[tokio::test]
async fn non_envelope_error_bodies_keep_the_status_and_a_snippet() {
    let server = MockServer::start().await;
    let webhooks = client(&server, 0).webhooks();
    let html = format!(
        "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n{}</body></html>",
        "<!-- padding -->\n".repeat(100)
    );
    let cases: Vec<(u16, ResponseTemplate, ErrorKind, Option<&str>)> = vec![
        (
            502,
            ResponseTemplate::new(502).set_body_raw(html.clone(), "text/html"),
            ErrorKind::Server,
            Some("502 Bad Gateway"),
        ),
        (500, ResponseTemplate::new(500), ErrorKind::Server, None),
        (
            400,
            ResponseTemplate::new(400).set_body_raw("bad things happened", "text/plain"),
            ErrorKind::BadRequest,
            Some("bad things happened"),
        ),
        (
            404,
            ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
            ErrorKind::NotFound,
            Some("Not Found"),
        ),
        (
            503,
            ResponseTemplate::new(503)
                .set_body_raw(vec![0xff, 0xfe, b'x'], "application/octet-stream"),
            ErrorKind::Server,
            Some("x"),
        ),
    ];
    for (status, answer, kind, snippet) in cases {
        server.reset().await;
        Mock::given(any()).respond_with(answer).mount(&server).await;
        let err = webhooks.get_webhook_app("billing").await.unwrap_err();
        assert_eq!(err.kind(), kind, "{status}: {err}");
        assert_eq!(err.status(), Some(status));
        assert!(err.messages().is_empty(), "{:?}", err.messages());
        let text = err.to_string();
        assert!(text.contains(&status.to_string()), "{text}");
        match snippet {
            Some(part) => {
                let got = err.body_snippet().expect("a snippet of the body");
                assert!(got.contains(part), "{got}");
                assert!(got.chars().count() <= 201, "short: {}", got.len());
                assert!(!got.contains('\n'));
                assert!(text.contains(part), "{text}");
            }
            None => assert_eq!(err.body_snippet(), None),
        }
    }
}

#[tokio::test]
async fn malformed_success_bodies_are_decode_errors() {
    let server = MockServer::start().await;
    let webhooks = client(&server, 0).webhooks();
    let answers = [
        ResponseTemplate::new(200).set_body_raw("{\"app_slug\": \"billing\", ", "application/json"),
        ResponseTemplate::new(200).set_body_raw("<html>maintenance</html>", "text/html"),
        ResponseTemplate::new(200).set_body_json(json!({"app_slug": 42})),
        ResponseTemplate::new(200),
    ];
    for answer in answers {
        server.reset().await;
        Mock::given(any()).respond_with(answer).mount(&server).await;
        let err = webhooks.get_webhook_app("billing").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("get_webhook_app"), "{err}");
    }
}

#[tokio::test]
async fn statuses_the_api_does_not_use_are_not_reported_as_bad_requests() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(201).set_body_json(example("WebhookApp")))
        .mount(&server)
        .await;
    let err = client(&server, 0)
        .webhooks()
        .get_webhook_app("billing")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(201));
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("201"), "{err}");
}

// ----- retries --------------------------------------------------------------------------------

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

#[tokio::test]
async fn rate_limit_with_retry_after_is_retried_once() {
    for wait in ["0", "1"] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(envelope(429, "Rate limit exceeded").insert_header("retry-after", wait))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(ok(example("WebhookApp")))
            .expect(1)
            .mount(&server)
            .await;
        let app = client(&server, 2)
            .webhooks()
            .get_webhook_app("billing")
            .await
            .unwrap();
        assert_eq!(app.app_slug, "billing_events");
        assert_eq!(requests(&server).await.len(), 2, "Retry-After: {wait}");
        server.verify().await;
    }
}

#[tokio::test]
async fn rate_limit_without_retry_after_is_retried_with_backoff() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(envelope(429, "Rate limit exceeded"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ok(example("WebhookStats")))
        .mount(&server)
        .await;
    let stats = client(&server, 1)
        .webhooks()
        .get_webhook_stats("billing")
        .await
        .unwrap();
    assert_eq!(stats.active_endpoints, 3);
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn persistent_503_fails_after_max_retries_plus_one_requests() {
    for retries in [0u32, 2] {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(envelope(503, "Something went wrong").insert_header("retry-after", "0"))
            .expect(u64::from(retries) + 1)
            .mount(&server)
            .await;
        let err = client(&server, retries)
            .webhooks()
            .list_webhook_events("billing")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert_eq!(err.status(), Some(503));
        assert_eq!(err.messages(), ["Something went wrong"]);
        assert!(err.is_retryable());
        assert_eq!(requests(&server).await.len(), retries as usize + 1);
        server.verify().await;
    }
}

#[tokio::test]
async fn gateway_errors_without_retry_after_are_retried() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(502).set_body_raw("<html>bad gateway</html>", "text/html"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(504))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ok(example("WebhookEventCatalog")))
        .mount(&server)
        .await;
    let catalog = client(&server, 2)
        .webhooks()
        .get_webhook_catalog("billing")
        .await
        .unwrap();
    assert_eq!(catalog.slug, "billing");
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn retry_after_beyond_the_cap_is_reported_not_waited() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            envelope(429, "Rate limit exceeded. Retry after 120 seconds")
                .insert_header("retry-after", "120"),
        )
        .mount(&server)
        .await;
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        client(&server, 3).webhooks().get_webhook_app("billing"),
    )
    .await
    .expect("the client does not wait two minutes")
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert!(err.is_retryable());
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn client_errors_are_never_retried() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(envelope(404, "Webhook app not found"))
        .mount(&server)
        .await;
    let err = client(&server, 3)
        .webhooks()
        .get_webhook_app("billing")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn trigger_is_never_retried_once_the_server_saw_it() {
    for (status, retry_after) in [(503, Some("0")), (429, Some("0")), (502, None), (500, None)] {
        let server = MockServer::start().await;
        let mut answer = envelope(status, "Something went wrong");
        if let Some(wait) = retry_after {
            answer = answer.insert_header("retry-after", wait);
        }
        Mock::given(any())
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server, 3)
            .webhooks()
            .trigger_webhook_event(
                "billing",
                TriggerWebhookEventRequest::new("invoice.paid", json!({"n": 1})),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(status));
        assert_eq!(requests(&server).await.len(), 1, "{status}");
        server.verify().await;
    }
}

/// POST (except replay) and PATCH are not repeatable: one request, whatever the answer.
#[tokio::test]
async fn other_writes_are_not_retried_on_503() {
    let server = MockServer::start().await;
    let webhooks = client(&server, 3).webhooks();
    let calls: Vec<(&str, Result<(), Error>)> = {
        let mut calls = Vec::new();
        for name in [
            "create_webhook_app",
            "update_webhook_app",
            "rotate_webhook_secret",
            "create_webhook_endpoint",
            "update_webhook_endpoint",
            "test_webhook_endpoint",
            "reactivate_webhook_endpoint",
            "cancel_webhook_replay_task",
            "create_webhook_event_catalog",
            "append_webhook_event_catalog_events",
            "archive_webhook_event_in_catalog",
        ] {
            server.reset().await;
            Mock::given(any())
                .respond_with(
                    envelope(503, "Something went wrong").insert_header("retry-after", "0"),
                )
                .mount(&server)
                .await;
            let result = match name {
                "create_webhook_app" => webhooks
                    .create_webhook_app(CreateWebhookAppRequest::new("x"))
                    .await
                    .map(drop),
                "update_webhook_app" => webhooks
                    .update_webhook_app("x", UpdateWebhookAppRequest::new().name("y"))
                    .await
                    .map(drop),
                "rotate_webhook_secret" => webhooks.rotate_webhook_secret("x").await.map(drop),
                "create_webhook_endpoint" => webhooks
                    .create_webhook_endpoint(
                        "x",
                        CreateWebhookEndpointRequest::new("https://e.example").subscribe("a"),
                    )
                    .await
                    .map(drop),
                "update_webhook_endpoint" => webhooks
                    .update_webhook_endpoint(
                        "x",
                        "1",
                        UpdateWebhookEndpointRequest::new().is_active(true),
                    )
                    .await
                    .map(drop),
                "test_webhook_endpoint" => webhooks
                    .test_webhook_endpoint("x", "1", TestWebhookEndpointRequest::new("a"))
                    .await
                    .map(drop),
                "reactivate_webhook_endpoint" => {
                    webhooks.reactivate_webhook_endpoint("1").await.map(drop)
                }
                "cancel_webhook_replay_task" => webhooks
                    .cancel_webhook_replay_task("x", "1")
                    .await
                    .map(drop),
                "create_webhook_event_catalog" => webhooks
                    .create_webhook_event_catalog(CreateWebhookEventCatalogRequest::new("c", "C"))
                    .await
                    .map(drop),
                "append_webhook_event_catalog_events" => webhooks
                    .append_webhook_event_catalog_events(
                        "c",
                        vec![WebhookEventDefinition::new("a", "b")],
                    )
                    .await
                    .map(drop),
                "archive_webhook_event_in_catalog" => webhooks
                    .archive_webhook_event_in_catalog("c", "a", true)
                    .await
                    .map(drop),
                _ => unreachable!(),
            };
            assert_eq!(requests(&server).await.len(), 1, "{name} was retried");
            calls.push((name, result));
        }
        calls
    };
    for (name, result) in calls {
        let err = result.expect_err(name);
        assert_eq!(err.kind(), ErrorKind::Server, "{name}");
        assert_eq!(err.operation(), Some(name));
    }
}

#[tokio::test]
async fn get_put_and_delete_are_retried() {
    let server = MockServer::start().await;
    let webhooks = client(&server, 2).webhooks();
    for verb in ["GET", "PUT", "DELETE"] {
        server.reset().await;
        Mock::given(method(verb))
            .respond_with(envelope(503, "Something went wrong").insert_header("retry-after", "0"))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        let answer = if verb == "DELETE" {
            json!({})
        } else {
            example("WebhookEventCatalog")
        };
        Mock::given(method(verb))
            .respond_with(ok(answer))
            .mount(&server)
            .await;
        match verb {
            "GET" => drop(webhooks.get_webhook_event_catalog("billing").await.unwrap()),
            "PUT" => drop(
                webhooks
                    .update_webhook_event_catalog(
                        "billing",
                        UpdateWebhookEventCatalogRequest::new().name("B"),
                    )
                    .await
                    .unwrap(),
            ),
            _ => webhooks
                .delete_webhook_endpoint("billing", "1")
                .await
                .unwrap(),
        }
        let seen = requests(&server).await;
        assert_eq!(seen.len(), 2, "{verb}");
        assert!(seen.iter().all(|r| r.method.as_str() == verb));
        assert_eq!(seen[0].body, seen[1].body, "the retry sends the same body");
    }
}

#[tokio::test]
async fn replay_is_retried_with_the_same_idempotency_key() {
    let server = MockServer::start().await;
    let replay_path = "/webhooks/apps/billing/deliveries/replay";
    Mock::given(method("POST"))
        .and(path(replay_path))
        .respond_with(envelope(503, "Something went wrong").insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(replay_path))
        .respond_with(ok(example("ReplayWebhookDeliveryResponse")))
        .mount(&server)
        .await;
    let webhooks = client(&server, 2).webhooks();
    let answer = webhooks
        .replay_webhook_delivery("billing", "7291836620163923968")
        .await
        .unwrap();
    assert_eq!(answer.task_id.as_deref(), Some("7291840133570707456"));
    let seen = requests(&server).await;
    assert_eq!(seen.len(), 2);
    let (first, second) = (body_json(&seen[0]), body_json(&seen[1]));
    assert_eq!(first, second);
    assert!(
        first["idempotency_key"]
            .as_str()
            .is_some_and(|k| !k.is_empty())
    );
    assert_eq!(first["delivery_ids"], json!(["7291836620163923968"]));

    // Two separate calls are two separate replays: their keys differ.
    server.reset().await;
    Mock::given(any())
        .respond_with(ok(example("ReplayWebhookDeliveryResponse")))
        .mount(&server)
        .await;
    webhooks
        .replay_webhook_delivery("billing", "1")
        .await
        .unwrap();
    webhooks
        .replay_webhook_delivery("billing", "1")
        .await
        .unwrap();
    let seen = requests(&server).await;
    assert_ne!(
        body_json(&seen[0])["idempotency_key"],
        body_json(&seen[1])["idempotency_key"]
    );

    // A caller's key is sent as is, on every attempt.
    server.reset().await;
    Mock::given(any())
        .respond_with(envelope(502, "Bad gateway"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ok(example("ReplayWebhookDeliveryResponse")))
        .mount(&server)
        .await;
    webhooks
        .replay_webhook_deliveries(
            "billing",
            ReplayWebhookDeliveriesRequest::by_ids(["1"]).idempotency_key("incident-42"),
        )
        .await
        .unwrap();
    let seen = requests(&server).await;
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert_eq!(body_json(request)["idempotency_key"], "incident-42");
    }
}

#[tokio::test]
async fn connection_failures_are_transport_errors_even_for_posts() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let webhooks = Client::builder()
        .api_key(KEY)
        .base_url(format!("http://127.0.0.1:{port}"))
        .max_retries(1)
        .build()
        .unwrap()
        .webhooks();
    let err = webhooks
        .trigger_webhook_event("billing", TriggerWebhookEventRequest::new("a", json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(err.status(), None);
    assert!(err.is_retryable());
    assert!(!format!("{err} {err:?}").contains(KEY));
}

// ----- timeouts -------------------------------------------------------------------------------

fn slow_client(server: &MockServer, retries: u32) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .timeout(Duration::from_millis(200))
        .max_retries(retries)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ok(example("WebhookApp")).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let err = tokio::time::timeout(
        Duration::from_secs(5),
        slow_client(&server, 0)
            .webhooks()
            .get_webhook_app("billing"),
    )
    .await
    .expect("the client gives up by itself")
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(err.status(), None);
    assert!(err.is_retryable());
    assert!(err.to_string().contains("get_webhook_app"), "{err}");
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn timeouts_are_retried_for_reads_but_not_for_triggers() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ok(json!({})).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let webhooks = slow_client(&server, 1).webhooks();
    let err = webhooks.get_webhook_stats("billing").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(requests(&server).await.len(), 2, "a read is retried");
    server.reset().await;
    Mock::given(any())
        .respond_with(ok(json!({})).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let err = webhooks
        .trigger_webhook_event("billing", TriggerWebhookEventRequest::new("a", json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(requests(&server).await.len(), 1, "a trigger is not");
}

// ----- tolerance ------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_fields_are_ignored() {
    let mut app = example("WebhookApp");
    app["brand_new_field"] = json!({"nested": [1, 2, 3]});
    app["tier"] = json!("enterprise");
    let mut page = example("WebhookAppPage");
    page["data"] = json!([app.clone()]);
    page["total"] = json!(1);
    page["next_cursor"] = json!(null);
    let (got, _) = exchange(app, |w| async move { w.get_webhook_app("billing").await }).await;
    assert_eq!(got.app_slug, "billing_events");
    let (got, _) = exchange(page, |w| async move {
        w.list_webhook_apps(ListWebhookAppsOptions::new()).await
    })
    .await;
    assert_eq!(got.data.len(), 1);
}

#[tokio::test]
async fn unknown_delivery_status_is_kept_and_round_trips() {
    let mut delivery = example("WebhookDelivery");
    delivery["status"] = json!("exploded");
    let mut page = example("WebhookDeliveryPage");
    page["data"] = json!([delivery]);
    page["has_more"] = json!(false);
    let (got, _) = exchange(page, |w| async move {
        w.list_webhook_deliveries("billing", ListWebhookDeliveriesOptions::new())
            .await
    })
    .await;
    let status = &got.data[0].status;
    assert_eq!(*status, DeliveryStatus::Unknown("exploded".into()));
    assert_eq!(status.to_string(), "exploded");
    assert_eq!(status.as_str(), "exploded");
    assert_eq!(serde_json::to_value(status).unwrap(), json!("exploded"));
    assert_eq!(
        serde_json::to_value(&got.data[0]).unwrap()["status"],
        "exploded"
    );
    assert_eq!("exploded".parse::<DeliveryStatus>().unwrap(), *status);
    // Known values stay known.
    assert_eq!(
        serde_json::from_value::<DeliveryStatus>(json!("endpoint_disabled")).unwrap(),
        DeliveryStatus::EndpointDisabled
    );

    // An unknown status also goes out unchanged as a filter.
    let (_, req) = exchange(example("WebhookDeliveryPage"), |w| async move {
        w.list_webhook_deliveries(
            "billing",
            ListWebhookDeliveriesOptions::new().status(DeliveryStatus::Unknown("exploded".into())),
        )
        .await
    })
    .await;
    assert_eq!(query(&req)["status"], "exploded");
}

#[tokio::test]
async fn unknown_replay_task_state_is_kept_and_round_trips() {
    let mut task = example("ReplayTaskStatus");
    task["status"] = json!("paused");
    let (got, _) = exchange(task, |w| async move {
        w.get_webhook_replay_task_status("billing", "1").await
    })
    .await;
    assert_eq!(got.status, ReplayTaskState::Unknown("paused".into()));
    assert_eq!(got.status.to_string(), "paused");
    assert_eq!(serde_json::to_value(&got.status).unwrap(), json!("paused"));
    let back: ReplayTaskState = serde_json::from_value(json!("paused")).unwrap();
    assert_eq!(back, got.status);
}

// ----- secrets --------------------------------------------------------------------------------

#[tokio::test]
async fn debug_output_never_shows_the_key() {
    let builder = Client::builder()
        .api_key(KEY)
        .base_url("http://127.0.0.1:9");
    for text in [format!("{builder:?}"), format!("{builder:#?}")] {
        assert!(!text.contains(KEY), "{text}");
        assert!(!text.contains("K3y_that"), "{text}");
    }
    let client = builder.build().unwrap();
    for text in [
        format!("{client:?}"),
        format!("{client:#?}"),
        format!("{:?}", client.webhooks()),
    ] {
        assert!(!text.contains(KEY), "{text}");
        assert!(!text.contains("K3y_that"), "{text}");
    }
}

#[tokio::test]
async fn errors_never_show_the_key() {
    let server = MockServer::start().await;
    let webhooks = client(&server, 0).webhooks();
    let answers = [
        envelope(401, "Unauthorized"),
        ResponseTemplate::new(502).set_body_raw("<html>proxy</html>", "text/html"),
        ResponseTemplate::new(200).set_body_raw("not json", "text/plain"),
    ];
    for answer in answers {
        server.reset().await;
        Mock::given(any()).respond_with(answer).mount(&server).await;
        let err = webhooks.get_webhook_app("billing").await.unwrap_err();
        let text = format!("{err} {err:?} {err:#?}");
        assert!(!text.contains(KEY), "{text}");
        let mut source = std::error::Error::source(&err);
        while let Some(inner) = source {
            let text = format!("{inner} {inner:?}");
            assert!(!text.contains(KEY), "{text}");
            source = inner.source();
        }
    }
}

/// A writer into a shared buffer, for a tracing subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn traces_name_the_operation_and_never_the_key() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_ansi(false)
        .finish();
    // With a single registered dispatcher, tracing caches a callsite's interest from whichever
    // thread hits it first (another test's, with no subscriber); a second registered dispatcher
    // makes the interest the union of both, so this thread's subscriber sees every callsite.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(envelope(503, "Something went wrong").insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/webhooks/apps/billing"))
        .respond_with(ok(example("WebhookApp")))
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(envelope(401, "Unauthorized"))
        .mount(&server)
        .await;
    let webhooks = client(&server, 2).webhooks();
    webhooks.get_webhook_app("billing").await.unwrap();
    webhooks
        .trigger_webhook_event("other", TriggerWebhookEventRequest::new("a", json!({})))
        .await
        .unwrap_err();

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("get_webhook_app"), "{text}");
    assert!(text.contains("trigger_webhook_event"), "{text}");
    assert!(text.contains("retrying"), "the retry is traced: {text}");
    assert!(text.contains("503"), "the status is traced: {text}");
    assert!(!text.contains(KEY), "{text}");
    assert!(!text.contains("K3y_that"), "{text}");
    assert!(!text.to_ascii_lowercase().contains("bearer"), "{text}");
}

// ----- pagination streams ---------------------------------------------------------------------

fn delivery(n: usize) -> Value {
    let mut item = example("WebhookDelivery");
    item["delivery_id"] = json!(format!("{}", 7_000_000 + n));
    item
}

fn ids(items: &[wacht_webhooks::WebhookDelivery]) -> Vec<String> {
    items.iter().map(|d| d.delivery_id.clone()).collect()
}

fn expected_ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|n| format!("{}", 7_000_000 + n)).collect()
}

/// A well-behaved list route over `items`: honours `limit` (default 100) and `offset`.
fn pages(items: Vec<Value>) -> impl Fn(&Request) -> ResponseTemplate + Send + Sync + 'static {
    move |req: &Request| {
        let q = query(req);
        let offset: usize = q.get("offset").map_or(0, |v| v.parse().unwrap());
        let limit: usize = q.get("limit").map_or(100, |v| v.parse().unwrap());
        let end = (offset + limit).min(items.len());
        let data = &items[offset.min(end)..end];
        ok(json!({"data": data, "has_more": end < items.len(), "limit": limit, "offset": offset}))
    }
}

fn offsets(seen: &[Request]) -> Vec<String> {
    seen.iter()
        .map(|r| query(r).get("offset").cloned().unwrap_or_default())
        .collect()
}

/// Drains a stream, with a bound on the time so that a looping stream fails instead of hanging.
async fn drain<T>(
    stream: impl futures_util::Stream<Item = Result<T, Error>>,
) -> (Vec<T>, Vec<Error>, bool) {
    let collect = async {
        let mut stream = pin!(stream);
        let (mut items, mut errors) = (Vec::new(), Vec::new());
        let mut after_error = false;
        while let Some(next) = stream.next().await {
            match next {
                Ok(item) if errors.is_empty() => items.push(item),
                Ok(_) => after_error = true,
                Err(err) => errors.push(err),
            }
        }
        (items, errors, after_error)
    };
    tokio::time::timeout(Duration::from_secs(10), collect)
        .await
        .expect("the stream ends")
}

#[tokio::test]
async fn streams_yield_every_item_once_in_server_order() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(pages((0..8).map(delivery).collect()))
        .mount(&server)
        .await;
    let webhooks = client(&server, 0).webhooks();
    let stream = webhooks.list_webhook_deliveries_stream(
        "billing",
        ListWebhookDeliveriesOptions::new()
            .limit(3)
            .status(DeliveryStatus::Failed),
    );
    let (items, errors, _) = drain(stream).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(ids(&items), expected_ids(0..8));
    let seen = requests(&server).await;
    assert_eq!(offsets(&seen), ["0", "3", "6"]);
    for request in &seen {
        assert_eq!(request.url.path(), "/webhooks/apps/billing/deliveries");
        let q = query(request);
        assert_eq!(q["limit"], "3");
        assert_eq!(q["status"], "failed", "filters go with every page");
    }

    // Starting at an offset.
    server.reset().await;
    Mock::given(any())
        .respond_with(pages((0..8).map(delivery).collect()))
        .mount(&server)
        .await;
    let stream = webhooks.list_webhook_deliveries_stream(
        "billing",
        ListWebhookDeliveriesOptions::new().limit(4).offset(2),
    );
    let (items, errors, _) = drain(stream).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(ids(&items), expected_ids(2..8));
    assert_eq!(offsets(&requests(&server).await), ["2", "6"]);
}

#[tokio::test]
async fn every_stream_walks_its_route() {
    let server = MockServer::start().await;
    let mut app = example("WebhookApp");
    let apps: Vec<Value> = (0..3)
        .map(|n| {
            app["app_slug"] = json!(format!("app_{n}"));
            app.clone()
        })
        .collect();
    let mut endpoint = example("WebhookEndpoint");
    let endpoints: Vec<Value> = (0..3)
        .map(|n| {
            endpoint["id"] = json!(format!("{n}"));
            endpoint.clone()
        })
        .collect();
    let mut task = example("ReplayTaskStatus");
    let tasks: Vec<Value> = (0..3)
        .map(|n| {
            task["task_id"] = json!(format!("{n}"));
            task.clone()
        })
        .collect();
    Mock::given(path("/webhooks/apps"))
        .respond_with(pages(apps))
        .mount(&server)
        .await;
    Mock::given(path(format!("/webhooks/apps/{SLUG_ENC}/endpoints")))
        .respond_with(pages(endpoints))
        .mount(&server)
        .await;
    Mock::given(path(format!("/webhooks/apps/{SLUG_ENC}/deliveries/replay")))
        .respond_with(pages(tasks))
        .mount(&server)
        .await;
    let webhooks = client(&server, 0).webhooks();

    let (items, errors, _) = drain(
        webhooks.list_webhook_apps_stream(
            ListWebhookAppsOptions::new()
                .limit(2)
                .include_inactive(true),
        ),
    )
    .await;
    assert!(errors.is_empty(), "{errors:?}");
    let slugs: Vec<_> = items.iter().map(|a| a.app_slug.as_str()).collect();
    assert_eq!(slugs, ["app_0", "app_1", "app_2"]);

    let (items, errors, _) = drain(
        webhooks.list_webhook_endpoints_stream(SLUG, ListWebhookEndpointsOptions::new().limit(2)),
    )
    .await;
    assert!(errors.is_empty(), "{errors:?}");
    let got: Vec<_> = items.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(got, ["0", "1", "2"]);

    let (items, errors, _) = drain(
        webhooks
            .list_webhook_replay_tasks_stream(SLUG, ListWebhookReplayTasksOptions::new().limit(2)),
    )
    .await;
    assert!(errors.is_empty(), "{errors:?}");
    let got: Vec<_> = items.iter().map(|t| t.task_id.as_str()).collect();
    assert_eq!(got, ["0", "1", "2"]);

    let seen = requests(&server).await;
    assert_eq!(seen.len(), 6);
    assert!(seen.iter().all(|r| query(r)["limit"] == "2"));
    assert_eq!(query(&seen[0])["include_inactive"], "true");
    assert_eq!(query(&seen[1])["include_inactive"], "true");
}

#[tokio::test]
async fn a_server_that_ignores_offset_ends_the_stream_with_an_error() {
    let server = MockServer::start().await;
    let first: Vec<Value> = (0..3).map(delivery).collect();
    Mock::given(any())
        .respond_with(ok(
            json!({"data": first, "has_more": true, "limit": 3, "offset": 0}),
        ))
        .mount(&server)
        .await;
    let stream = client(&server, 0)
        .webhooks()
        .list_webhook_deliveries_stream("billing", ListWebhookDeliveriesOptions::new().limit(3));
    let (items, errors, after_error) = drain(stream).await;
    assert_eq!(ids(&items), expected_ids(0..3), "the first page, once");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].kind(), ErrorKind::Decode, "{}", errors[0]);
    assert!(!after_error, "nothing after the error");
    assert_eq!(offsets(&requests(&server).await), ["0", "3"]);
}

async fn flaky_pages(server: &MockServer) {
    Mock::given(query_param("offset", "3"))
        .respond_with(envelope(503, "Something went wrong").insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(server)
        .await;
    Mock::given(any())
        .respond_with(pages((0..7).map(delivery).collect()))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_503_mid_stream_is_retried_and_the_stream_completes() {
    let server = MockServer::start().await;
    flaky_pages(&server).await;
    let stream = client(&server, 2)
        .webhooks()
        .list_webhook_deliveries_stream("billing", ListWebhookDeliveriesOptions::new().limit(3));
    let (items, errors, _) = drain(stream).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(ids(&items), expected_ids(0..7));
    assert_eq!(offsets(&requests(&server).await), ["0", "3", "3", "6"]);
}

#[tokio::test]
async fn a_503_mid_stream_without_retries_ends_the_stream_with_the_error() {
    let server = MockServer::start().await;
    flaky_pages(&server).await;
    let stream = client(&server, 0)
        .webhooks()
        .list_webhook_deliveries_stream("billing", ListWebhookDeliveriesOptions::new().limit(3));
    let (items, errors, after_error) = drain(stream).await;
    assert_eq!(ids(&items), expected_ids(0..3));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].kind(), ErrorKind::Server);
    assert_eq!(errors[0].status(), Some(503));
    assert!(!after_error);
    assert_eq!(offsets(&requests(&server).await), ["0", "3"]);
}

#[tokio::test]
async fn streams_send_nothing_before_the_first_poll() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(pages((0..5).map(delivery).collect()))
        .mount(&server)
        .await;
    let webhooks = client(&server, 0).webhooks();
    let stream = webhooks
        .list_webhook_deliveries_stream("billing", ListWebhookDeliveriesOptions::new().limit(2));
    let mut stream = pin!(stream);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(requests(&server).await.is_empty(), "nothing sent yet");
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.delivery_id, "7000000");
    assert!(!requests(&server).await.is_empty());

    // A stream dropped without being polled sends nothing either.
    let server = MockServer::start().await;
    let webhooks = client(&server, 0).webhooks();
    drop(webhooks.list_webhook_apps_stream(ListWebhookAppsOptions::new()));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(requests(&server).await.is_empty());
}

// ----- production behaviour: short pages, the 429 message, replays still being queued, the
// ----- delivery list's ignored filters and shifting rows

fn task(n: usize) -> Value {
    let mut item = example("ReplayTaskStatus");
    item["task_id"] = json!(n.to_string());
    item
}

fn task_ids(items: &[wacht_webhooks::ReplayTaskStatus]) -> Vec<&str> {
    items.iter().map(|t| t.task_id.as_str()).collect()
}

fn number(q: &BTreeMap<String, String>, name: &str, default: usize) -> usize {
    q.get(name).map_or(default, |v| v.parse().unwrap())
}

/// The production replay task list over an index of `size` task ids, newest first, where the
/// records of `expired` are gone: `has_more` is computed on the index, then expired records are
/// dropped from the page.
fn task_index(
    size: usize,
    expired: &'static [usize],
) -> impl Fn(&Request) -> ResponseTemplate + Send + Sync + 'static {
    move |req: &Request| {
        let q = query(req);
        let offset = number(&q, "offset", 0);
        let limit = number(&q, "limit", 20).clamp(1, 100);
        let end = (offset + limit).min(size);
        let data: Vec<Value> = (offset.min(end)..end)
            .filter(|n| !expired.contains(n))
            .map(task)
            .collect();
        ok(
            json!({"data": data, "has_more": offset + limit < size, "limit": limit, "offset": offset}),
        )
    }
}

#[tokio::test]
async fn short_and_empty_pages_that_say_more_follow_are_paged_past() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(task_index(12, &[1, 3, 4, 5, 7]))
        .mount(&server)
        .await;
    let webhooks = client(&server, 0).webhooks();
    let tasks = || {
        webhooks.list_webhook_replay_tasks_stream(
            "billing",
            ListWebhookReplayTasksOptions::new().limit(3),
        )
    };
    let (items, errors, _) = drain(tasks()).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(task_ids(&items), ["0", "2", "6", "8", "9", "10", "11"]);
    assert_eq!(
        offsets(&requests(&server).await),
        ["0", "3", "6", "9"],
        "each page at the previous offset plus the page size, the empty one included"
    );

    // An empty first page, and an empty last one.
    server.reset().await;
    Mock::given(any())
        .respond_with(task_index(8, &[0, 1, 2, 6, 7]))
        .mount(&server)
        .await;
    let (items, errors, _) = drain(tasks()).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(task_ids(&items), ["3", "4", "5"]);
    assert_eq!(offsets(&requests(&server).await), ["0", "3", "6"]);
}

#[tokio::test]
async fn a_server_that_clamps_the_page_size_is_paged_by_the_size_it_used() {
    let server = MockServer::start().await;
    let items: Vec<Value> = (0..5).map(delivery).collect();
    Mock::given(any())
        .respond_with(move |req: &Request| {
            let q = query(req);
            let offset = number(&q, "offset", 0);
            let limit = number(&q, "limit", 100).min(2);
            let end = (offset + limit).min(items.len());
            let data = &items[offset.min(end)..end];
            ok(json!({"data": data, "has_more": end < items.len(), "limit": limit, "offset": offset}))
        })
        .mount(&server)
        .await;
    let stream = client(&server, 0)
        .webhooks()
        .list_webhook_deliveries_stream("billing", ListWebhookDeliveriesOptions::new().limit(5));
    let (items, errors, _) = drain(stream).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(ids(&items), expected_ids(0..5));
    assert_eq!(offsets(&requests(&server).await), ["0", "2", "4"]);
}

/// A server whose every page is empty and says more follow, echoing the offset asked for;
/// `first` is the page at offset 0.
async fn never_ending(server: &MockServer, first: Vec<Value>) {
    Mock::given(query_param("offset", "0"))
        .respond_with(ok(
            json!({"data": first, "has_more": true, "limit": 500, "offset": 0}),
        ))
        .mount(server)
        .await;
    Mock::given(any())
        .respond_with(|req: &Request| {
            let q = query(req);
            let offset = number(&q, "offset", 0);
            ok(json!({"data": [], "has_more": true, "limit": 500, "offset": offset}))
        })
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_server_that_never_ends_stops_the_stream_with_a_clear_error() {
    use wacht_webhooks::pagination::MAX_EMPTY_POSITIONS;
    let empty_pages = usize::try_from(MAX_EMPTY_POSITIONS / 500).unwrap();
    for first in [Vec::new(), (0..2).map(task).collect::<Vec<_>>()] {
        let server = MockServer::start().await;
        never_ending(&server, first.clone()).await;
        let stream = client(&server, 0)
            .webhooks()
            .list_webhook_replay_tasks_stream(
                "billing",
                ListWebhookReplayTasksOptions::new().limit(500),
            );
        let (items, errors, after_error) = drain(stream).await;
        assert_eq!(items.len(), first.len());
        assert_eq!(errors.len(), 1, "{errors:?}");
        let err = &errors[0];
        assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
        assert_eq!(err.operation(), Some("list_webhook_replay_tasks"));
        let text = err.to_string();
        assert!(
            text.contains(&format!("{MAX_EMPTY_POSITIONS} positions in a row")),
            "{text}"
        );
        assert!(text.contains("more follow"), "{text}");
        assert!(!after_error, "nothing after the error");
        let pages = usize::from(!first.is_empty()) + empty_pages;
        assert_eq!(
            requests(&server).await.len(),
            pages,
            "then no more requests"
        );
    }

    // An empty page that says more follow, with no page size asked for and none answered (0):
    // no way to know how far to advance.
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ok(
            json!({"data": [], "has_more": true, "limit": 0, "offset": 0}),
        ))
        .mount(&server)
        .await;
    let stream = client(&server, 0)
        .webhooks()
        .list_webhook_apps_stream(ListWebhookAppsOptions::new());
    let (items, errors, _) = drain(stream).await;
    assert!(items.is_empty());
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].to_string().contains("set a limit"),
        "{}",
        errors[0]
    );
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn streams_refuse_a_negative_offset_or_an_empty_page_size_before_sending() {
    let server = MockServer::start().await;
    let webhooks = client(&server, 0).webhooks();
    for options in [
        ListWebhookDeliveriesOptions::new().limit(0),
        ListWebhookDeliveriesOptions::new().limit(-3),
        ListWebhookDeliveriesOptions::new().offset(-1),
    ] {
        let (items, errors, _) =
            drain(webhooks.list_webhook_deliveries_stream("billing", options.clone())).await;
        assert!(items.is_empty());
        assert_eq!(errors.len(), 1, "{options:?}");
        assert_eq!(errors[0].kind(), ErrorKind::InvalidInput, "{}", errors[0]);
    }
    assert!(requests(&server).await.is_empty(), "nothing was sent");
}

#[tokio::test]
async fn the_wait_of_a_429_is_read_from_its_message() {
    // The API's 429 has no Retry-After header; the wait is only in its message.
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(envelope(429, "Rate limit exceeded. Retry after 1 seconds"))
        .mount(&server)
        .await;
    let err = client(&server, 0)
        .webhooks()
        .get_webhook_app("billing")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(
        err.messages(),
        ["Rate limit exceeded. Retry after 1 seconds"]
    );

    // A wait beyond what the client waits (60 s) is reported, not waited and not replaced by a
    // backoff: one request only.
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(envelope(
            429,
            "Rate limit exceeded. Retry after 120 seconds",
        ))
        .mount(&server)
        .await;
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        client(&server, 3).webhooks().get_webhook_app("billing"),
    )
    .await
    .expect("the client does not wait two minutes")
    .unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(requests(&server).await.len(), 1);

    // A wait within it is waited, then the request is sent again.
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(envelope(429, "Rate limit exceeded. Retry after 0 seconds"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ok(example("WebhookApp")))
        .mount(&server)
        .await;
    let app = client(&server, 2)
        .webhooks()
        .get_webhook_app("billing")
        .await
        .unwrap();
    assert_eq!(app.app_slug, "billing_events");
    assert_eq!(requests(&server).await.len(), 2);

    // Only a 429's message says how long to wait.
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(envelope(400, "Retry after 5 seconds"))
        .mount(&server)
        .await;
    let err = client(&server, 0)
        .webhooks()
        .get_webhook_app("billing")
        .await
        .unwrap_err();
    assert_eq!(err.retry_after(), None);
}

const REPLAY_PATH: &str = "/webhooks/apps/billing/deliveries/replay";

/// What the production service answers to a replay request while an earlier attempt with the
/// same idempotency key is still being queued.
fn still_queuing() -> ResponseTemplate {
    ok(json!({
        "status": "queued",
        "message": "Replay request is already being queued for this idempotency key",
        "task_id": null
    }))
}

fn queued(task_id: &str) -> ResponseTemplate {
    ok(json!({
        "status": "queued",
        "message": "Replay already queued for this idempotency key",
        "task_id": task_id
    }))
}

/// No task is running (the slot check of `send`), and task `t1` completed: 3 selected, 2
/// replayed, 1 failed.
async fn replay_routes(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(REPLAY_PATH))
        .respond_with(ok(
            json!({"data": [], "has_more": false, "limit": 100, "offset": 0}),
        ))
        .mount(server)
        .await;
    let mut done = example("ReplayTaskStatus");
    done["task_id"] = json!("t1");
    done["status"] = json!("completed");
    done["total_count"] = json!(3);
    done["processed"] = json!(3);
    done["replayed_count"] = json!(2);
    done["failed_count"] = json!(1);
    Mock::given(method("GET"))
        .and(path(format!("{REPLAY_PATH}/t1")))
        .respond_with(ok(done))
        .mount(server)
        .await;
}

async fn replay_posts(server: &MockServer) -> Vec<Value> {
    requests(server)
        .await
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .map(body_json)
        .collect()
}

#[tokio::test]
async fn a_replay_answered_without_a_task_id_is_asked_again_until_the_task_is_named() {
    let server = MockServer::start().await;
    replay_routes(&server).await;
    Mock::given(method("POST"))
        .respond_with(still_queuing())
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(queued("t1"))
        .mount(&server)
        .await;
    let job = client(&server, 0)
        .webhooks()
        .replay("billing")
        .delivery_ids(["1", "2", "3"])
        .idempotency_key("incident")
        .poll_interval(Duration::from_millis(5))
        .send()
        .await
        .unwrap();
    assert_eq!(job.task_ids(), ["t1"]);
    assert_eq!(job.unresolved_keys().count(), 0);
    let posts = replay_posts(&server).await;
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0], posts[1], "the same request again");
    assert_eq!(posts[0]["idempotency_key"], "incident-0");
    let summary = job
        .wait(
            WaitOptions::new()
                .poll_interval(Duration::from_millis(5))
                .timeout(Duration::from_secs(5)),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            summary.total_count,
            summary.replayed_count,
            summary.failed_count
        ),
        (3, 2, 1)
    );
}

#[tokio::test]
async fn a_replay_whose_task_is_never_named_makes_wait_fail_naming_its_key() {
    let server = MockServer::start().await;
    replay_routes(&server).await;
    Mock::given(method("POST"))
        .respond_with(still_queuing())
        .mount(&server)
        .await;
    let job = client(&server, 0)
        .webhooks()
        .replay("billing")
        .delivery_ids(["1", "2", "3"])
        .idempotency_key("incident")
        .poll_interval(Duration::from_millis(5))
        .send()
        .await
        .unwrap();
    assert!(job.task_ids().is_empty());
    assert_eq!(job.unresolved_keys().collect::<Vec<_>>(), ["incident-0"]);
    let asked_in_send = replay_posts(&server).await.len();
    assert!(asked_in_send > 1, "send asked again");

    let err = job
        .wait(
            WaitOptions::new()
                .poll_interval(Duration::from_millis(5))
                .timeout(Duration::from_millis(50)),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    let text = err.to_string();
    assert!(text.contains("incident-0"), "{text}");
    assert!(text.contains("no task id"), "{text}");
    let posts = replay_posts(&server).await;
    assert!(posts.len() > asked_in_send, "wait kept asking");
    assert!(posts.iter().all(|p| p["idempotency_key"] == "incident-0"));
}

#[tokio::test]
async fn wait_counts_a_replay_whose_task_is_named_late() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let server = MockServer::start().await;
    replay_routes(&server).await;
    // 0: still being queued; 1: the app's task slots are taken (once); 2: the task is named.
    let phase = Arc::new(AtomicUsize::new(0));
    let answers = phase.clone();
    Mock::given(method("POST"))
        .respond_with(move |_: &Request| match answers.load(Ordering::SeqCst) {
            0 => still_queuing(),
            1 => {
                answers.store(2, Ordering::SeqCst);
                envelope(400, "Maximum 3 replay jobs can run at once for this app")
            }
            _ => queued("t1"),
        })
        .mount(&server)
        .await;
    let job = client(&server, 0)
        .webhooks()
        .replay("billing")
        .delivery_ids(["1", "2", "3"])
        .idempotency_key("incident")
        .poll_interval(Duration::from_millis(5))
        .send()
        .await
        .unwrap();
    assert_eq!(job.unresolved_keys().count(), 1);
    phase.store(1, Ordering::SeqCst);
    let summary = job
        .wait(
            WaitOptions::new()
                .poll_interval(Duration::from_millis(5))
                .timeout(Duration::from_secs(5)),
        )
        .await
        .unwrap();
    assert_eq!(summary.tasks.len(), 1);
    assert_eq!(summary.tasks[0].task_id, "t1");
    assert_eq!(summary.total_count, 3);
}

/// Delivery `n` to endpoint "1" (even n) or "2" (odd n), its latest state at 12:59 minus n
/// minutes: newest first in `n` order.
fn timed_delivery(n: usize) -> Value {
    let mut item = delivery(n);
    item["endpoint_id"] = json!(if n.is_multiple_of(2) { "1" } else { "2" });
    item["timestamp"] = json!(format!("2026-06-01T12:{:02}:00Z", 59 - n));
    item
}

/// A delivery list over `rows`; `documented`: applies `endpoint_id`, `since` and `until` as the
/// documented API does, else ignores them as the production service does.
fn delivery_list(
    rows: Vec<Value>,
    documented: bool,
) -> impl Fn(&Request) -> ResponseTemplate + Send + Sync + 'static {
    move |req: &Request| {
        let q = query(req);
        let at = |row: &Value| time(row["timestamp"].as_str().unwrap());
        let kept: Vec<&Value> = rows
            .iter()
            .filter(|row| {
                !documented
                    || (q
                        .get("endpoint_id")
                        .is_none_or(|e| row["endpoint_id"] == **e)
                        && q.get("since").is_none_or(|t| at(row) >= time(t))
                        && q.get("until").is_none_or(|t| at(row) <= time(t)))
            })
            .collect();
        let offset = number(&q, "offset", 0);
        let limit = number(&q, "limit", 100);
        let end = (offset + limit).min(kept.len());
        let data = &kept[offset.min(end)..end];
        ok(json!({"data": data, "has_more": end < kept.len(), "limit": limit, "offset": offset}))
    }
}

#[tokio::test]
async fn the_delivery_stream_applies_the_filters_a_server_ignores() {
    let options = ListWebhookDeliveriesOptions::new()
        .limit(3)
        .endpoint_id("2")
        .since(time("2026-06-01T12:50:00Z"))
        .until(time("2026-06-01T12:56:00Z"));
    let mut streamed = Vec::new();
    for documented in [false, true] {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(delivery_list(
                (0..20).map(timed_delivery).collect(),
                documented,
            ))
            .mount(&server)
            .await;
        let webhooks = client(&server, 0).webhooks();
        let (items, errors, _) =
            drain(webhooks.list_webhook_deliveries_stream("billing", options.clone())).await;
        assert!(errors.is_empty(), "{errors:?}");
        // Endpoint "2", from 12:56 down to 12:50, both included.
        let expected: Vec<String> = [3, 5, 7, 9]
            .iter()
            .map(|n| format!("{}", 7_000_000 + n))
            .collect();
        assert_eq!(ids(&items), expected, "documented: {documented}");
        let seen = requests(&server).await;
        assert!(
            seen.iter().all(|r| query(r)["endpoint_id"] == "2"),
            "the filters are sent"
        );
        if !documented {
            // Rows come newest first: the row of 12:49 (offset 10) ends the stream.
            assert!(
                offsets(&seen)
                    .iter()
                    .all(|o| o.parse::<usize>().unwrap() <= 12),
                "no page after the first row older than `since`: {:?}",
                offsets(&seen)
            );
            // The plain call returns what the server answered.
            let page = webhooks
                .list_webhook_deliveries("billing", options.clone())
                .await
                .unwrap();
            assert_eq!(ids(&page.data), expected_ids(0..3));
        }
        streamed.push(ids(&items));
    }
    assert_eq!(
        streamed[0], streamed[1],
        "the same rows against either behaviour"
    );
}

#[tokio::test]
async fn a_delivery_row_that_shifts_to_the_next_page_is_yielded_once() {
    // Between the requests of two pages, new activity puts rows at the top of the list and pushes
    // the others down: one row before the page at offset 3 is read, two before later pages.
    let rows: Vec<Value> = (0..10).map(timed_delivery).collect();
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(move |req: &Request| {
            let q = query(req);
            let offset = number(&q, "offset", 0);
            let mut list: Vec<Value> = (0..(offset / 3).min(2))
                .map(|k| {
                    let mut new = timed_delivery(0);
                    new["delivery_id"] = json!(format!("new_{k}"));
                    new
                })
                .collect();
            list.extend(rows.iter().cloned());
            let end = (offset + 3).min(list.len());
            let data = &list[offset.min(end)..end];
            ok(json!({"data": data, "has_more": end < list.len(), "limit": 3, "offset": offset}))
        })
        .mount(&server)
        .await;
    let stream = client(&server, 0)
        .webhooks()
        .list_webhook_deliveries_stream("billing", ListWebhookDeliveriesOptions::new().limit(3));
    let (items, errors, _) = drain(stream).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(ids(&items), expected_ids(0..10), "each row once, in order");
    assert_eq!(offsets(&requests(&server).await), ["0", "3", "6", "9"]);
}

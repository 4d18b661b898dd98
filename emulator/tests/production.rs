//! The differences between production's behaviour (the default) and the documented API, one
//! P-number of the wire reference at a time, each checked in both behaviours.

mod common;

use std::time::Duration;

use common::{Api, Receiver, Reply, assert_error, builder, eventually, start_in, start_with};
use serde_json::{Value, json};
use wacht_webhooks_emulator::Behaviour::{self, Documented, Production};
use wacht_webhooks_emulator::{Emulator, EmulatorBuilder};

fn slug(app: &Value) -> &str {
    app["app_slug"].as_str().unwrap()
}

fn id(value: &Value) -> &str {
    value.as_str().unwrap()
}

/// The first delivery id of a trigger.
async fn trigger_one(api: &Api, app: &Value, event: &str, payload: Value) -> String {
    let body = api.trigger(app, event, payload).await;
    id(&body["delivery_ids"][0]).to_string()
}

/// The rows of the delivery list with the given query.
async fn list(api: &Api, app: &Value, query: &str) -> Vec<Value> {
    let page = api
        .ok(&format!(
            "/webhooks/apps/{}/deliveries?limit=1000&{query}",
            slug(app)
        ))
        .await;
    page["data"].as_array().unwrap().clone()
}

fn ids(rows: &[Value]) -> Vec<&str> {
    rows.iter().map(|r| id(&r["delivery_id"])).collect()
}

/// The endpoint as listed (inactive ones included).
async fn listed_endpoint(api: &Api, app: &Value, endpoint: &Value) -> Value {
    let page = api
        .ok(&format!(
            "/webhooks/apps/{}/endpoints?include_inactive=true",
            slug(app)
        ))
        .await;
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == endpoint["id"])
        .cloned()
        .unwrap()
}

/// An app with one endpoint on `url` for event `e` that makes one attempt per delivery.
async fn single_attempt_app(api: &Api, url: &str) -> (Value, Value) {
    let app = api.app_with_events(&["e"]).await;
    let endpoint = api
        .endpoint(&app, url, "e", json!({"max_retries": 1}))
        .await;
    (app, endpoint)
}

/// A delivery that failed once with 503 and then succeeded; returns the app and its id.
async fn failed_then_succeeded(api: &Api, receiver: &Receiver) -> (Value, String) {
    receiver.script("/flaky", vec![Reply::status(503)]);
    let app = api.app_with_events(&["e"]).await;
    api.endpoint(
        &app,
        &receiver.url("/flaky"),
        "e",
        json!({"max_retries": 3}),
    )
    .await;
    let delivery = trigger_one(api, &app, "e", json!({"n": 1})).await;
    assert_eq!(api.settled(&app, &delivery).await["status"], "success");
    (app, delivery)
}

#[tokio::test]
async fn p6_production_filters_status_before_picking_the_latest_row() {
    let (_emu, api) = start_in(Production).await;
    let receiver = Receiver::start().await;
    let (app, delivery) = failed_then_succeeded(&api, &receiver).await;

    let failed = list(&api, &app, "status=failed").await;
    assert_eq!(ids(&failed), [delivery.as_str()]);
    assert_eq!(failed[0]["status"], "failed");
    assert_eq!(failed[0]["http_status_code"], 503);
    assert_eq!(failed[0]["attempt_number"], 1);
    let pending = list(&api, &app, "status=pending").await;
    assert_eq!(pending[0]["attempt_number"], 0);
    assert_eq!(list(&api, &app, "").await[0]["status"], "success");
}

#[tokio::test]
async fn p6_documented_filters_the_latest_state() {
    let (_emu, api) = start_in(Documented).await;
    let receiver = Receiver::start().await;
    let (app, delivery) = failed_then_succeeded(&api, &receiver).await;

    assert!(list(&api, &app, "status=failed").await.is_empty());
    assert!(list(&api, &app, "status=pending").await.is_empty());
    assert_eq!(
        ids(&list(&api, &app, "status=success").await),
        [delivery.as_str()]
    );
}

/// Two endpoints with one delivery each; returns the app, the first endpoint and both ids.
async fn two_endpoints(api: &Api, receiver: &Receiver) -> (Value, Value, String, String) {
    let app = api.app_with_events(&["a", "b"]).await;
    let first = api
        .endpoint(&app, &receiver.url("/a"), "a", json!({}))
        .await;
    api.endpoint(&app, &receiver.url("/b"), "b", json!({}))
        .await;
    let a = trigger_one(api, &app, "a", json!({})).await;
    let b = trigger_one(api, &app, "b", json!({})).await;
    api.settled(&app, &a).await;
    api.settled(&app, &b).await;
    (app, first, a, b)
}

#[tokio::test]
async fn p6_production_ignores_endpoint_id_since_and_until() {
    let (_emu, api) = start_in(Production).await;
    let receiver = Receiver::start().await;
    let (app, first, _, _) = two_endpoints(&api, &receiver).await;

    let by_endpoint = list(&api, &app, &format!("endpoint_id={}", id(&first["id"]))).await;
    assert_eq!(by_endpoint.len(), 2);
    assert_eq!(
        list(&api, &app, "since=2999-01-01T00:00:00Z").await.len(),
        2
    );
    assert_eq!(
        list(&api, &app, "until=2000-01-01T00:00:00Z").await.len(),
        2
    );
    // Still parsed: a bare date is refused.
    assert_error(
        &api.get(&format!(
            "/webhooks/apps/{}/deliveries?since=2026-01-01",
            slug(&app)
        ))
        .await,
        400,
        None,
    );
    // The statuses of production's endpoint rows are known values: nothing has them here.
    for status in ["reactivated", "deactivated"] {
        let (code, body) = api
            .get(&format!(
                "/webhooks/apps/{}/deliveries?status={status}",
                slug(&app)
            ))
            .await;
        assert_eq!(code, 200, "{status}: {body}");
        assert_eq!(body["data"], json!([]));
    }
}

#[tokio::test]
async fn p6_documented_applies_endpoint_id_since_and_until() {
    let (_emu, api) = start_in(Documented).await;
    let receiver = Receiver::start().await;
    let (app, first, a, _) = two_endpoints(&api, &receiver).await;

    let by_endpoint = list(&api, &app, &format!("endpoint_id={}", id(&first["id"]))).await;
    assert_eq!(ids(&by_endpoint), [a.as_str()]);
    assert!(
        list(&api, &app, "since=2999-01-01T00:00:00Z")
            .await
            .is_empty()
    );
    assert!(
        list(&api, &app, "until=2000-01-01T00:00:00Z")
            .await
            .is_empty()
    );
}

/// An older delivery whose retry succeeds after a newer delivery settled; returns the app, the
/// older and the newer id.
async fn older_finishes_last(api: &Api, receiver: &Receiver) -> (Value, String, String) {
    receiver.script("/slow", vec![Reply::status(503)]);
    let app = api.app_with_events(&["a", "b"]).await;
    api.endpoint(&app, &receiver.url("/slow"), "a", json!({"max_retries": 2}))
        .await;
    api.endpoint(&app, &receiver.url("/fast"), "b", json!({}))
        .await;
    let older = trigger_one(api, &app, "a", json!({})).await;
    receiver.wait_for("/slow", 1).await;
    let newer = trigger_one(api, &app, "b", json!({})).await;
    assert_eq!(api.settled(&app, &newer).await["status"], "success");
    assert_eq!(api.settled(&app, &older).await["status"], "success");
    (app, older, newer)
}

/// A retry schedule long enough for the newer delivery to settle first.
fn slow_retries() -> EmulatorBuilder {
    builder().retry_schedule(vec![Duration::from_millis(300)])
}

#[tokio::test]
async fn p6_production_orders_rows_by_latest_activity() {
    let (_emu, api) = start_with(slow_retries().behaviour(Production)).await;
    let receiver = Receiver::start().await;
    let (app, older, newer) = older_finishes_last(&api, &receiver).await;

    let rows = list(&api, &app, "").await;
    assert_eq!(ids(&rows), [older.as_str(), newer.as_str()]);
}

#[tokio::test]
async fn p6_documented_orders_deliveries_by_creation() {
    let (_emu, api) = start_with(slow_retries().behaviour(Documented)).await;
    let receiver = Receiver::start().await;
    let (app, older, newer) = older_finishes_last(&api, &receiver).await;

    let rows = list(&api, &app, "").await;
    assert_eq!(ids(&rows), [newer.as_str(), older.as_str()]);
}

/// Ten exhausted deliveries to an endpoint that always answers 500, which deactivates it.
async fn deactivated_by_failures(api: &Api, receiver: &Receiver) -> (Value, Value) {
    receiver.default_reply("/down", Reply::status(500));
    let (app, endpoint) = single_attempt_app(api, &receiver.url("/down")).await;
    for n in 0..10 {
        let delivery = trigger_one(api, &app, "e", json!({"n": n})).await;
        api.settled(&app, &delivery).await;
    }
    assert_eq!(
        listed_endpoint(api, &app, &endpoint).await["is_active"],
        false
    );
    (app, endpoint)
}

async fn reactivate(api: &Api, endpoint: &Value) {
    let (status, body) = api
        .post_empty(&format!(
            "/webhooks/endpoints/{}/reactivate",
            id(&endpoint["id"])
        ))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn p6_production_lists_endpoint_deactivation_and_reactivation_rows() {
    let (_emu, api) = start_in(Production).await;
    let receiver = Receiver::start().await;
    let (app, endpoint) = deactivated_by_failures(&api, &receiver).await;
    reactivate(&api, &endpoint).await;

    let rows = list(&api, &app, "").await;
    assert_eq!(rows.len(), 12);
    let (reactivated, deactivated) = (&rows[0], &rows[1]);
    assert_eq!(reactivated["status"], "reactivated");
    assert_eq!(reactivated["event_name"], "endpoint.reactivated");
    assert_eq!(reactivated["endpoint_id"], endpoint["id"]);
    assert_eq!(reactivated["app_slug"], app["app_slug"]);
    assert_eq!(reactivated["attempt_number"], 0);
    assert_eq!(reactivated["max_attempts"], 1);
    assert_eq!(reactivated["http_status_code"], Value::Null);
    assert_eq!(reactivated["response_time_ms"], Value::Null);
    assert_eq!(deactivated["status"], "deactivated");
    assert_eq!(deactivated["event_name"], "endpoint.deactivated");
    assert_eq!(deactivated["endpoint_id"], endpoint["id"]);
    assert_eq!(deactivated["attempt_number"], 0);
    assert_eq!(deactivated["max_attempts"], 0);
    // Each row has an id of its own, which the details call answers too.
    let row_id = id(&reactivated["delivery_id"]);
    assert_ne!(reactivated["delivery_id"], deactivated["delivery_id"]);
    let details = api.delivery(&app, row_id).await;
    assert_eq!(details["status"], "reactivated");
    assert_eq!(details["payload"], Value::Null);

    let only = list(&api, &app, "status=reactivated").await;
    assert_eq!(ids(&only), [row_id]);
    let by_event = list(&api, &app, "event_name=endpoint.deactivated").await;
    assert_eq!(by_event.len(), 1);
}

#[tokio::test]
async fn p6_production_logs_no_endpoint_row_for_a_410() {
    let (_emu, api) = start_in(Production).await;
    let receiver = Receiver::start().await;
    receiver.default_reply("/gone", Reply::status(410));
    let (app, endpoint) = single_attempt_app(&api, &receiver.url("/gone")).await;
    let delivery = trigger_one(&api, &app, "e", json!({})).await;
    assert_eq!(
        api.settled(&app, &delivery).await["status"],
        "endpoint_disabled"
    );
    assert_eq!(
        listed_endpoint(&api, &app, &endpoint).await["is_active"],
        false
    );
    assert_eq!(ids(&list(&api, &app, "").await), [delivery.as_str()]);
}

#[tokio::test]
async fn p6_documented_lists_only_deliveries() {
    let (_emu, api) = start_in(Documented).await;
    let receiver = Receiver::start().await;
    let (app, endpoint) = deactivated_by_failures(&api, &receiver).await;
    reactivate(&api, &endpoint).await;

    let rows = list(&api, &app, "").await;
    assert_eq!(rows.len(), 10);
    assert!(rows.iter().all(|r| r["status"] == "permanently_failed"));
    // The statuses of production's endpoint rows are known values: nothing has them here.
    for status in ["reactivated", "deactivated"] {
        let (code, body) = api
            .get(&format!(
                "/webhooks/apps/{}/deliveries?status={status}",
                slug(&app)
            ))
            .await;
        assert_eq!(code, 200, "{status}: {body}");
        assert_eq!(body["data"], json!([]));
    }
}

/// The read-only listings of an app, by path.
const LISTINGS: [&str; 5] = [
    "endpoints",
    "deliveries",
    "stats",
    "analytics",
    "timeseries",
];

#[tokio::test]
async fn p7_production_answers_an_unknown_app_with_no_data() {
    let (_emu, api) = start_in(Production).await;
    let base = "/webhooks/apps/missing";
    for listing in ["endpoints", "deliveries"] {
        let page = api.ok(&format!("{base}/{listing}?limit=5")).await;
        assert_eq!(
            page,
            json!({"data": [], "has_more": false, "limit": 5, "offset": 0}),
            "{listing}"
        );
    }
    let stats = api.ok(&format!("{base}/stats")).await;
    assert_eq!(
        stats,
        json!({"total_deliveries": 0, "success_rate": 0.0, "active_endpoints": 0, "failed_deliveries_24h": 0})
    );
    let analytics = api.ok(&format!("{base}/analytics")).await;
    assert_eq!(analytics["total_deliveries"], 0);
    assert_eq!(analytics["top_events"], json!([]));
    assert_eq!(analytics["avg_response_time_ms"], Value::Null);
    let series = api.ok(&format!("{base}/timeseries?interval=hour")).await;
    assert_eq!(series, json!({"data": [], "interval": "hour"}));
    // Routes that read the app itself still answer 404.
    assert_error(&api.get(base).await, 404, Some("Webhook app not found"));
    assert_error(
        &api.get(&format!("{base}/deliveries/12345")).await,
        404,
        Some("Webhook app not found"),
    );
}

#[tokio::test]
async fn p7_documented_answers_an_unknown_app_with_404() {
    let (_emu, api) = start_in(Documented).await;
    for listing in LISTINGS {
        assert_error(
            &api.get(&format!("/webhooks/apps/missing/{listing}")).await,
            404,
            Some("Webhook app not found"),
        );
    }
}

#[tokio::test]
async fn p8_production_answers_an_unknown_delivery_with_500() {
    let (_emu, api) = start_in(Production).await;
    let app = api.app_with_events(&["e"]).await;
    let base = format!("/webhooks/apps/{}/deliveries", slug(&app));
    assert_error(
        &api.get(&format!("{base}/12345")).await,
        500,
        Some("Something went wrong"),
    );
    assert_error(
        &api.get(&format!("{base}/12345?status=pending")).await,
        404,
        Some("Pending delivery not found"),
    );
    assert_error(
        &api.get(&format!("{base}/abc")).await,
        400,
        Some("Invalid delivery ID"),
    );
}

#[tokio::test]
async fn p8_documented_answers_an_unknown_delivery_with_404() {
    let (_emu, api) = start_in(Documented).await;
    let app = api.app_with_events(&["e"]).await;
    let base = format!("/webhooks/apps/{}/deliveries", slug(&app));
    assert_error(&api.get(&format!("{base}/12345")).await, 404, None);
    assert_error(
        &api.get(&format!("{base}/12345?status=pending")).await,
        404,
        None,
    );
}

/// A delivery whose first attempt failed and whose retry is an hour away.
async fn waiting_for_retry(behaviour: Behaviour) -> (Emulator, Api, Value, String) {
    let (emu, api) = start_with(
        builder()
            .retry_schedule(vec![Duration::from_secs(3600)])
            .behaviour(behaviour),
    )
    .await;
    let receiver = Receiver::start().await;
    receiver.default_reply("/later", Reply::status(503));
    let app = api.app_with_events(&["e"]).await;
    api.endpoint(
        &app,
        &receiver.url("/later"),
        "e",
        json!({"max_retries": 3}),
    )
    .await;
    let delivery = trigger_one(&api, &app, "e", json!({"order": 7})).await;
    receiver.wait_for("/later", 1).await;
    eventually("the first attempt is recorded", || async {
        (api.delivery(&app, &delivery).await["status"] == "failed").then_some(())
    })
    .await;
    (emu, api, app, delivery)
}

#[tokio::test]
async fn p8_production_reads_a_pending_delivery_from_the_queue() {
    let (_emu, api, app, delivery) = waiting_for_retry(Production).await;
    let base = format!("/webhooks/apps/{}/deliveries/{delivery}", slug(&app));

    let queued = api.ok(&format!("{base}?status=pending")).await;
    assert_eq!(queued["status"], "pending");
    assert_eq!(queued["payload"], json!({"order": 7}));
    assert_eq!(queued["attempt_number"], 1);
    assert_eq!(queued["http_status_code"], Value::Null);
    assert_eq!(queued["response_body"], Value::Null);
    let latest = api.ok(&base).await;
    assert_eq!(latest["status"], "failed");
    assert_eq!(latest["payload"]["data"], json!({"order": 7}));
    assert_eq!(latest["payload"]["type"], "e");
    assert_eq!(latest["response_body"], "reply 503");
    assert_eq!(latest["response_headers"], Value::Null);
    // Another status is not a filter in production: the latest row answers.
    let success = api.ok(&format!("{base}?status=success")).await;
    assert_eq!(success["status"], "failed");
    // The path's app only has to exist.
    let other = api.app_with_events(&["e"]).await;
    let elsewhere = api.delivery(&other, &delivery).await;
    assert_eq!(elsewhere["delivery_id"], json!(delivery));
    assert_eq!(elsewhere["app_slug"], app["app_slug"]);
}

#[tokio::test]
async fn p8_documented_reads_a_state_from_the_log() {
    let (_emu, api, app, delivery) = waiting_for_retry(Documented).await;
    let base = format!("/webhooks/apps/{}/deliveries/{delivery}", slug(&app));

    let pending = api.ok(&format!("{base}?status=pending")).await;
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["attempt_number"], 0);
    assert_eq!(pending["payload"], Value::Null);
    let latest = api.ok(&base).await;
    assert_eq!(latest["status"], "failed");
    assert_eq!(latest["payload"]["data"], json!({"order": 7}));
    assert!(latest["response_headers"]["content-length"].is_string());
    assert_error(&api.get(&format!("{base}?status=success")).await, 404, None);
    assert_error(&api.get(&format!("{base}?status=bogus")).await, 400, None);
    let other = api.app_with_events(&["e"]).await;
    assert_error(
        &api.get(&format!(
            "/webhooks/apps/{}/deliveries/{delivery}",
            slug(&other)
        ))
        .await,
        404,
        None,
    );
}

#[tokio::test]
async fn p8_production_has_no_pending_read_once_a_delivery_settled() {
    let (_emu, api) = start_in(Production).await;
    let receiver = Receiver::start().await;
    let (app, _) = single_attempt_app(&api, &receiver.url("/ok")).await;
    let delivery = trigger_one(&api, &app, "e", json!({})).await;
    let details = api.settled(&app, &delivery).await;
    assert_eq!(details["response_headers"], Value::Null);
    assert_error(
        &api.get(&format!(
            "/webhooks/apps/{}/deliveries/{delivery}?status=pending",
            slug(&app)
        ))
        .await,
        404,
        Some("Pending delivery not found"),
    );
}

/// Two deliveries of event `a` to one endpoint, one of `b` to another, and one connection failure
/// of event `c`; returns the app and the first endpoint.
async fn analytics_fixture(api: &Api, receiver: &Receiver) -> (Value, Value) {
    let app = api.app_with_events(&["a", "b", "c"]).await;
    let first = api
        .endpoint(&app, &receiver.url("/a"), "a", json!({}))
        .await;
    api.endpoint(&app, &receiver.url("/b"), "b", json!({}))
        .await;
    api.endpoint(
        &app,
        "http://hooks.example.com/wacht",
        "c",
        json!({"max_retries": 1}),
    )
    .await;
    for event in ["a", "a", "b", "c"] {
        let delivery = trigger_one(api, &app, event, json!({})).await;
        api.settled(&app, &delivery).await;
    }
    (app, first)
}

#[tokio::test]
async fn p9_production_analytics_quirks() {
    let (_emu, api) = start_in(Production).await;
    let receiver = Receiver::start().await;
    let (app, first) = analytics_fixture(&api, &receiver).await;
    let base = format!("/webhooks/apps/{}", slug(&app));

    let analytics = api.ok(&format!("{base}/analytics")).await;
    for row in analytics["endpoint_performance"].as_array().unwrap() {
        assert_eq!(row["endpoint_url"], row["endpoint_id"]);
    }
    assert_eq!(
        analytics["failure_reasons"],
        json!([{"reason": "Unknown", "count": 1}])
    );
    let one = api
        .ok(&format!(
            "{base}/analytics?endpoint_id={}",
            id(&first["id"])
        ))
        .await;
    assert_eq!(one["total_deliveries"], 2);
    assert_eq!(one["top_events"], analytics["top_events"]);
    assert_eq!(one["top_events"].as_array().unwrap().len(), 3);
    let series = api.ok(&format!("{base}/timeseries?interval=month")).await;
    let point = &series["data"][0];
    assert_eq!(point["total_deliveries"], 4);
    assert_eq!(point["total_events"], 4);
}

#[tokio::test]
async fn p9_documented_analytics() {
    let (_emu, api) = start_in(Documented).await;
    let receiver = Receiver::start().await;
    let (app, first) = analytics_fixture(&api, &receiver).await;
    let base = format!("/webhooks/apps/{}", slug(&app));

    let analytics = api.ok(&format!("{base}/analytics")).await;
    let perf = analytics["endpoint_performance"].as_array().unwrap();
    let first_row = perf
        .iter()
        .find(|r| r["endpoint_id"] == first["id"])
        .unwrap();
    assert_eq!(first_row["endpoint_url"], first["url"]);
    assert_eq!(
        analytics["failure_reasons"],
        json!([{"reason": "Connection Failed", "count": 1}])
    );
    let one = api
        .ok(&format!(
            "{base}/analytics?endpoint_id={}",
            id(&first["id"])
        ))
        .await;
    assert_eq!(one["top_events"], json!([{"event_name": "a", "count": 2}]));
    let series = api.ok(&format!("{base}/timeseries?interval=month")).await;
    let point = &series["data"][0];
    assert_eq!(point["total_deliveries"], 4);
    assert_eq!(point["total_events"], 3);
}

/// An endpoint after one exhausted delivery (500) and one after a 410.
async fn failed_endpoints(api: &Api, receiver: &Receiver) -> (Value, Value) {
    receiver.default_reply("/down", Reply::status(500));
    receiver.default_reply("/gone", Reply::status(410));
    let (app, down) = single_attempt_app(api, &receiver.url("/down")).await;
    let gone = api
        .endpoint(&app, &receiver.url("/gone"), "e", json!({}))
        .await;
    let body = api.trigger(&app, "e", json!({})).await;
    for delivery in body["delivery_ids"].as_array().unwrap() {
        api.settled(&app, id(delivery)).await;
    }
    (
        listed_endpoint(api, &app, &down).await,
        listed_endpoint(api, &app, &gone).await,
    )
}

#[tokio::test]
async fn p11_production_writes_only_is_active() {
    let (_emu, api) = start_in(Production).await;
    let receiver = Receiver::start().await;
    let (down, gone) = failed_endpoints(&api, &receiver).await;
    assert_eq!(down["is_active"], true);
    assert_eq!(gone["is_active"], false);
    for endpoint in [&down, &gone] {
        assert_eq!(endpoint["failure_count"], 0);
        assert_eq!(endpoint["last_failure_at"], Value::Null);
        assert_eq!(endpoint["auto_disabled"], false);
        assert_eq!(endpoint["auto_disabled_at"], Value::Null);
    }
}

#[tokio::test]
async fn p11_documented_records_failures_and_auto_disable() {
    let (_emu, api) = start_in(Documented).await;
    let receiver = Receiver::start().await;
    let (down, gone) = failed_endpoints(&api, &receiver).await;
    assert_eq!(down["failure_count"], 1);
    assert!(down["last_failure_at"].is_string());
    assert_eq!(down["auto_disabled"], false);
    assert_eq!(gone["is_active"], false);
    assert_eq!(gone["auto_disabled"], true);
    assert!(gone["auto_disabled_at"].is_string());
}

#[tokio::test]
async fn p14_production_lists_nothing_for_an_unknown_status() {
    let (_emu, api) = start_in(Production).await;
    let receiver = Receiver::start().await;
    let (app, _) = single_attempt_app(&api, &receiver.url("/ok")).await;
    let delivery = trigger_one(&api, &app, "e", json!({})).await;
    api.settled(&app, &delivery).await;
    let page = api
        .ok(&format!(
            "/webhooks/apps/{}/deliveries?status=bogus",
            slug(&app)
        ))
        .await;
    assert_eq!(page["data"], json!([]));
    assert_eq!(page["has_more"], false);
}

#[tokio::test]
async fn p14_documented_rejects_an_unknown_status() {
    let (_emu, api) = start_in(Documented).await;
    let app = api.app_with_events(&["e"]).await;
    assert_error(
        &api.get(&format!(
            "/webhooks/apps/{}/deliveries?status=bogus",
            slug(&app)
        ))
        .await,
        400,
        None,
    );
    // The statuses of production's endpoint rows are known values: nothing has them here.
    for status in ["reactivated", "deactivated"] {
        let (code, body) = api
            .get(&format!(
                "/webhooks/apps/{}/deliveries?status={status}",
                slug(&app)
            ))
            .await;
        assert_eq!(code, 200, "{status}: {body}");
        assert_eq!(body["data"], json!([]));
    }
}

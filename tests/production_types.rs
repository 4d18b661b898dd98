//! The generated types against what the production server really sends and accepts: endpoint
//! headers of any JSON, the endpoint-event statuses of the delivery log, update requests that clear
//! a list or a map, and the `status` option of `get_webhook_delivery`. The server is `wiremock`.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use wacht_webhooks::types::EventSubscriptionRequest;
use wacht_webhooks::{
    Client, DeliveryStatus, ListWebhookDeliveriesOptions, ListWebhookEndpointsOptions,
    ReplayStatusFilter, UpdateWebhookAppRequest, UpdateWebhookEndpointRequest,
    WebhookDeliveryOptions, WebhookEndpoint, Webhooks,
};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// A server answering every request with 200 and `answer`, and a client of it that never retries.
async fn serve(answer: Value) -> (MockServer, Webhooks) {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .mount(&server)
        .await;
    let client = Client::builder()
        .api_key("wk_test")
        .base_url(server.uri())
        .max_retries(0)
        .build()
        .unwrap();
    (server, client.webhooks())
}

async fn only_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "exactly one request");
    requests.remove(0)
}

fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).expect("a JSON body")
}

/// An endpoint as production sends it, with `headers` replaced.
fn endpoint_json(headers: Value) -> Value {
    json!({
        "id": "7291835012917346304",
        "deployment_id": "7291834471203418112",
        "app_slug": "billing",
        "url": "https://hooks.example.com/wacht",
        "description": null,
        "headers": headers,
        "is_active": true,
        "max_retries": 32,
        "timeout_seconds": 30,
        "failure_count": 0,
        "last_failure_at": null,
        "auto_disabled": false,
        "auto_disabled_at": null,
        "rate_limit_config": null,
        "created_at": "2026-06-01T12:05:00Z",
        "updated_at": "2026-06-01T12:05:00Z",
        "subscriptions": [{"event_name": "invoice.paid", "filter_rules": {}}]
    })
}

fn delivery_json(status: &str) -> Value {
    json!({
        "delivery_id": "7291836620163923968",
        "deployment_id": "7291834471203418112",
        "app_slug": "billing",
        "endpoint_id": "7291835012917346304",
        "event_name": format!("endpoint.{status}"),
        "status": status,
        "http_status_code": null,
        "response_time_ms": null,
        "attempt_number": 0,
        "max_attempts": 0,
        "timestamp": "2026-06-01T12:10:00Z"
    })
}

#[tokio::test]
async fn endpoints_decode_whatever_json_the_server_stored_as_headers() {
    let stored = [
        json!({"x-team": "payments", "x-retries": 3, "x-meta": {"a": 1}, "x-none": null, "x-on": true}),
        json!(null),
        json!(["not", "an", "object"]),
        json!("text"),
        json!({}),
    ];
    let page = json!({
        "data": stored.iter().cloned().map(endpoint_json).collect::<Vec<_>>(),
        "has_more": false, "limit": 100, "offset": 0
    });
    let (_server, webhooks) = serve(page).await;
    let listed = webhooks
        .list_webhook_endpoints("billing", ListWebhookEndpointsOptions::new())
        .await
        .expect("every stored value decodes");
    let headers: Vec<&Value> = listed.data.iter().map(|e| &e.headers).collect();
    assert_eq!(headers, stored.iter().collect::<Vec<_>>());

    let mixed = &listed.data[0];
    assert_eq!(mixed.header("x-team"), Some("payments"));
    for not_sent in ["x-retries", "x-meta", "x-none", "x-on", "x-missing"] {
        assert_eq!(mixed.header(not_sent), None, "{not_sent}");
    }
    for odd in &listed.data[1..] {
        assert_eq!(odd.header("x-team"), None);
    }
}

#[tokio::test]
async fn a_single_endpoint_with_a_numeric_header_decodes() {
    let (_server, webhooks) = serve(endpoint_json(json!({"x-count": 7}))).await;
    let endpoint: WebhookEndpoint = webhooks
        .update_webhook_endpoint("billing", "1", UpdateWebhookEndpointRequest::new())
        .await
        .unwrap();
    assert_eq!(endpoint.headers["x-count"], 7);
}

#[tokio::test]
async fn update_app_sends_an_empty_list_to_clear_it() {
    let app = json!({
        "deployment_id": "1", "app_slug": "billing", "name": "Billing", "description": null,
        "signing_secret": "whsec_MS0tfLkgengXIJCU4OG32EVUMNlU0AsIazBbm8FDVWY=",
        "failure_notification_emails": [], "event_catalog_slug": null, "is_active": true,
        "created_at": "2026-06-01T12:00:00Z", "updated_at": "2026-06-01T12:00:00Z"
    });
    let (server, webhooks) = serve(app).await;
    webhooks
        .update_webhook_app(
            "billing",
            UpdateWebhookAppRequest::new().failure_notification_emails(Vec::<String>::new()),
        )
        .await
        .unwrap();
    assert_eq!(
        body(&only_request(&server).await),
        json!({"failure_notification_emails": []})
    );
}

#[tokio::test]
async fn update_endpoint_sends_an_empty_map_and_an_empty_list() {
    let (server, webhooks) = serve(endpoint_json(json!({}))).await;
    webhooks
        .update_webhook_endpoint(
            "billing",
            "1",
            UpdateWebhookEndpointRequest::new()
                .headers(BTreeMap::new())
                .subscriptions(Vec::<EventSubscriptionRequest>::new()),
        )
        .await
        .unwrap();
    assert_eq!(
        body(&only_request(&server).await),
        json!({"headers": {}, "subscriptions": []})
    );
}

#[tokio::test]
async fn updates_omit_every_field_left_unset() {
    let (server, webhooks) = serve(endpoint_json(json!({}))).await;
    webhooks
        .update_webhook_endpoint(
            "billing",
            "1",
            UpdateWebhookEndpointRequest::new().is_active(false),
        )
        .await
        .unwrap();
    assert_eq!(
        body(&only_request(&server).await),
        json!({"is_active": false})
    );
    let empty = serde_json::to_value(UpdateWebhookAppRequest::new()).unwrap();
    assert_eq!(empty, json!({}));
    let set = serde_json::to_value(
        UpdateWebhookEndpointRequest::new()
            .header("x-team", "crm")
            .header("x-env", "prod"),
    )
    .unwrap();
    assert_eq!(set, json!({"headers": {"x-team": "crm", "x-env": "prod"}}));
}

#[tokio::test]
async fn endpoint_event_rows_of_the_delivery_log_are_known_statuses() {
    let page = json!({
        "data": [delivery_json("reactivated"), delivery_json("deactivated")],
        "has_more": false, "limit": 100, "offset": 0
    });
    let (_server, webhooks) = serve(page).await;
    let listed = webhooks
        .list_webhook_deliveries("billing", ListWebhookDeliveriesOptions::new())
        .await
        .unwrap();
    let statuses: Vec<_> = listed.data.iter().map(|d| d.status.clone()).collect();
    assert_eq!(
        statuses,
        [DeliveryStatus::Reactivated, DeliveryStatus::Deactivated]
    );
    assert_eq!(DeliveryStatus::from("reactivated").as_str(), "reactivated");
    assert_eq!(
        "deactivated".parse::<DeliveryStatus>(),
        Ok(DeliveryStatus::Deactivated)
    );
}

#[test]
fn replays_cannot_select_endpoint_event_statuses() {
    for status in [DeliveryStatus::Reactivated, DeliveryStatus::Deactivated] {
        assert!(status.as_str().parse::<ReplayStatusFilter>().is_err());
        assert!(!ReplayStatusFilter::VALUES.contains(&status.as_str()));
    }
}

fn pending_details() -> Value {
    let mut details = delivery_json("pending");
    let extra = json!({
        "event_name": "invoice.paid",
        "payload": {"invoice_id": "inv_1"},
        "response_body": null,
        "response_headers": null
    });
    for (key, value) in extra.as_object().unwrap() {
        details[key] = value.clone();
    }
    details
}

#[tokio::test]
async fn get_webhook_delivery_with_status_sends_the_query() {
    let (server, webhooks) = serve(pending_details()).await;
    let delivery = webhooks
        .get_webhook_delivery_with(
            "billing",
            "7291836620163923968",
            WebhookDeliveryOptions::new().status(DeliveryStatus::Pending),
        )
        .await
        .unwrap();
    assert_eq!(delivery.status, DeliveryStatus::Pending);
    assert_eq!(delivery.payload, json!({"invoice_id": "inv_1"}));
    let request = only_request(&server).await;
    assert_eq!(
        request.url.path(),
        "/webhooks/apps/billing/deliveries/7291836620163923968"
    );
    assert_eq!(request.url.query(), Some("status=pending"));
}

#[tokio::test]
async fn get_webhook_delivery_sends_no_query() {
    let (server, webhooks) = serve(pending_details()).await;
    webhooks
        .get_webhook_delivery("billing", "7291836620163923968")
        .await
        .unwrap();
    assert_eq!(only_request(&server).await.url.query(), None);
}

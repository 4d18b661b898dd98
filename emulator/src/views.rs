//! The JSON bodies of successful responses, with ids as strings and RFC 3339 times.

use serde::Serialize;
use serde_json::{Map, Value};

/// A limit/offset page.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub has_more: bool,
    pub limit: i64,
    pub offset: i64,
}

/// `WebhookApp`.
#[derive(Debug, Serialize)]
pub struct AppView {
    pub deployment_id: String,
    pub app_slug: String,
    pub name: String,
    pub description: Option<String>,
    pub signing_secret: String,
    pub failure_notification_emails: Vec<String>,
    pub event_catalog_slug: Option<String>,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// `rate_limit_config`.
#[derive(Debug, Serialize)]
pub struct RateLimitView {
    pub duration_ms: i64,
    pub max_requests: i64,
}

/// `EventSubscription`.
#[derive(Debug, Serialize)]
pub struct SubscriptionView {
    pub event_name: String,
    pub filter_rules: Value,
}

/// `WebhookEndpoint`; `subscriptions` only in list responses.
#[derive(Debug, Serialize)]
pub struct EndpointView {
    pub id: String,
    pub deployment_id: String,
    pub app_slug: String,
    pub url: String,
    pub description: Option<String>,
    pub headers: Value,
    pub is_active: bool,
    pub max_retries: u32,
    pub timeout_seconds: i64,
    pub failure_count: u32,
    pub last_failure_at: Option<String>,
    pub auto_disabled: bool,
    pub auto_disabled_at: Option<String>,
    pub rate_limit_config: Option<RateLimitView>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriptions: Option<Vec<SubscriptionView>>,
}

/// `ReactivateEndpointResponse`.
#[derive(Debug, Serialize)]
pub struct ReactivateView {
    pub success: bool,
    pub message: String,
}

/// `TestWebhookEndpointResponse`: the production service's fixed answer.
#[derive(Debug, Serialize)]
pub struct TestEndpointView {
    pub success: bool,
    pub status_code: u16,
    pub response_time_ms: u64,
    pub response_body: String,
    pub error: Option<String>,
}

/// `WebhookDelivery`: one delivery as of one of its states.
#[derive(Debug, Serialize)]
pub struct DeliveryView {
    pub delivery_id: String,
    pub deployment_id: String,
    pub app_slug: String,
    pub endpoint_id: String,
    pub event_name: String,
    pub status: &'static str,
    pub http_status_code: Option<u16>,
    pub response_time_ms: Option<u64>,
    pub attempt_number: u32,
    pub max_attempts: u32,
    pub timestamp: String,
}

/// `WebhookDeliveryDetails`.
#[derive(Debug, Serialize)]
pub struct DeliveryDetailsView {
    #[serde(flatten)]
    pub row: DeliveryView,
    pub payload: Option<Value>,
    pub response_body: Option<String>,
    pub response_headers: Option<Map<String, Value>>,
}

/// `TriggerWebhookEventResponse`.
#[derive(Debug, Serialize)]
pub struct TriggerView {
    pub delivery_ids: Vec<String>,
    pub filtered_count: u64,
    pub delivered_count: u64,
}

/// `ReplayWebhookDeliveryResponse`.
#[derive(Debug, Serialize)]
pub struct ReplayQueuedView {
    pub status: &'static str,
    pub message: &'static str,
    pub task_id: Option<String>,
}

/// `ReplayTaskStatus`.
#[derive(Debug, Serialize)]
pub struct ReplayTaskView {
    pub task_id: String,
    pub app_slug: String,
    pub status: &'static str,
    pub created_at: Option<String>,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub total_count: u64,
    pub processed: u64,
    pub replayed_count: u64,
    pub failed_count: u64,
    pub last_delivery_id: Option<String>,
}

/// `CancelReplayTaskResponse`.
#[derive(Debug, Serialize)]
pub struct CancelView {
    pub status: &'static str,
    pub message: &'static str,
}

/// `WebhookEventDefinition`.
#[derive(Debug, Serialize)]
pub struct EventDefinitionView {
    pub name: String,
    pub description: String,
    pub group: Option<String>,
    pub schema: Option<Value>,
    pub example_payload: Option<Value>,
    pub is_archived: bool,
}

/// `WebhookEventCatalog`.
#[derive(Debug, Serialize)]
pub struct CatalogView {
    pub deployment_id: String,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub events: Vec<EventDefinitionView>,
    pub created_at: String,
    pub updated_at: String,
}

/// The catalog list: `{data, has_more:false}`, no limit/offset.
#[derive(Debug, Serialize)]
pub struct CatalogListView {
    pub data: Vec<CatalogView>,
    pub has_more: bool,
}

/// `WebhookAppEvent`.
#[derive(Debug, Serialize)]
pub struct AppEventView {
    pub deployment_id: String,
    pub app_slug: String,
    pub event_name: String,
    pub description: Option<String>,
    pub schema: Option<Value>,
    pub created_at: String,
}

/// `{events: WebhookAppEvent[]}`.
#[derive(Debug, Serialize)]
pub struct AppEventsView {
    pub events: Vec<AppEventView>,
}

/// `WebhookStats`.
#[derive(Debug, Serialize, PartialEq)]
pub struct StatsView {
    pub total_deliveries: u64,
    pub success_rate: f64,
    pub active_endpoints: u64,
    pub failed_deliveries_24h: u64,
}

/// `{event_name, count}` of `top_events`.
#[derive(Debug, Serialize, PartialEq)]
pub struct EventCountView {
    pub event_name: String,
    pub count: u64,
}

/// One row of `endpoint_performance`.
#[derive(Debug, Serialize, PartialEq)]
pub struct EndpointPerformanceView {
    pub endpoint_id: String,
    pub endpoint_url: String,
    pub total_attempts: u64,
    pub successful_attempts: u64,
    pub failed_attempts: u64,
    pub avg_response_time_ms: Option<f64>,
    pub success_rate: f64,
}

/// One row of `failure_reasons`.
#[derive(Debug, Serialize, PartialEq)]
pub struct FailureReasonView {
    pub reason: &'static str,
    pub count: u64,
}

/// `WebhookAnalyticsResult`.
#[derive(Debug, Serialize, PartialEq)]
pub struct AnalyticsView {
    pub total_events: u64,
    pub total_deliveries: u64,
    pub successful_deliveries: u64,
    pub failed_deliveries: u64,
    pub filtered_deliveries: u64,
    pub avg_response_time_ms: Option<f64>,
    pub p50_response_time_ms: Option<f64>,
    pub p95_response_time_ms: Option<f64>,
    pub p99_response_time_ms: Option<f64>,
    pub success_rate: f64,
    pub top_events: Vec<EventCountView>,
    pub endpoint_performance: Vec<EndpointPerformanceView>,
    pub failure_reasons: Vec<FailureReasonView>,
}

/// `TimeseriesPoint`.
#[derive(Debug, Serialize, PartialEq)]
pub struct TimeseriesPointView {
    pub timestamp: String,
    pub total_events: u64,
    pub total_deliveries: u64,
    pub successful_deliveries: u64,
    pub failed_deliveries: u64,
    pub filtered_deliveries: u64,
    pub avg_response_time_ms: Option<f64>,
    pub success_rate: f64,
}

/// `{data, interval}`.
#[derive(Debug, Serialize, PartialEq)]
pub struct TimeseriesView {
    pub data: Vec<TimeseriesPointView>,
    pub interval: &'static str,
}

/// The body of a successful DELETE: `{}`.
#[derive(Debug, Serialize)]
pub struct EmptyView {}

//! The JSON bodies the API accepts. A body that does not deserialise is a 422; the rules that need
//! the state (unknown events, ranges, duplicates) are checked by the store and answer 400/404/409.

use serde::Deserialize;
use serde_json::Value;

use crate::wire::{non_null, FlexId};

/// `CreateWebhookAppRequest`.
#[derive(Debug, Deserialize)]
pub struct CreateAppRequest {
    pub name: String,
    #[serde(default, deserialize_with = "non_null")]
    pub app_slug: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    pub failure_notification_emails: Option<Vec<String>>,
    #[serde(default, deserialize_with = "non_null")]
    pub event_catalog_slug: Option<String>,
}

/// `UpdateWebhookAppRequest`: a missing or null field means unchanged.
#[derive(Debug, Default, Deserialize)]
pub struct UpdateAppRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(default)]
    pub failure_notification_emails: Option<Vec<String>>,
    #[serde(default)]
    pub event_catalog_slug: Option<String>,
}

/// `EventSubscription` in a request.
#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionInput {
    pub event_name: String,
    #[serde(default)]
    pub filter_rules: Option<Value>,
}

/// `rate_limit_config` in a request.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct RateLimitInput {
    pub duration_ms: i64,
    pub max_requests: i64,
}

/// `CreateWebhookEndpointRequest`.
#[derive(Debug, Deserialize)]
pub struct CreateEndpointRequest {
    // Required on the wire although the path names the app (and wins).
    #[allow(dead_code)]
    pub app_slug: String,
    pub url: String,
    pub subscriptions: Vec<SubscriptionInput>,
    #[serde(default, deserialize_with = "non_null")]
    pub description: Option<String>,
    /// Any JSON here; the store applies the behaviour's rule.
    #[serde(default, deserialize_with = "non_null")]
    pub headers: Option<Value>,
    #[serde(default, deserialize_with = "non_null")]
    pub max_retries: Option<i64>,
    #[serde(default, deserialize_with = "non_null")]
    pub timeout_seconds: Option<i64>,
    #[serde(default, deserialize_with = "non_null")]
    pub rate_limit_config: Option<RateLimitInput>,
}

/// `UpdateWebhookEndpointRequest`: a missing or null field means unchanged.
#[derive(Debug, Default, Deserialize)]
pub struct UpdateEndpointRequest {
    #[serde(default, deserialize_with = "non_null")]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    pub description: Option<String>,
    /// Any JSON here; the store applies the behaviour's rule.
    #[serde(default, deserialize_with = "non_null")]
    pub headers: Option<Value>,
    #[serde(default, deserialize_with = "non_null")]
    pub max_retries: Option<i64>,
    #[serde(default, deserialize_with = "non_null")]
    pub timeout_seconds: Option<i64>,
    #[serde(default, deserialize_with = "non_null")]
    pub is_active: Option<bool>,
    #[serde(default, deserialize_with = "non_null")]
    pub subscriptions: Option<Vec<SubscriptionInput>>,
    #[serde(default, deserialize_with = "non_null")]
    pub rate_limit_config: Option<RateLimitInput>,
}

/// `TestWebhookEndpointRequest`.
#[derive(Debug, Deserialize)]
pub struct TestEndpointRequest {
    pub event_name: String,
    #[serde(default)]
    pub payload: Option<Value>,
}

/// `TriggerWebhookEventRequest`.
#[derive(Debug, Deserialize)]
pub struct TriggerRequest {
    // Required on the wire although the path names the app (and wins).
    #[allow(dead_code)]
    pub app_slug: String,
    pub event_name: String,
    pub payload: Value,
    // Accepted and unused, as by the production service.
    #[serde(default)]
    #[allow(dead_code)]
    pub filter_context: Option<Value>,
}

/// The by-ids shape of `ReplayWebhookDeliveriesRequest` (no other keys allowed).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayByIdsRequest {
    pub delivery_ids: Vec<FlexId>,
    #[serde(default, deserialize_with = "non_null")]
    pub idempotency_key: Option<String>,
}

/// The by-date-range shape of `ReplayWebhookDeliveriesRequest` (no other keys allowed).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayByRangeRequest {
    pub start_date: String,
    #[serde(default, deserialize_with = "non_null")]
    pub end_date: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    pub event_name: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    pub endpoint_id: Option<FlexId>,
    #[serde(default, deserialize_with = "non_null")]
    pub idempotency_key: Option<String>,
}

/// `ReplayWebhookDeliveriesRequest`, one of its two shapes.
#[derive(Debug)]
pub enum ReplayRequest {
    /// Replay these deliveries.
    ByIds(ReplayByIdsRequest),
    /// Replay the deliveries of a time window.
    ByRange(ReplayByRangeRequest),
}

impl ReplayRequest {
    /// Picks the shape by `delivery_ids`; `None` when the body fits neither shape (a key of the
    /// other shape included).
    pub fn from_value(value: Value) -> Option<Self> {
        if value.get("delivery_ids").is_some() {
            serde_json::from_value(value).ok().map(Self::ByIds)
        } else {
            serde_json::from_value(value).ok().map(Self::ByRange)
        }
    }

    /// The idempotency key as given.
    pub fn idempotency_key(&self) -> Option<&str> {
        match self {
            Self::ByIds(r) => r.idempotency_key.as_deref(),
            Self::ByRange(r) => r.idempotency_key.as_deref(),
        }
    }
}

/// `WebhookEventDefinition` in a request.
#[derive(Debug, Clone, Deserialize)]
pub struct EventDefinitionInput {
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub schema: Option<Value>,
    #[serde(default)]
    pub example_payload: Option<Value>,
    #[serde(default, deserialize_with = "non_null")]
    pub is_archived: Option<bool>,
}

/// `CreateWebhookEventCatalogRequest`.
#[derive(Debug, Deserialize)]
pub struct CreateCatalogRequest {
    pub slug: String,
    pub name: String,
    #[serde(default, deserialize_with = "non_null")]
    pub description: Option<String>,
    pub events: Vec<EventDefinitionInput>,
}

/// `UpdateWebhookEventCatalogRequest`.
#[derive(Debug, Deserialize)]
pub struct UpdateCatalogRequest {
    #[serde(default, deserialize_with = "non_null")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    pub description: Option<String>,
}

/// The body of append-events.
#[derive(Debug, Deserialize)]
pub struct AppendEventsRequest {
    pub events: Vec<EventDefinitionInput>,
}

/// The body of archive-event.
#[derive(Debug, Deserialize)]
pub struct ArchiveEventRequest {
    pub event_name: String,
    pub is_archived: bool,
}

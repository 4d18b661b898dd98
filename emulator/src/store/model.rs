//! The records the store keeps. Everything here is plain data; the rules live in the store's methods.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::signing::SigningKey;

/// A webhook app (the unit of signing secret, endpoints and deliveries).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct App {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub signing_secret: String,
    /// Derived from `signing_secret`; rebuilt from it when a state file is loaded.
    #[serde(skip, default = "SigningKey::placeholder")]
    pub key: SigningKey,
    pub failure_notification_emails: Vec<String>,
    pub event_catalog_slug: Option<String>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An event catalog: the events apps that name it know.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Catalog {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub events: Vec<EventDefinition>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One event of a catalog.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventDefinition {
    pub name: String,
    pub description: String,
    pub group: Option<String>,
    pub schema: Option<Value>,
    pub example_payload: Option<Value>,
    pub is_archived: bool,
}

/// An endpoint's `rate_limit_config`: at most `max_requests` sends per `duration_ms`, stored as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    pub duration_ms: i64,
    pub max_requests: i64,
}

impl RateLimit {
    /// The window and the count, when both are positive; otherwise nothing is throttled.
    pub fn applies(self) -> Option<(std::time::Duration, usize)> {
        let window = u64::try_from(self.duration_ms).ok().filter(|d| *d > 0)?;
        let count = usize::try_from(self.max_requests).ok().filter(|c| *c > 0)?;
        Some((std::time::Duration::from_millis(window), count))
    }
}

/// A subscription of an endpoint to one event name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscription {
    pub event_name: String,
    pub filter_rules: Value,
}

/// An endpoint that receives an app's deliveries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: i64,
    pub app_id: i64,
    pub url: String,
    pub description: Option<String>,
    /// As stored: an object of header values, or (production) any JSON another client sent.
    pub headers: Value,
    pub is_active: bool,
    pub max_retries: u32,
    /// Within `TIMEOUT_SECONDS_RANGE` (validated when saved).
    pub timeout_seconds: i64,
    /// Times of deliveries that used up their attempts; those of the last 24 h count.
    pub failures: Vec<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    pub auto_disabled: bool,
    pub auto_disabled_at: Option<DateTime<Utc>>,
    pub rate_limit: Option<RateLimit>,
    /// Start instants of recent sends, for `rate_limit` (not kept in a state file).
    #[serde(skip)]
    pub recent_sends: VecDeque<Instant>,
    pub subscriptions: Vec<Subscription>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An endpoint as answers show it: the record, its app's slug and the failures that count.
#[derive(Debug, Clone)]
pub struct EndpointState {
    pub endpoint: Endpoint,
    pub app_slug: String,
    /// Exhausted deliveries within the failure window (production: always 0, P11).
    pub failure_count: u64,
    /// Whether answers list the subscriptions (list answers only).
    pub with_subscriptions: bool,
}

/// The states of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeliveryStatus {
    Pending,
    Success,
    Failed,
    PermanentlyFailed,
    Filtered,
    EndpointDisabled,
}

impl DeliveryStatus {
    /// Whether more work is still to come for the delivery.
    pub fn in_flight(self) -> bool {
        matches!(self, Self::Pending | Self::Failed)
    }
}

/// What happened in one attempt to send a delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attempt {
    pub url: String,
    pub status_code: Option<u16>,
    pub response_time_ms: u64,
    pub response_body: Option<String>,
    pub response_headers: Option<Map<String, Value>>,
}

/// One state of a delivery in its log: the state it entered and, when an attempt caused it, that attempt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogRow {
    pub status: DeliveryStatus,
    pub at: DateTime<Utc>,
    pub attempts_made: u32,
    pub attempt: Option<Attempt>,
}

/// A delivery of one event to one endpoint, with every state it went through.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub app_id: i64,
    pub endpoint_id: i64,
    pub event_name: String,
    /// Shared by the deliveries of one trigger and their replays.
    pub payload: std::sync::Arc<Value>,
    /// The event whose subscription filter must still match when the delivery is sent.
    pub filter_event: String,
    /// Whether the endpoint must still be subscribed to `filter_event` (not so for test sends).
    pub require_subscription: bool,
    /// `webhook-timestamp`, fixed at creation and reused on retries.
    pub webhook_timestamp: i64,
    /// The outbound envelope, fixed at creation so that every attempt sends the same bytes.
    #[serde(with = "super::persist::utf8_bytes")]
    pub body: Bytes,
    pub max_attempts: u32,
    pub log: Vec<LogRow>,
    /// Its place in the settle order while it is settled and retained.
    pub settled_seq: Option<u64>,
}

impl Delivery {
    /// The latest state.
    pub fn latest(&self) -> &LogRow {
        // A delivery is created with its pending row, so the log is never empty.
        self.log
            .last()
            .expect("a delivery log starts with its pending row")
    }

    /// The latest state's status.
    pub fn status(&self) -> DeliveryStatus {
        self.latest().status
    }

    /// The attempts made so far, oldest first.
    pub fn attempts(&self) -> impl Iterator<Item = &Attempt> {
        self.log.iter().filter_map(|row| row.attempt.as_ref())
    }
}

/// The status of a row of the delivery log: a delivery's state, or what the service did to an
/// endpoint (production lists both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowStatus {
    Delivery(DeliveryStatus),
    Endpoint(EndpointEventKind),
}

/// One row of the delivery log as answers show it.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    /// The delivery's id (an endpoint row's own id).
    pub id: i64,
    pub app_slug: String,
    pub endpoint_id: i64,
    pub event_name: String,
    pub status: RowStatus,
    pub http_status_code: Option<u16>,
    pub response_time_ms: Option<u64>,
    pub attempt_number: u32,
    pub max_attempts: u32,
    /// When the row's state was reached.
    pub at: DateTime<Utc>,
}

/// A row of the delivery log with its payload and the endpoint's answer.
#[derive(Debug, Clone)]
pub struct DeliveryDetails {
    pub row: DeliveryRow,
    pub payload: Option<Value>,
    pub response_body: Option<String>,
    pub response_headers: Option<Map<String, Value>>,
}

/// What the service itself did to an endpoint, as production records it in the delivery log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EndpointEventKind {
    /// Reactivated through the API.
    Reactivated,
    /// Deactivated after too many exhausted deliveries.
    Deactivated,
}

impl EndpointEventKind {
    /// The event name of its log row.
    pub fn event_name(self) -> &'static str {
        match self {
            Self::Reactivated => "endpoint.reactivated",
            Self::Deactivated => "endpoint.deactivated",
        }
    }

    /// The `max_attempts` of its log row (production writes 1 on reactivation, 0 on deactivation).
    pub fn max_attempts(self) -> u32 {
        match self {
            Self::Reactivated => 1,
            Self::Deactivated => 0,
        }
    }
}

/// A log row about an endpoint rather than a delivery; it has an id of its own, listed as a
/// `delivery_id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndpointEvent {
    pub id: i64,
    pub app_id: i64,
    pub endpoint_id: i64,
    pub kind: EndpointEventKind,
    pub at: DateTime<Utc>,
}

/// The states of a replay task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskStatus {
    Queued,
    Running,
    Completed,
    Cancelled,
}

impl TaskStatus {
    /// Whether the task still counts against the app's limit of running tasks.
    pub fn is_running(self) -> bool {
        matches!(self, Self::Queued | Self::Running)
    }
}

/// An asynchronous replay of a fixed list of deliveries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplayTask {
    pub id: i64,
    pub app_id: i64,
    pub status: TaskStatus,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The deliveries to replay; `None` for a requested id that is not a number.
    pub items: Vec<Option<i64>>,
    pub processed: u64,
    pub replayed_count: u64,
    pub failed_count: u64,
    pub last_delivery_id: Option<i64>,
    /// When the record expires: refreshed by every update of the task.
    pub expires_at: DateTime<Utc>,
}

impl ReplayTask {
    /// Whether the record still exists at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at > now
    }
}

/// A replay task as answers show it, with its app's slug.
#[derive(Debug, Clone)]
pub struct ReplayTaskState {
    pub app_slug: String,
    pub task: ReplayTask,
}

/// An app's index of replay tasks: task ids in the order they were queued. The whole index expires
/// a fixed time after the last task was added; its entries outlive the records they name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskIndex {
    pub ids: Vec<i64>,
    pub expires_at: DateTime<Utc>,
}

/// What an idempotency key of a replay request stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReplayKey {
    /// The first request with this key is still queuing its task.
    Pending,
    /// The task the first request queued.
    Task(i64),
}

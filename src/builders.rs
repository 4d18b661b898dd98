//! Builder conveniences that need judgement: the generator emits `new` and one setter per field
//! for every request type; these add the shorthands people reach for (`subscribe`, `header`,
//! `event`) and the replay request, whose two wire shapes share one builder. Also
//! [`WebhookEndpoint::header`], the reading side of `header`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::Error;
use crate::generated::types::{
    self, CreateWebhookEndpointRequest, CreateWebhookEventCatalogRequest, EventSubscriptionRequest,
    RateLimitConfig, ReplayStatusFilter, TriggerWebhookEventRequest, UpdateWebhookEndpointRequest,
    WebhookEndpoint, WebhookEventDefinition,
};

impl CreateWebhookEndpointRequest {
    /// Subscribes the endpoint to `event_name`, every payload.
    pub fn subscribe(mut self, event_name: impl Into<String>) -> Self {
        self.subscriptions
            .push(EventSubscriptionRequest::new(event_name));
        self
    }

    /// Subscribes the endpoint to `event_name` for the payloads that match `filter_rules`
    /// (for example `json!({"amount": {"$gte": 100}})`).
    pub fn subscribe_filtered(
        mut self,
        event_name: impl Into<String>,
        filter_rules: Value,
    ) -> Self {
        self.subscriptions
            .push(EventSubscriptionRequest::new(event_name).filter_rules(filter_rules));
        self
    }

    /// Adds one HTTP header to every delivery.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Throttles sends to at most `max_requests` per `window` (see [`RateLimitConfig::per`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use wacht_webhooks::CreateWebhookEndpointRequest;
    /// let request = CreateWebhookEndpointRequest::new("https://example.com/hooks")
    ///     .rate_limit(20, Duration::from_secs(1));
    /// assert_eq!(request.rate_limit_config.unwrap().duration_ms, 1000);
    /// ```
    pub fn rate_limit(mut self, max_requests: u32, window: Duration) -> Self {
        self.rate_limit_config = Some(RateLimitConfig::per(max_requests, window));
        self
    }
}

impl RateLimitConfig {
    /// At most `max_requests` sends per `window`. The wire counts the window in whole
    /// milliseconds: a sub-millisecond remainder is dropped, and a window too long for the wire's
    /// 64-bit count is sent as the longest it can carry.
    pub fn per(max_requests: u32, window: Duration) -> Self {
        let millis = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        RateLimitConfig::new(millis, i64::from(max_requests))
    }
}

impl UpdateWebhookEndpointRequest {
    /// Adds one HTTP header to the set that replaces the endpoint's headers; `headers(BTreeMap::new())`
    /// sends `{}`, which clears them.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers
            .get_or_insert_with(Default::default)
            .insert(name.into(), value.into());
        self
    }
}

impl WebhookEndpoint {
    /// The extra header `name` as deliveries send it: `Some` when `headers` is an object whose
    /// `name` entry is a string. The server stores whatever JSON a client sent as `headers`, and
    /// deliveries skip values that are not strings, so this does too; read `headers` for the rest.
    ///
    /// ```
    /// # let mut endpoint: wacht_webhooks::WebhookEndpoint = serde_json::from_value(serde_json::json!({
    /// #     "id": "1", "deployment_id": "2", "app_slug": "billing", "url": "https://example.com/h",
    /// #     "description": null, "is_active": true, "max_retries": 32, "timeout_seconds": 30,
    /// #     "failure_count": 0, "last_failure_at": null, "auto_disabled": false, "auto_disabled_at": null,
    /// #     "rate_limit_config": null, "created_at": "2026-06-01T12:00:00Z", "updated_at": "2026-06-01T12:00:00Z",
    /// #     "headers": {}
    /// # })).unwrap();
    /// endpoint.headers = serde_json::json!({"x-team": "payments", "x-retries": 3});
    /// assert_eq!(endpoint.header("x-team"), Some("payments"));
    /// assert_eq!(endpoint.header("x-retries"), None); // not a string: deliveries leave it out
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.as_str()
    }
}

impl CreateWebhookEventCatalogRequest {
    /// Adds one event definition to the catalog.
    pub fn event(mut self, event: WebhookEventDefinition) -> Self {
        self.events.push(event);
        self
    }
}

impl TriggerWebhookEventRequest {
    /// A trigger whose payload is `payload` serialized to JSON; fails with
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when it does not serialize.
    pub fn from_serializable<T: Serialize + ?Sized>(
        event_name: impl Into<String>,
        payload: &T,
    ) -> Result<Self, Error> {
        let payload = serde_json::to_value(payload).map_err(|err| {
            Error::invalid_input(
                "trigger_webhook_event",
                format!("the payload does not serialize to JSON: {err}"),
            )
        })?;
        Ok(TriggerWebhookEventRequest::new(event_name, payload))
    }
}

/// Which deliveries a replay selects: the one selection of [`ReplayWebhookDeliveriesRequest`] and
/// of the jobs [`crate::Webhooks::replay`] splits into such requests.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Selection {
    Ids(Vec<String>),
    Range {
        start: DateTime<Utc>,
        end: Option<DateTime<Utc>>,
    },
}

/// The filters of a date-range replay.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Filters {
    pub(crate) status: Option<ReplayStatusFilter>,
    pub(crate) event_name: Option<String>,
    pub(crate) endpoint_id: Option<String>,
}

impl Filters {
    /// The name of the first filter that is set.
    fn first_set(&self) -> Option<&'static str> {
        [
            self.status.as_ref().map(|_| "status"),
            self.event_name.as_ref().map(|_| "event_name"),
            self.endpoint_id.as_ref().map(|_| "endpoint_id"),
        ]
        .into_iter()
        .flatten()
        .next()
    }
}

impl Selection {
    /// The one check of a replay's selection and filters, for single requests and jobs alike.
    pub(crate) fn check(&self, filters: &Filters, operation: &'static str) -> Result<(), Error> {
        match self {
            Selection::Ids(ids) => {
                if let Some(filter) = filters.first_set() {
                    return Err(Error::invalid_input(
                        operation,
                        format!(
                            "`{filter}` filters date-range replays only; a replay by ids replays exactly the ids given"
                        ),
                    ));
                }
                if ids.is_empty() {
                    return Err(Error::invalid_input(operation, "no delivery ids to replay"));
                }
                Ok(())
            }
            Selection::Range {
                start,
                end: Some(end),
            } if end < start => Err(Error::invalid_input(
                operation,
                format!("the range ends ({end}) before it starts ({start})"),
            )),
            Selection::Range { .. } => Ok(()),
        }
    }
}

/// A replay request: deliveries by id, or by a window of time with optional filters.
///
/// The server takes at most 500 ids and 48 hours per request; [`crate::Webhooks::replay`] splits
/// larger jobs. The filters (`status`, `event_name`, `endpoint_id`) apply to date-range replays
/// only; setting one on a by-ids request is reported as
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when it is sent.
///
/// ```
/// use chrono::{Duration, Utc};
/// use wacht_webhooks::{ReplayStatusFilter, ReplayWebhookDeliveriesRequest};
///
/// let by_ids = ReplayWebhookDeliveriesRequest::by_ids(["7291834471203418112", "7291834471203418113"]);
/// let by_range = ReplayWebhookDeliveriesRequest::by_date_range(Utc::now() - Duration::hours(2), None)
///     .status(ReplayStatusFilter::PermanentlyFailed)
///     .event_name("invoice.paid")
///     .idempotency_key("incident-42");
/// ```
///
/// The status filter takes only the states the server can select for a replay, so a state it
/// would refuse (`pending`, `reactivated`, ...) does not compile:
///
/// ```compile_fail
/// use chrono::Utc;
/// use wacht_webhooks::{DeliveryStatus, ReplayWebhookDeliveriesRequest};
/// let request = ReplayWebhookDeliveriesRequest::by_date_range(Utc::now(), None)
///     .status(DeliveryStatus::Reactivated);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayWebhookDeliveriesRequest {
    selection: Selection,
    filters: Filters,
    idempotency_key: Option<String>,
}

impl ReplayWebhookDeliveriesRequest {
    pub(crate) fn new(selection: Selection, filters: Filters) -> Self {
        ReplayWebhookDeliveriesRequest {
            selection,
            filters,
            idempotency_key: None,
        }
    }

    /// Replays the given deliveries (1 to 500 per request).
    pub fn by_ids<I>(ids: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let ids = ids.into_iter().map(Into::into).collect();
        Self::new(Selection::Ids(ids), Filters::default())
    }

    /// Replays the deliveries created from `start` to `end` (default: now), at most 48 hours.
    pub fn by_date_range(start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> Self {
        Self::new(Selection::Range { start, end }, Filters::default())
    }

    /// Only deliveries whose latest state is `status` (date-range replays only).
    pub fn status(mut self, status: ReplayStatusFilter) -> Self {
        self.filters.status = Some(status);
        self
    }

    /// Only deliveries of this event (date-range replays only).
    pub fn event_name(mut self, event_name: impl Into<String>) -> Self {
        self.filters.event_name = Some(event_name.into());
        self
    }

    /// Only deliveries to this endpoint (date-range replays only).
    pub fn endpoint_id(mut self, endpoint_id: impl Into<String>) -> Self {
        self.filters.endpoint_id = Some(endpoint_id.into());
        self
    }

    /// The key the server deduplicates by for 30 minutes: a repeat with the same key replays
    /// nothing and answers with the first task's id.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// The idempotency key, if one is set.
    pub fn key(&self) -> Option<&str> {
        self.idempotency_key.as_deref()
    }

    /// The wire body; without a key, a fresh one, so that retries of this body are harmless.
    pub(crate) fn into_wire(
        self,
        operation: &'static str,
    ) -> Result<types::ReplayWebhookDeliveriesRequest, Error> {
        self.selection.check(&self.filters, operation)?;
        let key = self.idempotency_key.unwrap_or_else(fresh_idempotency_key);
        Ok(match self.selection {
            Selection::Ids(ids) => types::ReplayDeliveriesByIds::new()
                .delivery_ids(ids)
                .idempotency_key(key)
                .into(),
            Selection::Range { start, end } => {
                let mut body = types::ReplayDeliveriesByDateRange::new(start).idempotency_key(key);
                body.end_date = end;
                body.event_name = self.filters.event_name;
                body.endpoint_id = self.filters.endpoint_id;
                body.status = self.filters.status;
                body.into()
            }
        })
    }
}

/// A random idempotency key: `rust_` and a UUID v4 as 32 hex digits.
pub(crate) fn fresh_idempotency_key() -> String {
    format!("rust_{}", uuid::Uuid::new_v4().simple())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn endpoint_shorthands_fill_the_wire_fields() {
        let request = CreateWebhookEndpointRequest::new("https://example.com/h")
            .subscribe("a")
            .subscribe_filtered("b", json!({"x": 1}))
            .header("x-team", "pay")
            .rate_limit(5, std::time::Duration::from_secs(1));
        let body = serde_json::to_value(&request).unwrap();
        assert_eq!(body["subscriptions"][0]["event_name"], "a");
        assert_eq!(body["subscriptions"][1]["filter_rules"], json!({"x": 1}));
        assert_eq!(body["headers"], json!({"x-team": "pay"}));
        assert_eq!(
            body["rate_limit_config"],
            json!({"duration_ms": 1000, "max_requests": 5})
        );
    }

    #[test]
    fn rate_limits_count_whole_milliseconds_and_never_overflow() {
        let per = RateLimitConfig::per;
        let config = per(20, Duration::from_micros(2500));
        assert_eq!((config.max_requests, config.duration_ms), (20, 2));
        assert_eq!(per(u32::MAX, Duration::MAX).duration_ms, i64::MAX);
        assert_eq!(
            per(u32::MAX, Duration::MAX).max_requests,
            i64::from(u32::MAX)
        );
    }

    #[test]
    fn by_ids_rejects_filters_and_empty_lists() {
        let err = ReplayWebhookDeliveriesRequest::by_ids(["1"])
            .status(ReplayStatusFilter::Failed)
            .into_wire("replay")
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("status"), "{err}");
        let empty: [&str; 0] = [];
        let err = ReplayWebhookDeliveriesRequest::by_ids(empty)
            .into_wire("replay")
            .unwrap_err();
        assert!(err.to_string().contains("no delivery ids"), "{err}");
    }

    #[test]
    fn range_rejects_end_before_start() {
        let now = Utc::now();
        let err = ReplayWebhookDeliveriesRequest::by_date_range(
            now,
            Some(now - chrono::Duration::seconds(1)),
        )
        .into_wire("replay")
        .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("before it starts"), "{err}");
        let body = ReplayWebhookDeliveriesRequest::by_date_range(now, None)
            .status(ReplayStatusFilter::Filtered)
            .into_wire("replay")
            .unwrap();
        assert_eq!(serde_json::to_value(&body).unwrap()["status"], "filtered");
    }

    #[test]
    fn wire_body_always_has_a_key() {
        let body = ReplayWebhookDeliveriesRequest::by_ids(["1", "2"])
            .into_wire("replay")
            .unwrap();
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["delivery_ids"], json!(["1", "2"]));
        assert!(
            json["idempotency_key"]
                .as_str()
                .unwrap()
                .starts_with("rust_")
        );
        let body = ReplayWebhookDeliveriesRequest::by_ids(["1"])
            .idempotency_key("mine")
            .into_wire("replay")
            .unwrap();
        assert_eq!(
            serde_json::to_value(&body).unwrap()["idempotency_key"],
            "mine"
        );
    }
}

//! Deliveries: fan-out on trigger, the state transitions of the engine's attempts, and the log views.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use super::model::{Attempt, Delivery, DeliveryStatus, Endpoint, LogRow};
use super::{failure_window_start, paginate, PageRequest, Store};
use crate::analytics::{AttemptFacts, DeliveryFacts};
use crate::behaviour::Behaviour;
use crate::error::{ApiError, ApiResult};
use crate::filter;
use crate::signing::SigningKey;
use crate::views::{DeliveryDetailsView, DeliveryView, Page};
use crate::wire::{format_time, format_time_millis, now};

/// Exhausted deliveries within the failure window that deactivate an endpoint.
const AUTO_DISABLE_THRESHOLD: usize = 10;

/// What a trigger did: the deliveries it queued and how many endpoints its filters excluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerOutcome {
    /// The new deliveries, one per matching endpoint.
    pub delivery_ids: Vec<i64>,
    /// Subscribed endpoints whose filter rules did not match.
    pub filtered_count: u64,
}

/// The filters of the delivery list, applied to each delivery's latest state.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// Only this status.
    pub status: Option<DeliveryStatus>,
    /// Only this event.
    pub event_name: Option<String>,
    /// Only this endpoint (`Some(None)`: an id that is not a number, matching nothing).
    pub endpoint_id: Option<Option<i64>>,
    /// Latest state at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Latest state at or before this time.
    pub until: Option<DateTime<Utc>>,
}

impl DeliveryFilter {
    fn accepts(&self, delivery: &Delivery) -> bool {
        let row = delivery.latest();
        self.status.is_none_or(|s| row.status == s)
            && self
                .event_name
                .as_deref()
                .is_none_or(|e| delivery.event_name == e)
            && self
                .endpoint_id
                .is_none_or(|id| id == Some(delivery.endpoint_id))
            && self.since.is_none_or(|t| row.at >= t)
            && self.until.is_none_or(|t| row.at <= t)
    }
}

/// Everything the engine needs to make one attempt without holding the lock.
#[derive(Debug, Clone)]
pub struct SendJob {
    /// The endpoint URL at the time of the attempt.
    pub url: String,
    /// `msg_<delivery id>`.
    pub msg_id: String,
    /// `webhook-timestamp`.
    pub timestamp: i64,
    /// The envelope bytes.
    pub body: Bytes,
    /// The app's current signing key.
    pub key: SigningKey,
    /// The endpoint's custom headers, sent after the signature headers.
    pub headers: Vec<(String, String)>,
    /// The endpoint's timeout.
    pub timeout: Duration,
}

/// What the engine should do next with a delivery.
#[derive(Debug)]
pub enum AttemptPlan {
    /// Send this attempt.
    Send(Box<SendJob>),
    /// The endpoint's rate limit is reached: try again after this wait (no attempt used).
    Throttled(Duration),
    /// Nothing more to do (sent, concluded without sending, or gone).
    Finished,
}

/// What one attempt observed.
#[derive(Debug, Clone, Default)]
pub struct AttemptOutcome {
    /// The URL the attempt went to.
    pub url: String,
    /// The response status; `None` for a network failure.
    pub status_code: Option<u16>,
    /// Time until the response (or the failure).
    pub response_time_ms: u64,
    /// The response body, truncated.
    pub response_body: Option<String>,
    /// The response headers.
    pub response_headers: Option<Map<String, Value>>,
    /// The wait the receiver asked for with `Retry-After`.
    pub retry_after: Option<Duration>,
}

/// After an attempt: whether another one is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Retry after the wait for attempt `after_attempt` (or `retry_after` when given).
    Retry {
        /// The number of the attempt just made.
        after_attempt: u32,
        /// The receiver's `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// The delivery reached a final state.
    Done,
}

/// The fields of a new delivery.
pub(super) struct NewDelivery {
    pub id: i64,
    pub app_id: i64,
    pub endpoint_id: i64,
    pub event_name: String,
    pub payload: Arc<Value>,
    pub filter_event: String,
    pub require_subscription: bool,
    pub max_attempts: u32,
    pub created: DateTime<Utc>,
}

impl NewDelivery {
    /// The delivery with the envelope made for it.
    pub(super) fn build(self) -> Delivery {
        let body = envelope(&self.event_name, self.created, &self.payload);
        self.build_with(body)
    }

    /// The delivery with an envelope already made (one trigger's deliveries share theirs).
    fn build_with(self, body: Bytes) -> Delivery {
        Delivery {
            id: self.id,
            app_id: self.app_id,
            endpoint_id: self.endpoint_id,
            event_name: self.event_name,
            payload: self.payload,
            filter_event: self.filter_event,
            require_subscription: self.require_subscription,
            webhook_timestamp: self.created.timestamp(),
            body,
            max_attempts: self.max_attempts,
            log: vec![LogRow {
                status: DeliveryStatus::Pending,
                at: self.created,
                attempts_made: 0,
                attempt: None,
            }],
        }
    }
}

/// The outbound envelope `{type, timestamp, data}`.
#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    event_type: &'a str,
    timestamp: String,
    data: &'a Value,
}

fn envelope(event_name: &str, created: DateTime<Utc>, payload: &Value) -> Bytes {
    let envelope = Envelope {
        event_type: event_name,
        timestamp: format_time_millis(created),
        data: payload,
    };
    // Serialising a `Value` inside a plain struct cannot fail.
    Bytes::from(serde_json::to_vec(&envelope).unwrap_or_default())
}

impl Store {
    /// `triggerWebhook`: one delivery per active endpoint subscribed to `event_name` whose filter matches.
    pub fn trigger(
        &self,
        app_slug: &str,
        event_name: &str,
        payload: Value,
    ) -> ApiResult<TriggerOutcome> {
        let created = now();
        let body = envelope(event_name, created, &payload);
        let mut state = self.lock();
        let app = state.app(app_slug)?;
        if !app.is_active {
            return Err(ApiError::not_found("Webhook app not found"));
        }
        let app_id = app.id;
        let (targets, filtered_count) = self.subscribers(&mut state, app_id, event_name, &payload);
        let mut outcome = TriggerOutcome {
            delivery_ids: Vec::with_capacity(targets.len()),
            filtered_count,
        };
        let payload = Arc::new(payload);
        for (endpoint_id, max_attempts) in targets {
            let delivery = NewDelivery {
                id: self.next_id(),
                app_id,
                endpoint_id,
                event_name: event_name.to_string(),
                payload: payload.clone(),
                filter_event: event_name.to_string(),
                require_subscription: true,
                max_attempts,
                created,
            }
            .build_with(body.clone());
            outcome.delivery_ids.push(delivery.id);
            state.deliveries.insert(delivery.id, delivery);
        }
        Ok(outcome)
    }

    /// `listWebhookDeliveries`: newest delivery first, each as of its latest state.
    pub fn list_deliveries(
        &self,
        app_slug: &str,
        filter: &DeliveryFilter,
        page: PageRequest,
    ) -> ApiResult<Page<DeliveryView>> {
        let state = self.lock();
        let app = state.app(app_slug)?;
        let rows = state
            .deliveries
            .values()
            .rev()
            .filter(|d| d.app_id == app.id && filter.accepts(d));
        let page = paginate(rows, page);
        Ok(Page {
            data: page
                .data
                .into_iter()
                .map(|d| self.delivery_view(&app.slug, d, d.log.len() - 1))
                .collect(),
            has_more: page.has_more,
            limit: page.limit,
            offset: page.offset,
        })
    }

    /// `getWebhookDelivery`: the latest state, or the latest state with `status` when given.
    pub fn get_delivery(
        &self,
        app_slug: &str,
        delivery_id: i64,
        status: Option<DeliveryStatus>,
    ) -> ApiResult<DeliveryDetailsView> {
        let not_found = || ApiError::not_found("Webhook delivery not found");
        let state = self.lock();
        let app = state.app(app_slug)?;
        let delivery = state
            .deliveries
            .get(&delivery_id)
            .filter(|d| d.app_id == app.id)
            .ok_or_else(not_found)?;
        let index = delivery
            .log
            .iter()
            .rposition(|row| status.is_none_or(|s| row.status == s))
            .ok_or_else(not_found)?;
        let attempt = latest_attempt_until(delivery, index);
        let payload = (delivery.log[index].attempts_made > 0)
            .then(|| serde_json::from_slice(&delivery.body).ok())
            .flatten();
        Ok(DeliveryDetailsView {
            row: self.delivery_view(&app.slug, delivery, index),
            payload,
            response_body: attempt.and_then(|a| a.response_body.clone()),
            response_headers: attempt.and_then(|a| a.response_headers.clone()),
        })
    }

    /// Prepares the next attempt of a delivery, or concludes it when its endpoint or filter no
    /// longer takes it.
    pub fn begin_attempt(&self, delivery_id: i64, at: Instant) -> AttemptPlan {
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(delivery) = state.deliveries.get_mut(&delivery_id) else {
            return AttemptPlan::Finished;
        };
        if !delivery.status().in_flight() {
            return AttemptPlan::Finished;
        }
        let endpoint = state.endpoints.get_mut(&delivery.endpoint_id);
        let Some(endpoint) = endpoint.filter(|e| e.is_active) else {
            conclude(delivery, DeliveryStatus::EndpointDisabled);
            return AttemptPlan::Finished;
        };
        if !still_wanted(endpoint, delivery, self.behaviour) {
            conclude(delivery, DeliveryStatus::Filtered);
            return AttemptPlan::Finished;
        }
        if let Some(wait) = throttle(endpoint, at) {
            return AttemptPlan::Throttled(wait);
        }
        let Some(app) = state.apps.get(&delivery.app_id) else {
            return AttemptPlan::Finished;
        };
        AttemptPlan::Send(Box::new(SendJob {
            url: endpoint.url.clone(),
            msg_id: format!("msg_{}", delivery.id),
            timestamp: delivery.webhook_timestamp,
            body: delivery.body.clone(),
            key: app.key.clone(),
            headers: super::endpoints::outbound_headers(&endpoint.headers),
            timeout: Duration::from_secs(endpoint.timeout_seconds.max(1) as u64),
        }))
    }

    /// Records an attempt and moves the delivery to its next state.
    pub fn finish_attempt(&self, delivery_id: i64, outcome: AttemptOutcome) -> NextStep {
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(delivery) = state.deliveries.get_mut(&delivery_id) else {
            return NextStep::Done;
        };
        let number = delivery.latest().attempts_made + 1;
        let retry_after = outcome.retry_after;
        let verdict = classify(outcome.status_code, number < delivery.max_attempts);
        // Only a delivery that used up its attempts counts against the endpoint, not a plain 4xx.
        let exhausted =
            verdict == DeliveryStatus::PermanentlyFailed && is_retryable(outcome.status_code);
        let at = now();
        delivery.log.push(LogRow {
            status: verdict,
            at,
            attempts_made: number,
            attempt: Some(attempt_record(outcome)),
        });
        let endpoint = state.endpoints.get_mut(&delivery.endpoint_id);
        match (verdict, endpoint) {
            (DeliveryStatus::EndpointDisabled, Some(endpoint)) => disable(endpoint, at),
            (DeliveryStatus::PermanentlyFailed, Some(endpoint)) => {
                endpoint.last_failure_at = Some(at);
                if exhausted {
                    record_failure(endpoint, at);
                }
            }
            _ => {}
        }
        match verdict {
            DeliveryStatus::Failed => NextStep::Retry {
                after_attempt: number,
                retry_after,
            },
            _ => NextStep::Done,
        }
    }

    /// The deliveries of an app whose latest state falls in `[from, to]`, as analytics input
    /// (`endpoint_id` as in [`DeliveryFilter`]).
    pub fn delivery_facts(
        &self,
        app_slug: &str,
        endpoint_id: Option<Option<i64>>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> ApiResult<Vec<DeliveryFacts>> {
        let state = self.lock();
        let app_id = state.app_id(app_slug)?;
        Ok(state
            .deliveries
            .values()
            .filter(|d| d.app_id == app_id && endpoint_id.is_none_or(|e| e == Some(d.endpoint_id)))
            .filter(|d| (from..=to).contains(&d.latest().at))
            .map(facts)
            .collect())
    }

    /// The number of active endpoints of an app.
    pub fn active_endpoint_count(&self, app_slug: &str) -> ApiResult<u64> {
        let state = self.lock();
        let app_id = state.app_id(app_slug)?;
        Ok(state
            .endpoints
            .values()
            .filter(|e| e.app_id == app_id && e.is_active)
            .count() as u64)
    }

    pub(super) fn delivery_view(
        &self,
        app_slug: &str,
        delivery: &Delivery,
        index: usize,
    ) -> DeliveryView {
        let row = &delivery.log[index];
        let attempt = latest_attempt_until(delivery, index);
        DeliveryView {
            delivery_id: delivery.id.to_string(),
            deployment_id: self.deployment_id.clone(),
            app_slug: app_slug.to_string(),
            endpoint_id: delivery.endpoint_id.to_string(),
            event_name: delivery.event_name.clone(),
            status: row.status.as_str(),
            http_status_code: attempt.and_then(|a| a.status_code),
            response_time_ms: attempt.map(|a| a.response_time_ms),
            attempt_number: row.attempts_made,
            max_attempts: delivery.max_attempts,
            timestamp: format_time(row.at),
        }
    }
}

/// Whether the endpoint still subscribes (when required) and its filter still matches.
pub(super) fn still_wanted(endpoint: &Endpoint, delivery: &Delivery, behaviour: Behaviour) -> bool {
    let sub = endpoint
        .subscriptions
        .iter()
        .find(|s| s.event_name == delivery.filter_event);
    match sub {
        Some(sub) => filter::matches(&sub.filter_rules, &delivery.payload, behaviour),
        None => !delivery.require_subscription,
    }
}

/// Reserves a send in the endpoint's rate-limit window, or says how long to wait for one.
fn throttle(endpoint: &mut Endpoint, at: Instant) -> Option<Duration> {
    let (window, max_requests) = endpoint.rate_limit?.applies()?;
    while endpoint
        .recent_sends
        .front()
        .is_some_and(|t| at.saturating_duration_since(*t) >= window)
    {
        endpoint.recent_sends.pop_front();
    }
    if endpoint.recent_sends.len() >= max_requests {
        let oldest = endpoint.recent_sends.front().copied().unwrap_or(at);
        return Some(
            (oldest + window)
                .saturating_duration_since(at)
                .max(Duration::from_millis(1)),
        );
    }
    endpoint.recent_sends.push_back(at);
    None
}

fn conclude(delivery: &mut Delivery, status: DeliveryStatus) {
    let attempts_made = delivery.latest().attempts_made;
    delivery.log.push(LogRow {
        status,
        at: now(),
        attempts_made,
        attempt: None,
    });
}

/// The state an attempt leads to: 2xx succeeds, 410 disables the endpoint, 5xx/408/429 and network
/// failures retry while attempts remain, anything else (3xx included) fails at once.
fn classify(status_code: Option<u16>, attempts_remain: bool) -> DeliveryStatus {
    match status_code {
        Some(200..=299) => DeliveryStatus::Success,
        Some(410) => DeliveryStatus::EndpointDisabled,
        code if is_retryable(code) && attempts_remain => DeliveryStatus::Failed,
        _ => DeliveryStatus::PermanentlyFailed,
    }
}

/// 5xx, 408, 429 and network failures are worth another attempt.
fn is_retryable(status_code: Option<u16>) -> bool {
    match status_code {
        Some(code) => code >= 500 || code == 408 || code == 429,
        None => true,
    }
}

/// Counts an exhausted delivery against the endpoint; the tenth in 24 h deactivates it.
fn record_failure(endpoint: &mut Endpoint, at: DateTime<Utc>) {
    let window_start = failure_window_start(at);
    endpoint.failures.retain(|t| *t >= window_start);
    endpoint.failures.push(at);
    if endpoint.failures.len() >= AUTO_DISABLE_THRESHOLD && endpoint.is_active {
        disable(endpoint, at);
    }
}

/// The service deactivates an endpoint itself (a 410 answer, or too many failures).
fn disable(endpoint: &mut Endpoint, at: DateTime<Utc>) {
    endpoint.is_active = false;
    endpoint.auto_disabled = true;
    endpoint.auto_disabled_at = Some(at);
    endpoint.updated_at = at;
}

fn attempt_record(outcome: AttemptOutcome) -> Attempt {
    Attempt {
        url: outcome.url,
        status_code: outcome.status_code,
        response_time_ms: outcome.response_time_ms,
        response_body: outcome.response_body,
        response_headers: outcome.response_headers,
    }
}

fn latest_attempt_until(delivery: &Delivery, index: usize) -> Option<&Attempt> {
    delivery.log[..=index]
        .iter()
        .rev()
        .find_map(|row| row.attempt.as_ref())
}

fn facts(delivery: &Delivery) -> DeliveryFacts {
    DeliveryFacts {
        endpoint_id: delivery.endpoint_id,
        event_name: delivery.event_name.clone(),
        status: delivery.status(),
        at: delivery.latest().at,
        attempts: delivery
            .attempts()
            .map(|a| AttemptFacts {
                url: a.url.clone(),
                status_code: a.status_code,
                response_time_ms: a.response_time_ms,
            })
            .collect(),
    }
}

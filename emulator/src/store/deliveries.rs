//! Deliveries: fan-out on trigger, the state transitions of the engine's attempts, and the log views.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use super::model::{
    Attempt, Delivery, DeliveryDetails, DeliveryRow, DeliveryStatus, Endpoint, EndpointEvent,
    EndpointEventKind, LogRow, RowStatus,
};
use super::{Page, PageRequest, Retention, State, Store, failure_window_start, paginate};
use crate::analytics::{AttemptFacts, DeliveryFacts};
use crate::behaviour::Behaviour;
use crate::error::{ApiError, ApiResult};
use crate::filter;
use crate::signing::SigningKey;
use crate::wire::{format_time_millis, now};

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

/// The filters of the delivery list.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// Only this status (`Some(None)`: a value no row has; production lists nothing for it, the
    /// documented API rejects it).
    pub status: Option<Option<RowStatus>>,
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
    /// Whether a delivery's latest state passes every filter (the documented list).
    fn accepts(&self, delivery: &Delivery, status: Option<DeliveryStatus>) -> bool {
        let row = delivery.latest();
        status.is_none_or(|s| row.status == s)
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

    /// Whether one log row passes the filters production applies: `status` and `event_name`
    /// only (it parses `endpoint_id`, `since` and `until` and ignores them).
    fn accepts_row(&self, status: RowStatus, event_name: &str) -> bool {
        self.status.is_none_or(|s| s == Some(status))
            && self.event_name.as_deref().is_none_or(|e| e == event_name)
    }
}

/// A delivery status, or 400 for a value the documented API does not know.
fn documented_status(status: Option<Option<RowStatus>>) -> ApiResult<Option<DeliveryStatus>> {
    status
        .map(|s| match s {
            Some(RowStatus::Delivery(status)) => Ok(status),
            _ => Err(ApiError::bad_request(
                "Invalid value for query parameter 'status'",
            )),
        })
        .transpose()
}

/// One row of production's delivery log: one state of a delivery, or an endpoint event.
#[derive(Clone, Copy)]
enum LogEntry<'a> {
    Delivery(&'a Delivery, usize),
    Endpoint(&'a EndpointEvent),
}

impl LogEntry<'_> {
    fn id(self) -> i64 {
        match self {
            Self::Delivery(d, _) => d.id,
            Self::Endpoint(e) => e.id,
        }
    }

    fn app_id(self) -> i64 {
        match self {
            Self::Delivery(d, _) => d.app_id,
            Self::Endpoint(e) => e.app_id,
        }
    }

    fn at(self) -> DateTime<Utc> {
        match self {
            Self::Delivery(d, index) => d.log[index].at,
            Self::Endpoint(e) => e.at,
        }
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
            settled_seq: None,
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

    /// `listWebhookDeliveries`, one row per delivery.
    ///
    /// Documented: each delivery as of its latest state, filters applied to that state, newest
    /// delivery first (stable while deliveries change state). Production: the filters apply to
    /// every log row before the latest matching row of each delivery is picked, endpoint events
    /// are rows too, and rows are ordered by their own time, newest first; an unknown app lists
    /// nothing.
    pub fn list_deliveries(
        &self,
        app_slug: &str,
        filter: &DeliveryFilter,
        page: PageRequest,
    ) -> ApiResult<Page<DeliveryRow>> {
        let state = self.lock();
        if !self.behaviour.is_production() {
            return self.list_documented(&state, app_slug, filter, page);
        }
        let Some(app_id) = self.listing_app_id(&state, app_slug)? else {
            return Ok(paginate(std::iter::empty(), page));
        };
        let rows = production_rows(&state, app_id, filter);
        Ok(paginate(rows.into_iter(), page).map(|row| row_view(app_slug, row)))
    }

    fn list_documented(
        &self,
        state: &State,
        app_slug: &str,
        filter: &DeliveryFilter,
        page: PageRequest,
    ) -> ApiResult<Page<DeliveryRow>> {
        let app = state.app(app_slug)?;
        if let Some(Some(RowStatus::Endpoint(_))) = filter.status {
            // Only production mixes endpoint rows into the list.
            return Ok(paginate(std::iter::empty(), page));
        }
        let status = documented_status(filter.status)?;
        let rows = state
            .deliveries
            .values()
            .rev()
            .filter(|d| d.app_id == app.id && filter.accepts(d, status));
        Ok(paginate(rows, page).map(|d| delivery_view(&app.slug, d, d.log.len() - 1)))
    }

    /// `getWebhookDelivery`.
    ///
    /// Documented: the latest state, or the latest state with `status` when given (400 for an
    /// unknown status, 404 when there is none). Production: the delivery's latest log row
    /// whatever its app and `status`, 500 for an unknown id; with `status=pending` the delivery
    /// as queued while it is still in flight (404 once it is not), its payload the raw one.
    pub fn get_delivery(
        &self,
        app_slug: &str,
        delivery_id: i64,
        status: Option<Option<RowStatus>>,
    ) -> ApiResult<DeliveryDetails> {
        let state = self.lock();
        if !self.behaviour.is_production() {
            return self.get_documented(&state, app_slug, delivery_id, status);
        }
        state.app_id(app_slug)?;
        if status == Some(Some(RowStatus::Delivery(DeliveryStatus::Pending))) {
            return self.queued_delivery(&state, delivery_id);
        }
        let entry = match (
            state.deliveries.get(&delivery_id),
            state.endpoint_events.get(&delivery_id),
        ) {
            (Some(d), _) => LogEntry::Delivery(d, d.log.len() - 1),
            (None, Some(e)) => LogEntry::Endpoint(e),
            (None, None) => return Err(ApiError::internal()),
        };
        Ok(row_details(&state, entry))
    }

    /// Production's `status=pending` read: the delivery from the queue, as created, while it is
    /// in flight.
    fn queued_delivery(&self, state: &State, delivery_id: i64) -> ApiResult<DeliveryDetails> {
        let delivery = state
            .deliveries
            .get(&delivery_id)
            .filter(|d| d.status().in_flight())
            .ok_or_else(|| ApiError::not_found("Pending delivery not found"))?;
        let row = DeliveryRow {
            id: delivery.id,
            app_slug: state.app_slug(delivery.app_id),
            endpoint_id: delivery.endpoint_id,
            event_name: delivery.event_name.clone(),
            status: RowStatus::Delivery(DeliveryStatus::Pending),
            http_status_code: None,
            response_time_ms: None,
            attempt_number: delivery.latest().attempts_made,
            max_attempts: delivery.max_attempts,
            at: delivery.log[0].at,
        };
        Ok(DeliveryDetails {
            row,
            payload: Some((*delivery.payload).clone()),
            response_body: None,
            response_headers: None,
        })
    }

    fn get_documented(
        &self,
        state: &State,
        app_slug: &str,
        delivery_id: i64,
        status: Option<Option<RowStatus>>,
    ) -> ApiResult<DeliveryDetails> {
        let status = documented_status(status)?;
        let not_found = || ApiError::not_found("Webhook delivery not found");
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
        Ok(DeliveryDetails {
            row: delivery_view(&app.slug, delivery, index),
            payload,
            response_body: attempt.and_then(|a| a.response_body.clone()),
            response_headers: attempt.and_then(|a| a.response_headers.clone()),
        })
    }

    /// The endpoint a delivery goes to (fixed at creation); `None` for an unknown delivery.
    pub fn delivery_endpoint(&self, delivery_id: i64) -> Option<i64> {
        self.lock()
            .deliveries
            .get(&delivery_id)
            .map(|d| d.endpoint_id)
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
            state.note_settled(delivery_id);
            return AttemptPlan::Finished;
        };
        if !still_wanted(endpoint, delivery, self.behaviour) {
            conclude(delivery, DeliveryStatus::Filtered);
            state.note_settled(delivery_id);
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
            attempt: Some(attempt_record(outcome, &self.retention)),
        });
        let (app_id, endpoint_id) = (delivery.app_id, delivery.endpoint_id);
        let production = self.behaviour.is_production();
        let deactivated = match (verdict, state.endpoints.get_mut(&endpoint_id)) {
            (DeliveryStatus::EndpointDisabled, Some(endpoint)) => {
                disable(endpoint, at, production);
                false
            }
            (DeliveryStatus::PermanentlyFailed, Some(endpoint)) => {
                // Production never writes the endpoint's failure columns (P11).
                if !production {
                    endpoint.last_failure_at = Some(at);
                }
                exhausted && record_failure(endpoint, at, production)
            }
            _ => false,
        };
        // Production logs a deactivation for failures (not one for a 410) as a row of its own.
        if deactivated && production {
            let event = EndpointEvent {
                id: self.next_id(),
                app_id,
                endpoint_id,
                kind: EndpointEventKind::Deactivated,
                at,
            };
            state.endpoint_events.insert(event.id, event);
        }
        state.note_settled(delivery_id);
        state.enforce_retention(&self.retention, at);
        match verdict {
            DeliveryStatus::Failed => NextStep::Retry {
                after_attempt: number,
                retry_after,
            },
            _ => NextStep::Done,
        }
    }

    /// The deliveries of an app whose latest state falls in `[from, to]`, as analytics input
    /// (`endpoint_id` as in [`DeliveryFilter`]); none for an unknown app in production.
    pub fn delivery_facts(
        &self,
        app_slug: &str,
        endpoint_id: Option<Option<i64>>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> ApiResult<Vec<DeliveryFacts>> {
        let state = self.lock();
        let Some(app_id) = self.listing_app_id(&state, app_slug)? else {
            return Ok(Vec::new());
        };
        Ok(state
            .deliveries
            .values()
            .filter(|d| d.app_id == app_id && endpoint_id.is_none_or(|e| e == Some(d.endpoint_id)))
            .filter(|d| (from..=to).contains(&d.latest().at))
            .map(facts)
            .collect())
    }

    /// The number of active endpoints of an app (0 for an unknown app in production).
    pub fn active_endpoint_count(&self, app_slug: &str) -> ApiResult<u64> {
        let state = self.lock();
        let Some(app_id) = self.listing_app_id(&state, app_slug)? else {
            return Ok(0);
        };
        Ok(state
            .endpoints
            .values()
            .filter(|e| e.app_id == app_id && e.is_active)
            .count() as u64)
    }
}

/// One row of production's log as a list row: only what that row recorded (an attempt's
/// status code and time, none for a connection failure).
fn row_view(app_slug: &str, entry: LogEntry<'_>) -> DeliveryRow {
    match entry {
        LogEntry::Delivery(delivery, index) => {
            let answered = delivery.log[index]
                .attempt
                .as_ref()
                .filter(|a| a.status_code.is_some());
            log_row_view(app_slug, delivery, index, answered)
        }
        LogEntry::Endpoint(event) => DeliveryRow {
            id: event.id,
            app_slug: app_slug.to_string(),
            endpoint_id: event.endpoint_id,
            event_name: event.kind.event_name().to_string(),
            status: RowStatus::Endpoint(event.kind),
            http_status_code: None,
            response_time_ms: None,
            attempt_number: 0,
            max_attempts: event.kind.max_attempts(),
            at: event.at,
        },
    }
}

/// The row of `delivery` as of its log row `index`, showing the latest attempt until then.
pub(super) fn delivery_view(app_slug: &str, delivery: &Delivery, index: usize) -> DeliveryRow {
    log_row_view(
        app_slug,
        delivery,
        index,
        latest_attempt_until(delivery, index),
    )
}

/// The list row of `delivery` as of its log row `index`, showing `attempt`'s outcome.
fn log_row_view(
    app_slug: &str,
    delivery: &Delivery,
    index: usize,
    attempt: Option<&Attempt>,
) -> DeliveryRow {
    let row = &delivery.log[index];
    DeliveryRow {
        id: delivery.id,
        app_slug: app_slug.to_string(),
        endpoint_id: delivery.endpoint_id,
        event_name: delivery.event_name.clone(),
        status: RowStatus::Delivery(row.status),
        http_status_code: attempt.and_then(|a| a.status_code),
        response_time_ms: attempt.map(|a| a.response_time_ms),
        attempt_number: row.attempts_made,
        max_attempts: delivery.max_attempts,
        at: row.at,
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

/// Counts an exhausted delivery against the endpoint; the tenth in 24 h deactivates it. Returns
/// whether this failure deactivated it. Production resets its counter when it deactivates and
/// deactivates again at the next tenth; the documented count keeps running.
fn record_failure(endpoint: &mut Endpoint, at: DateTime<Utc>, production: bool) -> bool {
    let window_start = failure_window_start(at);
    endpoint.failures.retain(|t| *t >= window_start);
    endpoint.failures.push(at);
    if endpoint.failures.len() < AUTO_DISABLE_THRESHOLD {
        return false;
    }
    if production {
        endpoint.failures.clear();
    } else if !endpoint.is_active {
        return false;
    }
    disable(endpoint, at, production);
    true
}

/// The service deactivates an endpoint itself (a 410 answer, or too many failures); production
/// changes only `is_active` (P11).
fn disable(endpoint: &mut Endpoint, at: DateTime<Utc>, production: bool) {
    endpoint.is_active = false;
    endpoint.updated_at = at;
    if !production {
        endpoint.auto_disabled = true;
        endpoint.auto_disabled_at = Some(at);
    }
}

/// Production's rows of an app's delivery log that pass `filter`: the latest matching row of each
/// delivery and every matching endpoint event, newest first.
fn production_rows<'a>(
    state: &'a State,
    app_id: i64,
    filter: &DeliveryFilter,
) -> Vec<LogEntry<'a>> {
    let deliveries = state
        .deliveries
        .values()
        .filter(|d| d.app_id == app_id)
        .filter_map(|d| {
            d.log
                .iter()
                .rposition(|row| filter.accepts_row(RowStatus::Delivery(row.status), &d.event_name))
                .map(|index| LogEntry::Delivery(d, index))
        });
    let endpoint_events = state
        .endpoint_events
        .values()
        .filter(|e| e.app_id == app_id)
        .filter(|e| filter.accepts_row(RowStatus::Endpoint(e.kind), e.kind.event_name()))
        .map(LogEntry::Endpoint);
    let mut rows: Vec<LogEntry<'a>> = deliveries.chain(endpoint_events).collect();
    rows.sort_by(|a, b| b.at().cmp(&a.at()).then_with(|| b.id().cmp(&a.id())));
    rows
}

fn attempt_record(outcome: AttemptOutcome, retention: &Retention) -> Attempt {
    Attempt {
        url: outcome.url,
        status_code: outcome.status_code,
        response_time_ms: outcome.response_time_ms,
        response_body: outcome.response_body.map(|b| retention.stored_body(b)),
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

/// One row of production's log with what the details add: the payload that row stored (the raw
/// payload on the pending row, the envelope on later rows, none on an endpoint row) and the
/// response body of its own attempt; response headers are never stored.
fn row_details(state: &State, entry: LogEntry<'_>) -> DeliveryDetails {
    let (payload, response_body) = match entry {
        LogEntry::Delivery(d, index) => {
            let row = &d.log[index];
            let payload = if row.status == DeliveryStatus::Pending {
                Some((*d.payload).clone())
            } else {
                serde_json::from_slice(&d.body).ok()
            };
            let body = row.attempt.as_ref().and_then(|a| a.response_body.clone());
            (payload, body)
        }
        LogEntry::Endpoint(_) => (None, None),
    };
    DeliveryDetails {
        row: row_view(&state.app_slug(entry.app_id()), entry),
        payload,
        response_body,
        response_headers: None,
    }
}

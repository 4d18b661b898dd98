//! Endpoints: validation of their settings and subscriptions, and their lifecycle.

use std::collections::{HashSet, VecDeque};

use serde_json::{Map, Value, json};

use super::Page;
use super::model::{
    Endpoint, EndpointEvent, EndpointEventKind, EndpointState, RateLimit, Subscription,
};
use super::{PageRequest, State, Store, failure_window_start, paginate};
use crate::behaviour::Behaviour;
use crate::delivery;
use crate::error::{ApiError, ApiResult};
use crate::filter;
use crate::spec::rules::{
    CREATE_WEBHOOK_ENDPOINT_REQUEST_MAX_RETRIES_MAXIMUM as MAX_RETRIES,
    CREATE_WEBHOOK_ENDPOINT_REQUEST_MAX_RETRIES_MINIMUM as MIN_RETRIES,
};
use crate::spec::{
    CreateWebhookEndpointRequest, EventSubscriptionRequest, RateLimitConfig,
    UpdateWebhookEndpointRequest,
};
use crate::wire::{format_time, now};

/// `max_retries` when none is given (it is the total number of attempts).
const DEFAULT_MAX_RETRIES: u32 = 32;
/// `timeout_seconds` when none is given.
const DEFAULT_TIMEOUT_SECONDS: i64 = 30;
/// The accepted range of `timeout_seconds`.
///
/// Stricter than production for safety: the production service stores any 32-bit value, so a
/// zero, negative or huge timeout is accepted there and an attempt may wait for days. Here an
/// attempt waits at least one second and at most five minutes.
pub const TIMEOUT_SECONDS_RANGE: std::ops::RangeInclusive<i64> = 1..=300;
/// The event of the deliveries `testWebhookEndpoint` queues.
pub const TEST_EVENT: &str = "test.webhook";

impl Store {
    /// `createWebhookEndpoint`; `url` was already checked against the URL policy.
    pub fn create_endpoint(
        &self,
        app_slug: &str,
        request: CreateWebhookEndpointRequest,
    ) -> ApiResult<EndpointState> {
        let headers =
            headers(request.headers, self.behaviour)?.unwrap_or_else(|| Value::Object(Map::new()));
        let max_retries = max_retries(request.max_retries)?.unwrap_or(DEFAULT_MAX_RETRIES);
        let timeout_seconds =
            timeout_seconds(request.timeout_seconds)?.unwrap_or(DEFAULT_TIMEOUT_SECONDS);
        let rate_limit = rate_limit(request.rate_limit_config);
        let id = self.next_id();
        let mut state = self.lock();
        let app = state.app(app_slug)?;
        let app_id = app.id;
        let subscriptions = state.subscriptions(app_id, &request.subscriptions)?;
        let created = now();
        let endpoint = Endpoint {
            id,
            app_id,
            url: request.url.trim().to_string(),
            description: request.description,
            headers,
            is_active: true,
            max_retries,
            timeout_seconds,
            failures: Vec::new(),
            last_failure_at: None,
            auto_disabled: false,
            auto_disabled_at: None,
            rate_limit,
            recent_sends: VecDeque::new(),
            subscriptions,
            created_at: created,
            updated_at: created,
        };
        let shown = self.endpoint_state(&state, &endpoint, false);
        state.endpoints.insert(id, endpoint);
        Ok(shown)
    }

    /// `listWebhookEndpoints`: in creation order, with subscriptions.
    pub fn list_endpoints(
        &self,
        app_slug: &str,
        include_inactive: bool,
        page: PageRequest,
    ) -> ApiResult<Page<EndpointState>> {
        let state = self.lock();
        let Some(app_id) = self.listing_app_id(&state, app_slug)? else {
            return Ok(paginate(std::iter::empty(), page));
        };
        let endpoints = state
            .endpoints
            .values()
            .filter(|e| e.app_id == app_id && (include_inactive || e.is_active));
        Ok(paginate(endpoints, page).map(|e| self.endpoint_state(&state, e, true)))
    }

    /// `updateWebhookEndpoint`; a new `url` was already checked against the URL policy.
    pub fn update_endpoint(
        &self,
        app_slug: &str,
        endpoint_id: i64,
        request: UpdateWebhookEndpointRequest,
    ) -> ApiResult<EndpointState> {
        let headers = headers(request.headers, self.behaviour)?;
        let max_retries = max_retries(request.max_retries)?;
        let timeout_seconds = timeout_seconds(request.timeout_seconds)?;
        let rate_limit = rate_limit(request.rate_limit_config);
        let mut state = self.lock();
        let app_id = state.app_id(app_slug)?;
        state.app_endpoint_mut(app_id, endpoint_id)?;
        let subscriptions = match &request.subscriptions {
            Some(subs) => Some(state.subscriptions(app_id, subs)?),
            None => None,
        };
        let endpoint = state.app_endpoint_mut(app_id, endpoint_id)?;
        if let Some(url) = request.url {
            endpoint.url = url.trim().to_string();
        }
        if let Some(description) = request.description {
            endpoint.description = Some(description);
        }
        if let Some(headers) = headers {
            endpoint.headers = headers;
        }
        if let Some(max_retries) = max_retries {
            endpoint.max_retries = max_retries;
        }
        if let Some(timeout_seconds) = timeout_seconds {
            endpoint.timeout_seconds = timeout_seconds;
        }
        if let Some(is_active) = request.is_active {
            endpoint.is_active = is_active;
        }
        if let Some(subscriptions) = subscriptions {
            endpoint.subscriptions = subscriptions;
        }
        if rate_limit.is_some() {
            endpoint.rate_limit = rate_limit;
        }
        endpoint.updated_at = now();
        let endpoint = endpoint.clone();
        Ok(self.endpoint_state(&state, &endpoint, false))
    }

    /// `deleteWebhookEndpoint`: its deliveries still in flight end `endpoint_disabled`.
    pub fn delete_endpoint(&self, app_slug: &str, endpoint_id: i64) -> ApiResult<()> {
        let mut state = self.lock();
        let app_id = state.app_id(app_slug)?;
        state.app_endpoint_mut(app_id, endpoint_id)?;
        state.endpoints.remove(&endpoint_id);
        Ok(())
    }

    /// `testWebhookEndpoint`: queues a `test.webhook` delivery and returns its id.
    ///
    /// The filter of the endpoint's subscription to `event_name` (if any) still applies when it is sent.
    /// Production ignores the app slug of the path: any endpoint of the deployment is found by
    /// its id; the documented behaviour answers 404 for an endpoint of another app.
    pub fn queue_test_delivery(
        &self,
        app_slug: &str,
        endpoint_id: i64,
        event_name: String,
        payload: Option<Value>,
    ) -> ApiResult<i64> {
        let id = self.next_id();
        let mut state = self.lock();
        let endpoint = if self.behaviour.is_production() {
            state
                .endpoints
                .get(&endpoint_id)
                .ok_or_else(|| ApiError::not_found("Webhook endpoint not found"))?
        } else {
            let app_id = state.app_id(app_slug)?;
            state.app_endpoint_mut(app_id, endpoint_id)?
        };
        let app_id = endpoint.app_id;
        let max_attempts = endpoint.max_retries;
        let created = now();
        let payload = payload.unwrap_or_else(
            || json!({"test": true, "event": event_name, "timestamp": format_time(created)}),
        );
        let delivery = super::deliveries::NewDelivery {
            id,
            app_id,
            endpoint_id,
            event_name: TEST_EVENT.to_string(),
            payload: std::sync::Arc::new(payload),
            filter_event: event_name,
            require_subscription: false,
            max_attempts,
            created,
        }
        .build();
        state.deliveries.insert(id, delivery);
        Ok(id)
    }

    /// `reactivateWebhookEndpoint`: active again, failure counter cleared; the documented API
    /// also clears the auto-disable fields, production (which never sets them) logs the
    /// reactivation as a row of the delivery log instead. Returns the endpoint's URL for the
    /// message.
    pub fn reactivate_endpoint(&self, endpoint_id: i64) -> ApiResult<String> {
        let log_id = self.next_id();
        let mut guard = self.lock();
        let state = &mut *guard;
        let endpoint = state
            .endpoints
            .get_mut(&endpoint_id)
            .ok_or_else(|| ApiError::not_found("Webhook endpoint not found"))?;
        let at = now();
        endpoint.is_active = true;
        endpoint.failures.clear();
        endpoint.updated_at = at;
        if self.behaviour.is_production() {
            let event = EndpointEvent {
                id: log_id,
                app_id: endpoint.app_id,
                endpoint_id,
                kind: EndpointEventKind::Reactivated,
                at,
            };
            state.endpoint_events.insert(log_id, event);
        } else {
            endpoint.auto_disabled = false;
            endpoint.auto_disabled_at = None;
        }
        Ok(endpoint.url.clone())
    }

    fn endpoint_state(
        &self,
        state: &State,
        endpoint: &Endpoint,
        with_subscriptions: bool,
    ) -> EndpointState {
        // Production keeps its failure counter out of the endpoint record (P11): the column stays 0.
        let window_start = failure_window_start(now());
        let failure_count = if self.behaviour.is_production() {
            0
        } else {
            endpoint
                .failures
                .iter()
                .filter(|t| **t >= window_start)
                .count()
        };
        EndpointState {
            endpoint: endpoint.clone(),
            app_slug: state.app_slug(endpoint.app_id),
            failure_count: failure_count as u64,
            with_subscriptions,
        }
    }
}

impl State {
    /// Validates a subscription set against the app's catalog: at least one, each event known and
    /// not archived, no event twice, filter rules well-formed and within the event's schema.
    fn subscriptions(
        &self,
        app_id: i64,
        inputs: &[EventSubscriptionRequest],
    ) -> ApiResult<Vec<Subscription>> {
        if inputs.is_empty() {
            return Err(ApiError::bad_request(
                "At least one subscription is required",
            ));
        }
        let app_slug = self.app_slug(app_id);
        let mut seen = HashSet::new();
        inputs
            .iter()
            .map(|input| {
                if !seen.insert(input.event_name.as_str()) {
                    return Err(ApiError::bad_request(format!(
                        "Duplicate subscription to event '{}'",
                        input.event_name
                    )));
                }
                self.subscription(app_id, &app_slug, input)
            })
            .collect()
    }

    fn subscription(
        &self,
        app_id: i64,
        app_slug: &str,
        input: &EventSubscriptionRequest,
    ) -> ApiResult<Subscription> {
        let event = self.app_event(app_id, &input.event_name).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Unknown event '{}' for app '{}'",
                input.event_name, app_slug
            ))
        })?;
        if event.is_archived {
            return Err(ApiError::bad_request(format!(
                "Event '{}' is archived",
                input.event_name
            )));
        }
        let rules = match &input.filter_rules {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(rules) => rules.clone(),
        };
        filter::validate(&rules, event.schema.as_ref()).map_err(ApiError::bad_request)?;
        Ok(Subscription {
            event_name: input.event_name.clone(),
            filter_rules: rules,
        })
    }
}

fn max_retries(value: Option<i64>) -> ApiResult<Option<u32>> {
    match value {
        Some(n) if !(MIN_RETRIES..=MAX_RETRIES).contains(&n) => Err(ApiError::bad_request(
            format!("max_retries must be between {MIN_RETRIES} and {MAX_RETRIES}"),
        )),
        other => Ok(other.map(|n| n as u32)),
    }
}

/// `timeout_seconds` within [`TIMEOUT_SECONDS_RANGE`], else 400.
fn timeout_seconds(value: Option<i64>) -> ApiResult<Option<i64>> {
    match value {
        Some(n) if !TIMEOUT_SECONDS_RANGE.contains(&n) => Err(ApiError::bad_request(format!(
            "timeout_seconds must be between {} and {}",
            TIMEOUT_SECONDS_RANGE.start(),
            TIMEOUT_SECONDS_RANGE.end()
        ))),
        other => Ok(other),
    }
}

/// Custom headers as stored: the spec cannot constrain header names, so any name is kept and
/// headers that are not valid HTTP are left out when sending; the emulator's own headers
/// (signature, content type, user agent) are kept but never sent. Production stores whatever JSON
/// it is given; the documented behaviour takes only an object of strings (else 422).
///
/// Framing headers (`Host`, `Content-Length`, `Transfer-Encoding`, `Connection`, …) are refused in
/// both behaviours: the production service accepts and sends them, which lets an endpoint aim
/// deliveries at another virtual host or cut the signed body short; the emulator is stricter for
/// safety.
fn headers(value: Option<Value>, behaviour: Behaviour) -> ApiResult<Option<Value>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let documented_shape = value
        .as_object()
        .is_some_and(|map| map.values().all(Value::is_string));
    if !behaviour.is_production() && !documented_shape {
        return Err(ApiError::invalid_payload());
    }
    let names = value.as_object().into_iter().flat_map(|map| map.keys());
    if let Some(name) = names
        .into_iter()
        .find(|name| delivery::is_framing_header(name))
    {
        return Err(ApiError::bad_request(format!(
            "Header '{name}' cannot be set on an endpoint: it frames the request ({} are reserved)",
            delivery::FRAMING_HEADERS.join(", ")
        )));
    }
    Ok(Some(value))
}

/// The headers a delivery adds: the string values of the stored object. Like the production
/// service, non-string values (and stored headers that are not an object) send nothing.
pub(super) fn outbound_headers(stored: &Value) -> Vec<(String, String)> {
    stored
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, value)| Some((name.clone(), value.as_str()?.to_string())))
        .collect()
}

/// The throttle as given; a window or count below 1 throttles nothing (see [`RateLimit::applies`]).
fn rate_limit(value: Option<RateLimitConfig>) -> Option<RateLimit> {
    value.map(|input| RateLimit {
        duration_ms: input.duration_ms,
        max_requests: input.max_requests,
    })
}

//! The delivery engine: sends each delivery over HTTP, records every attempt and schedules retries.
//!
//! Each delivery runs as one lightweight task: it asks the store for its next attempt, sends it
//! without holding the state lock, records the outcome, and sleeps until the next retry.
//!
//! Two bounds keep delivery fair: every endpoint has its own limit of attempts in flight, and all
//! endpoints together share a global one. A task first waits for a slot of its endpoint and only
//! then for a global slot, so the deliveries queued behind a slow or hanging endpoint never hold
//! global slots: such an endpoint ties up at most its own share, and the other endpoints' attempts
//! keep their normal latency. Both semaphores are FIFO, so attempts are served in arrival order.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::http::header::{CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use reqwest::dns::Resolve;
use serde_json::{Map, Value};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, SemaphorePermit, watch};
use tokio_util::task::TaskTracker;

use crate::resolve::{Guarded, TargetPolicy};
use crate::store::{
    AttemptOutcome, AttemptPlan, NextStep, RESPONSE_BODY_READ_LIMIT, SendJob, Store,
};
use crate::url_policy;

/// Attempts in flight at the same time across all endpoints, by default.
pub const DEFAULT_MAX_ATTEMPTS_IN_FLIGHT: usize = 256;
/// Attempts in flight at the same time to one endpoint, by default: a hanging endpoint ties up
/// at most a quarter of the default global limit, and four busy endpoints can still use all of it.
pub const DEFAULT_MAX_ATTEMPTS_IN_FLIGHT_PER_ENDPOINT: usize = 64;
/// How long abandoned attempts may take to be recorded once the shutdown deadline passed.
const ABANDON_GRACE: Duration = Duration::from_secs(1);

/// The longest wait a receiver's `Retry-After` can ask for: 6 hours, the longest wait of Wacht's
/// retry schedule. The production service applies no cap (a `Retry-After: 999999` parks a
/// delivery for 11.6 days there); the emulator caps it so that a receiver cannot park a delivery
/// for longer than the schedule itself would.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 60 * 60);
/// The `User-Agent` of every delivery.
const DELIVERY_USER_AGENT: &str = "Wacht-Webhook/1.0";

/// Headers that frame the HTTP request or the connection. An endpoint may not set them (see
/// [`is_framing_header`]): a `Host` would aim the request at another virtual host, a
/// `Content-Length` would cut the signed body short.
pub const FRAMING_HEADERS: [&str; 9] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
];

/// Headers every delivery carries with the emulator's own value: an endpoint's header of the same
/// name is stored but never sent, so it can neither forge the signature nor change the body's type.
pub const OWN_HEADERS: [&str; 5] = [
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "content-type",
    "user-agent",
];

/// Whether `name` (any case) is one of the [`FRAMING_HEADERS`].
pub fn is_framing_header(name: &str) -> bool {
    FRAMING_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name.trim()))
}

fn is_own_header(name: &str) -> bool {
    OWN_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name.trim()))
}

/// The engine's settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Waits after attempt 1, 2, …; the last one repeats.
    pub retry_schedule: Vec<Duration>,
    /// Refuse (as a connection failure) any target that is not a loopback literal or `localhost`.
    pub loopback_only: bool,
    /// Refuse (as a connection failure) any address that is not globally reachable.
    pub strict_urls: bool,
    /// Attempts in flight across all endpoints (at least 1).
    pub max_in_flight: usize,
    /// Attempts in flight to one endpoint (at least 1).
    pub max_in_flight_per_endpoint: usize,
    /// The bytes of a response body the store keeps; one more is read, so that the store sees
    /// that a longer body was cut.
    pub max_response_body: usize,
    /// The emulator's own address: deliveries to its inboxes pass every URL policy.
    pub own_addr: Option<std::net::SocketAddr>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            retry_schedule: Vec::new(),
            loopback_only: false,
            strict_urls: false,
            max_in_flight: DEFAULT_MAX_ATTEMPTS_IN_FLIGHT,
            max_in_flight_per_endpoint: DEFAULT_MAX_ATTEMPTS_IN_FLIGHT_PER_ENDPOINT,
            max_response_body: RESPONSE_BODY_READ_LIMIT,
            own_addr: None,
        }
    }
}

/// A handle on the delivery engine; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<Store>,
    client: reqwest::Client,
    config: EngineConfig,
    /// The global limit of attempts in flight.
    permits: Semaphore,
    /// Endpoint id → its limit of attempts in flight, present while a task uses or awaits it.
    endpoint_permits: Mutex<HashMap<i64, Arc<Semaphore>>>,
    stopping: watch::Sender<bool>,
    /// Set when the shutdown deadline passed: attempts in flight are cut off.
    abandon: watch::Sender<bool>,
    tracker: TaskTracker,
}

/// The two slots an attempt holds while it is sent: its endpoint's and a global one.
struct Slot<'a> {
    _global: SemaphorePermit<'a>,
    _endpoint: EndpointSlot<'a>,
}

/// A slot of one endpoint's limit; the endpoint's semaphore is dropped when nobody uses it.
struct EndpointSlot<'a> {
    inner: &'a Inner,
    endpoint_id: i64,
    permit: Option<OwnedSemaphorePermit>,
}

impl Drop for EndpointSlot<'_> {
    fn drop(&mut self) {
        drop(self.permit.take());
        let mut map = self.inner.endpoint_permits();
        // Every user clones the semaphore under this lock, so one reference means nobody else.
        if map
            .get(&self.endpoint_id)
            .is_some_and(|s| Arc::strong_count(s) == 1)
        {
            map.remove(&self.endpoint_id);
        }
    }
}

impl Inner {
    fn endpoint_permits(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<Semaphore>>> {
        // The map holds no invariant a panic could break.
        self.endpoint_permits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

impl Engine {
    /// An engine delivering the store's deliveries; host names are resolved with `resolver`, and
    /// the addresses found are checked against the policy before each connection.
    pub fn new(
        store: Arc<Store>,
        config: EngineConfig,
        resolver: Arc<dyn Resolve>,
        tls: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
    ) -> Result<Self, reqwest::Error> {
        let guarded = Guarded::new(resolver, config.policy());
        let client = tls(reqwest::Client::builder())
            .dns_resolver(guarded)
            // A 3xx is a failed attempt, never followed.
            .redirect(reqwest::redirect::Policy::none())
            // Deliveries go straight to the endpoint; a proxy from the environment could send
            // loopback traffic elsewhere.
            .no_proxy()
            .pool_max_idle_per_host(config.max_in_flight.max(1))
            .tcp_nodelay(true)
            .build()?;
        let (stopping, _) = watch::channel(false);
        let (abandon, _) = watch::channel(false);
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                client,
                permits: Semaphore::new(config.max_in_flight.max(1)),
                endpoint_permits: Mutex::default(),
                config,
                stopping,
                abandon,
                tracker: TaskTracker::new(),
            }),
        })
    }

    /// Starts delivering one delivery.
    pub fn dispatch(&self, delivery_id: i64) {
        let engine = self.clone();
        self.inner
            .tracker
            .spawn(async move { engine.run(delivery_id).await });
    }

    /// Runs background work that shutdown waits for (replay tasks).
    pub fn spawn<F>(&self, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.inner.tracker.spawn(work);
    }

    /// Sleeps for `wait`; `false` when shutdown began meanwhile (the caller should stop).
    pub async fn sleep(&self, wait: Duration) -> bool {
        let mut stopping = self.inner.stopping.subscribe();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopping.wait_for(|s| *s) => return false,
        }
        !self.is_stopping()
    }

    /// The deliveries and replay tasks still running (a delivery waiting for a retry included).
    pub fn tasks_in_flight(&self) -> usize {
        self.inner.tracker.len()
    }

    /// Whether shutdown has begun.
    pub fn is_stopping(&self) -> bool {
        *self.inner.stopping.borrow()
    }

    /// Stops scheduling new attempts and waits until `deadline` for the attempts in flight to be
    /// sent and recorded. Attempts still in flight then are abandoned: each is cut off and
    /// recorded as an attempt that got no response (like a timeout), and no retry follows.
    pub async fn shutdown(&self, deadline: tokio::time::Instant) {
        self.inner.stopping.send_replace(true);
        self.inner.tracker.close();
        if tokio::time::timeout_at(deadline, self.inner.tracker.wait())
            .await
            .is_ok()
        {
            return;
        }
        tracing::warn!("shutdown deadline passed: abandoning the delivery attempts in flight");
        self.inner.abandon.send_replace(true);
        let _ = tokio::time::timeout(ABANDON_GRACE, self.inner.tracker.wait()).await;
    }

    async fn run(&self, delivery_id: i64) {
        let store = &self.inner.store;
        let Some(endpoint_id) = store.delivery_endpoint(delivery_id) else {
            return;
        };
        loop {
            let Some(_permit) = self.permit(endpoint_id).await else {
                return;
            };
            let job = match store.begin_attempt(delivery_id, Instant::now()) {
                AttemptPlan::Finished => return,
                AttemptPlan::Throttled(wait) => {
                    drop(_permit);
                    if !self.sleep(wait).await {
                        return;
                    }
                    continue;
                }
                AttemptPlan::Send(job) => job,
            };
            let outcome = self.send_or_abandon(&job).await;
            tracing::info!(
                delivery_id,
                status = outcome.status_code,
                response_time_ms = outcome.response_time_ms,
                "delivery attempt"
            );
            let next = store.finish_attempt(delivery_id, outcome);
            drop(_permit);
            match next {
                NextStep::Done => return,
                NextStep::Retry {
                    after_attempt,
                    retry_after,
                } => {
                    let wait = retry_after.unwrap_or_else(|| self.scheduled_wait(after_attempt));
                    if !self.sleep(wait).await {
                        return;
                    }
                }
            }
        }
    }

    /// A slot of the endpoint, then a global one; `None` when shutdown begins meanwhile.
    async fn permit(&self, endpoint_id: i64) -> Option<Slot<'_>> {
        let mut stopping = self.inner.stopping.subscribe();
        if *stopping.borrow() {
            return None;
        }
        let semaphore = self
            .inner
            .endpoint_permits()
            .entry(endpoint_id)
            .or_insert_with(|| {
                Arc::new(Semaphore::new(
                    self.inner.config.max_in_flight_per_endpoint.max(1),
                ))
            })
            .clone();
        let mut endpoint = EndpointSlot {
            inner: &self.inner,
            endpoint_id,
            permit: None,
        };
        tokio::select! {
            permit = semaphore.acquire_owned() => endpoint.permit = Some(permit.ok()?),
            _ = stopping.wait_for(|s| *s) => return None,
        }
        tokio::select! {
            permit = self.inner.permits.acquire() => Some(Slot {
                _global: permit.ok()?,
                _endpoint: endpoint,
            }),
            _ = stopping.wait_for(|s| *s) => None,
        }
    }

    /// Sends the attempt, or cuts it off when the shutdown deadline passes first (recorded as
    /// an attempt without a response).
    async fn send_or_abandon(&self, job: &SendJob) -> AttemptOutcome {
        let started = Instant::now();
        let mut abandon = self.inner.abandon.subscribe();
        tokio::select! {
            outcome = self.send(job) => outcome,
            _ = abandon.wait_for(|a| *a) => AttemptOutcome {
                url: job.url.clone(),
                response_time_ms: started.elapsed().as_millis() as u64,
                ..AttemptOutcome::default()
            },
        }
    }

    /// The wait after attempt `n` (1-based); the schedule's last wait repeats.
    fn scheduled_wait(&self, attempt: u32) -> Duration {
        let schedule = &self.inner.config.retry_schedule;
        let index = (attempt as usize)
            .saturating_sub(1)
            .min(schedule.len().saturating_sub(1));
        schedule.get(index).copied().unwrap_or_default()
    }

    async fn send(&self, job: &SendJob) -> AttemptOutcome {
        let mut outcome = AttemptOutcome {
            url: job.url.clone(),
            ..AttemptOutcome::default()
        };
        if !self.inner.config.allows_literal(&job.url) {
            // Never attempted: recorded like a connection that could not be made.
            return outcome;
        }
        let started = Instant::now();
        let request = self
            .inner
            .client
            .post(&job.url)
            .headers(outbound_headers(job))
            .timeout(job.timeout)
            .body(job.body.clone());
        if let Ok(mut response) = request.send().await {
            outcome.status_code = Some(response.status().as_u16());
            outcome.retry_after = retry_after(response.headers());
            outcome.response_headers = Some(headers_json(response.headers()));
            let limit = self
                .inner
                .config
                .max_response_body
                .min(RESPONSE_BODY_READ_LIMIT)
                + 1;
            outcome.response_body = Some(read_body(&mut response, limit).await);
        }
        outcome.response_time_ms = started.elapsed().as_millis() as u64;
        outcome
    }
}

impl EngineConfig {
    fn policy(&self) -> TargetPolicy {
        TargetPolicy {
            strict: self.strict_urls,
            loopback_only: self.loopback_only,
        }
    }

    /// The checks the resolver cannot make: an IP literal is connected to without a lookup, and
    /// loopback-only delivery accepts only `localhost` names (whose addresses the resolver checks).
    fn allows_literal(&self, raw: &str) -> bool {
        let Ok(url) = url_policy::parse(raw) else {
            return false;
        };
        if self
            .own_addr
            .is_some_and(|own| crate::inbox::is_own_inbox(&url, own))
        {
            return true;
        }
        if self.loopback_only && !url_policy::is_loopback_target(&url) {
            return false;
        }
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            _ => return true,
        };
        self.policy().refusal(literal).is_none()
    }
}

/// The endpoint's headers (without framing headers or the emulator's own), then the signature
/// headers, the fixed content type and the user agent.
fn outbound_headers(job: &SendJob) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in &job.headers {
        // Framing headers are refused when an endpoint is saved; skipping them here as well keeps
        // them off the wire whatever the store holds.
        if is_framing_header(name) || is_own_header(name) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    let signature = job.key.sign(&job.msg_id, job.timestamp, &job.body);
    let fixed = [
        ("webhook-id", job.msg_id.clone()),
        ("webhook-timestamp", job.timestamp.to_string()),
        ("webhook-signature", signature),
    ];
    for (name, value) in fixed {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(USER_AGENT, HeaderValue::from_static(DELIVERY_USER_AGENT));
    headers
}

/// `Retry-After` as seconds or as an HTTP date, at most [`MAX_RETRY_AFTER`].
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let date = httpdate::parse_http_date(value).ok()?;
        date.duration_since(SystemTime::now()).unwrap_or_default()
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

fn headers_json(headers: &HeaderMap) -> Map<String, Value> {
    let mut map = Map::new();
    for name in headers.keys() {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        map.insert(name.as_str().to_string(), Value::String(values.join(", ")));
    }
    map
}

/// Keeps at most `limit` bytes of the body (the store keeps a prefix and marks a longer body as
/// cut); a body cut off by an error keeps what arrived. Up to 64 KiB are read in any case, so
/// that the connection can be reused.
async fn read_body(response: &mut reqwest::Response, limit: usize) -> String {
    let mut body = Vec::new();
    let mut read = 0;
    while let Ok(Some(chunk)) = response.chunk().await {
        read += chunk.len();
        let room = limit.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if read > RESPONSE_BODY_READ_LIMIT {
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn retry_after_is_capped() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("21600"));
        assert_eq!(retry_after(&headers), Some(MAX_RETRY_AFTER));
        for huge in [
            "21601",
            "999999",
            "18446744073709551615",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ] {
            headers.insert(RETRY_AFTER, HeaderValue::from_static(huge));
            assert_eq!(retry_after(&headers), Some(MAX_RETRY_AFTER), "{huge}");
        }
        assert_eq!(MAX_RETRY_AFTER, Duration::from_secs(6 * 60 * 60));
    }
}

//! The delivery engine: sends each delivery over HTTP, records every attempt and schedules retries.
//!
//! Each delivery runs as one lightweight task: it asks the store for its next attempt, sends it
//! without holding the state lock, records the outcome, and sleeps until the next retry. A
//! semaphore bounds the attempts in flight so that a burst of triggers queues instead of opening
//! thousands of connections.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::http::header::{CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use reqwest::dns::Resolve;
use serde_json::{Map, Value};
use tokio::sync::{watch, Semaphore};
use tokio_util::task::TaskTracker;

use crate::resolve::{Guarded, TargetPolicy};
use crate::store::{AttemptOutcome, AttemptPlan, NextStep, SendJob, Store};
use crate::url_policy;

/// Attempts sent at the same time, across all endpoints.
const MAX_CONCURRENT_ATTEMPTS: usize = 256;
/// The longest response body kept per attempt.
const MAX_RESPONSE_BODY: usize = 64 * 1024;
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
    permits: Semaphore,
    stopping: watch::Sender<bool>,
    tracker: TaskTracker,
}

impl Engine {
    /// An engine delivering the store's deliveries; host names are resolved with `resolver`, and
    /// the addresses found are checked against the policy before each connection.
    pub fn new(
        store: Arc<Store>,
        config: EngineConfig,
        resolver: Arc<dyn Resolve>,
    ) -> Result<Self, reqwest::Error> {
        let guarded = Guarded::new(resolver, config.policy());
        let client = reqwest::Client::builder()
            .dns_resolver(guarded)
            // A 3xx is a failed attempt, never followed.
            .redirect(reqwest::redirect::Policy::none())
            // Deliveries go straight to the endpoint; a proxy from the environment could send
            // loopback traffic elsewhere.
            .no_proxy()
            .pool_max_idle_per_host(MAX_CONCURRENT_ATTEMPTS)
            .tcp_nodelay(true)
            .build()?;
        let (stopping, _) = watch::channel(false);
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                client,
                config,
                permits: Semaphore::new(MAX_CONCURRENT_ATTEMPTS),
                stopping,
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

    /// Whether shutdown has begun.
    pub fn is_stopping(&self) -> bool {
        *self.inner.stopping.borrow()
    }

    /// Stops scheduling new attempts and waits for the attempts in flight to be recorded.
    pub async fn shutdown(&self) {
        self.inner.stopping.send_replace(true);
        self.inner.tracker.close();
        self.inner.tracker.wait().await;
    }

    async fn run(&self, delivery_id: i64) {
        let store = &self.inner.store;
        loop {
            let Some(_permit) = self.permit().await else {
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
            let outcome = self.send(&job).await;
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

    async fn permit(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        let mut stopping = self.inner.stopping.subscribe();
        if *stopping.borrow() {
            return None;
        }
        tokio::select! {
            permit = self.inner.permits.acquire() => permit.ok(),
            _ = stopping.wait_for(|s| *s) => None,
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
            outcome.response_body = Some(read_body(&mut response).await);
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

/// Reads at most 64 KiB of the body; a body cut off by an error keeps what arrived.
async fn read_body(response: &mut reqwest::Response) -> String {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = MAX_RESPONSE_BODY - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_RESPONSE_BODY {
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

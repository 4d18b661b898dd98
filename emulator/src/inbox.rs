//! The built-in inbox: `{base}/_inbox/{name}` on the emulator's own listener receives webhooks.
//!
//! It is the receiving side, so it asks for no API key: it records each request (method, headers,
//! raw body, time) and answers a scripted status. Deliveries to it pass every URL policy, because
//! they never leave the emulator.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use tokio::sync::watch;

/// The path every inbox lives under: `{base}/_inbox/{name}`.
pub const INBOX_PATH: &str = "/_inbox";
/// The requests an inbox keeps; when more arrive, the oldest are dropped.
pub const MAX_REQUESTS_PER_INBOX: usize = 1000;
/// The largest request body an inbox accepts (1 MiB); a longer one is answered
/// `413 Payload Too Large` and not recorded.
pub const MAX_INBOX_BODY: usize = 1024 * 1024;
/// How many inboxes requests can create by name (those made with [`Emulator::inbox`] always
/// exist); a request to one more name is answered `507 Insufficient Storage`.
///
/// [`Emulator::inbox`]: crate::Emulator::inbox
pub const MAX_INBOXES: usize = 256;
/// The longest inbox name served, in bytes.
pub const MAX_INBOX_NAME: usize = 128;
/// How long [`Inbox::wait_for`] and [`Emulator::wait_idle`](crate::Emulator::wait_idle) wait.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);
/// The status an inbox answers when nothing else is scripted.
const DEFAULT_STATUS: u16 = 200;

/// One request an inbox received.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReceivedRequest {
    /// The HTTP method (deliveries are `POST`).
    pub method: Method,
    /// The request's path, e.g. `/_inbox/orders` (an inbox also takes any path below its own).
    pub path: String,
    /// The headers as they arrived, e.g. `webhook-id`, `webhook-timestamp`, `webhook-signature`.
    pub headers: HeaderMap,
    /// The raw body, byte for byte, as signature verification needs it.
    pub body: Bytes,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// The status the inbox answered.
    pub status: u16,
}

/// A wait of the emulator's test helpers ran out of time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("timed out after {after:?}: {what}")]
pub struct WaitTimeout {
    /// What was waited for, and how far it got.
    pub what: String,
    /// How long it waited.
    pub after: Duration,
}

/// A status code an inbox cannot answer with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an inbox answers statuses from 200 to 599, not {0}")]
pub struct InvalidStatus(pub u16);

struct Slot {
    received: VecDeque<ReceivedRequest>,
    /// Statuses still to answer, in order; the last one stays once reached.
    script: VecDeque<u16>,
    total: u64,
}

impl Default for Slot {
    fn default() -> Self {
        Self {
            received: VecDeque::new(),
            script: VecDeque::from([DEFAULT_STATUS]),
            total: 0,
        }
    }
}

impl Slot {
    fn next_status(&mut self) -> u16 {
        let status = self.script.front().copied().unwrap_or(DEFAULT_STATUS);
        if self.script.len() > 1 {
            self.script.pop_front();
        }
        status
    }
}

/// Every inbox of one emulator; cheap to clone.
#[derive(Clone)]
pub(crate) struct Inboxes {
    boxes: Arc<Mutex<HashMap<String, Slot>>>,
    /// Bumped after every recorded request, so waiters look again.
    changed: watch::Sender<u64>,
    own_addr: SocketAddr,
}

impl Inboxes {
    pub(crate) fn new(own_addr: SocketAddr) -> Self {
        Self {
            boxes: Arc::default(),
            changed: watch::channel(0).0,
            own_addr,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        // Every change is a single insert or push, complete before anything can panic.
        self.boxes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The inbox `name`, created when it does not exist yet.
    pub(crate) fn handle(&self, name: &str) -> Inbox {
        if is_servable(name) {
            self.lock().entry(name.to_string()).or_default();
        }
        Inbox {
            name: name.to_string(),
            url: inbox_url(self.own_addr, name),
            inboxes: self.clone(),
        }
    }

    fn record(&self, name: &str, request: ReceivedRequest) -> StatusCode {
        let status = {
            let mut boxes = self.lock();
            if !boxes.contains_key(name) && boxes.len() >= MAX_INBOXES {
                return StatusCode::INSUFFICIENT_STORAGE;
            }
            let slot = boxes.entry(name.to_string()).or_default();
            let status = slot.next_status();
            if slot.received.len() == MAX_REQUESTS_PER_INBOX {
                slot.received.pop_front();
            }
            slot.received
                .push_back(ReceivedRequest { status, ..request });
            slot.total += 1;
            status
        };
        self.changed.send_modify(|n| *n += 1);
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
    }

    /// Every inbox as JSON for the inspector, by name.
    pub(crate) fn overview(&self) -> Value {
        let boxes = self.lock();
        let mut names: Vec<&String> = boxes.keys().collect();
        names.sort();
        let list: Vec<Value> = names
            .into_iter()
            .map(|name| {
                let slot = &boxes[name];
                json!({
                    "name": name,
                    "url": inbox_url(self.own_addr, name),
                    "total_received": slot.total,
                    "next_status": slot.script.front().copied().unwrap_or(DEFAULT_STATUS),
                    "received": slot.received.iter().rev().map(request_json).collect::<Vec<_>>(),
                })
            })
            .collect();
        Value::Array(list)
    }
}

fn request_json(request: &ReceivedRequest) -> Value {
    let headers: Map<String, Value> = request
        .headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_string(), Value::String(value))
        })
        .collect();
    json!({
        "method": request.method.as_str(),
        "path": request.path,
        "headers": headers,
        "body": String::from_utf8_lossy(&request.body),
        "received_at": request.received_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "status": request.status,
    })
}

/// Names a URL path segment can carry as they are: not empty, not `.` or `..`, not too long.
fn is_servable(name: &str) -> bool {
    !matches!(name, "" | "." | "..") && name.len() <= MAX_INBOX_NAME
}

fn inbox_url(own_addr: SocketAddr, name: &str) -> String {
    let mut url = url::Url::parse(&format!("http://{own_addr}"))
        .expect("a socket address makes a valid http URL");
    url.path_segments_mut()
        .expect("an http URL has a path")
        .push(INBOX_PATH.trim_start_matches('/'))
        .push(name);
    url.into()
}

/// Whether a webhook URL is one of this emulator's own inboxes: its address and port, and a path
/// under [`INBOX_PATH`]. Such deliveries stay inside the emulator, so no URL policy refuses them.
pub(crate) fn is_own_inbox(url: &url::Url, own_addr: SocketAddr) -> bool {
    let host_matches = match url.host() {
        Some(url::Host::Ipv4(ip)) => std::net::IpAddr::V4(ip) == own_addr.ip(),
        Some(url::Host::Ipv6(ip)) => std::net::IpAddr::V6(ip) == own_addr.ip(),
        _ => false,
    };
    host_matches
        && url.port_or_known_default() == Some(own_addr.port())
        && url.path().starts_with(&format!("{INBOX_PATH}/"))
}

/// The routes of the inboxes; no API key, since senders do not have one.
pub(crate) fn router(inboxes: Inboxes) -> Router {
    Router::new()
        .route(&format!("{INBOX_PATH}/{{name}}"), any(receive))
        .route(
            &format!("{INBOX_PATH}/{{name}}/{{*rest}}"),
            any(receive_below),
        )
        .with_state(inboxes)
}

async fn receive(
    State(inboxes): State<Inboxes>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    record(inboxes, name, request).await
}

async fn receive_below(
    State(inboxes): State<Inboxes>,
    Path((name, _)): Path<(String, String)>,
    request: Request,
) -> Response {
    record(inboxes, name, request).await
}

async fn record(inboxes: Inboxes, name: String, request: Request) -> Response {
    if !is_servable(&name) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_INBOX_BODY).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let request = ReceivedRequest {
        method: parts.method,
        path: parts.uri.path().to_string(),
        headers: parts.headers,
        body,
        received_at: Utc::now(),
        status: DEFAULT_STATUS,
    };
    inboxes.record(&name, request).into_response()
}

/// A named inbox of a running emulator; obtained from [`Emulator::inbox`](crate::Emulator::inbox).
///
/// Point an endpoint at [`url`](Self::url), then read what arrived. Cheap to clone; it stays
/// usable for reading after the emulator stopped.
#[derive(Clone)]
pub struct Inbox {
    name: String,
    url: String,
    inboxes: Inboxes,
}

impl std::fmt::Debug for Inbox {
    // What arrived stays out: bodies can be large and carry customer data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field("name", &self.name)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Inbox {
    /// The inbox's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL to give an endpoint, e.g. `http://127.0.0.1:8787/_inbox/orders` (the name is
    /// percent-encoded). Names of 1 to 128 bytes are served (except `.` and `..`); any other answers 404.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Answer the next requests with these statuses in order; the last one then stays (for
    /// example `[503, 503, 200]` for a delivery that succeeds on its third attempt). An empty
    /// list restores the default, 200. Fails, changing nothing, on a status outside 200..=599.
    pub fn respond_with(
        &self,
        statuses: impl IntoIterator<Item = u16>,
    ) -> Result<(), InvalidStatus> {
        let mut script: VecDeque<u16> = statuses.into_iter().collect();
        if let Some(bad) = script.iter().find(|s| !(200..=599).contains(*s)) {
            return Err(InvalidStatus(*bad));
        }
        if script.is_empty() {
            script.push_back(DEFAULT_STATUS);
        }
        let mut boxes = self.inboxes.lock();
        boxes.entry(self.name.clone()).or_default().script = script;
        Ok(())
    }

    /// The requests received so far, oldest first (at most the last
    /// [`MAX_REQUESTS_PER_INBOX`]).
    pub fn received(&self) -> Vec<ReceivedRequest> {
        let boxes = self.inboxes.lock();
        boxes
            .get(&self.name)
            .map(|slot| slot.received.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Waits until at least `n` requests have arrived and returns those kept, oldest first; fails
    /// with a [`WaitTimeout`] that says how many arrived when [`DEFAULT_WAIT`] (10 s) passes first.
    ///
    /// ```
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let emulator = wacht_webhooks_emulator::Emulator::builder().start().await?;
    /// let inbox = emulator.inbox("orders");
    /// reqwest::Client::new().post(inbox.url()).body("{}").send().await?;
    /// let received = inbox.wait_for(1).await?;
    /// assert_eq!(&received[0].body[..], b"{}");
    /// # Ok(()) }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
    /// ```
    pub async fn wait_for(&self, n: usize) -> Result<Vec<ReceivedRequest>, WaitTimeout> {
        self.wait_for_within(n, DEFAULT_WAIT).await
    }

    /// [`wait_for`](Self::wait_for) with another timeout.
    pub async fn wait_for_within(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<ReceivedRequest>, WaitTimeout> {
        let count = || {
            self.inboxes
                .lock()
                .get(&self.name)
                .map_or(0, |slot| slot.received.len())
        };
        let mut changed = self.inboxes.changed.subscribe();
        let waited = tokio::time::timeout(timeout, changed.wait_for(|_| count() >= n)).await;
        match waited {
            Ok(Ok(_)) => Ok(self.received()),
            _ => Err(WaitTimeout {
                what: self.shortfall(n, count()),
                after: timeout,
            }),
        }
    }

    fn shortfall(&self, n: usize, got: usize) -> String {
        let mut what = format!(
            "inbox {:?} ({}) received {got} of {n} requests",
            self.name, self.url
        );
        if n > MAX_REQUESTS_PER_INBOX {
            what.push_str(&format!(
                "; an inbox keeps at most {MAX_REQUESTS_PER_INBOX}"
            ));
        }
        if !is_servable(&self.name) {
            what.push_str(&format!(
                "; names of 1 to {MAX_INBOX_NAME} bytes are served, this one is not"
            ));
        }
        what
    }
}

//! Shared helpers of the emulator's integration tests: a plain HTTP API client, a scripted
//! receiver on 127.0.0.1, setup shortcuts and bounded polling.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use wacht_webhooks_emulator::{Behaviour, Emulator, EmulatorBuilder};

pub const KEY: &str = "test_key";

/// How long any polling waits before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// A builder with a fast retry schedule, loopback-only delivery and the test key.
pub fn builder() -> EmulatorBuilder {
    Emulator::builder()
        .api_key(KEY)
        .retry_schedule(vec![Duration::from_millis(20)])
        .deliver_to_loopback_only(true)
}

/// [`builder`] serving the documented API instead of production's behaviour.
pub fn documented() -> EmulatorBuilder {
    builder().behaviour(Behaviour::Documented)
}

/// An emulator in its default behaviour (production's) and a client for it.
pub async fn start() -> (Emulator, Api) {
    start_with(builder()).await
}

/// An emulator serving the documented API and a client for it.
pub async fn start_documented() -> (Emulator, Api) {
    start_with(documented()).await
}

/// An emulator in the given behaviour and a client for it.
pub async fn start_in(behaviour: Behaviour) -> (Emulator, Api) {
    start_with(builder().behaviour(behaviour)).await
}

pub async fn start_with(builder: EmulatorBuilder) -> (Emulator, Api) {
    let emu = builder.start().await.expect("emulator starts");
    let api = Api::new(&emu.base_url());
    (emu, api)
}

/// The emulator enables reqwest's rustls support without a provider: a test process that builds
/// a reqwest client before any emulator starts (one that runs the binary) installs `ring` itself.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A minimal JSON client of the emulator's API.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(base: &str) -> Self {
        install_tls_provider();
        Self {
            base: base.to_string(),
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(KEY);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn post_empty(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, None).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    /// GET that must answer 200.
    pub async fn ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// A catalog with the given events and an app using it; returns the app.
    pub async fn app_with_events(&self, events: &[&str]) -> Value {
        let slug = format!("cat_{}", fastrand::u64(..));
        let events: Vec<Value> = events
            .iter()
            .map(|name| json!({"name": name, "description": format!("{name} happened")}))
            .collect();
        let (status, body) = self
            .post(
                "/webhooks/event-catalogs",
                json!({"slug": slug, "name": "Test", "events": events}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, app) = self
            .post(
                "/webhooks/apps",
                json!({"name": "Test app", "event_catalog_slug": slug}),
            )
            .await;
        assert_eq!(status, 200, "{app}");
        app
    }

    /// An endpoint of `app` at `url` subscribed to `event` (with optional filter and extra fields).
    pub async fn endpoint(&self, app: &Value, url: &str, event: &str, extra: Value) -> Value {
        let slug = app["app_slug"].as_str().unwrap();
        let mut body = json!({
            "app_slug": slug,
            "url": url,
            "subscriptions": [{"event_name": event, "filter_rules": null}],
        });
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            body[k] = v;
        }
        let (status, endpoint) = self
            .post(&format!("/webhooks/apps/{slug}/endpoints"), body)
            .await;
        assert_eq!(status, 200, "{endpoint}");
        endpoint
    }

    /// Triggers `event` on `app`; returns the response.
    pub async fn trigger(&self, app: &Value, event: &str, payload: Value) -> Value {
        let slug = app["app_slug"].as_str().unwrap();
        let (status, body) = self
            .post(
                &format!("/webhooks/apps/{slug}/trigger"),
                json!({"app_slug": slug, "event_name": event, "payload": payload}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// The delivery details of one delivery.
    pub async fn delivery(&self, app: &Value, id: &str) -> Value {
        let slug = app["app_slug"].as_str().unwrap();
        self.ok(&format!("/webhooks/apps/{slug}/deliveries/{id}"))
            .await
    }

    /// Waits until the delivery reaches a final state; returns its details.
    pub async fn settled(&self, app: &Value, id: &str) -> Value {
        eventually(&format!("delivery {id} settles"), || async {
            let d = self.delivery(app, id).await;
            (!matches!(d["status"].as_str(), Some("pending" | "failed"))).then_some(d)
        })
        .await
    }

    /// All deliveries of an app (newest first).
    pub async fn deliveries(&self, app: &Value) -> Vec<Value> {
        let slug = app["app_slug"].as_str().unwrap();
        let page = self
            .ok(&format!("/webhooks/apps/{slug}/deliveries?limit=1000"))
            .await;
        page["data"].as_array().unwrap().clone()
    }

    /// Waits until a replay task is completed or cancelled.
    pub async fn task_done(&self, app: &Value, task_id: &str) -> Value {
        let slug = app["app_slug"].as_str().unwrap();
        eventually("replay task finishes", || async {
            let t = self
                .ok(&format!(
                    "/webhooks/apps/{slug}/deliveries/replay/{task_id}"
                ))
                .await;
            matches!(t["status"].as_str(), Some("completed" | "cancelled")).then_some(t)
        })
        .await
    }
}

/// Polls `check` every 10 ms until it yields a value; fails the test after [`DEADLINE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(started.elapsed() < DEADLINE, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Asserts an error envelope with the status and (when given) the exact message.
pub fn assert_error(result: &(u16, Value), status: u16, message: Option<&str>) {
    let (got, body) = result;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["errors"][0]["code"], json!(status), "{body}");
    assert!(body["errors"][0]["message"].is_string(), "{body}");
    if let Some(message) = message {
        assert_eq!(body["errors"][0]["message"], json!(message), "{body}");
    }
}

/// Verifies a Standard Webhooks signature independently of the emulator.
pub fn signature_valid(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let id = headers["webhook-id"].to_str().unwrap();
    let ts = headers["webhook-timestamp"].to_str().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    headers["webhook-signature"]
        .to_str()
        .unwrap()
        .split(' ')
        .any(|s| s == expected)
}

/// One scripted answer of the receiver.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub delay: Duration,
    pub body: String,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            delay: Duration::ZERO,
            body: format!("reply {status}"),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }
}

/// A request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn header(&self, name: &str) -> String {
        self.headers[name].to_str().unwrap().to_string()
    }
}

#[derive(Default)]
struct ReceiverState {
    scripts: HashMap<String, VecDeque<Reply>>,
    defaults: HashMap<String, Reply>,
    received: Vec<Received>,
}

/// A scripted HTTP receiver on 127.0.0.1: each path answers its script in order, then its default
/// (200 unless set).
#[derive(Clone)]
pub struct Receiver {
    pub base: String,
    state: Arc<Mutex<ReceiverState>>,
}

impl Receiver {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let shared = state.clone();
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = shared.clone();
            async move { answer(state, uri, headers, body).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Answers these replies in order on `path`, then the default.
    pub fn script(&self, path: &str, replies: Vec<Reply>) {
        self.state
            .lock()
            .unwrap()
            .scripts
            .insert(path.to_string(), replies.into());
    }

    /// The answer on `path` once its script is used up.
    pub fn default_reply(&self, path: &str, reply: Reply) {
        self.state
            .lock()
            .unwrap()
            .defaults
            .insert(path.to_string(), reply);
    }

    pub fn received(&self, path: &str) -> Vec<Received> {
        self.state
            .lock()
            .unwrap()
            .received
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// Waits until `path` got at least `n` requests.
    pub async fn wait_for(&self, path: &str, n: usize) -> Vec<Received> {
        eventually(&format!("{n} requests on {path}"), || async {
            let got = self.received(path);
            (got.len() >= n).then_some(got)
        })
        .await
    }
}

async fn answer(
    state: Arc<Mutex<ReceiverState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let reply = {
        let mut state = state.lock().unwrap();
        state.received.push(Received {
            path: path.clone(),
            headers,
            body,
            at: Instant::now(),
        });
        let scripted = state.scripts.get_mut(&path).and_then(VecDeque::pop_front);
        scripted
            .or_else(|| state.defaults.get(&path).cloned())
            .unwrap_or_else(|| Reply::status(200).body("ok"))
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (name, value) in reply.headers {
        response.headers_mut().insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    response
}

//! Shared setup of the integration tests: an emulator on loopback with a fast retry schedule, a
//! client pointed at it, a programmable receiver that records what it is sent, fixtures, polling
//! helpers bounded by a deadline, and error assertions.
//!
//! Every test starts its own emulator (cheap: an in-process server on a free port), so tests never
//! see each other's state and may run in parallel.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::any;
use tokio::net::TcpListener;
use tokio::time::Instant;
use wacht_webhooks::{
    Client, CreateWebhookAppRequest, CreateWebhookEndpointRequest,
    CreateWebhookEventCatalogRequest, DeliveryStatus, Error, ErrorKind, TriggerWebhookEventRequest,
    WebhookApp, WebhookDeliveryDetails, WebhookEndpoint, WebhookEventDefinition, Webhooks,
};
pub use wacht_webhooks_emulator::Behaviour;
use wacht_webhooks_emulator::{Emulator, EmulatorBuilder};

/// The key the emulators of the tests accept.
pub const API_KEY: &str = "integration_key";
/// How long any wait may last before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(20);
/// How often waits poll.
pub const POLL: Duration = Duration::from_millis(10);

/// The events of the fixture catalog.
pub const ORDER_PAID: &str = "order.paid";
pub const ORDER_REFUNDED: &str = "order.refunded";

/// A running emulator, a client of it and a receiver for its deliveries.
pub struct Harness {
    emulator: Emulator,
    pub client: Client,
    pub webhooks: Webhooks,
    pub receiver: Receiver,
}

impl Harness {
    /// An emulator with a 20 ms retry schedule that delivers to loopback only.
    pub async fn start() -> Harness {
        Harness::start_with(|builder| builder).await
    }

    /// Like [`Harness::start`], serving the documented behaviour instead of production's quirks.
    pub async fn documented() -> Harness {
        Harness::start_with(|builder| builder.behaviour(Behaviour::Documented)).await
    }

    /// Like [`Harness::start`], with more emulator settings.
    pub async fn start_with(configure: impl FnOnce(EmulatorBuilder) -> EmulatorBuilder) -> Harness {
        let builder = Emulator::builder()
            .api_key(API_KEY)
            .retry_schedule(vec![Duration::from_millis(20)])
            .allow_private_urls(true)
            .deliver_to_loopback_only(true);
        let emulator = configure(builder)
            .start()
            .await
            .expect("the emulator starts");
        let client = client_for(&emulator.base_url(), API_KEY);
        Harness {
            webhooks: client.webhooks(),
            client,
            receiver: Receiver::start().await,
            emulator,
        }
    }

    /// The emulator's URL.
    pub fn base_url(&self) -> String {
        self.emulator.base_url()
    }

    /// A client of the same emulator with another API key.
    pub fn client_with_key(&self, key: &str) -> Client {
        client_for(&self.emulator.base_url(), key)
    }

    /// Stops the emulator gracefully.
    pub async fn shutdown(self) {
        self.emulator.shutdown().await;
    }

    /// A catalog `slug` with the events `order.paid` and `order.refunded`.
    pub async fn catalog(&self, slug: &str) -> wacht_webhooks::WebhookEventCatalog {
        let request = CreateWebhookEventCatalogRequest::new(slug, "Orders")
            .description("Order events")
            .event(WebhookEventDefinition::new(ORDER_PAID, "An order was paid").group("orders"))
            .event(WebhookEventDefinition::new(
                ORDER_REFUNDED,
                "An order was refunded",
            ));
        self.webhooks
            .create_webhook_event_catalog(request)
            .await
            .expect("create_webhook_event_catalog")
    }

    /// A catalog `<slug>_events`, an app `slug` using it, and an endpoint on the receiver's path
    /// `slug` subscribed to both events, with 3 attempts per delivery.
    pub async fn fixture(&self, slug: &str) -> Fixture {
        let catalog = format!("{slug}_events");
        self.catalog(&catalog).await;
        let app = self
            .webhooks
            .create_webhook_app(
                CreateWebhookAppRequest::new(format!("App {slug}"))
                    .app_slug(slug)
                    .event_catalog_slug(&catalog),
            )
            .await
            .expect("create_webhook_app");
        let endpoint = self.endpoint(slug, slug).await;
        Fixture {
            app,
            endpoint,
            catalog,
            hook: slug.to_string(),
        }
    }

    /// An endpoint of `app_slug` on the receiver's path `hook`, subscribed to both events, with 3
    /// attempts per delivery.
    pub async fn endpoint(&self, app_slug: &str, hook: &str) -> WebhookEndpoint {
        self.webhooks
            .create_webhook_endpoint(
                app_slug,
                CreateWebhookEndpointRequest::new(self.receiver.url(hook))
                    .subscribe(ORDER_PAID)
                    .subscribe(ORDER_REFUNDED)
                    .max_retries(3),
            )
            .await
            .expect("create_webhook_endpoint")
    }

    /// Triggers `event_name` with `payload`; returns the ids of the deliveries queued.
    pub async fn trigger(
        &self,
        app_slug: &str,
        event_name: &str,
        payload: serde_json::Value,
    ) -> Vec<String> {
        self.webhooks
            .trigger_webhook_event(
                app_slug,
                TriggerWebhookEventRequest::new(event_name, payload),
            )
            .await
            .expect("trigger_webhook_event")
            .delivery_ids
    }

    /// Polls a delivery until its latest state is `status`.
    pub async fn wait_for_status(
        &self,
        app_slug: &str,
        delivery_id: &str,
        status: DeliveryStatus,
    ) -> WebhookDeliveryDetails {
        let what = format!("delivery {delivery_id} to be {status}");
        eventually(&what, async || {
            let delivery = self
                .webhooks
                .get_webhook_delivery(app_slug, delivery_id)
                .await
                .expect("get_webhook_delivery");
            (delivery.status == status).then_some(delivery)
        })
        .await
    }

    /// Polls until no delivery of the app is pending or failed (awaiting a retry).
    pub async fn wait_until_settled(&self, app_slug: &str) {
        let what = format!("the deliveries of {app_slug} to settle");
        eventually(&what, async || {
            let page = self
                .webhooks
                .list_webhook_deliveries(
                    app_slug,
                    wacht_webhooks::ListWebhookDeliveriesOptions::new().limit(1000),
                )
                .await
                .expect("list_webhook_deliveries");
            assert!(!page.has_more, "wait_until_settled is for small apps");
            page.data
                .iter()
                .all(|d| !matches!(d.status, DeliveryStatus::Pending | DeliveryStatus::Failed))
                .then_some(())
        })
        .await
    }
}

/// What [`Harness::fixture`] made.
pub struct Fixture {
    pub app: WebhookApp,
    pub endpoint: WebhookEndpoint,
    /// The catalog's slug.
    pub catalog: String,
    /// The receiver path of the endpoint.
    pub hook: String,
}

impl Fixture {
    pub fn slug(&self) -> &str {
        &self.app.app_slug
    }
}

/// A client of `base_url` with short timeouts.
pub fn client_for(base_url: &str, key: &str) -> Client {
    Client::builder()
        .api_key(key)
        .base_url(base_url)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("the client builds")
}

/// Calls `check` every [`POLL`] until it returns `Some`; fails the test after [`DEADLINE`].
pub async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {DEADLINE:?} waiting for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Asserts that `result` failed with `kind`, `status` and, when given, the server's `message`
/// among `err.messages()`; returns the error.
#[track_caller]
pub fn expect_error<T: std::fmt::Debug>(
    result: Result<T, Error>,
    kind: ErrorKind,
    status: Option<u16>,
    message: Option<&str>,
) -> Error {
    let err = result.expect_err("the call should fail");
    assert_eq!(err.kind(), kind, "kind of {err}");
    assert_eq!(err.status(), status, "status of {err}");
    match message {
        Some(message) => assert!(
            err.messages().iter().any(|m| m == message),
            "expected the server's message {message:?} in {:?} ({err})",
            err.messages()
        ),
        None => assert!(err.messages().is_empty(), "no server messages in {err}"),
    }
    assert!(
        err.to_string().contains(message.unwrap_or_default()),
        "Display carries the message: {err}"
    );
    err
}

/// A 404 with the server's message.
#[track_caller]
pub fn expect_not_found<T: std::fmt::Debug>(result: Result<T, Error>, message: &str) -> Error {
    expect_error(result, ErrorKind::NotFound, Some(404), Some(message))
}

/// A 400 with the server's message.
#[track_caller]
pub fn expect_bad_request<T: std::fmt::Debug>(result: Result<T, Error>, message: &str) -> Error {
    expect_error(result, ErrorKind::BadRequest, Some(400), Some(message))
}

/// Refused by the client before any request.
#[track_caller]
pub fn expect_invalid_input<T: std::fmt::Debug>(result: Result<T, Error>) -> Error {
    expect_error(result, ErrorKind::InvalidInput, None, None)
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// The path without the leading `/`.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("deliveries are JSON")
    }
}

#[derive(Default)]
struct Script {
    /// Statuses for the next requests, in order.
    next: VecDeque<u16>,
    /// The status once `next` is used up (200 when unset).
    otherwise: Option<u16>,
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    scripts: Mutex<HashMap<String, Script>>,
}

/// An HTTP server on 127.0.0.1 that records every request (any method, any path) and answers with the status
/// scripted for its path (200 by default).
#[derive(Clone)]
pub struct Receiver {
    base: String,
    shared: Arc<Shared>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/{*path}", any(receive))
            .with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the receiver");
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { base, shared }
    }

    /// The receiver's base URL (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The URL of the path `name`.
    pub fn url(&self, name: &str) -> String {
        format!("{}/{name}", self.base)
    }

    /// Answers every further request to `name` with `status`.
    pub fn respond(&self, name: &str, status: u16) {
        let mut scripts = self.shared.scripts.lock().unwrap();
        let script = scripts.entry(name.to_string()).or_default();
        script.next.clear();
        script.otherwise = Some(status);
    }

    /// Answers the next requests to `name` with `statuses`, in order, then as before.
    pub fn script(&self, name: &str, statuses: impl IntoIterator<Item = u16>) {
        let mut scripts = self.shared.scripts.lock().unwrap();
        scripts
            .entry(name.to_string())
            .or_default()
            .next
            .extend(statuses);
    }

    /// Every request to `name` so far.
    pub fn received(&self, name: &str) -> Vec<Received> {
        self.shared
            .received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == name)
            .cloned()
            .collect()
    }

    /// How many requests `name` got.
    pub fn count(&self, name: &str) -> usize {
        self.shared
            .received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == name)
            .count()
    }

    /// How many requests the receiver got on any path.
    pub fn total(&self) -> usize {
        self.shared.received.lock().unwrap().len()
    }

    /// Waits until `name` got at least `n` requests; returns them all.
    pub async fn wait_for(&self, name: &str, n: usize) -> Vec<Received> {
        let what = format!("{n} requests to /{name}");
        eventually(&what, async || {
            let got = self.received(name);
            (got.len() >= n).then_some(got)
        })
        .await
    }

    /// Waits for the request to `name` whose `webhook-id` is `msg_<delivery_id>`.
    pub async fn wait_for_delivery(&self, name: &str, delivery_id: &str) -> Received {
        let id = format!("msg_{delivery_id}");
        let what = format!("delivery {id} at /{name}");
        eventually(&what, async || {
            self.received(name).into_iter().find(|r| {
                r.headers
                    .get("webhook-id")
                    .is_some_and(|v| v == id.as_str())
            })
        })
        .await
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let path = uri.path().trim_start_matches('/').to_string();
    let status = {
        let mut scripts = shared.scripts.lock().unwrap();
        scripts.get_mut(&path).map_or(200, |script| {
            script.next.pop_front().or(script.otherwise).unwrap_or(200)
        })
    };
    shared.received.lock().unwrap().push(Received {
        path,
        headers,
        body,
    });
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

//! Shared setup of the integration tests: an emulator on loopback with a fast retry schedule, a
//! client pointed at it, the emulator's inboxes as receivers, fixtures, polling
//! helpers bounded by a deadline, and error assertions.
//!
//! Every test starts its own emulator (cheap: an in-process server on a free port), so tests never
//! see each other's state and may run in parallel.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use wacht_webhooks::{
    Client, CreateWebhookAppRequest, CreateWebhookEndpointRequest,
    CreateWebhookEventCatalogRequest, DeliveryStatus, Error, ErrorKind, TriggerWebhookEventRequest,
    WebhookApp, WebhookDeliveryDetails, WebhookEndpoint, WebhookEventDefinition, Webhooks,
};
pub use wacht_webhooks_emulator::Behaviour;
use wacht_webhooks_emulator::{Emulator, EmulatorBuilder, ReceivedRequest};

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
    emulator: Arc<Emulator>,
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
        let emulator = Arc::new(emulator);
        Harness {
            webhooks: client.webhooks(),
            client,
            receiver: Receiver {
                emulator: emulator.clone(),
            },
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
        let Harness {
            emulator, receiver, ..
        } = self;
        drop(receiver);
        if let Ok(emulator) = Arc::try_unwrap(emulator) {
            emulator.shutdown().await;
        }
    }

    /// The emulator's inbox `name`.
    pub fn inbox(&self, name: &str) -> wacht_webhooks_emulator::Inbox {
        self.emulator.inbox(name)
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

    /// Waits until no delivery is pending or failed (awaiting a retry), nor any replay running.
    pub async fn wait_until_settled(&self, _app_slug: &str) {
        let idle = self.emulator.wait_idle_within(DEADLINE).await;
        idle.expect("the deliveries settle");
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

/// One request an inbox got.
pub type Received = ReceivedRequest;

/// The emulator's inboxes by name: each records what it is sent and answers 200 unless told
/// otherwise.
#[derive(Clone)]
pub struct Receiver {
    emulator: Arc<Emulator>,
}

impl Receiver {
    /// The URL of the inbox `name`.
    pub fn url(&self, name: &str) -> String {
        self.emulator.inbox(name).url()
    }

    /// Answers every further request to `name` with `status`.
    pub fn respond(&self, name: &str, status: u16) {
        self.emulator
            .inbox(name)
            .respond_with([status])
            .expect("a valid status");
    }

    /// Every request to `name` so far.
    pub fn received(&self, name: &str) -> Vec<Received> {
        self.emulator.inbox(name).received()
    }

    /// How many requests `name` got.
    pub fn count(&self, name: &str) -> usize {
        self.received(name).len()
    }

    /// Waits until `name` got at least `n` requests; returns them all.
    pub async fn wait_for(&self, name: &str, n: usize) -> Vec<Received> {
        let inbox = self.emulator.inbox(name);
        inbox
            .wait_for_within(n, DEADLINE)
            .await
            .expect("requests arrive")
    }

    /// Waits for the request to `name` whose `webhook-id` is `msg_<delivery_id>`.
    pub async fn wait_for_delivery(&self, name: &str, delivery_id: &str) -> Received {
        let id = format!("msg_{delivery_id}");
        let what = format!("delivery {id} at {name}");
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

/// The body of a received delivery as JSON.
pub fn json(received: &Received) -> serde_json::Value {
    serde_json::from_slice(&received.body).expect("deliveries are JSON")
}

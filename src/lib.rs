//! A typed Rust client for the [Wacht](https://wacht.dev) Webhooks API, generated at build time
//! from the project's OpenAPI document (`spec/webhooks.yaml`), with the parts a generator cannot
//! know written by hand: pagination streams, replay helpers, request builders, typed errors with
//! retries, and verification of the webhooks your receivers get.
//!
//! ```no_run
//! use serde_json::json;
//! use wacht_webhooks::{Client, CreateWebhookAppRequest, CreateWebhookEndpointRequest, TriggerWebhookEventRequest};
//!
//! # async fn run() -> Result<(), wacht_webhooks::Error> {
//! let webhooks = Client::from_env()?.webhooks();
//! let app = webhooks
//!     .create_webhook_app(CreateWebhookAppRequest::new("Billing").event_catalog_slug("billing-events"))
//!     .await?;
//! webhooks
//!     .create_webhook_endpoint(
//!         &app.app_slug,
//!         CreateWebhookEndpointRequest::new("https://example.com/hooks").subscribe("invoice.paid"),
//!     )
//!     .await?;
//! webhooks
//!     .trigger_webhook_event(&app.app_slug, TriggerWebhookEventRequest::new("invoice.paid", json!({"id": "in_1"})))
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! Module by concept: [`client`] (the client and every call), [`types`] (the wire models and
//! query options), [`error`], [`pagination`], [`replay`], [`builders`] and [`webhook`] (verifying
//! what you receive).
//!
//! # Configuration
//!
//! Retries follow a [`RetryPolicy`] (how many, how far apart, within what budget, for which
//! kinds of failure); the HTTP client can be the application's own ([`ClientBuilder::http_client`],
//! for its proxies and connection pool); closed sets of the API are types: a replay's status filter
//! is a [`ReplayStatusFilter`], an endpoint's rate limit a count per [`Duration`](std::time::Duration),
//! a wait a [`WaitOptions`].
//!
//! ```no_run
//! use std::time::Duration;
//! use chrono::Utc;
//! use wacht_webhooks::{
//!     Client, CreateWebhookEndpointRequest, ErrorKind, ReplayStatusFilter, RetryPolicy, WaitOptions,
//! };
//!
//! # async fn run() -> Result<(), wacht_webhooks::Error> {
//! let http = reqwest::Client::builder()
//!     .proxy(reqwest::Proxy::https("http://proxy.internal:3128").expect("a proxy URL"))
//!     .build()
//!     .expect("an HTTP client");
//! let webhooks = Client::builder()
//!     .api_key("wk_live_...")
//!     .http_client(http)
//!     .timeout(Duration::from_secs(10))
//!     .retry_policy(
//!         RetryPolicy::new()
//!             .max_retries(4)
//!             .base_delay(Duration::from_millis(100))
//!             .budget(Duration::from_secs(30))
//!             .retry_on([ErrorKind::RateLimited, ErrorKind::Server, ErrorKind::Transport]),
//!     )
//!     .build()?
//!     .webhooks();
//! webhooks
//!     .create_webhook_endpoint(
//!         "billing",
//!         CreateWebhookEndpointRequest::new("https://example.com/hooks")
//!             .subscribe("invoice.paid")
//!             .rate_limit(20, Duration::from_secs(1)),
//!     )
//!     .await?;
//! let job = webhooks
//!     .replay("billing")
//!     .between(Utc::now() - chrono::Duration::hours(6), Utc::now())
//!     .status(ReplayStatusFilter::PermanentlyFailed)
//!     .send()
//!     .await?;
//! let summary = job
//!     .wait(WaitOptions::new().poll_interval(Duration::from_secs(2)).timeout(Duration::from_secs(600)))
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//!
//! - `rustls` (default): HTTPS through rustls with the *ring* crypto provider and the operating
//!   system's certificate verifier. *ring* rather than `aws-lc-rs` (reqwest's default) because
//!   `aws-lc-sys` is a large C build, with cmake on some platforms, in every downstream build;
//!   *ring* needs only a C compiler and offers the TLS 1.2 and 1.3 suites HTTPS APIs use. The
//!   client's TLS configuration names *ring* itself; and since reqwest is then built without a
//!   provider of its own, building a client also installs *ring* as the process's default rustls
//!   provider when the program has not installed one, so that other reqwest clients of the program
//!   keep working. A program that installs another provider first keeps it.
//! - `native-tls`: HTTPS through the platform's library (OpenSSL on Linux, which needs its
//!   development package to build; Security.framework; SChannel). With both features, rustls is
//!   used.
//! - `axum`: `VerifiedWebhook`, an axum extractor that verifies what receivers get (see
//!   [`webhook`]).
//!
//! Without `rustls` and `native-tls` (`default-features = false`), the client speaks plain HTTP
//! only (the emulator, a local proxy): [`ClientBuilder::build`] fails with
//! [`ErrorKind::Config`] for an `https` base URL, unless an HTTP client with TLS is passed to
//! [`ClientBuilder::http_client`].

#![cfg_attr(docsrs, feature(doc_cfg))]

#[macro_use]
#[allow(
    missing_docs,
    dead_code,
    unused_imports,
    clippy::all,
    clippy::pedantic,
    rustdoc::all
)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/webhooks.rs"));
}

pub mod builders;
pub mod client;
pub mod error;
pub mod pagination;
mod poll;
pub mod replay;
mod retry;
mod tls;
mod transport;
mod waiting;
pub mod webhook;

pub mod types {
    //! The wire models of the API (request bodies, answers, enums) and the query options of its
    //! calls, generated from the spec. The ones most code names are also at the crate root.
    pub use crate::generated::public::*;
}

pub use builders::ReplayWebhookDeliveriesRequest;
pub use client::{Client, ClientBuilder, RetryPolicy, Webhooks};
pub use error::{Error, ErrorKind};
pub use pagination::Page;
pub use replay::{ReplayBuilder, ReplayJob, ReplaySummary, WaitOptions};
pub use types::{
    CancelReplayTaskResponse, CreateWebhookAppRequest, CreateWebhookEndpointRequest,
    CreateWebhookEventCatalogRequest, DeliveryStatus, ListWebhookAppsOptions,
    ListWebhookDeliveriesOptions, ListWebhookEndpointsOptions, ListWebhookReplayTasksOptions,
    ReactivateEndpointResponse, ReplayStatusFilter, ReplayTaskState, ReplayTaskStatus,
    ReplayWebhookDeliveryResponse, TestWebhookEndpointRequest, TestWebhookEndpointResponse,
    TimeseriesInterval, TriggerWebhookEventRequest, TriggerWebhookEventResponse,
    UpdateWebhookAppRequest, UpdateWebhookEndpointRequest, UpdateWebhookEventCatalogRequest,
    WebhookAnalytics, WebhookAnalyticsOptions, WebhookApp, WebhookAppEvent, WebhookDelivery,
    WebhookDeliveryDetails, WebhookDeliveryOptions, WebhookEndpoint, WebhookEventCatalog,
    WebhookEventDefinition, WebhookStats, WebhookTimeseries, WebhookTimeseriesOptions,
};
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use webhook::VerifiedWebhook;
pub use webhook::{VerifyError, Webhook, WebhookEvent};

/// The README's examples, compiled as doctests so that the README stays true to the code.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

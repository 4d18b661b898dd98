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
//! Module by concept: [`client`] (the client and every call), [`error`], [`pagination`],
//! [`replay`], [`builders`] and [`webhook`] (verifying what you receive).

#![warn(missing_docs)]
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
pub mod webhook;

pub use builders::ReplayWebhookDeliveriesRequest;
pub use client::{Client, ClientBuilder, RetryPolicy, Webhooks};
pub use error::{Error, ErrorKind};
pub use generated::options::*;
pub use generated::types::*;
pub use pagination::Page;
pub use replay::{ReplayBuilder, ReplayJob, ReplaySummary, WaitOptions};
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use webhook::VerifiedWebhook;
pub use webhook::{VerifyError, Webhook, WebhookEvent};

/// The README's examples, compiled as doctests so that the README stays true to the code.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

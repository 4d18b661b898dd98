//! Typed Rust client for the Wacht Webhooks API.

pub mod webhook;

pub use webhook::{VerifyError, Webhook, WebhookEvent};
#[cfg(feature = "axum")]
pub use webhook::VerifiedWebhook;

//! What the inspector page shows beyond the API: every attempt of a delivery.

use chrono::{DateTime, Utc};

use super::Store;
use super::model::DeliveryStatus;

/// One attempt of a delivery as the inspector shows it.
#[derive(Debug)]
pub struct AttemptRecord {
    /// When the attempt's outcome was recorded.
    pub at: DateTime<Utc>,
    /// The state the delivery entered with it.
    pub status: DeliveryStatus,
    /// The URL it was sent to.
    pub url: String,
    /// The response status; `None` when no response came.
    pub status_code: Option<u16>,
    /// How long it took.
    pub response_time_ms: u64,
    /// The stored prefix of the response body.
    pub response_body: Option<String>,
    /// Why there is no response, when there is none.
    pub error: Option<&'static str>,
}

/// A delivery's request as it is sent on every attempt.
#[derive(Debug)]
pub struct SentRequest {
    /// The body, byte for byte (UTF-8).
    pub body: String,
    /// The attempts so far, oldest first.
    pub attempts: Vec<AttemptRecord>,
}

impl Store {
    /// The request and attempts of one delivery of the app; `None` when the app or the delivery
    /// is unknown or no longer retained.
    pub fn sent_request(&self, app_slug: &str, delivery_id: i64) -> Option<SentRequest> {
        let state = self.lock();
        let app_id = state.app_id(app_slug).ok()?;
        let delivery = state
            .deliveries
            .get(&delivery_id)
            .filter(|d| d.app_id == app_id)?;
        let attempts = delivery
            .log
            .iter()
            .filter_map(|row| {
                let attempt = row.attempt.as_ref()?;
                Some(AttemptRecord {
                    at: row.at,
                    status: row.status,
                    url: attempt.url.clone(),
                    status_code: attempt.status_code,
                    response_time_ms: attempt.response_time_ms,
                    response_body: attempt.response_body.clone(),
                    error: attempt
                        .status_code
                        .is_none()
                        .then_some("no response: the connection failed, was refused by the URL policy, or timed out"),
                })
            })
            .collect();
        Some(SentRequest {
            body: String::from_utf8_lossy(&delivery.body).into_owned(),
            attempts,
        })
    }
}

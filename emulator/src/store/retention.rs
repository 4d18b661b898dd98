//! Retention of the delivery log: how many settled deliveries are kept, for how long, and how
//! much of each response body.
//!
//! Settled deliveries (a final status) are evicted oldest-settled first once there are more than
//! [`Retention::max_deliveries`] of them or once they settled more than [`Retention::max_age`]
//! ago. Deliveries still in flight are never evicted and do not count towards the limit. Stats,
//! analytics and time series are computed from the retained deliveries only; an evicted delivery
//! answers like an id that never existed.

use std::time::Duration;

use chrono::{DateTime, Duration as ChronoDuration, Utc};

use super::State;

/// Settled deliveries kept by default.
pub const DEFAULT_MAX_DELIVERIES: usize = 10_000;
/// The bytes of a response body stored per attempt by default.
pub const DEFAULT_MAX_RESPONSE_BODY: usize = 4 * 1024;
/// The most bytes of a response body the delivery engine reads per attempt, hence the largest
/// useful [`Retention::max_response_body`].
pub const RESPONSE_BODY_READ_LIMIT: usize = 64 * 1024;
/// Ends a stored response body that was cut to the configured length (see
/// [`EmulatorBuilder::max_stored_response_body`](crate::EmulatorBuilder::max_stored_response_body)).
pub const TRUNCATION_MARK: &str = "…[truncated by the emulator]";

/// What the delivery log keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Settled deliveries kept (`None`: all of them); the oldest settled are evicted first.
    pub max_deliveries: Option<usize>,
    /// Settled deliveries are evicted this long after they settled (`None`: never).
    pub max_age: Option<Duration>,
    /// The bytes of each attempt's response body stored; a longer body is cut and ends with
    /// [`TRUNCATION_MARK`].
    pub max_response_body: usize,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            max_deliveries: Some(DEFAULT_MAX_DELIVERIES),
            max_age: None,
            max_response_body: DEFAULT_MAX_RESPONSE_BODY,
        }
    }
}

impl Retention {
    /// A response body as stored: at most `max_response_body` bytes (cut at a character
    /// boundary), followed by [`TRUNCATION_MARK`] when it was cut.
    pub fn stored_body(&self, body: String) -> String {
        if body.len() <= self.max_response_body {
            return body;
        }
        let mut end = self.max_response_body;
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        // A fresh allocation of the kept size, so the long read buffer is freed whole.
        let mut stored = String::with_capacity(end + TRUNCATION_MARK.len());
        stored.push_str(&body[..end]);
        stored.push_str(TRUNCATION_MARK);
        stored
    }
}

impl State {
    /// Records that a delivery reached a final state, making it the newest evictable one.
    pub(super) fn note_settled(&mut self, delivery_id: i64) {
        let Some(delivery) = self.deliveries.get_mut(&delivery_id) else {
            return;
        };
        if delivery.status().in_flight() {
            return;
        }
        if let Some(previous) = delivery.settled_seq.take() {
            self.settled.remove(&previous);
        }
        self.settle_seq += 1;
        delivery.settled_seq = Some(self.settle_seq);
        self.settled.insert(self.settle_seq, delivery_id);
    }

    /// Evicts settled deliveries beyond the count limit or older than the age limit.
    pub(super) fn enforce_retention(&mut self, retention: &Retention, now: DateTime<Utc>) {
        let cutoff = retention
            .max_age
            .and_then(|age| ChronoDuration::from_std(age).ok())
            .and_then(|age| now.checked_sub_signed(age));
        while let Some((&seq, &id)) = self.settled.first_key_value() {
            let over_count = retention
                .max_deliveries
                .is_some_and(|max| self.settled.len() > max);
            let expired = cutoff.is_some_and(|cutoff| {
                self.deliveries
                    .get(&id)
                    .is_none_or(|d| d.latest().at < cutoff)
            });
            if !over_count && !expired {
                break;
            }
            self.settled.remove(&seq);
            match self.deliveries.get_mut(&id) {
                // In flight again: evictable once it settles anew.
                Some(delivery) if delivery.status().in_flight() => delivery.settled_seq = None,
                _ => {
                    self.deliveries.remove(&id);
                }
            }
        }
    }

    /// Forgets the settle order of deliveries that were removed with their app.
    pub(super) fn forget_removed_settled(&mut self) {
        let deliveries = &self.deliveries;
        self.settled.retain(|_, id| deliveries.contains_key(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_bodies_are_cut_at_a_char_boundary_and_marked() {
        let retention = Retention {
            max_response_body: 5,
            ..Retention::default()
        };
        assert_eq!(retention.stored_body("short".into()), "short");
        assert_eq!(
            retention.stored_body("abcdéf".into()),
            format!("abcd{TRUNCATION_MARK}")
        );
    }
}

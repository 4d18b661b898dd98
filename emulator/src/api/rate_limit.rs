//! The optional API rate limit: at most `max_requests` authenticated requests per window.
//!
//! Production answers a limited request with 429 and the wait only in the message ("Rate limit
//! exceeded. Retry after N seconds"), without a `Retry-After` header; the documented behaviour
//! adds the header.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::behaviour::Behaviour;
use crate::error::ApiError;

/// A fixed-window counter shared by every request.
#[derive(Debug)]
pub struct RateLimiter {
    max_requests: u32,
    window: Duration,
    state: Mutex<Window>,
}

/// The current window: it starts with the first request after the previous one ended.
#[derive(Debug, Default)]
struct Window {
    started: Option<Instant>,
    used: u32,
}

impl RateLimiter {
    /// At most `max_requests` per `window`.
    pub fn new(max_requests: u32, window: Duration) -> Self {
        Self {
            max_requests,
            window,
            state: Mutex::new(Window::default()),
        }
    }

    /// Counts a request; `Some(wait)` when it is over the limit (the time until the window ends).
    pub fn check(&self, now: Instant) -> Option<Duration> {
        let mut window = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let started = match window.started {
            Some(started) if now.saturating_duration_since(started) < self.window => started,
            _ => {
                *window = Window {
                    started: Some(now),
                    used: 0,
                };
                now
            }
        };
        if window.used < self.max_requests {
            window.used += 1;
            return None;
        }
        Some((started + self.window).saturating_duration_since(now))
    }
}

/// The 429 answer for a wait of `wait` (announced in whole seconds, at least one).
pub fn too_many_requests(wait: Duration, behaviour: Behaviour) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    let message = format!("Rate limit exceeded. Retry after {seconds} seconds");
    let mut response = ApiError::new(StatusCode::TOO_MANY_REQUESTS, message).into_response();
    if !behaviour.is_production() {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_resets() {
        let limiter = RateLimiter::new(2, Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(limiter.check(t0), None);
        assert_eq!(limiter.check(t0), None);
        assert_eq!(
            limiter.check(t0 + Duration::from_secs(4)),
            Some(Duration::from_secs(6))
        );
        assert_eq!(limiter.check(t0 + Duration::from_secs(10)), None);
    }

    #[test]
    fn waits_are_whole_seconds() {
        let production = too_many_requests(Duration::from_millis(1_200), Behaviour::Production);
        assert!(production.headers().get(RETRY_AFTER).is_none());
        let documented = too_many_requests(Duration::from_millis(10), Behaviour::Documented);
        assert_eq!(documented.headers()[RETRY_AFTER], "1");
    }
}

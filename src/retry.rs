//! [`RetryPolicy`]: when a failed request is tried again, how often, and how long apart.

use std::time::Duration;

use crate::ErrorKind;

/// When a failed request is tried again, how often, and how long apart; set with
/// [`ClientBuilder::retry_policy`](crate::ClientBuilder::retry_policy).
///
/// A retry waits as the server asks (`Retry-After`, or the seconds its 429 message names) when it
/// asks for at most [`max_retry_after`](RetryPolicy::max_retry_after), and gives up when it asks for
/// more; otherwise it backs off exponentially with jitter: the n-th wait is drawn from `[d/2, d]`
/// where `d = min(base_delay × 2ⁿ⁻¹, max_delay)`.
///
/// Whatever the policy, a request is only retried when a repeat is harmless: reads, PUTs, DELETEs
/// and replays (deduplicated by their idempotency key) on any retried kind; other writes only when
/// the connection failed, so that the server never sees them twice.
///
/// ```
/// use std::time::Duration;
/// use wacht_webhooks::{Client, ErrorKind, RetryPolicy};
///
/// # fn main() -> Result<(), wacht_webhooks::Error> {
/// let policy = RetryPolicy::new()
///     .max_retries(5)
///     .base_delay(Duration::from_millis(100))
///     .max_delay(Duration::from_secs(2))
///     .budget(Duration::from_secs(20))
///     .retry_on([ErrorKind::RateLimited, ErrorKind::Transport]);
/// let client = Client::builder().api_key("wk_live_...").retry_policy(policy).build()?;
/// let never = Client::builder().api_key("wk_live_...").retry_policy(RetryPolicy::none()).build()?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub(crate) max_retries: u32,
    pub(crate) base_delay: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) max_retry_after: Duration,
    pub(crate) budget: Option<Duration>,
    pub(crate) retry_on: Vec<ErrorKind>,
}

/// The kinds a policy can retry, and the default set.
const RETRYABLE_KINDS: [ErrorKind; 4] = [
    ErrorKind::RateLimited,
    ErrorKind::Server,
    ErrorKind::Timeout,
    ErrorKind::Transport,
];

impl Default for RetryPolicy {
    /// Two retries, 200 ms doubling up to 5 s, a server's wait followed up to 60 s, no budget,
    /// every retryable kind.
    fn default() -> Self {
        RetryPolicy {
            max_retries: crate::client::DEFAULT_MAX_RETRIES,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(60),
            budget: None,
            retry_on: RETRYABLE_KINDS.to_vec(),
        }
    }
}

impl RetryPolicy {
    /// The default policy (see [`Default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// A policy that never retries: every call makes exactly one attempt.
    pub fn none() -> Self {
        Self::default().max_retries(0)
    }

    /// How many times a failed request may be retried after its first attempt (default 2).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// The first backoff wait's ceiling (default 200 ms); each further retry doubles it.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The longest backoff wait (default 5 s).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The longest wait a server may ask for and still be retried (default 60 s); a longer
    /// `Retry-After` fails the call at once with the wait in [`Error::retry_after`](crate::Error::retry_after).
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// The most time one call may take across its attempts and waits: a retry whose wait would
    /// end after the budget is not made, and the last failure is returned (default: no budget,
    /// only `max_retries` bounds a call).
    pub fn budget(mut self, budget: Duration) -> Self {
        self.budget = Some(budget);
        self
    }

    /// The kinds of failure that are retried (default all four that can be transient):
    /// [`ErrorKind::RateLimited`] (429), [`ErrorKind::Server`] (502, 503 and 504 only; a 500 is
    /// the server's own failure and is never retried), [`ErrorKind::Timeout`] and
    /// [`ErrorKind::Transport`] (the request could not be sent or its answer not read). Other
    /// kinds are never retried and are ignored here.
    pub fn retry_on(mut self, kinds: impl IntoIterator<Item = ErrorKind>) -> Self {
        self.retry_on = kinds
            .into_iter()
            .filter(|kind| RETRYABLE_KINDS.contains(kind))
            .collect();
        self
    }

    /// Whether failures of `kind` are retried.
    pub fn retries(&self, kind: ErrorKind) -> bool {
        self.retry_on.contains(&kind)
    }

    /// Exponential backoff with jitter: the n-th wait is drawn from [d/2, d] where
    /// d = min(base × 2ⁿ⁻¹, max), so that clients that failed together do not retry together.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(20);
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        ceiling.mul_f64(0.5 + fastrand::f64() * 0.5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_within_jitter_bounds() {
        let policy = RetryPolicy::new()
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_secs(2));
        for attempt in 1..=8 {
            let ceiling = Duration::from_millis(100 * (1 << (attempt - 1))).min(policy.max_delay);
            let wait = policy.backoff(attempt);
            assert!(
                wait >= ceiling / 2 && wait <= ceiling,
                "attempt {attempt}: {wait:?}"
            );
        }
    }

    #[test]
    fn only_transient_kinds_can_be_retried() {
        let policy = RetryPolicy::new().retry_on([ErrorKind::NotFound, ErrorKind::RateLimited]);
        assert!(policy.retries(ErrorKind::RateLimited));
        assert!(!policy.retries(ErrorKind::NotFound));
        assert!(!policy.retries(ErrorKind::Server));
        assert_eq!(RetryPolicy::none().max_retries, 0);
        assert!(
            RETRYABLE_KINDS
                .iter()
                .all(|k| RetryPolicy::new().retries(*k))
        );
    }
}

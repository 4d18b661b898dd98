//! Waiting for something the server does in its own time: how often to ask, and for how long.

use std::time::Duration;

use tokio::time::Instant;

/// How a wait polls: every `poll_interval`, until `timeout` has passed.
///
/// ```
/// use std::time::Duration;
/// use wacht_webhooks::replay::WaitOptions;
///
/// let options = WaitOptions::new()
///     .poll_interval(Duration::from_millis(250))
///     .timeout(Duration::from_secs(120));
/// assert_eq!(options.timeout_duration(), Duration::from_secs(120));
/// assert_eq!(WaitOptions::default().poll_interval_duration(), Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    poll_interval: Duration,
    timeout: Duration,
}

impl Default for WaitOptions {
    /// Polls every second for at most ten minutes.
    fn default() -> Self {
        WaitOptions {
            poll_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(600),
        }
    }
}

impl WaitOptions {
    /// The defaults: every second, for at most ten minutes.
    pub fn new() -> Self {
        Self::default()
    }

    /// How long to wait between two polls.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// How long the whole wait may take before it fails with
    /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The interval between two polls.
    pub fn poll_interval_duration(&self) -> Duration {
        self.poll_interval
    }

    /// The time limit of the whole wait.
    pub fn timeout_duration(&self) -> Duration {
        self.timeout
    }

    /// Starts the clock of a wait.
    pub(crate) fn start(self) -> Poller {
        Poller::new(self.poll_interval, self.timeout)
    }
}

/// The clock of one wait: a loop checks its condition, then calls [`Poller::pause`], which sleeps
/// one interval or reports that the next check would come after the deadline.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Poller {
    interval: Duration,
    timeout: Duration,
    deadline: Instant,
}

/// The deadline of a wait has passed; `timeout` is the wait's whole time limit, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expired {
    pub(crate) timeout: Duration,
}

impl Poller {
    pub(crate) fn new(interval: Duration, timeout: Duration) -> Self {
        // A timeout too long to add to the clock waits as long as the clock can count.
        let now = Instant::now();
        let deadline = now
            .checked_add(timeout)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600));
        Poller {
            interval,
            timeout,
            deadline,
        }
    }

    /// Sleeps one interval, or fails at once when the next check would come after the deadline
    /// (so a wait never oversleeps its limit by a whole interval).
    pub(crate) async fn pause(&self) -> Result<(), Expired> {
        let next = Instant::now().checked_add(self.interval);
        if next.is_none_or(|next| next > self.deadline) {
            return Err(Expired {
                timeout: self.timeout,
            });
        }
        tokio::time::sleep(self.interval).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn pauses_until_the_next_check_would_be_late() {
        let poller = Poller::new(Duration::from_secs(1), Duration::from_millis(3500));
        let started = Instant::now();
        let mut pauses = 0;
        let expired = loop {
            match poller.pause().await {
                Ok(()) => pauses += 1,
                Err(expired) => break expired,
            }
        };
        assert_eq!(pauses, 3);
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        assert_eq!(expired.timeout, Duration::from_millis(3500));
    }

    #[tokio::test(start_paused = true)]
    async fn a_huge_timeout_does_not_overflow() {
        let poller = Poller::new(Duration::from_millis(1), Duration::MAX);
        assert_eq!(poller.pause().await, Ok(()));
    }
}

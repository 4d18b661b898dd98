//! Replay jobs of any size: split into requests the server accepts, throttled to the server's
//! task limit, safe to re-run, and awaited to a summary.
//!
//! ```no_run
//! use std::time::Duration;
//! use chrono::{Duration as Span, Utc};
//! use wacht_webhooks::replay::WaitOptions;
//!
//! # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
//! let job = webhooks
//!     .replay("billing")
//!     .failed_since(Utc::now() - Span::days(3))
//!     .idempotency_key("incident-42")
//!     .send()
//!     .await?;
//! let summary = job
//!     .wait(WaitOptions::new().poll_interval(Duration::from_secs(2)).timeout(Duration::from_secs(600)))
//!     .await?;
//! println!("{} replayed, {} failed", summary.replayed_count, summary.failed_count);
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::builders::{Filters, Selection, fresh_idempotency_key};
use crate::generated::types::ReplayDeliveriesByIds;
use crate::poll::Poller;
pub use crate::poll::WaitOptions;
use crate::{
    Error, ErrorKind, ListWebhookReplayTasksOptions, ReplayStatusFilter, ReplayTaskState,
    ReplayTaskStatus, ReplayWebhookDeliveriesRequest, Webhooks,
};

/// The widest window one date-range replay may cover (the spec's `x-max-range-hours`).
pub const MAX_REPLAY_WINDOW: chrono::Duration = chrono::Duration::hours(
    crate::generated::rules::REPLAY_DELIVERIES_BY_DATE_RANGE_MAX_RANGE_HOURS,
);

/// How many replay tasks the server lets one app run at once, queued or running (the spec's
/// `x-max-running-tasks`).
pub const MAX_RUNNING_REPLAYS: usize =
    crate::generated::rules::REPLAY_WEBHOOK_DELIVERIES_MAX_RUNNING_TASKS;

const OPERATION: &str = "replay_webhook_deliveries";

/// A replay of any number of deliveries; see [`Webhooks::replay`].
#[derive(Debug, Clone)]
#[must_use = "a replay builder does nothing until `send` is awaited"]
pub struct ReplayBuilder {
    webhooks: Webhooks,
    app_slug: String,
    selection: Option<Selection>,
    /// `failed_since`: the range is replayed once per failed state.
    failed_only: bool,
    filters: Filters,
    idempotency_key: Option<String>,
    poll_interval: Duration,
    slot_timeout: Duration,
}

impl Webhooks {
    /// Starts a replay job for `app_slug`: choose what with [`ReplayBuilder::delivery_ids`],
    /// [`ReplayBuilder::between`] or [`ReplayBuilder::failed_since`], then `send` it.
    pub fn replay(&self, app_slug: impl Into<String>) -> ReplayBuilder {
        ReplayBuilder {
            webhooks: self.clone(),
            app_slug: app_slug.into(),
            selection: None,
            failed_only: false,
            filters: Filters::default(),
            idempotency_key: None,
            poll_interval: Duration::from_millis(500),
            slot_timeout: Duration::from_secs(600),
        }
    }

    /// Polls a replay task until it is completed or cancelled; fails with
    /// [`ErrorKind::Timeout`] when the wait's timeout passes first.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use wacht_webhooks::replay::WaitOptions;
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// let wait = WaitOptions::new().timeout(Duration::from_secs(60));
    /// let task = webhooks.wait_for_replay_task("billing", "7291834471203418112", wait).await?;
    /// println!("{} of {} replayed", task.replayed_count, task.total_count);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_for_replay_task(
        &self,
        app_slug: &str,
        task_id: &str,
        wait: WaitOptions,
    ) -> Result<ReplayTaskStatus, Error> {
        let poller = wait.start();
        loop {
            let task = self
                .get_webhook_replay_task_status(app_slug, task_id)
                .await?;
            if is_final(&task.status) {
                return Ok(task);
            }
            poller.pause().await.map_err(|expired| {
                Error::timeout(
                    "wait_for_replay_task",
                    format!(
                        "replay task {} still {} after {:?}",
                        task.task_id,
                        progress(&task),
                        expired.timeout
                    ),
                )
            })?;
        }
    }
}

/// Completed and cancelled tasks do no more work. An unknown state is not assumed final.
fn is_final(state: &ReplayTaskState) -> bool {
    matches!(
        state,
        ReplayTaskState::Completed | ReplayTaskState::Cancelled
    )
}

fn progress(task: &ReplayTaskStatus) -> String {
    format!("{} ({}/{})", task.status, task.processed, task.total_count)
}

impl ReplayBuilder {
    /// Replays these deliveries; any number, sent in requests of at most 500 ids.
    pub fn delivery_ids<I>(mut self, ids: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.selection = Some(Selection::Ids(ids.into_iter().map(Into::into).collect()));
        self.failed_only = false;
        self
    }

    /// Replays the deliveries created from `start` to `end`; any span, sent in windows of at
    /// most 48 hours.
    pub fn between(mut self, start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        self.selection = Some(Selection::Range {
            start,
            end: Some(end),
        });
        self.failed_only = false;
        self
    }

    /// Replays the deliveries that failed (`failed` and `permanently_failed`) from `since` to now.
    pub fn failed_since(mut self, since: DateTime<Utc>) -> Self {
        self.selection = Some(Selection::Range {
            start: since,
            end: None,
        });
        self.failed_only = true;
        self
    }

    /// Only deliveries in this state (date-range jobs only).
    pub fn status(mut self, status: ReplayStatusFilter) -> Self {
        self.filters.status = Some(status);
        self
    }

    /// Only deliveries of this event (date-range jobs only).
    pub fn event_name(mut self, event_name: impl Into<String>) -> Self {
        self.filters.event_name = Some(event_name.into());
        self
    }

    /// Only deliveries to this endpoint (date-range jobs only).
    pub fn endpoint_id(mut self, endpoint_id: impl Into<String>) -> Self {
        self.filters.endpoint_id = Some(endpoint_id.into());
        self
    }

    /// The job's key: each request's key is derived from it (`<key>-<n>`), so sending the same job
    /// again within 30 minutes (after a crash or a timeout) replays nothing twice. Without it the
    /// job gets a random key.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// How often to poll while waiting for a free task slot (default 500 ms).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// How long `send` may wait for a free task slot before failing with
    /// [`ErrorKind::Timeout`] (default 10 minutes).
    pub fn slot_timeout(mut self, timeout: Duration) -> Self {
        self.slot_timeout = timeout;
        self
    }

    /// Checks the job, then sends its requests one by one, each when the app has fewer than
    /// three replay tasks running. Nothing is sent when the job is invalid.
    ///
    /// A request sent again (by the client's retries, or a re-run of the job) while the server
    /// is still queuing its first attempt is answered without a task id. `send` then asks again
    /// with the same idempotency key, which the server answers with the task once it exists, a
    /// few times every [`poll_interval`](ReplayBuilder::poll_interval); a request still
    /// unanswered after that is kept in the job ([`ReplayJob::unresolved_keys`]) and
    /// [`ReplayJob::wait`] keeps asking.
    pub async fn send(self) -> Result<ReplayJob, Error> {
        let requests = self.requests(Utc::now())?;
        let mut job = ReplayJob {
            webhooks: self.webhooks.clone(),
            app_slug: self.app_slug.clone(),
            task_ids: Vec::new(),
            unresolved: Vec::new(),
        };
        for request in requests {
            let response = self.send_when_free(request.request.clone()).await?;
            match response.task_id {
                Some(task_id) => job.add_task(task_id),
                None => job.unresolved.push(request),
            }
        }
        for _ in 0..RESOLVE_ATTEMPTS_IN_SEND {
            if job.unresolved.is_empty() {
                break;
            }
            tokio::time::sleep(self.poll_interval).await;
            job.resolve().await?;
        }
        Ok(job)
    }

    /// The requests of the job, checked before anything is sent; `now` ends an open range.
    fn requests(&self, now: DateTime<Utc>) -> Result<Vec<KeyedRequest>, Error> {
        let selection = match &self.selection {
            None => {
                return Err(Error::invalid_input(
                    OPERATION,
                    "nothing selected: call delivery_ids, between or failed_since before send",
                ));
            }
            Some(Selection::Range { start, end: None }) => Selection::Range {
                start: *start,
                end: Some(now),
            },
            Some(selection) => selection.clone(),
        };
        selection.check(&self.filters, OPERATION)?;
        if self.failed_only && self.filters.status.is_some() {
            return Err(Error::invalid_input(
                OPERATION,
                "failed_since already selects failed and permanently_failed deliveries; drop `status`",
            ));
        }
        let requests = match selection {
            Selection::Ids(ids) => ids
                .chunks(ReplayDeliveriesByIds::DELIVERY_IDS_MAX_ITEMS)
                .map(|chunk| ReplayWebhookDeliveriesRequest::by_ids(chunk.iter().cloned()))
                .collect(),
            Selection::Range { start, end } => self.by_windows(start, end.unwrap_or(now)),
        };
        let base = self
            .idempotency_key
            .clone()
            .unwrap_or_else(fresh_idempotency_key);
        Ok(requests
            .into_iter()
            .enumerate()
            .map(|(n, request)| {
                let key = format!("{base}-{n}");
                KeyedRequest {
                    request: request.idempotency_key(key.clone()),
                    key,
                }
            })
            .collect())
    }

    /// One request per window of a checked range, and per failed state for `failed_since`.
    fn by_windows(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Vec<ReplayWebhookDeliveriesRequest> {
        let statuses = if self.failed_only {
            vec![
                Some(ReplayStatusFilter::Failed),
                Some(ReplayStatusFilter::PermanentlyFailed),
            ]
        } else {
            vec![self.filters.status]
        };
        windows(start, end)
            .into_iter()
            .flat_map(|(s, e)| statuses.iter().map(move |status| (s, e, *status)))
            .map(|(s, e, status)| {
                let range = Selection::Range {
                    start: s,
                    end: Some(e),
                };
                let filters = Filters {
                    status,
                    ..self.filters.clone()
                };
                ReplayWebhookDeliveriesRequest::new(range, filters)
            })
            .collect()
    }

    /// Sends one request once the app has a free task slot. A slot taken by someone else between
    /// the count and the send makes the server refuse with its task-limit message; that refusal
    /// waits again instead of failing.
    async fn send_when_free(
        &self,
        request: ReplayWebhookDeliveriesRequest,
    ) -> Result<crate::ReplayWebhookDeliveryResponse, Error> {
        let poller = Poller::new(self.poll_interval, self.slot_timeout);
        loop {
            self.wait_for_slot(&poller).await?;
            match self
                .webhooks
                .replay_webhook_deliveries(&self.app_slug, request.clone())
                .await
            {
                // The count and the server disagree (e.g. running tasks beyond the page the
                // count reads): keep to the deadline rather than retrying forever.
                Err(err) if is_task_limit(&err) => poller.pause().await.map_err(|expired| {
                    Error::timeout(
                        OPERATION,
                        format!("no free replay slot after {:?}: {err}", expired.timeout),
                    )
                })?,
                other => return other,
            }
        }
    }

    async fn wait_for_slot(&self, poller: &Poller) -> Result<(), Error> {
        loop {
            let running = self.running_tasks().await?;
            if running.len() < MAX_RUNNING_REPLAYS {
                return Ok(());
            }
            poller.pause().await.map_err(|expired| {
                let names: Vec<String> = running
                    .iter()
                    .map(|t| format!("{} {}", t.task_id, progress(t)))
                    .collect();
                Error::timeout(
                    OPERATION,
                    format!(
                        "no free replay slot after {:?}; running: {}",
                        expired.timeout,
                        names.join(", ")
                    ),
                )
            })?;
        }
    }

    async fn running_tasks(&self) -> Result<Vec<ReplayTaskStatus>, Error> {
        let page = self
            .webhooks
            .list_webhook_replay_tasks(
                &self.app_slug,
                ListWebhookReplayTasksOptions::new().limit(100),
            )
            .await?;
        Ok(page
            .data
            .into_iter()
            .filter(|t| !is_final(&t.status))
            .collect())
    }
}

/// The server's answer when the app already runs the maximum number of replay tasks.
fn is_task_limit(err: &Error) -> bool {
    err.kind() == ErrorKind::BadRequest
        && err
            .messages()
            .iter()
            .any(|m| m.contains("replay jobs can run at once"))
}

/// A span of time, both ends included.
type Window = (DateTime<Utc>, DateTime<Utc>);

/// Splits `[start, end]` (checked: `start <= end`) into consecutive windows of at most 48 hours
/// that do not overlap: each window ends one microsecond before the next starts, so no delivery is
/// selected twice.
fn windows(start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<Window> {
    let mut out = Vec::new();
    let mut from = start;
    loop {
        let until = from + MAX_REPLAY_WINDOW;
        if until >= end {
            out.push((from, end));
            return out;
        }
        out.push((from, until - chrono::Duration::microseconds(1)));
        from = until;
    }
}

/// How many times `send` asks again for the task of a request the server is still queuing,
/// every poll interval, before leaving it to `wait`. Queuing takes the server milliseconds
/// (a message to its workers and a few writes), so a few polls normally suffice.
const RESOLVE_ATTEMPTS_IN_SEND: usize = 5;

/// One request of a job with its idempotency key.
#[derive(Debug, Clone)]
struct KeyedRequest {
    key: String,
    request: ReplayWebhookDeliveriesRequest,
}

/// The tasks a replay job started.
#[derive(Debug, Clone)]
pub struct ReplayJob {
    webhooks: Webhooks,
    app_slug: String,
    task_ids: Vec<String>,
    /// Requests the server answered without a task id: it was still queuing an earlier attempt.
    unresolved: Vec<KeyedRequest>,
}

/// The outcome of a replay job: every task in its final state, and their sums.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReplaySummary {
    /// Each task's final status.
    pub tasks: Vec<ReplayTaskStatus>,
    /// Deliveries the tasks selected.
    pub total_count: i64,
    /// Deliveries replayed.
    pub replayed_count: i64,
    /// Deliveries skipped or failed (in flight, endpoint gone or inactive, unknown id).
    pub failed_count: i64,
}

impl ReplayJob {
    /// The ids of the job's replay tasks known so far, in the order the server named them.
    pub fn task_ids(&self) -> &[String] {
        &self.task_ids
    }

    /// The idempotency keys of the job's requests whose task the server has not named yet
    /// (it answered `task_id: null` while still queuing an earlier attempt of the same request);
    /// [`ReplayJob::wait`] keeps asking for them. Empty in the common case.
    pub fn unresolved_keys(&self) -> impl Iterator<Item = &str> {
        self.unresolved.iter().map(|r| r.key.as_str())
    }

    fn add_task(&mut self, task_id: String) {
        if !self.task_ids.contains(&task_id) {
            self.task_ids.push(task_id);
        }
    }

    /// Sends each unresolved request again with its idempotency key: the server answers with
    /// the task once it is queued, or queues it now if the earlier attempt was given up. A
    /// refusal for the app's task limit leaves the request unresolved for the next round.
    async fn resolve(&mut self) -> Result<(), Error> {
        let mut still = Vec::new();
        for request in std::mem::take(&mut self.unresolved) {
            let answer = self
                .webhooks
                .replay_webhook_deliveries(&self.app_slug, request.request.clone())
                .await;
            match answer {
                Ok(answer) => match answer.task_id {
                    Some(task_id) => self.add_task(task_id),
                    None => still.push(request),
                },
                Err(err) if is_task_limit(&err) => still.push(request),
                Err(err) => {
                    still.push(request);
                    self.unresolved.extend(still);
                    return Err(err);
                }
            }
        }
        self.unresolved = still;
        Ok(())
    }

    /// Polls every task until all are completed or cancelled, and sums their counts. Requests
    /// whose task the server has not named yet ([`ReplayJob::unresolved_keys`]) are sent again
    /// each round with their idempotency key until it does, so that the summary counts every
    /// delivery of the job. Fails with [`ErrorKind::Timeout`] naming the tasks still running, and
    /// the keys of requests still without a task, when the wait's timeout passes first.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use wacht_webhooks::replay::{ReplayJob, WaitOptions};
    /// # async fn run(job: ReplayJob) -> Result<(), wacht_webhooks::Error> {
    /// let summary = job
    ///     .wait(WaitOptions::new().poll_interval(Duration::from_millis(500)).timeout(Duration::from_secs(300)))
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait(mut self, wait: WaitOptions) -> Result<ReplaySummary, Error> {
        let poller = wait.start();
        loop {
            self.resolve().await?;
            let mut tasks = Vec::with_capacity(self.task_ids.len());
            for id in &self.task_ids {
                tasks.push(
                    self.webhooks
                        .get_webhook_replay_task_status(&self.app_slug, id)
                        .await?,
                );
            }
            let running: Vec<String> = tasks
                .iter()
                .filter(|t| !is_final(&t.status))
                .map(|t| format!("{} {}", t.task_id, progress(t)))
                .collect();
            if running.is_empty() && self.unresolved.is_empty() {
                return Ok(summarize(tasks));
            }
            if let Err(expired) = poller.pause().await {
                let message = self.unfinished(expired.timeout, &running);
                return Err(Error::timeout("replay_wait", message));
            }
        }
    }
}

impl ReplayJob {
    /// What a wait that timed out names: the running tasks and the requests without a task.
    fn unfinished(&self, timeout: Duration, running: &[String]) -> String {
        let mut parts = Vec::new();
        if !running.is_empty() {
            parts.push(format!(
                "replay tasks still running after {timeout:?}: {}",
                running.join(", ")
            ));
        }
        if !self.unresolved.is_empty() {
            let keys: Vec<&str> = self.unresolved_keys().collect();
            parts.push(format!(
                "replay requests the server was still queuing after {timeout:?}, with no task id yet (idempotency keys): {}",
                keys.join(", ")
            ));
        }
        parts.join("; ")
    }
}

fn summarize(tasks: Vec<ReplayTaskStatus>) -> ReplaySummary {
    ReplaySummary {
        total_count: tasks.iter().map(|t| t.total_count).sum(),
        replayed_count: tasks.iter().map(|t| t.replayed_count).sum(),
        failed_count: tasks.iter().map(|t| t.failed_count).sum(),
        tasks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hours: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap() + chrono::Duration::hours(hours)
    }

    #[test]
    fn five_days_make_three_windows_without_overlap() {
        let w = windows(at(0), at(120));
        assert_eq!(w.len(), 3);
        assert_eq!(w[0].0, at(0));
        assert_eq!(w[1].0, at(48));
        assert_eq!(w[2], (at(96), at(120)));
        for pair in w.windows(2) {
            assert!(pair[0].1 < pair[1].0);
            assert!(pair[0].1 - pair[0].0 <= MAX_REPLAY_WINDOW);
        }
    }

    fn builder() -> ReplayBuilder {
        let client = crate::Client::builder()
            .api_key("k")
            .base_url("http://127.0.0.1:9")
            .build()
            .unwrap();
        client.webhooks().replay("billing")
    }

    fn message(err: Error) -> String {
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        err.to_string()
    }

    #[test]
    fn jobs_and_single_requests_share_one_validation() {
        let job = builder()
            .delivery_ids(["1"])
            .endpoint_id("9")
            .requests(at(0))
            .unwrap_err();
        let single = ReplayWebhookDeliveriesRequest::by_ids(["1"])
            .endpoint_id("9")
            .into_wire(OPERATION)
            .unwrap_err();
        assert_eq!(message(job), message(single));
        let empty: [&str; 0] = [];
        let job = builder().delivery_ids(empty).requests(at(0)).unwrap_err();
        let single = ReplayWebhookDeliveriesRequest::by_ids(empty)
            .into_wire(OPERATION)
            .unwrap_err();
        assert_eq!(message(job), message(single));
        let job = builder().between(at(2), at(1)).requests(at(0)).unwrap_err();
        let single = ReplayWebhookDeliveriesRequest::by_date_range(at(2), Some(at(1)))
            .into_wire(OPERATION)
            .unwrap_err();
        assert_eq!(message(job), message(single));
        // An open range ends now: a start in the future is the same mistake.
        let job = builder().failed_since(at(5)).requests(at(0)).unwrap_err();
        assert!(message(job).contains("before it starts"));
    }

    #[test]
    fn failed_since_asks_once_per_failed_state_and_window() {
        let requests = builder()
            .failed_since(at(0))
            .event_name("invoice.paid")
            .idempotency_key("k")
            .requests(at(60))
            .unwrap();
        let bodies: Vec<serde_json::Value> = requests
            .into_iter()
            .map(|r| serde_json::to_value(r.request.into_wire(OPERATION).unwrap()).unwrap())
            .collect();
        let statuses: Vec<&str> = bodies
            .iter()
            .map(|b| b["status"].as_str().unwrap())
            .collect();
        assert_eq!(
            statuses,
            [
                "failed",
                "permanently_failed",
                "failed",
                "permanently_failed"
            ]
        );
        assert!(bodies.iter().all(|b| b["event_name"] == "invoice.paid"));
        assert_eq!(bodies[3]["idempotency_key"], "k-3");
        let err = builder()
            .failed_since(at(0))
            .status(ReplayStatusFilter::Success)
            .requests(at(1))
            .unwrap_err();
        assert!(message(err).contains("drop `status`"));
    }

    #[test]
    fn exact_and_empty_spans() {
        assert_eq!(windows(at(0), at(48)), vec![(at(0), at(48))]);
        assert_eq!(windows(at(5), at(5)), vec![(at(5), at(5))]);
    }
}

//! Replay tasks: their creation rules, their step-by-step progress and their views.

use chrono::{DateTime, Duration as ChronoDuration, Utc};

use super::model::{DeliveryStatus, ReplayTask, TaskStatus};
use super::{paginate, PageRequest, State, Store};
use crate::error::{ApiError, ApiResult};
use crate::requests::{ReplayByRangeRequest, ReplayRequest};
use crate::views::{Page, ReplayTaskView};
use crate::wire::{format_time, now, parse_time};

/// Most ids one replay request may name.
const MAX_REPLAY_IDS: usize = 500;
/// Widest date range one replay request may cover.
const MAX_REPLAY_RANGE_HOURS: i64 = 48;
/// Most queued or running tasks per app.
const MAX_RUNNING_TASKS: usize = 3;
/// How long an idempotency key is remembered.
const IDEMPOTENCY_MINUTES: i64 = 30;
/// The statuses a date-range replay may select.
const REPLAYABLE_STATUSES: [DeliveryStatus; 4] = [
    DeliveryStatus::Success,
    DeliveryStatus::Failed,
    DeliveryStatus::PermanentlyFailed,
    DeliveryStatus::Filtered,
];

/// The answer to a replay request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayCreated {
    /// A new task was queued.
    Queued(i64),
    /// The idempotency key names a task queued within the last 30 minutes.
    Repeat(i64),
}

/// The result of processing one item of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayItem {
    /// A new delivery was queued.
    Replayed(i64),
    /// The delivery could not be replayed (counted failed).
    Skipped,
    /// The task was cancelled or is gone: stop.
    Stop,
}

/// A validated date-range selection.
struct RangeSelection {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    status: Option<DeliveryStatus>,
    event_name: Option<String>,
    /// `Some(None)`: an endpoint id that is not a number, which matches nothing.
    endpoint_id: Option<Option<i64>>,
}

impl Store {
    /// `replayWebhookDelivery(ies)`: validates and queues a task (or finds the idempotent repeat).
    pub fn create_replay(
        &self,
        app_slug: &str,
        request: ReplayRequest,
    ) -> ApiResult<ReplayCreated> {
        let key = request
            .idempotency_key()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_string);
        let (ids, range) = match request {
            ReplayRequest::ByIds(r) => (
                Some(validate_ids(
                    r.delivery_ids.iter().map(|id| id.0).collect(),
                )?),
                None,
            ),
            ReplayRequest::ByRange(r) => (None, Some(validate_range(r)?)),
        };
        let task_id = self.next_id();
        let created = now();
        let mut state = self.lock();
        let app_id = state.app_id(app_slug)?;
        state.idempotency.retain(|_, (_, expiry)| *expiry > created);
        if let Some(key) = &key {
            if let Some((existing, _)) = state.idempotency.get(&(app_id, key.clone())) {
                return Ok(ReplayCreated::Repeat(*existing));
            }
        }
        let running = state
            .tasks
            .values()
            .filter(|t| t.app_id == app_id && t.status.is_running())
            .count();
        if running >= MAX_RUNNING_TASKS {
            return Err(ApiError::bad_request(
                "Maximum 3 replay jobs can run at once for this app",
            ));
        }
        let items = match (ids, range) {
            (Some(ids), _) => ids,
            (None, Some(range)) => state.range_items(app_id, &range),
            (None, None) => Vec::new(),
        };
        state
            .tasks
            .insert(task_id, new_task(task_id, app_id, items, created));
        let key = key.unwrap_or_else(|| format!("auto_{task_id}"));
        let expiry = created + ChronoDuration::minutes(IDEMPOTENCY_MINUTES);
        state.idempotency.insert((app_id, key), (task_id, expiry));
        Ok(ReplayCreated::Queued(task_id))
    }

    /// Moves a queued task to running and returns its items; `None` if it was cancelled or is gone.
    pub fn start_replay_task(&self, task_id: i64) -> Option<Vec<Option<i64>>> {
        let mut state = self.lock();
        let task = state.tasks.get_mut(&task_id)?;
        if task.status != TaskStatus::Queued {
            return None;
        }
        task.status = TaskStatus::Running;
        task.started_at = Some(now());
        Some(task.items.clone())
    }

    /// Replays one delivery of a running task, applying the skip rules (`None`: an id that is not a
    /// number, counted failed).
    pub fn replay_item(&self, task_id: i64, original_id: Option<i64>) -> ReplayItem {
        let new_id = self.next_id();
        let mut state = self.lock();
        let Some(task) = state
            .tasks
            .get(&task_id)
            .filter(|t| t.status == TaskStatus::Running)
        else {
            return ReplayItem::Stop;
        };
        let app_id = task.app_id;
        let result = match original_id.filter(|id| state.replayable(app_id, *id)) {
            Some(id) => state
                .insert_replay_of(id, new_id)
                .map_or(ReplayItem::Skipped, ReplayItem::Replayed),
            None => ReplayItem::Skipped,
        };
        if let Some(task) = state.tasks.get_mut(&task_id) {
            task.processed += 1;
            task.last_delivery_id = original_id.or(task.last_delivery_id);
            match result {
                ReplayItem::Replayed(_) => task.replayed_count += 1,
                _ => task.failed_count += 1,
            }
        }
        result
    }

    /// Marks a running task completed (a cancelled one stays cancelled).
    pub fn complete_replay_task(&self, task_id: i64) {
        let mut state = self.lock();
        if let Some(task) = state.tasks.get_mut(&task_id) {
            if task.status.is_running() {
                task.status = TaskStatus::Completed;
                task.completed_at = Some(now());
            }
        }
    }

    /// `listWebhookReplayTasks`: newest first.
    pub fn list_replay_tasks(
        &self,
        app_slug: &str,
        page: PageRequest,
    ) -> ApiResult<Page<ReplayTaskView>> {
        let state = self.lock();
        let app = state.app(app_slug)?;
        let tasks = state.tasks.values().rev().filter(|t| t.app_id == app.id);
        let page = paginate(tasks, page);
        Ok(Page {
            data: page
                .data
                .into_iter()
                .map(|t| task_view(&app.slug, t))
                .collect(),
            has_more: page.has_more,
            limit: page.limit,
            offset: page.offset,
        })
    }

    /// `getWebhookReplayTaskStatus`.
    pub fn get_replay_task(&self, app_slug: &str, task_id: i64) -> ApiResult<ReplayTaskView> {
        let state = self.lock();
        let app = state.app(app_slug)?;
        let task = state.app_task(app.id, task_id)?;
        Ok(task_view(&app.slug, task))
    }

    /// `cancelWebhookReplayTask`: a queued or running task stops before its next item.
    pub fn cancel_replay_task(&self, app_slug: &str, task_id: i64) -> ApiResult<()> {
        let mut state = self.lock();
        let app_id = state.app_id(app_slug)?;
        state.app_task(app_id, task_id)?;
        if let Some(task) = state.tasks.get_mut(&task_id) {
            if task.status.is_running() {
                task.status = TaskStatus::Cancelled;
                task.completed_at = Some(now());
            }
        }
        Ok(())
    }
}

impl State {
    fn app_task(&self, app_id: i64, task_id: i64) -> ApiResult<&ReplayTask> {
        self.tasks
            .get(&task_id)
            .filter(|t| t.app_id == app_id)
            .ok_or_else(|| ApiError::not_found("Replay task not found"))
    }

    /// The app's deliveries matched by a date range, oldest first.
    fn range_items(&self, app_id: i64, range: &RangeSelection) -> Vec<Option<i64>> {
        self.deliveries
            .values()
            .filter(|d| d.app_id == app_id)
            .filter(|d| (range.start..=range.end).contains(&d.latest().at))
            .filter(|d| range.status.is_none_or(|s| d.status() == s))
            .filter(|d| {
                range
                    .event_name
                    .as_deref()
                    .is_none_or(|e| d.event_name == e)
            })
            .filter(|d| range.endpoint_id.is_none_or(|e| e == Some(d.endpoint_id)))
            .map(|d| Some(d.id))
            .collect()
    }

    /// A delivery of this app, no longer in flight, whose endpoint exists, is active and still subscribed.
    fn replayable(&self, app_id: i64, delivery_id: i64) -> bool {
        let Some(delivery) = self
            .deliveries
            .get(&delivery_id)
            .filter(|d| d.app_id == app_id)
        else {
            return false;
        };
        if delivery.status().in_flight() {
            return false;
        }
        let Some(endpoint) = self
            .endpoints
            .get(&delivery.endpoint_id)
            .filter(|e| e.is_active)
        else {
            return false;
        };
        !delivery.require_subscription
            || endpoint
                .subscriptions
                .iter()
                .any(|s| s.event_name == delivery.filter_event)
    }
}

fn validate_ids(ids: Vec<Option<i64>>) -> ApiResult<Vec<Option<i64>>> {
    if ids.is_empty() {
        return Err(ApiError::bad_request(
            "At least one delivery ID is required",
        ));
    }
    if ids.len() > MAX_REPLAY_IDS {
        return Err(ApiError::bad_request(
            "Maximum 500 delivery IDs are allowed per replay",
        ));
    }
    Ok(ids)
}

fn validate_range(request: ReplayByRangeRequest) -> ApiResult<RangeSelection> {
    let start = parse_time(&request.start_date)
        .ok_or_else(|| ApiError::bad_request("start_date must be an RFC 3339 date-time"))?;
    let end = match request.end_date.as_deref() {
        Some(raw) => parse_time(raw)
            .ok_or_else(|| ApiError::bad_request("end_date must be an RFC 3339 date-time"))?,
        None => now(),
    };
    if end < start {
        return Err(ApiError::bad_request(
            "end_date must not be before start_date",
        ));
    }
    if end - start > ChronoDuration::hours(MAX_REPLAY_RANGE_HOURS) {
        return Err(ApiError::bad_request("Replay range cannot exceed 48 hours"));
    }
    let status = match request.status.as_deref() {
        None => None,
        Some(raw) => Some(
            DeliveryStatus::parse(raw)
                .filter(|s| REPLAYABLE_STATUSES.contains(s))
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "status must be one of success, failed, permanently_failed, filtered",
                    )
                })?,
        ),
    };
    Ok(RangeSelection {
        start,
        end,
        status,
        event_name: request.event_name,
        endpoint_id: request.endpoint_id.map(|id| id.0),
    })
}

fn new_task(id: i64, app_id: i64, items: Vec<Option<i64>>, created: DateTime<Utc>) -> ReplayTask {
    ReplayTask {
        id,
        app_id,
        status: TaskStatus::Queued,
        created_at: created,
        started_at: None,
        completed_at: None,
        items,
        processed: 0,
        replayed_count: 0,
        failed_count: 0,
        last_delivery_id: None,
    }
}

fn task_view(app_slug: &str, task: &ReplayTask) -> ReplayTaskView {
    ReplayTaskView {
        task_id: task.id.to_string(),
        app_slug: app_slug.to_string(),
        status: task.status.as_str(),
        created_at: Some(format_time(task.created_at)),
        started_at: task.started_at.map(format_time),
        completed_at: task.completed_at.map(format_time),
        total_count: task.items.len() as u64,
        processed: task.processed,
        replayed_count: task.replayed_count,
        failed_count: task.failed_count,
        last_delivery_id: task.last_delivery_id.map(|id| id.to_string()),
    }
}

//! Replay tasks: their creation rules, their step-by-step progress and their views.

use std::sync::Arc;

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde_json::Value;

use super::deliveries::NewDelivery;
use super::model::{DeliveryStatus, ReplayKey, ReplayTask, ReplayTaskState, TaskIndex, TaskStatus};
use super::{Page, PageRequest, State, Store, later, paginate};
use crate::behaviour::Behaviour;
use crate::error::{ApiError, ApiResult};
use crate::spec::rules::{
    REPLAY_DELIVERIES_BY_DATE_RANGE_MAX_RANGE_HOURS as MAX_REPLAY_RANGE_HOURS,
    REPLAY_DELIVERIES_BY_IDS_DELIVERY_IDS_MAX_ITEMS as MAX_REPLAY_IDS,
    REPLAY_WEBHOOK_DELIVERIES_MAX_RUNNING_TASKS as MAX_RUNNING_TASKS,
};
use crate::spec::{
    ReplayDeliveriesByDateRange, ReplayStatusFilter, ReplayWebhookDeliveriesRequest,
};
use crate::wire::{now, parse_time};
/// How long an idempotency key is remembered.
const IDEMPOTENCY_MINUTES: i64 = 30;

/// The answer to a replay request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayCreated {
    /// A new task was queued.
    Queued(i64),
    /// The idempotency key names a task queued within the last 30 minutes.
    Repeat(i64),
    /// The idempotency key's first request is still queuing its task (production only): the
    /// answer carries no task id.
    BeingQueued,
}

/// The first step of a replay request.
#[derive(Debug)]
pub enum ReplayStart {
    /// Answered already (documented behaviour queues at once; repeats answer at once).
    Done(ReplayCreated),
    /// Production: the key is reserved; [`Store::finish_replay`] queues the task. Until then a
    /// request with the same key is answered [`ReplayCreated::BeingQueued`].
    Reserved(PendingReplay),
}

/// A replay request whose idempotency key is reserved and whose task is not yet queued.
#[derive(Debug)]
pub struct PendingReplay {
    app_id: i64,
    key: String,
    selection: Selection,
}

/// What a replay request selects.
#[derive(Debug)]
enum Selection {
    Ids(Vec<Option<i64>>),
    Range(RangeSelection),
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
#[derive(Debug)]
struct RangeSelection {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    status: Option<DeliveryStatus>,
    event_name: Option<String>,
    /// `Some(None)`: an endpoint id that is not a number, which matches nothing.
    endpoint_id: Option<Option<i64>>,
}

impl Store {
    /// `replayWebhookDelivery(ies)`: validates the request and either answers it (documented
    /// behaviour, idempotent repeats) or reserves its idempotency key (production: the task is
    /// queued by [`Store::finish_replay`], and a repeat meanwhile gets no task id).
    pub fn start_replay(
        &self,
        app_slug: &str,
        request: ReplayWebhookDeliveriesRequest,
    ) -> ApiResult<ReplayStart> {
        let key = idempotency_key(&request)
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_string);
        let selection = match request {
            ReplayWebhookDeliveriesRequest::ReplayDeliveriesByIds(r) => Selection::Ids(
                validate_ids(r.delivery_ids.iter().map(|id| id.0).collect())?,
            ),
            ReplayWebhookDeliveriesRequest::ReplayDeliveriesByDateRange(r) => {
                Selection::Range(validate_range(r)?)
            }
        };
        let task_id = self.next_id();
        let created = now();
        let mut state = self.lock();
        let app_id = state.app_id(app_slug)?;
        state.idempotency.retain(|_, (_, expiry)| *expiry > created);
        if let Some(key) = &key {
            match state.idempotency.get(&(app_id, key.clone())) {
                Some((ReplayKey::Task(existing), _)) => {
                    return Ok(ReplayStart::Done(ReplayCreated::Repeat(*existing)));
                }
                Some((ReplayKey::Pending, _)) => {
                    return Ok(ReplayStart::Done(ReplayCreated::BeingQueued));
                }
                None => {}
            }
        }
        if state.active_replays(app_id) >= MAX_RUNNING_TASKS {
            return Err(ApiError::bad_request(format!(
                "Maximum {MAX_RUNNING_TASKS} replay jobs can run at once for this app"
            )));
        }
        let key = key.unwrap_or_else(|| format!("auto_{task_id}"));
        let expiry = created + ChronoDuration::minutes(IDEMPOTENCY_MINUTES);
        let pending = PendingReplay {
            app_id,
            key,
            selection,
        };
        if self.behaviour.is_production() {
            state
                .idempotency
                .insert((app_id, pending.key.clone()), (ReplayKey::Pending, expiry));
            return Ok(ReplayStart::Reserved(pending));
        }
        let id = self.queue_task(&mut state, task_id, pending, created);
        Ok(ReplayStart::Done(ReplayCreated::Queued(id)))
    }

    /// Queues the task of a reserved replay request and binds its idempotency key to it. If the
    /// app was deleted meanwhile, the reservation is dropped and the answer is a 404.
    pub fn finish_replay(&self, pending: PendingReplay) -> ApiResult<i64> {
        let task_id = self.next_id();
        let created = now();
        let mut state = self.lock();
        if !state.apps.contains_key(&pending.app_id) {
            state.idempotency.remove(&(pending.app_id, pending.key));
            return Err(ApiError::not_found("Webhook app not found"));
        }
        Ok(self.queue_task(&mut state, task_id, pending, created))
    }

    /// Inserts a queued task, adds it to the app's index and binds the key to it.
    fn queue_task(
        &self,
        state: &mut State,
        task_id: i64,
        pending: PendingReplay,
        created: DateTime<Utc>,
    ) -> i64 {
        let PendingReplay {
            app_id,
            key,
            selection,
        } = pending;
        let items = match selection {
            Selection::Ids(ids) => ids,
            Selection::Range(range) => state.range_items(app_id, &range, self.behaviour),
        };
        // A queued record lives as long as the index until the runner first updates it.
        let index_expiry = later(created, self.timing.replay_task_index_ttl);
        let mut task = new_task(task_id, app_id, items, created);
        task.expires_at = index_expiry;
        state.tasks.insert(task_id, task);
        let index = state.task_index.entry(app_id).or_insert_with(|| TaskIndex {
            ids: Vec::new(),
            expires_at: index_expiry,
        });
        index.ids.push(task_id);
        index.expires_at = index_expiry;
        let expiry = created + ChronoDuration::minutes(IDEMPOTENCY_MINUTES);
        state
            .idempotency
            .insert((app_id, key), (ReplayKey::Task(task_id), expiry));
        task_id
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
        task.expires_at = later(now(), self.timing.replay_task_ttl);
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
                .insert_replay_of(id, new_id, self.behaviour)
                .map_or(ReplayItem::Skipped, ReplayItem::Replayed),
            None => ReplayItem::Skipped,
        };
        if let Some(task) = state.tasks.get_mut(&task_id) {
            task.expires_at = later(now(), self.timing.replay_task_ttl);
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
        if let Some(task) = state.tasks.get_mut(&task_id)
            && task.status.is_running()
        {
            task.status = TaskStatus::Completed;
            task.completed_at = Some(now());
            task.expires_at = later(now(), self.timing.replay_task_ttl);
        }
    }

    /// `listWebhookReplayTasks`: newest first, from the app's task index.
    ///
    /// Production computes `has_more` on the raw index and then leaves out the ids whose records
    /// expired, so pages come back short or empty with `has_more: true`; the documented behaviour
    /// drops expired records from the index first, so every page is full.
    pub fn list_replay_tasks(
        &self,
        app_slug: &str,
        page: PageRequest,
    ) -> ApiResult<Page<ReplayTaskState>> {
        let at = now();
        let mut state = self.lock();
        let app_id = state.app_id(app_slug)?;
        state.expire_tasks(at, self.behaviour);
        let state = &*state;
        let slug = state.app_slug(app_id);
        let ids = state
            .task_index
            .get(&app_id)
            .map(|index| index.ids.as_slice())
            .unwrap_or_default();
        let live = |id: &i64| state.tasks.get(id).filter(|t| t.is_live(at));
        let (data, has_more) = if self.behaviour.is_production() {
            let raw = paginate(ids.iter().rev(), page);
            (
                raw.data.into_iter().filter_map(live).collect(),
                raw.has_more,
            )
        } else {
            let page = paginate(ids.iter().rev().filter_map(live), page);
            (page.data, page.has_more)
        };
        Ok(Page {
            data: data.into_iter().map(|t| task_state(&slug, t)).collect(),
            has_more,
            limit: page.limit,
            offset: page.offset,
        })
    }

    /// `getWebhookReplayTaskStatus`.
    pub fn get_replay_task(&self, app_slug: &str, task_id: i64) -> ApiResult<ReplayTaskState> {
        let mut state = self.lock();
        state.expire_tasks(now(), self.behaviour);
        let app = state.app(app_slug)?;
        let task = state.app_task(app.id, task_id)?;
        Ok(task_state(&app.slug, task))
    }

    /// `cancelWebhookReplayTask`: a queued or running task stops before its next item.
    pub fn cancel_replay_task(&self, app_slug: &str, task_id: i64) -> ApiResult<()> {
        let mut state = self.lock();
        state.expire_tasks(now(), self.behaviour);
        let app_id = state.app_id(app_slug)?;
        state.app_task(app_id, task_id)?;
        if let Some(task) = state.tasks.get_mut(&task_id) {
            if task.status.is_running() {
                task.status = TaskStatus::Cancelled;
                task.completed_at = Some(now());
            }
            task.expires_at = later(now(), self.timing.replay_task_ttl);
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

    /// Tasks still counting against the app's limit: queued or running, and requests still queuing.
    fn active_replays(&self, app_id: i64) -> usize {
        let running = self
            .tasks
            .values()
            .filter(|t| t.app_id == app_id && t.status.is_running())
            .count();
        let queuing = self
            .idempotency
            .iter()
            .filter(|((app, _), (key, _))| *app == app_id && *key == ReplayKey::Pending)
            .count();
        running + queuing
    }

    /// Forgets expired task records (a task still running is kept: its runner refreshes it) and
    /// expired indexes. Production keeps an expired record's id in the index until the whole
    /// index expires; the documented behaviour drops it with the record.
    fn expire_tasks(&mut self, at: DateTime<Utc>, behaviour: Behaviour) {
        self.tasks
            .retain(|_, t| t.status.is_running() || t.is_live(at));
        self.task_index.retain(|_, index| index.expires_at > at);
        if !behaviour.is_production() {
            let tasks = &self.tasks;
            for index in self.task_index.values_mut() {
                index.ids.retain(|id| tasks.contains_key(id));
            }
        }
    }

    /// The app's deliveries matched by a date range, oldest first. Production never selects
    /// `filtered` deliveries, whatever the requested status.
    fn range_items(
        &self,
        app_id: i64,
        range: &RangeSelection,
        behaviour: Behaviour,
    ) -> Vec<Option<i64>> {
        self.deliveries
            .values()
            .filter(|d| d.app_id == app_id)
            .filter(|d| !(behaviour.is_production() && d.status() == DeliveryStatus::Filtered))
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

impl State {
    /// Inserts a delivery that replays `original` to the same endpoint, with a new id and timestamp.
    ///
    /// Production re-sends the original's stored outbound envelope as the payload (so the receiver
    /// gets an envelope inside an envelope, and the filter is evaluated against the envelope) with
    /// the original's attempt limit; the documented behaviour re-sends the original payload in a
    /// fresh envelope with the endpoint's current limit.
    fn insert_replay_of(&mut self, original_id: i64, id: i64, behaviour: Behaviour) -> Option<i64> {
        let original = self.deliveries.get(&original_id)?;
        let endpoint_limit = self.endpoints.get(&original.endpoint_id)?.max_retries;
        let (payload, max_attempts) = if behaviour.is_production() {
            let envelope: Value = serde_json::from_slice(&original.body).ok()?;
            (Arc::new(envelope), original.max_attempts)
        } else {
            (original.payload.clone(), endpoint_limit)
        };
        let delivery = NewDelivery {
            id,
            app_id: original.app_id,
            endpoint_id: original.endpoint_id,
            event_name: original.event_name.clone(),
            payload,
            filter_event: original.filter_event.clone(),
            require_subscription: original.require_subscription,
            max_attempts,
            created: now(),
        }
        .build();
        self.deliveries.insert(id, delivery);
        Some(id)
    }
}

fn validate_ids(ids: Vec<Option<i64>>) -> ApiResult<Vec<Option<i64>>> {
    if ids.is_empty() {
        return Err(ApiError::bad_request(
            "At least one delivery ID is required",
        ));
    }
    if ids.len() > MAX_REPLAY_IDS {
        return Err(ApiError::bad_request(format!(
            "Maximum {MAX_REPLAY_IDS} delivery IDs are allowed per replay"
        )));
    }
    Ok(ids)
}

fn validate_range(request: ReplayDeliveriesByDateRange) -> ApiResult<RangeSelection> {
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
        return Err(ApiError::bad_request(format!(
            "Replay range cannot exceed {MAX_REPLAY_RANGE_HOURS} hours"
        )));
    }
    let status = match request.status.as_deref() {
        None => None,
        Some(raw) => Some(
            ReplayStatusFilter::from_wire(raw)
                .map(replayable_status)
                .ok_or_else(|| {
                    let known: Vec<&str> =
                        ReplayStatusFilter::ALL.iter().map(|s| s.as_str()).collect();
                    ApiError::bad_request(format!("status must be one of {}", known.join(", ")))
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
        expires_at: created,
    }
}

fn task_state(app_slug: &str, task: &ReplayTask) -> ReplayTaskState {
    ReplayTaskState {
        app_slug: app_slug.to_string(),
        task: task.clone(),
    }
}

/// The delivery state a date-range replay's `status` selects.
fn replayable_status(filter: ReplayStatusFilter) -> DeliveryStatus {
    match filter {
        ReplayStatusFilter::Success => DeliveryStatus::Success,
        ReplayStatusFilter::Failed => DeliveryStatus::Failed,
        ReplayStatusFilter::PermanentlyFailed => DeliveryStatus::PermanentlyFailed,
        ReplayStatusFilter::Filtered => DeliveryStatus::Filtered,
    }
}

/// The idempotency key as given.
fn idempotency_key(request: &ReplayWebhookDeliveriesRequest) -> Option<&str> {
    match request {
        ReplayWebhookDeliveriesRequest::ReplayDeliveriesByIds(r) => r.idempotency_key.as_deref(),
        ReplayWebhookDeliveriesRequest::ReplayDeliveriesByDateRange(r) => {
            r.idempotency_key.as_deref()
        }
    }
}

//! All state of the emulator, behind one mutex and one API.
//!
//! Every operation validates completely before it changes anything, so a rejected request leaves
//! the state as it was. The lock is never held across network I/O: the delivery engine takes what
//! it needs for an attempt, releases the lock, sends, and then records the outcome.

mod apps;
mod catalogs;
mod deliveries;
mod endpoints;
mod inspect;
pub mod model;
pub mod persist;
mod replay;
mod retention;
mod subscription_cache;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Duration as ChronoDuration, Utc};

use crate::behaviour::Behaviour;
use crate::error::{ApiError, ApiResult};
use crate::wire::IdGenerator;
use model::{App, Catalog, Delivery, Endpoint, EndpointEvent, ReplayKey, ReplayTask, TaskIndex};
use subscription_cache::SubscriptionCache;

pub use apps::normalize_slug;
pub use deliveries::{AttemptOutcome, AttemptPlan, DeliveryFilter, NextStep, SendJob};
pub use inspect::SentRequest;
pub use replay::{ReplayCreated, ReplayItem, ReplayStart};
pub use retention::{RESPONSE_BODY_READ_LIMIT, Retention, TRUNCATION_MARK};

/// How long a replay task record lives after its last update (production: 2 h).
pub const DEFAULT_REPLAY_TASK_TTL: Duration = Duration::from_secs(2 * 60 * 60);
/// How long an app's replay task index lives after the last task was queued (production: 24 h).
pub const DEFAULT_REPLAY_TASK_INDEX_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Lifetimes and caches of the store: timing only, independent of the [`Behaviour`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// A replay task record expires this long after its last update.
    pub replay_task_ttl: Duration,
    /// An app's replay task index expires this long after its last task was queued.
    pub replay_task_index_ttl: Duration,
    /// Trigger fan-out reads subscriptions through a cache with this lifetime (`None`: no cache).
    pub subscription_cache_ttl: Option<Duration>,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            replay_task_ttl: DEFAULT_REPLAY_TASK_TTL,
            replay_task_index_ttl: DEFAULT_REPLAY_TASK_INDEX_TTL,
            subscription_cache_ttl: None,
        }
    }
}

/// The window in which exhausted deliveries count towards deactivating an endpoint.
const FAILURE_WINDOW_HOURS: i64 = 24;

/// One page of records, cut from a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The records of the page.
    pub data: Vec<T>,
    /// Whether records follow the page.
    pub has_more: bool,
    /// The page size used.
    pub limit: i64,
    /// The offset used.
    pub offset: i64,
}

impl<T> Page<T> {
    /// The same page with each record mapped.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            data: self.data.into_iter().map(f).collect(),
            has_more: self.has_more,
            limit: self.limit,
            offset: self.offset,
        }
    }
}

/// A page request after validation: `limit` rows from `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows per page.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

/// The emulator's state and the only way to read or change it.
#[derive(Debug)]
pub struct Store {
    state: Mutex<State>,
    ids: IdGenerator,
    deployment_id: String,
    behaviour: Behaviour,
    timing: Timing,
    retention: Retention,
}

/// Everything a state file keeps (the subscription cache aside, which only ages).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct State {
    apps: BTreeMap<i64, App>,
    app_ids: HashMap<String, i64>,
    catalogs: BTreeMap<i64, Catalog>,
    catalog_ids: HashMap<String, i64>,
    endpoints: BTreeMap<i64, Endpoint>,
    deliveries: BTreeMap<i64, Delivery>,
    /// Settle order → delivery id: the settled deliveries, oldest first, for retention.
    settled: BTreeMap<u64, i64>,
    /// The last settle order handed out.
    settle_seq: u64,
    /// Endpoint rows of the delivery log (written in production only).
    endpoint_events: BTreeMap<i64, EndpointEvent>,
    tasks: BTreeMap<i64, ReplayTask>,
    /// App id → the app's replay task index.
    task_index: HashMap<i64, TaskIndex>,
    /// `(app id, key)` → `(what the key stands for, expiry)`.
    #[serde(with = "persist::idempotency_entries")]
    idempotency: HashMap<(i64, String), (ReplayKey, DateTime<Utc>)>,
    #[serde(skip)]
    subscription_cache: SubscriptionCache,
}

impl Store {
    /// An empty store with a fresh deployment id, serving `behaviour` with the default timing.
    pub fn new(behaviour: Behaviour) -> Self {
        Self::with_timing(behaviour, Timing::default())
    }

    /// An empty store with a fresh deployment id, serving `behaviour` with `timing`.
    pub fn with_timing(behaviour: Behaviour, timing: Timing) -> Self {
        let ids = IdGenerator::new();
        let deployment_id = ids.next().to_string();
        Self {
            state: Mutex::new(State::default()),
            ids,
            deployment_id,
            behaviour,
            timing,
            retention: Retention::default(),
        }
    }

    /// The store with this retention of the delivery log instead of the default.
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// The id of the one deployment, shown in answers.
    pub fn deployment_id(&self) -> &str {
        &self.deployment_id
    }

    /// Which server the store imitates.
    pub fn behaviour(&self) -> Behaviour {
        self.behaviour
    }

    /// The state, with settled deliveries past the retention limits evicted first, so every
    /// operation sees only what is retained.
    fn lock(&self) -> MutexGuard<'_, State> {
        // Operations validate before they mutate, so the state behind a poisoned lock is consistent.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.enforce_retention(&self.retention, crate::wire::now());
        state
    }

    fn next_id(&self) -> i64 {
        self.ids.next()
    }

    /// The app's id for the read-only listings (endpoints, deliveries, stats, analytics, time
    /// series): production answers an unknown app as one without data (`None`, P7), the
    /// documented API with 404.
    fn listing_app_id(&self, state: &State, slug: &str) -> ApiResult<Option<i64>> {
        match state.app_id(slug) {
            Ok(id) => Ok(Some(id)),
            Err(_) if self.behaviour.is_production() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl Default for Store {
    fn default() -> Self {
        Self::new(Behaviour::default())
    }
}

impl State {
    fn app_id(&self, slug: &str) -> ApiResult<i64> {
        self.app_ids
            .get(slug)
            .copied()
            .ok_or_else(|| ApiError::not_found("Webhook app not found"))
    }

    fn app(&self, slug: &str) -> ApiResult<&App> {
        let id = self.app_id(slug)?;
        self.apps
            .get(&id)
            .ok_or_else(|| ApiError::not_found("Webhook app not found"))
    }

    fn app_mut(&mut self, slug: &str) -> ApiResult<&mut App> {
        let id = self.app_id(slug)?;
        self.apps
            .get_mut(&id)
            .ok_or_else(|| ApiError::not_found("Webhook app not found"))
    }

    fn app_slug(&self, app_id: i64) -> String {
        self.apps
            .get(&app_id)
            .map(|a| a.slug.clone())
            .unwrap_or_default()
    }

    fn catalog(&self, slug: &str) -> ApiResult<&Catalog> {
        self.catalog_ids
            .get(slug)
            .and_then(|id| self.catalogs.get(id))
            .ok_or_else(|| ApiError::not_found("Event catalog not found"))
    }

    fn catalog_mut(&mut self, slug: &str) -> ApiResult<&mut Catalog> {
        let id = *self
            .catalog_ids
            .get(slug)
            .ok_or_else(|| ApiError::not_found("Event catalog not found"))?;
        self.catalogs
            .get_mut(&id)
            .ok_or_else(|| ApiError::not_found("Event catalog not found"))
    }

    /// The endpoint `endpoint_id` if it belongs to the app `app_id`.
    fn app_endpoint_mut(&mut self, app_id: i64, endpoint_id: i64) -> ApiResult<&mut Endpoint> {
        self.endpoints
            .get_mut(&endpoint_id)
            .filter(|e| e.app_id == app_id)
            .ok_or_else(|| ApiError::not_found("Webhook endpoint not found"))
    }
}

/// Cuts one page out of `items`, looking one row further to set `has_more`.
fn paginate<T>(items: impl Iterator<Item = T>, page: PageRequest) -> Page<T> {
    let offset = usize::try_from(page.offset).unwrap_or(0);
    let limit = usize::try_from(page.limit).unwrap_or(0);
    let mut data: Vec<T> = items.skip(offset).take(limit.saturating_add(1)).collect();
    let has_more = data.len() > limit;
    data.truncate(limit);
    Page {
        data,
        has_more,
        limit: page.limit,
        offset: page.offset,
    }
}

/// `at + wait`, saturating far in the future instead of overflowing.
fn later(at: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    ChronoDuration::from_std(wait)
        .ok()
        .and_then(|wait| at.checked_add_signed(wait))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The start of the window in which endpoint failures count.
fn failure_window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now - ChronoDuration::hours(FAILURE_WINDOW_HOURS)
}

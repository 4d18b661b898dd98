//! Trigger fan-out: which endpoints of an app receive an event, read directly or, like the
//! production service, through a subscription cache with a fixed lifetime and no invalidation.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{State, Store};
use crate::filter;

/// One subscriber as the cache remembers it: what fan-out needs, frozen when it was read.
#[derive(Debug, Clone)]
struct Subscriber {
    endpoint_id: i64,
    max_retries: u32,
    filter_rules: Value,
}

/// The subscribers of one `(app slug, event name)`, read at some instant.
#[derive(Debug)]
struct Entry {
    read_at: Instant,
    subscribers: Vec<Subscriber>,
}

/// Subscribers per `(app slug, event name)`. An entry is served until it is `ttl` old, whatever
/// changed meanwhile: endpoints created, changed, deactivated or deleted within that time are
/// seen as they were when the entry was read.
#[derive(Debug, Default)]
pub struct SubscriptionCache {
    entries: HashMap<(String, String), Entry>,
}

impl SubscriptionCache {
    /// The subscribers cached under `key` if they were read less than `ttl` ago.
    fn fresh(&mut self, key: &(String, String), ttl: Duration) -> Option<Vec<Subscriber>> {
        let now = Instant::now();
        self.entries
            .retain(|_, e| now.saturating_duration_since(e.read_at) < ttl);
        self.entries.get(key).map(|e| e.subscribers.clone())
    }

    fn store(&mut self, key: (String, String), subscribers: Vec<Subscriber>) {
        let read_at = Instant::now();
        self.entries.insert(
            key,
            Entry {
                read_at,
                subscribers,
            },
        );
    }
}

impl State {
    /// The active endpoints of an app subscribed to `event_name`, as they are now.
    fn current_subscribers(&self, app_id: i64, event_name: &str) -> Vec<Subscriber> {
        self.endpoints
            .values()
            .filter(|e| e.app_id == app_id && e.is_active)
            .filter_map(|endpoint| {
                let sub = endpoint
                    .subscriptions
                    .iter()
                    .find(|s| s.event_name == event_name)?;
                Some(Subscriber {
                    endpoint_id: endpoint.id,
                    max_retries: endpoint.max_retries,
                    filter_rules: sub.filter_rules.clone(),
                })
            })
            .collect()
    }
}

impl Store {
    /// The endpoints an event fans out to whose filter matches the payload (as `(endpoint id,
    /// max attempts)`), and how many subscribed ones the filter excluded.
    ///
    /// With a subscription cache, a cached endpoint that was deleted since gets nothing; one that
    /// was deactivated since still gets its delivery queued (the engine concludes it).
    pub(super) fn subscribers(
        &self,
        state: &mut State,
        app_id: i64,
        event_name: &str,
        payload: &Value,
    ) -> (Vec<(i64, u32)>, u64) {
        let subscribers = match self.timing.subscription_cache_ttl {
            None => state.current_subscribers(app_id, event_name),
            Some(ttl) => {
                let key = (state.app_slug(app_id), event_name.to_string());
                let cached = match state.subscription_cache.fresh(&key, ttl) {
                    Some(cached) => cached,
                    None => {
                        let read = state.current_subscribers(app_id, event_name);
                        state.subscription_cache.store(key, read.clone());
                        read
                    }
                };
                cached
                    .into_iter()
                    .filter(|s| state.endpoints.contains_key(&s.endpoint_id))
                    .collect()
            }
        };
        let mut targets = Vec::with_capacity(subscribers.len());
        let mut filtered = 0;
        for sub in subscribers {
            if filter::matches(&sub.filter_rules, payload, self.behaviour) {
                targets.push((sub.endpoint_id, sub.max_retries));
            } else {
                filtered += 1;
            }
        }
        (targets, filtered)
    }
}

//! Which server the emulator imitates: the production service, quirks included, or the API as
//! documented; [`Behaviour`] lists every difference.

/// Which behaviour the emulator serves; see [`EmulatorBuilder::behaviour`](crate::EmulatorBuilder::behaviour).
///
/// Code tested against the emulator must work against the real service, so the default is
/// [`Behaviour::Production`]: every difference between the production server and the documented
/// API that a client or a receiver can observe is reproduced. [`Behaviour::Documented`] serves
/// what the API evidently means instead.
///
/// # Differences between the two behaviours
///
/// Each row carries the number of the fact in the "Production behaviour" section of the wire
/// reference. "Same" marks a production fact the emulator serves in either behaviour; timing-only
/// behaviours are options of their own, independent of [`Behaviour`] (last column). Where the
/// emulator is stricter than production for safety (URL policy, framing headers, `Retry-After` cap,
/// catalog slugs), it is so in both behaviours; see [`EmulatorBuilder`](crate::EmulatorBuilder).
///
/// | # | [`Behaviour::Production`] (default) | [`Behaviour::Documented`] | timing option |
/// |---|---|---|---|
/// | P1 | Replay task list: a task record expires 2 h after its last update, the app's task index 24 h after its last task; `has_more` is computed on the raw index and expired records are then skipped, so pages come back short or empty with `has_more: true`; an expired task answers 404 | Same lifetimes, but an expired record leaves the index with it: pages are full and `has_more` is exact | `replay_task_ttl`, `replay_task_index_ttl` (`--replay-task-ttl`, `--replay-index-ttl`) |
/// | P2 | `webhook-id`, `webhook-timestamp` and the body are fixed when the event is triggered and reused on every retry; a 401 from the receiver is never retried | Same | `retry_schedule` (`--retry-schedule`) |
/// | P3 | A replay sends the original's stored outbound envelope as its `data` (`{"type","timestamp","data":{"type","timestamp","data":<original>}}`), and stores its own envelope, so a replay of a replay nests once more | The original payload in a fresh envelope | |
/// | P4 | With an API rate limit set: 429 `Rate limit exceeded. Retry after N seconds`, no `Retry-After` header | The same body plus `Retry-After: N` | `api_rate_limit` (`--api-rate-limit N/DUR`), off by default |
/// | P5 | While a replay request is being queued its idempotency key is reserved: a repeat meanwhile answers `task_id: null` | The repeat answers the task id | `replay_queue_delay` (`--replay-queue-delay`), default 0 |
/// | P6 | Deliveries list: `endpoint_id`, `since`, `until` are ignored; `status` and `event_name` filter every log row before the latest matching row of each delivery is picked; rows are ordered by their own time, newest first (offset pages shift while deliveries change state); endpoint rows with status `reactivated` (each reactivation) and `deactivated` (deactivation after failures, not after a 410) appear | One row per delivery as of its latest state; all five filters apply to that state; newest delivery first by creation; no endpoint rows | |
/// | P7 | Endpoints list, deliveries list, stats, analytics and time series of an unknown app: an empty page or zeros | 404 "Webhook app not found" | |
/// | P8 | Delivery details: an unknown id answers 500 "Something went wrong"; `status=pending` reads a delivery still in the queue (raw payload), else 404 "Pending delivery not found"; other `status` values are ignored; `response_headers` is always null | Unknown id: 404; `status` selects the latest state with that status; `response_headers` holds the receiver's headers | |
/// | P9 | Analytics: `endpoint_performance[].endpoint_url` holds the endpoint id; `top_events` ignores `endpoint_id`; a connection failure counts as "Unknown". Time series: a point's `total_events` equals its `total_deliveries` | The endpoint's URL; `top_events` follows `endpoint_id`; "Connection Failed"; `total_events` counts distinct event names | |
/// | P10 | A test send ignores the app slug of its path (any endpoint of the deployment) | 404 for an endpoint of another app or an unknown app | |
/// | P11 | Endpoint `failure_count`, `last_failure_at`, `auto_disabled`, `auto_disabled_at` are never written; only `is_active` changes | They count failures in 24 h, record the last permanent failure and the service's deactivation (410 or ten failures); reactivation clears them | |
/// | P12 | An update with `failure_notification_emails: []` or `headers: {}` clears the list or map | Same | |
/// | P13 | Endpoint `headers` are stored as any JSON and returned as stored; deliveries send the string values of an object | An object of strings only (else 422) | |
/// | P14 | Date-range replays never select `filtered` deliveries; an unknown `status` in the deliveries list filter gives an empty page | Filtered deliveries are replayed; an unknown `status` is a 400 | |
/// | P15 | Trigger fan-out reads subscriptions through a cache (per app and event, no invalidation): an endpoint created or changed within its lifetime may not receive | Same when the option is on | `subscription_cache_ttl` (`--subscription-cache-ttl 300s` for production's), off by default |
/// | P16 | String `$gte` / `$lte` in filter rules compare strictly | As written (inclusive) | |
///
/// # Stricter than production in both behaviours
///
/// Where reproducing the production service would let a request misdirect or cut short the
/// emulator's own traffic, or lose what it saved, the emulator refuses instead, whatever the
/// behaviour:
///
/// - Endpoint `headers` may not set framing headers (`Host`, `Content-Length`,
///   `Transfer-Encoding`, `Connection`, `Keep-Alive`, `Upgrade`, `TE`, `Trailer`,
///   `Proxy-Connection`): 400. Production sends them as given. Headers named like the emulator's
///   own (`webhook-id`, `webhook-timestamp`, `webhook-signature`, `Content-Type`, `User-Agent`) are
///   stored as given but never sent: production lets them replace or duplicate its own.
/// - A catalog slug that no request path can address (empty, `.`, `..`, surrounded by
///   whitespace, or holding a control character) is refused with 400; production stores it.
/// - A receiver's `Retry-After` waits at most 6 hours, the longest wait of Wacht's retry schedule;
///   production applies no cap.
/// - With strict URLs (`allow_private_urls(false)`), every address the IANA special-purpose
///   registries do not mark globally reachable is refused, IPv4 embedded in IPv6 included, and
///   host names are checked at the addresses they resolve to, both when saved and on every
///   connection a delivery makes; production checks IP literals against a shorter list and does
///   not resolve names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Behaviour {
    /// What the production service does, quirks included (the default).
    #[default]
    Production,
    /// What the API documentation describes.
    Documented,
}

impl Behaviour {
    /// Whether production's quirks are reproduced.
    pub fn is_production(self) -> bool {
        self == Behaviour::Production
    }
}

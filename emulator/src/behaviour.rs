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
/// reference. "Both" marks a production fact the emulator serves in either behaviour; timing-only
/// behaviours are options of their own, independent of [`Behaviour`].
///
/// | # | [`Behaviour::Production`] (default) | [`Behaviour::Documented`] |
/// |---|---|---|
/// | P1 | Replay task list: task records expire 2 h after their last update, the task index after 24 h; expired records are skipped after `has_more` was computed, so pages come back short or empty with `has_more: true` | Every task of the app is listed; pages are full while `has_more` holds |
/// | P2 | `webhook-timestamp` is fixed when the event is triggered and reused on every retry; a 401 from the receiver is never retried | Both (the retry waits themselves are the `retry_schedule` option) |
/// | P3 | A replay sends the stored outbound envelope as the payload: the receiver gets `{"type","timestamp","data":{"type","timestamp","data":<original>}}` | A replay sends the original payload in a fresh envelope |
/// | P4 | An API 429 says its wait only in the message ("Rate limit exceeded. Retry after N seconds"), no `Retry-After` header | The wait is in a `Retry-After` header as well |
/// | P5 | A replay request repeated while its first attempt is still being queued answers `task_id: null` | The repeat answers the task id |
/// | P6 | Deliveries list: `endpoint_id`, `since` and `until` are parsed and ignored; `status` and `event_name` filter every log row before the latest matching row of each delivery is picked (a delivery that failed, then succeeded, is listed under `status=failed` as its failed row); rows are ordered by their own time, newest first, so offset pages shift while deliveries change state; endpoint rows with status `reactivated` (event `endpoint.reactivated`, written on every reactivation) and `deactivated` (event `endpoint.deactivated`, written when failures deactivate an endpoint, not for a 410) appear, each with an id of its own, `attempt_number` 0 and `max_attempts` 1 / 0 | One row per delivery as of its latest state; all five filters apply to that state; newest delivery first by creation; no endpoint rows |
/// | P7 | Endpoints list, deliveries list, stats, analytics and time series of an unknown app: an empty page or zeros | 404 "Webhook app not found" |
/// | P8 | Delivery details: an unknown id answers 500 "Something went wrong"; the delivery is found whatever app the path names (the app must exist); `status` other than `pending` is ignored (the latest row answers); `status=pending` reads the delivery from the queue while it is in flight (status `pending`, the attempts made so far, the creation time, `payload` the raw payload), else 404 "Pending delivery not found"; the pending row's `payload` is the raw payload; `response_headers` is always null; a row reports only its own attempt (no status code or time for a connection failure) | An unknown id, or no state with the given `status`, answers 404; `status` selects the latest state with that status (400 for an unknown one); `payload` is the envelope once an attempt was made, else null; `response_headers` holds the receiver's headers |
/// | P9 | Analytics: `endpoint_performance[].endpoint_url` holds the endpoint id; `top_events` counts the whole app even with `endpoint_id`; a connection failure counts as reason "Unknown" ("Connection Failed" never appears). Time series: a point's `total_events` equals its `total_deliveries` | `endpoint_url` is the URL of the endpoint's latest attempt; `top_events` follows `endpoint_id`; connection failures are "Connection Failed"; `total_events` counts distinct event names |
/// | P10 | Test send: the app slug in the path is ignored (any endpoint of the deployment) | 404 "Webhook endpoint not found" for an endpoint of another app |
/// | P11 | Endpoint `failure_count`, `last_failure_at`, `auto_disabled`, `auto_disabled_at` are never written (0, null, false, null); only `is_active` (and `updated_at`) change when the service deactivates an endpoint | `failure_count` counts exhausted deliveries of the last 24 h, `last_failure_at` is the last permanent failure, a 410 or the tenth failure sets `auto_disabled` and `auto_disabled_at`, reactivation clears them |
/// | P12 | Update with `failure_notification_emails: []` or `headers: {}` clears the list or map | Both |
/// | P13 | Endpoint `headers` are stored as any JSON value | Header values must be strings |
/// | P14 | Date-range replays never include `filtered` deliveries; an unknown `status` in the deliveries list filter lists nothing (no 400) | Date-range replays include `filtered` deliveries; an unknown `status` answers 400 |
/// | P15 | Timing-only, not switched by [`Behaviour`]: a separate option (off by default) makes trigger fan-out read subscriptions through production's 300 s cache without invalidation, so an endpoint created or changed within 5 minutes may not receive | The same option; unless it is set, endpoint changes apply at once in either behaviour |
/// | P16 | String `$gte` / `$lte` in filter rules compare strictly | `$gte` / `$lte` compare as written |
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

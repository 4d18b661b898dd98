//! Stats, analytics and time series, computed from the delivery log on every request.
//!
//! Deliveries still `pending` are not counted; a delivery's time is the time of its latest state.
//! Response-time figures use the attempts that got an HTTP response; percentiles are by nearest rank.
//! Under [`Behaviour::Production`] the figures carry production's quirks (P9): `endpoint_url` holds
//! the endpoint id, a time series point's `total_events` equals its `total_deliveries`,
//! `top_events` ignores the endpoint filter, and a connection failure counts as reason "Unknown".

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Duration as ChronoDuration, NaiveTime, TimeZone, Timelike, Utc};

use crate::behaviour::Behaviour;
pub use crate::spec::TimeseriesInterval as Interval;
use crate::spec::{
    EndpointPerformance, FailureReason, TimeseriesPoint, TopEvent, WebhookAnalytics, WebhookStats,
    WebhookTimeseries,
};
use crate::store::model::DeliveryStatus;

/// How many events `top_events` lists.
const TOP_EVENTS: usize = 10;

/// One delivery as analytics sees it.
#[derive(Debug, Clone)]
pub struct DeliveryFacts {
    /// Its endpoint.
    pub endpoint_id: i64,
    /// Its event.
    pub event_name: String,
    /// Its latest status.
    pub status: DeliveryStatus,
    /// The time of its latest state.
    pub at: DateTime<Utc>,
    /// Its attempts, oldest first.
    pub attempts: Vec<AttemptFacts>,
}

/// One attempt as analytics sees it.
#[derive(Debug, Clone)]
pub struct AttemptFacts {
    /// The URL it went to.
    pub url: String,
    /// The response status; `None` when no response came.
    pub status_code: Option<u16>,
    /// Its duration.
    pub response_time_ms: u64,
}

impl AttemptFacts {
    fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|c| (200..300).contains(&c))
    }

    fn timed(&self) -> Option<u64> {
        self.status_code.map(|_| self.response_time_ms)
    }
}

/// The start of the UTC-aligned bucket of `interval` holding `t` (weeks start on Monday).
pub fn bucket_start(interval: Interval, t: DateTime<Utc>) -> DateTime<Utc> {
    let midnight =
        |t: DateTime<Utc>| Utc.from_utc_datetime(&t.date_naive().and_time(NaiveTime::MIN));
    match interval {
        Interval::Minute => {
            t - ChronoDuration::nanoseconds(
                i64::from(t.second()) * 1_000_000_000 + i64::from(t.nanosecond()),
            )
        }
        Interval::Hour => {
            let start = bucket_start(Interval::Minute, t);
            start - ChronoDuration::minutes(i64::from(start.minute()))
        }
        Interval::Day => midnight(t),
        Interval::Week => {
            midnight(t) - ChronoDuration::days(i64::from(t.weekday().num_days_from_monday()))
        }
        Interval::Month => midnight(t) - ChronoDuration::days(i64::from(t.day0())),
    }
}

fn counted<'s, 'a>(facts: &'s [&'a DeliveryFacts]) -> impl Iterator<Item = &'a DeliveryFacts> + 's {
    facts
        .iter()
        .copied()
        .filter(|d| d.status != DeliveryStatus::Pending)
}

fn is_failed(status: DeliveryStatus) -> bool {
    matches!(
        status,
        DeliveryStatus::Failed | DeliveryStatus::PermanentlyFailed
    )
}

/// `part` of `whole` in percent; 0 when there is nothing.
fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

fn mean(values: &[u64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<u64>() as f64 / values.len() as f64)
}

/// The nearest-rank percentile of sorted values: the value at rank ⌈p·n/100⌉.
pub fn nearest_rank(sorted: &[u64], p: u32) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (p as usize * n).div_ceil(100).clamp(1, n);
    Some(sorted[rank - 1] as f64)
}

/// `WebhookStats` from the last 30 days of deliveries.
pub fn stats(
    facts_30d: &[DeliveryFacts],
    active_endpoints: u64,
    now: DateTime<Utc>,
) -> WebhookStats {
    let facts_30d: Vec<&DeliveryFacts> = facts_30d.iter().collect();
    let facts_30d = facts_30d.as_slice();
    let day_ago = now - ChronoDuration::hours(24);
    let total = counted(facts_30d).count() as u64;
    let successes = counted(facts_30d)
        .filter(|d| d.status == DeliveryStatus::Success)
        .count() as u64;
    let failed_24h = facts_30d
        .iter()
        .filter(|d| is_failed(d.status) && d.at >= day_ago)
        .count() as u64;
    WebhookStats {
        total_deliveries: total as i64,
        success_rate: percent(successes, total),
        active_endpoints: active_endpoints as i64,
        failed_deliveries_24h: failed_24h as i64,
    }
}

/// Delivery counts of a set of deliveries.
#[derive(Default)]
struct Totals {
    events: BTreeSet<String>,
    deliveries: u64,
    successful: u64,
    failed: u64,
    filtered: u64,
    times: Vec<u64>,
}

impl Totals {
    fn add(&mut self, delivery: &DeliveryFacts) {
        self.events.insert(delivery.event_name.clone());
        self.deliveries += 1;
        match delivery.status {
            DeliveryStatus::Success => self.successful += 1,
            DeliveryStatus::Filtered => self.filtered += 1,
            s if is_failed(s) => self.failed += 1,
            _ => {}
        }
        self.times
            .extend(delivery.attempts.iter().filter_map(AttemptFacts::timed));
    }
}

/// `WebhookAnalyticsResult` of an app's deliveries, of one endpoint's when `endpoint_id` is given
/// (`Some(None)`: an id that is not a number, matching nothing).
pub fn analytics(
    app_facts: &[DeliveryFacts],
    endpoint_id: Option<Option<i64>>,
    behaviour: Behaviour,
) -> WebhookAnalytics {
    let all: Vec<&DeliveryFacts> = app_facts.iter().collect();
    let selected: Vec<&DeliveryFacts> = app_facts
        .iter()
        .filter(|d| endpoint_id.is_none_or(|e| e == Some(d.endpoint_id)))
        .collect();
    let facts = selected.as_slice();
    // Production counts the top events of the whole app, endpoint filter or not.
    let top_event_facts = if behaviour.is_production() {
        all.as_slice()
    } else {
        facts
    };
    let mut totals = Totals::default();
    counted(facts).for_each(|d| totals.add(d));
    let mut times = totals.times.clone();
    times.sort_unstable();
    WebhookAnalytics {
        total_events: totals.events.len() as i64,
        total_deliveries: totals.deliveries as i64,
        successful_deliveries: totals.successful as i64,
        failed_deliveries: totals.failed as i64,
        filtered_deliveries: totals.filtered as i64,
        avg_response_time_ms: mean(&times),
        p50_response_time_ms: nearest_rank(&times, 50),
        p95_response_time_ms: nearest_rank(&times, 95),
        p99_response_time_ms: nearest_rank(&times, 99),
        success_rate: percent(totals.successful, totals.deliveries),
        top_events: top_events(top_event_facts),
        endpoint_performance: endpoint_performance(facts, behaviour),
        failure_reasons: failure_reasons(facts, behaviour),
    }
}

fn top_events(facts: &[&DeliveryFacts]) -> Vec<TopEvent> {
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for delivery in counted(facts) {
        *counts.entry(delivery.event_name.as_str()).or_default() += 1;
    }
    let mut events: Vec<TopEvent> = counts
        .into_iter()
        .map(|(name, count)| TopEvent {
            event_name: name.to_string(),
            count: count as i64,
        })
        .collect();
    events.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.event_name.cmp(&b.event_name))
    });
    events.truncate(TOP_EVENTS);
    events
}

/// Per endpoint, counted per attempt; the URL is the one of its latest attempt (production: the
/// endpoint id as text).
fn endpoint_performance(
    facts: &[&DeliveryFacts],
    behaviour: Behaviour,
) -> Vec<EndpointPerformance> {
    let mut per_endpoint: BTreeMap<i64, Vec<&AttemptFacts>> = BTreeMap::new();
    for delivery in counted(facts) {
        per_endpoint
            .entry(delivery.endpoint_id)
            .or_default()
            .extend(delivery.attempts.iter());
    }
    per_endpoint
        .into_iter()
        .filter(|(_, attempts)| !attempts.is_empty())
        .map(|(endpoint_id, attempts)| {
            let total = attempts.len() as u64;
            let successful = attempts.iter().filter(|a| a.succeeded()).count() as u64;
            let times: Vec<u64> = attempts.iter().filter_map(|a| a.timed()).collect();
            EndpointPerformance {
                endpoint_id: endpoint_id.to_string(),
                endpoint_url: if behaviour.is_production() {
                    endpoint_id.to_string()
                } else {
                    attempts.last().map(|a| a.url.clone()).unwrap_or_default()
                },
                total_attempts: total as i64,
                successful_attempts: successful as i64,
                failed_attempts: (total - successful) as i64,
                avg_response_time_ms: mean(&times),
                success_rate: percent(successful, total),
            }
        })
        .collect()
}

/// The reason of a failed attempt. Production records no status code for a connection failure
/// and its classification has no case for that, so it reports "Unknown".
pub fn failure_reason(status_code: Option<u16>, behaviour: Behaviour) -> &'static str {
    match status_code {
        Some(500..=599) => "Server Error (5xx)",
        Some(400..=499) => "Client Error (4xx)",
        None if !behaviour.is_production() => "Connection Failed",
        _ => "Unknown",
    }
}

fn failure_reasons(facts: &[&DeliveryFacts], behaviour: Behaviour) -> Vec<FailureReason> {
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    for attempt in counted(facts).flat_map(|d| d.attempts.iter()) {
        if !attempt.succeeded() {
            *counts
                .entry(failure_reason(attempt.status_code, behaviour))
                .or_default() += 1;
        }
    }
    let mut reasons: Vec<FailureReason> = counts
        .into_iter()
        .map(|(reason, count)| FailureReason {
            reason: reason.to_string(),
            count: count as i64,
        })
        .collect();
    reasons.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
    reasons
}

/// The time series of the given deliveries: only buckets with data, ascending.
pub fn timeseries(
    facts: &[DeliveryFacts],
    interval: Interval,
    behaviour: Behaviour,
) -> WebhookTimeseries {
    let facts: Vec<&DeliveryFacts> = facts.iter().collect();
    let facts = facts.as_slice();
    let mut buckets: BTreeMap<DateTime<Utc>, Totals> = BTreeMap::new();
    for delivery in counted(facts) {
        buckets
            .entry(bucket_start(interval, delivery.at))
            .or_default()
            .add(delivery);
    }
    let data = buckets
        .into_iter()
        .map(|(start, totals)| TimeseriesPoint {
            timestamp: start,
            // Production fills a point's `total_events` with its delivery count.
            total_events: if behaviour.is_production() {
                totals.deliveries as i64
            } else {
                totals.events.len() as i64
            },
            total_deliveries: totals.deliveries as i64,
            successful_deliveries: totals.successful as i64,
            failed_deliveries: totals.failed as i64,
            filtered_deliveries: totals.filtered as i64,
            avg_response_time_ms: mean(&totals.times),
            success_rate: percent(totals.successful, totals.deliveries),
        })
        .collect();
    WebhookTimeseries { data, interval }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{format_time, parse_time};

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<u64> = (1..=10).collect();
        assert_eq!(nearest_rank(&values, 50), Some(5.0));
        assert_eq!(nearest_rank(&values, 95), Some(10.0));
        assert_eq!(nearest_rank(&values, 99), Some(10.0));
        assert_eq!(nearest_rank(&[7], 50), Some(7.0));
        assert_eq!(nearest_rank(&[], 50), None);
    }

    #[test]
    fn buckets_are_utc_aligned() {
        let t = parse_time("2026-06-03T13:45:12.5Z").unwrap(); // a Wednesday
        let f = |i: Interval| format_time(bucket_start(i, t));
        assert_eq!(f(Interval::Minute), "2026-06-03T13:45:00.000000Z");
        assert_eq!(f(Interval::Hour), "2026-06-03T13:00:00.000000Z");
        assert_eq!(f(Interval::Day), "2026-06-03T00:00:00.000000Z");
        assert_eq!(f(Interval::Week), "2026-06-01T00:00:00.000000Z");
        assert_eq!(f(Interval::Month), "2026-06-01T00:00:00.000000Z");
    }

    #[test]
    fn failure_reasons_by_status() {
        for behaviour in [Behaviour::Production, Behaviour::Documented] {
            assert_eq!(failure_reason(Some(503), behaviour), "Server Error (5xx)");
            assert_eq!(failure_reason(Some(404), behaviour), "Client Error (4xx)");
            assert_eq!(failure_reason(Some(302), behaviour), "Unknown");
        }
        assert_eq!(
            failure_reason(None, Behaviour::Documented),
            "Connection Failed"
        );
        assert_eq!(failure_reason(None, Behaviour::Production), "Unknown");
    }
}

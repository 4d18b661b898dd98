//! Handlers of stats, analytics and time series.

use axum::extract::State;
use chrono::{DateTime, Duration as ChronoDuration, Utc};

use super::Ctx;
use super::extract::{ApiPath, JsonOk, Query, Reply};
use crate::analytics::{self, Interval};
use crate::error::{ApiError, ApiResult};
use crate::spec::query::{get_webhook_analytics, get_webhook_timeseries};
use crate::spec::{WebhookAnalytics, WebhookStats, WebhookTimeseries};
use crate::wire::now;

/// The window of stats and of analytics without an explicit range.
const DEFAULT_ANALYTICS_DAYS: i64 = 30;
/// The window of a time series without an explicit range.
const DEFAULT_TIMESERIES_DAYS: i64 = 7;

/// `[start_date, end_date]` when both are given, else the last `days` days. Analytics and time
/// series name the window's parameters alike.
fn range(query: &Query, days: i64) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    let start = query.time(get_webhook_analytics::START_DATE)?;
    let end = query.time(get_webhook_analytics::END_DATE)?;
    Ok(match (start, end) {
        (Some(start), Some(end)) => (start, end),
        _ => {
            let end = now();
            (end - ChronoDuration::days(days), end)
        }
    })
}

/// `get_webhook_stats`.
pub async fn stats(State(ctx): State<Ctx>, ApiPath(slug): ApiPath<String>) -> Reply<WebhookStats> {
    let end = now();
    let start = end - ChronoDuration::days(DEFAULT_ANALYTICS_DAYS);
    let facts = ctx.store.delivery_facts(&slug, None, start, end)?;
    let active = ctx.store.active_endpoint_count(&slug)?;
    Ok(JsonOk(analytics::stats(&facts, active, end)))
}

/// `get_webhook_analytics`.
pub async fn analytics(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    query: Query,
) -> Reply<WebhookAnalytics> {
    let endpoint_id = query.id_filter(get_webhook_analytics::ENDPOINT_ID);
    let (start, end) = range(&query, DEFAULT_ANALYTICS_DAYS)?;
    let app_facts = ctx.store.delivery_facts(&slug, None, start, end)?;
    Ok(JsonOk(analytics::analytics(
        &app_facts,
        endpoint_id,
        ctx.store.behaviour(),
    )))
}

/// `get_webhook_timeseries`.
pub async fn timeseries(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    query: Query,
) -> Reply<WebhookTimeseries> {
    let interval = match query.text(get_webhook_timeseries::INTERVAL) {
        None => Interval::Day,
        Some(raw) => Interval::from_wire(raw).ok_or_else(|| {
            let known: Vec<&str> = Interval::ALL.iter().map(|i| i.as_str()).collect();
            ApiError::bad_request(format!("interval must be one of {}", known.join(", ")))
        })?,
    };
    let endpoint_id = query.id_filter(get_webhook_timeseries::ENDPOINT_ID);
    let (start, end) = range(&query, DEFAULT_TIMESERIES_DAYS)?;
    let facts = ctx.store.delivery_facts(&slug, endpoint_id, start, end)?;
    Ok(JsonOk(analytics::timeseries(
        &facts,
        interval,
        ctx.store.behaviour(),
    )))
}

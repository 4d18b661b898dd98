//! Handlers of stats, analytics and time series.

use axum::extract::State;
use chrono::{DateTime, Duration as ChronoDuration, Utc};

use super::extract::{ApiPath, JsonOk, Query, Reply};
use super::Ctx;
use crate::analytics::{self, Interval};
use crate::error::{ApiError, ApiResult};
use crate::views::{AnalyticsView, StatsView, TimeseriesView};
use crate::wire::now;

/// The window of stats and of analytics without an explicit range.
const DEFAULT_ANALYTICS_DAYS: i64 = 30;
/// The window of a time series without an explicit range.
const DEFAULT_TIMESERIES_DAYS: i64 = 7;

/// `[start_date, end_date]` when both are given, else the last `days` days.
fn range(query: &Query, days: i64) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    let start = query.time("start_date")?;
    let end = query.time("end_date")?;
    Ok(match (start, end) {
        (Some(start), Some(end)) => (start, end),
        _ => {
            let end = now();
            (end - ChronoDuration::days(days), end)
        }
    })
}

/// `GET /webhooks/apps/{app_slug}/stats`.
pub async fn stats(State(ctx): State<Ctx>, ApiPath(slug): ApiPath<String>) -> Reply<StatsView> {
    let end = now();
    let start = end - ChronoDuration::days(DEFAULT_ANALYTICS_DAYS);
    let facts = ctx.store.delivery_facts(&slug, None, start, end)?;
    let active = ctx.store.active_endpoint_count(&slug)?;
    Ok(JsonOk(analytics::stats(&facts, active, end)))
}

/// `GET /webhooks/apps/{app_slug}/analytics`.
pub async fn analytics(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    query: Query,
) -> Reply<AnalyticsView> {
    let endpoint_id = query.id_filter("endpoint_id");
    let (start, end) = range(&query, DEFAULT_ANALYTICS_DAYS)?;
    let app_facts = ctx.store.delivery_facts(&slug, None, start, end)?;
    Ok(JsonOk(analytics::analytics(
        &app_facts,
        endpoint_id,
        ctx.store.behaviour(),
    )))
}

/// `GET /webhooks/apps/{app_slug}/timeseries`.
pub async fn timeseries(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    query: Query,
) -> Reply<TimeseriesView> {
    let interval = match query.text("interval") {
        None => Interval::Day,
        Some(raw) => Interval::parse(raw).ok_or_else(|| {
            ApiError::bad_request("interval must be one of minute, hour, day, week, month")
        })?,
    };
    let endpoint_id = query.id_filter("endpoint_id");
    let (start, end) = range(&query, DEFAULT_TIMESERIES_DAYS)?;
    let facts = ctx.store.delivery_facts(&slug, endpoint_id, start, end)?;
    Ok(JsonOk(analytics::timeseries(
        &facts,
        interval,
        ctx.store.behaviour(),
    )))
}

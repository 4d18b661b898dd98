//! Stats, analytics and time series equal what the test computes from the deliveries it saw.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration as ChronoDuration, Timelike, Utc};
use common::{Api, Receiver, Reply, start_documented};
use serde_json::{Value, json};

/// One delivery as the test observed it, with its attempts' status codes and times.
struct Seen {
    event: String,
    endpoint: String,
    status: String,
    at: DateTime<Utc>,
    attempts: Vec<(Option<u64>, u64)>,
}

async fn observe(api: &Api, app: &Value) -> Vec<Seen> {
    let slug = app["app_slug"].as_str().unwrap();
    let mut seen = Vec::new();
    for row in api.deliveries(app).await {
        let id = row["delivery_id"].as_str().unwrap();
        let latest = api.settled(app, id).await;
        let mut attempts = Vec::new();
        if latest["attempt_number"] == 2 {
            let first = api
                .ok(&format!(
                    "/webhooks/apps/{slug}/deliveries/{id}?status=failed"
                ))
                .await;
            attempts.push((
                first["http_status_code"].as_u64(),
                first["response_time_ms"].as_u64().unwrap(),
            ));
        }
        if latest["attempt_number"].as_u64().unwrap() > 0 {
            attempts.push((
                latest["http_status_code"].as_u64(),
                latest["response_time_ms"].as_u64().unwrap(),
            ));
        }
        seen.push(Seen {
            event: latest["event_name"].as_str().unwrap().to_string(),
            endpoint: latest["endpoint_id"].as_str().unwrap().to_string(),
            status: latest["status"].as_str().unwrap().to_string(),
            at: latest["timestamp"].as_str().unwrap().parse().unwrap(),
            attempts,
        });
    }
    seen
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

fn mean(values: &[u64]) -> Value {
    if values.is_empty() {
        Value::Null
    } else {
        json!(values.iter().sum::<u64>() as f64 / values.len() as f64)
    }
}

fn nearest_rank(sorted: &[u64], p: usize) -> Value {
    if sorted.is_empty() {
        return Value::Null;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    json!(sorted[rank - 1] as f64)
}

fn is_failed(status: &str) -> bool {
    status == "failed" || status == "permanently_failed"
}

fn expected_analytics(seen: &[&Seen], urls: &BTreeMap<String, String>) -> Value {
    let total = seen.len();
    let successes = seen.iter().filter(|d| d.status == "success").count();
    let mut times: Vec<u64> = seen
        .iter()
        .flat_map(|d| d.attempts.iter().map(|a| a.1))
        .collect();
    times.sort_unstable();
    let mut events: BTreeMap<&str, u64> = BTreeMap::new();
    for d in seen {
        *events.entry(&d.event).or_default() += 1;
    }
    let mut top: Vec<(&str, u64)> = events.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut per_endpoint: BTreeMap<i64, Vec<(Option<u64>, u64)>> = BTreeMap::new();
    for d in seen {
        per_endpoint
            .entry(d.endpoint.parse().unwrap())
            .or_default()
            .extend(d.attempts.iter().copied());
    }
    let performance: Vec<Value> = per_endpoint
        .iter()
        .filter(|(_, a)| !a.is_empty())
        .map(|(id, attempts)| {
            let ok = attempts.iter().filter(|a| matches!(a.0, Some(200..=299))).count();
            let times: Vec<u64> = attempts.iter().map(|a| a.1).collect();
            json!({
                "endpoint_id": id.to_string(), "endpoint_url": urls[&id.to_string()],
                "total_attempts": attempts.len(), "successful_attempts": ok, "failed_attempts": attempts.len() - ok,
                "avg_response_time_ms": mean(&times), "success_rate": percent(ok, attempts.len()),
            })
        })
        .collect();
    let mut reasons: BTreeMap<&str, u64> = BTreeMap::new();
    for (code, _) in seen.iter().flat_map(|d| d.attempts.iter()) {
        let reason = match code {
            Some(200..=299) => continue,
            Some(500..=599) => "Server Error (5xx)",
            Some(400..=499) => "Client Error (4xx)",
            None => "Connection Failed",
            Some(_) => "Unknown",
        };
        *reasons.entry(reason).or_default() += 1;
    }
    let mut reasons: Vec<(&str, u64)> = reasons.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    json!({
        "total_events": seen.iter().map(|d| d.event.as_str()).collect::<BTreeSet<_>>().len(),
        "total_deliveries": total,
        "successful_deliveries": successes,
        "failed_deliveries": seen.iter().filter(|d| is_failed(&d.status)).count(),
        "filtered_deliveries": seen.iter().filter(|d| d.status == "filtered").count(),
        "avg_response_time_ms": mean(&times),
        "p50_response_time_ms": nearest_rank(&times, 50),
        "p95_response_time_ms": nearest_rank(&times, 95),
        "p99_response_time_ms": nearest_rank(&times, 99),
        "success_rate": percent(successes, total),
        "top_events": top.iter().take(10).map(|(e, c)| json!({"event_name": e, "count": c})).collect::<Vec<_>>(),
        "endpoint_performance": performance,
        "failure_reasons": reasons.iter().map(|(r, c)| json!({"reason": r, "count": c})).collect::<Vec<_>>(),
    })
}

fn bucket(t: DateTime<Utc>, interval: &str) -> DateTime<Utc> {
    let day = t.date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc();
    match interval {
        "minute" => t
            .date_naive()
            .and_hms_opt(t.hour(), t.minute(), 0)
            .unwrap()
            .and_utc(),
        "hour" => t
            .date_naive()
            .and_hms_opt(t.hour(), 0, 0)
            .unwrap()
            .and_utc(),
        "day" => day,
        "week" => day - ChronoDuration::days(t.weekday().num_days_from_monday() as i64),
        _ => day.with_day(1).unwrap(),
    }
}

fn expected_timeseries(seen: &[Seen], interval: &str) -> Value {
    let mut buckets: BTreeMap<DateTime<Utc>, Vec<&Seen>> = BTreeMap::new();
    for d in seen {
        buckets.entry(bucket(d.at, interval)).or_default().push(d);
    }
    let data: Vec<Value> = buckets
        .iter()
        .map(|(start, ds)| {
            let ok = ds.iter().filter(|d| d.status == "success").count();
            let times: Vec<u64> = ds
                .iter()
                .flat_map(|d| d.attempts.iter().map(|a| a.1))
                .collect();
            json!({
                "timestamp": start.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
                "total_events": ds.iter().map(|d| d.event.as_str()).collect::<BTreeSet<_>>().len(),
                "total_deliveries": ds.len(),
                "successful_deliveries": ok,
                "failed_deliveries": ds.iter().filter(|d| is_failed(&d.status)).count(),
                "filtered_deliveries": ds.iter().filter(|d| d.status == "filtered").count(),
                "avg_response_time_ms": mean(&times),
                "success_rate": percent(ok, ds.len()),
            })
        })
        .collect();
    json!({"data": data, "interval": interval})
}

#[tokio::test]
async fn figures_are_computed_from_the_delivery_log() {
    let (_emu, api) = start_documented().await;
    let receiver = Receiver::start().await;
    receiver.default_reply("/flaky", Reply::status(503));
    receiver.default_reply("/missing", Reply::status(404));
    let app = api.app_with_events(&["a", "b", "c"]).await;
    let slug = app["app_slug"].as_str().unwrap().to_string();
    let ok_body = json!({"app_slug": slug, "url": receiver.url("/ok"), "subscriptions": [
        {"event_name": "a"}, {"event_name": "b", "filter_rules": {"keep": true}}
    ]});
    let (_, ok) = api
        .post(&format!("/webhooks/apps/{slug}/endpoints"), ok_body)
        .await;
    let flaky = api
        .endpoint(
            &app,
            &receiver.url("/flaky"),
            "a",
            json!({"max_retries": 2}),
        )
        .await;
    let missing_body = json!({"app_slug": slug, "url": receiver.url("/missing"), "subscriptions": [{"event_name": "b"}, {"event_name": "c"}]});
    let (_, missing) = api
        .post(&format!("/webhooks/apps/{slug}/endpoints"), missing_body)
        .await;
    let urls: BTreeMap<String, String> = [&ok, &flaky, &missing]
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_string(),
                e["url"].as_str().unwrap().to_string(),
            )
        })
        .collect();

    for _ in 0..3 {
        api.trigger(&app, "a", json!({"n": 1})).await;
    }
    for _ in 0..2 {
        api.trigger(&app, "b", json!({"keep": true})).await;
    }
    api.trigger(&app, "c", json!({})).await;
    // A test send whose filter does not match ends `filtered`.
    let ok_id = ok["id"].as_str().unwrap();
    api.post(
        &format!("/webhooks/apps/{slug}/endpoints/{ok_id}/test"),
        json!({"event_name": "b", "payload": {"keep": false}}),
    )
    .await;

    let seen = observe(&api, &app).await;
    assert_eq!(seen.len(), 12);
    let all: Vec<&Seen> = seen.iter().collect();
    let analytics = api.ok(&format!("/webhooks/apps/{slug}/analytics")).await;
    assert_eq!(analytics, expected_analytics(&all, &urls));
    assert_eq!(analytics["filtered_deliveries"], 1);
    assert_eq!(
        analytics["failure_reasons"],
        json!([
            {"reason": "Server Error (5xx)", "count": 6}, {"reason": "Client Error (4xx)", "count": 3}
        ])
    );

    let only_ok: Vec<&Seen> = seen.iter().filter(|d| d.endpoint == ok_id).collect();
    let filtered = api
        .ok(&format!(
            "/webhooks/apps/{slug}/analytics?endpoint_id={ok_id}"
        ))
        .await;
    assert_eq!(filtered, expected_analytics(&only_ok, &urls));
    let past = api
        .ok(&format!("/webhooks/apps/{slug}/analytics?start_date=2001-01-01T00:00:00Z&end_date=2001-02-01T00:00:00Z"))
        .await;
    assert_eq!(past, expected_analytics(&[], &urls));

    let stats = api.ok(&format!("/webhooks/apps/{slug}/stats")).await;
    let successes = seen.iter().filter(|d| d.status == "success").count();
    assert_eq!(
        stats,
        json!({
            "total_deliveries": seen.len(),
            "success_rate": percent(successes, seen.len()),
            "active_endpoints": 3,
            "failed_deliveries_24h": seen.iter().filter(|d| is_failed(&d.status)).count(),
        })
    );

    for interval in ["minute", "hour", "day", "week", "month"] {
        let series = api
            .ok(&format!(
                "/webhooks/apps/{slug}/timeseries?interval={interval}"
            ))
            .await;
        assert_eq!(series, expected_timeseries(&seen, interval), "{interval}");
    }
    assert_eq!(
        api.ok(&format!("/webhooks/apps/{slug}/timeseries")).await["interval"],
        "day"
    );
}

//! Load benchmark of the delivery engine (a bench binary that prints its figures).
//!
//! 1. Throughput: 10,000 triggers to 4 endpoints (40,000 deliveries) on a loopback axum receiver;
//!    every `webhook-id` must arrive; deliveries/s and trigger-to-receipt latency percentiles.
//! 2. The loopback limit in the same run: plain reqwest POSTs to a bare axum handler, as many in flight.
//! 3. Paced: 1,000 triggers/s for 5 s, trigger-to-receipt latency percentiles.
//!
//! Run: `cargo bench -p wacht-webhooks-emulator --bench load`; `LOAD_PARTS=throughput,paced` (any of
//! `throughput`, `baseline`, `paced`) runs only those parts; `LOAD_PACED_RATE` changes the paced rate.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::serve::ListenerExt;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use wacht_webhooks_emulator::Emulator;

use support::KEY;
const TRIGGERS: usize = 10_000;
const ENDPOINTS: usize = 4;
/// Trigger requests in flight during the throughput run.
const TRIGGER_CONCURRENCY: usize = 32;
/// POSTs in flight for the loopback baseline (the engine's own bound on attempts in flight).
const BASELINE_CONCURRENCY: usize = 256;
const PACED_RATE: u64 = 1_000;
const PACED_SECONDS: u64 = 5;
const DEADLINE: Duration = Duration::from_secs(180);

/// What the receiver saw: first receipt time per `webhook-id`, and the total number of requests.
#[derive(Default)]
struct Receipts {
    first: HashMap<String, Instant>,
    total: usize,
}

type Shared = Arc<Mutex<Receipts>>;

async fn start_receiver(record: bool) -> (String, Shared) {
    let receipts: Shared = Arc::default();
    let state = receipts.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap| {
        let state = state.clone();
        async move {
            let now = Instant::now();
            let mut receipts = state.lock().unwrap();
            receipts.total += 1;
            if record && let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
                receipts.first.entry(id.to_string()).or_insert(now);
            }
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, receipts)
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn post(&self, path: &str, body: Value) -> Value {
        support::post(&self.http, &self.base, path, body).await
    }
}

/// A catalog, an app and `ENDPOINTS` endpoints on the receiver; returns the app slug.
async fn setup(client: &Client, receiver: &str, name: &str) -> String {
    client
        .post(
            "/webhooks/event-catalogs",
            json!({"slug": name, "name": name, "events": [{"name": "load.event", "description": "load"}]}),
        )
        .await;
    let app = client
        .post(
            "/webhooks/apps",
            json!({"name": name, "app_slug": name, "event_catalog_slug": name}),
        )
        .await;
    let slug = app["app_slug"].as_str().unwrap().to_string();
    for i in 0..ENDPOINTS {
        client
            .post(
                &format!("/webhooks/apps/{slug}/endpoints"),
                json!({"app_slug": slug, "url": format!("{receiver}/e{i}"), "subscriptions": [{"event_name": "load.event"}]}),
            )
            .await;
    }
    slug
}

/// Sends one trigger; returns `(msg ids, time sent, round trip)`.
async fn trigger(client: &Client, slug: &str, n: usize) -> (Vec<String>, Instant, Duration) {
    let sent = Instant::now();
    let answer = client
        .post(
            &format!("/webhooks/apps/{slug}/trigger"),
            json!({"app_slug": slug, "event_name": "load.event", "payload": {"n": n, "kind": "bench"}}),
        )
        .await;
    let ids = answer["delivery_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| format!("msg_{}", id.as_str().unwrap()))
        .collect();
    (ids, sent, sent.elapsed())
}

/// Waits until as many distinct ids arrived as expected (or the deadline passed), then returns how
/// many expected ids are missing. Polling only reads a counter, so the wait costs the run nothing.
async fn wait_all(receipts: &Shared, expected: &HashMap<String, Instant>) -> usize {
    let started = Instant::now();
    while receipts.lock().unwrap().first.len() < expected.len() && started.elapsed() < DEADLINE {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let receipts = receipts.lock().unwrap();
    expected
        .keys()
        .filter(|id| !receipts.first.contains_key(*id))
        .count()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Latencies (ms) from trigger sent to first receipt, sorted.
fn latencies(receipts: &Shared, expected: &HashMap<String, Instant>) -> Vec<f64> {
    let receipts = receipts.lock().unwrap();
    let mut values: Vec<f64> = expected
        .iter()
        .filter_map(|(id, sent)| {
            receipts
                .first
                .get(id)
                .map(|at| at.duration_since(*sent).as_secs_f64() * 1000.0)
        })
        .collect();
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values
}

fn report_latency(label: &str, values: &[f64]) {
    println!(
        "{label}: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(values, 50.0),
        percentile(values, 95.0),
        percentile(values, 99.0),
        values.last().copied().unwrap_or_default()
    );
}

async fn throughput(client: Arc<Client>) -> f64 {
    let (receiver, receipts) = start_receiver(true).await;
    let slug = Arc::new(setup(&client, &receiver, "throughput").await);
    let limit = Arc::new(Semaphore::new(TRIGGER_CONCURRENCY));
    let mut tasks = JoinSet::new();
    let started = Instant::now();
    for n in 0..TRIGGERS {
        let permit = limit.clone().acquire_owned().await.unwrap();
        let (client, slug) = (client.clone(), slug.clone());
        tasks.spawn(async move {
            let result = trigger(&client, &slug, n).await;
            drop(permit);
            result
        });
    }
    let mut expected = HashMap::new();
    while let Some(result) = tasks.join_next().await {
        let (ids, sent, _) = result.unwrap();
        expected.extend(ids.into_iter().map(|id| (id, sent)));
    }
    let triggered_in = started.elapsed();
    let missing = wait_all(&receipts, &expected).await;
    let (last, total, unique) = {
        let r = receipts.lock().unwrap();
        (
            r.first.values().max().copied().unwrap_or(started),
            r.total,
            r.first.len(),
        )
    };
    let elapsed = last.duration_since(started).as_secs_f64();
    let rate = unique as f64 / elapsed;
    println!(
        "== throughput: {TRIGGERS} triggers x {ENDPOINTS} endpoints, {TRIGGER_CONCURRENCY} triggers in flight"
    );
    println!(
        "deliveries expected {}, unique webhook-ids received {unique}, requests received {total}, lost {missing}",
        expected.len()
    );
    println!(
        "triggers accepted in {:.2} s ({:.0} triggers/s)",
        triggered_in.as_secs_f64(),
        TRIGGERS as f64 / triggered_in.as_secs_f64()
    );
    println!("all deliveries received in {elapsed:.2} s: {rate:.0} deliveries/s");
    report_latency(
        "trigger-to-receipt latency",
        &latencies(&receipts, &expected),
    );
    rate
}

async fn baseline() -> f64 {
    let (receiver, receipts) = start_receiver(false).await;
    let http = {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder().no_proxy().build().unwrap()
    };
    let total = TRIGGERS * ENDPOINTS;
    let limit = Arc::new(Semaphore::new(BASELINE_CONCURRENCY));
    let body = bytes::Bytes::from_static(
        br#"{"type":"load.event","timestamp":"2026-01-01T00:00:00.000Z","data":{"n":1}}"#,
    );
    let mut tasks = JoinSet::new();
    let started = Instant::now();
    for i in 0..total {
        let permit = limit.clone().acquire_owned().await.unwrap();
        let (http, url, body) = (
            http.clone(),
            format!("{receiver}/e{}", i % ENDPOINTS),
            body.clone(),
        );
        tasks.spawn(async move {
            let response = http
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            drop(permit);
            response.map(|r| r.status().is_success()).unwrap_or(false)
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = started.elapsed().as_secs_f64();
    let received = receipts.lock().unwrap().total;
    let rate = received as f64 / elapsed;
    println!(
        "== loopback limit: {total} plain reqwest POSTs to a bare axum handler, {BASELINE_CONCURRENCY} in flight"
    );
    println!("received {received} in {elapsed:.2} s: {rate:.0} requests/s");
    rate
}

async fn paced(client: Arc<Client>) {
    let (receiver, receipts) = start_receiver(true).await;
    let slug = Arc::new(setup(&client, &receiver, "paced").await);
    let rate = std::env::var("LOAD_PACED_RATE")
        .ok()
        .and_then(|r| r.parse::<u64>().ok())
        .filter(|r| *r > 0)
        .unwrap_or(PACED_RATE);
    let count = (rate * PACED_SECONDS) as usize;
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = JoinSet::new();
    let mut expected = HashMap::new();
    let mut round_trips = Vec::with_capacity(count);
    for n in 0..count {
        ticker.tick().await;
        let (client, slug) = (client.clone(), slug.clone());
        tasks.spawn(async move { trigger(&client, &slug, n).await });
        while let Some(result) = tasks.try_join_next() {
            let (ids, sent, round_trip) = result.unwrap();
            expected.extend(ids.into_iter().map(|id| (id, sent)));
            round_trips.push(round_trip.as_secs_f64() * 1000.0);
        }
    }
    while let Some(result) = tasks.join_next().await {
        let (ids, sent, round_trip) = result.unwrap();
        expected.extend(ids.into_iter().map(|id| (id, sent)));
        round_trips.push(round_trip.as_secs_f64() * 1000.0);
    }
    round_trips.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let missing = wait_all(&receipts, &expected).await;
    println!(
        "== paced: {rate} triggers/s for {PACED_SECONDS} s ({count} triggers, {} deliveries), lost {missing}",
        expected.len()
    );
    report_latency(
        "trigger-to-receipt latency",
        &latencies(&receipts, &expected),
    );
    report_latency("trigger request round trip", &round_trips);
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let emu = Emulator::builder()
            .api_key(KEY)
            .retry_schedule(vec![Duration::from_millis(50)])
            .deliver_to_loopback_only(true)
            .start()
            .await
            .unwrap();
        let http = {
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder().no_proxy().build().unwrap()
        };
        let client = Arc::new(Client {
            http,
            base: emu.base_url(),
        });
        println!(
            "machine: {} cores",
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(0)
        );
        let parts =
            std::env::var("LOAD_PARTS").unwrap_or_else(|_| "throughput,baseline,paced".into());
        let wanted = |part: &str| parts.split(',').any(|p| p.trim() == part);
        let rate = if wanted("throughput") {
            Some(throughput(client.clone()).await)
        } else {
            None
        };
        let limit = if wanted("baseline") {
            Some(baseline().await)
        } else {
            None
        };
        if let (Some(rate), Some(limit)) = (rate, limit) {
            println!(
                "== ratio: emulator deliveries/s / loopback requests/s = {:.2}",
                rate / limit
            );
        }
        if wanted("paced") {
            paced(client).await;
        }
        emu.shutdown().await;
    });
}

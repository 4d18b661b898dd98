//! Fair delivery (a bench binary that prints its figures): the trigger-to-receipt latency of a
//! healthy app's deliveries while another app's endpoint hangs, against the same run without the
//! hanging endpoint. Target: p99 within 2x.
//!
//! Each run starts a fresh emulator. In the hanging run another app first queues 300 deliveries
//! to an endpoint that accepts connections and never answers (`timeout_seconds` 300), more than
//! the engine's global limit of attempts in flight; then both runs send the same paced triggers to
//! the healthy app.
//!
//! Run: `cargo bench -p wacht-webhooks-emulator --bench fairness`.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use serde_json::{Value, json};
use tokio::task::JoinSet;
use wacht_webhooks_emulator::Emulator;

use support::KEY;
const HEALTHY_TRIGGERS: usize = 1_000;
const HEALTHY_RATE: u64 = 200;
const HANGING_TRIGGERS: usize = 300;
const DEADLINE: Duration = Duration::from_secs(120);

type Receipts = Arc<Mutex<HashMap<String, Instant>>>;

async fn start_receiver() -> (String, Receipts) {
    let receipts: Receipts = Arc::default();
    let state = receipts.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap| {
        let state = state.clone();
        async move {
            let now = Instant::now();
            if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
                state.lock().unwrap().entry(id.to_string()).or_insert(now);
            }
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, receipts)
}

/// Accepts connections and never answers; returns its URL.
async fn start_hanging() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hang", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    url
}

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn post(&self, path: &str, body: Value) -> Value {
        support::post(&self.http, &self.base, path, body).await
    }

    /// An app with one endpoint at `url` for `bench.event`; returns its slug.
    async fn app(&self, name: &str, url: &str, timeout_seconds: u64) -> String {
        self.post(
            "/webhooks/event-catalogs",
            json!({"slug": name, "name": name, "events": [{"name": "bench.event", "description": "bench"}]}),
        )
        .await;
        let app = self
            .post(
                "/webhooks/apps",
                json!({"name": name, "event_catalog_slug": name}),
            )
            .await;
        let slug = app["app_slug"].as_str().unwrap().to_string();
        self.post(
            &format!("/webhooks/apps/{slug}/endpoints"),
            json!({"app_slug": slug, "url": url, "subscriptions": [{"event_name": "bench.event"}], "timeout_seconds": timeout_seconds}),
        )
        .await;
        slug
    }

    async fn trigger(&self, slug: &str) -> Vec<String> {
        let answer = self
            .post(
                &format!("/webhooks/apps/{slug}/trigger"),
                json!({"app_slug": slug, "event_name": "bench.event", "payload": {"kind": "bench"}}),
            )
            .await;
        answer["delivery_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| format!("msg_{}", id.as_str().unwrap()))
            .collect()
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// One run; returns the healthy app's sorted latencies (ms) and how many were lost.
async fn run(with_hanging: bool) -> (Vec<f64>, usize) {
    let emu = Emulator::builder()
        .api_key(KEY)
        .deliver_to_loopback_only(true)
        .shutdown_timeout(Duration::from_millis(500))
        .start()
        .await
        .unwrap();
    let api = Api {
        http: {
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder().no_proxy().build().unwrap()
        },
        base: emu.base_url(),
    };
    if with_hanging {
        let hanging = start_hanging().await;
        let slug = api.app("stuck", &hanging, 300).await;
        for _ in 0..HANGING_TRIGGERS {
            api.trigger(&slug).await;
        }
        // Let the engine take up its attempts to the hanging endpoint.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (receiver, receipts) = start_receiver().await;
    let slug = Arc::new(api.app("healthy", &format!("{receiver}/ok"), 30).await);
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / HEALTHY_RATE));
    let mut tasks = JoinSet::new();
    for _ in 0..HEALTHY_TRIGGERS {
        ticker.tick().await;
        let (api, slug) = (api.clone(), slug.clone());
        tasks.spawn(async move {
            let sent = Instant::now();
            (api.trigger(&slug).await, sent)
        });
    }
    let mut expected = HashMap::new();
    while let Some(result) = tasks.join_next().await {
        let (ids, sent) = result.unwrap();
        expected.extend(ids.into_iter().map(|id| (id, sent)));
    }
    let started = Instant::now();
    while receipts.lock().unwrap().len() < expected.len() && started.elapsed() < DEADLINE {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let got = receipts.lock().unwrap().clone();
    let mut latencies: Vec<f64> = expected
        .iter()
        .filter_map(|(id, sent)| {
            got.get(id)
                .map(|at| at.duration_since(*sent).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let lost = expected.len() - latencies.len();
    emu.shutdown().await;
    (latencies, lost)
}

fn report(label: &str, values: &[f64], lost: usize) {
    println!(
        "{label}: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms, lost {lost}",
        percentile(values, 50.0),
        percentile(values, 95.0),
        percentile(values, 99.0),
        values.last().copied().unwrap_or_default()
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!(
            "== fairness: {HEALTHY_TRIGGERS} healthy deliveries at {HEALTHY_RATE}/s; hanging run: {HANGING_TRIGGERS} deliveries to an endpoint that never answers"
        );
        let (alone, lost_alone) = run(false).await;
        report("healthy app alone", &alone, lost_alone);
        let (beside, lost_beside) = run(true).await;
        report("healthy app beside a hanging endpoint", &beside, lost_beside);
        println!(
            "== ratio: p99 beside hanging / p99 alone = {:.2}",
            percentile(&beside, 99.0) / percentile(&alone, 99.0)
        );
    });
}

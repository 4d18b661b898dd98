//! Memory of the emulator over a long run (a bench binary that prints its figures).
//!
//! Deliveries to a loopback receiver that answers every request with a 64 KiB body; the
//! process's resident set (`VmRSS` of `/proc/self/status`, receiver and load generator included)
//! after 10k, 50k and 100k deliveries. With the default retention (10,000 settled deliveries,
//! 4 KiB of each response body) it stays flat once the limit is reached.
//!
//! Run: `cargo bench -p wacht-webhooks-emulator --bench memory`; `MEMORY_RETENTION=all` keeps
//! every delivery and whole response bodies (up to 64 KiB), for comparison;
//! `MEMORY_MILESTONES=10000,20000` measures after other counts.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use wacht_webhooks_emulator::Emulator;

use support::{KEY, post};
const MILESTONES: [usize; 3] = [10_000, 50_000, 100_000];
/// Endpoints per trigger: each trigger makes this many deliveries.
const ENDPOINTS: usize = 4;
const TRIGGER_CONCURRENCY: usize = 32;
const RESPONSE_BYTES: usize = 64 * 1024;
const DEADLINE: Duration = Duration::from_secs(600);

/// The resident set of this process in KiB, from `/proc/self/status`.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn start_receiver(received: Arc<AtomicUsize>) -> String {
    let body = bytes::Bytes::from(vec![b'r'; RESPONSE_BYTES]);
    let app = axum::Router::new().fallback(move || {
        let (received, body) = (received.clone(), body.clone());
        async move {
            received.fetch_add(1, Ordering::Relaxed);
            body
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn setup(http: &reqwest::Client, base: &str, receiver: &str) -> String {
    post(
        http,
        base,
        "/webhooks/event-catalogs",
        json!({"slug": "mem", "name": "mem", "events": [{"name": "mem.event", "description": "memory"}]}),
    )
    .await;
    let app = post(
        http,
        base,
        "/webhooks/apps",
        json!({"name": "mem", "event_catalog_slug": "mem"}),
    )
    .await;
    let slug = app["app_slug"].as_str().unwrap().to_string();
    for i in 0..ENDPOINTS {
        post(
            http,
            base,
            &format!("/webhooks/apps/{slug}/endpoints"),
            json!({"app_slug": slug, "url": format!("{receiver}/e{i}"), "subscriptions": [{"event_name": "mem.event"}]}),
        )
        .await;
    }
    slug
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let keep_all = std::env::var("MEMORY_RETENTION").is_ok_and(|v| v == "all");
        let mut builder = Emulator::builder()
            .api_key(KEY)
            .deliver_to_loopback_only(true);
        if keep_all {
            builder = builder
                .max_retained_deliveries(None)
                .max_stored_response_body(RESPONSE_BYTES);
        }
        let emu = builder.start().await.unwrap();
        let base = emu.base_url();
        let http = {
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder().no_proxy().build().unwrap()
        };
        let received = Arc::new(AtomicUsize::new(0));
        let receiver = start_receiver(received.clone()).await;
        let slug = Arc::new(setup(&http, &base, &receiver).await);
        println!(
            "== memory: {ENDPOINTS} endpoints, 64 KiB responses, retention {}",
            if keep_all { "all (no limit, whole bodies)" } else { "default (10,000 settled, 4 KiB bodies)" }
        );
        println!("RSS at start: {} KiB", rss_kib().unwrap_or(0));
        let started = Instant::now();
        let limit = Arc::new(Semaphore::new(TRIGGER_CONCURRENCY));
        let mut triggered = 0;
        let milestones: Vec<usize> = std::env::var("MEMORY_MILESTONES")
            .ok()
            .map(|m| m.split(',').filter_map(|n| n.trim().parse().ok()).collect())
            .unwrap_or_else(|| MILESTONES.to_vec());
        for milestone in milestones {
            let mut tasks = JoinSet::new();
            while triggered * ENDPOINTS < milestone {
                let permit = limit.clone().acquire_owned().await.unwrap();
                let (http, base, slug) = (http.clone(), base.clone(), slug.clone());
                tasks.spawn(async move {
                    post(
                        &http,
                        &base,
                        &format!("/webhooks/apps/{slug}/trigger"),
                        json!({"app_slug": *slug, "event_name": "mem.event", "payload": {"n": triggered}}),
                    )
                    .await;
                    drop(permit);
                });
                triggered += 1;
                while tasks.try_join_next().is_some() {}
            }
            while tasks.join_next().await.is_some() {}
            while received.load(Ordering::Relaxed) < milestone && started.elapsed() < DEADLINE {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            // The last attempts are recorded just after their responses were read.
            tokio::time::sleep(Duration::from_millis(500)).await;
            println!(
                "after {milestone} deliveries ({} received, {:.1} s): RSS {} KiB",
                received.load(Ordering::Relaxed),
                started.elapsed().as_secs_f64(),
                rss_kib().unwrap_or(0)
            );
        }
        emu.shutdown().await;
    });
}

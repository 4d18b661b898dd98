//! Per-call overhead of the client (build the request, send it through the retrying transport and
//! its tracing span, parse the answer, map errors) against a plain `reqwest` + `serde_json` call of
//! the same route, on an in-process axum server on 127.0.0.1, in the same run and the same runtime.
//!
//! Both sides use one pooled keep-alive connection, the same headers (`Authorization`, `User-Agent`,
//! `Accept`, `api-version`), the same per-request timeout, and decode into the same
//! `wacht_webhooks::WebhookApp` (or, for the 404 pair, read the error envelope).
//!
//! `cargo bench --bench client_overhead`; criterion's medians are in
//! `target/criterion/client_overhead/*/new/estimates.json`. After criterion, a paired run alternates
//! batches of both calls and prints the median per-round ratio, which load elsewhere on the machine
//! does not skew.

// `criterion_group!` declares a public function without documentation.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::routing::get;
use criterion::{Criterion, criterion_group};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use serde::Deserialize;
use wacht_webhooks::{Client, ErrorKind, WebhookApp};

const KEY: &str = "wk_bench_0123456789abcdef";
const USER_AGENT: &str = concat!("wacht-webhooks-rust/", env!("CARGO_PKG_VERSION"));
const TIMEOUT: Duration = Duration::from_secs(30);
const SLUG: &str = "billing_events";

/// The spec's example `WebhookApp`, as the server sends it.
fn app_json() -> Bytes {
    let spec: serde_json::Value =
        serde_json::from_str(include_str!("../spec/webhooks.json")).expect("the spec is JSON");
    let example = &spec["components"]["schemas"]["WebhookApp"]["example"];
    assert!(example.is_object(), "the spec has a WebhookApp example");
    Bytes::from(serde_json::to_vec(example).unwrap())
}

/// Serves `GET /webhooks/apps/{slug}`: the app for `billing_events`, a 404 envelope otherwise.
async fn serve() -> String {
    let app = app_json();
    let not_found =
        Bytes::from_static(br#"{"errors":[{"message":"Webhook app not found","code":404}]}"#);
    let router = Router::new().route(
        "/webhooks/apps/{slug}",
        get(
            move |axum::extract::Path(slug): axum::extract::Path<String>| {
                let (app, not_found) = (app.clone(), not_found.clone());
                async move {
                    let (status, body) = if slug == SLUG {
                        (StatusCode::OK, app)
                    } else {
                        (StatusCode::NOT_FOUND, not_found)
                    };
                    (status, [(header::CONTENT_TYPE, "application/json")], body)
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

/// The plain client: reqwest configured like the wacht client (same headers, same timeouts).
fn plain_client() -> reqwest::Client {
    let mut auth = HeaderValue::from_str(&format!("Bearer {KEY}")).unwrap();
    auth.set_sensitive(true);
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, auth);
    reqwest::Client::builder()
        .default_headers(headers)
        .user_agent(USER_AGENT)
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct ErrorDetail {
    message: String,
    code: i32,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    errors: Vec<ErrorDetail>,
}

/// What a hand-written call of the route does: build the URL, send, read, decode or report.
async fn plain_get_app(
    http: &reqwest::Client,
    base: &str,
    slug: &str,
) -> Result<WebhookApp, (u16, Vec<String>)> {
    let response = http
        .get(format!("{base}/webhooks/apps/{slug}"))
        .header(ACCEPT, "application/json")
        .header("api-version", "1.0.0")
        .send()
        .await
        .map_err(|_| (0, Vec::new()))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|_| (0, Vec::new()))?;
    if status.is_success() {
        serde_json::from_slice(&body).map_err(|_| (status.as_u16(), Vec::new()))
    } else {
        let messages = serde_json::from_slice::<ErrorBody>(&body)
            .map(|e| e.errors.into_iter().map(|d| d.message).collect())
            .unwrap_or_default();
        Err((status.as_u16(), messages))
    }
}

fn client_overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let base = runtime.block_on(serve());
    let webhooks = Client::builder()
        .api_key(KEY)
        .base_url(&base)
        .timeout(TIMEOUT)
        .build()
        .unwrap()
        .webhooks();
    let plain = plain_client();

    // Both sides must work, and agree, before they are timed.
    runtime.block_on(async {
        let ours = webhooks.get_webhook_app(SLUG).await.unwrap();
        let theirs = plain_get_app(&plain, &base, SLUG).await.unwrap();
        assert_eq!(ours, theirs);
        let err = webhooks.get_webhook_app("missing").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let (status, messages) = plain_get_app(&plain, &base, "missing").await.unwrap_err();
        assert_eq!(
            (Some(status), messages.as_slice()),
            (err.status(), err.messages())
        );
    });

    let mut group = c.benchmark_group("client_overhead");
    group
        .warm_up_time(Duration::from_secs(3))
        .measurement_time(Duration::from_secs(10))
        .sample_size(100);
    group.bench_function("get_webhook_app/plain_reqwest", |b| {
        b.to_async(&runtime).iter(|| async {
            black_box(plain_get_app(&plain, &base, black_box(SLUG)).await.unwrap())
        })
    });
    group.bench_function("get_webhook_app/client", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(webhooks.get_webhook_app(black_box(SLUG)).await.unwrap()) })
    });
    group.bench_function("get_webhook_app_404/plain_reqwest", |b| {
        b.to_async(&runtime).iter(|| async {
            black_box(
                plain_get_app(&plain, &base, black_box("missing"))
                    .await
                    .unwrap_err(),
            )
        })
    });
    group.bench_function("get_webhook_app_404/client", |b| {
        b.to_async(&runtime).iter(|| async {
            black_box(
                webhooks
                    .get_webhook_app(black_box("missing"))
                    .await
                    .unwrap_err(),
            )
        })
    });
    group.finish();
}

/// Calls per timed batch and batches per side of the paired measurement.
const BATCH: u32 = 200;
const ROUNDS: usize = 40;

/// A paired measurement that load on a shared machine cannot skew: batches of plain and client
/// calls alternate (the order flips every round), and the ratio is taken per round, so that a slow
/// stretch of the machine slows both sides of a round alike. Prints the medians and the median ratio.
fn paired() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let base = runtime.block_on(serve());
    let webhooks = Client::builder()
        .api_key(KEY)
        .base_url(&base)
        .timeout(TIMEOUT)
        .build()
        .unwrap()
        .webhooks();
    let plain = plain_client();
    let (mut plain_times, mut client_times, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    runtime.block_on(async {
        let plain_batch = || async {
            let start = Instant::now();
            for _ in 0..BATCH {
                black_box(plain_get_app(&plain, &base, black_box(SLUG)).await.unwrap());
            }
            start.elapsed() / BATCH
        };
        let client_batch = || async {
            let start = Instant::now();
            for _ in 0..BATCH {
                black_box(webhooks.get_webhook_app(black_box(SLUG)).await.unwrap());
            }
            start.elapsed() / BATCH
        };
        // Warm both connections and code paths.
        plain_batch().await;
        client_batch().await;
        for round in 0..ROUNDS {
            let (p, c) = if round % 2 == 0 {
                let p = plain_batch().await;
                (p, client_batch().await)
            } else {
                let c = client_batch().await;
                (plain_batch().await, c)
            };
            plain_times.push(p);
            client_times.push(c);
            ratios.push(c.as_secs_f64() / p.as_secs_f64());
        }
    });
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let micros = |times: &[Duration]| times.iter().map(|t| t.as_secs_f64() * 1e6).collect();
    let (plain_median, client_median) = (
        median(&mut micros(&plain_times)),
        median(&mut micros(&client_times)),
    );
    println!(
        "paired get_webhook_app ({ROUNDS} rounds of {BATCH} calls per side): plain median {plain_median:.2} µs, client median {client_median:.2} µs, median per-round ratio client/plain {:.4}",
        median(&mut ratios)
    );
}

criterion_group!(benches, client_overhead);

fn main() {
    benches();
    // Not in `cargo test --benches` (criterion's quick test mode) or a listing.
    let quick = std::env::args().any(|arg| arg == "--test" || arg == "--list");
    if !quick {
        paired();
    }
    Criterion::default().configure_from_args().final_summary();
}

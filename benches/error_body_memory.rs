//! The client's peak memory on an error answer with a 100 MB body, against the same call answered
//! by a tiny error envelope.
//!
//! `cargo bench --bench error_body_memory` serves, from an in-process axum server on 127.0.0.1, a
//! `500` whose body is 100 MB of text, produced in 64 KiB chunks as it is sent (the server never
//! holds the body), and a `500` with the API's own small envelope. For each, one
//! `get_webhook_app` call is made and the most heap bytes live at once during the call are taken
//! from a counting global allocator, against the bytes live just before it.
//!
//! Method:
//!
//! - The server runs on a runtime of its own whose threads are marked, and the allocator counts
//!   only on the other threads: the figures are the client's (its runtime and the calling
//!   thread), not the server's. Nothing is shared between the two but the loopback socket.
//! - A first tiny call opens the connection, so that neither measured call pays for it in
//!   heap; the tiny call is measured three times and the largest peak kept.
//! - The figure of interest is the huge call's peak minus the tiny call's peak (target: under
//!   10 MB). The summary also says how much of the body the server got out before the client
//!   hung up, and how long the call took.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use futures_util::stream;
use wacht_webhooks::{Client, ErrorKind};

/// The body of the huge answer.
const HUGE_BODY: usize = 100 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;
/// The API's own 500 body.
const TINY_BODY: &str = r#"{"errors":[{"message":"Something went wrong","code":500}]}"#;
const TARGET: isize = 10 * 1024 * 1024;

// ----- counting allocator -----------------------------------------------------------------------

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

#[global_allocator]
static ALLOCATOR: counting_alloc::Counting = counting_alloc::Counting;

// ----- the server -----------------------------------------------------------------------------

/// Answers `/…/huge` with a 500 of [`HUGE_BODY`] bytes generated chunk by chunk, anything else
/// with the API's small 500; counts the bytes of the huge body handed to the connection.
fn router(sent: Arc<AtomicUsize>) -> Router {
    Router::new().fallback(move |uri: Uri| {
        let sent = sent.clone();
        async move {
            let body = if uri.path().ends_with("/huge") {
                let chunks = stream::unfold(0usize, move |done| {
                    let sent = sent.clone();
                    async move {
                        if done >= HUGE_BODY {
                            return None;
                        }
                        let len = CHUNK.min(HUGE_BODY - done);
                        sent.fetch_add(len, Ordering::Relaxed);
                        let chunk = Bytes::from(vec![b'x'; len]);
                        Some((Ok::<_, Infallible>(chunk), done + len))
                    }
                });
                Body::from_stream(chunks)
            } else {
                Body::from(TINY_BODY)
            };
            Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .header("content-type", "application/json")
                .body(body)
                .unwrap()
        }
    })
}

/// Starts the server on a runtime of its own, on marked threads; returns its base URL.
fn start_server(sent: Arc<AtomicUsize>) -> (tokio::runtime::Runtime, String) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .on_thread_start(counting_alloc::exclude_this_thread)
        .enable_all()
        .build()
        .expect("server runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind 127.0.0.1");
    let url = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(async move { axum::serve(listener, router(sent)).await.unwrap() });
    (runtime, url)
}

// ----- measuring ------------------------------------------------------------------------------

/// The call's peak heap above the bytes live just before it, and how long it took.
async fn peak_of_call(client: &Client, slug: &str) -> (isize, Duration) {
    let before = counting_alloc::reset_peak();
    let started = Instant::now();
    let err = client
        .webhooks()
        .get_webhook_app(slug)
        .await
        .expect_err("the server answers 500");
    let elapsed = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    drop(err);
    (counting_alloc::peak() - before, elapsed)
}

fn kib(bytes: isize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

fn main() {
    // `cargo bench` passes `--bench`; there is nothing to filter.
    counting_alloc::start();
    let sent = Arc::new(AtomicUsize::new(0));
    let (server, url) = start_server(sent.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("client runtime");
    runtime.block_on(async {
        let client = Client::builder()
            .api_key("bench_key")
            .base_url(&url)
            .max_retries(0)
            .build()
            .expect("client");
        peak_of_call(&client, "warm-up").await;
        let mut tiny = (0, Duration::ZERO);
        for _ in 0..3 {
            let run = peak_of_call(&client, "tiny").await;
            tiny = (tiny.0.max(run.0), tiny.1.max(run.1));
        }
        let huge = peak_of_call(&client, "huge").await;
        let extra = huge.0 - tiny.0;
        println!("client peak heap during one get_webhook_app call answered 500 (client threads only, above the bytes live before the call):");
        println!(
            "  {}-byte error envelope:  {:>12}  ({:.1} ms, largest of 3)",
            TINY_BODY.len(),
            kib(tiny.0),
            tiny.1.as_secs_f64() * 1e3
        );
        println!(
            "  {} MiB text body:        {:>12}  ({:.1} ms; the server got {} KiB out before the client hung up)",
            HUGE_BODY / (1024 * 1024),
            kib(huge.0),
            huge.1.as_secs_f64() * 1e3,
            sent.load(Ordering::Relaxed) / 1024
        );
        println!(
            "  above baseline:          {:>12}  (target: under {} MiB: {})",
            kib(extra),
            TARGET / (1024 * 1024),
            if extra < TARGET { "met" } else { "NOT met" }
        );
    });
    drop(runtime);
    server.shutdown_timeout(Duration::from_secs(1));
}

//! Verifying one delivery, same inputs, same run: wacht-webhooks, svix, standardwebhooks, and a bare
//! HMAC-SHA256 over the signed content (the floor any verifier pays).
//!
//! `cargo bench` from `benches/verify-compare`. `wacht_verify_signature` is the like-for-like comparison
//! (svix and standardwebhooks do not parse the body either); `wacht_verify_as_typed` and `wacht_verify_json`
//! add the JSON parsing that `verify_as` and `verify` do.

use std::hint::black_box;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderValue};
use sha2::Sha256;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const KEY_BASE64: &str = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";

/// A Wacht envelope of exactly `size` bytes whose `data` is a list of order lines, like a real event.
fn envelope(size: usize) -> Vec<u8> {
    let head =
        r#"{"type":"order.updated","timestamp":"2024-05-01T12:00:00.000Z","data":{"lines":["#;
    let mut body = String::from(head);
    let mut n = 0;
    loop {
        let line = format!(
            r#"{{"sku":"SKU-{n:06}","qty":{},"price_cents":{},"note":"gift wrap, leave at door"}},"#,
            n % 7 + 1,
            1299 + n * 37
        );
        if body.len() + line.len() + 40 > size {
            break;
        }
        body.push_str(&line);
        n += 1;
    }
    body.pop();
    body.push_str(r#"],"pad":""#);
    let pad = size - body.len() - 3;
    body.push_str(&"x".repeat(pad));
    body.push_str(r#""}}"#);
    assert_eq!(body.len(), size);
    body.into_bytes()
}

/// The `data` of [`envelope`], as a receiver would declare it.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Order {
    lines: Vec<Line>,
    pad: String,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Line {
    sku: String,
    qty: u32,
    price_cents: u64,
    note: String,
}

/// Headers of a delivery signed now (every verifier here checks the system clock).
fn signed_headers(body: &[u8]) -> (HeaderMap, String) {
    let now = chrono::Utc::now().timestamp();
    let signature = wacht_webhooks::Webhook::new(SECRET)
        .unwrap()
        .sign(MSG_ID, now, body);
    let mut headers = HeaderMap::new();
    headers.insert("webhook-id", HeaderValue::from_static(MSG_ID));
    headers.insert("webhook-timestamp", HeaderValue::from(now));
    headers.insert(
        "webhook-signature",
        HeaderValue::from_str(&signature).unwrap(),
    );
    (headers, now.to_string())
}

fn bare_hmac(key: &[u8], timestamp: &str, body: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(MSG_ID.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

fn compare(c: &mut Criterion) {
    let ours = wacht_webhooks::Webhook::new(SECRET).unwrap();
    let svix = svix::webhooks::Webhook::new(SECRET).unwrap();
    let standard = standardwebhooks::Webhook::new(SECRET).unwrap();
    let key = STANDARD.decode(KEY_BASE64).unwrap();

    for size in [1024, 64 * 1024] {
        let body = envelope(size);
        let mut group = c.benchmark_group("verify");
        group.throughput(Throughput::Bytes(size as u64));
        let label = if size == 1024 { "1KiB" } else { "64KiB" };

        // Each benchmark signs afresh, so that the timestamp stays within every library's tolerance.
        group.bench_with_input(
            BenchmarkId::new("bare_hmac_sha256", label),
            &body,
            |b, body| {
                let (_, ts) = signed_headers(body);
                b.iter(|| bare_hmac(black_box(&key), black_box(&ts), black_box(body)))
            },
        );
        group.bench_with_input(
            BenchmarkId::new("wacht_verify_signature", label),
            &body,
            |b, body| {
                let (headers, _) = signed_headers(body);
                b.iter(|| {
                    ours.verify_signature(black_box(&headers), black_box(body))
                        .unwrap()
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("wacht_verify_json", label),
            &body,
            |b, body| {
                let (headers, _) = signed_headers(body);
                b.iter(|| ours.verify(black_box(&headers), black_box(body)).unwrap())
            },
        );
        group.bench_with_input(
            BenchmarkId::new("wacht_verify_as_typed", label),
            &body,
            |b, body| {
                let (headers, _) = signed_headers(body);
                b.iter(|| {
                    ours.verify_as::<Order>(black_box(&headers), black_box(body))
                        .unwrap()
                })
            },
        );
        group.bench_with_input(BenchmarkId::new("svix", label), &body, |b, body| {
            let (headers, _) = signed_headers(body);
            b.iter(|| svix.verify(black_box(body), black_box(&headers)).unwrap())
        });
        group.bench_with_input(
            BenchmarkId::new("standardwebhooks", label),
            &body,
            |b, body| {
                let (headers, _) = signed_headers(body);
                b.iter(|| {
                    standard
                        .verify(black_box(body), black_box(&headers))
                        .unwrap()
                })
            },
        );
        group.finish();
    }
}

criterion_group!(benches, compare);
criterion_main!(benches);

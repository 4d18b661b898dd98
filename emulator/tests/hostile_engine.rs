//! The delivery engine and the delivery log under hostile receivers and long runs: a hanging
//! endpoint does not hold up other apps, shutdown (library and binary) has a deadline, the log's
//! memory is bounded by its retention, and `timeout_seconds` stays in a safe range.
//!
//! Loopback only; nothing here sleeps for real beyond the bounds it asserts.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use wacht_webhooks_emulator::{Behaviour, TRUNCATION_MARK};

/// The endpoint timeout of hanging attempts: far longer than any test runs.
const HANGING_TIMEOUT_SECONDS: u64 = 300;

/// A receiver that accepts connections and never answers; counts the connections it holds.
struct Hanging {
    url: String,
    connections: Arc<AtomicUsize>,
}

impl Hanging {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hang", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                held.push(socket);
            }
        });
        Self { url, connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` attempts hang on it.
    async fn wait_for(&self, n: usize) {
        eventually(&format!("{n} hanging connections"), || async {
            (self.connections() >= n).then_some(())
        })
        .await;
    }
}

/// An app with one endpoint at `url` for `order.created`, with `extra` endpoint fields.
async fn app_to(api: &Api, url: &str, extra: Value) -> Value {
    let app = api.app_with_events(&["order.created"]).await;
    api.endpoint(&app, url, "order.created", extra).await;
    app
}

fn slug(app: &Value) -> &str {
    app["app_slug"].as_str().unwrap()
}

// --- D2: timeout_seconds ---------------------------------------------------------------------

#[tokio::test]
async fn timeout_seconds_outside_one_to_three_hundred_is_rejected_on_create_and_update() {
    for behaviour in [Behaviour::Production, Behaviour::Documented] {
        let (_emu, api) = start_in(behaviour).await;
        let app = api.app_with_events(&["order.created"]).await;
        let path = format!("/webhooks/apps/{}/endpoints", slug(&app));
        let body = |timeout: Value| {
            json!({
                "app_slug": slug(&app),
                "url": "http://127.0.0.1:9/x",
                "subscriptions": [{"event_name": "order.created"}],
                "timeout_seconds": timeout,
            })
        };
        let message = Some("timeout_seconds must be between 1 and 300");
        for bad in [
            json!(0),
            json!(-5),
            json!(301),
            json!(9_223_372_036_854_775_807i64),
        ] {
            assert_error(&api.post(&path, body(bad)).await, 400, message);
        }
        let (status, endpoint) = api.post(&path, body(json!(300))).await;
        assert_eq!(status, 200, "{endpoint}");
        assert_eq!(endpoint["timeout_seconds"], 300);
        let one = format!("{path}/{}", endpoint["id"].as_str().unwrap());
        for bad in [json!(0), json!(-5), json!(9_223_372_036_854_775_807i64)] {
            let result = api.patch(&one, json!({"timeout_seconds": bad})).await;
            assert_error(&result, 400, message);
        }
        let (status, updated) = api.patch(&one, json!({"timeout_seconds": 1})).await;
        assert_eq!((status, &updated["timeout_seconds"]), (200, &json!(1)));
    }
}

// --- D2: fairness ----------------------------------------------------------------------------

#[tokio::test]
async fn a_hanging_endpoint_does_not_hold_up_another_apps_deliveries() {
    let (emu, api) = start_with(builder().shutdown_timeout(Duration::from_millis(200))).await;
    let hanging = Hanging::start().await;
    let healthy = Receiver::start().await;
    let stuck = app_to(
        &api,
        &hanging.url,
        json!({"timeout_seconds": HANGING_TIMEOUT_SECONDS}),
    )
    .await;
    let fine = app_to(&api, &healthy.url("/ok"), json!({})).await;
    // More hanging attempts than the whole engine may have in flight.
    for i in 0..300 {
        api.trigger(&stuck, "order.created", json!({"i": i})).await;
    }
    hanging.wait_for(1).await;

    let started = Instant::now();
    let mut ids = Vec::new();
    for i in 0..20 {
        let created = api.trigger(&fine, "order.created", json!({"i": i})).await;
        ids.push(created["delivery_ids"][0].as_str().unwrap().to_string());
    }
    let bound = Duration::from_secs(5);
    let all_received = tokio::time::timeout(bound, async {
        while healthy.received("/ok").len() < ids.len() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        all_received.is_ok(),
        "the healthy app got {} of {} deliveries in {bound:?} while another app's endpoint hangs",
        healthy.received("/ok").len(),
        ids.len()
    );
    for id in &ids {
        assert_eq!(api.settled(&fine, id).await["status"], "success");
    }
    // The hanging attempts are still in flight meanwhile, held to the endpoint's share.
    assert!(started.elapsed() < Duration::from_secs(HANGING_TIMEOUT_SECONDS));
    let pending = api
        .deliveries(&stuck)
        .await
        .iter()
        .filter(|d| d["status"] == "pending")
        .count();
    assert_eq!(pending, 300);
    assert!(hanging.connections() <= 64, "{}", hanging.connections());
    emu.shutdown().await;
}

#[tokio::test]
async fn the_per_endpoint_limit_of_attempts_in_flight_is_configurable() {
    let (emu, api) = start_with(
        builder()
            .max_attempts_in_flight_per_endpoint(3)
            .shutdown_timeout(Duration::from_millis(200)),
    )
    .await;
    let hanging = Hanging::start().await;
    let stuck = app_to(
        &api,
        &hanging.url,
        json!({"timeout_seconds": HANGING_TIMEOUT_SECONDS}),
    )
    .await;
    for i in 0..10 {
        api.trigger(&stuck, "order.created", json!({"i": i})).await;
    }
    hanging.wait_for(3).await;
    // A second endpoint of the same app still gets its attempts out.
    let healthy = Receiver::start().await;
    api.endpoint(&stuck, &healthy.url("/ok"), "order.created", json!({}))
        .await;
    api.trigger(&stuck, "order.created", json!({"i": 10})).await;
    healthy.wait_for("/ok", 1).await;
    assert_eq!(hanging.connections(), 3);
    emu.shutdown().await;
}

#[tokio::test]
async fn limits_of_attempts_in_flight_must_be_positive() {
    for builder in [
        builder().max_attempts_in_flight(0),
        builder().max_attempts_in_flight_per_endpoint(0),
        builder().max_stored_response_body(64 * 1024 + 1),
    ] {
        assert!(builder.start().await.is_err());
    }
}

// --- D3: shutdown deadline -------------------------------------------------------------------

#[tokio::test]
async fn shutdown_returns_by_its_deadline_while_attempts_hang() {
    let (emu, api) = start_with(builder().shutdown_timeout(Duration::from_millis(300))).await;
    let hanging = Hanging::start().await;
    let stuck = app_to(
        &api,
        &hanging.url,
        json!({"timeout_seconds": HANGING_TIMEOUT_SECONDS}),
    )
    .await;
    for i in 0..3 {
        api.trigger(&stuck, "order.created", json!({"i": i})).await;
    }
    hanging.wait_for(3).await;
    let started = Instant::now();
    let done = tokio::time::timeout(Duration::from_secs(10), emu.shutdown()).await;
    assert!(done.is_ok(), "shutdown still waiting after 10 s");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// Kills the child on drop, so a failing test leaves no process behind.
struct Binary(Child);

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_exits_soon_after_sigterm_while_attempts_hang() {
    let mut child = Binary(
        Command::new(env!("CARGO_BIN_EXE_wacht-webhooks-emulator"))
            .args(["--listen", "127.0.0.1:0", "--api-key", KEY])
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts"),
    );
    let stdout = tokio::process::ChildStdout::from_std(child.0.stdout.take().unwrap()).unwrap();
    let mut line = String::new();
    let mut stdout = BufReader::new(stdout);
    let read = stdout.read_line(&mut line);
    tokio::time::timeout(DEADLINE, read).await.unwrap().unwrap();
    // "wacht-webhooks-emulator listening on http://127.0.0.1:PORT (production behaviour)"
    let base = line.split_whitespace().nth(3).expect("the URL it serves");
    let api = Api::new(base);
    let hanging = Hanging::start().await;
    let stuck = app_to(
        &api,
        &hanging.url,
        json!({"timeout_seconds": HANGING_TIMEOUT_SECONDS}),
    )
    .await;
    api.trigger(&stuck, "order.created", json!({})).await;
    hanging.wait_for(1).await;

    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    // The default shutdown timeout is 5 s.
    let bound = Duration::from_secs(10);
    let exited = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > bound {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let status = exited.unwrap_or_else(|| panic!("still running {bound:?} after SIGTERM"));
    assert!(status.success(), "{status}");
}

// --- D6: retention ---------------------------------------------------------------------------

/// Triggers `n` deliveries one after another, each settled before the next; returns their ids.
async fn settle_one_by_one(api: &Api, app: &Value, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let created = api.trigger(app, "order.created", json!({"i": i})).await;
        let id = created["delivery_ids"][0].as_str().unwrap().to_string();
        eventually("delivery settles", || async {
            let page = api
                .ok(&format!("/webhooks/apps/{}/deliveries?limit=1", slug(app)))
                .await;
            (page["data"][0]["delivery_id"] == json!(id) && page["data"][0]["status"] == "success")
                .then_some(())
        })
        .await;
        ids.push(id);
    }
    ids
}

fn listed_ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|d| d["delivery_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn only_the_newest_settled_deliveries_are_kept_and_stats_cover_them() {
    for behaviour in [Behaviour::Production, Behaviour::Documented] {
        let (_emu, api) = start_with(
            builder()
                .behaviour(behaviour)
                .max_retained_deliveries(Some(5)),
        )
        .await;
        let receiver = Receiver::start().await;
        let app = app_to(&api, &receiver.url("/ok"), json!({})).await;
        let ids = settle_one_by_one(&api, &app, 12).await;
        assert_eq!(receiver.received("/ok").len(), 12);

        let rows = api.deliveries(&app).await;
        let mut kept = listed_ids(&rows);
        kept.reverse();
        assert_eq!(kept, ids[7..], "{behaviour:?}");
        let stats = api
            .ok(&format!("/webhooks/apps/{}/stats", slug(&app)))
            .await;
        assert_eq!(stats["total_deliveries"], 5, "{stats}");
        // An evicted delivery answers like an id that never existed.
        let evicted = api
            .get(&format!(
                "/webhooks/apps/{}/deliveries/{}",
                slug(&app),
                ids[0]
            ))
            .await;
        let unknown = api
            .get(&format!("/webhooks/apps/{}/deliveries/4242", slug(&app)))
            .await;
        assert_eq!(evicted, unknown, "{behaviour:?}");
    }
}

#[tokio::test]
async fn deliveries_in_flight_are_never_evicted() {
    // One attempt fails, and the retry is an hour away: those deliveries stay in flight.
    let (_emu, api) = start_with(
        builder()
            .retry_schedule(vec![Duration::from_secs(3600)])
            .max_retained_deliveries(Some(2)),
    )
    .await;
    let receiver = Receiver::start().await;
    receiver.default_reply("/down", Reply::status(500));
    let app = app_to(&api, &receiver.url("/down"), json!({})).await;
    for i in 0..3 {
        api.trigger(&app, "order.created", json!({"i": i})).await;
    }
    receiver.wait_for("/down", 3).await;
    eventually("three failed attempts recorded", || async {
        let rows = api.deliveries(&app).await;
        (rows.iter().filter(|d| d["status"] == "failed").count() == 3).then_some(())
    })
    .await;
    let fine = app_to(&api, &receiver.url("/ok"), json!({})).await;
    let ids = settle_one_by_one(&api, &fine, 6).await;

    let failed = api.deliveries(&app).await;
    assert_eq!(failed.len(), 3);
    assert!(failed.iter().all(|d| d["status"] == "failed"));
    let mut kept = listed_ids(&api.deliveries(&fine).await);
    kept.reverse();
    assert_eq!(kept, ids[4..]);
}

#[tokio::test]
async fn settled_deliveries_older_than_the_retention_age_are_evicted() {
    let (_emu, api) = start_with(
        builder()
            .max_retained_deliveries(None)
            .delivery_retention_age(Some(Duration::from_millis(200))),
    )
    .await;
    let receiver = Receiver::start().await;
    let app = app_to(&api, &receiver.url("/ok"), json!({})).await;
    settle_one_by_one(&api, &app, 3).await;
    eventually("settled deliveries expire", || async {
        api.deliveries(&app).await.is_empty().then_some(())
    })
    .await;
    let stats = api
        .ok(&format!("/webhooks/apps/{}/stats", slug(&app)))
        .await;
    assert_eq!(stats["total_deliveries"], 0, "{stats}");
}

#[tokio::test]
async fn response_bodies_are_stored_up_to_the_limit_and_marked_when_cut() {
    for (builder, limit) in [
        (builder(), 4096),
        (builder().max_stored_response_body(100), 100),
    ] {
        let (_emu, api) = start_with(builder).await;
        let receiver = Receiver::start().await;
        receiver.default_reply("/big", Reply::status(200).body("x".repeat(60_000)));
        receiver.default_reply("/small", Reply::status(200).body("y".repeat(limit)));
        let app = api.app_with_events(&["order.created"]).await;
        api.endpoint(&app, &receiver.url("/big"), "order.created", json!({}))
            .await;
        api.endpoint(&app, &receiver.url("/small"), "order.created", json!({}))
            .await;
        let created = api.trigger(&app, "order.created", json!({})).await;
        let mut bodies = Vec::new();
        for id in created["delivery_ids"].as_array().unwrap() {
            let details = api.settled(&app, id.as_str().unwrap()).await;
            bodies.push(details["response_body"].as_str().unwrap().to_string());
        }
        bodies.sort();
        let (cut, whole) = (&bodies[0], &bodies[1]);
        // Lengths and ends only, so that a failure stays readable.
        assert_eq!(cut.len(), limit + TRUNCATION_MARK.len(), "cut body length");
        assert!(cut.ends_with(TRUNCATION_MARK) && cut.starts_with('x'));
        assert_eq!(whole.len(), limit, "a body at the limit is kept whole");
        assert!(!whole.ends_with(TRUNCATION_MARK));
    }
}

//! Production behaviour against documented behaviour: replay tasks (P1, P3, P5, P14), retries
//! (P2), the API rate limit (P4), test sends (P10), updates and endpoint headers (P12, P13), the
//! subscription cache (P15) and string bounds in filters (P16). Each quirk is shown in both
//! behaviours (P15: with the cache on and off).

mod common;

use std::time::Duration;

use common::{Api, KEY, Receiver, Reply, assert_error, builder, signature_valid, start_with};
use serde_json::{Value, json};
use wacht_webhooks_emulator::{Behaviour, Emulator, EmulatorBuilder};

const BOTH: [Behaviour; 2] = [Behaviour::Production, Behaviour::Documented];

fn slug(app: &Value) -> String {
    app["app_slug"].as_str().unwrap().to_string()
}

async fn start_in(behaviour: Behaviour, builder: EmulatorBuilder) -> (Emulator, Api) {
    start_with(builder.behaviour(behaviour)).await
}

/// Posts a replay request; it must answer 200.
async fn replay(api: &Api, app: &Value, body: Value) -> Value {
    let (status, answer) = api
        .post(
            &format!("/webhooks/apps/{}/deliveries/replay", slug(app)),
            body,
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    answer
}

/// Triggers `event` and waits until its deliveries settle; returns their ids.
async fn delivered(api: &Api, app: &Value, event: &str, payload: Value) -> Vec<String> {
    let trigger = api.trigger(app, event, payload).await;
    let ids: Vec<String> = trigger["delivery_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_string())
        .collect();
    for id in &ids {
        api.settled(app, id).await;
    }
    ids
}

/// Replays `ids` and waits for the task to finish; returns the task.
async fn replayed(api: &Api, app: &Value, ids: &[String]) -> Value {
    let answer = replay(api, app, json!({"delivery_ids": ids})).await;
    api.task_done(app, answer["task_id"].as_str().unwrap())
        .await
}

/// A page of the replay task list.
async fn task_page(api: &Api, app: &Value, limit: u32, offset: u32) -> (Vec<String>, bool) {
    let page = api
        .ok(&format!(
            "/webhooks/apps/{}/deliveries/replay?limit={limit}&offset={offset}",
            slug(app)
        ))
        .await;
    let ids = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["task_id"].as_str().unwrap().to_string())
        .collect();
    (ids, page["has_more"].as_bool().unwrap())
}

/// Three finished replay tasks, newest first.
async fn three_finished_tasks(api: &Api, app: &Value) -> Vec<String> {
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let task = replayed(api, app, &["1".to_string()]).await;
        tasks.insert(0, task["task_id"].as_str().unwrap().to_string());
    }
    tasks
}

// P1: the replay task list.

#[tokio::test]
async fn p1_production_skips_expired_tasks_after_computing_has_more() {
    let ttl = Duration::from_millis(400);
    let (_emu, api) = start_in(Behaviour::Production, builder().replay_task_ttl(ttl)).await;
    let app = api.app_with_events(&["e"]).await;
    let tasks = three_finished_tasks(&api, &app).await;
    assert_eq!(
        task_page(&api, &app, 2, 0).await,
        (tasks[..2].to_vec(), true)
    );

    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    assert_eq!(
        task_page(&api, &app, 1, 0).await,
        (vec![], true),
        "an empty page that says there is more"
    );
    assert_eq!(task_page(&api, &app, 1, 1).await, (vec![], true));
    assert_eq!(task_page(&api, &app, 20, 0).await, (vec![], false));
    let path = format!(
        "/webhooks/apps/{}/deliveries/replay/{}",
        slug(&app),
        tasks[0]
    );
    assert_error(&api.get(&path).await, 404, Some("Replay task not found"));

    // A new task is listed first; the expired ids behind it still count for `has_more`.
    let fresh = replay(&api, &app, json!({"delivery_ids": ["1"]})).await;
    let fresh = fresh["task_id"].as_str().unwrap().to_string();
    let (first, has_more) = task_page(&api, &app, 2, 0).await;
    assert!(has_more);
    assert!(first.len() < 2, "a short page: {first:?}");
    assert!(first.iter().all(|id| *id == fresh), "{first:?}");
}

#[tokio::test]
async fn p1_documented_drops_expired_tasks_from_the_index() {
    let ttl = Duration::from_millis(400);
    let (_emu, api) = start_in(Behaviour::Documented, builder().replay_task_ttl(ttl)).await;
    let app = api.app_with_events(&["e"]).await;
    let tasks = three_finished_tasks(&api, &app).await;
    assert_eq!(
        task_page(&api, &app, 2, 0).await,
        (tasks[..2].to_vec(), true)
    );

    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    assert_eq!(task_page(&api, &app, 1, 0).await, (vec![], false));
    let path = format!(
        "/webhooks/apps/{}/deliveries/replay/{}",
        slug(&app),
        tasks[0]
    );
    assert_error(&api.get(&path).await, 404, Some("Replay task not found"));
}

#[tokio::test]
async fn p1_the_task_index_expires_as_a_whole_in_both_behaviours() {
    let ttl = Duration::from_millis(400);
    for behaviour in BOTH {
        let (_emu, api) = start_in(behaviour, builder().replay_task_index_ttl(ttl)).await;
        let app = api.app_with_events(&["e"]).await;
        let task = replayed(&api, &app, &["1".to_string()]).await;
        let id = task["task_id"].as_str().unwrap().to_string();
        assert_eq!(
            task_page(&api, &app, 20, 0).await,
            (vec![id.clone()], false)
        );
        tokio::time::sleep(ttl + Duration::from_millis(100)).await;
        assert_eq!(task_page(&api, &app, 20, 0).await, (vec![], false));
        // The record itself lives on (2 h after its last update).
        let path = format!("/webhooks/apps/{}/deliveries/replay/{id}", slug(&app));
        assert_eq!(api.get(&path).await.0, 200, "{behaviour:?}");
    }
}

// P2: retries reuse the trigger's timestamp; a 401 is never retried.

#[tokio::test]
async fn p2_every_attempt_carries_the_trigger_timestamp_and_id() {
    for behaviour in BOTH {
        // Three attempts 600 ms apart cross at least one second boundary.
        let retry = builder().retry_schedule(vec![Duration::from_millis(600)]);
        let (_emu, api) = start_in(behaviour, retry).await;
        let receiver = Receiver::start().await;
        receiver.script("/hook", vec![Reply::status(500), Reply::status(503)]);
        let app = api.app_with_events(&["e"]).await;
        api.endpoint(&app, &receiver.url("/hook"), "e", json!({}))
            .await;
        let ids = delivered(&api, &app, "e", json!({"n": 1})).await;
        let got = receiver.wait_for("/hook", 3).await;
        assert_eq!(got.len(), 3, "{behaviour:?}");
        assert!(got[2].at - got[0].at >= Duration::from_millis(1_000));
        for attempt in &got {
            assert_eq!(attempt.header("webhook-id"), format!("msg_{}", ids[0]));
            assert_eq!(
                attempt.header("webhook-timestamp"),
                got[0].header("webhook-timestamp")
            );
            assert_eq!(attempt.body, got[0].body, "the same envelope every time");
            assert!(signature_valid(
                app["signing_secret"].as_str().unwrap(),
                &attempt.headers,
                &attempt.body
            ));
        }
        assert_eq!(api.delivery(&app, &ids[0]).await["status"], "success");
    }
}

#[tokio::test]
async fn p2_a_401_is_never_retried() {
    for behaviour in BOTH {
        let (_emu, api) = start_in(behaviour, builder()).await;
        let receiver = Receiver::start().await;
        receiver.default_reply("/hook", Reply::status(401));
        let app = api.app_with_events(&["e"]).await;
        api.endpoint(&app, &receiver.url("/hook"), "e", json!({}))
            .await;
        let ids = delivered(&api, &app, "e", json!({})).await;
        let details = api.delivery(&app, &ids[0]).await;
        assert_eq!(details["status"], "permanently_failed", "{behaviour:?}");
        assert_eq!(details["attempt_number"], 1);
        assert_eq!(details["http_status_code"], 401);
        // The retry schedule is 20 ms: a retry would have come by now.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(receiver.received("/hook").len(), 1);
    }
}

// P3: what a replay sends.

/// Delivers `payload` once, replays it, then replays the replay; returns the three bodies.
async fn replay_chain(behaviour: Behaviour, payload: &Value) -> (Vec<Value>, Vec<Value>) {
    let (_emu, api) = start_in(behaviour, builder()).await;
    let receiver = Receiver::start().await;
    let app = api.app_with_events(&["order.paid"]).await;
    api.endpoint(&app, &receiver.url("/hook"), "order.paid", json!({}))
        .await;
    let original = delivered(&api, &app, "order.paid", payload.clone()).await;
    assert_eq!(replayed(&api, &app, &original).await["replayed_count"], 1);
    let replay_id = api.deliveries(&app).await[0]["delivery_id"]
        .as_str()
        .unwrap()
        .to_string();
    let replay_details = api.settled(&app, &replay_id).await;
    assert_eq!(
        replayed(&api, &app, &[replay_id]).await["replayed_count"],
        1
    );
    let got = receiver.wait_for("/hook", 3).await;
    for request in &got {
        assert!(signature_valid(
            app["signing_secret"].as_str().unwrap(),
            &request.headers,
            &request.body
        ));
    }
    let bodies: Vec<Value> = got.iter().map(|r| r.json()).collect();
    let stored = vec![
        api.delivery(&app, &original[0]).await["payload"].clone(),
        replay_details["payload"].clone(),
    ];
    (bodies, stored)
}

#[tokio::test]
async fn p3_production_replays_the_stored_envelope() {
    let payload = json!({"order": "o_1", "amount": 42});
    let (bodies, stored) = replay_chain(Behaviour::Production, &payload).await;
    assert_eq!(bodies[0]["data"], payload);
    assert_eq!(bodies[1]["type"], "order.paid");
    assert_eq!(
        bodies[1]["data"], bodies[0],
        "the original envelope, type and timestamp included, is the replay's data"
    );
    assert_eq!(bodies[1]["data"]["data"], payload);
    assert_eq!(
        bodies[2]["data"], bodies[1],
        "a replay of a replay nests once more"
    );
    assert_eq!(bodies[2]["data"]["data"]["data"], payload);
    assert_eq!(stored, bodies[..2], "what is stored is what was sent");
}

#[tokio::test]
async fn p3_documented_replays_the_original_payload_in_a_fresh_envelope() {
    let payload = json!({"order": "o_1", "amount": 42});
    let (bodies, stored) = replay_chain(Behaviour::Documented, &payload).await;
    for body in &bodies {
        assert_eq!(body["type"], "order.paid");
        assert_eq!(body["data"], payload);
    }
    assert_eq!(stored, bodies[..2]);
}

// P4: the API rate limit.

async fn limited_answer(behaviour: Behaviour) -> (u16, Option<String>, Value) {
    let limited = builder().api_rate_limit(2, Duration::from_secs(60));
    let (_emu, api) = start_in(behaviour, limited).await;
    for _ in 0..2 {
        assert_eq!(api.get("/webhooks/apps").await.0, 200);
    }
    let response = api
        .http
        .get(format!("{}/webhooks/apps", api.base))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry_after, response.json().await.unwrap())
}

/// The N of "Rate limit exceeded. Retry after N seconds".
fn announced_wait(body: &Value) -> u64 {
    let message = body["errors"][0]["message"].as_str().unwrap();
    let seconds = message
        .strip_prefix("Rate limit exceeded. Retry after ")
        .and_then(|rest| rest.strip_suffix(" seconds"))
        .unwrap_or_else(|| panic!("{message}"));
    seconds.parse().unwrap()
}

#[tokio::test]
async fn p4_production_announces_the_wait_only_in_the_message() {
    let (status, retry_after, body) = limited_answer(Behaviour::Production).await;
    assert_eq!(status, 429);
    assert_eq!(body["errors"][0]["code"], 429);
    assert!((1..=60).contains(&announced_wait(&body)), "{body}");
    assert_eq!(retry_after, None);
}

#[tokio::test]
async fn p4_documented_adds_a_retry_after_header() {
    let (status, retry_after, body) = limited_answer(Behaviour::Documented).await;
    assert_eq!(status, 429);
    let wait = announced_wait(&body);
    assert!((1..=60).contains(&wait), "{body}");
    assert_eq!(retry_after, Some(wait.to_string()));
}

#[tokio::test]
async fn p4_without_the_option_nothing_is_limited() {
    let (_emu, api) = start_in(Behaviour::Production, builder()).await;
    for _ in 0..50 {
        assert_eq!(api.get("/webhooks/apps").await.0, 200);
    }
}

// P5: a repeat while the first request is still queuing.

async fn concurrent_repeat(behaviour: Behaviour) -> (Value, Value, Value) {
    let slow = builder().replay_queue_delay(Duration::from_millis(600));
    let (_emu, api) = start_in(behaviour, slow).await;
    let app = api.app_with_events(&["e"]).await;
    let body = json!({"delivery_ids": ["1"], "idempotency_key": "nightly"});
    let (first, repeat) = tokio::join!(replay(&api, &app, body.clone()), async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        replay(&api, &app, body.clone()).await
    });
    let later = replay(&api, &app, body).await;
    (first, repeat, later)
}

#[tokio::test]
async fn p5_production_answers_a_repeat_during_queuing_without_a_task_id() {
    let (first, repeat, later) = concurrent_repeat(Behaviour::Production).await;
    assert_eq!(first["status"], "queued");
    assert_eq!(first["message"], "Webhook deliveries queued for replay");
    assert!(first["task_id"].is_string(), "{first}");
    assert_eq!(
        repeat,
        json!({"status": "queued", "message": "Replay request is already being queued for this idempotency key", "task_id": null})
    );
    assert_eq!(later["task_id"], first["task_id"]);
    assert_eq!(
        later["message"],
        "Replay already queued for this idempotency key"
    );
}

#[tokio::test]
async fn p5_documented_answers_a_repeat_with_the_task_id() {
    let (first, repeat, later) = concurrent_repeat(Behaviour::Documented).await;
    assert!(first["task_id"].is_string(), "{first}");
    assert_eq!(
        repeat,
        json!({"status": "queued", "message": "Replay already queued for this idempotency key", "task_id": first["task_id"]})
    );
    assert_eq!(later["task_id"], first["task_id"]);
}

#[tokio::test]
async fn p5_a_request_still_queuing_counts_against_the_limit() {
    let slow = builder().replay_queue_delay(Duration::from_millis(600));
    let (_emu, api) = start_in(Behaviour::Production, slow).await;
    let app = api.app_with_events(&["e"]).await;
    let path = format!("/webhooks/apps/{}/deliveries/replay", slug(&app));
    let keyed = |key: &str| json!({"delivery_ids": ["1"], "idempotency_key": key});
    let (a, b, c, refused) = tokio::join!(
        replay(&api, &app, keyed("a")),
        replay(&api, &app, keyed("b")),
        replay(&api, &app, keyed("c")),
        async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            api.post(&path, json!({"delivery_ids": ["1"]})).await
        }
    );
    assert!([a, b, c].iter().all(|answer| answer["task_id"].is_string()));
    assert_error(
        &refused,
        400,
        Some("Maximum 3 replay jobs can run at once for this app"),
    );
}

// P10: test sends and the app slug of their path.

/// Two apps, an endpoint on the first; returns the apps and the endpoint id.
async fn endpoint_of_another_app(api: &Api, receiver: &Receiver) -> (Value, Value, String) {
    let owner = api.app_with_events(&["e"]).await;
    let other = api.app_with_events(&["e"]).await;
    let endpoint = api
        .endpoint(&owner, &receiver.url("/hook"), "e", json!({}))
        .await;
    (owner, other, endpoint["id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn p10_production_ignores_the_app_slug_of_a_test_send() {
    let (_emu, api) = start_in(Behaviour::Production, builder()).await;
    let receiver = Receiver::start().await;
    let (owner, other, id) = endpoint_of_another_app(&api, &receiver).await;
    for app_slug in [slug(&other), "no_such_app".to_string()] {
        let path = format!("/webhooks/apps/{app_slug}/endpoints/{id}/test");
        let (status, answer) = api.post(&path, json!({"event_name": "e"})).await;
        assert_eq!(status, 200, "{answer}");
    }
    let got = receiver.wait_for("/hook", 2).await;
    assert_eq!(got[0].json()["type"], "test.webhook");
    assert!(signature_valid(
        owner["signing_secret"].as_str().unwrap(),
        &got[0].headers,
        &got[0].body
    ));
    assert_eq!(api.deliveries(&owner).await.len(), 2, "logged on the owner");
    assert!(api.deliveries(&other).await.is_empty());
}

#[tokio::test]
async fn p10_documented_refuses_a_test_send_through_another_app() {
    let (_emu, api) = start_in(Behaviour::Documented, builder()).await;
    let receiver = Receiver::start().await;
    let (_owner, other, id) = endpoint_of_another_app(&api, &receiver).await;
    let path = format!("/webhooks/apps/{}/endpoints/{id}/test", slug(&other));
    assert_error(
        &api.post(&path, json!({"event_name": "e"})).await,
        404,
        Some("Webhook endpoint not found"),
    );
    let path = format!("/webhooks/apps/no_such_app/endpoints/{id}/test");
    assert_error(
        &api.post(&path, json!({"event_name": "e"})).await,
        404,
        Some("Webhook app not found"),
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(receiver.received("/hook").is_empty());
}

// P12: an empty list or map clears.

#[tokio::test]
async fn p12_empty_lists_and_maps_clear_in_both_behaviours() {
    for behaviour in BOTH {
        let (_emu, api) = start_in(behaviour, builder()).await;
        let receiver = Receiver::start().await;
        let app = api.app_with_events(&["e"]).await;
        let app_path = format!("/webhooks/apps/{}", slug(&app));
        let (_, updated) = api
            .patch(
                &app_path,
                json!({"failure_notification_emails": ["ops@example.com"]}),
            )
            .await;
        assert_eq!(
            updated["failure_notification_emails"],
            json!(["ops@example.com"])
        );
        let (_, kept) = api.patch(&app_path, json!({"name": "renamed"})).await;
        assert_eq!(
            kept["failure_notification_emails"],
            json!(["ops@example.com"])
        );
        let (_, cleared) = api
            .patch(&app_path, json!({"failure_notification_emails": []}))
            .await;
        assert_eq!(
            cleared["failure_notification_emails"],
            json!([]),
            "{behaviour:?}"
        );

        let endpoint = api
            .endpoint(
                &app,
                &receiver.url("/hook"),
                "e",
                json!({"headers": {"X-Tenant": "acme"}}),
            )
            .await;
        let path = format!("{app_path}/endpoints/{}", endpoint["id"].as_str().unwrap());
        let (_, kept) = api.patch(&path, json!({"description": "d"})).await;
        assert_eq!(kept["headers"], json!({"X-Tenant": "acme"}));
        let (_, cleared) = api.patch(&path, json!({"headers": {}})).await;
        assert_eq!(cleared["headers"], json!({}), "{behaviour:?}");
        delivered(&api, &app, "e", json!({})).await;
        let got = receiver.wait_for("/hook", 1).await;
        assert!(got[0].headers.get("x-tenant").is_none());
    }
}

// P13: endpoint headers of any JSON.

fn mixed_headers() -> Value {
    json!({"X-Tenant": "acme", "X-Retries": 3, "X-Flags": {"beta": true}, "X-Off": false})
}

#[tokio::test]
async fn p13_production_stores_any_json_headers_and_sends_the_strings() {
    let (_emu, api) = start_in(Behaviour::Production, builder()).await;
    let receiver = Receiver::start().await;
    let app = api.app_with_events(&["e"]).await;
    let endpoint = api
        .endpoint(
            &app,
            &receiver.url("/hook"),
            "e",
            json!({"headers": mixed_headers()}),
        )
        .await;
    assert_eq!(endpoint["headers"], mixed_headers(), "returned as stored");
    let listed = api
        .ok(&format!("/webhooks/apps/{}/endpoints", slug(&app)))
        .await;
    assert_eq!(listed["data"][0]["headers"], mixed_headers());
    delivered(&api, &app, "e", json!({})).await;
    let got = receiver.wait_for("/hook", 1).await;
    assert_eq!(got[0].header("x-tenant"), "acme");
    for skipped in ["x-retries", "x-flags", "x-off"] {
        assert!(got[0].headers.get(skipped).is_none(), "{skipped}");
    }

    // Not even an object is refused; nothing of it is sent.
    let path = format!(
        "/webhooks/apps/{}/endpoints/{}",
        slug(&app),
        endpoint["id"].as_str().unwrap()
    );
    let (status, updated) = api.patch(&path, json!({"headers": ["X-A", 1]})).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["headers"], json!(["X-A", 1]));
    delivered(&api, &app, "e", json!({})).await;
    let got = receiver.wait_for("/hook", 2).await;
    assert!(got[1].headers.get("x-tenant").is_none());
}

#[tokio::test]
async fn p13_documented_takes_only_string_headers() {
    let (_emu, api) = start_in(Behaviour::Documented, builder()).await;
    let app = api.app_with_events(&["e"]).await;
    let path = format!("/webhooks/apps/{}/endpoints", slug(&app));
    let body = json!({"app_slug": slug(&app), "url": "http://127.0.0.1:9/", "subscriptions": [{"event_name": "e"}], "headers": mixed_headers()});
    assert_error(&api.post(&path, body).await, 422, None);
    let endpoint = api
        .endpoint(
            &app,
            "http://127.0.0.1:9/",
            "e",
            json!({"headers": {"X-A": "1"}}),
        )
        .await;
    let path = format!("{path}/{}", endpoint["id"].as_str().unwrap());
    assert_error(
        &api.patch(&path, json!({"headers": ["X-A", 1]})).await,
        422,
        None,
    );
}

// P14: date-range replays and `filtered` deliveries.

/// One delivered and one filtered delivery (a test send whose filter does not match); returns
/// the app and the time range of their latest states (replays made later fall outside it).
async fn delivered_and_filtered(api: &Api, receiver: &Receiver) -> (Value, (String, String)) {
    let app = api.app_with_events(&["e"]).await;
    let s = slug(&app);
    let body = json!({"app_slug": s, "url": receiver.url("/hook"), "subscriptions": [{"event_name": "e", "filter_rules": {"tier": "gold"}}]});
    let (_, endpoint) = api
        .post(&format!("/webhooks/apps/{s}/endpoints"), body)
        .await;
    delivered(api, &app, "e", json!({"tier": "gold"})).await;
    let test = format!(
        "/webhooks/apps/{s}/endpoints/{}/test",
        endpoint["id"].as_str().unwrap()
    );
    api.post(
        &test,
        json!({"event_name": "e", "payload": {"tier": "silver"}}),
    )
    .await;
    let all = common::eventually("the test send is filtered", || async {
        let all = api.deliveries(&app).await;
        all.iter().any(|d| d["status"] == "filtered").then_some(all)
    })
    .await;
    assert_eq!(all.len(), 2);
    let times: Vec<String> = all
        .iter()
        .map(|d| d["timestamp"].as_str().unwrap().to_string())
        .collect();
    let range = (times.iter().min().unwrap(), times.iter().max().unwrap());
    (app, (range.0.clone(), range.1.clone()))
}

/// The `total_count` of a date-range replay over `range` with an optional status.
async fn range_total(
    api: &Api,
    app: &Value,
    range: &(String, String),
    status: Option<&str>,
) -> u64 {
    let mut body = json!({"start_date": range.0, "end_date": range.1});
    if let Some(status) = status {
        body["status"] = json!(status);
    }
    let answer = replay(api, app, body).await;
    api.task_done(app, answer["task_id"].as_str().unwrap())
        .await["total_count"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn p14_production_range_replays_never_include_filtered_deliveries() {
    let (_emu, api) = start_in(Behaviour::Production, builder()).await;
    let receiver = Receiver::start().await;
    let (app, range) = delivered_and_filtered(&api, &receiver).await;
    assert_eq!(range_total(&api, &app, &range, None).await, 1);
    assert_eq!(range_total(&api, &app, &range, Some("filtered")).await, 0);
}

#[tokio::test]
async fn p14_documented_range_replays_include_filtered_deliveries() {
    let (_emu, api) = start_in(Behaviour::Documented, builder()).await;
    let receiver = Receiver::start().await;
    let (app, range) = delivered_and_filtered(&api, &receiver).await;
    assert_eq!(range_total(&api, &app, &range, None).await, 2);
    assert_eq!(range_total(&api, &app, &range, Some("filtered")).await, 1);
}

// P15: the subscription cache (timing, independent of the behaviour).

/// Fan-out of one trigger: `(delivered_count, filtered_count)`.
async fn fan_out(api: &Api, app: &Value, payload: Value) -> (u64, u64) {
    let answer = api.trigger(app, "e", payload).await;
    (
        answer["delivered_count"].as_u64().unwrap(),
        answer["filtered_count"].as_u64().unwrap(),
    )
}

#[tokio::test]
async fn p15_with_the_cache_changes_within_its_lifetime_are_not_seen() {
    for behaviour in BOTH {
        let cached = builder().subscription_cache_ttl(Some(Duration::from_secs(300)));
        let (_emu, api) = start_in(behaviour, cached).await;
        let app = api.app_with_events(&["e"]).await;
        let first = api
            .endpoint(&app, "http://127.0.0.1:9/a", "e", json!({}))
            .await;
        assert_eq!(fan_out(&api, &app, json!({})).await, (1, 0));
        api.endpoint(&app, "http://127.0.0.1:9/b", "e", json!({}))
            .await;
        let path = format!(
            "/webhooks/apps/{}/endpoints/{}",
            slug(&app),
            first["id"].as_str().unwrap()
        );
        let filter =
            json!({"subscriptions": [{"event_name": "e", "filter_rules": {"tier": "gold"}}]});
        assert_eq!(api.patch(&path, filter).await.0, 200);
        assert_eq!(
            fan_out(&api, &app, json!({"tier": "silver"})).await,
            (1, 0),
            "{behaviour:?}: the new endpoint and the new filter are not seen yet"
        );
    }
}

#[tokio::test]
async fn p15_the_cache_entry_expires_after_its_lifetime() {
    let ttl = Duration::from_millis(400);
    let (_emu, api) = start_in(
        Behaviour::Production,
        builder().subscription_cache_ttl(Some(ttl)),
    )
    .await;
    let app = api.app_with_events(&["e"]).await;
    api.endpoint(&app, "http://127.0.0.1:9/a", "e", json!({}))
        .await;
    assert_eq!(fan_out(&api, &app, json!({})).await, (1, 0));
    api.endpoint(&app, "http://127.0.0.1:9/b", "e", json!({}))
        .await;
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    assert_eq!(fan_out(&api, &app, json!({})).await, (2, 0));
}

#[tokio::test]
async fn p15_without_the_cache_changes_apply_at_once() {
    for behaviour in BOTH {
        let (_emu, api) = start_in(behaviour, builder()).await;
        let app = api.app_with_events(&["e"]).await;
        let first = api
            .endpoint(&app, "http://127.0.0.1:9/a", "e", json!({}))
            .await;
        assert_eq!(fan_out(&api, &app, json!({})).await, (1, 0));
        api.endpoint(&app, "http://127.0.0.1:9/b", "e", json!({}))
            .await;
        let path = format!(
            "/webhooks/apps/{}/endpoints/{}",
            slug(&app),
            first["id"].as_str().unwrap()
        );
        let filter =
            json!({"subscriptions": [{"event_name": "e", "filter_rules": {"tier": "gold"}}]});
        assert_eq!(api.patch(&path, filter).await.0, 200);
        assert_eq!(
            fan_out(&api, &app, json!({"tier": "silver"})).await,
            (1, 1),
            "{behaviour:?}"
        );
    }
}

// P16: string bounds in filter rules.

async fn string_bound_fan_out(behaviour: Behaviour) -> Vec<(u64, u64)> {
    let (_emu, api) = start_in(behaviour, builder()).await;
    let app = api.app_with_events(&["e"]).await;
    let s = slug(&app);
    let body = json!({"app_slug": s, "url": "http://127.0.0.1:9/", "subscriptions": [{"event_name": "e", "filter_rules": {"tier": {"$gte": "gold", "$lte": "silver"}}}]});
    let (status, endpoint) = api
        .post(&format!("/webhooks/apps/{s}/endpoints"), body)
        .await;
    assert_eq!(status, 200, "{endpoint}");
    let mut counts = Vec::new();
    for tier in ["gold", "platinum", "silver"] {
        counts.push(fan_out(&api, &app, json!({"tier": tier})).await);
    }
    counts
}

#[tokio::test]
async fn p16_production_string_bounds_are_strict() {
    assert_eq!(
        string_bound_fan_out(Behaviour::Production).await,
        [(0, 1), (1, 0), (0, 1)]
    );
}

#[tokio::test]
async fn p16_documented_string_bounds_are_inclusive() {
    assert_eq!(
        string_bound_fan_out(Behaviour::Documented).await,
        [(1, 0), (1, 0), (1, 0)]
    );
}

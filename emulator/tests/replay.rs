//! Replay tasks: by ids and by date range, skip rules, idempotency, limits and cancellation.

mod common;

use std::time::Duration;

use common::{
    Api, Receiver, Reply, assert_error, builder, signature_valid, start, start_documented,
    start_with,
};
use serde_json::{Value, json};
use wacht_webhooks_emulator::Behaviour;

fn slug(app: &Value) -> String {
    app["app_slug"].as_str().unwrap().to_string()
}

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

/// Triggers once per payload and waits for every delivery to settle; returns the delivery ids.
async fn delivered(api: &Api, app: &Value, event: &str, payloads: &[Value]) -> Vec<String> {
    let mut ids = Vec::new();
    for payload in payloads {
        for id in api.trigger(app, event, payload.clone()).await["delivery_ids"]
            .as_array()
            .unwrap()
        {
            ids.push(id.as_str().unwrap().to_string());
        }
    }
    for id in &ids {
        api.settled(app, id).await;
    }
    ids
}

#[tokio::test]
async fn replay_by_ids_sends_new_deliveries_signed_with_the_current_secret() {
    // The original payload in a fresh envelope is the documented behaviour (P3).
    let (_emu, api) = start_with(builder().behaviour(Behaviour::Documented)).await;
    let receiver = Receiver::start().await;
    let app = api.app_with_events(&["e"]).await;
    api.endpoint(&app, &receiver.url("/hook"), "e", json!({}))
        .await;
    let ids = delivered(&api, &app, "e", &[json!({"n": 1})]).await;
    let (_, rotated) = api
        .post_empty(&format!("/webhooks/apps/{}/rotate-secret", slug(&app)))
        .await;

    let answer = replay(
        &api,
        &app,
        json!({"delivery_ids": [ids[0], "999", "not-a-number"]}),
    )
    .await;
    assert_eq!(answer["status"], "queued");
    let task_id = answer["task_id"].as_str().unwrap();
    let task = api.task_done(&app, task_id).await;
    assert_eq!(task["status"], "completed");
    assert_eq!(task["total_count"], 3);
    assert_eq!(task["processed"], 3);
    assert_eq!(task["replayed_count"], 1);
    assert_eq!(task["failed_count"], 2, "unknown ids count as failed");
    assert!(task["started_at"].is_string() && task["completed_at"].is_string());

    let got = receiver.wait_for("/hook", 2).await;
    assert_ne!(
        got[1].header("webhook-id"),
        got[0].header("webhook-id"),
        "a replay is a new message"
    );
    assert_eq!(
        got[1].json()["data"],
        got[0].json()["data"],
        "the original payload in a fresh envelope"
    );
    assert_eq!(got[1].json()["type"], "e");
    assert!(signature_valid(
        rotated["signing_secret"].as_str().unwrap(),
        &got[1].headers,
        &got[1].body
    ));
    let deliveries = api.deliveries(&app).await;
    assert_eq!(deliveries.len(), 2);
    assert_ne!(deliveries[0]["delivery_id"], json!(ids[0]));
    // Numbers are accepted as ids too.
    let numeric: i64 = ids[0].parse().unwrap();
    let again = replay(&api, &app, json!({"delivery_ids": [numeric]})).await;
    assert_eq!(
        api.task_done(&app, again["task_id"].as_str().unwrap())
            .await["replayed_count"],
        1
    );
}

#[tokio::test]
async fn replay_skips_deliveries_it_cannot_send() {
    let (_emu, api) = start_with(builder().retry_schedule(vec![Duration::from_secs(3600)])).await;
    let receiver = Receiver::start().await;
    receiver.default_reply("/stuck", Reply::status(500));
    let app = api.app_with_events(&["e", "f"]).await;
    let s = slug(&app);
    let deleted = api
        .endpoint(&app, &receiver.url("/deleted"), "e", json!({}))
        .await;
    let inactive = api
        .endpoint(&app, &receiver.url("/inactive"), "e", json!({}))
        .await;
    let moved = api
        .endpoint(&app, &receiver.url("/moved"), "e", json!({}))
        .await;
    api.endpoint(&app, &receiver.url("/stuck"), "e", json!({}))
        .await;
    let ids: Vec<String> = api.trigger(&app, "e", json!({})).await["delivery_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_string())
        .collect();
    receiver.wait_for("/stuck", 1).await;
    for id in &ids[..3] {
        api.settled(&app, id).await;
    }
    let endpoint_path =
        |e: &Value| format!("/webhooks/apps/{s}/endpoints/{}", e["id"].as_str().unwrap());
    api.delete(&endpoint_path(&deleted)).await;
    api.patch(&endpoint_path(&inactive), json!({"is_active": false}))
        .await;
    api.patch(
        &endpoint_path(&moved),
        json!({"subscriptions": [{"event_name": "f"}]}),
    )
    .await;

    let answer = replay(&api, &app, json!({"delivery_ids": ids})).await;
    let task = api
        .task_done(&app, answer["task_id"].as_str().unwrap())
        .await;
    assert_eq!(task["total_count"], 4);
    assert_eq!(
        task["replayed_count"], 0,
        "deleted, inactive, unsubscribed and in-flight deliveries are skipped"
    );
    assert_eq!(task["failed_count"], 4);
}

#[tokio::test]
async fn idempotency_keys_return_the_first_task() {
    let (_emu, api) = start().await;
    let app = api.app_with_events(&["e"]).await;
    let first = replay(
        &api,
        &app,
        json!({"delivery_ids": ["1"], "idempotency_key": " nightly "}),
    )
    .await;
    let repeat = replay(
        &api,
        &app,
        json!({"delivery_ids": ["2"], "idempotency_key": "nightly"}),
    )
    .await;
    assert_eq!(
        repeat,
        json!({"status": "queued", "message": "Replay already queued for this idempotency key", "task_id": first["task_id"]})
    );
    let other = replay(&api, &app, json!({"delivery_ids": ["1"]})).await;
    assert_ne!(
        other["task_id"], first["task_id"],
        "no key: every request is a new task"
    );
    let tasks = api
        .ok(&format!("/webhooks/apps/{}/deliveries/replay", slug(&app)))
        .await;
    assert_eq!(tasks["limit"], 20);
    let listed: Vec<&Value> = tasks["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["task_id"])
        .collect();
    assert_eq!(
        listed,
        [&other["task_id"], &first["task_id"]],
        "newest first"
    );
}

#[tokio::test]
async fn three_running_tasks_at_most_and_cancellation_stops_work() {
    let (_emu, api) = start_with(builder().replay_item_delay(Duration::from_millis(100))).await;
    let app = api.app_with_events(&["e"]).await;
    let ids: Vec<String> = (1..=50).map(|i| i.to_string()).collect();
    let mut tasks = Vec::new();
    for _ in 0..3 {
        tasks.push(
            replay(&api, &app, json!({"delivery_ids": ids})).await["task_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let path = format!("/webhooks/apps/{}/deliveries/replay", slug(&app));
    assert_error(
        &api.post(&path, json!({"delivery_ids": ids})).await,
        400,
        Some("Maximum 3 replay jobs can run at once for this app"),
    );
    let running = api.ok(&format!("{path}/{}", tasks[0])).await;
    assert!(
        matches!(running["status"].as_str(), Some("queued" | "running")),
        "{running}"
    );

    let (status, cancelled) = api.post_empty(&format!("{path}/{}/cancel", tasks[0])).await;
    assert_eq!(status, 200);
    assert_eq!(
        cancelled,
        json!({"status": "cancelled", "message": "Replay task cancellation requested"})
    );
    let task = api.task_done(&app, &tasks[0]).await;
    assert_eq!(task["status"], "cancelled");
    let processed = task["processed"].as_u64().unwrap();
    assert!(processed < 50, "cancellation stops the remaining work");
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        api.ok(&format!("{path}/{}", tasks[0])).await["processed"],
        processed
    );

    // A slot is free again.
    assert_eq!(api.post(&path, json!({"delivery_ids": ["1"]})).await.0, 200);
}

#[tokio::test]
async fn replay_by_date_range_selects_by_latest_state() {
    let (_emu, api) = start().await;
    let receiver = Receiver::start().await;
    receiver.default_reply("/bad", Reply::status(400));
    let app = api.app_with_events(&["e", "f"]).await;
    let s = slug(&app);
    api.endpoint(&app, &receiver.url("/good"), "e", json!({}))
        .await;
    let body = json!({"app_slug": s, "url": receiver.url("/bad"), "subscriptions": [{"event_name": "e"}, {"event_name": "f"}]});
    let (_, bad) = api
        .post(&format!("/webhooks/apps/{s}/endpoints"), body)
        .await;
    delivered(&api, &app, "e", &[json!({"i": 1}), json!({"i": 2})]).await;
    delivered(&api, &app, "f", &[json!({"i": 3})]).await;
    let all = api.deliveries(&app).await;
    let start = all
        .iter()
        .map(|d| d["timestamp"].as_str().unwrap())
        .min()
        .unwrap()
        .to_string();
    let count = |status: &str| all.iter().filter(|d| d["status"] == status).count() as u64;

    let by_status = replay(
        &api,
        &app,
        json!({"start_date": start, "status": "success"}),
    )
    .await;
    let task = api
        .task_done(&app, by_status["task_id"].as_str().unwrap())
        .await;
    assert_eq!(task["total_count"], count("success"));
    assert_eq!(task["replayed_count"], count("success"));

    let by_endpoint = replay(
        &api,
        &app,
        json!({"start_date": start, "endpoint_id": bad["id"]}),
    )
    .await;
    let task = api
        .task_done(&app, by_endpoint["task_id"].as_str().unwrap())
        .await;
    assert_eq!(task["total_count"], 3);

    for d in api.deliveries(&app).await {
        api.settled(&app, d["delivery_id"].as_str().unwrap()).await;
    }
    let failed_f = api
        .deliveries(&app)
        .await
        .iter()
        .filter(|d| d["event_name"] == "f" && d["status"] == "permanently_failed")
        .count();
    assert_eq!(failed_f, 2, "the original and its replay");
    let by_event = replay(
        &api,
        &app,
        json!({"start_date": start, "event_name": "f", "status": "permanently_failed"}),
    )
    .await;
    assert_eq!(
        api.task_done(&app, by_event["task_id"].as_str().unwrap())
            .await["total_count"],
        2
    );

    let nothing = replay(
        &api,
        &app,
        json!({"start_date": "2000-01-01T00:00:00Z", "end_date": "2000-01-02T00:00:00Z"}),
    )
    .await;
    let task = api
        .task_done(&app, nothing["task_id"].as_str().unwrap())
        .await;
    assert_eq!(
        (task["total_count"].as_u64(), task["status"].as_str()),
        (Some(0), Some("completed"))
    );
}

#[tokio::test]
async fn a_replay_whose_filter_no_longer_matches_ends_filtered() {
    let (_emu, api) = start_documented().await;
    let receiver = Receiver::start().await;
    let app = api.app_with_events(&["e"]).await;
    let s = slug(&app);
    let body = json!({"app_slug": s, "url": receiver.url("/hook"), "subscriptions": [{"event_name": "e", "filter_rules": {"tier": "gold"}}]});
    let (_, endpoint) = api
        .post(&format!("/webhooks/apps/{s}/endpoints"), body)
        .await;
    let ids = delivered(&api, &app, "e", &[json!({"tier": "gold"})]).await;
    let path = format!(
        "/webhooks/apps/{s}/endpoints/{}",
        endpoint["id"].as_str().unwrap()
    );
    api.patch(
        &path,
        json!({"subscriptions": [{"event_name": "e", "filter_rules": {"tier": "silver"}}]}),
    )
    .await;
    let answer = replay(&api, &app, json!({"delivery_ids": ids})).await;
    let task = api
        .task_done(&app, answer["task_id"].as_str().unwrap())
        .await;
    assert_eq!(task["replayed_count"], 1);
    let newest = api.deliveries(&app).await[0]["delivery_id"]
        .as_str()
        .unwrap()
        .to_string();
    let details = api.settled(&app, &newest).await;
    assert_eq!(details["status"], "filtered");
    assert_eq!(details["payload"], Value::Null, "never sent");
    assert_eq!(receiver.received("/hook").len(), 1);
}

//! The delivery engine against a scripted receiver on 127.0.0.1.

mod common;

use std::time::Duration;

use common::{Receiver, Reply, builder, signature_valid, start, start_documented, start_with};
use serde_json::{Value, json};

fn slug(app: &Value) -> &str {
    app["app_slug"].as_str().unwrap()
}

#[tokio::test]
async fn a_delivery_is_signed_and_recorded() {
    let (_emu, api) = start_documented().await;
    let receiver = Receiver::start().await;
    let app = api.app_with_events(&["order.paid"]).await;
    let endpoint = api
        .endpoint(
            &app,
            &receiver.url("/hook"),
            "order.paid",
            json!({"headers": {"X-Tenant": "acme"}}),
        )
        .await;
    let payload = json!({"order": "o_1", "amount": 42});
    let trigger = api.trigger(&app, "order.paid", payload.clone()).await;
    assert_eq!(trigger["delivered_count"], 1);
    assert_eq!(trigger["filtered_count"], 0);
    let id = trigger["delivery_ids"][0].as_str().unwrap().to_string();

    let got = receiver.wait_for("/hook", 1).await;
    let request = &got[0];
    assert_eq!(request.header("webhook-id"), format!("msg_{id}"));
    assert_eq!(request.header("user-agent"), "Wacht-Webhook/1.0");
    assert_eq!(request.header("content-type"), "application/json");
    assert_eq!(request.header("x-tenant"), "acme");
    assert!(signature_valid(
        app["signing_secret"].as_str().unwrap(),
        &request.headers,
        &request.body
    ));
    let body = request.json();
    assert_eq!(body["type"], "order.paid");
    assert_eq!(body["data"], payload);
    let timestamp = body["timestamp"].as_str().unwrap();
    assert!(
        timestamp.ends_with('Z') && timestamp.len() == "2026-01-01T00:00:00.000Z".len(),
        "{timestamp}"
    );

    let details = api.settled(&app, &id).await;
    assert_eq!(details["status"], "success");
    assert_eq!(details["attempt_number"], 1);
    assert_eq!(details["max_attempts"], 32);
    assert_eq!(details["http_status_code"], 200);
    assert_eq!(details["endpoint_id"], endpoint["id"]);
    assert_eq!(details["payload"], body);
    assert_eq!(details["response_body"], "ok");
    assert!(details["response_headers"]["content-length"].is_string());
}

#[tokio::test]
async fn server_errors_are_retried_with_the_same_message() {
    let (_emu, api) = start_documented().await;
    let receiver = Receiver::start().await;
    receiver.script("/hook", vec![Reply::status(500), Reply::status(503)]);
    let app = api.app_with_events(&["e"]).await;
    api.endpoint(&app, &receiver.url("/hook"), "e", json!({"max_retries": 5}))
        .await;
    let id = api.trigger(&app, "e", json!({"n": 1})).await["delivery_ids"][0]
        .as_str()
        .unwrap()
        .to_string();

    let details = api.settled(&app, &id).await;
    assert_eq!(details["status"], "success");
    assert_eq!(details["attempt_number"], 3);
    let got = receiver.received("/hook");
    assert_eq!(got.len(), 3);
    for request in &got[1..] {
        assert_eq!(request.header("webhook-id"), got[0].header("webhook-id"));
        assert_eq!(
            request.header("webhook-timestamp"),
            got[0].header("webhook-timestamp")
        );
        assert_eq!(request.body, got[0].body);
    }
    // The log keeps every state: the last failed attempt is still there.
    let failed = api
        .ok(&format!(
            "/webhooks/apps/{}/deliveries/{id}?status=failed",
            slug(&app)
        ))
        .await;
    assert_eq!(failed["http_status_code"], 503);
    assert_eq!(failed["attempt_number"], 2);
    assert_eq!(failed["response_body"], "reply 503");
}

#[tokio::test]
async fn attempts_are_bounded_by_max_retries() {
    let (_emu, api) = start_documented().await;
    let receiver = Receiver::start().await;
    receiver.default_reply("/down", Reply::status(502));
    receiver.default_reply("/timeout", Reply::status(408));
    let app = api.app_with_events(&["e"]).await;
    let endpoint = api
        .endpoint(&app, &receiver.url("/down"), "e", json!({"max_retries": 3}))
        .await;
    api.endpoint(
        &app,
        &receiver.url("/timeout"),
        "e",
        json!({"max_retries": 2}),
    )
    .await;
    let ids = api.trigger(&app, "e", json!({})).await["delivery_ids"].clone();
    for id in ids.as_array().unwrap() {
        let details = api.settled(&app, id.as_str().unwrap()).await;
        assert_eq!(details["status"], "permanently_failed");
    }
    assert_eq!(receiver.received("/down").len(), 3);
    assert_eq!(receiver.received("/timeout").len(), 2);
    let listed = api
        .ok(&format!("/webhooks/apps/{}/endpoints", slug(&app)))
        .await;
    let down = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == endpoint["id"])
        .unwrap()
        .clone();
    assert_eq!(down["failure_count"], 1);
    assert!(down["last_failure_at"].is_string());
}

#[tokio::test]
async fn client_errors_and_redirects_fail_at_once() {
    let (_emu, api) = start().await;
    let receiver = Receiver::start().await;
    receiver.default_reply("/bad", Reply::status(400));
    receiver.default_reply(
        "/moved",
        Reply::status(302).header("location", "/elsewhere"),
    );
    let app = api.app_with_events(&["e"]).await;
    api.endpoint(&app, &receiver.url("/bad"), "e", json!({}))
        .await;
    api.endpoint(&app, &receiver.url("/moved"), "e", json!({}))
        .await;
    let ids = api.trigger(&app, "e", json!({})).await["delivery_ids"].clone();
    for id in ids.as_array().unwrap() {
        let details = api.settled(&app, id.as_str().unwrap()).await;
        assert_eq!(details["status"], "permanently_failed");
        assert_eq!(details["attempt_number"], 1);
    }
    assert_eq!(receiver.received("/bad").len(), 1);
    assert_eq!(receiver.received("/moved").len(), 1);
    let listed = api
        .ok(&format!("/webhooks/apps/{}/endpoints", slug(&app)))
        .await;
    for endpoint in listed["data"].as_array().unwrap() {
        assert_eq!(
            endpoint["failure_count"], 0,
            "only exhausted deliveries count"
        );
    }
    assert!(
        receiver.received("/elsewhere").is_empty(),
        "redirects are not followed"
    );
}

#[tokio::test]
async fn gone_deactivates_the_endpoint_until_reactivated() {
    let (_emu, api) = start_documented().await;
    let receiver = Receiver::start().await;
    receiver.script("/gone", vec![Reply::status(410)]);
    let app = api.app_with_events(&["e"]).await;
    let endpoint = api
        .endpoint(&app, &receiver.url("/gone"), "e", json!({}))
        .await;
    let id = api.trigger(&app, "e", json!({})).await["delivery_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(api.settled(&app, &id).await["status"], "endpoint_disabled");
    let listed = api
        .ok(&format!(
            "/webhooks/apps/{}/endpoints?include_inactive=true",
            slug(&app)
        ))
        .await;
    assert_eq!(listed["data"][0]["is_active"], false);
    assert_eq!(listed["data"][0]["auto_disabled"], true);
    assert!(listed["data"][0]["auto_disabled_at"].is_string());

    assert_eq!(
        api.trigger(&app, "e", json!({})).await["delivered_count"],
        0,
        "an inactive endpoint gets nothing"
    );
    let endpoint_id = endpoint["id"].as_str().unwrap();
    assert_eq!(
        api.post_empty(&format!("/webhooks/endpoints/{endpoint_id}/reactivate"))
            .await
            .0,
        200
    );
    let id = api.trigger(&app, "e", json!({})).await["delivery_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(api.settled(&app, &id).await["status"], "success");
}

#[tokio::test]
async fn ten_exhausted_deliveries_disable_the_endpoint() {
    let (_emu, api) = start_documented().await;
    let receiver = Receiver::start().await;
    receiver.default_reply("/flaky", Reply::status(500));
    let app = api.app_with_events(&["e"]).await;
    let endpoint = api
        .endpoint(
            &app,
            &receiver.url("/flaky"),
            "e",
            json!({"max_retries": 1}),
        )
        .await;
    for i in 0..10 {
        let id = api.trigger(&app, "e", json!({"i": i})).await["delivery_ids"][0]
            .as_str()
            .unwrap()
            .to_string();
        api.settled(&app, &id).await;
    }
    let listed = api
        .ok(&format!(
            "/webhooks/apps/{}/endpoints?include_inactive=true",
            slug(&app)
        ))
        .await;
    let disabled = &listed["data"][0];
    assert_eq!(disabled["is_active"], false);
    assert_eq!(disabled["auto_disabled"], true);
    assert_eq!(disabled["failure_count"], 10);
    assert!(disabled["auto_disabled_at"].is_string());
    assert_eq!(
        api.trigger(&app, "e", json!({})).await["delivered_count"],
        0
    );

    let endpoint_id = endpoint["id"].as_str().unwrap();
    api.post_empty(&format!("/webhooks/endpoints/{endpoint_id}/reactivate"))
        .await;
    let listed = api
        .ok(&format!("/webhooks/apps/{}/endpoints", slug(&app)))
        .await;
    let active = &listed["data"][0];
    assert_eq!(active["is_active"], true);
    assert_eq!(active["auto_disabled"], false);
    assert_eq!(active["failure_count"], 0);
    assert_eq!(active["auto_disabled_at"], Value::Null);
}

#[tokio::test]
async fn a_slow_receiver_times_out_as_a_connection_failure() {
    let (_emu, api) = start_documented().await;
    let receiver = Receiver::start().await;
    receiver.default_reply(
        "/slow",
        Reply::status(200).delay(Duration::from_millis(1500)),
    );
    let app = api.app_with_events(&["e"]).await;
    api.endpoint(
        &app,
        &receiver.url("/slow"),
        "e",
        json!({"timeout_seconds": 1, "max_retries": 1}),
    )
    .await;
    let id = api.trigger(&app, "e", json!({})).await["delivery_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    let details = api.settled(&app, &id).await;
    assert_eq!(details["status"], "permanently_failed");
    assert_eq!(details["http_status_code"], Value::Null);
    let analytics = api
        .ok(&format!("/webhooks/apps/{}/analytics", slug(&app)))
        .await;
    assert_eq!(
        analytics["failure_reasons"],
        json!([{"reason": "Connection Failed", "count": 1}])
    );
}

#[tokio::test]
async fn retry_after_overrides_the_schedule() {
    // A schedule far longer than the test's deadline: only Retry-After can make the retry happen.
    let (_emu, api) = start_with(builder().retry_schedule(vec![Duration::from_secs(3600)])).await;
    let receiver = Receiver::start().await;
    receiver.script("/busy", vec![Reply::status(429).header("retry-after", "0")]);
    let app = api.app_with_events(&["e"]).await;
    api.endpoint(&app, &receiver.url("/busy"), "e", json!({}))
        .await;
    let id = api.trigger(&app, "e", json!({})).await["delivery_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    let details = api.settled(&app, &id).await;
    assert_eq!(details["status"], "success");
    assert_eq!(details["attempt_number"], 2);
}

#[tokio::test]
async fn retry_after_in_seconds_is_waited_for() {
    let (_emu, api) = start().await;
    let receiver = Receiver::start().await;
    receiver.script("/busy", vec![Reply::status(503).header("retry-after", "1")]);
    let app = api.app_with_events(&["e"]).await;
    api.endpoint(&app, &receiver.url("/busy"), "e", json!({}))
        .await;
    let id = api.trigger(&app, "e", json!({})).await["delivery_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    api.settled(&app, &id).await;
    let got = receiver.received("/busy");
    assert_eq!(got.len(), 2);
    // A lower bound only: the retry can never come before the wait the receiver asked for.
    assert!(got[1].at.duration_since(got[0].at) >= Duration::from_millis(950));
}

#[tokio::test]
async fn filters_decide_the_fan_out() {
    let (_emu, api) = start().await;
    let receiver = Receiver::start().await;
    let app = api.app_with_events(&["order.paid", "order.other"]).await;
    let s = slug(&app).to_string();
    let big = json!({"app_slug": s, "url": receiver.url("/big"), "subscriptions": [
        {"event_name": "order.paid", "filter_rules": {"amount": {"$gte": 100}, "currency": {"$in": ["EUR", "USD"]}}}
    ]});
    assert_eq!(
        api.post(&format!("/webhooks/apps/{s}/endpoints"), big)
            .await
            .0,
        200
    );
    api.endpoint(&app, &receiver.url("/all"), "order.paid", json!({}))
        .await;
    api.endpoint(&app, &receiver.url("/other"), "order.other", json!({}))
        .await;

    let small = api
        .trigger(&app, "order.paid", json!({"amount": 50, "currency": "EUR"}))
        .await;
    assert_eq!(small["delivered_count"], 1);
    assert_eq!(small["filtered_count"], 1);
    let large = api
        .trigger(
            &app,
            "order.paid",
            json!({"amount": 500, "currency": "USD"}),
        )
        .await;
    assert_eq!(large["delivered_count"], 2);
    assert_eq!(large["filtered_count"], 0);
    receiver.wait_for("/all", 2).await;
    let big_got = receiver.wait_for("/big", 1).await;
    assert_eq!(big_got[0].json()["data"]["amount"], 500);
    let deliveries = api.deliveries(&app).await;
    assert_eq!(
        deliveries.len(),
        3,
        "a filtered endpoint gets no delivery and no log row"
    );
    assert!(
        receiver.received("/other").is_empty(),
        "only exact event-name subscribers"
    );
}

#[tokio::test]
async fn test_sends_queue_a_real_test_webhook() {
    let (_emu, api) = start().await;
    let receiver = Receiver::start().await;
    let app = api.app_with_events(&["order.paid"]).await;
    let endpoint = api
        .endpoint(&app, &receiver.url("/hook"), "order.paid", json!({}))
        .await;
    let path = format!(
        "/webhooks/apps/{}/endpoints/{}/test",
        slug(&app),
        endpoint["id"].as_str().unwrap()
    );
    let (status, answer) = api.post(&path, json!({"event_name": "order.paid"})).await;
    assert_eq!(status, 200);
    assert_eq!(
        answer,
        json!({"success": true, "status_code": 202, "response_time_ms": 0,
               "response_body": "Test webhook initiated. Check delivery history for results.", "error": null})
    );
    let got = receiver.wait_for("/hook", 1).await;
    let body = got[0].json();
    assert_eq!(body["type"], "test.webhook");
    assert_eq!(body["data"]["test"], true);
    assert_eq!(body["data"]["event"], "order.paid");
    assert!(body["data"]["timestamp"].is_string());
    assert!(signature_valid(
        app["signing_secret"].as_str().unwrap(),
        &got[0].headers,
        &got[0].body
    ));
    let (_, _) = api
        .post(
            &path,
            json!({"event_name": "order.paid", "payload": {"custom": 1}}),
        )
        .await;
    let got = receiver.wait_for("/hook", 2).await;
    assert_eq!(got[1].json()["data"], json!({"custom": 1}));
    assert_eq!(api.deliveries(&app).await[0]["event_name"], "test.webhook");
}

#[tokio::test]
async fn rotation_signs_with_the_new_secret() {
    let (_emu, api) = start().await;
    let receiver = Receiver::start().await;
    let app = api.app_with_events(&["e"]).await;
    api.endpoint(&app, &receiver.url("/hook"), "e", json!({}))
        .await;
    let (_, rotated) = api
        .post_empty(&format!("/webhooks/apps/{}/rotate-secret", slug(&app)))
        .await;
    api.trigger(&app, "e", json!({})).await;
    let got = receiver.wait_for("/hook", 1).await;
    assert!(signature_valid(
        rotated["signing_secret"].as_str().unwrap(),
        &got[0].headers,
        &got[0].body
    ));
    assert!(!signature_valid(
        app["signing_secret"].as_str().unwrap(),
        &got[0].headers,
        &got[0].body
    ));
}

#[tokio::test]
async fn loopback_only_never_contacts_other_hosts() {
    let (_emu, api) = start_documented().await;
    let app = api.app_with_events(&["e"]).await;
    api.endpoint(
        &app,
        "http://hooks.example.com/wacht",
        "e",
        json!({"max_retries": 2}),
    )
    .await;
    let id = api.trigger(&app, "e", json!({})).await["delivery_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    let details = api.settled(&app, &id).await;
    assert_eq!(details["status"], "permanently_failed");
    assert_eq!(details["attempt_number"], 2);
    assert_eq!(details["http_status_code"], Value::Null);
    let analytics = api
        .ok(&format!("/webhooks/apps/{}/analytics", slug(&app)))
        .await;
    assert_eq!(
        analytics["failure_reasons"],
        json!([{"reason": "Connection Failed", "count": 2}])
    );
}

#[tokio::test]
async fn rate_limits_throttle_without_using_attempts() {
    let (_emu, api) = start().await;
    let receiver = Receiver::start().await;
    let app = api.app_with_events(&["e"]).await;
    api.endpoint(
        &app,
        &receiver.url("/limited"),
        "e",
        json!({"max_retries": 1, "rate_limit_config": {"duration_ms": 100, "max_requests": 1}}),
    )
    .await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            api.trigger(&app, "e", json!({"i": i})).await["delivery_ids"][0]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    for id in &ids {
        let details = api.settled(&app, id).await;
        assert_eq!(details["status"], "success");
        assert_eq!(details["attempt_number"], 1);
    }
    assert_eq!(receiver.received("/limited").len(), 3);
}

#[tokio::test]
async fn the_list_is_newest_first_and_filters_the_latest_state() {
    let (_emu, api) = start_documented().await;
    let receiver = Receiver::start().await;
    receiver.default_reply("/fail", Reply::status(404));
    let app = api.app_with_events(&["a", "b"]).await;
    let ok = api
        .endpoint(&app, &receiver.url("/ok"), "a", json!({}))
        .await;
    let s = slug(&app).to_string();
    let fail_body = json!({"app_slug": s, "url": receiver.url("/fail"), "subscriptions": [{"event_name": "a"}, {"event_name": "b"}]});
    let (_, fail) = api
        .post(&format!("/webhooks/apps/{s}/endpoints"), fail_body)
        .await;
    let mut ids = Vec::new();
    for event in ["a", "b", "a"] {
        for id in api.trigger(&app, event, json!({})).await["delivery_ids"]
            .as_array()
            .unwrap()
        {
            ids.push(id.as_str().unwrap().to_string());
        }
    }
    for id in &ids {
        api.settled(&app, id).await;
    }
    let all = api.deliveries(&app).await;
    let listed: Vec<&str> = all
        .iter()
        .map(|d| d["delivery_id"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    expected.reverse();
    assert_eq!(listed, expected, "newest delivery first");

    let base = format!("/webhooks/apps/{s}/deliveries");
    let count = |query: String| {
        let api = api.clone();
        let base = base.clone();
        async move {
            api.ok(&format!("{base}?{query}")).await["data"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(count("status=success".into()).await, 2);
    assert_eq!(count("status=permanently_failed".into()).await, 3);
    assert_eq!(count("event_name=b".into()).await, 1);
    assert_eq!(
        count(format!("endpoint_id={}", ok["id"].as_str().unwrap())).await,
        2
    );
    assert_eq!(
        count(format!(
            "endpoint_id={}&status=success",
            fail["id"].as_str().unwrap()
        ))
        .await,
        0
    );
    let newest = all[0]["timestamp"].as_str().unwrap();
    let oldest = all
        .iter()
        .map(|d| d["timestamp"].as_str().unwrap())
        .min()
        .unwrap();
    assert!(count(format!("since={newest}")).await >= 1);
    assert_eq!(count(format!("until={oldest}")).await, 1);
    assert_eq!(count("since=2999-01-01T00:00:00Z".into()).await, 0);

    let page = api.ok(&format!("{base}?limit=2&offset=1")).await;
    assert_eq!(page["has_more"], true);
    assert_eq!(page["data"][0]["delivery_id"], all[1]["delivery_id"]);
}

#[tokio::test]
async fn endpoint_changes_apply_to_pending_retries() {
    let (_emu, api) = start().await;
    let receiver = Receiver::start().await;
    // The receiver asks for a one-second pause, long enough to change the endpoint meanwhile.
    receiver.script(
        "/first",
        vec![Reply::status(500).header("retry-after", "1")],
    );
    let app = api.app_with_events(&["e"]).await;
    let endpoint = api
        .endpoint(&app, &receiver.url("/first"), "e", json!({}))
        .await;
    let path = format!(
        "/webhooks/apps/{}/endpoints/{}",
        slug(&app),
        endpoint["id"].as_str().unwrap()
    );
    // The retry after the 500 goes to the new URL.
    let id = api.trigger(&app, "e", json!({})).await["delivery_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    receiver.wait_for("/first", 1).await;
    api.patch(&path, json!({"url": receiver.url("/second")}))
        .await;
    let details = api.settled(&app, &id).await;
    assert_eq!(details["status"], "success");
    assert_eq!(receiver.received("/first").len(), 1);
    assert_eq!(receiver.received("/second").len(), 1);
    assert_eq!(
        receiver.received("/second")[0].header("webhook-id"),
        format!("msg_{id}")
    );
}

#[tokio::test]
async fn shutdown_finishes_in_flight_attempts() {
    let (emu, api) = start().await;
    let receiver = Receiver::start().await;
    receiver.default_reply(
        "/slow",
        Reply::status(200).delay(Duration::from_millis(300)),
    );
    let app = api.app_with_events(&["e"]).await;
    api.endpoint(&app, &receiver.url("/slow"), "e", json!({}))
        .await;
    api.trigger(&app, "e", json!({})).await;
    receiver.wait_for("/slow", 1).await;
    emu.shutdown().await;
    assert_eq!(receiver.received("/slow").len(), 1);
    assert!(
        api.http
            .get(format!("{}/webhooks/apps", api.base))
            .send()
            .await
            .is_err(),
        "no longer serving"
    );
}

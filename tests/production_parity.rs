//! The client against the emulator's default behaviour, which is production's (wire reference,
//! "Production behaviour"): what passes here passes against the real service.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use chrono::{Duration as Span, Utc};
use futures_util::TryStreamExt;
use serde_json::json;
use wacht_webhooks::{
    Client, CreateWebhookEndpointRequest, DeliveryStatus, ErrorKind, ListWebhookAppsOptions,
    ListWebhookDeliveriesOptions, ListWebhookReplayTasksOptions, ReplayWebhookDeliveriesRequest,
    WaitOptions,
};

use common::*;

/// P1: task records expire before the task index does, so the production task list answers short
/// and empty pages that still say more follow. The stream yields each live task once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_stream_yields_each_live_task_once_over_expired_records() {
    let ttl = Duration::from_millis(400);
    let h = Harness::start_with(|b| b.replay_task_ttl(ttl)).await;
    let w = &h.webhooks;
    let fx = h.fixture("tasks").await;
    let run_task = async || {
        let queued = w
            .replay_webhook_deliveries(fx.slug(), ReplayWebhookDeliveriesRequest::by_ids(["1"]))
            .await
            .unwrap();
        let task_id = queued.task_id.expect("a new task is named");
        w.wait_for_replay_task(
            fx.slug(),
            &task_id,
            WaitOptions::new().poll_interval(POLL).timeout(DEADLINE),
        )
        .await
        .unwrap();
        task_id
    };
    for _ in 0..5 {
        run_task().await;
    }
    tokio::time::sleep(ttl + Duration::from_millis(200)).await;
    let mut live = HashSet::new();
    for _ in 0..3 {
        live.insert(run_task().await);
    }

    // The raw pages: the expired records leave empty pages that still say more follow.
    let options = || ListWebhookReplayTasksOptions::new().limit(2);
    let tail = w
        .list_webhook_replay_tasks(fx.slug(), options().offset(4))
        .await
        .unwrap();
    assert!(tail.data.is_empty() && tail.has_more, "{tail:?}");

    let streamed: Vec<String> = w
        .list_webhook_replay_tasks_stream(fx.slug(), options())
        .map_ok(|task| task.task_id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed.len(), live.len(), "{streamed:?}");
    assert_eq!(streamed.into_iter().collect::<HashSet<_>>(), live);
    h.shutdown().await;
}

/// P4: production's 429 carries its wait only in the message; the client reads it there and
/// its retry waits that long.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_without_retry_after_still_tells_the_wait_and_is_retried() {
    // A window far longer than the three calls take, even on a loaded machine.
    let window = Duration::from_secs(2);
    let h = Harness::start_with(|b| b.api_rate_limit(2, window)).await;
    let patient = h.webhooks.clone();
    let impatient = Client::builder()
        .api_key(API_KEY)
        .base_url(h.base_url())
        .max_retries(0)
        .build()
        .unwrap()
        .webhooks();
    let list = ListWebhookAppsOptions::new;
    impatient.list_webhook_apps(list()).await.unwrap();
    impatient.list_webhook_apps(list()).await.unwrap();
    let limited = impatient.list_webhook_apps(list()).await.unwrap_err();
    assert_eq!(limited.kind(), ErrorKind::RateLimited);
    let wait = limited
        .retry_after()
        .expect("the wait is read from the message");
    assert!(wait <= window, "{wait:?}");
    assert!(limited.is_retryable());

    // The same limit, with retries: the call waits out the window and succeeds.
    patient.list_webhook_apps(list()).await.unwrap();
    h.shutdown().await;
}

/// P5: a replay request repeated while the first is still being queued answers `task_id: null`;
/// the job asks again with the same key instead of losing the request, so `wait` counts every
/// delivery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_answered_without_a_task_id_is_still_counted() {
    let h = Harness::start_with(|b| b.replay_queue_delay(Duration::from_millis(300))).await;
    let w = &h.webhooks;
    let fx = h.fixture("queued").await;
    let ids = h.trigger(fx.slug(), ORDER_PAID, json!({"n": 1})).await;
    h.wait_until_settled(fx.slug()).await;
    let job = || {
        w.replay(fx.slug())
            .delivery_ids(ids.clone())
            .idempotency_key("incident-7")
            .poll_interval(Duration::from_millis(100))
            .send()
    };
    let (first, repeat) = tokio::join!(job(), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        job().await
    });
    let (first, repeat) = (first.unwrap(), repeat.unwrap());
    assert_eq!(first.task_ids().len(), 1);
    assert_eq!(
        repeat.task_ids(),
        first.task_ids(),
        "the same task, named late"
    );
    assert_eq!(repeat.unresolved_keys().count(), 0);
    let summary = repeat
        .wait(WaitOptions::new().poll_interval(POLL).timeout(DEADLINE))
        .await
        .unwrap();
    assert_eq!((summary.total_count, summary.replayed_count), (1, 1));
    h.shutdown().await;
}

/// P6: production ignores `endpoint_id`, `since` and `until` on the deliveries list; the stream
/// applies them itself, so it gives the same rows against either behaviour.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_delivery_stream_filters_alike_in_both_behaviours() {
    for behaviour in [Behaviour::Production, Behaviour::Documented] {
        let h = Harness::start_with(|b| b.behaviour(behaviour)).await;
        let w = &h.webhooks;
        let fx = h.fixture("filters").await;
        let other = w
            .create_webhook_endpoint(
                fx.slug(),
                CreateWebhookEndpointRequest::new(h.receiver.url("other")).subscribe(ORDER_PAID),
            )
            .await
            .unwrap();
        for n in 0..6 {
            h.trigger(fx.slug(), ORDER_PAID, json!({ "n": n })).await;
        }
        h.wait_until_settled(fx.slug()).await;
        let all = w
            .list_webhook_deliveries(fx.slug(), ListWebhookDeliveriesOptions::new())
            .await
            .unwrap()
            .data;
        let expected: HashSet<String> = all
            .iter()
            .filter(|d| d.endpoint_id == other.id)
            .map(|d| d.delivery_id.clone())
            .collect();
        assert_eq!(expected.len(), 6);

        let by_endpoint = || {
            ListWebhookDeliveriesOptions::new()
                .limit(4)
                .endpoint_id(&other.id)
        };
        let raw = w
            .list_webhook_deliveries(fx.slug(), by_endpoint().limit(100))
            .await
            .unwrap()
            .data;
        let ignored = raw.iter().any(|d| d.endpoint_id != other.id);
        assert_eq!(ignored, behaviour == Behaviour::Production, "{behaviour:?}");

        let streamed: Vec<String> = w
            .list_webhook_deliveries_stream(fx.slug(), by_endpoint())
            .map_ok(|d| d.delivery_id)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(streamed.len(), 6, "{behaviour:?}: each row once");
        assert_eq!(streamed.into_iter().collect::<HashSet<_>>(), expected);

        let later = Utc::now() + Span::hours(1);
        let none: Vec<_> = w
            .list_webhook_deliveries_stream(fx.slug(), by_endpoint().since(later))
            .try_collect()
            .await
            .unwrap();
        assert!(none.is_empty(), "{behaviour:?}");
        let earlier = Utc::now() - Span::hours(1);
        let none: Vec<_> = w
            .list_webhook_deliveries_stream(fx.slug(), by_endpoint().until(earlier))
            .try_collect()
            .await
            .unwrap();
        assert!(none.is_empty(), "{behaviour:?}");
        let failed: Vec<_> = w
            .list_webhook_deliveries_stream(
                fx.slug(),
                by_endpoint().status(DeliveryStatus::PermanentlyFailed),
            )
            .try_collect()
            .await
            .unwrap();
        assert!(failed.is_empty(), "{behaviour:?}");
        h.shutdown().await;
    }
}

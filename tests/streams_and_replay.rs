//! Pagination streams and replay jobs against the emulator (issue 5): every item once in server
//! order, replays split into the server's limits, throttled to three running tasks, safe to re-run,
//! and checked before anything is sent.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use chrono::{Duration as Span, Utc};
use futures_util::{StreamExt, TryStreamExt, stream};
use serde_json::json;
use wacht_webhooks::{
    CreateWebhookAppRequest, DeliveryStatus, ErrorKind, ListWebhookAppsOptions,
    ListWebhookDeliveriesOptions, ListWebhookEndpointsOptions, ListWebhookReplayTasksOptions,
    ReplayStatusFilter, ReplayTaskState, ReplayWebhookDeliveriesRequest, WaitOptions, Webhooks,
};

use common::*;

/// Ids that are no delivery of any app: a replay counts each of them failed.
fn unknown_ids(n: usize) -> Vec<String> {
    (1..=n).map(|i| i.to_string()).collect()
}

/// Newest first, as the server lists deliveries (ids grow with creation).
fn newest_first(mut ids: Vec<String>) -> Vec<String> {
    ids.sort_by_key(|id| std::cmp::Reverse(id.parse::<i64>().expect("numeric ids")));
    ids
}

/// Triggers `order.paid` `n` times (a few at once); returns the delivery ids, newest first.
async fn make_deliveries(h: &Harness, app_slug: &str, n: usize) -> Vec<String> {
    let ids: Vec<Vec<String>> = stream::iter(0..n)
        .map(|i| h.trigger(app_slug, ORDER_PAID, json!({ "n": i })))
        .buffer_unordered(8)
        .collect()
        .await;
    let ids: Vec<String> = ids.into_iter().flatten().collect();
    assert_eq!(ids.len(), n);
    newest_first(ids)
}

/// Every delivery id of the app, walking the non-streaming list page by page.
async fn list_page_by_page(w: &Webhooks, app_slug: &str, limit: i64) -> Vec<String> {
    let mut ids = Vec::new();
    let mut offset = 0;
    loop {
        let page = w
            .list_webhook_deliveries(
                app_slug,
                ListWebhookDeliveriesOptions::new()
                    .limit(limit)
                    .offset(offset),
            )
            .await
            .unwrap();
        offset += page.data.len() as i64;
        ids.extend(page.data.into_iter().map(|d| d.delivery_id));
        if !page.has_more {
            return ids;
        }
    }
}

async fn stream_deliveries(
    w: &Webhooks,
    app_slug: &str,
    options: ListWebhookDeliveriesOptions,
) -> Vec<String> {
    w.list_webhook_deliveries_stream(app_slug, options)
        .map_ok(|d| d.delivery_id)
        .try_collect()
        .await
        .expect("the stream completes")
}

/// Waits until every one of the app's `n` deliveries has a final state (the stats count only those).
async fn settle(w: &Webhooks, app_slug: &str, n: usize) {
    eventually(
        &format!("{n} deliveries of {app_slug} to settle"),
        async || {
            let stats = w.get_webhook_stats(app_slug).await.unwrap();
            (stats.total_deliveries == n as i64).then_some(())
        },
    )
    .await
}

/// Every delivery once, in the server's order: production orders rows by their latest activity
/// (P6), the documented service by creation; either way the stream walks what the pages hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_streams_yield_every_item_once_in_server_order() {
    for behaviour in [Behaviour::Production, Behaviour::Documented] {
        let h = Harness::start_with(|b| b.behaviour(behaviour)).await;
        let w = &h.webhooks;
        let page = || ListWebhookDeliveriesOptions::new().limit(100);

        // 0 and 1 item.
        let empty = h.fixture("empty").await;
        assert!(stream_deliveries(w, empty.slug(), page()).await.is_empty());
        let single = h.fixture("single").await;
        let one = make_deliveries(&h, single.slug(), 1).await;
        assert_eq!(stream_deliveries(w, single.slug(), page()).await, one);

        // Exactly one page: the server says no page follows.
        let full = h.fixture("full").await;
        let hundred = make_deliveries(&h, full.slug(), 100).await;
        settle(w, full.slug(), 100).await;
        let first = w
            .list_webhook_deliveries(full.slug(), page())
            .await
            .unwrap();
        assert_eq!((first.data.len(), first.has_more), (100, false));
        let streamed = stream_deliveries(w, full.slug(), page()).await;
        assert_eq!(
            streamed.iter().collect::<HashSet<_>>(),
            hundred.iter().collect()
        );

        // Many pages: 1,234 deliveries in pages of 100.
        let bulk = h.fixture("bulk").await;
        let created = make_deliveries(&h, bulk.slug(), 1234).await;
        settle(w, bulk.slug(), 1234).await;
        let streamed = stream_deliveries(w, bulk.slug(), page()).await;
        assert_eq!(streamed.len(), 1234, "{behaviour:?}");
        let distinct: HashSet<_> = streamed.iter().collect();
        assert_eq!(distinct.len(), 1234, "no item twice");
        assert_eq!(distinct, created.iter().collect(), "every delivery");
        let server_order = list_page_by_page(w, bulk.slug(), 100).await;
        assert_eq!(streamed, server_order, "in the server's order");
        if behaviour == Behaviour::Documented {
            assert_eq!(streamed, created, "newest delivery first");
        }

        // From an offset, in pages the server's default size, with a filter.
        let tail = stream_deliveries(w, bulk.slug(), page().offset(1200)).await;
        assert_eq!(tail, server_order[1200..]);
        let default_pages =
            stream_deliveries(w, bulk.slug(), ListWebhookDeliveriesOptions::new()).await;
        assert_eq!(default_pages, server_order);
        let none = stream_deliveries(
            w,
            bulk.slug(),
            page().status(DeliveryStatus::PermanentlyFailed),
        )
        .await;
        assert!(none.is_empty());

        // A page that fails is yielded as an error, then the stream ends.
        let outsider = h.client_with_key("not_the_key").webhooks();
        let mut refused =
            std::pin::pin!(outsider.list_webhook_deliveries_stream(bulk.slug(), page()));
        let err = refused.next().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthorized);
        assert!(refused.next().await.is_none());
        h.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_endpoint_and_task_streams_walk_every_page() {
    let h = Harness::start().await;
    let w = &h.webhooks;

    // Apps: 25 in pages of 10, in creation order, like the pages of the plain list.
    h.catalog("many_events").await;
    let mut slugs = Vec::new();
    for n in 0..25 {
        let app = w
            .create_webhook_app(
                CreateWebhookAppRequest::new(format!("App {n}"))
                    .app_slug(format!("app_{n:02}"))
                    .event_catalog_slug("many_events"),
            )
            .await
            .unwrap();
        slugs.push(app.app_slug);
    }
    let streamed: Vec<String> = w
        .list_webhook_apps_stream(ListWebhookAppsOptions::new().limit(10))
        .map_ok(|a| a.app_slug)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed, slugs);
    let mut paged = Vec::new();
    for offset in [0, 10, 20] {
        let page = w
            .list_webhook_apps(ListWebhookAppsOptions::new().limit(10).offset(offset))
            .await
            .unwrap();
        assert_eq!(page.has_more, offset < 20);
        paged.extend(page.data.into_iter().map(|a| a.app_slug));
    }
    assert_eq!(streamed, paged);

    // Endpoints: none, then 7 in pages of 3.
    let endpoints = |slug: &str| {
        w.list_webhook_endpoints_stream(slug, ListWebhookEndpointsOptions::new().limit(3))
            .map_ok(|e| e.id)
            .try_collect::<Vec<_>>()
    };
    assert!(endpoints("app_00").await.unwrap().is_empty());
    let mut ids = Vec::new();
    for n in 0..7 {
        ids.push(h.endpoint("app_01", &format!("hook_{n}")).await.id);
    }
    assert_eq!(endpoints("app_01").await.unwrap(), ids);

    // Replay tasks: 5 in pages of 2, newest first.
    let mut tasks = Vec::new();
    for n in 0..5 {
        let queued = w
            .replay_webhook_deliveries(
                "app_02",
                ReplayWebhookDeliveriesRequest::by_ids(unknown_ids(n + 1)),
            )
            .await
            .unwrap();
        let task = queued.task_id.unwrap();
        w.wait_for_replay_task(
            "app_02",
            &task,
            WaitOptions::new().poll_interval(POLL).timeout(DEADLINE),
        )
        .await
        .unwrap();
        tasks.push(task);
    }
    tasks.reverse();
    let streamed: Vec<String> = w
        .list_webhook_replay_tasks_stream("app_02", ListWebhookReplayTasksOptions::new().limit(2))
        .map_ok(|t| t.task_id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed, tasks);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_of_1201_ids_makes_three_requests_and_reruns_replay_nothing_twice() {
    let h = Harness::start().await;
    let w = &h.webhooks;
    let fx = h.fixture("bulk_replay").await;
    let slug = fx.slug();
    let real = make_deliveries(&h, slug, 3).await;
    h.wait_until_settled(slug).await;
    h.receiver.wait_for(&fx.hook, 3).await;

    // 3 deliveries of the app and 1,198 ids that are not: 500 + 500 + 201.
    let mut ids = real.clone();
    ids.extend(unknown_ids(1198));
    let job = w
        .replay(slug)
        .delivery_ids(ids.clone())
        .idempotency_key("bulk-1")
        .poll_interval(POLL)
        .send()
        .await
        .unwrap();
    assert_eq!(job.task_ids().len(), 3);
    let tasks = w
        .list_webhook_replay_tasks(slug, ListWebhookReplayTasksOptions::new())
        .await
        .unwrap();
    let mut listed: Vec<String> = tasks.data.into_iter().map(|t| t.task_id).collect();
    listed.reverse();
    assert_eq!(listed, job.task_ids(), "one task per request");

    // wait: the sums of what the tasks report.
    let summary = job
        .clone()
        .wait(WaitOptions::new().poll_interval(POLL).timeout(DEADLINE))
        .await
        .unwrap();
    let mut reported = Vec::new();
    for id in job.task_ids() {
        reported.push(w.get_webhook_replay_task_status(slug, id).await.unwrap());
    }
    assert_eq!(summary.tasks, reported);
    let totals: Vec<i64> = reported.iter().map(|t| t.total_count).collect();
    assert_eq!(totals, [500, 500, 201]);
    assert_eq!(summary.total_count, totals.iter().sum::<i64>());
    assert_eq!(
        summary.replayed_count,
        reported.iter().map(|t| t.replayed_count).sum::<i64>()
    );
    assert_eq!(
        summary.failed_count,
        reported.iter().map(|t| t.failed_count).sum::<i64>()
    );
    assert_eq!(
        (
            summary.total_count,
            summary.replayed_count,
            summary.failed_count
        ),
        (1201, 3, 1198)
    );
    assert!(
        reported
            .iter()
            .all(|t| t.status == ReplayTaskState::Completed)
    );
    h.receiver.wait_for(&fx.hook, 6).await;
    h.wait_until_settled(slug).await;

    // The same job again: the same tasks answer, nothing is replayed twice.
    let again = w
        .replay(slug)
        .delivery_ids(ids)
        .idempotency_key("bulk-1")
        .poll_interval(POLL)
        .send()
        .await
        .unwrap();
    assert_eq!(again.task_ids(), job.task_ids());
    let again = again
        .wait(WaitOptions::new().poll_interval(POLL).timeout(DEADLINE))
        .await
        .unwrap();
    assert_eq!(again.replayed_count, 3, "the first run's counts");
    let tasks = w
        .list_webhook_replay_tasks(slug, ListWebhookReplayTasksOptions::new())
        .await
        .unwrap();
    assert_eq!(tasks.data.len(), 3, "no new task");
    // Anything replayed again would have been queued before this sentinel is delivered.
    let sentinel = h
        .trigger(slug, ORDER_REFUNDED, json!({"sentinel": true}))
        .await;
    h.receiver.wait_for_delivery(&fx.hook, &sentinel[0]).await;
    h.wait_until_settled(slug).await;
    assert_eq!(h.receiver.count(&fx.hook), 3 + 3 + 1);
    assert_eq!(list_page_by_page(w, slug, 100).await.len(), 3 + 3 + 1);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn date_ranges_are_split_into_windows_of_48_hours() {
    let h = Harness::start().await;
    let w = &h.webhooks;
    let fx = h.fixture("ranges").await;
    let slug = fx.slug();
    make_deliveries(&h, slug, 2).await;
    h.wait_until_settled(slug).await;

    // 5 days: 48 h + 48 h + 24 h, one task each; the deliveries are all in the last window.
    let now = Utc::now();
    let job = w
        .replay(slug)
        .between(now - Span::days(5), now)
        .status(ReplayStatusFilter::Success)
        .poll_interval(POLL)
        .send()
        .await
        .unwrap();
    assert_eq!(job.task_ids().len(), 3);
    let summary = job
        .wait(WaitOptions::new().poll_interval(POLL).timeout(DEADLINE))
        .await
        .unwrap();
    let totals: Vec<i64> = summary.tasks.iter().map(|t| t.total_count).collect();
    assert_eq!(totals, [0, 0, 2]);
    assert_eq!((summary.replayed_count, summary.failed_count), (2, 0));
    h.receiver.wait_for(&fx.hook, 4).await;
    h.wait_until_settled(slug).await;

    // failed_since: failed and permanently_failed, each over the 2 windows of the last 3 days: 4
    // requests, sent within the server's limit of three running tasks.
    h.receiver.respond(&fx.hook, 500);
    let failing = h.trigger(slug, ORDER_PAID, json!({"fails": true})).await;
    h.wait_for_status(slug, &failing[0], DeliveryStatus::PermanentlyFailed)
        .await;
    h.receiver.respond(&fx.hook, 200);
    let job = w
        .replay(slug)
        .failed_since(Utc::now() - Span::days(3))
        .poll_interval(POLL)
        .send()
        .await
        .unwrap();
    assert_eq!(job.task_ids().len(), 4);
    let summary = job
        .wait(WaitOptions::new().poll_interval(POLL).timeout(DEADLINE))
        .await
        .unwrap();
    assert_eq!(
        (
            summary.total_count,
            summary.replayed_count,
            summary.failed_count
        ),
        (1, 1, 0)
    );
    let replayed = w
        .list_webhook_deliveries(slug, ListWebhookDeliveriesOptions::new().limit(1))
        .await
        .unwrap()
        .data
        .remove(0);
    let replayed = h
        .wait_for_status(slug, &replayed.delivery_id, DeliveryStatus::Success)
        .await;
    // Production re-sends the original's stored envelope as the replay's payload (P3).
    assert_eq!(replayed.payload["data"]["type"], json!(ORDER_PAID));
    assert_eq!(replayed.payload["data"]["data"], json!({"fails": true}));
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_waits_for_a_free_task_slot_and_wait_times_out_naming_the_tasks() {
    // Each item of a replay task takes 20 ms, so tasks stay running while the test looks.
    let h =
        Harness::start_with(|emulator| emulator.replay_item_delay(Duration::from_millis(20))).await;
    let w = &h.webhooks;
    let fx = h.fixture("slots").await;
    let slug = fx.slug();

    // Three running tasks: the server refuses a fourth.
    let mut busy = Vec::new();
    for (n, size) in [50, 60, 70].into_iter().enumerate() {
        let queued = w
            .replay_webhook_deliveries(
                slug,
                ReplayWebhookDeliveriesRequest::by_ids(unknown_ids(size))
                    .idempotency_key(format!("busy-{n}")),
            )
            .await
            .unwrap();
        busy.push(queued.task_id.unwrap());
    }
    expect_bad_request(
        w.replay_webhook_deliveries(slug, ReplayWebhookDeliveriesRequest::by_ids(unknown_ids(1)))
            .await,
        "Maximum 3 replay jobs can run at once for this app",
    );

    // `send` waits for one of them to finish instead of failing.
    let job = w
        .replay(slug)
        .delivery_ids(unknown_ids(500))
        .poll_interval(POLL)
        .send()
        .await
        .unwrap();
    let [task] = job.task_ids() else {
        panic!("one request: {:?}", job.task_ids())
    };
    assert!(!busy.contains(task));
    let mut finished = 0;
    for id in &busy {
        let status = w.get_webhook_replay_task_status(slug, id).await.unwrap();
        finished += usize::from(status.status == ReplayTaskState::Completed);
    }
    assert!(
        finished >= 1,
        "the server took the job only once a slot was free"
    );

    // The new task has 500 items at 20 ms each: a short wait times out and names it.
    let err = job
        .clone()
        .wait(
            WaitOptions::new()
                .poll_interval(POLL)
                .timeout(Duration::from_millis(50)),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.to_string().contains(task.as_str()), "{err}");

    // Cancelled tasks are final: wait returns with what was done.
    w.cancel_webhook_replay_task(slug, task).await.unwrap();
    let summary = job
        .wait(WaitOptions::new().poll_interval(POLL).timeout(DEADLINE))
        .await
        .unwrap();
    assert_eq!(summary.tasks[0].status, ReplayTaskState::Cancelled);
    assert_eq!(summary.total_count, 500);
    assert!(summary.failed_count < 500);
    for id in &busy {
        w.wait_for_replay_task(
            slug,
            id,
            WaitOptions::new().poll_interval(POLL).timeout(DEADLINE),
        )
        .await
        .unwrap();
    }
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_replay_jobs_are_refused_before_any_request() {
    // A client of an inbox: any request it made would be recorded there.
    let h = Harness::start().await;
    let inbox = h.inbox("nothing");
    let w = client_for(&inbox.url(), API_KEY).webhooks();
    let now = Utc::now();

    let no_ids = w
        .replay("app")
        .delivery_ids(Vec::<String>::new())
        .send()
        .await;
    assert!(
        expect_invalid_input(no_ids)
            .to_string()
            .contains("no delivery ids")
    );
    let backwards = w
        .replay("app")
        .between(now, now - Span::hours(1))
        .send()
        .await;
    assert!(
        expect_invalid_input(backwards)
            .to_string()
            .contains("before it starts")
    );
    expect_invalid_input(
        w.replay("app")
            .failed_since(now - Span::hours(1))
            .status(ReplayStatusFilter::Success)
            .send()
            .await,
    );
    expect_invalid_input(
        w.replay("app")
            .delivery_ids(["1"])
            .event_name(ORDER_PAID)
            .send()
            .await,
    );
    expect_invalid_input(w.replay("app").send().await);
    expect_invalid_input(
        w.replay_webhook_deliveries(
            "app",
            ReplayWebhookDeliveriesRequest::by_ids(["1"]).status(ReplayStatusFilter::Failed),
        )
        .await,
    );
    assert!(inbox.received().is_empty(), "nothing was sent");
}

//! Fixtures and state files: what survives a restart, and how bad files are refused.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use wacht_webhooks_emulator::{Emulator, EmulatorBuilder, StartError};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn fixtures(dir: &Path, receiver: &str) -> PathBuf {
    let path = dir.join("dev.yaml");
    std::fs::write(
        &path,
        format!(
            r#"
catalogs:
  - slug: shop
    name: Shop
    events:
      - name: order.created
        description: An order was placed
      - name: order.paid
apps:
  - slug: shop_dev
    name: Shop (dev)
    event_catalog: shop
    signing_secret: {SECRET}
    endpoints:
      - url: {receiver}
        subscriptions:
          - order.created
          - event_name: order.paid
            filter_rules: null
  - slug: derived
    event_catalog: shop
"#
        ),
    )
    .unwrap();
    path
}

async fn app(api: &Api, slug: &str) -> Value {
    api.ok(&format!("/webhooks/apps/{slug}")).await
}

/// The error `start` gives for this builder.
async fn start_error(builder: EmulatorBuilder) -> StartError {
    builder.start().await.expect_err("the start is refused")
}

// --- fixtures ------------------------------------------------------------------------------

#[tokio::test]
async fn fixtures_create_catalogs_apps_and_endpoints_that_deliver() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    let file = fixtures(dir.path(), &receiver.url("/hook"));
    let (_emu, api) = start_with(builder().fixtures_file(&file)).await;
    let shop = app(&api, "shop_dev").await;
    assert_eq!(shop["signing_secret"], SECRET);
    assert_eq!(shop["name"], "Shop (dev)");
    api.trigger(&shop, "order.created", json!({"n": 1})).await;
    let got = receiver.wait_for("/hook", 1).await;
    assert!(signature_valid(SECRET, &got[0].headers, &got[0].body));
}

#[tokio::test]
async fn fixture_secrets_survive_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixtures(dir.path(), "http://127.0.0.1:9/hook");
    let (emu, api) = start_with(builder().fixtures_file(&file)).await;
    let derived = app(&api, "derived").await["signing_secret"].clone();
    assert!(derived.as_str().unwrap().starts_with("whsec_"));
    emu.shutdown().await;

    let (_emu, api) = start_with(builder().fixtures_file(&file)).await;
    assert_eq!(app(&api, "shop_dev").await["signing_secret"], SECRET);
    assert_eq!(app(&api, "derived").await["signing_secret"], derived);
}

async fn fixtures_error(yaml: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    if let Some(yaml) = yaml {
        std::fs::write(&path, yaml).unwrap();
    }
    let error = start_error(builder().fixtures_file(&path)).await;
    assert!(matches!(error, StartError::Fixtures { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("bad.yaml"), "names the file: {message}");
    message
}

#[tokio::test]
async fn a_missing_fixtures_file_is_a_clear_error() {
    let message = fixtures_error(None).await;
    assert!(message.contains("cannot read"), "{message}");
}

#[tokio::test]
async fn bad_yaml_names_the_line() {
    let message = fixtures_error(Some("apps:\n  - slug: a\n    name: [unclosed\n")).await;
    assert!(message.contains("line"), "{message}");
    let message = fixtures_error(Some("apps:\n  - slug: a\n    colour: blue\n")).await;
    assert!(
        message.contains("colour"),
        "names the unknown field: {message}"
    );
}

#[tokio::test]
async fn an_unknown_catalog_reference_is_named() {
    let message = fixtures_error(Some("apps:\n  - slug: a\n    event_catalog: nowhere\n")).await;
    assert!(message.contains("'nowhere'"), "{message}");
    assert!(message.contains("app 'a'"), "{message}");
}

#[tokio::test]
async fn duplicate_slugs_are_named() {
    let message = fixtures_error(Some("apps:\n  - slug: twice\n  - slug: twice\n")).await;
    assert!(message.contains("duplicate slug 'twice'"), "{message}");
    let message = fixtures_error(Some(
        "catalogs:\n  - {slug: c, name: C}\n  - {slug: c, name: D}\n",
    ))
    .await;
    assert!(message.contains("duplicate slug 'c'"), "{message}");
}

#[tokio::test]
async fn an_endpoint_subscribed_to_an_unknown_event_is_named() {
    let message = fixtures_error(Some(
        "catalogs:\n  - {slug: c, name: C, events: [{name: a.b}]}\napps:\n  - slug: x\n    event_catalog: c\n    endpoints:\n      - url: http://127.0.0.1:9/\n        subscriptions: [nope.nope]\n",
    ))
    .await;
    assert!(message.contains("app 'x', endpoints[0]"), "{message}");
}

#[tokio::test]
async fn the_documented_fixtures_example_applies() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures.example.yaml");
    let (_emu, api) = start_with(builder().fixtures_file(example)).await;
    let shop = app(&api, "shop_dev").await;
    assert_eq!(shop["signing_secret"], SECRET);
    let endpoints = api.ok("/webhooks/apps/shop_dev/endpoints").await;
    let subscriptions = &endpoints["data"][0]["subscriptions"];
    assert_eq!(subscriptions.as_array().unwrap().len(), 2, "{endpoints}");
}

// --- state ---------------------------------------------------------------------------------

fn with_state(path: &Path) -> EmulatorBuilder {
    builder()
        .state_file(path)
        .state_save_interval(Duration::from_secs(3600))
}

fn ids(deliveries: &[Value]) -> Vec<i64> {
    let mut ids: Vec<i64> = deliveries
        .iter()
        .map(|d| d["delivery_id"].as_str().unwrap().parse().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn the_state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let receiver = Receiver::start().await;
    let (emu, api) = start_with(with_state(&state)).await;
    let app = api.app_with_events(&["order.created"]).await;
    let endpoint = api
        .endpoint(&app, &receiver.url("/hook"), "order.created", json!({}))
        .await;
    for n in 0..3 {
        let created = api.trigger(&app, "order.created", json!({"n": n})).await;
        api.settled(&app, created["delivery_ids"][0].as_str().unwrap())
            .await;
    }
    let before = api.deliveries(&app).await;
    emu.shutdown().await;

    let (_emu, api) = start_with(with_state(&state)).await;
    let slug = app["app_slug"].as_str().unwrap();
    let again = api.ok(&format!("/webhooks/apps/{slug}")).await;
    assert_eq!(again["signing_secret"], app["signing_secret"]);
    let endpoints = api.ok(&format!("/webhooks/apps/{slug}/endpoints")).await;
    assert_eq!(endpoints["data"][0]["id"], endpoint["id"], "{endpoints}");
    let after = api.deliveries(&app).await;
    assert_eq!(ids(&after), ids(&before));
    assert!(after.iter().all(|d| d["status"] == "success"), "{after:?}");

    let created = api.trigger(&app, "order.created", json!({"n": 3})).await;
    let new_id: i64 = created["delivery_ids"][0]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(new_id > *ids(&before).last().unwrap());
    let got = receiver.wait_for("/hook", 4).await;
    let secret = app["signing_secret"].as_str().unwrap();
    assert!(signature_valid(secret, &got[3].headers, &got[3].body));
}

#[tokio::test]
async fn deliveries_awaiting_a_retry_at_shutdown_are_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let receiver = Receiver::start().await;
    receiver.script("/hook", vec![Reply::status(503)]);
    // The retry is an hour away: it happens only because the next start resumes it.
    let (emu, api) =
        start_with(with_state(&state).retry_schedule(vec![Duration::from_secs(3600)])).await;
    let app = api.app_with_events(&["order.created"]).await;
    api.endpoint(&app, &receiver.url("/hook"), "order.created", json!({}))
        .await;
    let created = api.trigger(&app, "order.created", json!({})).await;
    let id = created["delivery_ids"][0].as_str().unwrap().to_string();
    receiver.wait_for("/hook", 1).await;
    eventually("the first attempt is recorded", || async {
        (api.delivery(&app, &id).await["status"] == "failed").then_some(())
    })
    .await;
    emu.shutdown().await;

    let (_emu, api) = start_with(with_state(&state)).await;
    let delivery = api.settled(&app, &id).await;
    assert_eq!(delivery["status"], "success", "{delivery}");
    assert_eq!(receiver.received("/hook").len(), 2);
}

#[tokio::test]
async fn fixtures_on_top_of_a_state_keep_what_the_state_holds() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let file = fixtures(dir.path(), "http://127.0.0.1:9/hook");
    let both = || with_state(&state).fixtures_file(&file);
    let (emu, api) = start_with(both()).await;
    let (status, rotated) = api
        .post_empty("/webhooks/apps/shop_dev/rotate-secret")
        .await;
    assert_eq!(status, 200, "{rotated}");
    emu.shutdown().await;

    let (_emu, api) = start_with(both()).await;
    let shop = app(&api, "shop_dev").await;
    assert_eq!(shop["signing_secret"], rotated["signing_secret"]);
    let endpoints = api.ok("/webhooks/apps/shop_dev/endpoints").await;
    assert_eq!(
        endpoints["data"].as_array().unwrap().len(),
        1,
        "{endpoints}"
    );
}

#[tokio::test]
async fn a_replay_task_running_at_shutdown_is_cancelled_and_keeps_what_it_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let receiver = Receiver::start().await;
    // An hour between items: the task is still running at shutdown.
    let (emu, api) =
        start_with(with_state(&state).replay_item_delay(Duration::from_secs(3600))).await;
    let app = api.app_with_events(&["order.created"]).await;
    api.endpoint(&app, &receiver.url("/hook"), "order.created", json!({}))
        .await;
    let mut originals = Vec::new();
    for n in 0..2 {
        let created = api.trigger(&app, "order.created", json!({"n": n})).await;
        let id = created["delivery_ids"][0].as_str().unwrap().to_string();
        api.settled(&app, &id).await;
        originals.push(id);
    }
    let slug = app["app_slug"].as_str().unwrap();
    let (status, queued) = api
        .post(
            &format!("/webhooks/apps/{slug}/deliveries/replay"),
            json!({"delivery_ids": originals}),
        )
        .await;
    assert_eq!(status, 200, "{queued}");
    let task = queued["task_id"].as_str().unwrap().to_string();
    let task_path = format!("/webhooks/apps/{slug}/deliveries/replay/{task}");
    eventually("the first item is replayed", || async {
        (api.ok(&task_path).await["processed"] == 1).then_some(())
    })
    .await;
    emu.shutdown().await;

    let (_emu, api) = start_with(with_state(&state)).await;
    let task = api.ok(&task_path).await;
    assert_eq!(task["status"], "cancelled", "{task}");
    assert_eq!(api.deliveries(&app).await.len(), 3);
}

/// Starting on `content` fails with a state error naming the file; the file is left as it was.
async fn refused(content: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    std::fs::write(&state, content).unwrap();
    let error = start_error(with_state(&state)).await;
    assert!(matches!(error, StartError::State { .. }), "{error}");
    assert_eq!(std::fs::read(&state).unwrap(), content, "never overwritten");
    let message = error.to_string();
    assert!(message.contains("state.json"), "{message}");
    message
}

#[tokio::test]
async fn a_corrupt_state_file_is_refused_and_kept() {
    let message =
        refused(b"{\"format\":\"wacht-webhooks-emulator/state\",\"version\":1,\"sta").await;
    assert!(message.contains("corrupt"), "{message}");
    let message = refused(b"\x00\x01 binary").await;
    assert!(message.contains("corrupt"), "{message}");
}

#[tokio::test]
async fn a_foreign_state_file_is_refused_and_kept() {
    let message = refused(br#"{"name": "some other tool's config"}"#).await;
    assert!(message.contains("not a state file"), "{message}");
    let message = refused(b"[1, 2, 3]").await;
    assert!(message.contains("not a state file"), "{message}");
}

#[tokio::test]
async fn a_state_file_of_another_version_is_refused_and_kept() {
    let message = refused(br#"{"format": "wacht-webhooks-emulator/state", "version": 99}"#).await;
    assert!(message.contains("version 99"), "{message}");
}

#[tokio::test]
async fn the_state_is_saved_periodically() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let emu = Emulator::builder()
        .state_file(&state)
        .state_save_interval(Duration::from_millis(50))
        .start()
        .await
        .unwrap();
    let api = Api::new(&emu.base_url());
    let http = api.http.clone();
    let (status, app) = {
        let response = http
            .post(format!("{}/webhooks/apps", emu.base_url()))
            .bearer_auth(wacht_webhooks_emulator::DEFAULT_API_KEY)
            .json(&json!({"name": "Saved", "app_slug": "saved_periodically"}))
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    };
    assert_eq!(status, 200, "{app}");
    eventually("the periodic save writes the app", || async {
        let text = std::fs::read_to_string(&state).unwrap_or_default();
        text.contains("saved_periodically").then_some(())
    })
    .await;
    // Dropped without shutdown, like a crash: what was saved is what a restart gets.
    drop(emu);
}

//! Every route's success and error cases, over plain HTTP.

mod common;

use common::{KEY, assert_error, start, start_documented, start_with};
use serde_json::{Value, json};

#[tokio::test]
async fn authentication_is_required() {
    let (_emu, api) = start().await;
    let url = format!("{}/webhooks/apps", api.base);
    let http = &api.http;
    let missing = http.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(
        body,
        json!({"errors": [{"message": "Unauthorized", "code": 401}]})
    );
    let basic = http
        .get(&url)
        .basic_auth("user", Some(KEY))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
    let wrong = http.get(&url).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(api.get("/webhooks/apps").await.0, 200);
}

#[tokio::test]
async fn unknown_routes_methods_and_bodies_answer_the_envelope() {
    let (_emu, api) = start().await;
    assert_error(&api.get("/nope").await, 404, None);
    assert_error(&api.get("/webhooks/apps/x/unknown").await, 404, None);
    assert_error(
        &api.delete("/webhooks/apps").await,
        405,
        Some("Method not allowed"),
    );
    let url = format!("{}/webhooks/apps", api.base);
    let raw = |body: &'static str, content_type: Option<&'static str>| {
        let mut request = api.http.post(&url).bearer_auth(KEY).body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    assert_error(
        &raw("{not json", Some("application/json")).await,
        422,
        Some("Invalid request payload"),
    );
    assert_error(
        &raw(r#"{"name": 5}"#, Some("application/json")).await,
        422,
        Some("Invalid request payload"),
    );
    assert_error(
        &raw(r#"{}"#, Some("application/json")).await,
        422,
        Some("Invalid request payload"),
    );
    assert_error(&raw(r#"{"name":"a"}"#, None).await, 415, None);
    assert_error(&raw(r#"{"name":"a"}"#, Some("text/plain")).await, 415, None);
    assert_eq!(
        raw(r#"{"name":"a"}"#, Some("application/json; charset=utf-8"))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn apps_lifecycle() {
    let (_emu, api) = start().await;
    let (status, app) = api
        .post(
            "/webhooks/apps",
            json!({"name": "Billing", "app_slug": "  Billing Events!! ", "description": "d"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(app["app_slug"], "billing_events");
    assert_eq!(app["is_active"], true);
    assert_eq!(app["failure_notification_emails"], json!([]));
    assert_eq!(app["event_catalog_slug"], Value::Null);
    assert!(app["deployment_id"].is_string());
    let secret = app["signing_secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    assert!(app["created_at"].as_str().unwrap().ends_with('Z'));

    assert_error(
        &api.post(
            "/webhooks/apps",
            json!({"name": "x", "app_slug": "billing-events"}),
        )
        .await,
        409,
        Some("Resource already exists"),
    );
    assert_error(
        &api.post("/webhooks/apps", json!({"name": "x", "app_slug": "!!!"}))
            .await,
        400,
        Some("app_slug must contain at least one alphanumeric character"),
    );
    let (_, generated) = api.post("/webhooks/apps", json!({"name": "no slug"})).await;
    assert!(generated["app_slug"].as_str().unwrap().starts_with("slug_"));

    let fetched = api.ok("/webhooks/apps/billing_events").await;
    assert_eq!(fetched["signing_secret"], app["signing_secret"]);
    assert_error(
        &api.get("/webhooks/apps/missing").await,
        404,
        Some("Webhook app not found"),
    );

    let (status, updated) = api
        .patch("/webhooks/apps/billing_events", json!({"name": "Billing 2", "description": null, "failure_notification_emails": ["a@b.c"]}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(updated["name"], "Billing 2");
    assert_eq!(updated["description"], "d", "null leaves a field unchanged");
    assert_eq!(updated["failure_notification_emails"], json!(["a@b.c"]));

    // The spec and production: a null field is left unchanged, whichever field it is.
    let every_field_null = json!({"name": null, "description": null, "is_active": null,
        "failure_notification_emails": null, "event_catalog_slug": null});
    let (status, unchanged) = api
        .patch("/webhooks/apps/billing_events", every_field_null)
        .await;
    assert_eq!(status, 200, "{unchanged}");
    assert_eq!(unchanged["name"], "Billing 2");
    assert_eq!(unchanged["is_active"], true);
    assert_eq!(unchanged["failure_notification_emails"], json!(["a@b.c"]));

    let (status, rotated) = api
        .post_empty("/webhooks/apps/billing_events/rotate-secret")
        .await;
    assert_eq!(status, 200);
    assert_ne!(rotated["signing_secret"], app["signing_secret"]);

    assert_eq!(
        api.delete("/webhooks/apps/billing_events").await,
        (200, json!({}))
    );
    assert_error(&api.get("/webhooks/apps/billing_events").await, 404, None);
    assert_error(
        &api.delete("/webhooks/apps/billing_events").await,
        404,
        None,
    );
}

#[tokio::test]
async fn app_list_pages_filters_and_searches() {
    let (_emu, api) = start().await;
    for i in 0..5 {
        api.post(
            "/webhooks/apps",
            json!({"name": "a", "app_slug": format!("app{i}")}),
        )
        .await;
    }
    api.patch("/webhooks/apps/app4", json!({"is_active": false}))
        .await;
    let page = api.ok("/webhooks/apps?limit=2&offset=1").await;
    assert_eq!(page["limit"], 2);
    assert_eq!(page["offset"], 1);
    assert_eq!(page["has_more"], true);
    let slugs: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["app_slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["app1", "app2"]);
    let all = api.ok("/webhooks/apps").await;
    assert_eq!(all["limit"], 50);
    assert_eq!(
        all["data"].as_array().unwrap().len(),
        4,
        "inactive apps are hidden"
    );
    assert_eq!(all["has_more"], false);
    assert!(all.get("total").is_none());
    let with_inactive = api.ok("/webhooks/apps?include_inactive=true").await;
    assert_eq!(with_inactive["data"].as_array().unwrap().len(), 5);
    let found = api.ok("/webhooks/apps?search=app2").await;
    assert_eq!(found["data"].as_array().unwrap().len(), 1);
    assert_eq!(api.ok("/webhooks/apps?search=app").await["data"], json!([]));
    assert_error(&api.get("/webhooks/apps?limit=abc").await, 400, None);
    assert_error(
        &api.get("/webhooks/apps?include_inactive=maybe").await,
        400,
        None,
    );
}

#[tokio::test]
async fn catalogs_lifecycle() {
    let (_emu, api) = start().await;
    let body = json!({"slug": "billing", "name": "Billing", "events": [
        {"name": "invoice.paid", "description": "paid", "schema": {"type": "object"}},
        {"name": "invoice.failed", "description": "failed", "group": "invoices"}
    ]});
    let (status, catalog) = api.post("/webhooks/event-catalogs", body.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(catalog["events"][0]["is_archived"], false);
    assert_eq!(catalog["events"][1]["group"], "invoices");
    assert_eq!(catalog["description"], Value::Null);
    assert_error(
        &api.post("/webhooks/event-catalogs", body).await,
        409,
        Some("Resource already exists"),
    );

    let list = api.ok("/webhooks/event-catalogs?limit=1&offset=5").await;
    assert_eq!(
        list.as_object().unwrap().len(),
        2,
        "only data and has_more: {list}"
    );
    assert_eq!(list["has_more"], false);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    let (status, updated) = api
        .put(
            "/webhooks/event-catalogs/billing",
            json!({"description": "all billing"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(updated["name"], "Billing");
    assert_eq!(updated["description"], "all billing");

    let path = "/webhooks/event-catalogs/billing/append-events";
    let (status, appended) = api
        .post(
            path,
            json!({"events": [{"name": "invoice.refunded", "description": "r"}]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(appended["events"].as_array().unwrap().len(), 3);
    assert_error(
        &api.post(
            path,
            json!({"events": [{"name": "invoice.paid", "description": "again"}]}),
        )
        .await,
        400,
        None,
    );
    assert_error(
        &api.post(path, json!({"events": [{"name": "a", "description": "1"}, {"name": "a", "description": "2"}]})).await,
        400,
        None,
    );

    let archive = "/webhooks/event-catalogs/billing/archive-event";
    let (_, archived) = api
        .post(
            archive,
            json!({"event_name": "invoice.failed", "is_archived": true}),
        )
        .await;
    assert_eq!(archived["events"][1]["is_archived"], true);
    let (_, restored) = api
        .post(
            archive,
            json!({"event_name": "invoice.failed", "is_archived": false}),
        )
        .await;
    assert_eq!(restored["events"][1]["is_archived"], false);
    assert_error(
        &api.post(archive, json!({"event_name": "nope", "is_archived": true}))
            .await,
        404,
        None,
    );

    assert_error(
        &api.get("/webhooks/event-catalogs/missing").await,
        404,
        Some("Event catalog not found"),
    );
    assert_error(
        &api.put("/webhooks/event-catalogs/missing", json!({})).await,
        404,
        Some("Event catalog not found"),
    );
}

#[tokio::test]
async fn app_catalog_and_events() {
    let (_emu, api) = start().await;
    api.post(
        "/webhooks/apps",
        json!({"name": "bare", "app_slug": "bare"}),
    )
    .await;
    assert_eq!(
        api.ok("/webhooks/apps/bare/events").await,
        json!({"events": []})
    );
    assert_error(
        &api.get("/webhooks/apps/bare/catalog").await,
        404,
        Some("No catalog assigned to this app"),
    );

    api.post(
        "/webhooks/apps",
        json!({"name": "d", "app_slug": "dangling", "event_catalog_slug": "ghost"}),
    )
    .await;
    assert_error(
        &api.get("/webhooks/apps/dangling/catalog").await,
        404,
        Some("Event catalog not found"),
    );
    assert_error(
        &api.get("/webhooks/apps/dangling/events").await,
        404,
        Some("Event catalog not found"),
    );

    let app = api.app_with_events(&["a.one", "a.two"]).await;
    let slug = app["app_slug"].as_str().unwrap();
    let catalog_slug = app["event_catalog_slug"].as_str().unwrap();
    api.post(
        &format!("/webhooks/event-catalogs/{catalog_slug}/archive-event"),
        json!({"event_name": "a.one", "is_archived": true}),
    )
    .await;
    let events = api.ok(&format!("/webhooks/apps/{slug}/events")).await;
    let names: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["a.one", "a.two"],
        "archived events are listed, in catalog order"
    );
    assert_eq!(events["events"][0]["app_slug"], slug);
    assert_eq!(
        api.ok(&format!("/webhooks/apps/{slug}/catalog")).await["slug"],
        catalog_slug
    );
    assert_error(
        &api.get("/webhooks/apps/missing/events").await,
        404,
        Some("Webhook app not found"),
    );
}

#[tokio::test]
async fn endpoint_validation() {
    let (_emu, api) = start().await;
    let app = api.app_with_events(&["order.paid", "order.old"]).await;
    let slug = app["app_slug"].as_str().unwrap().to_string();
    let catalog = app["event_catalog_slug"].as_str().unwrap();
    api.post(
        &format!("/webhooks/event-catalogs/{catalog}/archive-event"),
        json!({"event_name": "order.old", "is_archived": true}),
    )
    .await;
    let path = format!("/webhooks/apps/{slug}/endpoints");
    let create = |overrides: Value| {
        let mut body = json!({"app_slug": slug, "url": "http://127.0.0.1:9/hook", "subscriptions": [{"event_name": "order.paid"}]});
        for (k, v) in overrides.as_object().unwrap() {
            body[k] = v.clone();
        }
        api.post(&path, body)
    };
    assert_error(
        &create(json!({"subscriptions": []})).await,
        400,
        Some("At least one subscription is required"),
    );
    assert_error(
        &create(json!({"subscriptions": [{"event_name": "nope"}]})).await,
        400,
        Some(&format!("Unknown event 'nope' for app '{slug}'")),
    );
    assert_error(
        &create(json!({"subscriptions": [{"event_name": "order.old"}]})).await,
        400,
        Some("Event 'order.old' is archived"),
    );
    assert_error(&create(json!({"max_retries": 0})).await, 400, None);
    assert_error(&create(json!({"max_retries": 33})).await, 400, None);
    assert_error(
        &create(json!({"url": "ftp://example.com/"})).await,
        400,
        None,
    );
    assert_error(
        &create(json!({"url": "https://user:pw@example.com/"})).await,
        400,
        None,
    );
    assert_error(&create(json!({"subscriptions": [{"event_name": "order.paid", "filter_rules": {"a": {"$regex": "x"}}}]})).await, 400, None);
    assert_error(
        &create(
            json!({"subscriptions": [{"event_name": "order.paid", "filter_rules": {"$or": []}}]}),
        )
        .await,
        400,
        None,
    );
    assert_error(&create(json!({"max_retries": "5"})).await, 422, None);
    assert_error(&api.post("/webhooks/apps/missing/endpoints", json!({"app_slug": "x", "url": "http://127.0.0.1/", "subscriptions": [{"event_name": "a"}]})).await, 404, None);
    assert_eq!(
        api.ok(&path).await["data"],
        json!([]),
        "rejected requests changed nothing"
    );

    // A catalog schema with properties constrains filter paths.
    let (_, with_schema) = api
        .post("/webhooks/event-catalogs", json!({"slug": "typed", "name": "t", "events": [
            {"name": "typed.event", "description": "d", "schema": {"type": "object", "properties": {"amount": {"type": "integer"}}}}
        ]}))
        .await;
    assert_eq!(with_schema["slug"], "typed");
    let (_, typed_app) = api
        .post(
            "/webhooks/apps",
            json!({"name": "t", "event_catalog_slug": "typed"}),
        )
        .await;
    let typed_slug = typed_app["app_slug"].as_str().unwrap();
    let typed_path = format!("/webhooks/apps/{typed_slug}/endpoints");
    let typed = |rules: Value| {
        api.post(
            &typed_path,
            json!({"app_slug": typed_slug, "url": "http://127.0.0.1:9/", "subscriptions": [{"event_name": "typed.event", "filter_rules": rules}]}),
        )
    };
    assert_error(&typed(json!({"currency": "EUR"})).await, 400, None);
    assert_eq!(typed(json!({"amount": {"$gte": 10}})).await.0, 200);
}

#[tokio::test]
async fn endpoints_lifecycle() {
    let (_emu, api) = start().await;
    let app = api.app_with_events(&["order.paid", "order.shipped"]).await;
    let slug = app["app_slug"].as_str().unwrap();
    let endpoint = api
        .endpoint(
            &app,
            "http://127.0.0.1:9/hook",
            "order.paid",
            json!({"headers": {"X-Tenant": "acme"}}),
        )
        .await;
    assert!(
        endpoint.get("subscriptions").is_none(),
        "create answers without subscriptions"
    );
    assert_eq!(endpoint["max_retries"], 32);
    assert_eq!(endpoint["timeout_seconds"], 30);
    assert_eq!(endpoint["failure_count"], 0);
    assert_eq!(endpoint["auto_disabled"], false);
    assert_eq!(endpoint["rate_limit_config"], Value::Null);
    assert_eq!(endpoint["headers"], json!({"X-Tenant": "acme"}));
    let id = endpoint["id"].as_str().unwrap();

    let list = api.ok(&format!("/webhooks/apps/{slug}/endpoints")).await;
    assert_eq!(list["limit"], 100);
    assert_eq!(
        list["data"][0]["subscriptions"],
        json!([{"event_name": "order.paid", "filter_rules": {}}])
    );

    let path = format!("/webhooks/apps/{slug}/endpoints/{id}");
    let (status, updated) = api
        .patch(&path, json!({"is_active": false, "timeout_seconds": 5, "subscriptions": [{"event_name": "order.shipped", "filter_rules": {"x": 1}}], "rate_limit_config": {"duration_ms": 1000, "max_requests": 2}}))
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["is_active"], false);
    assert_eq!(updated["timeout_seconds"], 5);
    assert_eq!(
        updated["rate_limit_config"],
        json!({"duration_ms": 1000, "max_requests": 2})
    );
    assert!(updated.get("subscriptions").is_none());
    assert_eq!(
        api.ok(&format!("/webhooks/apps/{slug}/endpoints")).await["data"],
        json!([])
    );
    let inactive = api
        .ok(&format!(
            "/webhooks/apps/{slug}/endpoints?include_inactive=true"
        ))
        .await;
    assert_eq!(
        inactive["data"][0]["subscriptions"][0]["event_name"],
        "order.shipped"
    );

    // Another app cannot touch this endpoint.
    let other = api.app_with_events(&["order.paid"]).await;
    let other_path = format!(
        "/webhooks/apps/{}/endpoints/{id}",
        other["app_slug"].as_str().unwrap()
    );
    assert_error(
        &api.patch(&other_path, json!({"is_active": true})).await,
        404,
        Some("Webhook endpoint not found"),
    );
    assert_error(
        &api.delete(&other_path).await,
        404,
        Some("Webhook endpoint not found"),
    );
    assert_error(
        &api.patch(&format!("/webhooks/apps/{slug}/endpoints/abc"), json!({}))
            .await,
        404,
        None,
    );

    let (status, reactivated) = api
        .post_empty(&format!("/webhooks/endpoints/{id}/reactivate"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        reactivated,
        json!({"success": true, "message": "Endpoint http://127.0.0.1:9/hook reactivated successfully"})
    );
    assert_error(
        &api.post_empty("/webhooks/endpoints/123/reactivate").await,
        404,
        Some("Webhook endpoint not found"),
    );

    assert_eq!(api.delete(&path).await, (200, json!({})));
    assert_error(&api.delete(&path).await, 404, None);
}

#[tokio::test]
async fn strict_url_policy() {
    let (_emu, api) = start_with(common::builder().allow_private_urls(false)).await;
    let app = api.app_with_events(&["e"]).await;
    let slug = app["app_slug"].as_str().unwrap();
    for url in [
        "http://127.0.0.1/",
        "http://localhost:8080/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest",
        "http://[::1]/",
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://100.64.0.1/",
    ] {
        let result = api
            .post(
                &format!("/webhooks/apps/{slug}/endpoints"),
                json!({"app_slug": slug, "url": url, "subscriptions": [{"event_name": "e"}]}),
            )
            .await;
        assert_error(&result, 400, None);
        assert!(
            result.1["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("Invalid webhook URL")
        );
    }
    // Loopback-only delivery: public hostnames are accepted without being looked up.
    api.endpoint(&app, "https://hooks.example.com/wacht", "e", json!({}))
        .await;
}

#[tokio::test]
async fn delivery_and_trigger_errors() {
    let (_emu, api) = start_documented().await;
    let app = api.app_with_events(&["e"]).await;
    let slug = app["app_slug"].as_str().unwrap();
    let base = format!("/webhooks/apps/{slug}/deliveries");
    assert_error(&api.get(&format!("{base}?status=bogus")).await, 400, None);
    assert_error(
        &api.get(&format!("{base}?since=2026-01-01")).await,
        400,
        None,
    );
    assert_error(&api.get(&format!("{base}?limit=x")).await, 400, None);
    assert_eq!(
        api.get(&format!(
            "{base}?since=2026-01-01T00:00:00Z&endpoint_id=abc"
        ))
        .await
        .0,
        200
    );
    assert_error(
        &api.get(&format!("{base}/abc")).await,
        400,
        Some("Invalid delivery ID"),
    );
    assert_error(&api.get(&format!("{base}/12345")).await, 404, None);
    assert_error(
        &api.get("/webhooks/apps/missing/deliveries").await,
        404,
        None,
    );

    let trigger = |slug: &str| {
        let api = api.clone();
        let slug = slug.to_string();
        async move {
            api.post(
                &format!("/webhooks/apps/{slug}/trigger"),
                json!({"app_slug": slug, "event_name": "e", "payload": {}}),
            )
            .await
        }
    };
    assert_error(
        &trigger("missing").await,
        404,
        Some("Webhook app not found"),
    );
    assert_error(
        &api.post(
            &format!("/webhooks/apps/{slug}/trigger"),
            json!({"event_name": "e", "payload": {}}),
        )
        .await,
        422,
        None,
    );
    api.patch(
        &format!("/webhooks/apps/{slug}"),
        json!({"is_active": false}),
    )
    .await;
    assert_error(&trigger(slug).await, 404, Some("Webhook app not found"));
    api.patch(
        &format!("/webhooks/apps/{slug}"),
        json!({"is_active": true}),
    )
    .await;
    // No subscriber: nothing queued.
    assert_eq!(
        trigger(slug).await.1,
        json!({"delivery_ids": [], "filtered_count": 0, "delivered_count": 0})
    );

    assert_error(
        &api.get(&format!("/webhooks/apps/{slug}/timeseries?interval=year"))
            .await,
        400,
        None,
    );
    assert_error(
        &api.get(&format!(
            "/webhooks/apps/{slug}/analytics?start_date=yesterday&end_date=2026-01-01T00:00:00Z"
        ))
        .await,
        400,
        None,
    );
    assert_error(&api.get("/webhooks/apps/missing/stats").await, 404, None);
}

#[tokio::test]
async fn replay_request_validation() {
    let (_emu, api) = start().await;
    let app = api.app_with_events(&["e"]).await;
    let slug = app["app_slug"].as_str().unwrap();
    let path = format!("/webhooks/apps/{slug}/deliveries/replay");
    let ids: Vec<String> = (0..501).map(|i| i.to_string()).collect();
    assert_error(
        &api.post(&path, json!({"delivery_ids": ids})).await,
        400,
        Some("Maximum 500 delivery IDs are allowed per replay"),
    );
    assert_error(
        &api.post(&path, json!({"delivery_ids": []})).await,
        400,
        None,
    );
    assert_error(
        &api.post(
            &path,
            json!({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-01-03T00:00:01Z"}),
        )
        .await,
        400,
        Some("Replay range cannot exceed 48 hours"),
    );
    assert_error(
        &api.post(
            &path,
            json!({"start_date": "2026-01-02T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}),
        )
        .await,
        400,
        None,
    );
    assert_error(&api.post(&path, json!({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-01-01T01:00:00Z", "status": "pending"})).await, 400, None);
    assert_error(
        &api.post(
            &path,
            json!({"delivery_ids": ["1"], "start_date": "2026-01-01T00:00:00Z"}),
        )
        .await,
        422,
        None,
    );
    assert_error(
        &api.post(&path, json!({"idempotency_key": "k"})).await,
        422,
        None,
    );
    assert_error(
        &api.post(
            "/webhooks/apps/missing/deliveries/replay",
            json!({"delivery_ids": ["1"]}),
        )
        .await,
        404,
        None,
    );
    assert_error(
        &api.get(&format!("{path}/123")).await,
        404,
        Some("Replay task not found"),
    );
    assert_error(
        &api.get(&format!("{path}/abc")).await,
        404,
        Some("Replay task not found"),
    );
    assert_error(
        &api.post_empty(&format!("{path}/123/cancel")).await,
        404,
        Some("Replay task not found"),
    );
    let tasks = api.ok(&format!("{path}?limit=500")).await;
    assert_eq!(tasks["limit"], 100, "the task page size is clamped");
    assert_eq!(tasks["data"], json!([]), "rejected replays queued nothing");
}

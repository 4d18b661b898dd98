//! The built-in inbox, the inspector's routes and the test helpers (`Emulator::client`,
//! `wait_idle`, `Webhooks::wait_for_delivery`).

use std::time::Duration;

use serde_json::{Value, json};
use wacht_webhooks::{
    CreateWebhookAppRequest, CreateWebhookEndpointRequest, CreateWebhookEventCatalogRequest,
    DeliveryStatus, TriggerWebhookEventRequest, WaitOptions, Webhook, WebhookApp,
    WebhookEventDefinition, Webhooks,
};
use wacht_webhooks_emulator::{Emulator, EmulatorBuilder, MAX_INBOX_BODY};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const POLL: Duration = Duration::from_millis(10);
const PATIENCE: Duration = Duration::from_secs(10);

/// How often to ask and for how long, for waits that settle quickly on the emulator.
fn patient() -> WaitOptions {
    WaitOptions::new().poll_interval(POLL).timeout(PATIENCE)
}

fn fast() -> EmulatorBuilder {
    Emulator::builder().retry_schedule(vec![Duration::from_millis(20)])
}

/// A catalog with `order.paid` and an app on it.
async fn shop(webhooks: &Webhooks) -> Result<WebhookApp> {
    webhooks
        .create_webhook_event_catalog(CreateWebhookEventCatalogRequest::new("shop", "Shop").event(
            WebhookEventDefinition::new("order.paid", "An order was paid"),
        ))
        .await?;
    let app = CreateWebhookAppRequest::new("Shop")
        .app_slug("shop")
        .event_catalog_slug("shop");
    Ok(webhooks.create_webhook_app(app).await?)
}

async fn subscribe(webhooks: &Webhooks, url: String) -> Result {
    let endpoint = CreateWebhookEndpointRequest::new(url).subscribe("order.paid");
    webhooks.create_webhook_endpoint("shop", endpoint).await?;
    Ok(())
}

async fn pay(webhooks: &Webhooks, id: u32) -> Result<String> {
    let event = TriggerWebhookEventRequest::new("order.paid", json!({ "order": id }));
    let sent = webhooks.trigger_webhook_event("shop", event).await?;
    Ok(sent.delivery_ids.into_iter().next().ok_or("no delivery")?)
}

#[tokio::test]
async fn a_delivery_is_received_and_verified_through_an_inbox() -> Result {
    let emu = fast().start().await?;
    let webhooks = emu.client().webhooks();
    let app = shop(&webhooks).await?;

    let inbox = emu.inbox("orders");
    subscribe(&webhooks, inbox.url()).await?;
    pay(&webhooks, 7).await?;

    let received = inbox.wait_for(1).await?;
    let event =
        Webhook::new(&app.signing_secret)?.verify(&received[0].headers, &received[0].body)?;
    assert_eq!(event.event_type, "order.paid");
    assert_eq!(event.data, json!({ "order": 7 }));
    assert_eq!(received[0].method, "POST");
    assert_eq!(received[0].status, 200);
    Ok(())
}

#[tokio::test]
async fn scripted_statuses_drive_retries_and_the_last_one_stays() -> Result {
    let emu = fast().start().await?;
    let webhooks = emu.client().webhooks();
    shop(&webhooks).await?;
    let inbox = emu.inbox("flaky");
    inbox.respond_with([503, 503, 200])?;
    subscribe(&webhooks, inbox.url()).await?;

    let first = pay(&webhooks, 1).await?;
    let delivery = webhooks
        .wait_for_delivery("shop", &first, patient())
        .await?;
    assert_eq!(delivery.status, DeliveryStatus::Success);
    assert_eq!(delivery.attempt_number, 3);
    let second = pay(&webhooks, 2).await?;
    let delivery = webhooks
        .wait_for_delivery("shop", &second, patient())
        .await?;
    assert_eq!(
        delivery.attempt_number, 1,
        "200 stays once the script ran out"
    );
    let answered: Vec<u16> = inbox.received().iter().map(|r| r.status).collect();
    assert_eq!(answered, [503, 503, 200, 200]);

    inbox.respond_with([410])?;
    let gone = pay(&webhooks, 3).await?;
    let delivery = webhooks.wait_for_delivery("shop", &gone, patient()).await?;
    assert_eq!(delivery.status, DeliveryStatus::EndpointDisabled);
    Ok(())
}

#[tokio::test]
async fn inboxes_pass_the_strict_url_policy() -> Result {
    let emu = fast().allow_private_urls(false).start().await?;
    let webhooks = emu.client().webhooks();
    shop(&webhooks).await?;
    let refused =
        CreateWebhookEndpointRequest::new("http://127.0.0.1:9/hooks").subscribe("order.paid");
    assert!(
        webhooks
            .create_webhook_endpoint("shop", refused)
            .await
            .is_err(),
        "other loopback URLs stay refused"
    );

    let inbox = emu.inbox("strict");
    subscribe(&webhooks, inbox.url()).await?;
    let id = pay(&webhooks, 1).await?;
    let delivery = webhooks.wait_for_delivery("shop", &id, patient()).await?;
    assert_eq!(delivery.status, DeliveryStatus::Success);
    assert_eq!(inbox.received().len(), 1);
    Ok(())
}

#[tokio::test]
async fn inbox_bounds_and_bad_input_are_reported() -> Result {
    let emu = fast().start().await?;
    let inbox = emu.inbox("bounds");
    let err = inbox.respond_with([200, 99]).unwrap_err();
    assert!(err.to_string().contains("99"), "{err}");

    let http = reqwest::Client::new();
    let too_big = http
        .post(inbox.url())
        .body(vec![b'x'; MAX_INBOX_BODY + 1])
        .send()
        .await?;
    assert_eq!(too_big.status(), 413);
    let fits = http
        .put(inbox.url())
        .body(vec![b'x'; MAX_INBOX_BODY])
        .send()
        .await?;
    assert_eq!(fits.status(), 200);
    let received = inbox.received();
    assert_eq!(received.len(), 1, "the refused body is not recorded");
    assert_eq!(received[0].method, "PUT");
    assert_eq!(received[0].path, "/_inbox/bounds");
    let below = format!("{}/webhooks/apps", inbox.url());
    assert_eq!(http.get(below).send().await?.status(), 200);
    assert_eq!(
        inbox.received()[1].path,
        "/_inbox/bounds/webhooks/apps",
        "paths below are recorded too"
    );

    let timeout = inbox
        .wait_for_within(3, Duration::from_millis(50))
        .await
        .unwrap_err();
    let message = timeout.to_string();
    assert!(message.contains("received 2 of 3"), "{message}");
    assert!(message.contains("bounds"), "{message}");

    let odd = emu.inbox("a/b c");
    assert!(odd.url().ends_with("/_inbox/a%2Fb%20c"), "{}", odd.url());
    http.post(odd.url()).body("{}").send().await?;
    assert_eq!(odd.wait_for(1).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn wait_idle_waits_for_retries_and_reports_what_is_left() -> Result {
    let emu = fast().start().await?;
    let webhooks = emu.client().webhooks();
    shop(&webhooks).await?;
    let inbox = emu.inbox("idle");
    inbox.respond_with([500, 500, 200])?;
    subscribe(&webhooks, inbox.url()).await?;
    let id = pay(&webhooks, 1).await?;
    emu.wait_idle().await?;
    let delivery = webhooks.get_webhook_delivery("shop", &id).await?;
    assert_eq!(delivery.status, DeliveryStatus::Success);

    let slow = Emulator::builder()
        .retry_schedule(vec![Duration::from_secs(3600)])
        .start()
        .await?;
    let webhooks = slow.client().webhooks();
    shop(&webhooks).await?;
    let inbox = slow.inbox("down");
    inbox.respond_with([500])?;
    subscribe(&webhooks, inbox.url()).await?;
    pay(&webhooks, 1).await?;
    let busy = slow
        .wait_idle_within(Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(busy.to_string().contains("1 deliveries"), "{busy}");
    Ok(())
}

#[tokio::test]
async fn wait_for_delivery_times_out_with_a_typed_error() -> Result {
    let emu = Emulator::builder()
        .retry_schedule(vec![Duration::from_secs(3600)])
        .start()
        .await?;
    let webhooks = emu.client().webhooks();
    shop(&webhooks).await?;
    let inbox = emu.inbox("down");
    inbox.respond_with([503])?;
    subscribe(&webhooks, inbox.url()).await?;
    let id = pay(&webhooks, 1).await?;
    let err = webhooks
        .wait_for_delivery("shop", &id, patient().timeout(Duration::from_millis(300)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), wacht_webhooks::ErrorKind::Timeout);
    assert!(err.to_string().contains(&id), "{err}");
    Ok(())
}

#[tokio::test]
async fn the_inspector_page_and_its_data_routes() -> Result {
    let emu = Emulator::builder().api_key("page_key").start().await?;
    let http = reqwest::Client::new();
    let page = http.get(emu.inspector_url()).send().await?;
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()?
        .to_string();
    assert!(policy.contains("default-src 'self'"), "{policy}");
    let html = page.text().await?;
    assert!(html.contains("/_inspector/app.js") && !html.contains("page_key"));
    for asset in ["app.js", "style.css"] {
        let url = format!("{}/{asset}", emu.inspector_url());
        assert_eq!(http.get(url).send().await?.status(), 200, "{asset}");
    }

    let overview = format!("{}/api/overview", emu.inspector_url());
    assert_eq!(
        http.get(&overview).send().await?.status(),
        401,
        "the key is needed"
    );
    emu.inbox("listed");
    let body: Value = http
        .get(&overview)
        .bearer_auth("page_key")
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(body["behaviour"], "production");
    assert_eq!(body["inboxes"][0]["name"], "listed");
    Ok(())
}

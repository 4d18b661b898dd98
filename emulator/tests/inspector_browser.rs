//! The inspector page in a real browser: headless Chromium driven through WebDriver
//! (`chromedriver`, Debian package `chromium-driver`). Trigger an event with the page's form, see
//! the delivery and its attempts appear, replay it, see the new delivery; a screenshot of the page
//! is saved for a person to look at.
//!
//! Without `chromedriver` the test fails when `CI` is set and is skipped with a message otherwise.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use wacht_webhooks::{
    CreateWebhookAppRequest, CreateWebhookEndpointRequest, CreateWebhookEventCatalogRequest,
    ListWebhookDeliveriesOptions, WebhookEventDefinition,
};
use wacht_webhooks_emulator::Emulator;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const KEY: &str = "inspector_key";
/// How long any one thing may take to show on the page.
const PATIENCE: Duration = Duration::from_secs(20);

/// `chromedriver` on a free loopback port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Option<Driver> {
        if !std::path::Path::new(CHROMEDRIVER).exists() {
            let hint = "install it with `apt-get install chromium chromium-driver` (.ci/run does)";
            assert!(
                std::env::var_os("CI").is_none(),
                "{CHROMEDRIVER} is missing; {hint}"
            );
            eprintln!("skipping the browser test: {CHROMEDRIVER} is missing; {hint}");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        Some(Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }

    async fn connect(&self) -> Client {
        let capabilities = json!({
            "goog:chromeOptions": {
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1440,1000"],
            }
        });
        let capabilities = match capabilities {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("an object literal"),
        };
        let deadline = Instant::now() + PATIENCE;
        loop {
            let connected = ClientBuilder::rustls()
                .expect("rustls roots load")
                .capabilities(capabilities.clone())
                .connect(&self.url)
                .await;
            match connected {
                Ok(client) => return client,
                Err(error) if Instant::now() > deadline => {
                    panic!("no WebDriver session from {}: {error}", self.url)
                }
                // chromedriver is still starting.
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls the page until `css` matches at least `n` elements.
async fn wait_for_count(browser: &Client, css: &str, n: usize) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let found = browser
            .find_all(Locator::Css(css))
            .await
            .map_or(0, |e| e.len());
        if found >= n {
            return;
        }
        if Instant::now() > deadline {
            let shot = save_screenshot(browser, "inspector-failure.png").await;
            let page = text_of(browser, "body").await;
            panic!(
                "the page shows {found} of {n} elements matching {css:?} after {PATIENCE:?} \
                 (screenshot {shot}); it reads:\n{page}"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Saves a screenshot into the target directory and returns its path.
async fn save_screenshot(browser: &Client, name: &str) -> String {
    let png = browser.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, &png).expect("the screenshot is saved");
    path.display().to_string()
}

async fn text_of(browser: &Client, css: &str) -> String {
    let element = browser.find(Locator::Css(css)).await.expect(css);
    element.text().await.expect("element text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_inspect_and_replay_in_a_browser() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let emu = Emulator::builder()
        .api_key(KEY)
        .retry_schedule(vec![Duration::from_millis(50)])
        .deliver_to_loopback_only(true)
        .start()
        .await
        .expect("emulator starts");
    let webhooks = emu.client().webhooks();
    webhooks
        .create_webhook_event_catalog(
            CreateWebhookEventCatalogRequest::new("billing-events", "Billing events").event(
                WebhookEventDefinition::new("invoice.paid", "An invoice was paid"),
            ),
        )
        .await
        .expect("catalog");
    let app = webhooks
        .create_webhook_app(
            CreateWebhookAppRequest::new("Billing")
                .app_slug("billing")
                .event_catalog_slug("billing-events"),
        )
        .await
        .expect("app");
    // The first attempt fails, the retry succeeds: the page shows two attempts.
    let inbox = emu.inbox("billing");
    inbox.respond_with([503, 200]).expect("valid statuses");
    webhooks
        .create_webhook_endpoint(
            &app.app_slug,
            CreateWebhookEndpointRequest::new(inbox.url()).subscribe("invoice.paid"),
        )
        .await
        .expect("endpoint");

    let browser = driver.connect().await;
    browser
        .goto(&format!("{}#key={KEY}", emu.inspector_url()))
        .await
        .expect("the page loads");
    wait_for_count(&browser, "#apps li[data-app='billing']", 1).await;
    assert!(text_of(&browser, "#behaviour").await.contains("production"));

    // Trigger through the form.
    let event = browser.find(Locator::Id("trigger-event")).await.unwrap();
    event.clear().await.unwrap();
    event.send_keys("invoice.paid").await.unwrap();
    let payload = browser.find(Locator::Id("trigger-payload")).await.unwrap();
    payload.clear().await.unwrap();
    payload
        .send_keys(r#"{"invoice": "in_42", "amount": 4200}"#)
        .await
        .unwrap();
    browser
        .find(Locator::Id("trigger-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // The delivery appears, selected, with both attempts and the headers the inbox received.
    wait_for_count(&browser, "#deliveries tbody tr[data-delivery-id]", 1).await;
    wait_for_count(&browser, "#delivery-detail .attempt", 2).await;
    wait_for_count(&browser, "#deliveries .status.success", 1).await;
    let detail = text_of(&browser, "#delivery-detail").await;
    assert!(
        detail.contains("HTTP 503") && detail.contains("HTTP 200"),
        "{detail}"
    );
    assert!(detail.contains("in_42"), "the payload as sent: {detail}");
    wait_for_count(&browser, "#delivery-detail pre.headers", 1).await;
    assert!(
        text_of(&browser, "#delivery-detail pre.headers")
            .await
            .contains("webhook-signature")
    );

    // Replay it: a second delivery appears.
    browser
        .find(Locator::Id("replay-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_count(&browser, "#deliveries tbody tr[data-delivery-id]", 2).await;
    wait_for_count(&browser, "#deliveries .status.success", 2).await;
    let listed = webhooks
        .list_webhook_deliveries(&app.app_slug, ListWebhookDeliveriesOptions::new())
        .await
        .expect("deliveries");
    assert_eq!(listed.data.len(), 2, "the replay made a new delivery");
    assert_eq!(inbox.received().len(), 3, "503, 200, then the replay");

    let shot = save_screenshot(&browser, "inspector.png").await;
    println!("inspector screenshot: {shot}");

    browser.close().await.expect("the session ends");
    emu.shutdown().await;
}

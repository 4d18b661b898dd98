//! Provisioning webhooks for your customers: one app per customer, with the endpoints its
//! configuration lists. Safe to run again: what exists is kept, what changed is updated.
//!
//! ```sh
//! cargo run --example provision_tenant                      # against an in-process emulator
//! WACHT_API_KEY=... cargo run --example provision_tenant    # against the API (WACHT_API_URL to override)
//! ```

use std::error::Error;

use futures_util::TryStreamExt;
use serde::Deserialize;
use serde_json::Value;
use wacht_webhooks::types::{EventSubscription, EventSubscriptionRequest};
use wacht_webhooks::{
    Client, CreateWebhookAppRequest, CreateWebhookEndpointRequest,
    CreateWebhookEventCatalogRequest, ErrorKind, ListWebhookEndpointsOptions,
    UpdateWebhookEndpointRequest, WebhookEventDefinition, Webhooks,
};
use wacht_webhooks_emulator::Emulator;

type Result<T = (), E = Box<dyn Error + Send + Sync>> = std::result::Result<T, E>;

/// What would usually come from a file or a database.
const CONFIG: &str = r#"{
  "catalog": "shop-events",
  "events": {
    "order.created": "An order was placed",
    "order.shipped": "An order left the warehouse"
  },
  "tenants": [
    {
      "slug": "acme",
      "name": "Acme Corp",
      "alerts": ["webhooks@acme.example"],
      "endpoints": [
        {"url": "https://hooks.acme.example/wacht", "events": ["order.created", "order.shipped"]},
        {"url": "https://erp.acme.example/orders", "events": ["order.created"],
         "filter": {"total": {"$gte": 1000}}}
      ]
    },
    {
      "slug": "globex",
      "name": "Globex",
      "alerts": [],
      "endpoints": [
        {"url": "https://globex.example/webhooks", "events": ["order.shipped"]}
      ]
    }
  ]
}"#;

#[derive(Deserialize)]
struct Config {
    catalog: String,
    events: serde_json::Map<String, Value>,
    tenants: Vec<Tenant>,
}

#[derive(Deserialize)]
struct Tenant {
    slug: String,
    name: String,
    alerts: Vec<String>,
    endpoints: Vec<Endpoint>,
}

#[derive(Deserialize)]
struct Endpoint {
    url: String,
    events: Vec<String>,
    #[serde(default)]
    filter: Value,
}

impl Endpoint {
    fn subscriptions(&self) -> Vec<EventSubscriptionRequest> {
        self.events
            .iter()
            .map(|event| EventSubscriptionRequest::new(event).filter_rules(self.filter.clone()))
            .collect()
    }
}

#[tokio::main]
async fn main() -> Result {
    let config: Config = serde_json::from_str(CONFIG)?;

    // The real API when a key is set, else an emulator in this process.
    let (client, emulator) = match std::env::var("WACHT_API_KEY") {
        Ok(_) => (Client::from_env()?, None),
        Err(_) => {
            let emulator = Emulator::builder()
                .deliver_to_loopback_only(true)
                .start()
                .await?;
            let client = Client::builder()
                .api_key(wacht_webhooks_emulator::DEFAULT_API_KEY)
                .base_url(emulator.base_url())
                .build()?;
            (client, Some(emulator))
        }
    };
    println!("provisioning on {}", client.base_url());
    let webhooks = client.webhooks();

    for run in ["first run", "second run (nothing to do)"] {
        println!("{run}:");
        ensure_catalog(&webhooks, &config).await?;
        for tenant in &config.tenants {
            provision(&webhooks, &config.catalog, tenant).await?;
        }
    }

    if let Some(emulator) = emulator {
        emulator.shutdown().await;
    }
    Ok(())
}

/// Creates the event catalog unless it exists.
async fn ensure_catalog(webhooks: &Webhooks, config: &Config) -> Result {
    let events = config.events.iter().map(|(name, description)| {
        WebhookEventDefinition::new(name, description.as_str().unwrap_or_default())
    });
    let request =
        CreateWebhookEventCatalogRequest::new(&config.catalog, "Shop events").events(events);
    match webhooks.create_webhook_event_catalog(request).await {
        Ok(catalog) => println!("  catalog {}: created", catalog.slug),
        Err(err) if err.kind() == ErrorKind::Conflict => {
            println!("  catalog {}: exists", config.catalog)
        }
        Err(err) => return Err(err.into()),
    }
    Ok(())
}

/// Makes the tenant's app and endpoints match its configuration.
async fn provision(webhooks: &Webhooks, catalog: &str, tenant: &Tenant) -> Result {
    let app = match webhooks.get_webhook_app(&tenant.slug).await {
        Ok(app) => {
            println!("  app {}: exists", app.app_slug);
            app
        }
        Err(err) if err.kind() == ErrorKind::NotFound => {
            let request = CreateWebhookAppRequest::new(&tenant.name)
                .app_slug(&tenant.slug)
                .failure_notification_emails(tenant.alerts.clone())
                .event_catalog_slug(catalog);
            let app = webhooks.create_webhook_app(request).await?;
            // Hand the secret to the tenant through your own secure channel; never log it.
            println!(
                "  app {}: created (its signing secret goes to the tenant)",
                app.app_slug
            );
            app
        }
        Err(err) => return Err(err.into()),
    };

    let existing: Vec<_> = webhooks
        .list_webhook_endpoints_stream(
            &app.app_slug,
            ListWebhookEndpointsOptions::new().include_inactive(true),
        )
        .try_collect()
        .await?;
    for wanted in &tenant.endpoints {
        let subscriptions = wanted.subscriptions();
        match existing.iter().find(|e| e.url == wanted.url) {
            None => {
                let request =
                    CreateWebhookEndpointRequest::new(&wanted.url).subscriptions(subscriptions);
                let endpoint = webhooks
                    .create_webhook_endpoint(&app.app_slug, request)
                    .await?;
                println!(
                    "    endpoint {}: created ({})",
                    endpoint.url,
                    wanted.events.join(", ")
                );
            }
            Some(endpoint) if same_subscriptions(&endpoint.subscriptions, &subscriptions) => {
                println!("    endpoint {}: up to date", endpoint.url);
            }
            Some(endpoint) => {
                let request = UpdateWebhookEndpointRequest::new().subscriptions(subscriptions);
                webhooks
                    .update_webhook_endpoint(&app.app_slug, &endpoint.id, request)
                    .await?;
                println!("    endpoint {}: subscriptions updated", endpoint.url);
            }
        }
    }
    Ok(())
}

/// The server stores "no filter" as `{}`.
fn same_subscriptions(have: &[EventSubscription], want: &[EventSubscriptionRequest]) -> bool {
    let normalized = |subs: Vec<(&String, Option<&Value>)>| {
        let mut subs: Vec<(String, Value)> = subs
            .into_iter()
            .map(|(event_name, rules)| {
                let filter = match rules {
                    None | Some(Value::Null) => Value::Object(Default::default()),
                    Some(rules) => rules.clone(),
                };
                (event_name.clone(), filter)
            })
            .collect();
        subs.sort_by(|a, b| a.0.cmp(&b.0));
        subs
    };
    let have = have.iter().map(|s| (&s.event_name, Some(&s.filter_rules)));
    let want = want
        .iter()
        .map(|s| (&s.event_name, s.filter_rules.as_ref()));
    normalized(have.collect()) == normalized(want.collect())
}

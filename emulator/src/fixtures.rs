//! Fixtures: catalogs, apps and endpoints declared in a YAML file and created at start.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::signing::SigningKey;
use crate::spec::{
    CreateWebhookAppRequest, CreateWebhookEndpointRequest, CreateWebhookEventCatalogRequest,
    EventSubscriptionRequest, RateLimitConfig, WebhookEventDefinition,
};
use crate::store::Store;
use crate::url_policy;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixtures {
    #[serde(default)]
    catalogs: Vec<CatalogFixture>,
    #[serde(default)]
    apps: Vec<AppFixture>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFixture {
    slug: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    events: Vec<EventFixture>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventFixture {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    schema: Option<Value>,
    #[serde(default)]
    example_payload: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppFixture {
    slug: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    event_catalog: Option<String>,
    #[serde(default)]
    signing_secret: Option<String>,
    #[serde(default)]
    failure_notification_emails: Vec<String>,
    #[serde(default)]
    endpoints: Vec<EndpointFixture>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointFixture {
    url: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    subscriptions: Vec<SubscriptionFixture>,
    #[serde(default)]
    headers: Option<Value>,
    #[serde(default)]
    max_retries: Option<i64>,
    #[serde(default)]
    timeout_seconds: Option<i64>,
    #[serde(default)]
    rate_limit: Option<RateLimitFixture>,
}

/// An event name, or an event name with filter rules.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SubscriptionFixture {
    Name(String),
    Filtered {
        event_name: String,
        #[serde(default)]
        filter_rules: Option<Value>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitFixture {
    duration_ms: i64,
    max_requests: i64,
}

/// The strict URL policy applies to fixture endpoints, resolving names with this resolver
/// (`None`: names are not resolved, as with loopback-only delivery).
#[derive(Clone, Copy)]
pub struct StrictUrls<'a>(pub Option<&'a dyn reqwest::dns::Resolve>);

/// Reads and checks a fixtures file; the error says what is wrong and where.
pub fn load(path: &Path) -> Result<Fixtures, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
    let fixtures: Fixtures = serde_yaml::from_str(&text).map_err(|e| e.to_string())?;
    fixtures.check()?;
    Ok(fixtures)
}

/// The secret of a fixture app that names none: derived from its slug, so it is the same on
/// every start. For local development only: anyone who knows the slug can compute it.
pub fn derived_secret(slug: &str) -> String {
    let digest = Sha256::digest(format!("wacht-webhooks-emulator fixture secret:{slug}"));
    format!("whsec_{}", STANDARD.encode(digest))
}

impl Fixtures {
    /// The checks that need no store: duplicates, slugs, secrets and URLs.
    fn check(&self) -> Result<(), String> {
        let mut catalogs = HashSet::new();
        for catalog in &self.catalogs {
            if !catalogs.insert(catalog.slug.as_str()) {
                return Err(format!("catalogs: duplicate slug '{}'", catalog.slug));
            }
        }
        let mut apps = HashSet::new();
        for app in &self.apps {
            let normal = crate::store::normalize_slug(&app.slug);
            if normal != app.slug {
                return Err(format!(
                    "apps: slug '{}' is not a valid app slug (lower-case letters, digits and _; \
                     e.g. '{normal}')",
                    app.slug
                ));
            }
            if !apps.insert(app.slug.as_str()) {
                return Err(format!("apps: duplicate slug '{}'", app.slug));
            }
            if let Some(secret) = &app.signing_secret
                && (!secret.starts_with("whsec_") || SigningKey::from_secret(secret).is_none())
            {
                return Err(format!(
                    "app '{}': signing_secret must be 'whsec_' followed by base64",
                    app.slug
                ));
            }
            for (i, endpoint) in app.endpoints.iter().enumerate() {
                url_policy::parse(&endpoint.url)
                    .map_err(|e| format!("app '{}', endpoints[{i}].url: {e}", app.slug))?;
            }
        }
        Ok(())
    }

    /// Creates what the store does not hold yet: catalogs and apps by slug, endpoints by URL.
    /// What exists (from a state file) is kept as it is.
    pub async fn apply(self, store: &Store, strict: Option<StrictUrls<'_>>) -> Result<(), String> {
        let declared: HashMap<&str, ()> = self
            .catalogs
            .iter()
            .map(|c| (c.slug.as_str(), ()))
            .collect();
        for app in &self.apps {
            if let Some(catalog) = &app.event_catalog
                && !declared.contains_key(catalog.as_str())
                && !store.has_catalog(catalog)
            {
                return Err(format!(
                    "app '{}': unknown event_catalog '{catalog}' (declare it under catalogs)",
                    app.slug
                ));
            }
        }
        for catalog in self.catalogs {
            if store.has_catalog(&catalog.slug) {
                continue;
            }
            let slug = catalog.slug.clone();
            store
                .create_catalog(catalog.into_request())
                .map_err(|e| format!("catalog '{slug}': {}", e.message()))?;
        }
        for app in self.apps {
            app.apply(store, strict).await?;
        }
        Ok(())
    }
}

impl CatalogFixture {
    fn into_request(self) -> CreateWebhookEventCatalogRequest {
        CreateWebhookEventCatalogRequest {
            slug: self.slug,
            name: self.name,
            description: self.description,
            events: self
                .events
                .into_iter()
                .map(|e| WebhookEventDefinition {
                    name: e.name,
                    description: e.description,
                    group: e.group,
                    schema: e.schema,
                    example_payload: e.example_payload,
                    is_archived: None,
                })
                .collect(),
        }
    }
}

impl AppFixture {
    async fn apply(self, store: &Store, strict: Option<StrictUrls<'_>>) -> Result<(), String> {
        let slug = self.slug.clone();
        if !store.has_app(&slug) {
            let secret = self
                .signing_secret
                .clone()
                .unwrap_or_else(|| derived_secret(&slug));
            store
                .create_app(CreateWebhookAppRequest {
                    name: self.name.clone().unwrap_or_else(|| slug.clone()),
                    app_slug: Some(slug.clone()),
                    description: self.description.clone(),
                    failure_notification_emails: Some(self.failure_notification_emails.clone()),
                    event_catalog_slug: self.event_catalog.clone(),
                })
                .and_then(|_| store.set_signing_secret(&slug, &secret))
                .map_err(|e| format!("app '{slug}': {}", e.message()))?;
        }
        for (i, endpoint) in self.endpoints.into_iter().enumerate() {
            if store.has_endpoint(&slug, &endpoint.url) {
                continue;
            }
            let context = format!("app '{slug}', endpoints[{i}] ({})", endpoint.url);
            if let Some(StrictUrls(resolver)) = strict {
                let url =
                    url_policy::parse(&endpoint.url).map_err(|e| format!("{context}: {e}"))?;
                url_policy::check_strict(&url, resolver)
                    .await
                    .map_err(|e| format!("{context}: {e}"))?;
            }
            store
                .create_endpoint(&slug, endpoint.into_request(&slug))
                .map_err(|e| format!("{context}: {}", e.message()))?;
        }
        Ok(())
    }
}

impl EndpointFixture {
    fn into_request(self, app_slug: &str) -> CreateWebhookEndpointRequest {
        CreateWebhookEndpointRequest {
            app_slug: app_slug.to_string(),
            url: self.url,
            subscriptions: self
                .subscriptions
                .into_iter()
                .map(|s| match s {
                    SubscriptionFixture::Name(event_name) => EventSubscriptionRequest {
                        event_name,
                        filter_rules: None,
                    },
                    SubscriptionFixture::Filtered {
                        event_name,
                        filter_rules,
                    } => EventSubscriptionRequest {
                        event_name,
                        filter_rules,
                    },
                })
                .collect(),
            description: self.description,
            headers: self.headers,
            max_retries: self.max_retries,
            timeout_seconds: self.timeout_seconds,
            rate_limit_config: self.rate_limit.map(|r| RateLimitConfig {
                duration_ms: r.duration_ms,
                max_requests: r.max_requests,
            }),
        }
    }
}

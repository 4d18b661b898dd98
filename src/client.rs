//! [`Client`], its configuration, and [`Webhooks`], the calls of the webhooks module.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use progenitor_client::ResponseValue;

use crate::builders::ReplayWebhookDeliveriesRequest;
use crate::generated::options::*;
use crate::generated::types::*;
use crate::generated::{self, types::ErrorBody};
pub use crate::retry::RetryPolicy;
use crate::transport::{PerRequest, Transport};
use crate::{Error, Page};

/// The production API.
pub const DEFAULT_BASE_URL: &str = "https://api.wacht.dev";
/// The default time limit of one request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default number of retries after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// The default most bytes of a response body the client reads (64 MiB): far above any answer of
/// the API, and a bound on what a misbehaving server can make the client hold.
pub const DEFAULT_MAX_RESPONSE_BODY: usize = 64 * 1024 * 1024;

const USER_AGENT: &str = concat!("wacht-webhooks-rust/", env!("CARGO_PKG_VERSION"));

/// A client of the Wacht Webhooks API: one pooled HTTP client, cheap to clone and to share
/// between tasks.
///
/// ```no_run
/// use std::time::Duration;
/// use wacht_webhooks::Client;
///
/// # fn main() -> Result<(), wacht_webhooks::Error> {
/// let client = Client::new("wk_live_...")?;
/// let local = Client::builder()
///     .api_key("emulator_key")
///     .base_url("http://127.0.0.1:8787")
///     .timeout(Duration::from_secs(10))
///     .max_retries(3)
///     .build()?;
/// let from_env = Client::from_env()?; // WACHT_API_KEY, optional WACHT_API_URL
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    api: Arc<generated::Client>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.api.baseurl)
            .field("retries", &self.api.inner)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client of the production API with default settings.
    pub fn new(api_key: impl Into<String>) -> Result<Client, Error> {
        Client::builder().api_key(api_key).build()
    }

    /// A builder to set the base URL, timeout and retries.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from `WACHT_API_KEY` and, when set, `WACHT_API_URL`.
    pub fn from_env() -> Result<Client, Error> {
        let key = std::env::var("WACHT_API_KEY").map_err(|_| {
            Error::config("WACHT_API_KEY is not set (or not valid UTF-8); it must hold the API key")
        })?;
        let mut builder = Client::builder().api_key(key);
        if let Ok(url) = std::env::var("WACHT_API_URL") {
            builder = builder.base_url(url);
        }
        builder.build()
    }

    /// The calls of the webhooks module.
    pub fn webhooks(&self) -> Webhooks {
        Webhooks {
            client: self.clone(),
        }
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.api.baseurl
    }

    pub(crate) fn api(&self) -> &generated::Client {
        &self.api
    }
}

/// Configuration of a [`Client`].
///
/// ```no_run
/// use std::time::Duration;
/// use wacht_webhooks::{Client, RetryPolicy};
///
/// # fn main() -> Result<(), wacht_webhooks::Error> {
/// // The client's own HTTP client, tuned by the builder.
/// let client = Client::builder()
///     .api_key("wk_live_...")
///     .timeout(Duration::from_secs(10))
///     .retry_policy(RetryPolicy::new().max_retries(4).budget(Duration::from_secs(30)))
///     .build()?;
///
/// // The application's HTTP client (its proxy, its connection pool), shared with the API client.
/// let http = reqwest::Client::builder()
///     .proxy(reqwest::Proxy::https("http://proxy.internal:3128").expect("a valid proxy URL"))
///     .build()
///     .expect("an HTTP client");
/// let shared = Client::builder().api_key("wk_live_...").http_client(http).build()?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    api_key: Option<String>,
    base_url: String,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    retry_policy: RetryPolicy,
    max_response_body: usize,
    http_client: Option<reqwest::Client>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            api_key: None,
            base_url: DEFAULT_BASE_URL.to_string(),
            timeout: None,
            connect_timeout: Duration::from_secs(10),
            retry_policy: RetryPolicy::default(),
            max_response_body: DEFAULT_MAX_RESPONSE_BODY,
            http_client: None,
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry_policy", &self.retry_policy)
            .field("max_response_body", &self.max_response_body)
            .field("own_http_client", &self.http_client.is_some())
            .finish()
    }
}

impl ClientBuilder {
    /// The API key, sent as `Authorization: Bearer <key>` and never shown in `Debug`, logs or
    /// errors.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Where the API is served; default `https://api.wacht.dev`. A trailing `/` is ignored.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The time limit of each request attempt (default 30 s). With
    /// [`http_client`](ClientBuilder::http_client), it is set on each request when called, and
    /// the HTTP client's own timeout applies when not.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The time limit to open a connection (default 10 s). Has no effect with
    /// [`http_client`](ClientBuilder::http_client): connections are that client's.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How many times a failed request may be retried (default 2); a shortcut for
    /// [`RetryPolicy::max_retries`] on the current policy. Reads, PUTs, DELETEs and replays
    /// (deduplicated by their idempotency key) are retried on 429, 502, 503, 504, timeouts and
    /// connection errors; other writes only when the connection failed, so that the server never
    /// sees them twice.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.retry_policy = self.retry_policy.max_retries(retries);
        self
    }

    /// When failed requests are retried, how often and how long apart (default
    /// [`RetryPolicy::default`]); replaces any earlier [`max_retries`](ClientBuilder::max_retries).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// Sends every request through `client`, the application's own HTTP client: its proxies,
    /// connection pool, TLS settings and middleware-free `reqwest` configuration apply.
    ///
    /// What the builder still does: each request gets the API key (`Authorization`), this
    /// crate's `User-Agent` unless the client sets one, and the builder's
    /// [`timeout`](ClientBuilder::timeout) if it was called; retries and the response-body limit
    /// work as with the built-in client. What it no longer does:
    /// [`connect_timeout`](ClientBuilder::connect_timeout) and the redirect rule are the client's
    /// (the API never redirects; a client that follows redirects may turn a POST answered with a
    /// 3xx into a GET), and TLS is whatever `client` was built with.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// The most bytes of a successful response's body the client reads (default
    /// [`DEFAULT_MAX_RESPONSE_BODY`], 64 MiB); a longer body fails the call with
    /// [`ErrorKind::Decode`](crate::ErrorKind::Decode) instead of growing memory without bound.
    /// Error bodies are read only as far as their message needs (64 KiB), whatever this is.
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.max_response_body = bytes;
        self
    }

    /// Builds the client; fails with [`ErrorKind::Config`](crate::ErrorKind::Config) on a missing
    /// or malformed key or base URL, and on an `https` base URL when this build of the crate has
    /// no TLS (neither the `rustls` nor the `native-tls` feature) and no
    /// [`http_client`](ClientBuilder::http_client) was given.
    pub fn build(self) -> Result<Client, Error> {
        let key = self.api_key.as_deref().ok_or_else(|| {
            Error::config("no API key: call ClientBuilder::api_key or set WACHT_API_KEY")
        })?;
        let base_url = self.base_url.trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base_url)
            .map_err(|err| Error::config(format!("base URL {base_url:?} is invalid: {err}")))?;
        match parsed.scheme() {
            "http" => {}
            "https" if TLS || self.http_client.is_some() => {}
            "https" => {
                return Err(Error::config(format!(
                    "base URL {base_url:?} needs TLS, and this build of wacht-webhooks has none: \
                     enable its `rustls` (default) or `native-tls` feature, or pass an HTTP client \
                     with TLS to ClientBuilder::http_client"
                )));
            }
            _ => {
                return Err(Error::config(format!(
                    "base URL {base_url:?} must use http or https"
                )));
            }
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", key.trim())).map_err(|_| {
            Error::config("the API key contains characters that cannot go in an HTTP header")
        })?;
        auth.set_sensitive(true);
        let (http, per_request) = match self.http_client {
            Some(http) => {
                let per_request = PerRequest {
                    auth,
                    user_agent: HeaderValue::from_static(USER_AGENT),
                    timeout: self.timeout,
                };
                (http, Some(per_request))
            }
            None => {
                let mut headers = HeaderMap::new();
                headers.insert(AUTHORIZATION, auth);
                let builder = reqwest::Client::builder()
                    .default_headers(headers)
                    .user_agent(USER_AGENT)
                    .timeout(self.timeout.unwrap_or(DEFAULT_TIMEOUT))
                    .connect_timeout(self.connect_timeout)
                    // The API never redirects. Following one turns a POST into a GET whose answer
                    // reads as the POST's success; a 3xx comes back as an error instead.
                    .redirect(reqwest::redirect::Policy::none());
                let http = crate::tls::configure(builder)?
                    .build()
                    .map_err(|err| Error::config(format!("cannot build the HTTP client: {err}")))?;
                (http, None)
            }
        };
        let transport = Transport {
            policy: self.retry_policy,
            max_response_body: self.max_response_body,
            per_request,
        };
        Ok(Client {
            api: Arc::new(generated::Client::new_with_client(
                &base_url, http, transport,
            )),
        })
    }
}

/// Whether this build can speak TLS.
const TLS: bool = cfg!(any(feature = "rustls", feature = "native-tls"));

/// Awaits a generated call and maps its result.
pub(crate) async fn finish<T>(
    operation: &'static str,
    call: impl Future<Output = Result<ResponseValue<T>, progenitor_client::Error<ErrorBody>>>,
) -> Result<T, Error> {
    call.await
        .map(ResponseValue::into_inner)
        .map_err(|err| Error::from_generated(operation, err))
}

/// Calls the generated method of the same name; the method's name is the operation id.
macro_rules! call {
    ($self:ident . $op:ident ( $($arg:expr),* $(,)? )) => {
        finish(stringify!($op), $self.api().$op($($arg),*)).await
    };
}

/// Calls an operation with its options type.
macro_rules! call_with {
    ($self:ident . $op:ident ( $options:expr $(, $arg:expr)* $(,)? )) => {
        finish(stringify!($op), $options.send($self.api() $(, $arg)*)).await
    };
}

/// The calls of the webhooks module: apps, endpoints, deliveries, replays, events, catalogs
/// and analytics. Cheap to clone.
///
/// ```no_run
/// use serde_json::json;
/// use wacht_webhooks::{Client, CreateWebhookAppRequest, CreateWebhookEndpointRequest, TriggerWebhookEventRequest};
///
/// # async fn run() -> Result<(), wacht_webhooks::Error> {
/// let webhooks = Client::new("wk_live_...")?.webhooks();
/// let app = webhooks
///     .create_webhook_app(CreateWebhookAppRequest::new("Billing").event_catalog_slug("billing-events"))
///     .await?;
/// webhooks
///     .create_webhook_endpoint(
///         &app.app_slug,
///         CreateWebhookEndpointRequest::new("https://example.com/hooks").subscribe("invoice.paid"),
///     )
///     .await?;
/// let sent = webhooks
///     .trigger_webhook_event(&app.app_slug, TriggerWebhookEventRequest::new("invoice.paid", json!({"id": "in_1"})))
///     .await?;
/// println!("{} deliveries queued", sent.delivered_count);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Webhooks {
    client: Client,
}

impl Webhooks {
    pub(crate) fn api(&self) -> &generated::Client {
        self.client.api()
    }

    // ----- apps -----------------------------------------------------------------------------

    #[doc = operation_doc!(create_webhook_app)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// use wacht_webhooks::CreateWebhookAppRequest;
    /// let app = webhooks
    ///     .create_webhook_app(CreateWebhookAppRequest::new("Billing").app_slug("billing"))
    ///     .await?;
    /// assert!(app.signing_secret.starts_with("whsec_"));
    /// # Ok(()) }
    /// ```
    pub async fn create_webhook_app(
        &self,
        request: CreateWebhookAppRequest,
    ) -> Result<WebhookApp, Error> {
        call!(self.create_webhook_app(&request))
    }

    #[doc = operation_doc!(list_webhook_apps)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// use wacht_webhooks::ListWebhookAppsOptions;
    /// let page = webhooks
    ///     .list_webhook_apps(ListWebhookAppsOptions::new().limit(20).include_inactive(true))
    ///     .await?;
    /// for app in &page.data {
    ///     println!("{} ({})", app.name, app.app_slug);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_webhook_apps(
        &self,
        options: ListWebhookAppsOptions,
    ) -> Result<Page<WebhookApp>, Error> {
        call_with!(self.list_webhook_apps(options)).map(Page::from)
    }

    #[doc = operation_doc!(get_webhook_app)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// let app = webhooks.get_webhook_app("billing").await?;
    /// println!("active: {}", app.is_active);
    /// # Ok(()) }
    /// ```
    pub async fn get_webhook_app(&self, app_slug: &str) -> Result<WebhookApp, Error> {
        call!(self.get_webhook_app(app_slug))
    }

    #[doc = operation_doc!(update_webhook_app)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// use wacht_webhooks::UpdateWebhookAppRequest;
    /// let app = webhooks
    ///     .update_webhook_app("billing", UpdateWebhookAppRequest::new().is_active(false))
    ///     .await?;
    /// assert!(!app.is_active);
    /// // An empty list is sent as `[]` and clears the addresses; an unset field is left out.
    /// let app = webhooks
    ///     .update_webhook_app(
    ///         "billing",
    ///         UpdateWebhookAppRequest::new().failure_notification_emails(Vec::<String>::new()),
    ///     )
    ///     .await?;
    /// assert!(app.failure_notification_emails.is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn update_webhook_app(
        &self,
        app_slug: &str,
        request: UpdateWebhookAppRequest,
    ) -> Result<WebhookApp, Error> {
        call!(self.update_webhook_app(app_slug, &request))
    }

    #[doc = operation_doc!(delete_webhook_app)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// webhooks.delete_webhook_app("billing").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_webhook_app(&self, app_slug: &str) -> Result<(), Error> {
        call!(self.delete_webhook_app(app_slug)).map(drop)
    }

    #[doc = operation_doc!(rotate_webhook_secret)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// let app = webhooks.rotate_webhook_secret("billing").await?;
    /// let verifier = wacht_webhooks::Webhook::new(&app.signing_secret).expect("the server sends valid secrets");
    /// # Ok(()) }
    /// ```
    pub async fn rotate_webhook_secret(&self, app_slug: &str) -> Result<WebhookApp, Error> {
        call!(self.rotate_webhook_secret(app_slug))
    }

    // ----- endpoints ------------------------------------------------------------------------

    #[doc = operation_doc!(create_webhook_endpoint)]
    ///
    /// The body's `app_slug` is filled from `app_slug`.
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// use serde_json::json;
    /// use wacht_webhooks::CreateWebhookEndpointRequest;
    /// let endpoint = webhooks
    ///     .create_webhook_endpoint(
    ///         "billing",
    ///         CreateWebhookEndpointRequest::new("https://example.com/hooks")
    ///             .subscribe("invoice.paid")
    ///             .subscribe_filtered("invoice.failed", json!({"amount": {"$gte": 100}}))
    ///             .header("x-team", "payments")
    ///             .max_retries(5),
    ///     )
    ///     .await?;
    /// println!("endpoint {}", endpoint.id);
    /// # Ok(()) }
    /// ```
    pub async fn create_webhook_endpoint(
        &self,
        app_slug: &str,
        mut request: CreateWebhookEndpointRequest,
    ) -> Result<WebhookEndpoint, Error> {
        request.app_slug = app_slug.to_string();
        call!(self.create_webhook_endpoint(app_slug, &request))
    }

    #[doc = operation_doc!(list_webhook_endpoints)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// use wacht_webhooks::ListWebhookEndpointsOptions;
    /// let page = webhooks
    ///     .list_webhook_endpoints("billing", ListWebhookEndpointsOptions::new().include_inactive(true))
    ///     .await?;
    /// for endpoint in page.data {
    ///     println!("{} -> {} events", endpoint.url, endpoint.subscriptions.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_webhook_endpoints(
        &self,
        app_slug: &str,
        options: ListWebhookEndpointsOptions,
    ) -> Result<Page<WebhookEndpoint>, Error> {
        call_with!(self.list_webhook_endpoints(options, app_slug)).map(Page::from)
    }

    #[doc = operation_doc!(update_webhook_endpoint)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// use wacht_webhooks::UpdateWebhookEndpointRequest;
    /// let endpoint = webhooks
    ///     .update_webhook_endpoint("billing", "7291834471203418112", UpdateWebhookEndpointRequest::new().is_active(false))
    ///     .await?;
    /// // An empty map is sent as `{}` and clears the extra headers.
    /// let endpoint = webhooks
    ///     .update_webhook_endpoint(
    ///         "billing",
    ///         "7291834471203418112",
    ///         UpdateWebhookEndpointRequest::new().headers(std::collections::BTreeMap::new()),
    ///     )
    ///     .await?;
    /// assert_eq!(endpoint.headers, serde_json::json!({}));
    /// # Ok(()) }
    /// ```
    pub async fn update_webhook_endpoint(
        &self,
        app_slug: &str,
        endpoint_id: &str,
        request: UpdateWebhookEndpointRequest,
    ) -> Result<WebhookEndpoint, Error> {
        call!(self.update_webhook_endpoint(app_slug, endpoint_id, &request))
    }

    #[doc = operation_doc!(delete_webhook_endpoint)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// webhooks.delete_webhook_endpoint("billing", "7291834471203418112").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_webhook_endpoint(
        &self,
        app_slug: &str,
        endpoint_id: &str,
    ) -> Result<(), Error> {
        call!(self.delete_webhook_endpoint(app_slug, endpoint_id)).map(drop)
    }

    #[doc = operation_doc!(test_webhook_endpoint)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// use wacht_webhooks::TestWebhookEndpointRequest;
    /// let answer = webhooks
    ///     .test_webhook_endpoint("billing", "7291834471203418112", TestWebhookEndpointRequest::new("invoice.paid"))
    ///     .await?;
    /// assert!(answer.success);
    /// # Ok(()) }
    /// ```
    pub async fn test_webhook_endpoint(
        &self,
        app_slug: &str,
        endpoint_id: &str,
        request: TestWebhookEndpointRequest,
    ) -> Result<TestWebhookEndpointResponse, Error> {
        call!(self.test_webhook_endpoint(app_slug, endpoint_id, &request))
    }

    #[doc = operation_doc!(reactivate_webhook_endpoint)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// let answer = webhooks.reactivate_webhook_endpoint("7291834471203418112").await?;
    /// println!("{}", answer.message);
    /// # Ok(()) }
    /// ```
    pub async fn reactivate_webhook_endpoint(
        &self,
        endpoint_id: &str,
    ) -> Result<ReactivateEndpointResponse, Error> {
        call!(self.reactivate_webhook_endpoint(endpoint_id))
    }

    // ----- deliveries -----------------------------------------------------------------------

    #[doc = operation_doc!(list_webhook_deliveries)]
    ///
    /// This call sends the filters and returns the server's page as it is, quirks included. To get
    /// every matching delivery once, with the same result from the production service and from
    /// a server that applies every filter, use [`Webhooks::list_webhook_deliveries_stream`]: it
    /// applies the filters itself and drops rows that shifted onto the next page.
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// use wacht_webhooks::{DeliveryStatus, ListWebhookDeliveriesOptions};
    /// let failed = webhooks
    ///     .list_webhook_deliveries(
    ///         "billing",
    ///         ListWebhookDeliveriesOptions::new().status(DeliveryStatus::Failed).limit(50),
    ///     )
    ///     .await?;
    /// println!("{} failed deliveries on this page", failed.data.len());
    /// # Ok(()) }
    /// ```
    pub async fn list_webhook_deliveries(
        &self,
        app_slug: &str,
        options: ListWebhookDeliveriesOptions,
    ) -> Result<Page<WebhookDelivery>, Error> {
        call_with!(self.list_webhook_deliveries(options, app_slug)).map(Page::from)
    }

    #[doc = operation_doc!(get_webhook_delivery)]
    ///
    /// Sends no query option; [`Webhooks::get_webhook_delivery_with`] takes them.
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// let delivery = webhooks.get_webhook_delivery("billing", "7291834471203418112").await?;
    /// println!("{:?}: {:?}", delivery.status, delivery.response_body);
    /// # Ok(()) }
    /// ```
    pub async fn get_webhook_delivery(
        &self,
        app_slug: &str,
        delivery_id: &str,
    ) -> Result<WebhookDeliveryDetails, Error> {
        self.get_webhook_delivery_with(app_slug, delivery_id, WebhookDeliveryOptions::default())
            .await
    }

    /// [`Webhooks::get_webhook_delivery`] with its query options, such as `status`.
    ///
    /// With `status(DeliveryStatus::Pending)` the server reads a delivery that is still queued, and
    /// its `payload` is the raw trigger payload rather than the envelope.
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// use wacht_webhooks::{DeliveryStatus, WebhookDeliveryOptions};
    /// let queued = webhooks
    ///     .get_webhook_delivery_with(
    ///         "billing",
    ///         "7291834471203418112",
    ///         WebhookDeliveryOptions::new().status(DeliveryStatus::Pending),
    ///     )
    ///     .await?;
    /// println!("attempt {} of {}", queued.attempt_number, queued.max_attempts);
    /// # Ok(()) }
    /// ```
    pub async fn get_webhook_delivery_with(
        &self,
        app_slug: &str,
        delivery_id: &str,
        options: WebhookDeliveryOptions,
    ) -> Result<WebhookDeliveryDetails, Error> {
        call_with!(self.get_webhook_delivery(options, app_slug, delivery_id))
    }

    /// Replays one delivery: a new delivery of the same payload to the same endpoint, with a new
    /// id, signed with the app's current secret.
    ///
    /// Built on the bulk replay route (`POST /webhooks/apps/{app_slug}/deliveries/replay` with
    /// `delivery_ids: [delivery_id]`), as the official TypeScript SDK does. Asynchronous: the
    /// answer carries the replay task's id.
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// let queued = webhooks.replay_webhook_delivery("billing", "7291834471203418112").await?;
    /// println!("task {:?}", queued.task_id);
    /// # Ok(()) }
    /// ```
    pub async fn replay_webhook_delivery(
        &self,
        app_slug: &str,
        delivery_id: &str,
    ) -> Result<ReplayWebhookDeliveryResponse, Error> {
        let request = ReplayWebhookDeliveriesRequest::by_ids([delivery_id]);
        self.replay_webhook_deliveries(app_slug, request).await
    }

    #[doc = operation_doc!(replay_webhook_deliveries)]
    ///
    /// Without an idempotency key the client sends a fresh one, so that its own retries of this
    /// call can never replay twice. For any number of ids or any span of time, see
    /// [`Webhooks::replay`].
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// use chrono::{Duration, Utc};
    /// use wacht_webhooks::{ReplayStatusFilter, ReplayWebhookDeliveriesRequest};
    /// let start = Utc::now() - Duration::hours(6);
    /// let queued = webhooks
    ///     .replay_webhook_deliveries(
    ///         "billing",
    ///         ReplayWebhookDeliveriesRequest::by_date_range(start, None)
    ///             .status(ReplayStatusFilter::Failed)
    ///             .idempotency_key("incident-42"),
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn replay_webhook_deliveries(
        &self,
        app_slug: &str,
        request: ReplayWebhookDeliveriesRequest,
    ) -> Result<ReplayWebhookDeliveryResponse, Error> {
        let body = request.into_wire("replay_webhook_deliveries")?;
        call!(self.replay_webhook_deliveries(app_slug, &body))
    }

    #[doc = operation_doc!(trigger_webhook_event)]
    ///
    /// The body's `app_slug` is filled from `app_slug`. Never retried once the server may have
    /// seen it: a retry could deliver the event twice.
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// use serde_json::json;
    /// use wacht_webhooks::TriggerWebhookEventRequest;
    /// let sent = webhooks
    ///     .trigger_webhook_event("billing", TriggerWebhookEventRequest::new("invoice.paid", json!({"amount": 4200})))
    ///     .await?;
    /// println!("{} queued, {} filtered out", sent.delivered_count, sent.filtered_count);
    /// # Ok(()) }
    /// ```
    pub async fn trigger_webhook_event(
        &self,
        app_slug: &str,
        mut request: TriggerWebhookEventRequest,
    ) -> Result<TriggerWebhookEventResponse, Error> {
        request.app_slug = app_slug.to_string();
        call!(self.trigger_webhook_event(app_slug, &request))
    }

    // ----- analytics ------------------------------------------------------------------------

    #[doc = operation_doc!(get_webhook_stats)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// let stats = webhooks.get_webhook_stats("billing").await?;
    /// println!("{:.1}% of {} deliveries succeeded", stats.success_rate, stats.total_deliveries);
    /// # Ok(()) }
    /// ```
    pub async fn get_webhook_stats(&self, app_slug: &str) -> Result<WebhookStats, Error> {
        call!(self.get_webhook_stats(app_slug))
    }

    #[doc = operation_doc!(get_webhook_analytics)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// use chrono::{Duration, Utc};
    /// use wacht_webhooks::WebhookAnalyticsOptions;
    /// let now = Utc::now();
    /// let analytics = webhooks
    ///     .get_webhook_analytics(
    ///         "billing",
    ///         WebhookAnalyticsOptions::new().start_date(now - Duration::days(1)).end_date(now),
    ///     )
    ///     .await?;
    /// println!("p95 {:?} ms", analytics.p95_response_time_ms);
    /// # Ok(()) }
    /// ```
    pub async fn get_webhook_analytics(
        &self,
        app_slug: &str,
        options: WebhookAnalyticsOptions,
    ) -> Result<WebhookAnalytics, Error> {
        call_with!(self.get_webhook_analytics(options, app_slug))
    }

    #[doc = operation_doc!(get_webhook_timeseries)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// use wacht_webhooks::{TimeseriesInterval, WebhookTimeseriesOptions};
    /// let series = webhooks
    ///     .get_webhook_timeseries("billing", WebhookTimeseriesOptions::new().interval(TimeseriesInterval::Hour))
    ///     .await?;
    /// for point in series.data {
    ///     println!("{}: {} deliveries", point.timestamp, point.total_deliveries);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_webhook_timeseries(
        &self,
        app_slug: &str,
        options: WebhookTimeseriesOptions,
    ) -> Result<WebhookTimeseries, Error> {
        call_with!(self.get_webhook_timeseries(options, app_slug))
    }

    // ----- events and catalogs ---------------------------------------------------------------

    #[doc = operation_doc!(list_webhook_events)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// for event in webhooks.list_webhook_events("billing").await? {
    ///     println!("{}", event.event_name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_webhook_events(&self, app_slug: &str) -> Result<Vec<WebhookAppEvent>, Error> {
        call!(self.list_webhook_events(app_slug)).map(|list| list.events)
    }

    #[doc = operation_doc!(get_webhook_catalog)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// let catalog = webhooks.get_webhook_catalog("billing").await?;
    /// println!("{} events", catalog.events.len());
    /// # Ok(()) }
    /// ```
    pub async fn get_webhook_catalog(&self, app_slug: &str) -> Result<WebhookEventCatalog, Error> {
        call!(self.get_webhook_catalog(app_slug))
    }

    #[doc = operation_doc!(list_webhook_event_catalogs)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// let catalogs = webhooks.list_webhook_event_catalogs().await?;
    /// for catalog in catalogs.data {
    ///     println!("{}: {}", catalog.slug, catalog.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_webhook_event_catalogs(&self) -> Result<Page<WebhookEventCatalog>, Error> {
        let options = ListWebhookEventCatalogsOptions::default();
        call_with!(self.list_webhook_event_catalogs(options)).map(Page::from)
    }

    #[doc = operation_doc!(create_webhook_event_catalog)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// use serde_json::json;
    /// use wacht_webhooks::{CreateWebhookEventCatalogRequest, WebhookEventDefinition};
    /// let catalog = webhooks
    ///     .create_webhook_event_catalog(
    ///         CreateWebhookEventCatalogRequest::new("billing-events", "Billing events")
    ///             .event(WebhookEventDefinition::new("invoice.paid", "An invoice was paid").group("invoices"))
    ///             .event(
    ///                 WebhookEventDefinition::new("invoice.failed", "A payment failed")
    ///                     .example_payload(json!({"amount": 4200})),
    ///             ),
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_webhook_event_catalog(
        &self,
        request: CreateWebhookEventCatalogRequest,
    ) -> Result<WebhookEventCatalog, Error> {
        call!(self.create_webhook_event_catalog(&request))
    }

    #[doc = operation_doc!(get_webhook_event_catalog)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// let catalog = webhooks.get_webhook_event_catalog("billing-events").await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_webhook_event_catalog(
        &self,
        slug: &str,
    ) -> Result<WebhookEventCatalog, Error> {
        call!(self.get_webhook_event_catalog(slug))
    }

    #[doc = operation_doc!(update_webhook_event_catalog)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// use wacht_webhooks::UpdateWebhookEventCatalogRequest;
    /// let catalog = webhooks
    ///     .update_webhook_event_catalog("billing-events", UpdateWebhookEventCatalogRequest::new().name("Billing"))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_webhook_event_catalog(
        &self,
        slug: &str,
        request: UpdateWebhookEventCatalogRequest,
    ) -> Result<WebhookEventCatalog, Error> {
        call!(self.update_webhook_event_catalog(slug, &request))
    }

    #[doc = operation_doc!(append_webhook_event_catalog_events)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// use wacht_webhooks::WebhookEventDefinition;
    /// let catalog = webhooks
    ///     .append_webhook_event_catalog_events(
    ///         "billing-events",
    ///         vec![WebhookEventDefinition::new("invoice.voided", "An invoice was voided")],
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn append_webhook_event_catalog_events(
        &self,
        slug: &str,
        events: Vec<WebhookEventDefinition>,
    ) -> Result<WebhookEventCatalog, Error> {
        let body = AppendWebhookEventCatalogEventsRequest::new().events(events);
        call!(self.append_webhook_event_catalog_events(slug, &body))
    }

    #[doc = operation_doc!(archive_webhook_event_in_catalog)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// let catalog = webhooks
    ///     .archive_webhook_event_in_catalog("billing-events", "invoice.voided", true)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn archive_webhook_event_in_catalog(
        &self,
        slug: &str,
        event_name: &str,
        is_archived: bool,
    ) -> Result<WebhookEventCatalog, Error> {
        let body = ArchiveWebhookEventRequest::new(event_name, is_archived);
        call!(self.archive_webhook_event_in_catalog(slug, &body))
    }

    // ----- replay tasks ---------------------------------------------------------------------

    #[doc = operation_doc!(list_webhook_replay_tasks)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// use wacht_webhooks::ListWebhookReplayTasksOptions;
    /// let tasks = webhooks
    ///     .list_webhook_replay_tasks("billing", ListWebhookReplayTasksOptions::new().limit(10))
    ///     .await?;
    /// for task in tasks.data {
    ///     println!("{} {}: {}/{}", task.task_id, task.status, task.processed, task.total_count);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_webhook_replay_tasks(
        &self,
        app_slug: &str,
        options: ListWebhookReplayTasksOptions,
    ) -> Result<Page<ReplayTaskStatus>, Error> {
        call_with!(self.list_webhook_replay_tasks(options, app_slug)).map(Page::from)
    }

    #[doc = operation_doc!(get_webhook_replay_task_status)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// let task = webhooks.get_webhook_replay_task_status("billing", "7291834471203418112").await?;
    /// println!("{}: {} replayed, {} failed", task.status, task.replayed_count, task.failed_count);
    /// # Ok(()) }
    /// ```
    pub async fn get_webhook_replay_task_status(
        &self,
        app_slug: &str,
        task_id: &str,
    ) -> Result<ReplayTaskStatus, Error> {
        call!(self.get_webhook_replay_task_status(app_slug, task_id))
    }

    #[doc = operation_doc!(cancel_webhook_replay_task)]
    ///
    /// ```no_run
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// let answer = webhooks.cancel_webhook_replay_task("billing", "7291834471203418112").await?;
    /// println!("{}", answer.message);
    /// # Ok(()) }
    /// ```
    pub async fn cancel_webhook_replay_task(
        &self,
        app_slug: &str,
        task_id: &str,
    ) -> Result<CancelReplayTaskResponse, Error> {
        call!(self.cancel_webhook_replay_task(app_slug, task_id))
    }
}

//! [`Client`], its configuration, and [`Webhooks`], the calls of the webhooks module (one per
//! operation of the spec, generated from it, plus the replay helpers).

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use progenitor_client::ResponseValue;

use crate::builders::ReplayWebhookDeliveriesRequest;
use crate::generated::{self, types::ErrorBody};
pub use crate::retry::RetryPolicy;
use crate::transport::{PerRequest, Transport};
use crate::{Error, ReplayWebhookDeliveryResponse};

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

/// A hand-written request type that stands for a wire body the generator cannot build (a
/// `oneOf`): the generated call converts it before sending, and fails with its error.
pub(crate) trait IntoWire<T> {
    fn into_wire(self, operation: &'static str) -> Result<T, Error>;
}

impl IntoWire<generated::types::ReplayWebhookDeliveriesRequest> for ReplayWebhookDeliveriesRequest {
    fn into_wire(
        self,
        operation: &'static str,
    ) -> Result<generated::types::ReplayWebhookDeliveriesRequest, Error> {
        ReplayWebhookDeliveriesRequest::into_wire(self, operation)
    }
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

    /// Replays one delivery: a new delivery of the same payload to the same endpoint, with a new
    /// id, signed with the app's current secret.
    ///
    /// Built on [`Webhooks::replay_webhook_deliveries`] with this one id, as the official
    /// TypeScript SDK does. Asynchronous: the answer carries the replay task's id.
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
}

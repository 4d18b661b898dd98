//! Starting and stopping an emulator.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::api::{self, Ctx, RateLimiter};
use crate::behaviour::Behaviour;
use crate::delivery::{
    DEFAULT_MAX_ATTEMPTS_IN_FLIGHT, DEFAULT_MAX_ATTEMPTS_IN_FLIGHT_PER_ENDPOINT, Engine,
    EngineConfig,
};
use crate::fixtures::{self, StrictUrls};
use crate::inbox::{DEFAULT_WAIT, Inbox, Inboxes, WaitTimeout};
use crate::replay::Replayer;
use crate::resolve::SystemResolver;
use crate::serve::{self, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONNECTIONS, Limits};
use crate::state_file::{self, Saver};
use crate::store::persist::Resume;
use crate::store::{RESPONSE_BODY_READ_LIMIT, Retention, Store, Timing};
#[cfg(feature = "tls")]
use crate::tls;
use reqwest::dns::Resolve;

/// The API key accepted when none is configured.
pub const DEFAULT_API_KEY: &str = "emulator_key";

/// Wacht's retry waits: 30 s, 60 s, 5 min, 15 min, then 6 h for every further attempt.
pub fn default_retry_schedule() -> Vec<Duration> {
    [30, 60, 5 * 60, 15 * 60, 6 * 60 * 60]
        .into_iter()
        .map(Duration::from_secs)
        .collect()
}

/// How often the state file is saved while running, by default.
pub const DEFAULT_STATE_INTERVAL: Duration = Duration::from_secs(5);

/// How long [`Emulator::shutdown`] waits for requests and delivery attempts in progress, by default.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Why an emulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The HTTP client used for deliveries could not be built.
    #[error("cannot build the delivery HTTP client: {0}")]
    HttpClient(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The configuration is unusable.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The fixtures file cannot be read, parsed or applied.
    #[error("fixtures file {}: {message}", path.display())]
    Fixtures {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line or the item concerned.
        message: String,
    },
    /// The state file cannot be read or is not a state file of this emulator; it was left
    /// untouched.
    #[error("state file {}: {message}", path.display())]
    State {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Configures an [`Emulator`]; obtained from [`Emulator::builder`].
#[derive(Clone)]
pub struct EmulatorBuilder {
    api_key: String,
    retry_schedule: Vec<Duration>,
    allow_private_urls: bool,
    loopback_only: bool,
    replay_item_delay: Duration,
    replay_queue_delay: Duration,
    timing: Timing,
    api_rate_limit: Option<(u32, Duration)>,
    listen: SocketAddr,
    behaviour: Behaviour,
    resolver: Arc<dyn Resolve>,
    limits: Limits,
    retention: Retention,
    max_in_flight: usize,
    max_in_flight_per_endpoint: usize,
    shutdown_timeout: Duration,
    extra_roots: Vec<Vec<u8>>,
    fixtures: Option<PathBuf>,
    state_file: Option<PathBuf>,
    state_interval: Duration,
}

impl std::fmt::Debug for EmulatorBuilder {
    // The API key is a secret: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorBuilder")
            .field("api_key", &"<redacted>")
            .field("retry_schedule", &self.retry_schedule)
            .field("allow_private_urls", &self.allow_private_urls)
            .field("loopback_only", &self.loopback_only)
            .field("replay_item_delay", &self.replay_item_delay)
            .field("replay_queue_delay", &self.replay_queue_delay)
            .field("timing", &self.timing)
            .field("api_rate_limit", &self.api_rate_limit)
            .field("listen", &self.listen)
            .field("behaviour", &self.behaviour)
            .field("retention", &self.retention)
            .field("max_in_flight", &self.max_in_flight)
            .field(
                "max_in_flight_per_endpoint",
                &self.max_in_flight_per_endpoint,
            )
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("extra_roots", &self.extra_roots.len())
            .field("fixtures", &self.fixtures)
            .field("state_file", &self.state_file)
            .field("state_interval", &self.state_interval)
            .finish()
    }
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            api_key: DEFAULT_API_KEY.to_string(),
            retry_schedule: default_retry_schedule(),
            allow_private_urls: true,
            loopback_only: false,
            replay_item_delay: Duration::ZERO,
            replay_queue_delay: Duration::ZERO,
            timing: Timing::default(),
            api_rate_limit: None,
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            behaviour: Behaviour::default(),
            resolver: Arc::new(SystemResolver),
            limits: Limits {
                header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
                max_connections: DEFAULT_MAX_CONNECTIONS,
            },
            retention: Retention::default(),
            max_in_flight: DEFAULT_MAX_ATTEMPTS_IN_FLIGHT,
            max_in_flight_per_endpoint: DEFAULT_MAX_ATTEMPTS_IN_FLIGHT_PER_ENDPOINT,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            extra_roots: Vec::new(),
            fixtures: None,
            state_file: None,
            state_interval: DEFAULT_STATE_INTERVAL,
        }
    }
}

impl EmulatorBuilder {
    /// The API key clients must send as `Authorization: Bearer <key>` (default `emulator_key`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = key.into();
        self
    }

    /// The waits after attempt 1, 2, …; the last wait repeats (default 30 s, 60 s, 5 min, 15 min, 6 h).
    pub fn retry_schedule(mut self, schedule: Vec<Duration>) -> Self {
        self.retry_schedule = schedule;
        self
    }

    /// Accept any http(s) endpoint URL (default `true`); `false` applies the production service's
    /// strict policy (no loopback, private, link-local, CGNAT or metadata targets).
    pub fn allow_private_urls(mut self, allow: bool) -> Self {
        self.allow_private_urls = allow;
        self
    }

    /// Only contact loopback IP literals and `localhost` (default `false`). Any other target is not
    /// attempted and is recorded as a connection failure, so no delivery ever leaves the machine.
    pub fn deliver_to_loopback_only(mut self, loopback_only: bool) -> Self {
        self.loopback_only = loopback_only;
        self
    }

    /// A pause between the items of a replay task (default none), so tests can observe running tasks.
    pub fn replay_item_delay(mut self, delay: Duration) -> Self {
        self.replay_item_delay = delay;
        self
    }

    /// How long queuing a replay request takes before it is answered (default none).
    ///
    /// In production behaviour the request's idempotency key is reserved during that time, as
    /// the production service does while it queues the task: a repeat of the request with the
    /// same key meanwhile answers `{"status":"queued","task_id":null}`. The documented behaviour
    /// queues at once and only answers after the delay, so a repeat always gets the task id.
    pub fn replay_queue_delay(mut self, delay: Duration) -> Self {
        self.replay_queue_delay = delay;
        self
    }

    /// How long a replay task record lives after its last update (default 2 h, like production).
    ///
    /// An expired task answers 404 and is left out of the task list. In production behaviour its
    /// id stays in the app's task index (see [`replay_task_index_ttl`](Self::replay_task_index_ttl)),
    /// so list pages come back short or empty while `has_more` is `true`; the documented behaviour
    /// removes it from the index too, so pages stay full.
    pub fn replay_task_ttl(mut self, ttl: Duration) -> Self {
        self.timing.replay_task_ttl = ttl;
        self
    }

    /// How long an app's replay task index lives after the last task was queued (default 24 h,
    /// like production); a task that was queued but never started lives as long. When the index
    /// expires the task list is empty until the next replay.
    pub fn replay_task_index_ttl(mut self, ttl: Duration) -> Self {
        self.timing.replay_task_index_ttl = ttl;
        self
    }

    /// Read trigger fan-out subscriptions through a cache with this lifetime, as the production
    /// service does with 300 s and no invalidation (default `None`: no cache, changes apply at
    /// once). Independent of [`behaviour`](Self::behaviour).
    ///
    /// The cache holds, per app and event name, the subscribed active endpoints with their filter
    /// rules and attempt limits as they were when a trigger first read them. Until the entry is
    /// `ttl` old, an endpoint created, subscribed or re-filtered since receives nothing new, and
    /// one deactivated since is still picked (its delivery then ends `endpoint_disabled`); an
    /// endpoint deleted since is skipped.
    pub fn subscription_cache_ttl(mut self, ttl: Option<Duration>) -> Self {
        self.timing.subscription_cache_ttl = ttl;
        self
    }

    /// Limit the API to `max_requests` authenticated requests per `per` window (default: no
    /// limit). A request over the limit answers 429 with the error envelope and the message
    /// "Rate limit exceeded. Retry after N seconds" (N: the seconds left in the window); in
    /// production behaviour without a `Retry-After` header, like the production service, in
    /// documented behaviour with `Retry-After: N`.
    pub fn api_rate_limit(mut self, max_requests: u32, per: Duration) -> Self {
        self.api_rate_limit = Some((max_requests, per));
        self
    }

    /// The address to listen on (default `127.0.0.1:0`, a free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Which server to imitate (default [`Behaviour::Production`], quirks included);
    /// [`Behaviour::Documented`] serves the API as documented.
    pub fn behaviour(mut self, behaviour: Behaviour) -> Self {
        self.behaviour = behaviour;
        self
    }

    /// How endpoint host names are resolved (default [`SystemResolver`], the operating system's).
    ///
    /// Both checks of the URL policy use it: the strict check when an endpoint is saved, and the
    /// check of every connection a delivery makes (`allow_private_urls(false)`: only globally
    /// reachable addresses; `deliver_to_loopback_only(true)`: only loopback addresses). A name is
    /// refused when any of its addresses is, so a name that is re-pointed after it was saved
    /// (DNS rebinding) is refused when the delivery connects. Tests can pass their own resolver to
    /// control what names resolve to without touching the machine's DNS or `/etc/hosts`.
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use std::sync::Arc;
    /// use wacht_webhooks_emulator::dns::{Addrs, Name, Resolve, Resolving};
    /// use wacht_webhooks_emulator::Emulator;
    ///
    /// /// Every name is this machine.
    /// struct Loopback;
    ///
    /// impl Resolve for Loopback {
    ///     fn resolve(&self, _name: Name) -> Resolving {
    ///         let addrs: Addrs = Box::new(std::iter::once(SocketAddr::from(([127, 0, 0, 1], 0))));
    ///         Box::pin(async move { Ok(addrs) })
    ///     }
    /// }
    ///
    /// let builder = Emulator::builder().dns_resolver(Arc::new(Loopback));
    /// ```
    pub fn dns_resolver(mut self, resolver: Arc<dyn Resolve>) -> Self {
        self.resolver = resolver;
        self
    }

    /// The time an API client has to send a complete request head (default 10 s); an idle
    /// keep-alive connection is closed after it too. A connection that sends its request line
    /// slowly, or half of it, is closed when it runs out, so it cannot hold its slot for long.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.limits.header_read_timeout = timeout;
        self
    }

    /// The number of API connections served at once (default 512). Further connections wait in
    /// the operating system's accept queue until one closes; with the header-read timeout, a crowd
    /// of slow clients delays other requests by at most that timeout per round of this many
    /// connections, and never exhausts the process's file descriptors.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.limits.max_connections = max;
        self
    }

    /// Keep at most this many settled deliveries in the delivery log (default 10,000; `None`:
    /// keep all, memory then grows with every delivery).
    ///
    /// Once more deliveries than that have settled (a final status), the ones that settled first
    /// are evicted; deliveries still pending or awaiting a retry are never evicted and do not
    /// count. Everything that reads the log sees only what is retained: lists, stats, analytics
    /// and time series count the retained deliveries only, and an evicted delivery answers like
    /// an id that never existed (`getWebhookDelivery`: 500 in production behaviour, as
    /// production answers an unknown id; 404 in documented behaviour); a replay skips it.
    pub fn max_retained_deliveries(mut self, max: Option<usize>) -> Self {
        self.retention.max_deliveries = max;
        self
    }

    /// Evict settled deliveries this long after they settled (default `None`: no age limit).
    /// What a user sees of evicted deliveries is described at
    /// [`max_retained_deliveries`](Self::max_retained_deliveries).
    pub fn delivery_retention_age(mut self, max_age: Option<Duration>) -> Self {
        self.retention.max_age = max_age;
        self
    }

    /// The bytes of each attempt's response body that are stored (default 4 KiB, at most 64 KiB).
    /// A longer body is cut at a character boundary and ends with
    /// [`TRUNCATION_MARK`](crate::TRUNCATION_MARK), so a cut body is recognisable.
    pub fn max_stored_response_body(mut self, bytes: usize) -> Self {
        self.retention.max_response_body = bytes;
        self
    }

    /// At most this many delivery attempts in flight across all endpoints (default 256).
    pub fn max_attempts_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = max;
        self
    }

    /// At most this many delivery attempts in flight to one endpoint (default 64).
    ///
    /// A slow or hanging endpoint ties up at most this many of the
    /// [global](Self::max_attempts_in_flight) slots; its further attempts queue without holding
    /// any, so the deliveries of other endpoints and apps keep their normal latency. With the
    /// defaults a hanging endpoint holds a quarter of the global slots; when several endpoints
    /// may hang at once, lower this limit or raise the global one.
    pub fn max_attempts_in_flight_per_endpoint(mut self, max: usize) -> Self {
        self.max_in_flight_per_endpoint = max;
        self
    }

    /// How long [`Emulator::shutdown`] waits for requests and delivery attempts in progress
    /// (default 5 s). See there for what happens to those still in progress then.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Also trust the CA certificate(s) in this PEM for deliveries to `https` endpoints, besides
    /// Mozilla's roots and the system's (call it again to add more). A receiver with a
    /// self-signed or locally issued certificate can then be reached; `start` fails with
    /// [`StartError::HttpClient`] when the PEM holds no usable certificate (and with
    /// [`StartError::Config`] when the crate was built without its default `tls` feature).
    pub fn tls_root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.extra_roots.push(pem.into());
        self
    }

    /// Create the catalogs, apps and endpoints this YAML file declares at start, so a team shares
    /// one reproducible setup. Apps keep the signing secret the file gives them (`whsec_` and
    /// base64); an app without one gets a secret derived from its slug, the same on every start
    /// (for local development only: anyone who knows the slug can compute it). Receivers therefore
    /// keep working across restarts.
    ///
    /// ```yaml
    #[doc = include_str!("../fixtures.example.yaml")]
    /// ```
    ///
    /// Unknown fields are errors. With a [state file](Self::state_file), what the state already
    /// holds wins: catalogs and apps that exist (by slug) and endpoints that exist (by app and
    /// URL) are kept as they are, and only what is missing is created. A file that cannot be read
    /// or applied makes `start` fail with [`StartError::Fixtures`], naming the file and the
    /// problem (the line and field for YAML errors, the app, catalog or endpoint otherwise).
    pub fn fixtures_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.fixtures = Some(path.into());
        self
    }

    /// Keep the whole state (apps, catalogs, endpoints, deliveries, replay tasks) in this file
    /// across restarts: loaded at start when it exists, saved atomically on
    /// [`Emulator::shutdown`] and every [`state_save_interval`](Self::state_save_interval), so
    /// a crash loses at most that interval's changes.
    ///
    /// A file that is not a state file of this emulator, is of another format version, or is
    /// corrupt makes `start` fail with [`StartError::State`] and is left untouched. Deliveries
    /// still pending or awaiting a retry when the state was saved are resumed at start: their
    /// next attempt is sent at once. A replay task that was running is cancelled (the deliveries
    /// it replayed stay); a queued one runs. The file holds the apps' signing secrets: on Unix it
    /// is written readable by its owner only. Dropping the emulator instead of calling
    /// [`Emulator::shutdown`] saves nothing more, like a crash.
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// How often the [state file](Self::state_file) is saved while running (default 5 s).
    pub fn state_save_interval(mut self, interval: Duration) -> Self {
        self.state_interval = interval;
        self
    }

    fn validate(&self) -> Result<(), StartError> {
        if self.api_key.trim().is_empty() {
            return Err(StartError::Config("the API key must not be empty".into()));
        }
        if axum::http::HeaderValue::from_str(&self.api_key).is_err() {
            return Err(StartError::Config(
                "the API key must be printable ASCII, as it travels in a header".into(),
            ));
        }
        if self.limits.max_connections == 0 || self.limits.header_read_timeout.is_zero() {
            return Err(StartError::Config(
                "max_connections and header_read_timeout must be above zero".into(),
            ));
        }
        if self.max_in_flight == 0 || self.max_in_flight_per_endpoint == 0 {
            return Err(StartError::Config(
                "the limits of delivery attempts in flight must be at least 1".into(),
            ));
        }
        if self.state_file.is_some() && self.state_interval.is_zero() {
            return Err(StartError::Config(
                "the state save interval must be above zero".into(),
            ));
        }
        if self.retention.max_response_body > RESPONSE_BODY_READ_LIMIT {
            return Err(StartError::Config(format!(
                "the stored response body can be at most {RESPONSE_BODY_READ_LIMIT} bytes"
            )));
        }
        Ok(())
    }

    /// Binds, starts serving and returns the running emulator.
    ///
    /// With the `tls` feature (default), deliveries use rustls with the `ring` provider. Unless
    /// the process already has a default rustls provider, `ring` is installed as the default, so
    /// that other reqwest clients in the process (which share reqwest's rustls support with the
    /// emulator) work without one.
    pub async fn start(self) -> Result<Emulator, StartError> {
        self.validate()?;
        let listener = TcpListener::bind(self.listen)
            .await
            .map_err(|source| StartError::Bind {
                addr: self.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: self.listen,
            source,
        })?;
        if let Some((max, per)) = self.api_rate_limit
            && (max == 0 || per.is_zero())
        {
            return Err(StartError::Config(
                "the API rate limit needs at least one request per non-empty window".into(),
            ));
        }
        let (store, resume) = self.load_state()?;
        let store = Arc::new(store);
        self.apply_fixtures(&store).await?;
        let tls = self.tls_config()?;
        let engine = Engine::new(
            store.clone(),
            EngineConfig {
                retry_schedule: self.retry_schedule.clone(),
                loopback_only: self.loopback_only,
                strict_urls: !self.allow_private_urls,
                max_in_flight: self.max_in_flight,
                max_in_flight_per_endpoint: self.max_in_flight_per_endpoint,
                max_response_body: self.retention.max_response_body,
                own_addr: Some(addr),
            },
            self.resolver.clone(),
            tls,
        )
        .map_err(|e| StartError::HttpClient(Box::new(e)))?;
        let saving = self.start_saving(&store)?;
        let replayer = Replayer::new(
            store.clone(),
            engine.clone(),
            self.replay_item_delay,
            self.replay_queue_delay,
        );
        resume.deliveries.iter().for_each(|id| engine.dispatch(*id));
        resume.tasks.iter().for_each(|id| replayer.start(*id));
        let ctx = Ctx {
            replayer,
            store,
            engine: engine.clone(),
            api_key: Arc::from(self.api_key.as_str()),
            strict_urls: !self.allow_private_urls,
            loopback_only: self.loopback_only,
            rate_limiter: self
                .api_rate_limit
                .map(|(max, per)| Arc::new(RateLimiter::new(max, per))),
            resolver: self.resolver,
            own_addr: addr,
        };
        let inboxes = Inboxes::new(addr);
        let (stop, stopped) = oneshot::channel::<()>();
        let limits = self.limits;
        let router = api::router(ctx.clone()).merge(crate::inspector::router(ctx, inboxes.clone()));
        let server = tokio::spawn(serve::run(listener, router, limits, async {
            let _ = stopped.await;
        }));
        Ok(Emulator {
            addr,
            stop: Some(stop),
            server: Some(server),
            engine,
            shutdown_timeout: self.shutdown_timeout,
            api_key: self.api_key,
            inboxes,
            saving,
        })
    }

    /// The store, with the state file's content when there is one, and what it leaves to resume.
    fn load_state(&self) -> Result<(Store, Resume), StartError> {
        let store = Store::with_timing(self.behaviour, self.timing).with_retention(self.retention);
        let Some(path) = &self.state_file else {
            return Ok((store, Resume::default()));
        };
        let state_error = |message| StartError::State {
            path: path.clone(),
            message,
        };
        match state_file::read(path).map_err(state_error)? {
            Some(bytes) => store.with_snapshot(&bytes).map_err(|message| {
                state_error(format!(
                    "{message}; the emulator does not start rather than overwrite it"
                ))
            }),
            None => Ok((store, Resume::default())),
        }
    }

    async fn apply_fixtures(&self, store: &Store) -> Result<(), StartError> {
        let Some(path) = &self.fixtures else {
            return Ok(());
        };
        let strict = (!self.allow_private_urls)
            .then(|| StrictUrls((!self.loopback_only).then_some(&*self.resolver)));
        let applied = match fixtures::load(path) {
            Ok(fixtures) => fixtures.apply(store, strict).await,
            Err(message) => Err(message),
        };
        applied.map_err(|message| StartError::Fixtures {
            path: path.clone(),
            message,
        })
    }

    /// What the delivery client needs for `https` endpoints.
    #[cfg(feature = "tls")]
    fn tls_config(
        &self,
    ) -> Result<impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder + use<>, StartError>
    {
        let mut extra = Vec::new();
        for pem in &self.extra_roots {
            extra.extend(tls::parse_pem(pem).map_err(|e| StartError::HttpClient(e.into()))?);
        }
        let config = tls::client_config(&extra).map_err(|e| StartError::HttpClient(e.into()))?;
        Ok(move |builder: reqwest::ClientBuilder| builder.tls_backend_preconfigured(config))
    }

    /// Without TLS support, `https` endpoints fail to connect; extra roots are a mistake.
    #[cfg(not(feature = "tls"))]
    fn tls_config(
        &self,
    ) -> Result<impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder, StartError> {
        if !self.extra_roots.is_empty() {
            return Err(StartError::Config(
                "tls_root_certificate needs the emulator's `tls` feature".into(),
            ));
        }
        Ok(|builder: reqwest::ClientBuilder| builder)
    }

    /// Saves the state file once (so an unwritable path fails the start) and then periodically.
    fn start_saving(&self, store: &Arc<Store>) -> Result<Option<Saving>, StartError> {
        let Some(path) = &self.state_file else {
            return Ok(None);
        };
        let saver = Saver::new(path.clone(), store.clone());
        saver.save().map_err(|message| StartError::State {
            path: path.clone(),
            message,
        })?;
        let (stop, stopped) = watch::channel(false);
        let task = saver.spawn_periodic(self.state_interval, stopped);
        Ok(Some(Saving { saver, stop, task }))
    }
}

/// The periodic saving of the state file.
struct Saving {
    saver: Arc<Saver>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// A running emulator of the Wacht Webhooks API.
///
/// Dropping it stops the server without waiting; [`Emulator::shutdown`] stops it gracefully.
pub struct Emulator {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    engine: Engine,
    shutdown_timeout: Duration,
    /// A secret: never printed.
    api_key: String,
    inboxes: Inboxes,
    saving: Option<Saving>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Emulator {
    /// A builder with the defaults: key `emulator_key`, Wacht's retry schedule, private URLs allowed,
    /// listening on `127.0.0.1` on a free port.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The URL it serves on, e.g. `http://127.0.0.1:8787` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The inspector page, e.g. `http://127.0.0.1:8787/_inspector`: open it with the API key
    /// in the fragment (`…/_inspector#key=emulator_key`) or type the key when it asks.
    pub fn inspector_url(&self) -> String {
        format!("{}{}", self.base_url(), crate::inspector::INSPECTOR_PATH)
    }

    /// A client of the Wacht Webhooks API already pointed at this emulator with its key.
    ///
    /// ```
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let emulator = wacht_webhooks_emulator::Emulator::builder().start().await?;
    /// let apps = emulator.client().webhooks().list_webhook_apps(Default::default()).await?;
    /// assert!(apps.data.is_empty());
    /// # Ok(()) }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
    /// ```
    #[cfg(feature = "client")]
    pub fn client(&self) -> wacht_webhooks::Client {
        wacht_webhooks::Client::builder()
            .api_key(&self.api_key)
            .base_url(self.base_url())
            .build()
            // The key was checked to fit a header at start and the URL is the emulator's own.
            .expect("a client of a running emulator can always be built")
    }

    /// The inbox `name` on this emulator (created on first use): give an endpoint its
    /// [`url`](Inbox::url), then read what it received.
    ///
    /// ```
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use wacht_webhooks::{CreateWebhookAppRequest, CreateWebhookEndpointRequest,
    ///     CreateWebhookEventCatalogRequest, TriggerWebhookEventRequest, Webhook,
    ///     WebhookEventDefinition};
    /// let emulator = wacht_webhooks_emulator::Emulator::builder().start().await?;
    /// let webhooks = emulator.client().webhooks();
    /// webhooks.create_webhook_event_catalog(CreateWebhookEventCatalogRequest::new("shop", "Shop")
    ///     .event(WebhookEventDefinition::new("order.paid", "An order was paid"))).await?;
    /// let app = webhooks.create_webhook_app(CreateWebhookAppRequest::new("Shop")
    ///     .event_catalog_slug("shop")).await?;
    ///
    /// let inbox = emulator.inbox("orders");
    /// webhooks.create_webhook_endpoint(&app.app_slug,
    ///     CreateWebhookEndpointRequest::new(inbox.url()).subscribe("order.paid")).await?;
    /// webhooks.trigger_webhook_event(&app.app_slug,
    ///     TriggerWebhookEventRequest::new("order.paid", serde_json::json!({"id": 7}))).await?;
    ///
    /// let received = inbox.wait_for(1).await?;
    /// let event = Webhook::new(&app.signing_secret)?.verify(&received[0].headers, &received[0].body)?;
    /// assert_eq!(event.data["id"], 7);
    /// # Ok(()) }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn inbox(&self, name: &str) -> Inbox {
        self.inboxes.handle(name)
    }

    /// Waits until nothing is in flight: no delivery pending or waiting for a retry, no replay
    /// task running. Fails with a [`WaitTimeout`] after [`DEFAULT_WAIT`] (10 s).
    ///
    /// A delivery waiting for a retry counts as in flight, so use a short
    /// [`retry_schedule`](EmulatorBuilder::retry_schedule) where deliveries may fail.
    pub async fn wait_idle(&self) -> Result<(), WaitTimeout> {
        self.wait_idle_within(DEFAULT_WAIT).await
    }

    /// [`wait_idle`](Self::wait_idle) with another timeout.
    pub async fn wait_idle_within(&self, timeout: Duration) -> Result<(), WaitTimeout> {
        // The engine's work has no completion signal short of shutdown; a short poll is cheap.
        const POLL: Duration = Duration::from_millis(5);
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let busy = self.engine.tasks_in_flight();
            if busy == 0 {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(WaitTimeout {
                    what: format!(
                        "the emulator still has {busy} deliveries or replay tasks in flight"
                    ),
                    after: timeout,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Stops accepting requests, lets requests in progress finish, and waits for the delivery
    /// attempts in flight to be sent and recorded; retries not yet due are abandoned.
    ///
    /// It waits at most the [shutdown timeout](EmulatorBuilder::shutdown_timeout) (default 5 s)
    /// and returns shortly after it even when a receiver never answers: requests still in
    /// progress then are dropped, and delivery attempts still in flight are cut off and recorded
    /// as attempts that got no response, like a timeout (status `failed`, or
    /// `permanently_failed` when it was the delivery's last attempt), with no retry.
    ///
    /// With a [state file](EmulatorBuilder::state_file), the state is then saved; deliveries
    /// that were still to be retried are resumed at the next start.
    pub async fn shutdown(mut self) {
        let deadline = tokio::time::Instant::now() + self.shutdown_timeout;
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut server) = self.server.take()
            && tokio::time::timeout_at(deadline, &mut server)
                .await
                .is_err()
        {
            tracing::warn!("shutdown deadline passed: dropping the API requests in progress");
            server.abort();
        }
        self.engine.shutdown(deadline).await;
        if let Some(saving) = self.saving.take() {
            saving.stop.send_replace(true);
            let _ = saving.task.await;
            saving.saver.save_logged().await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

//! Command-line arguments of the binary: every flag can also come from an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser};

/// Examples shown at the end of `--help`.
const EXAMPLES: &str = "\
Examples:
  # Serve on port 8787 with the default key, production behaviour
  wacht-webhooks-emulator

  # Fast retries, a shared dev setup, and state kept across restarts
  wacht-webhooks-emulator --retry-schedule 50ms,2s,5m --fixtures dev.yaml --state .emulator.json

  # The documented API instead of production's quirks, with a rate limit
  WACHT_API_KEY=secret wacht-webhooks-emulator --documented --api-rate-limit 100/1m

  # Deliver to an https receiver whose certificate a local CA signed
  wacht-webhooks-emulator --ca-cert ./dev-ca.pem

Durations take a unit: 50ms, 2s, 5m, 1h, 1h 30m. RUST_LOG takes a tracing filter, e.g.
RUST_LOG=info,wacht_webhooks_emulator=debug (default: info).";

/// Serves the Wacht Webhooks API locally and delivers signed webhooks for real, until Ctrl-C or
/// SIGTERM.
#[derive(Debug, Parser)]
#[command(name = "wacht-webhooks-emulator", version, about, after_help = EXAMPLES)]
pub struct Args {
    /// Address to serve on.
    #[arg(long, env = "WACHT_EMULATOR_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,

    /// API key clients must send as a Bearer token; an empty WACHT_API_KEY counts as unset
    /// [default: emulator_key].
    #[arg(long, env = "WACHT_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,

    /// Print the API key in the start-up banner instead of masking it.
    #[arg(long, env = "WACHT_EMULATOR_SHOW_KEY", value_parser = BoolishValueParser::new())]
    pub show_key: bool,

    /// Waits between delivery attempts, e.g. 50ms,2s,5m,1h; the last one repeats
    /// [default: 30s,60s,5m,15m,6h].
    #[arg(long, env = "WACHT_EMULATOR_RETRY_SCHEDULE", value_name = "LIST", value_parser = parse_schedule)]
    pub retry_schedule: Option<Schedule>,

    /// Reject loopback, private, link-local and metadata endpoint URLs like the production
    /// service.
    #[arg(long, env = "WACHT_EMULATOR_STRICT_URLS", value_parser = BoolishValueParser::new())]
    pub strict_urls: bool,

    /// Deliver only to loopback addresses and localhost; other targets are recorded as connection
    /// failures.
    #[arg(long, env = "WACHT_EMULATOR_LOOPBACK_ONLY", value_parser = BoolishValueParser::new())]
    pub loopback_only: bool,

    /// Serve the API as documented instead of reproducing the production service's quirks (the
    /// default).
    #[arg(long, env = "WACHT_EMULATOR_DOCUMENTED", value_parser = BoolishValueParser::new())]
    pub documented: bool,

    /// Also trust this CA (PEM file) for https endpoints, besides the system's roots.
    #[arg(long, env = "WACHT_EMULATOR_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// Catalogs, apps (with fixed signing secrets) and endpoints to create at start (YAML).
    #[arg(long, env = "WACHT_EMULATOR_FIXTURES", value_name = "FILE")]
    pub fixtures: Option<PathBuf>,

    /// Keep the whole state in this file across restarts: loaded at start, saved on shutdown and
    /// every --state-interval.
    #[arg(long, env = "WACHT_EMULATOR_STATE", value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// How often the state file is saved; at most this much is lost on a crash.
    #[arg(long, env = "WACHT_EMULATOR_STATE_INTERVAL", value_name = "DUR", default_value = "5s", value_parser = duration)]
    pub state_interval: Duration,

    /// At most N API requests per DUR, e.g. 100/1m; over it: 429 "Rate limit exceeded. Retry after
    /// S seconds" (no Retry-After header unless --documented) [default: no limit].
    #[arg(long, env = "WACHT_EMULATOR_API_RATE_LIMIT", value_name = "N/DUR", value_parser = parse_rate)]
    pub api_rate_limit: Option<(u32, Duration)>,

    /// Read trigger subscriptions through a cache of this lifetime without invalidation, as
    /// production does with 300s [default: no cache].
    #[arg(long, env = "WACHT_EMULATOR_SUBSCRIPTION_CACHE_TTL", value_name = "DUR", value_parser = duration)]
    pub subscription_cache_ttl: Option<Duration>,

    /// A replay task record expires DUR after its last update [default: 2h].
    #[arg(long, env = "WACHT_EMULATOR_REPLAY_TASK_TTL", value_name = "DUR", value_parser = duration)]
    pub replay_task_ttl: Option<Duration>,

    /// An app's replay task index expires DUR after its last task was queued [default: 24h].
    #[arg(long = "replay-index-ttl", env = "WACHT_EMULATOR_REPLAY_INDEX_TTL", value_name = "DUR", value_parser = duration)]
    pub replay_task_index_ttl: Option<Duration>,

    /// Time a replay request takes to queue its task; a repeat with the same idempotency key
    /// meanwhile gets task_id null unless --documented [default: 0ms].
    #[arg(long, env = "WACHT_EMULATOR_REPLAY_QUEUE_DELAY", value_name = "DUR", value_parser = duration)]
    pub replay_queue_delay: Option<Duration>,

    /// Time a client has to send a request head; slower connections are closed [default: 10s].
    #[arg(long, env = "WACHT_EMULATOR_HEADER_READ_TIMEOUT", value_name = "DUR", value_parser = positive_duration)]
    pub header_read_timeout: Option<Duration>,

    /// API connections served at once; more wait in the accept queue [default: 512].
    #[arg(long, env = "WACHT_EMULATOR_MAX_CONNECTIONS", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,

    /// The retention, concurrency and shutdown flags.
    #[command(flatten)]
    pub limits: Limits,
}

/// The retention, concurrency and shutdown flags; `None`: the library's default.
#[derive(Debug, Default, PartialEq, Eq, clap::Args)]
pub struct Limits {
    /// Settled deliveries kept in the delivery log, or `all`; the oldest settled are evicted
    /// first, in-flight ones never [default: 10000].
    #[arg(long, env = "WACHT_EMULATOR_MAX_DELIVERIES", value_name = "N|all", value_parser = parse_max_deliveries)]
    pub max_deliveries: Option<MaxDeliveries>,

    /// Evict settled deliveries DUR after they settled [default: no age limit].
    #[arg(long, env = "WACHT_EMULATOR_DELIVERY_MAX_AGE", value_name = "DUR", value_parser = duration)]
    pub delivery_max_age: Option<Duration>,

    /// Bytes of each attempt's response body stored, at most 65536; longer bodies are cut and
    /// marked [default: 4096].
    #[arg(long, env = "WACHT_EMULATOR_MAX_RESPONSE_BODY", value_name = "N")]
    pub max_response_body: Option<usize>,

    /// Delivery attempts in flight at once [default: 256].
    #[arg(long, env = "WACHT_EMULATOR_MAX_IN_FLIGHT", value_name = "N")]
    pub max_in_flight: Option<usize>,

    /// Delivery attempts in flight to one endpoint; a hanging endpoint holds no more
    /// [default: 64].
    #[arg(
        long,
        env = "WACHT_EMULATOR_MAX_IN_FLIGHT_PER_ENDPOINT",
        value_name = "N"
    )]
    pub max_in_flight_per_endpoint: Option<usize>,

    /// On Ctrl-C or SIGTERM, wait at most DUR for requests and attempts in progress; attempts
    /// still in flight are then recorded without a response [default: 5s].
    #[arg(long, env = "WACHT_EMULATOR_SHUTDOWN_TIMEOUT", value_name = "DUR", value_parser = duration)]
    pub shutdown_timeout: Option<Duration>,
}

/// A retry schedule (a newtype, so clap takes the whole list as one value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule(pub Vec<Duration>);

/// `--max-deliveries`: a count, or `all` for no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxDeliveries(pub Option<usize>);

/// One duration with a unit, e.g. `50ms`, `2s`, `5m`, `1h 30m`.
fn duration(raw: &str) -> Result<Duration, String> {
    humantime::parse_duration(raw.trim()).map_err(|e| format!("{e} (use e.g. 50ms, 2s, 5m, 1h)"))
}

/// A duration above zero.
fn positive_duration(raw: &str) -> Result<Duration, String> {
    let wait = duration(raw)?;
    if wait.is_zero() {
        return Err("must be above zero".into());
    }
    Ok(wait)
}

impl Args {
    /// The arguments of this process; a usage error exits with status 2 and a message naming
    /// the flag and the problem.
    pub fn from_env() -> Self {
        Self::try_from_iter(std::env::args_os()).unwrap_or_else(|e| e.exit())
    }

    /// Parses `args` (the program name first).
    pub fn try_from_iter<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = Self::command().try_get_matches_from(args)?;
        let mut parsed = Self::from_arg_matches(&matches)?;
        if parsed
            .api_key
            .as_deref()
            .is_some_and(|k| k.trim().is_empty())
        {
            // An empty variable is the shell's way of unsetting; an empty flag is a mistake.
            if matches.value_source("api_key") != Some(ValueSource::EnvVariable) {
                return Err(Self::command().error(
                    clap::error::ErrorKind::InvalidValue,
                    "--api-key must not be empty",
                ));
            }
            parsed.api_key = None;
        }
        Ok(parsed)
    }

    /// The API key in force.
    pub fn api_key(&self) -> &str {
        self.api_key
            .as_deref()
            .unwrap_or(wacht_webhooks_emulator::DEFAULT_API_KEY)
    }
}

/// Parses `50ms,2s,5m,1h`.
fn parse_schedule(raw: &str) -> Result<Schedule, String> {
    let schedule: Vec<Duration> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(duration)
        .collect::<Result<_, _>>()?;
    if schedule.is_empty() {
        return Err("needs at least one duration".into());
    }
    Ok(Schedule(schedule))
}

/// Parses `N/DUR`, e.g. `100/1m`: at least one request per a non-empty window.
fn parse_rate(raw: &str) -> Result<(u32, Duration), String> {
    let invalid = || format!("invalid rate '{raw}': use N/DURATION, e.g. 100/1m");
    let (count, window) = raw.split_once('/').ok_or_else(invalid)?;
    let count: u32 = count.trim().parse().map_err(|_| invalid())?;
    let window = duration(window)?;
    if count == 0 || window.is_zero() {
        return Err(invalid());
    }
    Ok((count, window))
}

fn parse_max_deliveries(raw: &str) -> Result<MaxDeliveries, String> {
    match raw.trim() {
        "all" => Ok(MaxDeliveries(None)),
        n => n
            .parse()
            .map(|n| MaxDeliveries(Some(n)))
            .map_err(|_| "use a whole number or `all`".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args, clap::Error> {
        Args::try_from_iter(std::iter::once("wacht-webhooks-emulator").chain(list.iter().copied()))
    }

    #[test]
    fn clap_definition_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(duration("50ms"), Ok(Duration::from_millis(50)));
        assert_eq!(duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(duration("6h"), Ok(Duration::from_secs(21_600)));
        assert_eq!(duration("1h 30m"), Ok(Duration::from_secs(5_400)));
        assert!(duration("5").is_err());
        assert!(duration("ms").is_err());
        assert!(duration("5 parsecs").is_err());
    }

    // Flags given on the command line only (no environment), so tests do not depend on the
    // environment they run in except through variables no one sets.
    #[test]
    fn defaults_and_flags() {
        let a = args(&[]).unwrap();
        assert_eq!(a.listen.to_string(), "127.0.0.1:8787");
        assert_eq!(a.retry_schedule, None);
        assert!(!a.show_key);
        assert_eq!(a.state_interval, Duration::from_secs(5));
        let a = args(&[
            "--listen",
            "127.0.0.1:9000",
            "--api-key=k",
            "--retry-schedule",
            "10ms,1s",
            "--strict-urls",
            "--loopback-only",
            "--documented",
        ])
        .unwrap();
        assert_eq!(a.listen.port(), 9000);
        assert_eq!(a.api_key(), "k");
        assert_eq!(
            a.retry_schedule,
            Some(Schedule(vec![
                Duration::from_millis(10),
                Duration::from_secs(1)
            ]))
        );
        assert!(a.strict_urls && a.loopback_only && a.documented);
        assert!(args(&["--bogus"]).is_err());
        assert!(args(&["--listen"]).is_err());
        assert!(args(&["--api-key", " "]).is_err());
        assert!(args(&["--retry-schedule", ","]).is_err());
    }

    #[test]
    fn production_parity_options() {
        let a = args(&[]).unwrap();
        assert_eq!(
            (
                a.api_rate_limit,
                a.subscription_cache_ttl,
                a.replay_task_ttl,
                a.replay_task_index_ttl,
                a.replay_queue_delay
            ),
            (None, None, None, None, None)
        );
        let a = args(&[
            "--api-rate-limit",
            "100/1m",
            "--subscription-cache-ttl=300s",
            "--replay-task-ttl",
            "2h",
            "--replay-index-ttl",
            "24h",
            "--replay-queue-delay",
            "50ms",
        ])
        .unwrap();
        assert_eq!(a.api_rate_limit, Some((100, Duration::from_secs(60))));
        assert_eq!(a.subscription_cache_ttl, Some(Duration::from_secs(300)));
        assert_eq!(a.replay_task_ttl, Some(Duration::from_secs(7200)));
        assert_eq!(a.replay_task_index_ttl, Some(Duration::from_secs(86_400)));
        assert_eq!(a.replay_queue_delay, Some(Duration::from_millis(50)));
        for bad in ["100", "0/1m", "5/0s", "x/1m", "5/1x"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
        assert!(args(&["--api-rate-limit"]).is_err());
    }

    #[test]
    fn connection_limits() {
        let a = args(&[]).unwrap();
        assert_eq!((a.header_read_timeout, a.max_connections), (None, None));
        let a = args(&["--header-read-timeout=2s", "--max-connections", "64"]).unwrap();
        assert_eq!(a.header_read_timeout, Some(Duration::from_secs(2)));
        assert_eq!(a.max_connections, Some(64));
        assert!(args(&["--max-connections", "0"]).is_err());
        assert!(args(&["--max-connections", "many"]).is_err());
        assert!(args(&["--header-read-timeout", "10"]).is_err());
        assert!(args(&["--header-read-timeout", "0s"]).is_err());
    }

    #[test]
    fn retention_concurrency_and_shutdown_flags() {
        assert_eq!(args(&[]).unwrap().limits, Limits::default());
        let a = args(&[
            "--max-deliveries",
            "100",
            "--delivery-max-age=1h",
            "--max-response-body",
            "512",
            "--max-in-flight",
            "64",
            "--max-in-flight-per-endpoint",
            "4",
            "--shutdown-timeout",
            "2s",
        ])
        .unwrap();
        assert_eq!(
            a.limits,
            Limits {
                max_deliveries: Some(MaxDeliveries(Some(100))),
                delivery_max_age: Some(Duration::from_secs(3600)),
                max_response_body: Some(512),
                max_in_flight: Some(64),
                max_in_flight_per_endpoint: Some(4),
                shutdown_timeout: Some(Duration::from_secs(2)),
            }
        );
        let a = args(&["--max-deliveries", "all"]).unwrap();
        assert_eq!(a.limits.max_deliveries, Some(MaxDeliveries(None)));
        assert!(args(&["--max-deliveries", "-1"]).is_err());
        assert!(args(&["--max-in-flight"]).is_err());
        assert!(args(&["--shutdown-timeout", "5"]).is_err());
    }

    #[test]
    fn files() {
        let a = args(&[
            "--fixtures",
            "dev.yaml",
            "--state",
            "s.json",
            "--state-interval",
            "1s",
            "--ca-cert",
            "ca.pem",
        ])
        .unwrap();
        assert_eq!(a.fixtures, Some(PathBuf::from("dev.yaml")));
        assert_eq!(a.state, Some(PathBuf::from("s.json")));
        assert_eq!(a.state_interval, Duration::from_secs(1));
        assert_eq!(a.ca_cert, Some(PathBuf::from("ca.pem")));
    }
}

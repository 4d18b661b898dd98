//! Command-line arguments of the binary.

use std::net::SocketAddr;
use std::time::Duration;

/// The help text.
pub const USAGE: &str = "\
usage: wacht-webhooks-emulator [options]

  --listen ADDR            address to serve on (default 127.0.0.1:8787)
  --api-key KEY            API key clients must send as a Bearer token
                           (default: $WACHT_API_KEY, else emulator_key)
  --retry-schedule LIST    waits between delivery attempts, e.g. 50ms,2s,5m,1h;
                           the last one repeats (default 30s,60s,5m,15m,6h)
  --strict-urls            reject loopback, private, link-local and metadata
                           endpoint URLs like the production service
  --loopback-only          deliver only to loopback addresses and localhost;
                           other targets are recorded as connection failures
  --documented             serve the API as documented instead of reproducing
                           the production service's quirks (the default)
  --api-rate-limit N/DUR   at most N API requests per DUR, e.g. 100/1m; over it:
                           429 \"Rate limit exceeded. Retry after S seconds\"
                           (no Retry-After header unless --documented)
                           (default: no limit)
  --subscription-cache-ttl DUR
                           read trigger subscriptions through a cache of this
                           lifetime without invalidation, as production does
                           with 300s (default: no cache)
  --replay-task-ttl DUR    a replay task record expires DUR after its last
                           update (default 2h)
  --replay-index-ttl DUR   an app's replay task index expires DUR after its
                           last task was queued (default 24h)
  --replay-queue-delay DUR time a replay request takes to queue its task; a
                           repeat with the same idempotency key meanwhile gets
                           task_id null unless --documented (default 0ms)
  --header-read-timeout D  time a client has to send a request head, e.g. 10s
                           (default 10s); slower connections are closed
  --max-connections N      API connections served at once (default 512);
                           more wait in the accept queue
  --max-deliveries N|all   settled deliveries kept in the delivery log; the
                           oldest settled are evicted first, in-flight ones
                           never (default 10000)
  --delivery-max-age DUR   evict settled deliveries DUR after they settled
                           (default: no age limit)
  --max-response-body N    bytes of each attempt's response body stored, at
                           most 65536; longer bodies are cut and marked
                           (default 4096)
  --max-in-flight N        delivery attempts in flight at once (default 256)
  --max-in-flight-per-endpoint N
                           delivery attempts in flight to one endpoint; a
                           hanging endpoint holds no more (default 64)
  --shutdown-timeout DUR   on Ctrl-C or SIGTERM, wait at most DUR for requests
                           and attempts in progress; attempts still in flight
                           are then recorded without a response (default 5s)
  -h, --help               show this help";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Serve with these settings.
    Run(Box<Args>),
    /// Print the help.
    Help,
}

/// The settings of a run.
#[derive(Debug, PartialEq, Eq)]
pub struct Args {
    /// `--listen`.
    pub listen: SocketAddr,
    /// `--api-key`, else `$WACHT_API_KEY`, else the default.
    pub api_key: String,
    /// `--retry-schedule`.
    pub retry_schedule: Vec<Duration>,
    /// `--strict-urls`.
    pub strict_urls: bool,
    /// `--loopback-only`.
    pub loopback_only: bool,
    /// `--documented`.
    pub documented: bool,
    /// `--api-rate-limit`: requests per window.
    pub api_rate_limit: Option<(u32, Duration)>,
    /// `--subscription-cache-ttl`.
    pub subscription_cache_ttl: Option<Duration>,
    /// `--replay-task-ttl`.
    pub replay_task_ttl: Option<Duration>,
    /// `--replay-index-ttl`.
    pub replay_task_index_ttl: Option<Duration>,
    /// `--replay-queue-delay`.
    pub replay_queue_delay: Option<Duration>,
    /// `--header-read-timeout`, if given.
    pub header_read_timeout: Option<Duration>,
    /// `--max-connections`, if given.
    pub max_connections: Option<usize>,
    /// The retention, concurrency and shutdown flags (boxed: rarely given, and the help variant
    /// of [`Command`] stays small).
    pub limits: Box<Limits>,
}

/// The retention, concurrency and shutdown flags; `None`: the library's default.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// `--max-deliveries` (`Some(None)`: `all`).
    pub max_deliveries: Option<Option<usize>>,
    /// `--delivery-max-age`.
    pub delivery_max_age: Option<Duration>,
    /// `--max-response-body`.
    pub max_response_body: Option<usize>,
    /// `--max-in-flight`.
    pub max_in_flight: Option<usize>,
    /// `--max-in-flight-per-endpoint`.
    pub max_in_flight_per_endpoint: Option<usize>,
    /// `--shutdown-timeout`.
    pub shutdown_timeout: Option<Duration>,
}

impl Limits {
    /// Applies one of these flags; `Ok(false)` when `flag` is not one of them.
    fn apply(
        &mut self,
        flag: &str,
        value: impl FnOnce(&str) -> Result<String, String>,
    ) -> Result<bool, String> {
        match flag {
            "--max-deliveries" => {
                let raw = value(flag)?;
                self.max_deliveries = Some(match raw.as_str() {
                    "all" => None,
                    n => Some(parse_count(flag, n)?),
                });
            }
            "--delivery-max-age" => self.delivery_max_age = Some(parse_duration(&value(flag)?)?),
            "--max-response-body" => {
                self.max_response_body = Some(parse_count(flag, &value(flag)?)?)
            }
            "--max-in-flight" => self.max_in_flight = Some(parse_count(flag, &value(flag)?)?),
            "--max-in-flight-per-endpoint" => {
                self.max_in_flight_per_endpoint = Some(parse_count(flag, &value(flag)?)?)
            }
            "--shutdown-timeout" => self.shutdown_timeout = Some(parse_duration(&value(flag)?)?),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Parses a non-negative count.
fn parse_count(flag: &str, raw: &str) -> Result<usize, String> {
    raw.trim()
        .parse()
        .map_err(|_| format!("invalid {flag} value '{raw}': use a whole number"))
}

/// Parses the arguments (without the program name); `env_key` is `$WACHT_API_KEY`.
pub fn parse(
    args: impl IntoIterator<Item = String>,
    env_key: Option<String>,
) -> Result<Command, String> {
    let mut parsed = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
        api_key: env_key
            .filter(|k| !k.trim().is_empty())
            .unwrap_or_else(|| wacht_webhooks_emulator::DEFAULT_API_KEY.to_string()),
        retry_schedule: wacht_webhooks_emulator::default_retry_schedule(),
        strict_urls: false,
        loopback_only: false,
        documented: false,
        api_rate_limit: None,
        subscription_cache_ttl: None,
        replay_task_ttl: None,
        replay_task_index_ttl: None,
        replay_queue_delay: None,
        header_read_timeout: None,
        max_connections: None,
        limits: Box::default(),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--listen" => {
                let raw = value("--listen")?;
                parsed.listen = raw
                    .parse()
                    .map_err(|_| format!("invalid --listen address '{raw}'"))?;
            }
            "--api-key" => parsed.api_key = value("--api-key")?,
            "--retry-schedule" => {
                parsed.retry_schedule = parse_schedule(&value("--retry-schedule")?)?
            }
            "--strict-urls" => parsed.strict_urls = true,
            "--loopback-only" => parsed.loopback_only = true,
            "--documented" => parsed.documented = true,
            "--api-rate-limit" => {
                parsed.api_rate_limit = Some(parse_rate(&value("--api-rate-limit")?)?)
            }
            "--subscription-cache-ttl" => {
                parsed.subscription_cache_ttl =
                    Some(parse_duration(&value("--subscription-cache-ttl")?)?)
            }
            "--replay-task-ttl" => {
                parsed.replay_task_ttl = Some(parse_duration(&value("--replay-task-ttl")?)?)
            }
            "--replay-index-ttl" => {
                parsed.replay_task_index_ttl = Some(parse_duration(&value("--replay-index-ttl")?)?)
            }
            "--replay-queue-delay" => {
                parsed.replay_queue_delay = Some(parse_duration(&value("--replay-queue-delay")?)?)
            }
            "--header-read-timeout" => {
                parsed.header_read_timeout = Some(parse_duration(&value("--header-read-timeout")?)?)
            }
            "--max-connections" => {
                let raw = value("--max-connections")?;
                parsed.max_connections = Some(
                    raw.parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| format!("invalid --max-connections '{raw}'"))?,
                );
            }
            other => {
                if !parsed.limits.apply(other, value)? {
                    return Err(format!("unknown argument '{other}'"));
                }
            }
        }
    }
    Ok(Command::Run(Box::new(parsed)))
}

/// Parses `50ms,2s,5m,1h`.
pub fn parse_schedule(raw: &str) -> Result<Vec<Duration>, String> {
    let schedule: Vec<Duration> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_duration)
        .collect::<Result<_, _>>()?;
    if schedule.is_empty() {
        return Err("--retry-schedule needs at least one duration".into());
    }
    Ok(schedule)
}

/// Parses `N/DUR`, e.g. `100/1m`: at least one request per a non-empty window.
pub fn parse_rate(raw: &str) -> Result<(u32, Duration), String> {
    let invalid = || format!("invalid rate '{raw}': use N/DURATION, e.g. 100/1m");
    let (count, window) = raw.split_once('/').ok_or_else(invalid)?;
    let count: u32 = count.trim().parse().map_err(|_| invalid())?;
    let window = parse_duration(window.trim())?;
    if count == 0 || window.is_zero() {
        return Err(invalid());
    }
    Ok((count, window))
}

/// Parses one duration with a unit: `ms`, `s`, `m` or `h`.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let digits_end = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(digits_end);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("invalid duration '{raw}'"))?;
    let millis = match unit {
        "ms" => Some(n),
        "s" => n.checked_mul(1_000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        _ => return Err(format!("invalid duration '{raw}': use ms, s, m or h")),
    };
    millis
        .map(Duration::from_millis)
        .ok_or_else(|| format!("duration '{raw}' is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Command, String> {
        parse(list.iter().map(|s| s.to_string()), None)
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("50ms"), Ok(Duration::from_millis(50)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("6h"), Ok(Duration::from_secs(21_600)));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("1d").is_err());
    }

    #[test]
    fn defaults_and_flags() {
        let Ok(Command::Run(a)) = args(&[]) else {
            panic!()
        };
        assert_eq!(a.listen.to_string(), "127.0.0.1:8787");
        assert_eq!(a.api_key, "emulator_key");
        let Ok(Command::Run(a)) = args(&[
            "--listen",
            "127.0.0.1:9000",
            "--api-key=k",
            "--retry-schedule",
            "10ms,1s",
            "--strict-urls",
            "--loopback-only",
            "--documented",
        ]) else {
            panic!()
        };
        assert_eq!(a.listen.port(), 9000);
        assert_eq!(a.api_key, "k");
        assert_eq!(
            a.retry_schedule,
            vec![Duration::from_millis(10), Duration::from_secs(1)]
        );
        assert!(a.strict_urls && a.loopback_only && a.documented);
        assert!(!matches!(
            args(&[]),
            Ok(Command::Run(a)) if a.documented
        ));
        assert!(args(&["--bogus"]).is_err());
        assert!(args(&["--listen"]).is_err());
        assert_eq!(args(&["--help"]), Ok(Command::Help));
    }

    #[test]
    fn production_parity_options() {
        let Ok(Command::Run(a)) = args(&[]) else {
            panic!()
        };
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
        let Ok(Command::Run(a)) = args(&[
            "--api-rate-limit",
            "100/1m",
            "--subscription-cache-ttl=300s",
            "--replay-task-ttl",
            "2h",
            "--replay-index-ttl",
            "24h",
            "--replay-queue-delay",
            "50ms",
        ]) else {
            panic!()
        };
        assert_eq!(a.api_rate_limit, Some((100, Duration::from_secs(60))));
        assert_eq!(a.subscription_cache_ttl, Some(Duration::from_secs(300)));
        assert_eq!(a.replay_task_ttl, Some(Duration::from_secs(7200)));
        assert_eq!(a.replay_task_index_ttl, Some(Duration::from_secs(86_400)));
        assert_eq!(a.replay_queue_delay, Some(Duration::from_millis(50)));
        for bad in ["100", "0/1m", "5/0s", "x/1m", "5/1d"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
        assert!(args(&["--api-rate-limit"]).is_err());
    }

    #[test]
    fn connection_limits() {
        let Ok(Command::Run(a)) = args(&[]) else {
            panic!()
        };
        assert_eq!((a.header_read_timeout, a.max_connections), (None, None));
        let Ok(Command::Run(a)) = args(&["--header-read-timeout=2s", "--max-connections", "64"])
        else {
            panic!()
        };
        assert_eq!(a.header_read_timeout, Some(Duration::from_secs(2)));
        assert_eq!(a.max_connections, Some(64));
        assert!(args(&["--max-connections", "0"]).is_err());
        assert!(args(&["--max-connections", "many"]).is_err());
        assert!(args(&["--header-read-timeout", "10"]).is_err());
    }

    #[test]
    fn retention_concurrency_and_shutdown_flags() {
        let Ok(Command::Run(a)) = args(&[]) else {
            panic!()
        };
        assert_eq!(*a.limits, Limits::default());
        let Ok(Command::Run(a)) = args(&[
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
        ]) else {
            panic!()
        };
        assert_eq!(
            *a.limits,
            Limits {
                max_deliveries: Some(Some(100)),
                delivery_max_age: Some(Duration::from_secs(3600)),
                max_response_body: Some(512),
                max_in_flight: Some(64),
                max_in_flight_per_endpoint: Some(4),
                shutdown_timeout: Some(Duration::from_secs(2)),
            }
        );
        let Ok(Command::Run(a)) = args(&["--max-deliveries", "all"]) else {
            panic!()
        };
        assert_eq!(a.limits.max_deliveries, Some(None));
        assert!(args(&["--max-deliveries", "-1"]).is_err());
        assert!(args(&["--max-in-flight"]).is_err());
        assert!(args(&["--shutdown-timeout", "5"]).is_err());
    }

    #[test]
    fn env_key_is_the_fallback() {
        let Ok(Command::Run(a)) = parse(Vec::new(), Some("from_env".into())) else {
            panic!()
        };
        assert_eq!(a.api_key, "from_env");
        let Ok(Command::Run(a)) = parse(
            vec!["--api-key".into(), "flag".into()],
            Some("from_env".into()),
        ) else {
            panic!()
        };
        assert_eq!(a.api_key, "flag");
    }
}

//! `wacht-webhooks-emulator`: serves the Wacht Webhooks API locally until Ctrl-C or SIGTERM.

mod cli;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;
use wacht_webhooks_emulator::{Behaviour, Emulator, EmulatorBuilder};

#[tokio::main]
async fn main() -> ExitCode {
    // Usage errors exit with status 2 and a message naming the flag and the problem.
    let args = cli::Args::from_env();
    init_logging();
    let builder = match builder(&args) {
        Ok(builder) => builder,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let emulator = match builder.start().await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    print_banner(&emulator, &args);
    wait_for_signal().await;
    tracing::info!(
        "shutting down: finishing in-flight delivery attempts (bounded by the shutdown timeout)"
    );
    emulator.shutdown().await;
    ExitCode::SUCCESS
}

/// The builder the arguments describe; `Err` when a file they name cannot be read.
fn builder(args: &cli::Args) -> Result<EmulatorBuilder, String> {
    let mut builder = Emulator::builder();
    if let Some(timeout) = args.header_read_timeout {
        builder = builder.header_read_timeout(timeout);
    }
    if let Some(max) = args.max_connections {
        builder = builder.max_connections(max as usize);
    }
    if let Some(schedule) = &args.retry_schedule {
        builder = builder.retry_schedule(schedule.0.clone());
    }
    builder = builder
        .listen(args.listen)
        .api_key(args.api_key())
        .allow_private_urls(!args.strict_urls)
        .deliver_to_loopback_only(args.loopback_only)
        .behaviour(behaviour(args))
        .subscription_cache_ttl(args.subscription_cache_ttl);
    if let Some((max, per)) = args.api_rate_limit {
        builder = builder.api_rate_limit(max, per);
    }
    if let Some(ttl) = args.replay_task_ttl {
        builder = builder.replay_task_ttl(ttl);
    }
    if let Some(ttl) = args.replay_task_index_ttl {
        builder = builder.replay_task_index_ttl(ttl);
    }
    if let Some(delay) = args.replay_queue_delay {
        builder = builder.replay_queue_delay(delay);
    }
    if let Some(path) = &args.ca_cert {
        let pem = std::fs::read(path)
            .map_err(|e| format!("cannot read the CA certificate {}: {e}", path.display()))?;
        builder = builder.tls_root_certificate(pem);
    }
    if let Some(path) = &args.fixtures {
        builder = builder.fixtures_file(path);
    }
    if let Some(path) = &args.state {
        builder = builder
            .state_file(path)
            .state_save_interval(args.state_interval);
    }
    Ok(apply_limits(builder, &args.limits))
}

fn behaviour(args: &cli::Args) -> Behaviour {
    if args.documented {
        Behaviour::Documented
    } else {
        Behaviour::Production
    }
}

/// The retention, concurrency and shutdown flags given on the command line.
fn apply_limits(mut builder: EmulatorBuilder, limits: &cli::Limits) -> EmulatorBuilder {
    if let Some(max) = limits.max_deliveries {
        builder = builder.max_retained_deliveries(max.0);
    }
    if let Some(age) = limits.delivery_max_age {
        builder = builder.delivery_retention_age(Some(age));
    }
    if let Some(bytes) = limits.max_response_body {
        builder = builder.max_stored_response_body(bytes);
    }
    if let Some(max) = limits.max_in_flight {
        builder = builder.max_attempts_in_flight(max);
    }
    if let Some(max) = limits.max_in_flight_per_endpoint {
        builder = builder.max_attempts_in_flight_per_endpoint(max);
    }
    if let Some(timeout) = limits.shutdown_timeout {
        builder = builder.shutdown_timeout(timeout);
    }
    builder
}

/// What is running, where, and with what: the first line names the API URL (scripts read it).
fn print_banner(emulator: &Emulator, args: &cli::Args) {
    let base = emulator.base_url();
    let (name, description) = match behaviour(args) {
        Behaviour::Documented => (
            "documented",
            "documented: the API as its documentation describes it",
        ),
        _ => (
            "production",
            "production: the production service's quirks reproduced (--documented switches)",
        ),
    };
    let key = if args.show_key {
        args.api_key().to_string()
    } else {
        format!("{} (--show-key prints it)", mask(args.api_key()))
    };
    let state = match &args.state {
        Some(path) => format!(
            "{} (saved on shutdown and every {})",
            path.display(),
            humantime::format_duration(args.state_interval)
        ),
        None => "none: state is lost on exit (--state FILE keeps it)".into(),
    };
    let fixtures = match &args.fixtures {
        Some(path) => path.display().to_string(),
        None => "none".into(),
    };
    print_line(&format!(
        "wacht-webhooks-emulator listening on {base} ({name} behaviour)\n\
         \x20 version    {}\n\
         \x20 API        {base}\n\
         \x20 API key    {key}\n\
         \x20 inspector  {base}/_inspector\n\
         \x20 behaviour  {description}\n\
         \x20 state      {state}\n\
         \x20 fixtures   {fixtures}",
        env!("CARGO_PKG_VERSION"),
    ));
}

/// The key with all but a short prefix hidden; short keys are hidden entirely.
fn mask(key: &str) -> String {
    let shown: String = if key.chars().count() >= 12 {
        key.chars().take(4).collect()
    } else {
        String::new()
    };
    format!("{shown}********")
}

/// Prints on stdout; a closed stdout (a pipe whose reader left) is not an error here.
fn print_line(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}

/// Logs go to stderr; `RUST_LOG` takes a full `tracing` filter (default `info`); invalid
/// directives are reported and skipped.
fn init_logging() {
    let filter = EnvFilter::builder()
        .with_default_directive(tracing::level_filters::LevelFilter::INFO.into())
        .from_env_lossy();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn keys_are_masked() {
        assert_eq!(mask("emulator_key"), "emul********");
        assert_eq!(mask("short"), "********");
        assert!(!mask("sk_live_0123456789").contains("0123"));
    }
}

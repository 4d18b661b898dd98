//! `wacht-webhooks-emulator`: serves the Wacht Webhooks API locally until Ctrl-C or SIGTERM.

mod cli;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use wacht_webhooks_emulator::{Behaviour, Emulator, EmulatorBuilder};

#[tokio::main]
async fn main() -> ExitCode {
    init_logging();
    let args = match cli::parse(
        std::env::args().skip(1),
        std::env::var("WACHT_API_KEY").ok(),
    ) {
        Ok(cli::Command::Run(args)) => *args,
        Ok(cli::Command::Help) => {
            print_line(cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let mut builder = Emulator::builder();
    if let Some(timeout) = args.header_read_timeout {
        builder = builder.header_read_timeout(timeout);
    }
    if let Some(max) = args.max_connections {
        builder = builder.max_connections(max);
    }
    builder = builder
        .listen(args.listen)
        .api_key(args.api_key)
        .retry_schedule(args.retry_schedule)
        .allow_private_urls(!args.strict_urls)
        .deliver_to_loopback_only(args.loopback_only)
        .behaviour(if args.documented {
            Behaviour::Documented
        } else {
            Behaviour::Production
        })
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
    builder = apply_limits(builder, &args.limits);
    let emulator = builder.start().await;
    let emulator = match emulator {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "wacht-webhooks-emulator listening on {} ({} behaviour)",
        emulator.base_url(),
        if args.documented {
            "documented"
        } else {
            "production"
        }
    );
    wait_for_signal().await;
    tracing::info!(
        "shutting down: finishing in-flight delivery attempts (bounded by the shutdown timeout)"
    );
    emulator.shutdown().await;
    ExitCode::SUCCESS
}

/// The retention, concurrency and shutdown flags given on the command line.
fn apply_limits(mut builder: EmulatorBuilder, limits: &cli::Limits) -> EmulatorBuilder {
    if let Some(max) = limits.max_deliveries {
        builder = builder.max_retained_deliveries(max);
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

/// Prints one line on stdout; a closed stdout (a pipe whose reader left) is not an error here.
fn print_line(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}

/// Logs go to stderr; `RUST_LOG` may name a level (error, warn, info, debug, trace).
fn init_logging() {
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.trim().parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
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

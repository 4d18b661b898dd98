//! The `wacht-webhooks-emulator` binary: version, help, usage errors, banner and the state file
//! on SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_wacht-webhooks-emulator");

/// Runs the binary to completion with no WACHT_* variables from the test's environment.
fn run(args: &[&str]) -> Output {
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars() {
        if name.starts_with("WACHT_") {
            command.env_remove(name);
        }
    }
    command.args(args).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn version_prints_the_crate_version() {
    let out = run(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).trim(),
        format!("wacht-webhooks-emulator {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_lists_every_flag_with_its_environment_variable() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    // Each option's block runs from its line to the next option's line.
    let mut blocks: Vec<String> = Vec::new();
    for line in help.lines() {
        // Option lines are indented a little; wrapped description lines far more.
        let indent = line.len() - line.trim_start().len();
        if indent <= 6 && line.trim_start().starts_with('-') {
            blocks.push(line.to_string());
        } else if let Some(block) = blocks.last_mut() {
            if line.trim().is_empty() || !line.starts_with(' ') {
                continue;
            }
            block.push(' ');
            block.push_str(line);
        }
    }
    let flags: Vec<&String> = blocks
        .iter()
        .filter(|b| b.trim_start().starts_with("--"))
        .collect();
    for flag in [
        "--listen",
        "--api-key",
        "--show-key",
        "--retry-schedule",
        "--strict-urls",
        "--loopback-only",
        "--documented",
        "--ca-cert",
        "--fixtures",
        "--state",
        "--state-interval",
        "--api-rate-limit",
        "--subscription-cache-ttl",
        "--replay-task-ttl",
        "--replay-index-ttl",
        "--replay-queue-delay",
        "--header-read-timeout",
        "--max-connections",
        "--max-deliveries",
        "--delivery-max-age",
        "--max-response-body",
        "--max-in-flight",
        "--max-in-flight-per-endpoint",
        "--shutdown-timeout",
    ] {
        assert!(
            flags
                .iter()
                .any(|b| b.trim_start().starts_with(&format!("{flag} "))),
            "{flag} missing from --help:\n{help}"
        );
    }
    // Help text is wrapped to the terminal's width: compare with single spaces.
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    for block in flags {
        assert!(words(block).contains("[env: WACHT_"), "no env var: {block}");
    }
    assert!(words(&help).contains("[env: WACHT_API_KEY]"), "{help}");
    assert!(help.contains("Examples:"), "{help}");
}

#[test]
fn a_bad_duration_is_a_usage_error_naming_the_flag() {
    let out = run(&["--retry-schedule", "50ms,2parsecs"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--retry-schedule"), "{stderr}");
    assert!(stderr.contains("2parsecs"), "{stderr}");
    let out = run(&["--shutdown-timeout", "5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--shutdown-timeout"));
}

#[test]
fn an_unreadable_state_file_stops_the_start_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    std::fs::write(&state, "not json").unwrap();
    let out = run(&[
        "--listen",
        "127.0.0.1:0",
        "--state",
        state.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("state.json"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&state).unwrap(), "not json");
}

/// Kills the child on drop, so a failing test leaves no process behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary with `args` and returns it with its banner lines.
fn start(args: &[&str], env: &[(&str, &str)]) -> (Running, Vec<String>) {
    let mut command = Command::new(BIN);
    command
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = Running(command.spawn().expect("the binary starts"));
    let stdout = BufReader::new(child.0.stdout.take().unwrap());
    let lines: Vec<String> = stdout.lines().take(8).map(Result::unwrap).collect();
    (child, lines)
}

#[test]
fn the_banner_shows_urls_behaviour_files_and_a_masked_key() {
    let (_child, lines) = start(
        &["--documented", "--state-interval", "1h"],
        &[("WACHT_API_KEY", "sk_test_0123456789abcdef")],
    );
    let banner = lines.join("\n");
    assert!(lines[0].starts_with("wacht-webhooks-emulator listening on http://127.0.0.1:"));
    let base = lines[0].split_whitespace().nth(3).unwrap();
    assert!(
        banner.contains(&format!("inspector  {base}/_inspector")),
        "{banner}"
    );
    assert!(banner.contains("behaviour  documented"), "{banner}");
    assert!(!banner.contains("0123456789abcdef"), "key shown: {banner}");
    assert!(banner.contains("API key    sk_t****"), "{banner}");

    let (_child, lines) = start(&["--show-key", "--api-key", "visible_key"], &[]);
    assert!(
        lines.join("\n").contains("API key    visible_key"),
        "{lines:?}"
    );
}

#[tokio::test]
async fn sigterm_saves_the_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let path = state.to_str().unwrap().to_string();
    let (mut child, lines) = start(
        &["--api-key", KEY, "--state", &path, "--state-interval", "1h"],
        &[],
    );
    let base = lines[0].split_whitespace().nth(3).unwrap().to_string();
    let api = Api::new(&base);
    let (status, app) = api
        .post(
            "/webhooks/apps",
            json!({"name": "Kept", "app_slug": "kept_on_sigterm"}),
        )
        .await;
    assert_eq!(status, 200, "{app}");
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exited = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < DEADLINE, "still running after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exited.success(), "{exited}");
    let saved = std::fs::read_to_string(&state).unwrap();
    assert!(saved.contains("kept_on_sigterm"), "{saved}");

    let (_child, lines) = start(&["--api-key", KEY, "--state", &path], &[]);
    let api = Api::new(lines[0].split_whitespace().nth(3).unwrap());
    let again = api.ok("/webhooks/apps/kept_on_sigterm").await;
    assert_eq!(again["signing_secret"], app["signing_secret"]);
}

/// The binary's log on stderr from start to exit after SIGTERM, with `RUST_LOG=filter`.
fn log_until_sigterm(filter: &str) -> String {
    let mut child = Running(
        Command::new(BIN)
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", filter)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts"),
    );
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.0.stderr.take().unwrap(), &mut stderr).unwrap();
    stderr
}

#[test]
fn rust_log_takes_a_full_filter() {
    assert!(log_until_sigterm("info").contains("shutting down"));
    // A per-target directive: the emulator's own info lines are off, the rest stays at info.
    let quiet = log_until_sigterm("info,wacht_webhooks_emulator=error");
    assert!(!quiet.contains("shutting down"), "{quiet}");
}

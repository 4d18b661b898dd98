//! The command line: `check`, `generate`, `publish`, `diff`, and their exit codes and messages.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{BASE, REAL_SPEC, TempDir, at, base, remove};
use serde_json::{Value, json};
use wacht_webhooks_generator::{Bump, Spec, Version, to_json};

fn run(args: &[&str]) -> Output {
    run_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wacht-webhooks-generator"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the CLI runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the exit code, and that no run ever ends in a panic.
fn assert_exit(output: &Output, code: i32) {
    assert!(
        !stderr(output).contains("panicked"),
        "the CLI panicked:\n{}",
        stderr(output)
    );
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

/// The base spec with a `default` response and an undescribed operation.
fn broken() -> Value {
    let mut value = base();
    at(&mut value, "/paths/~1webhooks~1apps/post/responses")["default"] =
        json!({"$ref": "#/components/responses/Error"});
    remove(&mut value, "/paths/~1webhooks~1apps/get/description");
    value
}

#[test]
fn check_passes_on_the_real_spec() {
    let output = run(&["check", REAL_SPEC]);
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("no findings"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn check_defaults_to_the_spec_of_the_repository() {
    let root = Path::new(REAL_SPEC).parent().unwrap().parent().unwrap();
    let output = run_in(root, &["check"]);
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("spec/webhooks.yaml: no findings"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn check_fails_on_a_broken_spec_with_the_locations() {
    let dir = TempDir::new("cli-check");
    let spec = dir.write_spec("broken.yaml", &broken());
    let output = run(&["check", path(&spec)]);
    assert_exit(&output, 1);
    let out = stdout(&output);
    assert!(
        out.contains("paths./webhooks/apps.post.responses.default: "),
        "{out}"
    );
    assert!(
        out.contains("paths./webhooks/apps.get.description: "),
        "{out}"
    );
    assert!(
        stderr(&output).contains("2 finding(s)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn generate_writes_a_file_that_parses() {
    let dir = TempDir::new("cli-generate");
    let out = dir.path().join("client.rs");
    let output = run(&["generate", REAL_SPEC, "--out", path(&out)]);
    assert_exit(&output, 0);
    let source = std::fs::read_to_string(&out).expect("generate wrote --out");
    syn::parse_file(&source).expect("the written source parses");
}

#[test]
fn generate_prints_the_source_without_out() {
    let dir = TempDir::new("cli-generate-stdout");
    let spec = dir.write("spec.yaml", BASE);
    let output = run(&["generate", path(&spec)]);
    assert_exit(&output, 0);
    let source = stdout(&output);
    syn::parse_file(&source).expect("the printed source parses");
    assert!(source.contains("pub async fn create_app"), "{source}");
}

#[test]
fn generate_on_a_broken_spec_names_the_locations() {
    let dir = TempDir::new("cli-generate-broken");
    let spec = dir.write_spec("broken.yaml", &broken());
    let out = dir.path().join("client.rs");
    let output = run(&["generate", path(&spec), "--out", path(&out)]);
    assert_exit(&output, 1);
    assert!(
        stderr(&output).contains("paths./webhooks/apps.post.responses.default"),
        "{}",
        stderr(&output)
    );
    assert!(!out.exists());
}

#[test]
fn publish_writes_json_and_yaml() {
    let dir = TempDir::new("cli-publish");
    let out = dir.path().join("published");
    let output = run(&["publish", REAL_SPEC, "--out", path(&out), "--no-html"]);
    assert_exit(&output, 0);
    let spec = Spec::load(REAL_SPEC).unwrap();
    let changes = std::fs::read_to_string(out.join("CHANGES.md")).expect("CHANGES.md");
    assert!(changes.contains("the first published version"), "{changes}");
    let json_text = std::fs::read_to_string(out.join("webhooks.json")).expect("webhooks.json");
    assert_eq!(json_text, to_json(&spec));
    let yaml_text = std::fs::read_to_string(out.join("webhooks.yaml")).expect("webhooks.yaml");
    let yaml: Value = serde_yaml::from_str(&yaml_text).expect("the published YAML parses");
    assert_eq!(
        yaml, spec.raw,
        "the normalised YAML holds the same document"
    );
    assert!(!yaml_text.contains("# "), "comments are gone");
}

#[test]
fn publish_keeps_the_input_spec_as_the_published_yaml() {
    let dir = TempDir::new("cli-publish-self");
    let original = std::fs::read_to_string(REAL_SPEC).unwrap();
    let spec = dir.write("webhooks.yaml", &original);
    let output = run(&[
        "publish",
        path(&spec),
        "--out",
        path(dir.path()),
        "--no-html",
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        std::fs::read_to_string(&spec).unwrap(),
        original,
        "the hand-written spec is kept"
    );
    assert!(dir.path().join("webhooks.json").exists());
}

#[test]
fn publish_refuses_a_breaking_change_without_a_major_bump_and_writes_nothing() {
    let dir = TempDir::new("cli-publish-bump");
    let out = dir.path().join("published");
    assert_exit(
        &run(&["publish", REAL_SPEC, "--out", path(&out), "--no-html"]),
        0,
    );
    let published = std::fs::read_to_string(out.join("webhooks.json")).unwrap();

    let mut breaking = Spec::load(REAL_SPEC).unwrap().raw;
    remove(&mut breaking, "/paths/~1webhooks~1apps~1{app_slug}/delete");
    let same_version = dir.write_spec("same.yaml", &breaking);
    let output = run(&[
        "publish",
        path(&same_version),
        "--out",
        path(&out),
        "--no-html",
    ]);
    assert_exit(&output, 1);
    assert!(
        stderr(&output).contains("delete_webhook_app"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("webhooks.json")).unwrap(),
        published
    );

    let major = Version::of(&Spec::load(REAL_SPEC).unwrap())
        .unwrap()
        .bumped(Bump::Major);
    breaking["info"]["version"] = Value::from(major.to_string());
    let bumped = dir.write_spec("bumped.yaml", &breaking);
    assert_exit(
        &run(&["publish", path(&bumped), "--out", path(&out), "--no-html"]),
        0,
    );
    let changes = std::fs::read_to_string(out.join("CHANGES.md")).unwrap();
    let breaking_at = changes
        .find("## Breaking changes (1)")
        .expect("breaking section");
    assert!(
        breaking_at < changes.find("## Compatible changes").unwrap(),
        "{changes}"
    );
    assert!(changes.contains("delete_webhook_app"), "{changes}");
}

#[test]
fn publish_needs_out() {
    let output = run(&["publish", REAL_SPEC]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("--out"), "{}", stderr(&output));
}

#[test]
fn diff_exits_1_on_a_breaking_change_and_0_otherwise() {
    let dir = TempDir::new("cli-diff");
    let old = dir.write("old.yaml", BASE);

    let mut breaking = base();
    remove(&mut breaking, "/paths/~1webhooks~1apps~1{app_slug}/delete");
    let breaking = dir.write_spec("breaking.yaml", &breaking);
    let output = run(&["diff", path(&old), path(&breaking)]);
    assert_exit(&output, 1);
    let out = stdout(&output);
    assert!(out.contains("BREAKING"), "{out}");
    assert!(
        out.contains("paths./webhooks/apps/{app_slug}.delete"),
        "{out}"
    );
    assert!(out.contains("1 change(s), 1 breaking"), "{out}");

    let output = run(&["diff", path(&breaking), path(&old)]);
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("compatible"),
        "{}",
        stdout(&output)
    );

    let output = run(&["diff", path(&old), path(&old)]);
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("0 change(s), 0 breaking"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn diff_needs_two_specs() {
    let output = run(&["diff", REAL_SPEC]);
    assert_exit(&output, 2);
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let dir = TempDir::new("cli-missing");
    let missing = dir.path().join("missing.yaml");
    let missing = path(&missing);
    for args in [
        vec!["check", missing],
        vec!["generate", missing],
        vec!["publish", missing, "--out", path(dir.path())],
        vec!["diff", missing, REAL_SPEC],
        vec!["diff", REAL_SPEC, missing],
    ] {
        let output = run(&args);
        assert_exit(&output, 1);
        let err = stderr(&output);
        assert!(
            err.starts_with("error: cannot read") && err.contains("missing.yaml"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_file_that_is_not_yaml_is_a_clear_error() {
    let dir = TempDir::new("cli-not-yaml");
    let spec = dir.write("spec.yaml", "openapi: [3.0.3\n");
    let output = run(&["check", path(&spec)]);
    assert_exit(&output, 1);
    assert!(
        stderr(&output).contains("is not valid YAML"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn unknown_command_or_option_prints_usage() {
    for args in [vec![], vec!["frobnicate"], vec!["check", "--verbose"]] {
        let output = run(&args);
        assert_exit(&output, 2);
        assert!(stderr(&output).contains("usage:"), "{}", stderr(&output));
    }
}

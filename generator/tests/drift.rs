//! `spec/webhooks.json` is the published copy of `spec/webhooks.yaml`: it must not drift.

use std::path::Path;

use wacht_webhooks_generator::{Spec, to_json};

const YAML: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/webhooks.yaml");
const JSON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/webhooks.json");

/// The command that brings `spec/webhooks.json` back in line, run from the repository root.
const FIX: &str = "cargo run -p wacht-webhooks-generator -- publish --out spec --since spec/released.json --no-html";

/// `Err` with a message for the maintainer when `json` is not the published form of `yaml`.
fn check_drift(yaml: &Path, json: &Path) -> Result<(), String> {
    let expected = to_json(&Spec::load(yaml).map_err(|err| err.to_string())?);
    let actual = std::fs::read_to_string(json).unwrap_or_default();
    if actual == expected {
        return Ok(());
    }
    let line = actual
        .lines()
        .zip(expected.lines())
        .position(|(a, e)| a != e)
        .unwrap_or_else(|| actual.lines().count().min(expected.lines().count()))
        + 1;
    Err(format!(
        "spec/webhooks.json has drifted from spec/webhooks.yaml (first difference at line {line}).\n\
         Regenerate it from the repository root with:\n\n    {FIX}\n"
    ))
}

#[test]
fn published_json_matches_the_yaml() {
    if let Err(message) = check_drift(Path::new(YAML), Path::new(JSON)) {
        panic!("{message}");
    }
}

#[test]
fn drift_is_reported_with_the_command_that_fixes_it() {
    let dir = std::env::temp_dir().join(format!("wacht-generator-drift-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("webhooks.json");
    let published = std::fs::read_to_string(JSON).unwrap();
    std::fs::write(&json, published.replacen("\"3.0.3\"", "\"3.0.2\"", 1)).unwrap();
    let result = check_drift(Path::new(YAML), &json);
    let missing = check_drift(Path::new(YAML), &dir.join("absent.json"));
    std::fs::remove_dir_all(&dir).unwrap();
    let message = result.expect_err("an edited copy drifts");
    assert!(message.contains("line 2"), "{message}");
    assert!(message.contains(FIX), "{message}");
    assert!(missing.expect_err("a missing copy drifts").contains(FIX));
}

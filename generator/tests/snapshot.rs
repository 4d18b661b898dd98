//! The generated client source is checked in (`tests/snapshots/client.rs`), so that a generator
//! change, a spec edit or a progenitor upgrade shows up in review as a diff of the code users get.

mod common;

use std::path::Path;

use wacht_webhooks_generator::{generate, load_checked};

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/client.rs");

/// Set to `1` to rewrite the snapshot instead of comparing with it.
const REFRESH_VAR: &str = "UPDATE_SNAPSHOTS";

/// The one command that refreshes the snapshot, run from the repository root.
const REFRESH: &str = "UPDATE_SNAPSHOTS=1 cargo test -p wacht-webhooks-generator --test snapshot";

#[test]
fn the_generated_client_matches_the_checked_in_snapshot() {
    let spec = load_checked(common::REAL_SPEC).expect("the spec loads and lints");
    let generated = generate(&spec).expect("the spec generates");
    if std::env::var(REFRESH_VAR).as_deref() == Ok("1") {
        std::fs::write(SNAPSHOT, &generated).expect("the snapshot is writable");
        return;
    }
    let checked_in = std::fs::read_to_string(Path::new(SNAPSHOT)).unwrap_or_default();
    if checked_in != generated {
        let line = checked_in
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| checked_in.lines().count().min(generated.lines().count()))
            + 1;
        panic!(
            "the generated client differs from generator/tests/snapshots/client.rs (first difference at line {line}).\n\
             Review the change, then refresh the snapshot from the repository root with:\n\n    {REFRESH}\n"
        );
    }
}

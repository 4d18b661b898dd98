//! The generated server source is checked in (`generator/tests/snapshots/server.rs`), so that a
//! change of the spec or the generator shows up in review as a diff of the code the emulator builds
//! on. Refresh it with `UPDATE_SNAPSHOTS=1 cargo test -p wacht-webhooks-emulator --test generated`.

use std::path::Path;

const GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/server.rs"));

#[test]
fn the_generated_server_source_matches_the_checked_in_snapshot() {
    let snapshot =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../generator/tests/snapshots/server.rs");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snapshot, GENERATED).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&snapshot).unwrap_or_default();
    if checked_in != GENERATED {
        let first = checked_in
            .lines()
            .zip(GENERATED.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || "the line count".to_string(),
                |n| format!("line {}", n + 1),
            );
        panic!(
            "{} differs from what the build generates (first difference: {first}); review the \
             change and refresh it with `UPDATE_SNAPSHOTS=1 cargo test -p wacht-webhooks-emulator \
             --test generated`",
            snapshot.display()
        );
    }
}

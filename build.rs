//! Generates the typed client from `spec/webhooks.yaml` on every build that follows a spec edit.

use std::path::PathBuf;

const SPEC: &str = "spec/webhooks.yaml";

fn main() {
    println!("cargo:rerun-if-changed={SPEC}");
    println!("cargo:rerun-if-changed=build.rs");
    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("webhooks.rs");
    if let Err(err) = wacht_webhooks_generator::write_client(SPEC, &out) {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}

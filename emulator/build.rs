//! Generates the emulator's wire types, route table, rule constants and response schemas from
//! `spec/webhooks.yaml` (see `wacht_webhooks_generator::generate_server`).

use std::path::PathBuf;

use wacht_webhooks_generator::ServerOptions;

// `spec` is a link to the repository's spec directory, so that the packaged crate carries the spec.
const SPEC: &str = "spec/webhooks.yaml";

fn main() {
    println!("cargo:rerun-if-changed={SPEC}");
    println!("cargo:rerun-if-changed=build.rs");
    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("server.rs");
    // Endpoint headers are read as any JSON: production stores whatever a client sends, and the
    // documented behaviour answers its own 422 for anything but an object of strings (P13).
    let options = ServerOptions::default()
        .any_json("CreateWebhookEndpointRequest", "headers")
        .any_json("UpdateWebhookEndpointRequest", "headers");
    if let Err(err) = wacht_webhooks_generator::write_server_with(SPEC, &out, &options) {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}

//! What the spec says about the wire, generated from `spec/webhooks.yaml` at build time: the
//! request and response types with the spec's names, the enums with their wire names, the route
//! table (`OPERATIONS`, `Handlers`), the rule constants and the response schemas.
//!
//! The generated source is checked in as `generator/tests/snapshots/server.rs`, so that a change shows up in
//! review; refresh it with `UPDATE_SNAPSHOTS=1 cargo test -p wacht-webhooks-emulator --test generated`.

#![allow(missing_docs, dead_code, clippy::all)]

include!(concat!(env!("OUT_DIR"), "/server.rs"));

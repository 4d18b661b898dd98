//! Loads, lints, generates, publishes and diffs the Wacht Webhooks OpenAPI document.
#![cfg_attr(docsrs, feature(doc_cfg))]
//!
//! `build.rs` of the client crate calls [`write_client`]: the spec is linted, progenitor turns it
//! into a typed client, the spec-derived helpers of the hand-written layer are emitted next to it,
//! and the formatted source lands in `OUT_DIR`. The same steps are available from the command line
//! (`cargo run -p wacht-webhooks-generator -- check|generate|publish|diff`).
//!
//! ## Features
//!
//! - `check` (default): validating examples against their schemas in [`lint`] (the `jsonschema`
//!   crate), [`publish`], [`diff`] and version checks, and the command-line tool. Build scripts
//!   that only generate code depend on the crate with `default-features = false`, which compiles
//!   only what generation needs; [`to_json_schema`] is available either way.
//!
//! ```no_run
//! let spec = wacht_webhooks_generator::Spec::load("spec/webhooks.yaml")?;
//! for finding in wacht_webhooks_generator::lint(&spec) {
//!     eprintln!("{finding}");
//! }
//! let source = wacht_webhooks_generator::generate(&spec)?;
//! # Ok::<(), wacht_webhooks_generator::Error>(())
//! ```

use std::path::{Path, PathBuf};

mod calls;
mod codegen;
#[cfg(feature = "check")]
mod diff;
mod examples;
mod lint;
#[cfg(feature = "check")]
mod publish;
mod server;
mod spec;
#[cfg(feature = "check")]
mod version;

pub use calls::{CLIENT_EXTENSION, CODE_SAMPLES, Rule, RuleValue, rules, rules_source};
pub use codegen::{format, generate, generate_tokens, options_type_name};
#[cfg(feature = "check")]
pub use diff::{Change, diff};
pub use examples::to_json_schema;
pub use lint::{Finding, SHARED_ERROR_RESPONSE, lint};
#[cfg(feature = "check")]
#[cfg_attr(docsrs, doc(cfg(feature = "check")))]
pub use publish::{
    BundleOptions, CHANGES_FILE, HTML_FILE, changes_markdown, network_resources, publish,
    publish_bundle, to_json, to_yaml,
};
pub use server::{ServerOptions, generate_server, write_server_with};
pub use spec::{Operation, Spec};
#[cfg(feature = "check")]
pub use version::{Bump, Version, check_bump};

/// Why the generator could not do its work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The spec file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An output file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not YAML or JSON.
    #[error("{} is not valid YAML: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The document does not have the structure of an OpenAPI 3.0 document.
    #[error("{} is not a valid OpenAPI 3.0 document: {message}", path.display())]
    Structure {
        /// The file.
        path: PathBuf,
        /// What the OpenAPI model rejected.
        message: String,
    },
    /// The spec breaks lint rules.
    #[error("{} breaks {} lint rule(s):\n{}", path.display(), findings.len(), list(findings))]
    Lint {
        /// The file.
        path: PathBuf,
        /// Every finding, with its spec location.
        findings: Vec<Finding>,
    },
    /// The published copies could not be made.
    #[error("publish: {0}")]
    Publish(String),
    /// Code generation failed.
    #[error("code generation failed: {0}")]
    Generate(String),
}

fn list(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("  {f}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Loads and lints a spec: the spec, or every finding as an [`Error::Lint`].
pub fn load_checked(path: impl AsRef<Path>) -> Result<Spec, Error> {
    let spec = Spec::load(path)?;
    let findings = lint(&spec);
    if findings.is_empty() {
        Ok(spec)
    } else {
        Err(Error::Lint {
            path: spec.source.clone(),
            findings,
        })
    }
}

/// What `build.rs` does: lint the spec, generate the client and write it to `out`, rewriting
/// the file only when its content changed.
pub fn write_client(spec: impl AsRef<Path>, out: impl AsRef<Path>) -> Result<(), Error> {
    let spec = load_checked(spec)?;
    write_if_changed(out.as_ref(), &generate(&spec)?)
}

/// Writes `source` to `out` unless it already holds exactly that, so that cargo sees no change
/// and rebuilds nothing.
fn write_if_changed(out: &Path, source: &str) -> Result<(), Error> {
    if std::fs::read_to_string(out).ok().as_deref() == Some(source) {
        return Ok(());
    }
    std::fs::write(out, source).map_err(|source| Error::Write {
        path: out.to_path_buf(),
        source,
    })
}

/// What the emulator's `build.rs` does with default [`ServerOptions`]: lint the spec, generate the
/// server source (wire types, route table, rule constants, response schemas) and write it to `out`.
pub fn write_server(spec: impl AsRef<Path>, out: impl AsRef<Path>) -> Result<(), Error> {
    write_server_with(spec, out, &ServerOptions::default())
}

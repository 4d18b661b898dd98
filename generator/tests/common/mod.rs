//! Helpers shared by the generator's integration tests: the base fixture spec and ways to mutate
//! it, the real spec, and temporary directories.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use wacht_webhooks_generator::{Finding, Spec};

/// The real spec of the repository.
pub const REAL_SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/webhooks.yaml");

/// The minimal valid spec every fixture starts from.
pub const BASE: &str = include_str!("../fixtures/base.yaml");

/// The base spec as a JSON value, to mutate.
pub fn base() -> Value {
    serde_yaml::from_str(BASE).expect("the base fixture is YAML")
}

/// The real spec as a JSON value, to mutate.
pub fn real() -> Value {
    Spec::load(REAL_SPEC).expect("the real spec loads").raw
}

/// A spec from a JSON value (JSON is YAML, so this is what loading a file would give).
pub fn spec(value: &Value) -> Spec {
    Spec::parse(
        "fixture.yaml",
        &serde_json::to_string_pretty(value).unwrap(),
    )
    .expect("a JSON value parses")
}

/// The base spec after `change`.
pub fn base_with(change: impl FnOnce(&mut Value)) -> Spec {
    let mut value = base();
    change(&mut value);
    spec(&value)
}

/// The value at a JSON pointer, which must exist. Path keys escape `/` as `~1`:
/// `at(v, "/paths/~1webhooks~1apps/post")`.
pub fn at<'a>(value: &'a mut Value, pointer: &str) -> &'a mut Value {
    value
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("the fixture has no {pointer}"))
}

/// Removes the key at the end of `pointer` (which must exist) and returns its value.
pub fn remove(value: &mut Value, pointer: &str) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer with a key");
    let key = key.replace("~1", "/").replace("~0", "~");
    at(value, parent)
        .as_object_mut()
        .unwrap_or_else(|| panic!("{parent} is not an object"))
        .remove(&key)
        .unwrap_or_else(|| panic!("the fixture has no {pointer}"))
}

/// The locations of the findings of one rule, in the order `lint` reports them.
pub fn locations(findings: &[Finding], rule: &str) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| f.location.clone())
        .collect()
}

/// The operation ids of a spec, in document order.
pub fn operation_ids(spec: &Spec) -> Vec<String> {
    spec.operations()
        .iter()
        .map(|op| op.id().expect("every operation has an id").to_string())
        .collect()
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wacht-generator-test-{}-{}-{name}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `text` to `name` inside the directory and returns the file's path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write a temp file");
        path
    }

    /// Writes a spec value as a YAML file and returns its path.
    pub fn write_spec(&self, name: &str, value: &Value) -> PathBuf {
        self.write(name, &serde_yaml::to_string(value).unwrap())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The overlay that adds one list operation (`list_webhook_widgets`) and its schemas.
pub const ADDED_LIST_OPERATION: &str = include_str!("../fixtures/added_list_operation.yaml");

/// The real spec with the operation of [`ADDED_LIST_OPERATION`] added.
pub fn real_with_added_list_operation() -> Spec {
    let overlay: Value = serde_yaml::from_str(ADDED_LIST_OPERATION).expect("the overlay is YAML");
    let mut value = real();
    for section in ["/paths", "/components/schemas"] {
        let target = at(&mut value, section).as_object_mut().expect("an object");
        for (key, item) in overlay.pointer(section).and_then(Value::as_object).unwrap() {
            assert!(
                target.insert(key.clone(), item.clone()).is_none(),
                "{key} is new"
            );
        }
    }
    spec(&value)
}

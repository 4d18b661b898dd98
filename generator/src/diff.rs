//! Changes between two versions of a spec, classified by what they do to existing clients.
//!
//! A change is breaking when a client built against the old spec can fail against a server of
//! the new one, or stops compiling after regeneration: a removed operation, parameter or field, a
//! newly required request field, a narrowed type or limit, a removed enum value, a new value of a
//! closed response enum, a response field that may now be missing or null.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

use crate::spec::{Operation, Spec, schema_ref_name};

/// One difference between two specs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    /// Where, in the new spec's terms (or the old one's for removals).
    pub location: String,
    /// What changed.
    pub description: String,
    /// Whether existing clients can break.
    pub breaking: bool,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class = if self.breaking {
            "BREAKING"
        } else {
            "compatible"
        };
        write!(f, "{class:<10} {}: {}", self.location, self.description)
    }
}

/// Which way data flows through a schema: what the client sends, or what it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Direction {
    Request,
    Response,
}

/// Lists the changes from `old` to `new`, sorted and without repeats. Both are compared in their
/// canonical forms ([`Spec::canonical`]), so that writing a nullable reference or an open enum in
/// another form is no change.
pub fn diff(old: &Spec, new: &Spec) -> Vec<Change> {
    let (old, new) = (&old.canonical(), &new.canonical());
    let mut differ = Differ {
        old,
        new,
        changes: BTreeSet::new(),
        visited: BTreeSet::new(),
    };
    let old_ops = operations_by_key(old);
    let new_ops = operations_by_key(new);
    for (key, old_op) in &old_ops {
        match new_ops.get(key) {
            None => differ.push(
                &old_op.location(),
                format!("operation `{key}` removed"),
                true,
            ),
            Some(new_op) => differ.operation(old_op, new_op),
        }
    }
    for (key, new_op) in &new_ops {
        if !old_ops.contains_key(key) {
            differ.push(
                &new_op.location(),
                format!("operation `{key}` added"),
                false,
            );
        }
    }
    differ.changes.into_iter().collect()
}

fn operations_by_key(spec: &Spec) -> BTreeMap<String, Operation<'_>> {
    spec.operations()
        .into_iter()
        .map(|op| {
            let key = op
                .id()
                .map(str::to_string)
                .unwrap_or_else(|| format!("{} {}", op.method.to_uppercase(), op.path));
            (key, op)
        })
        .collect()
}

struct Differ<'a> {
    old: &'a Spec,
    new: &'a Spec,
    changes: BTreeSet<Change>,
    visited: BTreeSet<(String, String, Direction)>,
}

impl Differ<'_> {
    fn push(&mut self, location: &str, description: String, breaking: bool) {
        self.changes.insert(Change {
            location: location.to_string(),
            description,
            breaking,
        });
    }

    fn operation(&mut self, old: &Operation<'_>, new: &Operation<'_>) {
        let location = new.location();
        if old.path != new.path || old.method != new.method {
            self.push(
                &location,
                format!("moved from {} {}", old.method.to_uppercase(), old.path),
                true,
            );
        }
        self.parameters(old, new, &location);
        let old_body = self.old.request_schema(old);
        let new_body = self.new.request_schema(new);
        let body_location = format!("{location}.requestBody");
        match (old_body, new_body) {
            (None, Some(_)) => {
                let required = new
                    .value
                    .get("requestBody")
                    .map(|b| self.new.resolve(b))
                    .and_then(|b| b.get("required"))
                    == Some(&Value::Bool(true));
                self.push(&body_location, "request body added".into(), required);
            }
            (Some(_), None) => self.push(&body_location, "request body removed".into(), true),
            (Some(o), Some(n)) => self.schema(o, n, &body_location, Direction::Request),
            (None, None) => {}
        }
        let response_location = format!("{location}.responses");
        match (self.old.success_schema(old), self.new.success_schema(new)) {
            (Some(o), Some(n)) => self.schema(o, n, &response_location, Direction::Response),
            (Some(_), None) => self.push(&response_location, "success body removed".into(), true),
            _ => {}
        }
    }

    fn parameters(&mut self, old: &Operation<'_>, new: &Operation<'_>, location: &str) {
        let index = |spec: &'_ Spec, op: &Operation<'_>| -> BTreeMap<(String, String), Value> {
            spec.parameters(op)
                .into_iter()
                .filter_map(|p| {
                    let name = p.get("name")?.as_str()?.to_string();
                    let place = p.get("in")?.as_str()?.to_string();
                    Some(((place, name), p.clone()))
                })
                .collect()
        };
        let old_params = index(self.old, old);
        let new_params = index(self.new, new);
        for ((place, name), old_param) in &old_params {
            let loc = format!("{location}.parameters.{name}");
            let Some(new_param) = new_params.get(&(place.clone(), name.clone())) else {
                self.push(&loc, format!("{place} parameter `{name}` removed"), true);
                continue;
            };
            let required = |p: &Value| p.get("required") == Some(&Value::Bool(true));
            if !required(old_param) && required(new_param) {
                self.push(
                    &loc,
                    format!("{place} parameter `{name}` is now required"),
                    true,
                );
            }
            if let (Some(o), Some(n)) = (old_param.get("schema"), new_param.get("schema")) {
                self.schema(o, n, &loc, Direction::Request);
            }
        }
        for ((place, name), new_param) in &new_params {
            if !old_params.contains_key(&(place.clone(), name.clone())) {
                let required = new_param.get("required") == Some(&Value::Bool(true));
                let what = if required { "required" } else { "optional" };
                self.push(
                    &format!("{location}.parameters.{name}"),
                    format!("{what} {place} parameter `{name}` added"),
                    required,
                );
            }
        }
    }

    fn schema(&mut self, old: &Value, new: &Value, location: &str, dir: Direction) {
        // A referenced component is compared once per direction, under its own name.
        let location = match schema_ref_name(new) {
            Some(name) => {
                let key = (
                    schema_ref_name(old).unwrap_or("").to_string(),
                    name.to_string(),
                    dir,
                );
                if !self.visited.insert(key) {
                    return;
                }
                format!("components.schemas.{name}")
            }
            None => location.to_string(),
        };
        let old = self.old.resolve(old);
        let new = self.new.resolve(new);
        self.type_and_format(old, new, &location, dir);
        self.nullability(old, new, &location, dir);
        self.enum_values(old, new, &location, dir);
        if dir == Direction::Request {
            self.limits(old, new, &location);
        }
        self.properties(old, new, &location, dir);
        if let (Some(o), Some(n)) = (old.get("items"), new.get("items")) {
            self.schema(o, n, &format!("{location}.items"), dir);
        }
        if let (Some(o), Some(n)) = (
            old.get("additionalProperties").filter(|v| v.is_object()),
            new.get("additionalProperties").filter(|v| v.is_object()),
        ) {
            self.schema(o, n, &format!("{location}.additionalProperties"), dir);
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            self.composition(old, new, key, &location, dir);
        }
    }

    fn type_and_format(&mut self, old: &Value, new: &Value, location: &str, dir: Direction) {
        let get = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let (old_type, new_type) = (get(old, "type"), get(new, "type"));
        if old_type != new_type {
            let widened = dir == Direction::Request
                && old_type.as_deref() == Some("integer")
                && new_type.as_deref() == Some("number");
            self.push(
                location,
                format!(
                    "type changed from {} to {}",
                    old_type.as_deref().unwrap_or("any"),
                    new_type.as_deref().unwrap_or("any")
                ),
                !widened,
            );
        }
        let (old_format, new_format) = (get(old, "format"), get(new, "format"));
        if old_type == new_type && old_format != new_format {
            self.push(
                location,
                format!(
                    "format changed from {} to {}",
                    old_format.as_deref().unwrap_or("none"),
                    new_format.as_deref().unwrap_or("none")
                ),
                true,
            );
        }
    }

    fn nullability(&mut self, old: &Value, new: &Value, location: &str, dir: Direction) {
        match (admits_null(old), admits_null(new), dir) {
            (false, true, Direction::Response) => {
                self.push(location, "may now be null in responses".into(), true)
            }
            (true, false, Direction::Request) => {
                self.push(location, "no longer accepts null".into(), true)
            }
            (false, true, Direction::Request) => {
                self.push(location, "now accepts null".into(), false)
            }
            (true, false, Direction::Response) => {
                self.push(location, "is never null any more".into(), false)
            }
            _ => {}
        }
    }

    fn enum_values(&mut self, old: &Value, new: &Value, location: &str, dir: Direction) {
        let values = |v: &Value| -> Option<BTreeSet<String>> {
            Some(
                v.get("enum")?
                    .as_array()?
                    .iter()
                    .map(|e| e.to_string())
                    .collect(),
            )
        };
        match (values(old), values(new)) {
            (Some(o), Some(n)) => {
                for removed in o.difference(&n) {
                    self.push(location, format!("enum value {removed} removed"), true);
                }
                let open = new.get("x-open-enum") == Some(&Value::Bool(true));
                for added in n.difference(&o) {
                    let breaking = dir == Direction::Response && !open;
                    self.push(location, format!("enum value {added} added"), breaking);
                }
            }
            (None, Some(_)) => self.push(location, "now restricted to an enum".into(), true),
            (Some(_), None) => self.push(
                location,
                "no longer an enum".into(),
                dir == Direction::Response,
            ),
            (None, None) => {}
        }
    }

    fn limits(&mut self, old: &Value, new: &Value, location: &str) {
        match (old.get("pattern"), new.get("pattern")) {
            (o, Some(n)) if o != Some(n) => self.push(location, format!("pattern {n} set"), true),
            (Some(_), None) => self.push(location, "pattern removed".into(), false),
            _ => {}
        }
        let number = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64);
        for key in ["maximum", "maxLength", "maxItems"] {
            match (number(old, key), number(new, key)) {
                (Some(o), Some(n)) if n < o => {
                    self.push(location, format!("{key} lowered from {o} to {n}"), true)
                }
                (None, Some(n)) => self.push(location, format!("{key} {n} added"), true),
                _ => {}
            }
        }
        for key in ["minimum", "minLength", "minItems"] {
            match (number(old, key), number(new, key)) {
                (Some(o), Some(n)) if n > o => {
                    self.push(location, format!("{key} raised from {o} to {n}"), true)
                }
                (None, Some(n)) if n > 0.0 => self.push(location, format!("{key} {n} added"), true),
                _ => {}
            }
        }
    }

    fn properties(&mut self, old: &Value, new: &Value, location: &str, dir: Direction) {
        let props = |v: &Value| v.get("properties").and_then(Value::as_object).cloned();
        let required = |v: &Value| -> BTreeSet<String> {
            crate::spec::required_properties(v)
                .into_iter()
                .map(str::to_string)
                .collect()
        };
        // An object may gain its first property or lose its last one: a missing `properties`
        // counts as none.
        let (old_props, new_props) = match (props(old), props(new)) {
            (None, None) => return,
            (o, n) => (o.unwrap_or_default(), n.unwrap_or_default()),
        };
        let (old_required, new_required) = (required(old), required(new));
        for (name, old_prop) in &old_props {
            let loc = format!("{location}.properties.{name}");
            let Some(new_prop) = new_props.get(name) else {
                self.push(&loc, format!("property `{name}` removed"), true);
                continue;
            };
            let (was, is) = (old_required.contains(name), new_required.contains(name));
            match (was, is, dir) {
                (false, true, Direction::Request) => {
                    self.push(&loc, format!("property `{name}` is now required"), true)
                }
                (true, false, Direction::Response) => self.push(
                    &loc,
                    format!("property `{name}` may now be missing from responses"),
                    true,
                ),
                (true, false, Direction::Request) => {
                    self.push(&loc, format!("property `{name}` is now optional"), false)
                }
                (false, true, Direction::Response) => {
                    self.push(&loc, format!("property `{name}` is now always sent"), false)
                }
                _ => {}
            }
            self.schema(old_prop, new_prop, &loc, dir);
        }
        for name in new_props.keys().filter(|n| !old_props.contains_key(*n)) {
            let loc = format!("{location}.properties.{name}");
            let required = new_required.contains(name);
            let breaking = dir == Direction::Request && required;
            let what = if required { "required" } else { "optional" };
            self.push(&loc, format!("{what} property `{name}` added"), breaking);
        }
    }

    fn composition(&mut self, old: &Value, new: &Value, key: &str, location: &str, dir: Direction) {
        let members = |v: &Value| v.get(key).and_then(Value::as_array).cloned();
        match (members(old), members(new)) {
            (Some(o), Some(n)) if o.len() == n.len() => {
                for (i, (om, nm)) in o.iter().zip(&n).enumerate() {
                    self.schema(om, nm, &format!("{location}.{key}[{i}]"), dir);
                }
            }
            (Some(o), Some(n)) => self.push(
                location,
                format!("{key} changed from {} to {} members", o.len(), n.len()),
                true,
            ),
            (None, Some(_)) | (Some(_), None) => {
                self.push(location, format!("{key} composition changed"), true)
            }
            (None, None) => {}
        }
    }
}

/// Keywords that give a schema a shape; a schema with none of them (nor `type`) is free-form JSON.
const SHAPING: [&str; 8] = [
    "type",
    "$ref",
    "allOf",
    "oneOf",
    "anyOf",
    "enum",
    "properties",
    "items",
];

/// Whether a value of `schema` may be null: `nullable: true`, or a free-form schema, which admits
/// any JSON value and so carries no `nullable` (the spec's convention).
fn admits_null(schema: &Value) -> bool {
    schema.get("nullable") == Some(&Value::Bool(true))
        || (schema.is_object() && SHAPING.iter().all(|key| schema.get(key).is_none()))
}

//! Rules a spec must keep for the generated client to be sound.
//!
//! Each rule reports [`Finding`]s that name the exact spec location, e.g.
//! `paths./webhooks/apps.post.responses`, so that a broken spec fails the build with a message a
//! maintainer can act on.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde_json::Value;

#[cfg(feature = "check")]
use crate::examples::ExampleChecker;
use crate::spec::{Operation, Spec};

/// The response every error status must use: `components.responses.Error`.
pub const SHARED_ERROR_RESPONSE: &str = "#/components/responses/Error";

/// One problem found in a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule that fired, e.g. `no-default-response`.
    pub rule: &'static str,
    /// Where in the spec, e.g. `paths./webhooks/apps.post.responses.default`.
    pub location: String,
    /// What is wrong, in a sentence.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} [{}]", self.location, self.message, self.rule)
    }
}

/// Runs every rule and returns the findings, in document order per rule.
///
/// Validating every example against its schema (a JSON Schema validator) is part of it with the
/// `check` feature (on by default, and always in the command-line tool). `build.rs` of the client
/// builds the generator without it: examples do not change the generated code, and CI validates
/// them with `generator check`.
pub fn lint(spec: &Spec) -> Vec<Finding> {
    let mut findings = Findings::default();
    openapi_version(spec, &mut findings);
    operation_ids(spec, &mut findings);
    for op in spec.operations() {
        responses(spec, &op, &mut findings);
        request_media_type(spec, &op, &mut findings);
        operation_described(&op, &mut findings);
        examples_present(spec, &op, &mut findings);
    }
    parameters_described(spec, &mut findings);
    response_additional_properties(spec, &mut findings);
    properties_described(spec, &mut findings);
    #[cfg(feature = "check")]
    ExampleChecker::new(spec).check_all(&mut findings);
    // A shared object (a `$ref` parameter, the shared error response) is reached from several
    // operations but reported once, at its own location.
    let mut seen = HashSet::new();
    findings
        .0
        .into_iter()
        .filter(|f| seen.insert((f.rule, f.location.clone(), f.message.clone())))
        .collect()
}

/// Every parameter the operations use, resolved, once each, with the location of its object:
/// `paths./a.parameters[0]` (path item), `paths./a.get.parameters[1]` (operation) or
/// `components.parameters.AppSlug` (through `$ref`).
pub(crate) fn parameters_located(spec: &Spec) -> Vec<(&Value, String)> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for op in spec.operations() {
        let shared = op
            .path_item_parameters
            .iter()
            .enumerate()
            .map(|(i, p)| (p, format!("paths.{}.parameters[{i}]", op.path)));
        let own = op
            .value
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, p)| (p, format!("{}.parameters[{i}]", op.location())));
        for (param, location) in shared.chain(own) {
            let (param, location) = spec.resolve_located(param, location);
            if seen.insert(location.clone()) {
                out.push((param, location));
            }
        }
    }
    out
}

/// A request body or a response of an operation.
pub(crate) struct Body<'a> {
    /// The request body or response object, resolved.
    pub(crate) value: &'a Value,
    /// Where it sits: `paths./a.post.requestBody`, `paths./a.post.responses.200`, or its
    /// component (`components.responses.Error`) when reached through `$ref`.
    pub(crate) location: String,
    /// A response (rather than a request body).
    pub(crate) response: bool,
}

impl<'a> Body<'a> {
    /// The schemas of its media types, with their locations
    /// (`paths./a.post.requestBody.content.application/json.schema`).
    pub(crate) fn schemas(&self) -> Vec<(&'a Value, String)> {
        self.value
            .get("content")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(media, m)| {
                let schema = m.get("schema")?;
                Some((schema, format!("{}.content.{media}.schema", self.location)))
            })
            .collect()
    }
}

/// Every request body and response of every operation, resolved, once each.
pub(crate) fn bodies(spec: &Spec) -> Vec<Body<'_>> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for op in spec.operations() {
        let request = op
            .value
            .get("requestBody")
            .map(|b| (b, format!("{}.requestBody", op.location()), false));
        let responses = op
            .value
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(code, r)| (r, format!("{}.responses.{code}", op.location()), true));
        for (value, location, response) in request.into_iter().chain(responses) {
            let (value, location) = spec.resolve_located(value, location);
            if seen.insert(location.clone()) {
                out.push(Body {
                    value,
                    location,
                    response,
                });
            }
        }
    }
    out
}

/// Findings being collected.
#[derive(Default)]
pub(crate) struct Findings(Vec<Finding>);

impl Findings {
    pub(crate) fn push(
        &mut self,
        rule: &'static str,
        location: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.0.push(Finding {
            rule,
            location: location.into(),
            message: message.into(),
        });
    }
}

fn openapi_version(spec: &Spec, findings: &mut Findings) {
    match spec.raw.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0.") => {}
        Some(v) => findings.push(
            "openapi-version",
            "openapi",
            format!("version {v} is not supported: the generator takes OpenAPI 3.0.x only"),
        ),
        None => findings.push(
            "openapi-version",
            "openapi",
            "missing: the document must declare `openapi: 3.0.x`",
        ),
    }
}

fn is_snake_case(id: &str) -> bool {
    let mut parts = id.split('_');
    let first_ok = id.starts_with(|c: char| c.is_ascii_lowercase());
    first_ok
        && parts.all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

fn operation_ids(spec: &Spec, findings: &mut Findings) {
    let mut seen: BTreeMap<&str, String> = BTreeMap::new();
    for op in spec.operations() {
        let location = format!("{}.operationId", op.location());
        let Some(id) = op.id() else {
            findings.push(
                "operation-id",
                location,
                "missing: every operation needs a unique snake_case operationId",
            );
            continue;
        };
        if !is_snake_case(id) {
            findings.push(
                "operation-id",
                &location,
                format!("'{id}' is not snake_case (e.g. `list_webhook_apps`)"),
            );
        }
        if let Some(first) = seen.insert(id, op.location()) {
            findings.push(
                "operation-id",
                location,
                format!("'{id}' is already used by {first}"),
            );
        }
    }
}

fn is_error_status(code: &str) -> bool {
    code.starts_with('4') || code.starts_with('5')
}

fn responses(spec: &Spec, op: &Operation<'_>, findings: &mut Findings) {
    let location = format!("{}.responses", op.location());
    let Some(responses) = op.value.get("responses").and_then(Value::as_object) else {
        findings.push("success-body", location, "missing: no responses declared");
        return;
    };
    if responses.contains_key("default") {
        findings.push(
            "no-default-response",
            format!("{location}.default"),
            "a `default` response counts as both success and error; declare '200' plus '4XX' and '5XX'",
        );
    }
    let successes: Vec<_> = responses.keys().filter(|c| c.starts_with('2')).collect();
    match successes.as_slice() {
        [code] => {
            if spec
                .resolve(&responses[code.as_str()])
                .pointer("/content/application~1json/schema")
                .is_none()
            {
                findings.push(
                    "success-body",
                    format!("{location}.{code}"),
                    "the success response has no application/json schema",
                );
            }
        }
        [] => findings.push("success-body", &location, "no 2XX response declared"),
        many => findings.push(
            "success-body",
            &location,
            format!(
                "{} success responses ({}); exactly one success body type is allowed",
                many.len(),
                many.iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    }
    let errors: Vec<_> = responses
        .iter()
        .filter(|(code, _)| is_error_status(code))
        .collect();
    if errors.is_empty() {
        findings.push(
            "error-body",
            &location,
            "no error response declared; add '4XX' and '5XX' using the shared error response",
        );
    }
    for (code, response) in errors {
        let uses_shared =
            response.get("$ref").and_then(Value::as_str) == Some(SHARED_ERROR_RESPONSE);
        if !uses_shared {
            findings.push(
                "error-body",
                format!("{location}.{code}"),
                format!("error responses must be `$ref: '{SHARED_ERROR_RESPONSE}'` so that every operation has one error body type"),
            );
        }
    }
}

fn request_media_type(spec: &Spec, op: &Operation<'_>, findings: &mut Findings) {
    let Some(body) = op.value.get("requestBody") else {
        return;
    };
    let location = format!("{}.requestBody.content", op.location());
    let types: Vec<&String> = spec
        .resolve(body)
        .get("content")
        .and_then(Value::as_object)
        .map(|c| c.keys().collect())
        .unwrap_or_default();
    if types.len() != 1 || types[0] != "application/json" {
        findings.push(
            "request-media-type",
            location,
            format!(
                "request bodies take exactly one media type, application/json (found: {})",
                if types.is_empty() {
                    "none".to_string()
                } else {
                    types
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
        );
    }
}

fn has_text(value: &Value, key: &str) -> bool {
    value
        .get(key)
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty())
}

fn operation_described(op: &Operation<'_>, findings: &mut Findings) {
    if !has_text(op.value, "description") {
        findings.push(
            "described",
            format!("{}.description", op.location()),
            "every operation needs a description (it becomes the client's rustdoc)",
        );
    }
}

fn parameters_described(spec: &Spec, findings: &mut Findings) {
    for (param, location) in parameters_located(spec) {
        if !has_text(param, "description") {
            findings.push("described", location, "parameter has no description");
        }
    }
}

/// Whether the operation's request body and success response carry an example somewhere: on the
/// media type, or on the schema they reference.
fn examples_present(spec: &Spec, op: &Operation<'_>, findings: &mut Findings) {
    let has_example = |media: Option<&Value>| {
        media.is_some_and(|m| {
            m.get("example").is_some()
                || m.get("examples").is_some()
                || m.get("schema")
                    .is_some_and(|s| spec.resolve(s).get("example").is_some())
        })
    };
    if let Some(body) = op.value.get("requestBody") {
        let media = spec.resolve(body).pointer("/content/application~1json");
        if !has_example(media) {
            findings.push(
                "example-present",
                format!("{}.requestBody", op.location()),
                "the request body has no example (on the media type or its schema)",
            );
        }
    }
    let responses = op.value.get("responses").and_then(Value::as_object);
    for (code, response) in responses.into_iter().flatten() {
        if !code.starts_with('2') {
            continue;
        }
        let media = spec.resolve(response).pointer("/content/application~1json");
        if media.is_some() && !has_example(media) {
            findings.push(
                "example-present",
                format!("{}.responses.{code}", op.location()),
                "the response has no example (on the media type or its schema)",
            );
        }
    }
}

/// Calls `visit` on a schema and each schema nested in it, with its location.
pub(crate) fn walk_schema<'a>(
    schema: &'a Value,
    location: &str,
    visit: &mut dyn FnMut(&'a Value, &str),
) {
    visit(schema, location);
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            walk_schema(prop, &format!("{location}.properties.{name}"), visit);
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(inner) = schema.get(key).filter(|v| v.is_object()) {
            walk_schema(inner, &format!("{location}.{key}"), visit);
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for (i, inner) in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            walk_schema(inner, &format!("{location}.{key}[{i}]"), visit);
        }
    }
}

/// The schemas of responses (success and error): the inline ones with their locations, and the
/// names of the component schemas they reach.
fn response_schemas(spec: &Spec) -> (Vec<(&Value, String)>, Vec<String>) {
    let mut inline = Vec::new();
    let mut queue: Vec<String> = Vec::new();
    for body in bodies(spec).into_iter().filter(|b| b.response) {
        for (schema, location) in body.schemas() {
            if schema.get("$ref").is_none() {
                inline.push((schema, location));
            }
            walk_schema(schema, "", &mut |s, _| {
                if let Some(name) = crate::spec::schema_ref_name(s) {
                    queue.push(name.to_string());
                }
            });
        }
    }
    let mut seen = HashSet::new();
    let mut ordered = Vec::new();
    while let Some(name) = queue.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = spec.schemas().and_then(|s| s.get(&name)) {
            walk_schema(schema, "", &mut |s, _| {
                if let Some(inner) = crate::spec::schema_ref_name(s) {
                    queue.push(inner.to_string());
                }
            });
        }
        ordered.push(name);
    }
    ordered.sort();
    (inline, ordered)
}

fn response_additional_properties(spec: &Spec, findings: &mut Findings) {
    let (inline, names) = response_schemas(spec);
    let components = names.iter().filter_map(|name| {
        let schema = spec.schemas()?.get(name)?;
        Some((schema, format!("components.schemas.{name}")))
    });
    for (schema, location) in components.chain(inline) {
        walk_schema(schema, &location, &mut |s, loc| {
            if s.get("additionalProperties") == Some(&Value::Bool(false)) {
                findings.push(
                    "response-additional-properties",
                    format!("{loc}.additionalProperties"),
                    "`additionalProperties: false` on a response schema would reject fields the server adds later",
                );
            }
        });
    }
}

/// A property is described by its own text, or by the schema its `$ref` (or single `allOf`)
/// points at.
fn property_described(spec: &Spec, prop: &Value) -> bool {
    if has_text(prop, "description") {
        return true;
    }
    let target = match prop.get("allOf").and_then(Value::as_array) {
        Some(parts) if parts.len() == 1 => &parts[0],
        _ => prop,
    };
    target.get("$ref").is_some() && has_text(spec.resolve(target), "description")
}

fn properties_described(spec: &Spec, findings: &mut Findings) {
    let mut check = |schema: &Value, location: String| {
        walk_schema(schema, &location, &mut |s, loc| {
            for (name, prop) in s
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if !property_described(spec, prop) {
                    findings.push(
                        "described",
                        format!("{loc}.properties.{name}"),
                        "property has no description",
                    );
                }
            }
        });
    };
    for (name, schema) in spec.schemas().into_iter().flatten() {
        check(schema, format!("components.schemas.{name}"));
    }
    // Inline schemas of request bodies, responses and parameters (a `$ref` one is a component,
    // checked above).
    let bodies = bodies(spec);
    let body_schemas = bodies.iter().flat_map(|b| b.schemas());
    let param_schemas = parameters_located(spec)
        .into_iter()
        .filter_map(|(p, loc)| Some((p.get("schema")?, format!("{loc}.schema"))));
    for (schema, location) in body_schemas.chain(param_schemas) {
        if schema.get("$ref").is_none() {
            check(schema, location);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_ids() {
        assert!(is_snake_case("list_webhook_apps"));
        assert!(is_snake_case("get_v2_thing"));
        assert!(!is_snake_case("listWebhookApps"));
        assert!(!is_snake_case("list__apps"));
        assert!(!is_snake_case("_list"));
        assert!(!is_snake_case("List_apps"));
    }
}

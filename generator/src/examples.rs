//! Validation of a spec's examples against their schemas.
//!
//! OpenAPI 3.0 schemas are close to JSON Schema draft 7 but not equal (`nullable`, `example`,
//! references into `components`), so each schema is translated before a real JSON Schema
//! validator checks the example.

#[cfg(feature = "check")]
use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

#[cfg(feature = "check")]
use crate::lint::{Findings, bodies, parameters_located, walk_schema};
#[cfg(feature = "check")]
use crate::spec::Spec;

/// Keywords of OpenAPI's schema object that JSON Schema does not know or must not see.
const OPENAPI_ONLY: [&str; 8] = [
    "nullable",
    "example",
    "discriminator",
    "xml",
    "externalDocs",
    "deprecated",
    "readOnly",
    "writeOnly",
];

/// Translates an OpenAPI 3.0 schema object into JSON Schema draft 7.
pub fn to_json_schema(schema: &Value) -> Value {
    let Some(object) = schema.as_object() else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in object {
        if OPENAPI_ONLY.contains(&key.as_str()) || key.starts_with("x-") {
            continue;
        }
        let translated = match key.as_str() {
            "$ref" => Value::String(
                value
                    .as_str()
                    .unwrap_or_default()
                    .replace("#/components/schemas/", "#/definitions/"),
            ),
            "properties" => Value::Object(
                value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), to_json_schema(v)))
                    .collect(),
            ),
            "items" | "not" | "additionalProperties" if value.is_object() => to_json_schema(value),
            "allOf" | "oneOf" | "anyOf" => Value::Array(
                value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(to_json_schema)
                    .collect(),
            ),
            _ => value.clone(),
        };
        out.insert(key.clone(), translated);
    }
    if schema.get("nullable") == Some(&Value::Bool(true)) {
        return make_nullable(out);
    }
    Value::Object(out)
}

fn make_nullable(mut schema: Map<String, Value>) -> Value {
    if let Some(Value::Array(values)) = schema.get_mut("enum") {
        values.push(Value::Null);
    }
    match schema.get("type").cloned() {
        Some(Value::String(t)) => {
            schema.insert("type".into(), json!([t, "null"]));
            Value::Object(schema)
        }
        Some(_) => Value::Object(schema),
        // Without a `type` the schema is a composition or a reference: allow null beside it.
        None => json!({"anyOf": [Value::Object(schema), {"type": "null"}]}),
    }
}

/// Checks every example of a spec, caching one compiled validator per schema.
#[cfg(feature = "check")]
pub(crate) struct ExampleChecker<'a> {
    spec: &'a Spec,
    definitions: Value,
    validators: HashMap<String, Result<jsonschema::Validator, String>>,
}

#[cfg(feature = "check")]
impl<'a> ExampleChecker<'a> {
    pub(crate) fn new(spec: &'a Spec) -> Self {
        let definitions = spec
            .schemas()
            .map(|schemas| {
                schemas
                    .iter()
                    .map(|(name, schema)| (name.clone(), to_json_schema(schema)))
                    .collect::<Map<_, _>>()
            })
            .unwrap_or_default();
        ExampleChecker {
            spec,
            definitions: Value::Object(definitions),
            validators: HashMap::new(),
        }
    }

    /// Checks the examples on component schemas (and their nested properties), parameters, request
    /// bodies and responses, each once, at the location where it is written.
    pub(crate) fn check_all(&mut self, findings: &mut Findings) {
        let spec = self.spec;
        for (name, schema) in spec.schemas().into_iter().flatten() {
            self.check_schema_examples(schema, &format!("components.schemas.{name}"), findings);
        }
        let components = spec
            .raw
            .pointer("/components/parameters")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, param)| (param, format!("components.parameters.{name}")));
        let mut seen = HashSet::new();
        for (param, location) in components.chain(parameters_located(spec)) {
            if seen.insert(location.clone()) {
                self.check_parameter(param, &location, findings);
            }
        }
        for body in bodies(spec) {
            let media = body.value.pointer("/content/application~1json");
            self.check_media(media, &body.location, findings);
        }
    }

    /// Checks the `example` of a schema and of every schema nested in it; a `$ref` schema is a
    /// component, checked on its own.
    fn check_schema_examples(&mut self, schema: &Value, location: &str, findings: &mut Findings) {
        if schema.get("$ref").is_some() {
            return;
        }
        let mut pairs = Vec::new();
        walk_schema(schema, location, &mut |s, loc| {
            if let Some(example) = s.get("example") {
                pairs.push((s, example, format!("{loc}.example")));
            }
        });
        for (schema, example, location) in pairs {
            self.check(schema, example, &location, findings);
        }
    }

    /// Checks the `example` and `examples.*.value` of a named thing with a schema (a parameter or
    /// a media type) against that schema.
    fn check_examples(
        &mut self,
        holder: &Value,
        schema: &Value,
        location: &str,
        findings: &mut Findings,
    ) {
        if let Some(example) = holder.get("example") {
            self.check(schema, example, &format!("{location}.example"), findings);
        }
        for (name, example) in holder
            .get("examples")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let example = self.spec.resolve(example);
            if let Some(value) = example.get("value") {
                let loc = format!("{location}.examples.{name}.value");
                self.check(schema, value, &loc, findings);
            }
        }
    }

    fn check_parameter(&mut self, param: &Value, location: &str, findings: &mut Findings) {
        let Some(schema) = param.get("schema") else {
            return;
        };
        self.check_schema_examples(schema, &format!("{location}.schema"), findings);
        self.check_examples(param, schema, location, findings);
    }

    fn check_media(&mut self, media: Option<&Value>, location: &str, findings: &mut Findings) {
        let Some(media) = media else { return };
        let Some(schema) = media.get("schema") else {
            return;
        };
        let location = format!("{location}.content.application/json");
        self.check_schema_examples(schema, &format!("{location}.schema"), findings);
        self.check_examples(media, schema, &location, findings);
    }

    fn check(&mut self, schema: &Value, example: &Value, location: &str, findings: &mut Findings) {
        let key = schema.to_string();
        if !self.validators.contains_key(&key) {
            let validator = self.compile(schema);
            self.validators.insert(key.clone(), validator);
        }
        match &self.validators[&key] {
            Ok(validator) => {
                for error in validator.iter_errors(example) {
                    let at = error.instance_path().to_string();
                    let at = if at.is_empty() { "/".to_string() } else { at };
                    findings.push(
                        "example-valid",
                        location,
                        format!("example does not match its schema at {at}: {error}"),
                    );
                }
            }
            Err(message) => findings.push(
                "example-valid",
                location,
                format!("the schema cannot be compiled to check the example: {message}"),
            ),
        }
    }

    fn compile(&self, schema: &Value) -> Result<jsonschema::Validator, String> {
        let mut root = to_json_schema(schema);
        if let Value::Object(map) = &mut root {
            map.insert("definitions".into(), self.definitions.clone());
        } else {
            root = json!({"definitions": self.definitions, "allOf": [root]});
        }
        jsonschema::draft7::options()
            .should_validate_formats(true)
            .build(&root)
            .map_err(|err| err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_types_admit_null() {
        let schema = to_json_schema(&json!({"type": "string", "nullable": true, "example": "x"}));
        assert_eq!(schema, json!({"type": ["string", "null"]}));
    }

    #[test]
    fn nullable_references_become_any_of() {
        let schema = to_json_schema(&json!({
            "allOf": [{"$ref": "#/components/schemas/A"}],
            "nullable": true
        }));
        assert_eq!(
            schema,
            json!({"anyOf": [{"allOf": [{"$ref": "#/definitions/A"}]}, {"type": "null"}]})
        );
    }

    #[test]
    fn nullable_enums_list_null() {
        let schema = to_json_schema(&json!({"type": "string", "enum": ["a"], "nullable": true}));
        assert_eq!(
            schema,
            json!({"type": ["string", "null"], "enum": ["a", null]})
        );
    }
}

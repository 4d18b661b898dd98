//! Loading an OpenAPI document and walking its raw JSON form.
//!
//! Two views of the same document are kept: the raw JSON value, which preserves every key (vendor
//! extensions, `example`s, key order) and lets findings name exact locations, and the typed
//! [`openapiv3::OpenAPI`] that progenitor consumes.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::Error;

/// HTTP methods an OpenAPI path item may hold, in the order the generator visits them.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A loaded OpenAPI document.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Where the document was read from (used in messages).
    pub source: PathBuf,
    /// The document as JSON, key order preserved.
    pub raw: Value,
}

/// One operation of the document, with the location of its object.
#[derive(Debug, Clone, Copy)]
pub struct Operation<'a> {
    /// The path template, e.g. `/webhooks/apps/{app_slug}`.
    pub path: &'a str,
    /// The lower-case HTTP method.
    pub method: &'a str,
    /// The operation object.
    pub value: &'a Value,
    /// Parameters declared on the path item, shared by its operations.
    pub path_item_parameters: &'a [Value],
}

impl<'a> Operation<'a> {
    /// Where this operation sits in the document, e.g. `paths./webhooks/apps.post`.
    pub fn location(&self) -> String {
        format!("paths.{}.{}", self.path, self.method)
    }

    /// The `operationId`, if present.
    pub fn id(&self) -> Option<&'a str> {
        self.value.get("operationId").and_then(Value::as_str)
    }
}

impl Spec {
    /// The document with two forms written for other languages' generators read back as the
    /// forms the Rust generator and `diff` work with: a nullable reference
    /// `oneOf: [{$ref: T}, {$ref: JsonNull}]` becomes `type: object, nullable: true, allOf: [{$ref: T}]`,
    /// and an open enum's `anyOf: [{type: string, enum}, {type: string}]` becomes its
    /// `type: string, enum`. The `JsonNull` schema itself is dropped (nothing refers to it any more).
    pub fn canonical(&self) -> Spec {
        fn walk(value: &mut Value) {
            match value {
                Value::Object(map) => {
                    nullable_reference(map);
                    if let Some(values) = open_enum_values(map).cloned() {
                        map.remove("anyOf");
                        map.insert("type".into(), Value::from("string"));
                        map.insert("enum".into(), values);
                    }
                    map.values_mut().for_each(walk);
                }
                Value::Array(items) => items.iter_mut().for_each(walk),
                _ => {}
            }
        }
        let mut raw = self.raw.clone();
        walk(&mut raw);
        if let Some(schemas) = raw
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
        {
            schemas.remove(NULL_SCHEMA_NAME);
        }
        Spec {
            source: self.source.clone(),
            raw,
        }
    }

    /// Reads and parses a YAML (or JSON) OpenAPI document.
    pub fn load(path: impl AsRef<Path>) -> Result<Spec, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Spec::parse(path, &text)
    }

    /// Parses a YAML (or JSON) OpenAPI document held in memory; `source` names it in messages.
    pub fn parse(source: impl AsRef<Path>, text: &str) -> Result<Spec, Error> {
        let source = source.as_ref().to_path_buf();
        let raw: Value = serde_yaml::from_str(text).map_err(|err| Error::Syntax {
            path: source.clone(),
            message: err.to_string(),
        })?;
        if !raw.is_object() {
            return Err(Error::Syntax {
                path: source,
                message: "the document is not a mapping".into(),
            });
        }
        Ok(Spec { source, raw })
    }

    /// The typed view that progenitor consumes.
    pub fn openapi(&self) -> Result<openapiv3::OpenAPI, Error> {
        serde_json::from_value(self.raw.clone()).map_err(|err| Error::Structure {
            path: self.source.clone(),
            message: err.to_string(),
        })
    }

    /// Every operation, in document order.
    pub fn operations(&self) -> Vec<Operation<'_>> {
        let Some(paths) = self.raw.get("paths").and_then(Value::as_object) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (path, item) in paths {
            let shared = item
                .get("parameters")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            for method in METHODS {
                if let Some(value) = item.get(method) {
                    out.push(Operation {
                        path,
                        method,
                        value,
                        path_item_parameters: shared,
                    });
                }
            }
        }
        out
    }

    /// Follows a local `$ref` (`#/components/...`) to its target, repeatedly.
    pub fn resolve<'a>(&'a self, mut value: &'a Value) -> &'a Value {
        for _ in 0..32 {
            match value.get("$ref").and_then(Value::as_str) {
                Some(reference) => match self.pointer(reference) {
                    Some(target) => value = target,
                    None => return value,
                },
                None => return value,
            }
        }
        value
    }

    /// Follows a local `$ref` like [`Spec::resolve`], and says where the target sits: `location`
    /// when `value` is not a reference, else the target's own location (e.g.
    /// `components.parameters.AppSlug`), so that findings name the spot to edit.
    pub fn resolve_located<'a>(
        &'a self,
        value: &'a Value,
        location: String,
    ) -> (&'a Value, String) {
        let mut value = value;
        let mut location = location;
        for _ in 0..32 {
            let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
                break;
            };
            match (self.pointer(reference), ref_location(reference)) {
                (Some(target), Some(at)) => {
                    value = target;
                    location = at;
                }
                _ => break,
            }
        }
        (value, location)
    }

    /// The value a local reference (`#/a/b`) points at.
    pub fn pointer(&self, reference: &str) -> Option<&Value> {
        reference
            .strip_prefix('#')
            .and_then(|pointer| self.raw.pointer(pointer))
    }

    /// The component schemas, by name.
    pub fn schemas(&self) -> Option<&serde_json::Map<String, Value>> {
        self.raw
            .pointer("/components/schemas")
            .and_then(Value::as_object)
    }

    /// The parameters of an operation (path-item ones first), resolved.
    pub fn parameters<'a>(&'a self, op: &Operation<'a>) -> Vec<&'a Value> {
        let own = op
            .value
            .get("parameters")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        op.path_item_parameters
            .iter()
            .chain(own)
            .map(|p| self.resolve(p))
            .collect()
    }

    /// The schema of the operation's `application/json` request body, unresolved.
    pub fn request_schema<'a>(&'a self, op: &Operation<'a>) -> Option<&'a Value> {
        let body = self.resolve(op.value.get("requestBody")?);
        body.pointer("/content/application~1json/schema")
    }

    /// The schema of the operation's 2XX JSON response, unresolved.
    pub fn success_schema<'a>(&'a self, op: &Operation<'a>) -> Option<&'a Value> {
        let responses = op.value.get("responses")?.as_object()?;
        responses
            .iter()
            .find(|(code, _)| code.starts_with('2'))
            .and_then(|(_, response)| {
                self.resolve(response)
                    .pointer("/content/application~1json/schema")
            })
    }
}

/// The location of a local reference's target in findings' terms: `#/components/parameters/AppSlug`
/// → `components.parameters.AppSlug`.
pub fn ref_location(reference: &str) -> Option<String> {
    let pointer = reference.strip_prefix("#/")?;
    Some(
        pointer
            .split('/')
            .map(|part| part.replace("~1", "/").replace("~0", "~"))
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// The component name a `$ref` of the form `#/components/schemas/Name` points at.
pub fn schema_ref_name(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
}

/// Splits a snake_case identifier and joins it in PascalCase.
pub fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The schema of the JSON value null: the second member of a nullable reference's `oneOf`.
pub const NULL_SCHEMA_NAME: &str = "JsonNull";

/// Rewrites `oneOf: [{$ref: T}, {$ref: JsonNull}]` into `type: object, nullable: true, allOf: [{$ref: T}]`.
fn nullable_reference(map: &mut serde_json::Map<String, Value>) {
    let Some(Value::Array(members)) = map.get("oneOf") else {
        return;
    };
    let is_null = |m: &Value| schema_ref_name(m) == Some(NULL_SCHEMA_NAME);
    let target = match members.as_slice() {
        [first, second] if is_null(second) && !is_null(first) => first.clone(),
        [first, second] if is_null(first) && !is_null(second) => second.clone(),
        _ => return,
    };
    map.remove("oneOf");
    map.insert("type".into(), Value::from("object"));
    map.insert("nullable".into(), Value::Bool(true));
    map.insert("allOf".into(), Value::Array(vec![target]));
}

/// The known values of an open enum (`x-open-enum: true`): its `enum`, or the `enum` of a member of
/// `anyOf: [{type: string, enum}, {type: string}]`.
pub fn open_enum_values(schema: &serde_json::Map<String, Value>) -> Option<&Value> {
    if schema.get("x-open-enum") != Some(&Value::Bool(true)) {
        return None;
    }
    schema.get("enum").or_else(|| {
        schema
            .get("anyOf")?
            .as_array()?
            .iter()
            .find_map(|member| member.get("enum"))
    })
}

/// The names an object schema lists under `required` (none when it lists nothing).
pub(crate) fn required_properties(schema: &Value) -> std::collections::BTreeSet<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pascal_case_joins_words() {
        assert_eq!(pascal_case("list_webhook_apps"), "ListWebhookApps");
        assert_eq!(pascal_case("a__b_"), "AB");
    }

    #[test]
    fn reference_locations_unescape_pointers() {
        assert_eq!(
            ref_location("#/components/parameters/AppSlug").as_deref(),
            Some("components.parameters.AppSlug")
        );
        assert_eq!(
            ref_location("#/paths/~1apps~1{id}/get").as_deref(),
            Some("paths./apps/{id}.get")
        );
        assert_eq!(ref_location("other.yaml#/A"), None);
    }

    #[test]
    fn resolve_follows_chains_and_stops_on_cycles() {
        let spec = Spec::parse(
            "t.yaml",
            "components:\n  schemas:\n    A: {$ref: '#/components/schemas/B'}\n    B: {type: string}\n    C: {$ref: '#/components/schemas/C'}\n",
        )
        .unwrap();
        let a = serde_json::json!({"$ref": "#/components/schemas/A"});
        assert_eq!(spec.resolve(&a), &serde_json::json!({"type": "string"}));
        let c = serde_json::json!({"$ref": "#/components/schemas/C"});
        assert!(spec.resolve(&c).get("$ref").is_some());
    }

    #[test]
    fn canonical_form_reads_nullable_references_and_open_enums_back() {
        let raw = serde_json::json!({
            "components": {"schemas": {
                "JsonNull": {"type": "object", "nullable": true, "enum": [null]},
                "State": {"x-open-enum": true, "anyOf": [
                    {"type": "string", "enum": ["a", "b"]}, {"type": "string"}
                ]},
                "Item": {"type": "object", "properties": {
                    "limit": {"oneOf": [
                        {"$ref": "#/components/schemas/Limit"},
                        {"$ref": "#/components/schemas/JsonNull"}
                    ]},
                    "either": {"oneOf": [
                        {"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/B"}
                    ]}
                }}
            }}
        });
        let spec = Spec {
            source: "t.yaml".into(),
            raw: raw.clone(),
        }
        .canonical();
        let schemas = &spec.raw["components"]["schemas"];
        assert!(schemas.get("JsonNull").is_none());
        assert_eq!(schemas["State"]["enum"], serde_json::json!(["a", "b"]));
        assert_eq!(schemas["State"]["type"], "string");
        assert!(schemas["State"].get("anyOf").is_none());
        let limit = &schemas["Item"]["properties"]["limit"];
        assert_eq!(limit["nullable"], true);
        assert_eq!(limit["allOf"][0]["$ref"], "#/components/schemas/Limit");
        assert_eq!(
            schemas["Item"]["properties"]["either"],
            raw["components"]["schemas"]["Item"]["properties"]["either"],
            "a oneOf without JsonNull stays"
        );
    }
}

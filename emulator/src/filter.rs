//! `filter_rules`: validation at endpoint create/update and evaluation against a trigger's payload.
//!
//! A rule object matches when all of its keys match. `$and`/`$or` take non-empty arrays of rule
//! objects; any other key is a dotted path into the payload mapping to a plain value (equality) or to
//! an object of operators.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::behaviour::Behaviour;

/// The operators a path may map to.
const OPERATORS: [&str; 10] = [
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$contains",
    "$exists",
];

/// Checks that `rules` is a well-formed rule object; with an event schema that has `properties`,
/// every path must also exist in it. The error is the 400 message.
pub fn validate(rules: &Value, schema: Option<&Value>) -> Result<(), String> {
    let object = rules
        .as_object()
        .ok_or_else(|| "filter_rules must be an object".to_string())?;
    let properties = schema
        .and_then(|s| s.get("properties"))
        .filter(|p| p.is_object());
    validate_object(object, schema.filter(|_| properties.is_some()))
}

fn validate_object(rules: &Map<String, Value>, schema: Option<&Value>) -> Result<(), String> {
    for (key, value) in rules {
        match key.as_str() {
            "$and" | "$or" => validate_group(key, value, schema)?,
            k if k.starts_with('$') => return Err(format!("Unknown filter operator '{k}'")),
            path => validate_path(path, value, schema)?,
        }
    }
    Ok(())
}

fn validate_group(key: &str, value: &Value, schema: Option<&Value>) -> Result<(), String> {
    let items = value
        .as_array()
        .filter(|items| !items.is_empty())
        .ok_or_else(|| format!("'{key}' must be a non-empty array of rule objects"))?;
    for item in items {
        let object = item
            .as_object()
            .ok_or_else(|| format!("'{key}' must be a non-empty array of rule objects"))?;
        validate_object(object, schema)?;
    }
    Ok(())
}

fn validate_path(path: &str, value: &Value, schema: Option<&Value>) -> Result<(), String> {
    if path.split('.').any(str::is_empty) {
        return Err(format!("Invalid filter path '{path}'"));
    }
    if let Some(schema) = schema
        && !path_in_schema(schema, path)
    {
        return Err(format!("Filter path '{path}' is not in the event schema"));
    }
    match operator_object(value) {
        Some(operators) => operators
            .iter()
            .try_for_each(|(op, operand)| validate_operator(op, operand)),
        None if has_operator_keys(value) => Err(format!(
            "Filter on '{path}' mixes operators with plain fields"
        )),
        None => Ok(()),
    }
}

fn validate_operator(op: &str, operand: &Value) -> Result<(), String> {
    match op {
        "$in" | "$nin" if !operand.is_array() => Err(format!("'{op}' takes an array")),
        "$exists" if !operand.is_boolean() => Err("'$exists' takes a boolean".to_string()),
        _ if !OPERATORS.contains(&op) => Err(format!("Unknown filter operator '{op}'")),
        _ => Ok(()),
    }
}

/// Follows the path through nested `properties`; a level without `properties` accepts anything below.
fn path_in_schema(schema: &Value, path: &str) -> bool {
    let mut node = schema;
    for segment in path.split('.') {
        let Some(properties) = node.get("properties").and_then(Value::as_object) else {
            return true;
        };
        match properties.get(segment) {
            Some(child) => node = child,
            None => return false,
        }
    }
    true
}

/// The value as an operator object: a non-empty object whose keys all start with `$`.
fn operator_object(value: &Value) -> Option<&Map<String, Value>> {
    value
        .as_object()
        .filter(|o| !o.is_empty() && o.keys().all(|k| k.starts_with('$')))
}

fn has_operator_keys(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|o| o.keys().any(|k| k.starts_with('$')))
}

/// Whether `payload` satisfies `rules` (`null` and `{}` match everything).
///
/// In production behaviour string `$gte` / `$lte` compare strictly (like `$gt` / `$lt`), as the
/// production service does; numbers are unaffected.
pub fn matches(rules: &Value, payload: &Value, behaviour: Behaviour) -> bool {
    let bounds = if behaviour.is_production() {
        StringBounds::Strict
    } else {
        StringBounds::Inclusive
    };
    match rules {
        Value::Object(object) => object_matches(object, payload, bounds),
        Value::Null => true,
        _ => false,
    }
}

/// How string `$gte` / `$lte` treat equal strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StringBounds {
    /// As written: equal strings satisfy them.
    Inclusive,
    /// Production: equal strings do not.
    Strict,
}

fn object_matches(rules: &Map<String, Value>, payload: &Value, bounds: StringBounds) -> bool {
    rules.iter().all(|(key, value)| match key.as_str() {
        "$and" => group_items(value).all(|r| object_matches(r, payload, bounds)),
        "$or" => group_items(value).any(|r| object_matches(r, payload, bounds)),
        path => path_matches(lookup(payload, path), value, bounds),
    })
}

fn group_items(value: &Value) -> impl Iterator<Item = &Map<String, Value>> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

/// The value at a dotted path (objects only, no array indexing).
fn lookup<'a>(payload: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(payload, |node, segment| node.as_object()?.get(segment))
}

fn path_matches(found: Option<&Value>, expected: &Value, bounds: StringBounds) -> bool {
    match operator_object(expected) {
        Some(operators) => operators
            .iter()
            .all(|(op, operand)| operator_matches(op, found, operand, bounds)),
        None => found.is_some_and(|v| values_equal(v, expected)),
    }
}

fn operator_matches(
    op: &str,
    found: Option<&Value>,
    operand: &Value,
    bounds: StringBounds,
) -> bool {
    if op == "$exists" {
        return operand.as_bool() == Some(found.is_some());
    }
    // A missing path fails every other operator, `$ne` and `$nin` included.
    let Some(value) = found else {
        return false;
    };
    let strict = bounds == StringBounds::Strict && value.is_string();
    match op {
        "$eq" => values_equal(value, operand),
        "$ne" => !values_equal(value, operand),
        "$gt" => compare(value, operand) == Some(Ordering::Greater),
        "$gte" if strict => compare(value, operand) == Some(Ordering::Greater),
        "$gte" => matches!(
            compare(value, operand),
            Some(Ordering::Greater | Ordering::Equal)
        ),
        "$lt" => compare(value, operand) == Some(Ordering::Less),
        "$lte" if strict => compare(value, operand) == Some(Ordering::Less),
        "$lte" => matches!(
            compare(value, operand),
            Some(Ordering::Less | Ordering::Equal)
        ),
        "$in" => array_contains(operand, value),
        "$nin" => operand.is_array() && !array_contains(operand, value),
        "$contains" => contains(value, operand),
        _ => false,
    }
}

fn array_contains(array: &Value, value: &Value) -> bool {
    array
        .as_array()
        .is_some_and(|items| items.iter().any(|item| values_equal(item, value)))
}

fn contains(haystack: &Value, needle: &Value) -> bool {
    match (haystack, needle) {
        (Value::Array(items), _) => items.iter().any(|item| values_equal(item, needle)),
        (Value::String(text), Value::String(part)) => text.contains(part.as_str()),
        _ => false,
    }
}

/// Numbers with numbers, strings with strings (lexicographically); anything else is incomparable.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn compare_numbers(x: &serde_json::Number, y: &serde_json::Number) -> Option<Ordering> {
    match (x.as_i64(), y.as_i64()) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => x.as_f64()?.partial_cmp(&y.as_f64()?),
    }
}

/// JSON equality where numbers compare by value (`1` equals `1.0`).
fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y) == Some(Ordering::Equal),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| values_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(rules: Value, payload: Value) -> bool {
        validate(&rules, None).unwrap();
        matches(&rules, &payload, Behaviour::Documented)
    }

    fn production(rules: Value, payload: Value) -> bool {
        validate(&rules, None).unwrap();
        matches(&rules, &payload, Behaviour::Production)
    }

    #[test]
    fn empty_rules_match_everything() {
        assert!(m(json!({}), json!({"a": 1})));
        assert!(matches(&Value::Null, &json!(null), Behaviour::Production));
    }

    #[test]
    fn plain_values_are_equality_on_dotted_paths() {
        let payload = json!({"order": {"status": "paid", "total": 10}});
        assert!(m(json!({"order.status": "paid"}), payload.clone()));
        assert!(m(json!({"order.total": 10.0}), payload.clone()));
        assert!(!m(json!({"order.status": "open"}), payload.clone()));
        assert!(!m(
            json!({"order.status": "paid", "order.total": 11}),
            payload
        ));
    }

    #[test]
    fn comparison_operators() {
        let p = json!({"n": 5, "s": "m"});
        assert!(m(json!({"n": {"$gt": 4, "$lt": 6}}), p.clone()));
        assert!(m(json!({"n": {"$gte": 5, "$lte": 5}}), p.clone()));
        assert!(!m(json!({"n": {"$gt": 5}}), p.clone()));
        assert!(m(json!({"s": {"$gte": "m", "$lte": "m"}}), p.clone()));
        assert!(m(json!({"s": {"$gt": "a"}}), p.clone()));
        // Numbers never compare with strings.
        assert!(!m(json!({"n": {"$gt": "1"}}), p.clone()));
        assert!(!m(json!({"n": {"$eq": "5"}}), p.clone()));
        assert!(m(json!({"n": {"$ne": "5"}}), p));
    }

    #[test]
    fn production_string_bounds_are_strict() {
        let p = json!({"n": 5, "s": "m"});
        assert!(!production(json!({"s": {"$gte": "m"}}), p.clone()));
        assert!(!production(json!({"s": {"$lte": "m"}}), p.clone()));
        assert!(production(
            json!({"s": {"$gte": "a", "$lte": "z"}}),
            p.clone()
        ));
        assert!(m(json!({"s": {"$gte": "m", "$lte": "m"}}), p.clone()));
        // Numbers keep inclusive bounds.
        assert!(production(json!({"n": {"$gte": 5, "$lte": 5}}), p));
    }

    #[test]
    fn membership_and_contains() {
        let p = json!({"tier": "gold", "tags": ["a", "b"], "name": "Alice"});
        assert!(m(json!({"tier": {"$in": ["gold", "silver"]}}), p.clone()));
        assert!(!m(json!({"tier": {"$nin": ["gold"]}}), p.clone()));
        assert!(m(json!({"tags": {"$contains": "b"}}), p.clone()));
        assert!(!m(json!({"tags": {"$contains": "c"}}), p.clone()));
        assert!(m(json!({"name": {"$contains": "lic"}}), p.clone()));
        assert!(!m(json!({"name": {"$contains": "LIC"}}), p));
    }

    #[test]
    fn missing_paths_fail_everything_but_exists_false() {
        let p = json!({"a": 1});
        assert!(!m(json!({"b": {"$ne": 1}}), p.clone()));
        assert!(!m(json!({"b": {"$nin": [1]}}), p.clone()));
        assert!(m(json!({"b": {"$exists": false}}), p.clone()));
        assert!(!m(json!({"a": {"$exists": false}}), p.clone()));
        assert!(m(json!({"a": {"$exists": true}}), p.clone()));
        // Arrays are not indexed by paths.
        assert!(!m(json!({"list.0": 1}), json!({"list": [1]})));
    }

    #[test]
    fn and_or_groups() {
        let p = json!({"a": 1, "b": 2});
        assert!(m(json!({"$or": [{"a": 2}, {"b": 2}]}), p.clone()));
        assert!(!m(json!({"$and": [{"a": 1}, {"b": 3}]}), p.clone()));
        assert!(m(json!({"$and": [{"a": 1}, {"$or": [{"b": 2}]}]}), p));
    }

    #[test]
    fn validation_rejects_bad_rules() {
        for bad in [
            json!({"a": {"$regex": "x"}}),
            json!({"$not": [{"a": 1}]}),
            json!({"$or": []}),
            json!({"$and": {"a": 1}}),
            json!({"a": {"$in": 1}}),
            json!({"a": {"$exists": "yes"}}),
            json!({"a": {"$eq": 1, "b": 2}}),
            json!({"a..b": 1}),
            json!([1]),
        ] {
            assert!(validate(&bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn validation_checks_paths_against_the_schema() {
        let schema = json!({"type": "object", "properties": {
            "order": {"type": "object", "properties": {"status": {"type": "string"}}},
            "meta": {"type": "object"}
        }});
        assert!(validate(&json!({"order.status": "x"}), Some(&schema)).is_ok());
        assert!(validate(&json!({"meta.anything": 1}), Some(&schema)).is_ok());
        assert!(validate(&json!({"order.total": 1}), Some(&schema)).is_err());
        assert!(validate(&json!({"$or": [{"nope": 1}]}), Some(&schema)).is_err());
        // A schema without properties constrains nothing.
        assert!(validate(&json!({"x": 1}), Some(&json!({"type": "object"}))).is_ok());
    }
}

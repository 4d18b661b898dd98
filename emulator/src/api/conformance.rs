//! Response validation for test builds: every answer to an operation of the spec is checked
//! against the spec's schema for that operation and status, and a violation is turned into a 500
//! whose message names the operation, the status and the violation, so that any test that sees
//! it fails.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::ApiError;
use crate::spec::{RESPONSE_SCHEMAS, SCHEMA_DEFINITIONS, operation};

type Validators = HashMap<(&'static str, &'static str), Result<jsonschema::Validator, String>>;

fn validators() -> &'static Validators {
    static VALIDATORS: OnceLock<Validators> = OnceLock::new();
    VALIDATORS.get_or_init(|| {
        let definitions: Value =
            serde_json::from_str(SCHEMA_DEFINITIONS).expect("generated definitions are JSON");
        RESPONSE_SCHEMAS
            .iter()
            .map(|(op, status, schema)| {
                let compiled = serde_json::from_str::<Value>(schema)
                    .map_err(|err| err.to_string())
                    .and_then(|mut root| {
                        if let Value::Object(map) = &mut root {
                            map.insert("definitions".into(), definitions.clone());
                        }
                        jsonschema::draft7::options()
                            .should_validate_formats(true)
                            .build(&root)
                            .map_err(|err| err.to_string())
                    });
                ((*op, *status), compiled)
            })
            .collect()
    })
}

/// The validator for `op` answering `status`: the exact code's, else its range's (`4XX`).
fn validator(
    op: &str,
    status: StatusCode,
) -> Option<&'static Result<jsonschema::Validator, String>> {
    let code = status.as_str();
    let range = format!("{}XX", &code[..1]);
    validators()
        .iter()
        .find(|((o, s), _)| *o == op && *s == code)
        .or_else(|| {
            validators()
                .iter()
                .find(|((o, s), _)| *o == op && *s == range)
        })
        .map(|(_, v)| v)
}

/// Checks a response body; the violation as a sentence, if any.
fn check(op: &str, status: StatusCode, body: &[u8]) -> Result<(), String> {
    let Some(validator) = validator(op, status) else {
        return Err(format!("the spec has no response {status} for {op}"));
    };
    let validator = validator
        .as_ref()
        .map_err(|err| format!("the schema of {op} {status} does not compile: {err}"))?;
    let instance: Value = serde_json::from_slice(body)
        .map_err(|err| format!("response of {op} ({status}) is not JSON: {err}"))?;
    validator.validate(&instance).map_err(|err| {
        format!(
            "response of {op} ({status}) violates the spec at '{}': {err}",
            err.instance_path()
        )
    })
}

/// The middleware: validates the answer to every matched operation.
pub async fn validate(request: Request, next: Next) -> Response {
    let op = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|path| operation(request.method().as_str(), path.as_str()))
        .map(|op| op.id);
    let response = next.run(request).await;
    let Some(op) = op else {
        return response;
    };
    let status = response.status();
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(err) => return violation(format!("response of {op} cannot be read: {err}")),
    };
    match check(op, status, &bytes) {
        Ok(()) => Response::from_parts(parts, Body::from(bytes)),
        Err(message) => {
            tracing::error!(%message, "response violates the spec");
            violation(message)
        }
    }
}

fn violation(message: String) -> Response {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_response_schema_of_the_spec_compiles() {
        for ((op, status), validator) in validators() {
            assert!(validator.is_ok(), "{op} {status}: {validator:?}");
        }
    }

    #[test]
    fn a_conforming_body_passes() {
        let error = br#"{"errors":[{"message":"Webhook app not found","code":404}]}"#;
        assert_eq!(
            check("get_webhook_app", StatusCode::NOT_FOUND, error),
            Ok(())
        );
        assert_eq!(check("delete_webhook_app", StatusCode::OK, b"{}"), Ok(()));
    }

    #[test]
    fn a_violation_names_the_operation_the_status_and_the_place() {
        let message = check("get_webhook_app", StatusCode::OK, br#"{"app_slug":1}"#).unwrap_err();
        assert!(
            message.contains("get_webhook_app") && message.contains("200"),
            "{message}"
        );
        let message = check(
            "list_webhook_deliveries",
            StatusCode::OK,
            br#"{"data":[],"has_more":false,"limit":"1","offset":0}"#,
        )
        .unwrap_err();
        assert!(message.contains("'/limit'"), "{message}");
        let message = check("get_webhook_stats", StatusCode::OK, b"not json").unwrap_err();
        assert!(message.contains("is not JSON"), "{message}");
    }

    #[test]
    fn a_status_the_spec_does_not_list_is_a_violation() {
        let message = check("get_webhook_app", StatusCode::SWITCHING_PROTOCOLS, b"{}").unwrap_err();
        assert!(message.contains("has no response"), "{message}");
    }
}

//! Each lint rule fires on a spec that breaks it, at the exact location, and stays silent on the
//! base spec (and the real one), which keep it.

mod common;

use common::{REAL_SPEC, at, base_with, locations, remove};
use serde_json::json;
use wacht_webhooks_generator::{Finding, Spec, lint};

/// JSON pointers into the base fixture.
const APPS: &str = "/paths/~1webhooks~1apps";
const APP: &str = "/paths/~1webhooks~1apps~1{app_slug}";
const SCHEMAS: &str = "/components/schemas";

/// The findings of `rule` on the base spec after `change`.
fn fired(rule: &str, change: impl FnOnce(&mut serde_json::Value)) -> Vec<Finding> {
    let spec = base_with(change);
    lint(&spec).into_iter().filter(|f| f.rule == rule).collect()
}

/// Asserts that `rule` fires exactly at `expected` after `change`.
fn assert_fires(rule: &str, expected: &[&str], change: impl FnOnce(&mut serde_json::Value)) {
    let findings = fired(rule, change);
    assert_eq!(
        locations(&findings, rule),
        expected,
        "findings of {rule}: {findings:#?}"
    );
}

#[test]
fn base_spec_keeps_every_rule() {
    let findings = lint(&base_with(|_| {}));
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn real_spec_keeps_every_rule() {
    let findings = lint(&Spec::load(REAL_SPEC).unwrap());
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn finding_display_names_location_and_rule() {
    let findings = fired("openapi-version", |v| v["openapi"] = json!("3.1.0"));
    let text = findings[0].to_string();
    assert!(text.starts_with("openapi: "), "{text}");
    assert!(text.contains("3.1.0"), "{text}");
    assert!(text.ends_with("[openapi-version]"), "{text}");
}

// ---- openapi-version

#[test]
fn openapi_version_other_than_3_0_fires() {
    assert_fires("openapi-version", &["openapi"], |v| {
        v["openapi"] = json!("3.1.0")
    });
    assert_fires("openapi-version", &["openapi"], |v| {
        v["openapi"] = json!("2.0")
    });
}

#[test]
fn openapi_version_missing_fires() {
    assert_fires("openapi-version", &["openapi"], |v| {
        remove(v, "/openapi");
    });
}

#[test]
fn openapi_version_any_3_0_patch_is_fine() {
    assert_fires("openapi-version", &[], |v| v["openapi"] = json!("3.0.0"));
}

// ---- operation-id

#[test]
fn operation_id_missing_fires() {
    assert_fires(
        "operation-id",
        &["paths./webhooks/apps/{app_slug}.get.operationId"],
        |v| {
            remove(v, &format!("{APP}/get/operationId"));
        },
    );
}

#[test]
fn operation_id_not_snake_case_fires() {
    for id in ["getApp", "get-app", "Get_app", "get__app", "_get_app"] {
        let findings = fired("operation-id", |v| {
            *at(v, &format!("{APP}/get/operationId")) = json!(id)
        });
        assert_eq!(
            locations(&findings, "operation-id"),
            ["paths./webhooks/apps/{app_slug}.get.operationId"],
            "{id}: {findings:#?}"
        );
        assert!(findings[0].message.contains(id), "{findings:#?}");
    }
}

#[test]
fn operation_id_duplicate_fires_on_the_second_use() {
    let findings = fired("operation-id", |v| {
        *at(v, &format!("{APP}/get/operationId")) = json!("list_apps")
    });
    assert_eq!(
        locations(&findings, "operation-id"),
        ["paths./webhooks/apps/{app_slug}.get.operationId"]
    );
    assert!(
        findings[0].message.contains("paths./webhooks/apps.get"),
        "the message names the first use: {findings:#?}"
    );
}

// ---- no-default-response

#[test]
fn default_response_fires() {
    assert_fires(
        "no-default-response",
        &["paths./webhooks/apps.post.responses.default"],
        |v| {
            at(v, &format!("{APPS}/post/responses"))["default"] =
                json!({"$ref": "#/components/responses/Error"});
        },
    );
}

// ---- success-body

#[test]
fn no_success_response_fires() {
    assert_fires(
        "success-body",
        &["paths./webhooks/apps.post.responses"],
        |v| {
            remove(v, &format!("{APPS}/post/responses/200"));
        },
    );
}

#[test]
fn several_success_responses_fire() {
    let findings = fired("success-body", |v| {
        let responses = at(v, &format!("{APPS}/post/responses"));
        responses["201"] = responses["200"].clone();
    });
    assert_eq!(
        locations(&findings, "success-body"),
        ["paths./webhooks/apps.post.responses"]
    );
    assert!(findings[0].message.contains("200, 201"), "{findings:#?}");
}

#[test]
fn success_response_without_json_body_fires() {
    assert_fires(
        "success-body",
        &["paths./webhooks/apps.post.responses.200"],
        |v| {
            remove(v, &format!("{APPS}/post/responses/200/content"));
        },
    );
}

// ---- error-body

#[test]
fn no_error_response_fires() {
    assert_fires(
        "error-body",
        &["paths./webhooks/apps.post.responses"],
        |v| {
            remove(v, &format!("{APPS}/post/responses/4XX"));
            remove(v, &format!("{APPS}/post/responses/5XX"));
        },
    );
}

#[test]
fn inline_error_response_fires() {
    assert_fires(
        "error-body",
        &["paths./webhooks/apps.post.responses.4XX"],
        |v| {
            let error = v["components"]["responses"]["Error"].clone();
            *at(v, &format!("{APPS}/post/responses/4XX")) = error;
        },
    );
}

#[test]
fn error_response_other_than_the_shared_one_fires() {
    assert_fires(
        "error-body",
        &["paths./webhooks/apps.post.responses.5XX"],
        |v| {
            let error = v["components"]["responses"]["Error"].clone();
            v["components"]["responses"]["OtherError"] = error;
            *at(v, &format!("{APPS}/post/responses/5XX")) =
                json!({"$ref": "#/components/responses/OtherError"});
        },
    );
}

// ---- request-media-type

#[test]
fn second_request_media_type_fires() {
    let findings = fired("request-media-type", |v| {
        at(v, &format!("{APPS}/post/requestBody/content"))["text/plain"] =
            json!({"schema": {"type": "string"}});
    });
    assert_eq!(
        locations(&findings, "request-media-type"),
        ["paths./webhooks/apps.post.requestBody.content"]
    );
    assert!(findings[0].message.contains("text/plain"), "{findings:#?}");
}

#[test]
fn non_json_request_media_type_fires() {
    assert_fires(
        "request-media-type",
        &["paths./webhooks/apps.post.requestBody.content"],
        |v| {
            let content = at(v, &format!("{APPS}/post/requestBody/content"));
            let media = content["application/json"].clone();
            *content = json!({"application/x-www-form-urlencoded": media});
        },
    );
}

// ---- response-additional-properties

#[test]
fn closed_response_schema_fires() {
    assert_fires(
        "response-additional-properties",
        &["components.schemas.App.additionalProperties"],
        |v| at(v, &format!("{SCHEMAS}/App"))["additionalProperties"] = json!(false),
    );
}

#[test]
fn closed_schema_reached_through_ref_fires() {
    // App.settings is `allOf: [$ref Settings]`, and App is reached through AppPage.data.items too.
    assert_fires(
        "response-additional-properties",
        &["components.schemas.Settings.additionalProperties"],
        |v| at(v, &format!("{SCHEMAS}/Settings"))["additionalProperties"] = json!(false),
    );
}

#[test]
fn closed_nested_property_schema_fires() {
    assert_fires(
        "response-additional-properties",
        &["components.schemas.App.properties.meta.additionalProperties"],
        |v| {
            at(v, &format!("{SCHEMAS}/App/properties"))["meta"] = json!({
                "type": "object",
                "description": "Metadata.",
                "additionalProperties": false,
            });
        },
    );
}

#[test]
fn closed_error_body_fires() {
    assert_fires(
        "response-additional-properties",
        &["components.schemas.ErrorBody.additionalProperties"],
        |v| at(v, &format!("{SCHEMAS}/ErrorBody"))["additionalProperties"] = json!(false),
    );
}

#[test]
fn closed_inline_response_schema_fires() {
    assert_fires(
        "response-additional-properties",
        &[
            "paths./webhooks/apps/{app_slug}.get.responses.200.content.application/json.schema.additionalProperties",
        ],
        |v| {
            *at(
                v,
                &format!("{APP}/get/responses/200/content/application~1json/schema"),
            ) = json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {"app_slug": {"type": "string", "description": "The slug."}},
            });
        },
    );
}

#[test]
fn closed_request_schema_and_typed_additional_properties_are_fine() {
    assert_fires("response-additional-properties", &[], |v| {
        at(v, &format!("{SCHEMAS}/CreateAppRequest"))["additionalProperties"] = json!(false);
        at(v, &format!("{SCHEMAS}/App"))["additionalProperties"] = json!({"type": "string"});
    });
}

// ---- described

#[test]
fn undescribed_operation_fires() {
    assert_fires(
        "described",
        &["paths./webhooks/apps.post.description"],
        |v| {
            remove(v, &format!("{APPS}/post/description"));
        },
    );
    assert_fires(
        "described",
        &["paths./webhooks/apps.post.description"],
        |v| {
            *at(v, &format!("{APPS}/post/description")) = json!("  ");
        },
    );
}

#[test]
fn undescribed_inline_parameter_fires() {
    assert_fires(
        "described",
        &["paths./webhooks/apps.get.parameters[0]"],
        |v| {
            remove(v, &format!("{APPS}/get/parameters/0/description"));
        },
    );
}

#[test]
fn undescribed_ref_parameter_fires_once_at_its_component() {
    // AppSlug is used by two operations.
    assert_fires("described", &["components.parameters.AppSlug"], |v| {
        remove(v, "/components/parameters/AppSlug/description");
    });
}

#[test]
fn undescribed_path_item_parameter_fires_once_at_the_path_item() {
    assert_fires(
        "described",
        &["paths./webhooks/apps/{app_slug}.parameters[0]"],
        |v| {
            at(v, APP)["parameters"] = json!([
                {"name": "verbose", "in": "query", "schema": {"type": "boolean"}}
            ]);
        },
    );
}

#[test]
fn undescribed_property_fires() {
    assert_fires(
        "described",
        &["components.schemas.App.properties.app_slug"],
        |v| {
            remove(v, &format!("{SCHEMAS}/App/properties/app_slug/description"));
        },
    );
    assert_fires(
        "described",
        &["components.schemas.Settings.properties.retries"],
        |v| {
            remove(
                v,
                &format!("{SCHEMAS}/Settings/properties/retries/description"),
            );
        },
    );
}

#[test]
fn ref_property_is_described_by_its_target() {
    // App.status is a bare `$ref` to the described AppStatus: silent (the base spec).
    assert_fires("described", &[], |_| {});
    // Once AppStatus loses its description, the property has none.
    assert_fires(
        "described",
        &["components.schemas.App.properties.status"],
        |v| {
            remove(v, &format!("{SCHEMAS}/AppStatus/description"));
        },
    );
}

#[test]
fn all_of_property_is_described_by_itself_or_its_target() {
    assert_fires("described", &[], |v| {
        remove(v, &format!("{SCHEMAS}/App/properties/settings/description"));
    });
    assert_fires(
        "described",
        &["components.schemas.App.properties.settings"],
        |v| {
            remove(v, &format!("{SCHEMAS}/App/properties/settings/description"));
            remove(v, &format!("{SCHEMAS}/Settings/description"));
        },
    );
}

#[test]
fn undescribed_property_of_inline_request_schema_fires() {
    assert_fires(
        "described",
        &["paths./webhooks/apps.post.requestBody.content.application/json.schema.properties.name"],
        |v| {
            *at(
                v,
                &format!("{APPS}/post/requestBody/content/application~1json/schema"),
            ) = json!({
                "type": "object",
                "properties": {"name": {"type": "string"}},
            });
        },
    );
}

#[test]
fn undescribed_property_of_inline_response_schema_fires() {
    assert_fires(
        "described",
        &[
            "paths./webhooks/apps/{app_slug}.get.responses.200.content.application/json.schema.properties.app_slug",
        ],
        |v| {
            *at(
                v,
                &format!("{APP}/get/responses/200/content/application~1json/schema"),
            ) = json!({
                "type": "object",
                "properties": {"app_slug": {"type": "string"}},
                "example": {"app_slug": "shop"},
            });
        },
    );
}

// ---- example-valid

#[test]
fn invalid_schema_example_fires() {
    let findings = fired("example-valid", |v| {
        at(v, &format!("{SCHEMAS}/App/example"))["created_at"] = json!(5);
    });
    assert_eq!(
        locations(&findings, "example-valid"),
        ["components.schemas.App.example"]
    );
    assert!(
        findings[0].message.contains("/created_at"),
        "the message names the spot in the example: {findings:#?}"
    );
}

#[test]
fn bad_date_time_example_fires() {
    for bad in ["yesterday", "2026-01-01", "2026-13-01T00:00:00Z"] {
        let findings = fired("example-valid", |v| {
            at(v, &format!("{SCHEMAS}/App/example"))["created_at"] = json!(bad);
        });
        assert_eq!(
            locations(&findings, "example-valid"),
            ["components.schemas.App.example"],
            "{bad}"
        );
        assert!(findings[0].message.contains("date-time"), "{findings:#?}");
    }
}

#[test]
fn invalid_property_example_fires() {
    assert_fires(
        "example-valid",
        &["components.schemas.Settings.properties.retries.example"],
        |v| {
            *at(v, &format!("{SCHEMAS}/Settings/properties/retries/example")) = json!("three");
        },
    );
}

#[test]
fn invalid_media_type_example_fires() {
    assert_fires(
        "example-valid",
        &["paths./webhooks/apps.post.requestBody.content.application/json.example"],
        |v| {
            *at(
                v,
                &format!("{APPS}/post/requestBody/content/application~1json/example"),
            ) = json!({"tags": ["retail"]});
        },
    );
}

#[test]
fn invalid_named_example_value_fires() {
    assert_fires(
        "example-valid",
        &["paths./webhooks/apps.post.requestBody.content.application/json.examples.bad.value"],
        |v| {
            at(
                v,
                &format!("{APPS}/post/requestBody/content/application~1json"),
            )["examples"] = json!({
                "good": {"summary": "Valid.", "value": {"name": "Shop"}},
                "bad": {"summary": "Tags as a string.", "value": {"name": "Shop", "tags": "retail"}},
            });
        },
    );
}

#[test]
fn invalid_parameter_examples_fire() {
    assert_fires(
        "example-valid",
        &["paths./webhooks/apps.get.parameters[0].example"],
        |v| *at(v, &format!("{APPS}/get/parameters/0/example")) = json!("ten"),
    );
    // A component parameter used by two operations: one finding, at the component.
    assert_fires(
        "example-valid",
        &["components.parameters.AppSlug.example"],
        |v| *at(v, "/components/parameters/AppSlug/example") = json!(5),
    );
    assert_fires(
        "example-valid",
        &["paths./webhooks/apps.get.parameters[0].schema.example"],
        |v| at(v, &format!("{APPS}/get/parameters/0/schema"))["example"] = json!(true),
    );
    assert_fires(
        "example-valid",
        &["paths./webhooks/apps/{app_slug}.parameters[0].example"],
        |v| {
            at(v, APP)["parameters"] = json!([{
                "name": "verbose", "in": "query", "description": "More detail.",
                "schema": {"type": "boolean"}, "example": "yes",
            }]);
        },
    );
}

#[test]
fn invalid_example_of_shared_response_fires_once_at_the_component() {
    assert_fires(
        "example-valid",
        &["components.responses.Error.content.application/json.example"],
        |v| {
            at(v, "/components/responses/Error/content/application~1json")["example"] =
                json!({"errors": "Not found"});
        },
    );
}

#[test]
fn nullable_properties_admit_null_and_others_do_not() {
    // The base example has `note: null` (nullable): silent.
    assert_fires("example-valid", &[], |_| {});
    assert_fires("example-valid", &["components.schemas.App.example"], |v| {
        at(v, &format!("{SCHEMAS}/App/example"))["app_slug"] = json!(null);
    });
    assert_fires("example-valid", &["components.schemas.App.example"], |v| {
        at(v, &format!("{SCHEMAS}/App/example"))["note"] = json!(7);
    });
    // A nullable enum admits null besides its values; a closed one does not.
    assert_fires("example-valid", &[], |v| {
        at(v, &format!("{SCHEMAS}/App/properties"))["tier"] = json!({
            "type": "string", "enum": ["free", "paid"], "nullable": true,
            "description": "The plan.", "example": null,
        });
    });
    // (One finding per broken keyword: `type` and `enum`.)
    let findings = fired("example-valid", |v| {
        at(v, &format!("{SCHEMAS}/App/properties"))["tier"] = json!({
            "type": "string", "enum": ["free", "paid"],
            "description": "The plan.", "example": null,
        });
    });
    assert!(!findings.is_empty());
    for finding in &findings {
        assert_eq!(
            finding.location,
            "components.schemas.App.properties.tier.example"
        );
    }
}

// ---- example-present

#[test]
fn request_body_without_example_fires() {
    assert_fires(
        "example-present",
        &["paths./webhooks/apps.post.requestBody"],
        |v| {
            remove(
                v,
                &format!("{APPS}/post/requestBody/content/application~1json/example"),
            );
        },
    );
}

#[test]
fn response_without_example_fires_for_each_operation() {
    assert_fires(
        "example-present",
        &[
            "paths./webhooks/apps.post.responses.200",
            "paths./webhooks/apps/{app_slug}.get.responses.200",
        ],
        |v| {
            remove(v, &format!("{SCHEMAS}/App/example"));
        },
    );
}

#[test]
fn example_on_the_media_type_counts() {
    let findings = lint(&base_with(|v| {
        let example = remove(v, &format!("{SCHEMAS}/App/example"));
        for op in [format!("{APPS}/post"), format!("{APP}/get")] {
            at(v, &format!("{op}/responses/200/content/application~1json"))["example"] =
                example.clone();
        }
    }));
    assert!(findings.is_empty(), "{findings:#?}");
}

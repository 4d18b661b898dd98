//! Server output: every operation of the spec gets a handler slot, a route-table row and its
//! response schemas; an operation added to the spec gets them too.

mod common;

use common::{real, spec};
use serde_json::{Value, json};
use wacht_webhooks_generator::{ServerOptions, Spec, generate_server};

fn server_file(spec: &Spec) -> syn::File {
    let source = generate_server(spec, &ServerOptions::default()).expect("the spec generates");
    assert!(source.starts_with("// @generated"));
    syn::parse_file(&source).expect("the generated source parses as Rust")
}

/// The field names of `struct Handlers`.
fn handler_slots(file: &syn::File) -> Vec<String> {
    file.items
        .iter()
        .find_map(|item| match item {
            syn::Item::Struct(s) if s.ident == "Handlers" => Some(s),
            _ => None,
        })
        .expect("a Handlers struct")
        .fields
        .iter()
        .filter_map(|f| f.ident.as_ref().map(ToString::to_string))
        .collect()
}

fn operation_ids(raw: &Value) -> Vec<String> {
    raw["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op.get("operationId").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_operation_of_the_spec_has_a_handler_slot() {
    let raw = real();
    let mut slots = handler_slots(&server_file(&spec(&raw)));
    let mut ids = operation_ids(&raw);
    slots.sort();
    ids.sort();
    assert_eq!(slots, ids);
}

#[test]
fn an_added_operation_gets_a_handler_slot_a_route_and_its_response_schema() {
    let mut raw = real();
    raw["paths"]["/webhooks/apps/{app_slug}/pause"] = json!({
        "post": {
            "operationId": "pause_webhook_app",
            "tags": ["apps"],
            "summary": "Pause a webhook app",
            "description": "Stops deliveries of the app until it is resumed.",
            "parameters": [{"$ref": "#/components/parameters/AppSlug"}],
            "responses": {
                "200": {
                    "description": "The paused app.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookApp"}}}
                },
                "4XX": {"$ref": "#/components/responses/Error"},
                "5XX": {"$ref": "#/components/responses/Error"}
            }
        }
    });
    let source = generate_server(&spec(&raw), &ServerOptions::default()).unwrap();
    let file = syn::parse_file(&source).unwrap();
    assert!(handler_slots(&file).contains(&"pause_webhook_app".to_string()));
    assert!(
        source.contains(r#"id: "pause_webhook_app","#)
            && source.contains(r#"path: "/webhooks/apps/{app_slug}/pause""#),
        "no route-table row for the added operation"
    );
    assert!(source.contains(r#"("pause_webhook_app", "200","#));
}

#[test]
fn rules_of_the_spec_become_constants() {
    let source = generate_server(&spec(&real()), &ServerOptions::default()).unwrap();
    for constant in [
        "pub const REPLAY_DELIVERIES_BY_DATE_RANGE_MAX_RANGE_HOURS: i64 = 48",
        "pub const REPLAY_WEBHOOK_DELIVERIES_MAX_RUNNING_TASKS: usize = 3",
        "pub const REPLAY_DELIVERIES_BY_IDS_DELIVERY_IDS_MAX_ITEMS: usize = 500",
        "pub const CREATE_WEBHOOK_ENDPOINT_REQUEST_MAX_RETRIES_MAXIMUM: i64 = 32",
        "pub const APPS_LIMIT_DEFAULT: i64 = 50",
        "pub const REPLAY_TASKS_LIMIT_MIN: i64 = 1",
        "pub const REPLAY_TASKS_LIMIT_MAX: i64 = 100",
    ] {
        assert!(source.contains(constant), "missing `{constant}`");
    }
}

#[test]
fn options_read_a_property_as_any_json() {
    let options = ServerOptions::default().any_json("CreateWebhookEndpointRequest", "headers");
    let plain = generate_server(&spec(&real()), &ServerOptions::default()).unwrap();
    let lenient = generate_server(&spec(&real()), &options).unwrap();
    let field = |source: &str| {
        let at = source
            .find("pub struct CreateWebhookEndpointRequest")
            .unwrap();
        let rest = &source[at..];
        let headers = rest.find("pub headers:").unwrap();
        let end = rest[headers..].find('\n').unwrap() + headers;
        rest[headers..end].trim_end_matches(',').to_string()
    };
    assert_eq!(
        field(&plain),
        "pub headers: Option<std::collections::BTreeMap<String, String>>"
    );
    assert_eq!(field(&lenient), "pub headers: Option<serde_json::Value>");
}

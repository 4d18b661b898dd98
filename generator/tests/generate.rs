//! Generation: the real spec gives code that parses, with the client, open enums, options types
//! and retry table the hand-written layer needs; a spec edit regenerates it; a broken spec comes
//! back as an error naming the spec location, never as a panic.

mod common;

use std::collections::BTreeSet;

use common::{REAL_SPEC, TempDir, at, base, base_with, operation_ids, real, remove, spec};
use serde_json::{Value, json};
use syn::parse::Parser;
use wacht_webhooks_generator::{Error, Spec, generate, lint, options_type_name, write_client};

fn generated_file(spec: &Spec) -> syn::File {
    let source = generate(spec).expect("the spec generates");
    assert!(
        source.starts_with("// @generated"),
        "{}",
        &source[..80.min(source.len())]
    );
    syn::parse_file(&source).expect("the generated source parses as Rust")
}

/// The names of the `pub async fn`s of `impl Client` (the inherent impls, not trait impls).
fn client_methods(file: &syn::File) -> Vec<String> {
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Impl(i)
                if i.trait_.is_none()
                    && matches!(&*i.self_ty, syn::Type::Path(p) if p.path.is_ident("Client")) =>
            {
                Some(i)
            }
            _ => None,
        })
        .flat_map(|i| &i.items)
        .filter_map(|item| match item {
            syn::ImplItem::Fn(f)
                if f.sig.asyncness.is_some() && matches!(f.vis, syn::Visibility::Public(_)) =>
            {
                Some(f.sig.ident.to_string())
            }
            _ => None,
        })
        .collect()
}

/// The items of the inline module `name`.
fn module<'a>(file: &'a syn::File, name: &str) -> &'a [syn::Item] {
    file.items
        .iter()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == name => m.content.as_ref().map(|(_, i)| &i[..]),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no module `{name}`"))
}

fn find_enum<'a>(items: &'a [syn::Item], name: &str) -> Option<&'a syn::ItemEnum> {
    items.iter().find_map(|item| match item {
        syn::Item::Enum(e) if e.ident == name => Some(e),
        _ => None,
    })
}

/// Whether the enum has the fallback `Unknown(String)`.
fn has_unknown_fallback(e: &syn::ItemEnum) -> bool {
    e.variants.iter().any(|v| {
        v.ident == "Unknown"
            && matches!(&v.fields, syn::Fields::Unnamed(f) if f.unnamed.len() == 1
                && quote::ToTokens::to_token_stream(&f.unnamed[0].ty).to_string().ends_with("String"))
    })
}

/// The function `is_idempotent` at the root of the generated file.
fn is_idempotent_fn(file: &syn::File) -> &syn::ItemFn {
    file.items
        .iter()
        .find_map(|item| match item {
            syn::Item::Fn(f) if f.sig.ident == "is_idempotent" => Some(f),
            _ => None,
        })
        .expect("the generated file has `is_idempotent`")
}

/// The operation ids for which `is_idempotent` answers true: the string patterns of its
/// `matches!`, whose arguments must be a valid `expr, pattern` (a `matches!` without a pattern
/// does not compile, although it parses as an opaque macro call).
fn idempotent_ids(file: &syn::File) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for stmt in &is_idempotent_fn(file).block.stmts {
        let mac = match stmt {
            syn::Stmt::Macro(m) => &m.mac,
            syn::Stmt::Expr(syn::Expr::Macro(m), _) => &m.mac,
            _ => continue,
        };
        assert!(
            mac.path.is_ident("matches"),
            "unexpected macro {:?}",
            mac.path
        );
        let pattern = (|input: syn::parse::ParseStream<'_>| {
            input.parse::<syn::Expr>()?;
            input.parse::<syn::Token![,]>()?;
            syn::Pat::parse_multi_with_leading_vert(input)
        })
        .parse2(mac.tokens.clone())
        .expect("the arguments of `matches!` are an expression and a pattern");
        let cases = match pattern {
            syn::Pat::Or(or) => or.cases.into_iter().collect(),
            single => vec![single],
        };
        for case in cases {
            match case {
                syn::Pat::Lit(syn::PatLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => ids.insert(s.value()),
                other => panic!("unexpected pattern {}", quote::quote!(#other)),
            };
        }
    }
    ids
}

#[test]
fn real_spec_generates_code_that_parses() {
    generated_file(&Spec::load(REAL_SPEC).unwrap());
}

#[test]
fn client_has_one_async_method_per_operation() {
    let spec = Spec::load(REAL_SPEC).unwrap();
    let file = generated_file(&spec);
    let methods = client_methods(&file);
    assert_eq!(methods.len(), 30, "{methods:?}");
    let methods: BTreeSet<String> = methods.into_iter().collect();
    let ids: BTreeSet<String> = operation_ids(&spec).into_iter().collect();
    assert_eq!(methods, ids);
}

#[test]
fn open_enums_keep_unknown_values_and_closed_ones_do_not() {
    let spec = Spec::load(REAL_SPEC).unwrap();
    let file = generated_file(&spec);
    let types = module(&file, "types");
    // Open enums are written `anyOf: [{enum}, {type: string}]`; the canonical form has their `enum`.
    let canonical = spec.canonical();
    let schemas = canonical.schemas().unwrap();
    let open: Vec<(&String, &Value)> = schemas
        .iter()
        .filter(|(_, s)| s.get("x-open-enum") == Some(&json!(true)))
        .collect();
    let names: Vec<&str> = open.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["DeliveryStatus", "ReplayTaskState"]);
    for (name, schema) in open {
        let e = find_enum(types, name).unwrap_or_else(|| panic!("no enum {name}"));
        assert!(has_unknown_fallback(e), "{name} has no Unknown(String)");
        let variants: Vec<String> = e.variants.iter().map(|v| v.ident.to_string()).collect();
        assert_eq!(
            variants.len(),
            schema["enum"].as_array().unwrap().len() + 1,
            "{name}: {variants:?}"
        );
    }
    let delivery = find_enum(types, "DeliveryStatus").unwrap();
    let variants: Vec<String> = delivery
        .variants
        .iter()
        .map(|v| v.ident.to_string())
        .collect();
    assert_eq!(
        variants,
        [
            "Pending",
            "Success",
            "Failed",
            "PermanentlyFailed",
            "Filtered",
            "EndpointDisabled",
            "Reactivated",
            "Deactivated",
            "Unknown"
        ]
    );
    // A closed, client-owned enum stays closed.
    let interval = find_enum(types, "TimeseriesInterval").expect("TimeseriesInterval");
    assert!(!has_unknown_fallback(interval));
}

#[test]
fn options_types_exist_for_operations_with_query_parameters() {
    let spec = Spec::load(REAL_SPEC).unwrap();
    let file = generated_file(&spec);
    let structs: BTreeSet<String> = module(&file, "options")
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) => {
                let attrs = &s.attrs;
                let derives = quote::quote!(#(#attrs)*).to_string();
                assert!(derives.contains("Default"), "{} is not Default", s.ident);
                Some(s.ident.to_string())
            }
            _ => None,
        })
        .collect();
    for name in [
        "ListWebhookAppsOptions",
        "ListWebhookEndpointsOptions",
        "ListWebhookDeliveriesOptions",
        "ListWebhookReplayTasksOptions",
        "WebhookAnalyticsOptions",
        "WebhookTimeseriesOptions",
    ] {
        assert!(
            structs.contains(name),
            "no options type {name}: {structs:?}"
        );
    }
    let expected: BTreeSet<String> = spec
        .operations()
        .iter()
        .filter(|op| {
            spec.parameters(op)
                .iter()
                .any(|p| p.get("in") == Some(&json!("query")))
        })
        .map(|op| options_type_name(op.id().unwrap()))
        .collect();
    assert_eq!(structs, expected);
}

#[test]
fn is_idempotent_covers_get_put_delete_and_marked_operations() {
    let spec = Spec::load(REAL_SPEC).unwrap();
    let file = generated_file(&spec);
    let expected: BTreeSet<String> = spec
        .operations()
        .iter()
        .filter(|op| {
            matches!(op.method, "get" | "put" | "delete")
                || op.value.get("x-idempotent") == Some(&json!(true))
        })
        .map(|op| op.id().unwrap().to_string())
        .collect();
    let actual = idempotent_ids(&file);
    assert_eq!(actual, expected);
    for id in [
        "get_webhook_app",
        "update_webhook_event_catalog",
        "delete_webhook_endpoint",
        "replay_webhook_deliveries",
    ] {
        assert!(actual.contains(id), "{id} should be idempotent");
    }
    for id in [
        "create_webhook_app",
        "trigger_webhook_event",
        "rotate_webhook_secret",
        "cancel_webhook_replay_task",
    ] {
        assert!(!actual.contains(id), "{id} should not be idempotent");
    }
}

#[test]
fn is_idempotent_is_valid_when_no_operation_is() {
    // Only `create_app` (a POST) is left.
    let spec = base_with(|v| {
        remove(v, "/paths/~1webhooks~1apps/get");
        remove(v, "/paths/~1webhooks~1apps~1{app_slug}");
    });
    assert!(lint(&spec).is_empty());
    let file = generated_file(&spec);
    assert!(idempotent_ids(&file).is_empty());
}

#[test]
fn one_more_operation_gives_one_more_client_method() {
    let before = spec(&real());
    let mut value = real();
    value["paths"]["/webhooks/apps/{app_slug}/ping"] = json!({
        "post": {
            "operationId": "ping_webhook_app",
            "tags": ["apps"],
            "description": "Checks that the app exists and answers with its stats.",
            "parameters": [{"$ref": "#/components/parameters/AppSlug"}],
            "responses": {
                "200": {
                    "description": "The app's stats.",
                    "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/WebhookStats"}
                    }}
                },
                "4XX": {"$ref": "#/components/responses/Error"},
                "5XX": {"$ref": "#/components/responses/Error"}
            }
        }
    });
    let after = spec(&value);
    let findings = lint(&after);
    assert!(
        findings.is_empty(),
        "the edited spec passes check: {findings:#?}"
    );
    let old_methods = client_methods(&generated_file(&before));
    let new_methods = client_methods(&generated_file(&after));
    assert_eq!(new_methods.len(), old_methods.len() + 1);
    let added: Vec<&String> = new_methods
        .iter()
        .filter(|m| !old_methods.contains(m))
        .collect();
    assert_eq!(added, ["ping_webhook_app"]);
}

#[test]
fn open_enum_values_that_are_not_identifiers_get_variant_names() {
    let spec = base_with(|v| {
        at(v, "/components/schemas/AppStatus")["enum"] =
            json!(["active", "in-progress", "on.hold", "2fa_required", "self"]);
    });
    let file = generated_file(&spec);
    let e = find_enum(module(&file, "types"), "AppStatus").unwrap();
    let variants: Vec<String> = e.variants.iter().map(|v| v.ident.to_string()).collect();
    assert_eq!(
        variants,
        [
            "Active",
            "InProgress",
            "OnHold",
            "V2faRequired",
            "Self_",
            "Unknown"
        ]
    );
}

#[test]
fn open_enum_values_that_clash_are_an_error_naming_the_enum() {
    for values in [
        json!(["active", "unknown"]),
        json!(["in_progress", "in-progress"]),
    ] {
        let spec = base_with(|v| at(v, "/components/schemas/AppStatus")["enum"] = values.clone());
        match generate(&spec) {
            Err(Error::Generate(message)) => assert!(
                message.contains("components.schemas.AppStatus.enum"),
                "{message}"
            ),
            other => panic!("{values}: expected a generation error, got {other:?}"),
        }
    }
}

#[test]
fn list_limits_of_properties_that_are_not_identifiers_get_constant_names() {
    let spec = base_with(|v| {
        at(v, "/components/schemas/CreateAppRequest/properties")["event-names"] = json!({
            "type": "array", "description": "Events.", "maxItems": 3,
            "items": {"type": "string"},
        });
    });
    let source = generate(&spec).expect("generates");
    assert!(source.contains("pub const TAGS_MAX_ITEMS: usize = 10"));
    assert!(
        source.contains("pub const EVENT_NAMES_MAX_ITEMS: usize = 3"),
        "{source}"
    );
}

#[test]
fn write_client_on_a_broken_spec_lists_the_findings() {
    let dir = TempDir::new("write-client-lint");
    let mut value = base();
    at(&mut value, "/paths/~1webhooks~1apps/post/responses")["default"] =
        json!({"$ref": "#/components/responses/Error"});
    remove(&mut value, "/paths/~1webhooks~1apps/get/description");
    let path = dir.write_spec("broken.yaml", &value);
    let out = dir.path().join("client.rs");
    let err = write_client(&path, &out).expect_err("a broken spec fails");
    let Error::Lint { findings, .. } = &err else {
        panic!("expected Error::Lint, got {err:?}");
    };
    assert_eq!(findings.len(), 2, "{findings:#?}");
    let text = err.to_string();
    for expected in [
        "broken.yaml breaks 2 lint rule(s)",
        "paths./webhooks/apps.post.responses.default",
        "[no-default-response]",
        "paths./webhooks/apps.get.description",
        "[described]",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert!(!out.exists(), "nothing is written for a broken spec");
}

#[test]
fn write_client_writes_the_generated_source_once() {
    let dir = TempDir::new("write-client-ok");
    let path = dir.write("spec.yaml", common::BASE);
    let out = dir.path().join("client.rs");
    write_client(&path, &out).expect("the base spec generates");
    let first = std::fs::read_to_string(&out).unwrap();
    syn::parse_file(&first).expect("parses");
    // A second run with the same spec leaves the same content.
    write_client(&path, &out).expect("generates again");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), first);
}

#[test]
fn write_client_reports_a_missing_spec() {
    let dir = TempDir::new("write-client-missing");
    let err =
        write_client(dir.path().join("nope.yaml"), dir.path().join("out.rs")).expect_err("no spec");
    assert!(matches!(err, Error::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("nope.yaml"), "{err}");
}

#[test]
fn progenitor_panic_on_a_spec_that_passes_lint_is_an_error() {
    // The path template names `{app_slug}` but no operation declares the parameter: lint has no
    // rule for it, and progenitor panics.
    let mut value = base();
    for method in ["get", "delete"] {
        *at(
            &mut value,
            &format!("/paths/~1webhooks~1apps~1{{app_slug}}/{method}/parameters"),
        ) = json!([]);
    }
    let spec = spec(&value);
    assert!(lint(&spec).is_empty(), "{:#?}", lint(&spec));
    match generate(&spec) {
        Err(Error::Generate(message)) => assert!(message.contains("app_slug"), "{message}"),
        other => panic!("expected a generation error, got {other:?}"),
    }
    let dir = TempDir::new("write-client-progenitor");
    let path = dir.write_spec("spec.yaml", &value);
    let err = write_client(&path, dir.path().join("out.rs")).expect_err("fails");
    assert!(err.to_string().contains("code generation failed"), "{err}");
}

#[test]
fn generate_without_lint_on_a_default_response_does_not_panic() {
    let spec = base_with(|v| {
        let responses = at(v, "/paths/~1webhooks~1apps/post/responses");
        remove(responses, "/4XX");
        remove(responses, "/5XX");
        responses["default"] = json!({"$ref": "#/components/responses/Error"});
    });
    // progenitor panics on it; the answer is an error, not a panic.
    let result = std::panic::catch_unwind(|| generate(&spec)).expect("generate does not panic");
    match result {
        Err(Error::Generate(message)) => assert!(message.contains("progenitor"), "{message}"),
        other => panic!("expected a generation error, got {other:?}"),
    }
}

#[test]
fn not_an_openapi_document_is_an_error() {
    let spec = spec(&json!({"openapi": "3.0.3", "paths": "none"}));
    let err = generate(&spec).expect_err("not OpenAPI");
    assert!(matches!(err, Error::Structure { .. }), "{err:?}");
    let err = Spec::parse("x.yaml", "a: [b").expect_err("not YAML");
    assert!(matches!(err, Error::Syntax { .. }), "{err:?}");
    assert!(err.to_string().contains("x.yaml"), "{err}");
}

/// The struct `name` of `items`.
fn find_struct<'a>(items: &'a [syn::Item], name: &str) -> Option<&'a syn::ItemStruct> {
    items.iter().find_map(|item| match item {
        syn::Item::Struct(s) if s.ident == name => Some(s),
        _ => None,
    })
}

#[test]
fn collections_of_update_requests_are_sent_even_when_empty() {
    let spec = Spec::load(REAL_SPEC).unwrap();
    let file = generated_file(&spec);
    let types = module(&file, "types");
    let fields = [
        ("UpdateWebhookAppRequest", "failure_notification_emails"),
        ("UpdateWebhookEndpointRequest", "headers"),
        ("UpdateWebhookEndpointRequest", "subscriptions"),
    ];
    for (name, field) in fields {
        let s = find_struct(types, name).unwrap_or_else(|| panic!("no struct {name}"));
        let f = s
            .fields
            .iter()
            .find(|f| f.ident.as_ref().is_some_and(|i| i == field))
            .unwrap_or_else(|| panic!("no field {name}.{field}"));
        let ty = quote::quote!(#f).to_string();
        assert!(
            ty.contains(":: std :: option :: Option <"),
            "{name}.{field}: unset must be told from empty: {ty}"
        );
        assert!(
            !ty.contains("is_empty"),
            "{name}.{field}: an empty collection must be sent: {ty}"
        );
    }
}

//! The calls of `Webhooks` follow the spec: an operation added to the spec gives a documented
//! public method (and a `_stream` twin when it lists by offset), and the public type list names its
//! model; the server rules become constants.

mod common;

use common::{real, real_with_added_list_operation, spec};
use serde_json::{Value, json};
use wacht_webhooks_generator::{Error, Rule, RuleValue, Spec, generate, rules};

/// The methods of the generated `impl crate::client::Webhooks`, by name.
fn webhooks_methods(source: &str) -> Vec<syn::ImplItemFn> {
    let file = syn::parse_file(source).expect("the generated source parses");
    file.items
        .into_iter()
        .filter_map(|item| match item {
            syn::Item::Impl(i) if quote_type(&i.self_ty) == "crate :: client :: Webhooks" => {
                Some(i)
            }
            _ => None,
        })
        .flat_map(|i| i.items)
        .filter_map(|item| match item {
            syn::ImplItem::Fn(f) => Some(f),
            _ => None,
        })
        .collect()
}

fn quote_type(ty: &syn::Type) -> String {
    quote::quote!(#ty).to_string()
}

fn method<'a>(methods: &'a [syn::ImplItemFn], name: &str) -> Option<&'a syn::ImplItemFn> {
    methods.iter().find(|m| m.sig.ident == name)
}

/// The rustdoc of an item, its `#[doc]` lines joined.
fn doc(f: &syn::ImplItemFn) -> String {
    f.attrs
        .iter()
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn signature(f: &syn::ImplItemFn) -> String {
    let sig = &f.sig;
    quote::quote!(#sig)
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn an_added_list_operation_gets_a_documented_method_and_a_stream_twin() {
    let before = webhooks_methods(&generate(&spec(&real())).unwrap());
    assert!(method(&before, "list_webhook_widgets").is_none());

    let source = generate(&real_with_added_list_operation()).unwrap();
    let methods = webhooks_methods(&source);
    let list = method(&methods, "list_webhook_widgets").expect("a method named by the operationId");
    assert!(matches!(list.vis, syn::Visibility::Public(_)));
    assert_eq!(
        signature(list),
        "async fn list_webhook_widgets (& self , app_slug : & str , options : options :: ListWebhookWidgetsOptions ,) -> :: std :: result :: Result < crate :: Page < types :: WebhookWidget > , crate :: Error >"
    );
    let docs = doc(list);
    for expected in [
        "List an app's widgets",
        "Lists the app's widgets, one page at a time.",
        "`GET /webhooks/apps/{app_slug}/widgets`",
        "- `app_slug`: The app's slug",
        "# Errors",
        "# Examples",
        "```no_run",
        ".list_webhook_widgets(\"billing\"",
        "list_webhook_widgets_stream",
    ] {
        assert!(
            docs.contains(expected),
            "{expected:?} missing from:\n{docs}"
        );
    }

    let stream = method(&methods, "list_webhook_widgets_stream").expect("a _stream twin");
    assert!(
        signature(stream).contains("options : options :: ListWebhookWidgetsOptions ,) -> impl :: futures_core :: Stream < Item = :: std :: result :: Result < types :: WebhookWidget , crate :: Error > , > + Send + 'static"),
        "{}",
        signature(stream)
    );
    assert!(doc(stream).contains("page after page"), "{}", doc(stream));
    assert!(doc(stream).contains("```no_run"));

    // The model and the options are public; the envelope is not.
    let compact: String = source.split_whitespace().collect();
    let public = &compact[compact.find("pubmodpublic{").expect("a public list")..];
    assert!(public.contains("WebhookWidget,") || public.contains("WebhookWidget}"));
    assert!(!public.contains("WebhookWidgetPage"));
    assert!(public.contains("ListWebhookWidgetsOptions"));
}

#[test]
fn every_operation_of_the_real_spec_is_a_method() {
    let spec = spec(&real());
    let methods = webhooks_methods(&generate(&spec).unwrap());
    for op in spec.operations() {
        let id = op.id().unwrap();
        let found = method(&methods, id).unwrap_or_else(|| panic!("no method {id}"));
        assert!(doc(found).contains("# Errors"), "{id} is documented");
    }
}

#[test]
fn the_design_signatures_follow_from_the_spec() {
    let methods = webhooks_methods(&generate(&spec(&real())).unwrap());
    let expect = |name: &str, tail: &str| {
        let sig = signature(method(&methods, name).unwrap_or_else(|| panic!("no {name}")));
        assert!(sig.ends_with(tail), "{sig}\n  does not end with\n{tail}");
    };
    // A body property named like a path parameter is filled from the path.
    let create = method(&methods, "create_webhook_endpoint").unwrap();
    let body = quote::quote!(#create).to_string();
    assert!(
        body.contains("request . app_slug = app_slug . to_string () . into ()"),
        "{body}"
    );
    // `x-client: {body-args}`: the body's properties are the arguments.
    expect(
        "archive_webhook_event_in_catalog",
        "(& self , slug : & str , event_name : & str , is_archived : bool ,) -> :: std :: result :: Result < types :: WebhookEventCatalog , crate :: Error >",
    );
    expect(
        "append_webhook_event_catalog_events",
        "(& self , slug : & str , events : :: std :: vec :: Vec < types :: WebhookEventDefinition > ,) -> :: std :: result :: Result < types :: WebhookEventCatalog , crate :: Error >",
    );
    // `x-client: {unwrap}`, `{options: none}`, `{options: separate}`; `{}` answers are `()`.
    expect(
        "list_webhook_events",
        "-> :: std :: result :: Result < :: std :: vec :: Vec < types :: WebhookAppEvent > , crate :: Error >",
    );
    expect(
        "list_webhook_event_catalogs",
        "(& self ,) -> :: std :: result :: Result < crate :: Page < types :: WebhookEventCatalog > , crate :: Error >",
    );
    expect(
        "get_webhook_delivery",
        "(& self , app_slug : & str , delivery_id : & str ,) -> :: std :: result :: Result < types :: WebhookDeliveryDetails , crate :: Error >",
    );
    expect(
        "get_webhook_delivery_with",
        "options : options :: WebhookDeliveryOptions ,) -> :: std :: result :: Result < types :: WebhookDeliveryDetails , crate :: Error >",
    );
    expect(
        "delete_webhook_app",
        "-> :: std :: result :: Result < () , crate :: Error >",
    );
    // A `oneOf` body takes the hand-written type of the same name at the crate root.
    expect(
        "replay_webhook_deliveries",
        "(& self , app_slug : & str , request : crate :: ReplayWebhookDeliveriesRequest ,) -> :: std :: result :: Result < types :: ReplayWebhookDeliveryResponse , crate :: Error >",
    );
    // The catalog list ignores its paging: no stream; the delivery list's stream filters.
    assert!(method(&methods, "list_webhook_event_catalogs_stream").is_none());
    assert!(method(&methods, "list_webhook_deliveries_stream").is_some());
}

fn with_extension(op_pointer: &str, extension: Value) -> Spec {
    let mut value = real();
    value.pointer_mut(op_pointer).unwrap()["x-client"] = extension;
    spec(&value)
}

#[test]
fn a_wrong_x_client_is_an_error_naming_its_location() {
    let events = "/paths/~1webhooks~1apps~1{app_slug}~1events/get";
    let archive = "/paths/~1webhooks~1event-catalogs~1{slug}~1archive-event/post";
    let cases = [
        (
            events,
            json!({"unwrap": "missing"}),
            "has no property `missing`",
        ),
        (
            events,
            json!({"options": "none"}),
            "has no query parameters",
        ),
        (events, json!({"colour": "blue"}), "x-client.colour"),
        (
            archive,
            json!({"body-args": ["event_name"]}),
            "must list every property",
        ),
        (
            events,
            json!({"stream": "filtered"}),
            "only a list that pages",
        ),
    ];
    for (op, extension, expected) in cases {
        match generate(&with_extension(op, extension.clone())) {
            Err(Error::Generate(message)) => {
                assert!(message.contains(expected), "{extension}: {message}")
            }
            other => panic!(
                "{extension}: expected an error, got {:?}",
                other.map(|_| ())
            ),
        }
    }
}

#[test]
fn server_rules_become_constants() {
    let rules = rules(&spec(&real())).unwrap();
    let value = |name: &str| {
        rules
            .iter()
            .find(|r: &&Rule| r.name == name)
            .unwrap_or_else(|| panic!("no rule {name}: {rules:?}"))
            .value
            .clone()
    };
    assert_eq!(
        value("REPLAY_WEBHOOK_DELIVERIES_MAX_RUNNING_TASKS"),
        RuleValue::Count(3)
    );
    assert_eq!(
        value("REPLAY_DELIVERIES_BY_DATE_RANGE_MAX_RANGE_HOURS"),
        RuleValue::Integer(48)
    );
    assert_eq!(
        value("REPLAY_DELIVERIES_BY_IDS_DELIVERY_IDS_MAX_ITEMS"),
        RuleValue::Count(500)
    );
    assert_eq!(value("APPS_LIMIT_DEFAULT"), RuleValue::Integer(50));
    assert_eq!(value("REPLAY_TASKS_LIMIT_MIN"), RuleValue::Integer(1));
    assert_eq!(value("REPLAY_TASKS_LIMIT_MAX"), RuleValue::Integer(100));
    assert_eq!(value("INCLUDE_INACTIVE_DEFAULT"), RuleValue::Flag(false));

    let source = generate(&spec(&real())).unwrap();
    assert!(
        source.contains("pub const REPLAY_DELIVERIES_BY_DATE_RANGE_MAX_RANGE_HOURS: i64 = 48;")
    );

    let standalone = wacht_webhooks_generator::rules_source(&spec(&real())).unwrap();
    let file = syn::parse_file(&standalone).expect("a Rust file of constants");
    assert_eq!(file.items.len(), rules.len());
    assert!(
        standalone.contains("pub const REPLAY_WEBHOOK_DELIVERIES_MAX_RUNNING_TASKS: usize = 3;")
    );

    let mut edited = real();
    edited["components"]["schemas"]["ReplayDeliveriesByDateRange"]["x-max-range-hours"] = json!(24);
    let rules = wacht_webhooks_generator::rules(&spec(&edited)).unwrap();
    assert!(rules.iter().any(
        |r| r.name == "REPLAY_DELIVERIES_BY_DATE_RANGE_MAX_RANGE_HOURS"
            && r.value == RuleValue::Integer(24)
    ));
}

/// The names `pub mod public` re-exports.
fn public_names(source: &str) -> Vec<String> {
    let file = syn::parse_file(source).unwrap();
    let public = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "public" => m.content.as_ref(),
            _ => None,
        })
        .expect("a public module");
    let mut names = Vec::new();
    for item in &public.1 {
        if let syn::Item::Use(u) = item {
            let text = quote::quote!(#u).to_string();
            let inner = text.split('{').nth(1).unwrap_or_default();
            names.extend(
                inner
                    .trim_end_matches(['}', ';', ' '])
                    .split(',')
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty()),
            );
        }
    }
    names
}

#[test]
fn wire_only_types_stay_private_and_answers_are_non_exhaustive() {
    let source = generate(&spec(&real())).unwrap();
    let names = public_names(&source);
    for private in [
        "ErrorBody",
        "ErrorDetail",
        "EmptyObject",
        "WebhookAppPage",
        "WebhookDeliveryPage",
        "WebhookAppEventList",
        "ReplayWebhookDeliveriesRequest",
        "ReplayDeliveriesByIds",
        "ReplayDeliveriesByDateRange",
        "ListWebhookEventCatalogsOptions",
    ] {
        assert!(
            !names.contains(&private.to_string()),
            "{private} is public: {names:?}"
        );
    }
    for public in [
        "WebhookApp",
        "CreateWebhookAppRequest",
        "DeliveryStatus",
        "ReplayTaskState",
        "TimeseriesInterval",
        "WebhookAppEvent",
        "ListWebhookDeliveriesOptions",
        "WebhookDeliveryOptions",
    ] {
        assert!(
            names.contains(&public.to_string()),
            "{public} is missing: {names:?}"
        );
    }
    let compact: String = source.split_whitespace().collect();
    assert!(
        compact.contains("#[non_exhaustive]pubstructWebhookApp{"),
        "an answer"
    );
    assert!(
        compact.contains("#[non_exhaustive]pubstructEventSubscription{"),
        "inside an answer"
    );
    assert!(
        !compact.contains("#[non_exhaustive]pubstructCreateWebhookAppRequest{"),
        "a request"
    );
}

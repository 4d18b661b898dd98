//! `diff` classifies each kind of change as breaking or compatible for existing clients.

mod common;

use common::{at, base, real, remove, spec};
use serde_json::{Value, json};
use wacht_webhooks_generator::{Change, diff};

const APPS: &str = "/paths/~1webhooks~1apps";
const APP: &str = "/paths/~1webhooks~1apps~1{app_slug}";
const SCHEMAS: &str = "/components/schemas";

/// One row of the table: the base spec, changed by `old` and by `new`, must differ by a change at
/// `location` classified as `breaking`, and no change of the other class may appear.
struct Case {
    name: &'static str,
    old: fn(&mut Value),
    new: fn(&mut Value),
    location: &'static str,
    breaking: bool,
}

fn keep(_: &mut Value) {}

fn set_rate_number(v: &mut Value) {
    at(v, &format!("{SCHEMAS}/CreateAppRequest/properties/rate"))["type"] = json!("number");
}

fn close_app_status(v: &mut Value) {
    remove(v, &format!("{SCHEMAS}/AppStatus/x-open-enum"));
}

fn add_app_status_value(v: &mut Value) {
    at(v, &format!("{SCHEMAS}/AppStatus/enum"))
        .as_array_mut()
        .unwrap()
        .push(json!("paused"));
}

fn query_parameter(name: &str, required: bool) -> Value {
    json!({
        "name": name, "in": "query", "required": required,
        "description": "A filter.", "schema": {"type": "string"},
    })
}

const CASES: &[Case] = &[
    Case {
        name: "removed operation",
        old: keep,
        new: |v| {
            remove(v, &format!("{APP}/delete"));
        },
        location: "paths./webhooks/apps/{app_slug}.delete",
        breaking: true,
    },
    Case {
        name: "added operation",
        old: keep,
        new: |v| {
            let mut put = at(v, &format!("{APP}/get")).clone();
            put["operationId"] = json!("replace_app");
            at(v, APP)["put"] = put;
        },
        location: "paths./webhooks/apps/{app_slug}.put",
        breaking: false,
    },
    Case {
        name: "removed response field",
        old: keep,
        new: |v| {
            remove(v, &format!("{SCHEMAS}/App/properties/note"));
            remove(v, &format!("{SCHEMAS}/App/example/note"));
        },
        location: "components.schemas.App.properties.note",
        breaking: true,
    },
    Case {
        name: "removed the only field of a response object",
        old: keep,
        new: |v| {
            remove(v, &format!("{SCHEMAS}/Settings/properties"));
            remove(v, &format!("{SCHEMAS}/App/example/settings"));
        },
        location: "components.schemas.Settings.properties.retries",
        breaking: true,
    },
    Case {
        name: "first field of a response object",
        old: |v| {
            remove(v, &format!("{SCHEMAS}/Settings/properties"));
        },
        new: keep,
        location: "components.schemas.Settings.properties.retries",
        breaking: false,
    },
    Case {
        name: "added optional request field",
        old: keep,
        new: |v| {
            at(v, &format!("{SCHEMAS}/CreateAppRequest/properties"))["description"] =
                json!({"type": "string", "description": "What the app is for."});
        },
        location: "components.schemas.CreateAppRequest.properties.description",
        breaking: false,
    },
    Case {
        name: "new required request field",
        old: keep,
        new: |v| {
            at(v, &format!("{SCHEMAS}/CreateAppRequest/properties"))["owner"] =
                json!({"type": "string", "description": "Who owns the app."});
            at(v, &format!("{SCHEMAS}/CreateAppRequest/required"))
                .as_array_mut()
                .unwrap()
                .push(json!("owner"));
        },
        location: "components.schemas.CreateAppRequest.properties.owner",
        breaking: true,
    },
    Case {
        name: "optional request field now required",
        old: keep,
        new: |v| {
            at(v, &format!("{SCHEMAS}/CreateAppRequest/required"))
                .as_array_mut()
                .unwrap()
                .push(json!("tags"));
        },
        location: "components.schemas.CreateAppRequest.properties.tags",
        breaking: true,
    },
    Case {
        name: "narrowed request type (number to integer)",
        old: set_rate_number,
        new: keep,
        location: "components.schemas.CreateAppRequest.properties.rate",
        breaking: true,
    },
    Case {
        name: "widened request type (integer to number)",
        old: keep,
        new: set_rate_number,
        location: "components.schemas.CreateAppRequest.properties.rate",
        breaking: false,
    },
    Case {
        name: "removed enum value",
        old: keep,
        new: |v| *at(v, &format!("{SCHEMAS}/AppStatus/enum")) = json!(["active"]),
        location: "components.schemas.AppStatus",
        breaking: true,
    },
    Case {
        name: "added value to a closed response enum",
        old: close_app_status,
        new: |v| {
            close_app_status(v);
            add_app_status_value(v);
        },
        location: "components.schemas.AppStatus",
        breaking: true,
    },
    Case {
        name: "added value to an open response enum",
        old: keep,
        new: add_app_status_value,
        location: "components.schemas.AppStatus",
        breaking: false,
    },
    Case {
        name: "response field now nullable",
        old: keep,
        new: |v| {
            at(v, &format!("{SCHEMAS}/App/properties/app_slug"))["nullable"] = json!(true);
        },
        location: "components.schemas.App.properties.app_slug",
        breaking: true,
    },
    Case {
        name: "maxItems lowered in a request",
        old: keep,
        new: |v| {
            *at(
                v,
                &format!("{SCHEMAS}/CreateAppRequest/properties/tags/maxItems"),
            ) = json!(5)
        },
        location: "components.schemas.CreateAppRequest.properties.tags",
        breaking: true,
    },
    Case {
        name: "removed query parameter",
        old: keep,
        new: |v| {
            at(v, &format!("{APPS}/get/parameters"))
                .as_array_mut()
                .unwrap()
                .remove(0);
        },
        location: "paths./webhooks/apps.get.parameters.limit",
        breaking: true,
    },
    Case {
        name: "added optional query parameter",
        old: keep,
        new: |v| {
            at(v, &format!("{APPS}/get/parameters"))
                .as_array_mut()
                .unwrap()
                .push(query_parameter("search", false));
        },
        location: "paths./webhooks/apps.get.parameters.search",
        breaking: false,
    },
    Case {
        name: "added required query parameter",
        old: keep,
        new: |v| {
            at(v, &format!("{APPS}/get/parameters"))
                .as_array_mut()
                .unwrap()
                .push(query_parameter("search", true));
        },
        location: "paths./webhooks/apps.get.parameters.search",
        breaking: true,
    },
    Case {
        name: "moved path",
        old: keep,
        new: |v| {
            let item = remove(v, APP);
            v["paths"]["/v2/apps/{app_slug}"] = item;
        },
        location: "paths./v2/apps/{app_slug}.get",
        breaking: true,
    },
    Case {
        name: "pattern added to a request field",
        old: keep,
        new: |v| {
            at(v, &format!("{SCHEMAS}/CreateAppRequest/properties/name"))["pattern"] =
                json!("[a-z]");
        },
        location: "components.schemas.CreateAppRequest.properties.name",
        breaking: true,
    },
    Case {
        name: "pattern removed from a request field",
        old: |v| {
            at(v, &format!("{SCHEMAS}/CreateAppRequest/properties/name"))["pattern"] =
                json!("[a-z]");
        },
        new: keep,
        location: "components.schemas.CreateAppRequest.properties.name",
        breaking: false,
    },
];

fn changes(case: &Case) -> Vec<Change> {
    let (mut old, mut new) = (base(), base());
    (case.old)(&mut old);
    (case.new)(&mut new);
    diff(&spec(&old), &spec(&new))
}

#[test]
fn changes_are_classified() {
    let mut failures = Vec::new();
    for case in CASES {
        let changes = changes(case);
        let listed = changes
            .iter()
            .map(|c| format!("    {c}"))
            .collect::<Vec<_>>()
            .join("\n");
        if changes.is_empty() {
            failures.push(format!("{}: no change found", case.name));
            continue;
        }
        if changes.iter().any(|c| c.breaking != case.breaking) {
            failures.push(format!(
                "{}: expected only {} changes:\n{listed}",
                case.name,
                if case.breaking {
                    "breaking"
                } else {
                    "compatible"
                }
            ));
        }
        if !changes.iter().any(|c| c.location == case.location) {
            failures.push(format!(
                "{}: no change at {}:\n{listed}",
                case.name, case.location
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn reverse_of_an_added_operation_is_breaking() {
    let mut new = base();
    remove(&mut new, &format!("{APP}/delete"));
    let changes = diff(&spec(&new), &spec(&base()));
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert!(!changes[0].breaking);
    let changes = diff(&spec(&base()), &spec(&new));
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert!(changes[0].breaking);
    assert!(
        changes[0].to_string().starts_with("BREAKING"),
        "{}",
        changes[0]
    );
}

#[test]
fn a_spec_has_no_changes_from_itself() {
    assert_eq!(diff(&spec(&base()), &spec(&base())), []);
    assert_eq!(diff(&spec(&real()), &spec(&real())), []);
}

#[test]
fn a_nullable_field_that_becomes_free_form_still_admits_null() {
    let mut new = base();
    let note = at(&mut new, &format!("{SCHEMAS}/App/properties/note"));
    *note = json!({"description": "Any JSON, or null."});
    let changes = diff(&spec(&base()), &spec(&new));
    let listed: Vec<String> = changes.iter().map(ToString::to_string).collect();
    assert!(
        listed.iter().all(|c| !c.contains("null")),
        "a free-form schema admits null: {listed:#?}"
    );
    assert!(
        changes
            .iter()
            .any(|c| c.breaking && c.to_string().contains("type changed from string to any")),
        "{listed:#?}"
    );
    let back = diff(&spec(&new), &spec(&base()));
    let listed: Vec<String> = back.iter().map(ToString::to_string).collect();
    assert!(listed.iter().all(|c| !c.contains("null")), "{listed:#?}");
}

//! `info.version` follows semantic versioning by what `diff` reports since the last release
//! (`spec/released.json`): a breaking change needs a major bump (a minor one while 0.x).

mod common;

use common::{REAL_SPEC, remove};
use serde_json::Value;
use wacht_webhooks_generator::{Bump, Spec, Version, check_bump, diff};

const RELEASED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/released.json");

fn with_version(mut raw: Value, version: Version) -> Spec {
    raw["info"]["version"] = Value::from(version.to_string());
    Spec {
        source: REAL_SPEC.into(),
        raw,
    }
}

#[test]
fn the_spec_version_follows_the_last_release() {
    let (released, current) = (
        Spec::load(RELEASED).unwrap(),
        Spec::load(REAL_SPEC).unwrap(),
    );
    let changes = diff(&released, &current);
    if let Err(message) = check_bump(&released, &current, &changes) {
        panic!("spec/webhooks.yaml: {message}\n(the last release is spec/released.json)");
    }
}

#[test]
fn an_incompatible_change_fails_without_a_major_bump() {
    let current = Spec::load(REAL_SPEC).unwrap();
    let version = Version::of(&current).unwrap();
    let mut raw = current.raw.clone();
    remove(&mut raw, "/paths/~1webhooks~1apps~1{app_slug}/delete");
    let changes = diff(&current, &with_version(raw.clone(), version));

    for too_small in [Bump::None, Bump::Patch, Bump::Minor] {
        let next = with_version(raw.clone(), version.bumped(too_small));
        let message = check_bump(&current, &next, &changes)
            .expect_err("a breaking change needs a major bump");
        assert!(
            message.contains(&version.bumped(Bump::Major).to_string()),
            "{message}"
        );
    }
    let next = with_version(raw, version.bumped(Bump::Major));
    assert_eq!(check_bump(&current, &next, &changes), Ok(()));
}

#[test]
fn before_1_0_an_incompatible_change_needs_a_minor_bump() {
    let zero = Version::parse("0.3.1").unwrap();
    let old = with_version(Spec::load(REAL_SPEC).unwrap().raw, zero);
    let mut raw = old.raw.clone();
    remove(&mut raw, "/paths/~1webhooks~1apps~1{app_slug}/delete");
    let changes = diff(&old, &with_version(raw.clone(), zero));
    assert!(
        check_bump(
            &old,
            &with_version(raw.clone(), zero.bumped(Bump::Patch)),
            &changes
        )
        .is_err()
    );
    assert_eq!(
        check_bump(&old, &with_version(raw, zero.bumped(Bump::Minor)), &changes),
        Ok(())
    );
}

#[test]
fn a_compatible_change_needs_at_least_a_patch_bump() {
    let current = Spec::load(REAL_SPEC).unwrap();
    let version = Version::of(&current).unwrap();
    let mut raw = current.raw.clone();
    let mut added = raw["paths"]["/webhooks/apps/{app_slug}"].clone();
    added
        .as_object_mut()
        .unwrap()
        .retain(|method, _| method == "get");
    added["get"]["operationId"] = Value::from("ping_webhook_app");
    raw["paths"]["/webhooks/apps/{app_slug}/ping"] = added;
    let changes = diff(&current, &with_version(raw.clone(), version));
    assert!(
        !changes.is_empty() && changes.iter().all(|c| !c.breaking),
        "{changes:?}"
    );
    assert!(check_bump(&current, &with_version(raw.clone(), version), &changes).is_err());
    assert_eq!(
        check_bump(
            &current,
            &with_version(raw, version.bumped(Bump::Patch)),
            &changes
        ),
        Ok(())
    );
}

use std::time::Duration;

use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::*;

/// The Standard Webhooks specification's published vector.
const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SPEC_TS: i64 = 1_614_265_330;
const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

/// A vector computed independently of this crate, with a full Wacht envelope:
///
/// ```text
/// python3 -c 'import hmac,hashlib,base64; k=base64.b64decode("c2VjcmV0LWtleS1mb3Itd2FjaHQtdGVzdHM="); print("v1,"+base64.b64encode(hmac.new(k,b"msg_2hXkq9.1700000000.{\"type\":\"order.paid\",\"timestamp\":\"2023-11-14T22:13:20.000Z\",\"data\":{\"amount\":4200}}",hashlib.sha256).digest()).decode())'
/// ```
const PY_SECRET: &str = "whsec_c2VjcmV0LWtleS1mb3Itd2FjaHQtdGVzdHM=";
const PY_ID: &str = "msg_2hXkq9";
const PY_TS: i64 = 1_700_000_000;
const PY_BODY: &[u8] =
    br#"{"type":"order.paid","timestamp":"2023-11-14T22:13:20.000Z","data":{"amount":4200}}"#;
const PY_SIGNATURE: &str = "v1,rmDs6m0g96ggUdjbqcRXqGGtYaqbBboHsyx1aWWTp7U=";

const TOLERANCE: i64 = 300;

fn at(unix: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix, 0).expect("timestamp in chrono's range")
}

fn headers(id: &str, timestamp: &str, signature: &str) -> HeaderMap {
    let mut map = HeaderMap::new();
    map.insert(HEADER_ID, HeaderValue::from_str(id).unwrap());
    map.insert(HEADER_TIMESTAMP, HeaderValue::from_str(timestamp).unwrap());
    map.insert(HEADER_SIGNATURE, HeaderValue::from_str(signature).unwrap());
    map
}

fn spec() -> Webhook {
    Webhook::new(SPEC_SECRET).unwrap()
}

fn py() -> Webhook {
    Webhook::new(PY_SECRET).unwrap()
}

fn py_headers(signature: &str) -> HeaderMap {
    headers(PY_ID, &PY_TS.to_string(), signature)
}

/// Verifies the Python vector's body with the given signature header, at its own timestamp.
fn py_verify(signature: &str) -> Result<WebhookEvent<serde_json::Value>, VerifyError> {
    py().verify_at(&py_headers(signature), PY_BODY, at(PY_TS))
}

#[test]
fn published_vector_signs_and_verifies() {
    let webhook = spec();
    assert_eq!(webhook.sign(SPEC_ID, SPEC_TS, SPEC_BODY), SPEC_SIGNATURE);
    let map = headers(SPEC_ID, &SPEC_TS.to_string(), SPEC_SIGNATURE);
    assert_eq!(
        webhook.authenticate(&map, SPEC_BODY, at(SPEC_TS)),
        Ok(SPEC_ID)
    );
    // Through the public API: its body is not a Wacht envelope, so the check after the signature fails.
    let err = webhook
        .verify_at::<serde_json::Value>(&map, SPEC_BODY, at(SPEC_TS))
        .unwrap_err();
    assert!(matches!(err, VerifyError::InvalidPayload(_)), "{err:?}");
    let lenient = spec().with_tolerance(Duration::from_secs(u64::MAX));
    assert_eq!(lenient.verify_signature(&map, SPEC_BODY), Ok(()));
}

#[test]
fn independent_python_vector_verifies_with_envelope() {
    assert_eq!(py().sign(PY_ID, PY_TS, PY_BODY), PY_SIGNATURE);
    let event = py_verify(PY_SIGNATURE).unwrap();
    assert_eq!(event.id, PY_ID);
    assert_eq!(event.event_type, "order.paid");
    assert_eq!(event.timestamp, at(PY_TS));
    assert_eq!(event.data, json!({"amount": 4200}));
}

#[test]
fn secret_prefix_is_optional() {
    let bare = Webhook::new(SPEC_SECRET.strip_prefix("whsec_").unwrap()).unwrap();
    assert_eq!(bare.sign(SPEC_ID, SPEC_TS, SPEC_BODY), SPEC_SIGNATURE);
}

#[test]
fn invalid_secrets_fail_at_construction() {
    for secret in [
        "",
        "whsec_",
        "whsec_not base64!",
        "whsec_abc",
        "MfKQ9r8G=KYq",
    ] {
        let err = Webhook::new(secret).unwrap_err();
        assert!(
            matches!(err, VerifyError::InvalidSecret(_)),
            "{secret:?}: {err:?}"
        );
    }
}

#[test]
fn debug_redacts_the_key() {
    let shown = format!("{:?}", spec());
    assert!(shown.contains("redacted"), "{shown}");
    assert!(!shown.contains("MfKQ9r8"), "{shown}");
}

#[test]
fn tampered_body_is_refused() {
    let mut body = PY_BODY.to_vec();
    let at_digit = body.iter().position(|&b| b == b'4').unwrap();
    body[at_digit] = b'5';
    let err = py()
        .verify_at::<serde_json::Value>(&py_headers(PY_SIGNATURE), &body, at(PY_TS))
        .unwrap_err();
    assert_eq!(err, VerifyError::NoMatchingSignature);
}

#[test]
fn tampered_id_or_timestamp_is_refused() {
    let webhook = py();
    let other_id = headers("msg_2hXkq8", &PY_TS.to_string(), PY_SIGNATURE);
    let other_ts = headers(PY_ID, &(PY_TS + 1).to_string(), PY_SIGNATURE);
    for map in [other_id, other_ts] {
        let err = webhook.authenticate(&map, PY_BODY, at(PY_TS)).unwrap_err();
        assert_eq!(err, VerifyError::NoMatchingSignature);
    }
}

#[test]
fn wrong_secret_is_refused() {
    let err = spec()
        .verify_at::<serde_json::Value>(&py_headers(PY_SIGNATURE), PY_BODY, at(PY_TS))
        .unwrap_err();
    assert_eq!(err, VerifyError::NoMatchingSignature);
}

#[test]
fn truncated_empty_and_garbage_signatures_do_not_match() {
    let base64 = PY_SIGNATURE.strip_prefix("v1,").unwrap();
    let cases = [
        format!("v1,{}", &base64[..40]), // valid base64 of 30 bytes
        format!("v1,{}", &base64[..43]), // missing padding
        format!("v1,{}", &base64[..base64.len() - 1]), // one character short
        format!("v1,{base64}AAAA"),      // 35 bytes
        "v1,".to_owned(),
        "v1,garbage!!".to_owned(),
        "v1,%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%".to_owned(),
        format!("v1,{}", STANDARD.encode([0u8; 32])),
    ];
    for signature in &cases {
        assert_eq!(
            py_verify(signature).unwrap_err(),
            VerifyError::NoMatchingSignature,
            "{signature}"
        );
    }
}

#[test]
fn decoy_signatures_before_the_right_one_are_skipped() {
    let decoys = format!(
        "v1,{} v1,garbage v1, v1,{}  v2,xyz {PY_SIGNATURE}",
        STANDARD.encode([7u8; 32]),
        spec()
            .sign(PY_ID, PY_TS, PY_BODY)
            .strip_prefix("v1,")
            .unwrap()
    );
    assert!(py_verify(&decoys).is_ok());
}

#[test]
fn other_versions_are_ignored() {
    let base64 = PY_SIGNATURE.strip_prefix("v1,").unwrap();
    for version in ["v2", "v1a", "V1", "v0"] {
        let signature = format!("{version},{base64}");
        assert_eq!(
            py_verify(&signature).unwrap_err(),
            VerifyError::NoMatchingSignature,
            "{signature}"
        );
    }
    assert!(py_verify(&format!("v2,{base64} {PY_SIGNATURE} v1a,xyz")).is_ok());
}

#[test]
fn signatures_in_a_repeated_header_are_all_considered() {
    let mut map = py_headers("v1,AAAA");
    map.append(HEADER_SIGNATURE, HeaderValue::from_static(PY_SIGNATURE));
    assert!(
        py().verify_at::<serde_json::Value>(&map, PY_BODY, at(PY_TS))
            .is_ok()
    );
}

#[test]
fn malformed_signature_lists_are_invalid_headers() {
    for signature in [
        "",
        "   ",
        "v1",
        ",abc",
        &format!("{PY_SIGNATURE} v1"),
        &format!("garbage {PY_SIGNATURE}"),
    ] {
        let err = py_verify(signature).unwrap_err();
        assert!(
            matches!(
                err,
                VerifyError::InvalidHeader {
                    name: HEADER_SIGNATURE,
                    ..
                }
            ),
            "{signature:?}: {err:?}"
        );
    }
}

#[test]
fn timestamps_at_the_tolerance_are_accepted_and_one_second_beyond_refused() {
    let webhook = py();
    let map = py_headers(PY_SIGNATURE);
    let verify = |now| webhook.verify_at::<serde_json::Value>(&map, PY_BODY, at(now));
    assert!(verify(PY_TS + TOLERANCE).is_ok());
    assert_eq!(
        verify(PY_TS + TOLERANCE + 1).unwrap_err(),
        VerifyError::TimestampTooOld
    );
    assert!(verify(PY_TS - TOLERANCE).is_ok());
    assert_eq!(
        verify(PY_TS - TOLERANCE - 1).unwrap_err(),
        VerifyError::TimestampTooNew
    );
}

#[test]
fn custom_tolerance_applies_both_ways() {
    let webhook = py().with_tolerance(Duration::from_secs(10));
    let map = py_headers(PY_SIGNATURE);
    let verify = |now| webhook.verify_at::<serde_json::Value>(&map, PY_BODY, at(now));
    assert!(verify(PY_TS + 10).is_ok());
    assert!(verify(PY_TS - 10).is_ok());
    assert_eq!(
        verify(PY_TS + 11).unwrap_err(),
        VerifyError::TimestampTooOld
    );
    assert_eq!(
        verify(PY_TS - 11).unwrap_err(),
        VerifyError::TimestampTooNew
    );
}

#[test]
fn extreme_tolerance_and_clock_do_not_overflow() {
    let webhook = py().with_tolerance(Duration::MAX);
    let map = py_headers(PY_SIGNATURE);
    for now in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
        assert!(
            webhook
                .verify_at::<serde_json::Value>(&map, PY_BODY, now)
                .is_ok()
        );
    }
    let signature = py().sign(PY_ID, i64::MAX, PY_BODY);
    let far = headers(PY_ID, &i64::MAX.to_string(), &signature);
    assert_eq!(
        py().authenticate(&far, PY_BODY, DateTime::<Utc>::MIN_UTC),
        Err(VerifyError::TimestampTooNew)
    );
}

#[test]
fn a_bad_signature_is_reported_before_a_stale_timestamp() {
    let err = py()
        .verify_at::<serde_json::Value>(&py_headers("v1,AAAA"), PY_BODY, at(PY_TS + 10_000))
        .unwrap_err();
    assert_eq!(err, VerifyError::NoMatchingSignature);
}

#[test]
fn each_missing_header_is_named() {
    for name in [HEADER_ID, HEADER_TIMESTAMP, HEADER_SIGNATURE] {
        let mut map = py_headers(PY_SIGNATURE);
        map.remove(name);
        let err = py()
            .verify_at::<serde_json::Value>(&map, PY_BODY, at(PY_TS))
            .unwrap_err();
        assert_eq!(err, VerifyError::MissingHeader(name));
    }
}

#[test]
fn non_numeric_timestamps_are_invalid_headers() {
    for timestamp in [
        "abc",
        "-5",
        "+1700000000",
        "1.5",
        " 1700000000",
        "1e9",
        "0x10",
    ] {
        let map = headers(PY_ID, timestamp, PY_SIGNATURE);
        let err = py()
            .verify_at::<serde_json::Value>(&map, PY_BODY, at(PY_TS))
            .unwrap_err();
        assert_eq!(
            err,
            invalid(HEADER_TIMESTAMP, "not a number of seconds"),
            "{timestamp:?}"
        );
    }
    let map = headers(PY_ID, "99999999999999999999", PY_SIGNATURE);
    let err = py().authenticate(&map, PY_BODY, at(PY_TS)).unwrap_err();
    assert_eq!(err, invalid(HEADER_TIMESTAMP, "out of range"));
}

#[test]
fn empty_repeated_and_non_ascii_headers_are_invalid() {
    for name in [HEADER_ID, HEADER_TIMESTAMP] {
        let mut empty = py_headers(PY_SIGNATURE);
        empty.insert(name, HeaderValue::from_static(""));
        let mut repeated = py_headers(PY_SIGNATURE);
        let copy = repeated[name].clone();
        repeated.append(name, copy);
        for (map, reason) in [(empty, "empty"), (repeated, "repeated")] {
            let err = py().authenticate(&map, PY_BODY, at(PY_TS)).unwrap_err();
            assert_eq!(err, invalid(name, reason));
        }
    }
    for name in [HEADER_ID, HEADER_TIMESTAMP, HEADER_SIGNATURE] {
        let mut map = py_headers(PY_SIGNATURE);
        map.insert(name, HeaderValue::from_bytes(b"v1,\xff\xfe").unwrap());
        let err = py().authenticate(&map, PY_BODY, at(PY_TS)).unwrap_err();
        assert_eq!(err, invalid(name, "not visible ASCII"));
    }
}

#[derive(Debug, Deserialize, PartialEq)]
struct OrderPaid {
    amount: u64,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Refund {
    refund_id: String,
}

#[test]
fn verify_as_deserializes_data() {
    let event: WebhookEvent<OrderPaid> = py()
        .verify_at(&py_headers(PY_SIGNATURE), PY_BODY, at(PY_TS))
        .unwrap();
    assert_eq!(event.data, OrderPaid { amount: 4200 });
    assert_eq!(event.event_type, "order.paid");
}

#[test]
fn authentic_bodies_of_the_wrong_shape_are_invalid_payloads() {
    let webhook = py();
    let wrong_type = webhook
        .verify_at::<Refund>(&py_headers(PY_SIGNATURE), PY_BODY, at(PY_TS))
        .unwrap_err();
    assert!(matches!(wrong_type, VerifyError::InvalidPayload(_)));
    for body in [
        &b"not json"[..],
        br#"{"timestamp":"2023-11-14T22:13:20Z","data":{}}"#,
        br#"{"type":"a","timestamp":"yesterday","data":{}}"#,
        br#"{"type":"a","timestamp":"2023-11-14T22:13:20Z"}"#,
    ] {
        let map = py_headers(&webhook.sign(PY_ID, PY_TS, body));
        let err = webhook
            .verify_at::<serde_json::Value>(&map, body, at(PY_TS))
            .unwrap_err();
        assert!(matches!(err, VerifyError::InvalidPayload(_)), "{err:?}");
    }
}

#[test]
fn verify_uses_the_system_clock() {
    let webhook = py();
    let now = Utc::now().timestamp();
    let map = headers(PY_ID, &now.to_string(), &webhook.sign(PY_ID, now, PY_BODY));
    assert_eq!(webhook.verify(&map, PY_BODY).unwrap().data["amount"], 4200);
    assert_eq!(webhook.verify_signature(&map, PY_BODY), Ok(()));
    let stale = py_headers(PY_SIGNATURE);
    assert_eq!(
        webhook.verify(&stale, PY_BODY).unwrap_err(),
        VerifyError::TimestampTooOld
    );
}

#[test]
fn error_messages_never_show_the_secret_or_the_expected_signature() {
    let expected = PY_SIGNATURE.strip_prefix("v1,").unwrap();
    let secret = PY_SECRET.strip_prefix("whsec_").unwrap();
    let errors = [
        Webhook::new("whsec_!!").unwrap_err(),
        py_verify("v1,AAAA").unwrap_err(),
        py_verify("v1").unwrap_err(),
        py().verify(&py_headers(PY_SIGNATURE), PY_BODY).unwrap_err(),
        py().verify_at::<Refund>(&py_headers(PY_SIGNATURE), PY_BODY, at(PY_TS))
            .unwrap_err(),
    ];
    for err in errors {
        let text = format!("{err} {err:?}");
        assert!(!text.contains(expected) && !text.contains(secret), "{text}");
    }
}

proptest! {
    #[test]
    fn signed_messages_verify(
        id in "[!-~]{1,100}",
        timestamp in 0i64..=253_402_300_799,
        body in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        let webhook = py();
        let map = headers(&id, &timestamp.to_string(), &webhook.sign(&id, timestamp, &body));
        prop_assert_eq!(webhook.authenticate(&map, &body, at(timestamp)), Ok(id.as_str()));
    }

    #[test]
    fn signed_envelopes_verify_with_their_data(
        id in "[!-~]{1,100}",
        timestamp in 0i64..=253_402_300_799,
        data in any::<String>(),
    ) {
        let webhook = py();
        let body = json!({"type": "t", "timestamp": at(timestamp), "data": data}).to_string();
        let map = headers(&id, &timestamp.to_string(), &webhook.sign(&id, timestamp, body.as_bytes()));
        let event = webhook.verify_at::<String>(&map, body.as_bytes(), at(timestamp)).unwrap();
        prop_assert_eq!(event.data, data);
        prop_assert_eq!(event.id, id);
    }

    #[test]
    fn any_single_byte_change_to_the_body_fails(
        body in proptest::collection::vec(any::<u8>(), 1..4096),
        index in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let webhook = py();
        let map = py_headers(&webhook.sign(PY_ID, PY_TS, &body));
        let mut changed = body.clone();
        changed[index.index(body.len())] ^= flip;
        prop_assert_eq!(
            webhook.authenticate(&map, &changed, at(PY_TS)),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn arbitrary_headers_are_refused_without_panicking(
        id in proptest::collection::vec(any::<u8>(), 0..64),
        timestamp in proptest::collection::vec(any::<u8>(), 0..32),
        signature in proptest::collection::vec(any::<u8>(), 0..256),
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let mut map = HeaderMap::new();
        for (name, value) in [(HEADER_ID, id), (HEADER_TIMESTAMP, timestamp), (HEADER_SIGNATURE, signature)] {
            if let Ok(value) = HeaderValue::from_bytes(&value) {
                map.insert(name, value);
            }
        }
        prop_assert!(py().verify_at::<serde_json::Value>(&map, &body, at(PY_TS)).is_err());
    }
}

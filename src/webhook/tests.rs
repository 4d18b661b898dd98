use std::time::Duration;

use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use serde::Deserialize;
use serde::de::DeserializeOwned;
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
fn debug_redacts_the_key_and_shows_the_window() {
    let shown = format!("{:?}", spec());
    assert!(shown.contains("redacted"), "{shown}");
    assert!(!shown.contains("MfKQ9r8"), "{shown}");
    assert!(
        shown.contains("max_age: 606090s") && shown.contains("max_future_skew: 300s"),
        "{shown}"
    );
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

/// Wacht's waits after attempts 1, 2, 3 and 4, then after every later one, in seconds (read in the backend,
/// `calculate_next_retry`); written out here independently of the crate's constants.
fn production_wait_after(attempt: u32) -> i64 {
    match attempt {
        1 => 30,
        2 => 60,
        3 => 5 * 60,
        4 => 15 * 60,
        _ => 6 * 60 * 60,
    }
}

/// Seconds from the trigger to attempt `n` (1-based) when every earlier attempt failed at once.
fn production_send_offset(n: u32) -> i64 {
    (1..n).map(production_wait_after).sum()
}

#[test]
fn the_default_max_age_is_the_retry_horizon_plus_one_six_hour_wait() {
    assert_eq!(production_send_offset(32), 584_490);
    assert_eq!(retry_horizon_secs(32), 584_490);
    assert_eq!(retry_horizon_secs(1), 0);
    assert_eq!(retry_horizon_secs(4), 390);
    assert_eq!(DEFAULT_MAX_AGE, Duration::from_secs(584_490 + 6 * 3600));
    assert_eq!(DEFAULT_MAX_FUTURE_SKEW, Duration::from_secs(300));
}

#[test]
fn every_attempt_of_a_default_delivery_verifies_with_the_default_window() {
    let map = py_headers(PY_SIGNATURE);
    let symmetric = py().with_tolerance(Duration::from_secs(300));
    for attempt in 1..=32 {
        let sent = at(PY_TS + production_send_offset(attempt));
        let event = py()
            .verify_at::<OrderPaid>(&map, PY_BODY, sent)
            .unwrap_or_else(|e| panic!("attempt {attempt}: {e:?}"));
        assert_eq!(event.id, PY_ID);
        // The Standard Webhooks window of ±5 minutes loses every attempt from the fourth on.
        let old = symmetric.verify_at::<OrderPaid>(&map, PY_BODY, sent);
        if attempt < 4 {
            assert!(old.is_ok(), "attempt {attempt}");
        } else {
            assert_eq!(
                old.unwrap_err(),
                VerifyError::TimestampTooOld,
                "attempt {attempt}"
            );
        }
    }
}

#[test]
fn the_default_window_edges_are_exact() {
    let webhook = py();
    let map = py_headers(PY_SIGNATURE);
    let verify = |now| webhook.verify_at::<serde_json::Value>(&map, PY_BODY, at(now));
    let max_age = DEFAULT_MAX_AGE.as_secs() as i64;
    let skew = DEFAULT_MAX_FUTURE_SKEW.as_secs() as i64;
    assert!(verify(PY_TS + max_age).is_ok());
    assert_eq!(
        verify(PY_TS + max_age + 1).unwrap_err(),
        VerifyError::TimestampTooOld
    );
    assert!(verify(PY_TS - skew).is_ok());
    assert_eq!(
        verify(PY_TS - skew - 1).unwrap_err(),
        VerifyError::TimestampTooNew
    );
}

#[test]
fn max_age_and_max_future_skew_are_set_separately() {
    let map = py_headers(PY_SIGNATURE);
    let webhook = py()
        .with_max_age(Duration::from_secs(10))
        .with_max_future_skew(Duration::from_secs(20));
    let verify =
        |webhook: &Webhook, now| webhook.verify_at::<serde_json::Value>(&map, PY_BODY, at(now));
    assert!(verify(&webhook, PY_TS + 10).is_ok());
    assert_eq!(
        verify(&webhook, PY_TS + 11).unwrap_err(),
        VerifyError::TimestampTooOld
    );
    assert!(verify(&webhook, PY_TS - 20).is_ok());
    assert_eq!(
        verify(&webhook, PY_TS - 21).unwrap_err(),
        VerifyError::TimestampTooNew
    );

    // Each setter leaves the other bound at its default.
    let skew_only = py().with_max_future_skew(Duration::ZERO);
    assert!(verify(&skew_only, PY_TS + production_send_offset(32)).is_ok());
    assert_eq!(
        verify(&skew_only, PY_TS - 1).unwrap_err(),
        VerifyError::TimestampTooNew
    );
    let age_only = py().with_max_age(Duration::ZERO);
    assert_eq!(
        verify(&age_only, PY_TS + 1).unwrap_err(),
        VerifyError::TimestampTooOld
    );
    assert!(verify(&age_only, PY_TS - 300).is_ok());
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

/// The replay's time and the original event's time, as Wacht writes them.
const T2: &str = "2023-11-15T08:00:00.000Z";
const T1: &str = "2023-11-14T22:13:20.000Z";

/// Verifies `body` (signed now by the Python vector's key) as JSON.
fn verify_body(body: &str) -> Result<WebhookEvent<serde_json::Value>, VerifyError> {
    verify_body_as(body)
}

fn verify_body_as<T: DeserializeOwned>(body: &str) -> Result<WebhookEvent<T>, VerifyError> {
    let webhook = py();
    let map = py_headers(&webhook.sign(PY_ID, PY_TS, body.as_bytes()));
    webhook.verify_at(&map, body.as_bytes(), at(PY_TS))
}

/// `{"type": event_type, "timestamp": timestamp, "data": data}`, keys in Wacht's order.
fn envelope(event_type: &str, timestamp: &str, data: &str) -> String {
    format!(
        r#"{{"type":{},"timestamp":"{timestamp}","data":{data}}}"#,
        json!(event_type)
    )
}

fn time(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn a_replayed_envelope_is_unwrapped_to_the_original_payload() {
    let original = envelope("order.paid", T1, r#"{"amount":4200}"#);
    let body = envelope("order.paid", T2, &original);
    let event = verify_body(&body).unwrap();
    assert_eq!(event.data, json!({"amount": 4200}));
    assert_eq!(event.event_type, "order.paid");
    assert!(event.is_replay());
    assert_eq!(event.timestamp, time(T1));
    assert_eq!(event.replayed_at, Some(time(T2)));

    let typed: WebhookEvent<OrderPaid> = verify_body_as(&body).unwrap();
    assert_eq!(typed.data, OrderPaid { amount: 4200 });
    assert_eq!(
        (typed.timestamp, typed.replayed_at),
        (time(T1), Some(time(T2)))
    );
}

#[test]
fn an_original_delivery_is_not_a_replay() {
    let event = py_verify(PY_SIGNATURE).unwrap();
    assert!(!event.is_replay());
    assert_eq!(event.replayed_at, None);
}

#[test]
fn replays_are_recognised_whatever_the_key_order_and_escapes() {
    // Keys sorted (as serde_json without `preserve_order` writes them), whitespace, and escaped strings.
    let body = format!(
        r#" {{ "data" : {{"data":{{"amount":4200}}, "timestamp":"{T1}", "t\u0079pe":"order\u002epaid"}},
            "timestamp":"{T2}", "type":"order.paid" }} "#
    );
    let event: WebhookEvent<OrderPaid> = verify_body_as(&body).unwrap();
    assert_eq!(event.data, OrderPaid { amount: 4200 });
    assert_eq!(event.replayed_at, Some(time(T2)));
}

#[test]
fn a_replay_of_a_replay_is_unwrapped_to_the_first_payload() {
    let t3 = "2023-11-16T09:30:00.000Z";
    let first = envelope("order.paid", T1, r#"{"amount":4200}"#);
    let replay = envelope("order.paid", T2, &first);
    let body = envelope("order.paid", t3, &replay);
    let event: WebhookEvent<OrderPaid> = verify_body_as(&body).unwrap();
    assert_eq!(event.data, OrderPaid { amount: 4200 });
    assert_eq!(event.timestamp, time(T1));
    assert_eq!(event.replayed_at, Some(time(t3)));
}

#[test]
fn replays_may_carry_any_json_payload() {
    for payload in ["null", "true", "12.5", r#""text""#, "[1,[2],{}]", "{}"] {
        let body = envelope("e", T2, &envelope("e", T1, payload));
        let event = verify_body(&body).unwrap();
        assert!(event.is_replay(), "{payload}");
        assert_eq!(
            event.data,
            serde_json::from_str::<serde_json::Value>(payload).unwrap()
        );
    }
    // Same timestamps (a replay within the second of its original) are a replay too.
    let body = envelope("e", T1, &envelope("e", T1, "7"));
    assert_eq!(verify_body(&body).unwrap().data, json!(7));
}

#[test]
fn bodies_that_merely_resemble_a_replay_are_left_alone() {
    let later = "2023-11-15T08:00:01.000Z";
    let look_alikes = [
        // A fourth key, or one missing.
        format!(r#"{{"type":"e","timestamp":"{T1}","data":{{}},"extra":1}}"#),
        format!(r#"{{"type":"e","timestamp":"{T1}"}}"#),
        r#"{"type":"e","data":{}}"#.to_owned(),
        r#"{"timestamp":"2023-11-14T22:13:20Z","data":{}}"#.to_owned(),
        // A key twice.
        format!(r#"{{"type":"e","type":"e","timestamp":"{T1}","data":{{}}}}"#),
        format!(r#"{{"type":"e","timestamp":"{T1}","data":1,"data":2}}"#),
        // Another event type: a payload of the user's own with these three keys.
        envelope("invoice.paid", T1, r#"{"id":"in_1"}"#),
        envelope("E", T1, "{}"),
        // `type` or `timestamp` of another JSON type, or not RFC 3339.
        format!(r#"{{"type":["e"],"timestamp":"{T1}","data":{{}}}}"#),
        format!(r#"{{"type":null,"timestamp":"{T1}","data":{{}}}}"#),
        r#"{"type":"e","timestamp":1700000000,"data":{}}"#.to_owned(),
        r#"{"type":"e","timestamp":{"at":"2023-11-14T22:13:20Z"},"data":{}}"#.to_owned(),
        envelope("e", "2023-11-14", "{}"),
        envelope("e", "yesterday", "{}"),
        envelope("e", "2023-11-14T22:13:20", "{}"),
        // Later than the envelope around it.
        envelope("e", later, "{}"),
        envelope("e", "2023-11-15T07:00:01-01:00", "{}"),
        // Not an object at all.
        r#"[{"type":"e","timestamp":"2023-11-14T22:13:20Z","data":{}}]"#.to_owned(),
        format!("{:?}", envelope("e", T1, "{}")),
    ];
    for data in &look_alikes {
        let event = verify_body(&envelope("e", T2, data)).unwrap();
        assert!(!event.is_replay(), "{data}");
        assert_eq!(event.timestamp, time(T2), "{data}");
        let expected: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(event.data, expected, "{data}");
    }
}

#[test]
fn only_the_levels_that_follow_the_rule_are_unwrapped() {
    // A replay whose original payload is the user's own envelope-like object of another type.
    let own = envelope("invoice.paid", T1, r#"{"id":"in_1"}"#);
    let body = envelope("e", T2, &envelope("e", T1, &own));
    let event = verify_body(&body).unwrap();
    assert!(event.is_replay());
    assert_eq!(
        event.data,
        serde_json::from_str::<serde_json::Value>(&own).unwrap()
    );

    // The rule compares each level with the one around it: a later inner time stops the unwrapping there.
    let inner = envelope("e", "2023-11-15T07:00:00.000Z", "1");
    let body = envelope("e", T2, &envelope("e", T1, &inner));
    let event = verify_body(&body).unwrap();
    assert_eq!(event.timestamp, time(T1));
    assert_eq!(
        event.data,
        serde_json::from_str::<serde_json::Value>(&inner).unwrap()
    );
}

#[test]
fn a_payload_of_exactly_the_replay_shape_is_unwrapped() {
    // Documented limit of the rule: the same event type and an earlier time cannot be told from a replay.
    let body = envelope("e", T2, &envelope("e", T1, r#"{"k":1}"#));
    assert_eq!(verify_body(&body).unwrap().data, json!({"k": 1}));
}

#[test]
fn unwrapping_stops_at_max_replay_depth() {
    let mut nested = "0".to_owned();
    for _ in 0..MAX_REPLAY_DEPTH + 1 {
        nested = envelope("e", T1, &nested);
    }
    let event = verify_body(&envelope("e", T2, &nested)).unwrap();
    assert!(event.is_replay());
    // One envelope (around the payload 0) was left in `data`.
    assert_eq!(event.data, json!({"type": "e", "timestamp": T1, "data": 0}));
}

#[test]
fn broken_replays_are_invalid_payloads() {
    let replay = envelope(
        "order.paid",
        T2,
        &envelope("order.paid", T1, r#"{"amount":"lots"}"#),
    );
    let err = verify_body_as::<OrderPaid>(&replay).unwrap_err();
    assert!(matches!(err, VerifyError::InvalidPayload(_)), "{err:?}");

    let trailing = format!("{} x", envelope("e", T2, &envelope("e", T1, "1")));
    let err = verify_body(&trailing).unwrap_err();
    assert!(matches!(err, VerifyError::InvalidPayload(_)), "{err:?}");

    // Too deep for serde_json (128 levels): refused, not a stack overflow.
    let mut nested = "0".to_owned();
    for _ in 0..200 {
        nested = envelope("e", T1, &nested);
    }
    let err = verify_body(&envelope("e", T2, &nested)).unwrap_err();
    assert!(matches!(err, VerifyError::InvalidPayload(_)), "{err:?}");
}

/// Pieces of JSON that often make up envelopes, to assemble near-envelopes from.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    r#""type""#,
    r#""timestamp""#,
    r#""data""#,
    r#""e""#,
    r#""x""#,
    r#""2023-11-14T22:13:20.000Z""#,
    r#""2023-11-15T08:00:00Z""#,
    "1",
    "null",
    " ",
    r#""\u0065""#,
];

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

    #[test]
    fn signed_near_envelopes_never_panic(
        pieces in proptest::collection::vec(0..TOKENS.len(), 0..60),
    ) {
        let body: String = pieces.iter().map(|&i| TOKENS[i]).collect();
        let result = verify_body(&body);
        prop_assert!(matches!(result, Ok(_) | Err(VerifyError::InvalidPayload(_))));
        let typed = verify_body_as::<OrderPaid>(&body);
        prop_assert!(matches!(typed, Ok(_) | Err(VerifyError::InvalidPayload(_))));
    }

    #[test]
    fn replays_unwrap_to_their_original_payload(
        payload in json_value(),
        levels in 1usize..5,
    ) {
        let mut body = payload.to_string();
        for level in 0..=levels {
            // Older inwards: level 0 is the original, `levels` the body itself.
            let at = at(PY_TS + level as i64).to_rfc3339();
            body = envelope("t", &at, &body);
        }
        let event = verify_body(&body).unwrap();
        prop_assert!(event.is_replay());
        prop_assert_eq!(event.timestamp, at(PY_TS));
        prop_assert_eq!(event.replayed_at, Some(at(PY_TS + levels as i64)));
        prop_assert_eq!(event.data, payload);
    }
}

/// Arbitrary JSON, up to a few levels deep; objects may use the envelope's key names.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[a-z\"\\\\ ]{0,8}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map("type|timestamp|data|[a-z]{1,3}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

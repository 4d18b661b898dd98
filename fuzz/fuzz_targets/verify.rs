//! Verification must never panic, whatever the headers, body, secret, tolerance or clock; and a correctly
//! signed message must never be refused for its signature.

#![no_main]

use std::time::Duration;

use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use wacht_webhooks::{VerifyError, Webhook};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    secret: Option<&'a str>,
    tolerance_secs: u64,
    now: i64,
    id: &'a [u8],
    timestamp: &'a [u8],
    signature: &'a [u8],
    extra_headers: Vec<(&'a [u8], &'a [u8])>,
    /// Replace the signature with a correct one (kept after the fuzzed entries as decoys).
    sign: Option<u32>,
    body: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let webhook = match input.secret.map(Webhook::new) {
        Some(Ok(webhook)) => webhook,
        Some(Err(_)) | None => Webhook::new(SECRET).unwrap(),
    }
    .with_tolerance(Duration::from_secs(input.tolerance_secs));
    let now = DateTime::from_timestamp(input.now, 0).unwrap_or(DateTime::<Utc>::MIN_UTC);

    let mut headers = HeaderMap::new();
    insert(&mut headers, "webhook-id", input.id);
    insert(&mut headers, "webhook-timestamp", input.timestamp);
    insert(&mut headers, "webhook-signature", input.signature);
    for (name, value) in &input.extra_headers {
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            headers.append(name, value);
        }
    }

    let _ = webhook.verify_at::<serde_json::Value>(&headers, input.body, now);
    let _ = webhook.verify_signature(&headers, input.body);
    let _ = webhook.verify(&headers, input.body);

    if let Some(timestamp) = input.sign {
        check_signed(&webhook, &mut headers, &input, i64::from(timestamp));
    }
});

fn insert(headers: &mut HeaderMap, name: &'static str, value: &[u8]) {
    if let Ok(value) = HeaderValue::from_bytes(value) {
        headers.insert(name, value);
    }
}

/// Signs the fuzzed id and body, keeps the fuzzed signatures as decoys, and checks at the signing time.
fn check_signed(webhook: &Webhook, headers: &mut HeaderMap, input: &Input<'_>, timestamp: i64) {
    let Some(id) = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return;
    };
    let signature = webhook.sign(&id, timestamp, input.body);
    headers.insert("webhook-timestamp", HeaderValue::from(timestamp));
    let decoys = headers
        .get("webhook-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let list = format!("{decoys} {signature}");
    headers.insert("webhook-signature", HeaderValue::from_str(&list).unwrap());
    let now = DateTime::from_timestamp(timestamp, 0).unwrap();
    match webhook.verify_at::<serde_json::Value>(headers, input.body, now) {
        Ok(event) => assert_eq!(event.id, id),
        // Repeated or empty id/timestamp headers (from extra_headers), malformed decoys, and bodies that are
        // not envelopes are legitimately refused; a valid signature never is.
        Err(VerifyError::InvalidHeader { .. } | VerifyError::InvalidPayload(_)) => {}
        Err(other) => panic!("a correctly signed message was refused: {other:?}"),
    }
}

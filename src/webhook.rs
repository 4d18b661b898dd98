//! Verifying the webhooks Wacht delivers ([Standard Webhooks]).
//!
//! Every delivery is a `POST` whose JSON body is the envelope
//! `{"type": "<event name>", "timestamp": "<RFC 3339>", "data": <payload>}`, with three headers:
//!
//! - `webhook-id`: the message id (`msg_...`), stable across retries: use it to deduplicate;
//! - `webhook-timestamp`: the signing time, in Unix seconds;
//! - `webhook-signature`: one or more space-separated `v1,<base64>` signatures, each an HMAC-SHA256 of
//!   `{webhook-id}.{webhook-timestamp}.{raw body}` keyed with the app's `signing_secret`.
//!
//! [`Webhook::verify`] checks all of this on the raw body bytes (never on re-serialised JSON), in constant time, and
//! only then parses the envelope. Build one [`Webhook`] per secret at start-up and share it: verifying takes `&self`.
//!
//! ```
//! use http::{HeaderMap, HeaderValue};
//! use wacht_webhooks::{VerifyError, Webhook};
//!
//! # fn main() -> Result<(), VerifyError> {
//! // The app's `signing_secret`; the `whsec_` prefix is optional.
//! let webhook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//!
//! // What a delivery looks like (here signed locally, so that the example runs).
//! let body = br#"{"type":"user.created","timestamp":"2024-05-01T12:00:00.000Z","data":{"id":42}}"#;
//! let now = chrono::Utc::now().timestamp();
//! let mut headers = HeaderMap::new();
//! headers.insert("webhook-id", HeaderValue::from_static("msg_2b7f"));
//! headers.insert("webhook-timestamp", HeaderValue::from(now));
//! let signature = webhook.sign("msg_2b7f", now, body);
//! headers.insert("webhook-signature", HeaderValue::from_str(&signature).unwrap());
//!
//! let event = webhook.verify(&headers, body)?;
//! assert_eq!(event.id, "msg_2b7f");
//! assert_eq!(event.event_type, "user.created");
//! assert_eq!(event.data["id"], 42);
//!
//! // One changed byte and the delivery is refused.
//! let mut forged = body.to_vec();
//! forged[60] ^= 1;
//! assert_eq!(webhook.verify(&headers, &forged).unwrap_err(), VerifyError::NoMatchingSignature);
//! # Ok(())
//! # }
//! ```
//!
//! The other entry points: [`Webhook::verify_as`] deserializes `data` into your own type;
//! [`Webhook::verify_signature`] only authenticates, for receivers that parse the body themselves;
//! [`Webhook::verify_at`] takes the clock reading as an argument (tests, recorded deliveries). With the cargo
//! feature `axum`, [`VerifiedWebhook`] does the same as an extractor.
//!
//! [Standard Webhooks]: https://www.standardwebhooks.com/

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use http::header::GetAll;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

#[cfg(feature = "axum")]
mod axum;
#[cfg(feature = "axum")]
pub use self::axum::{VerifiedWebhook, VerifiedWebhookRejection};

#[cfg(test)]
mod tests;

/// Name of the header carrying the message id.
pub const HEADER_ID: &str = "webhook-id";
/// Name of the header carrying the signing time in Unix seconds.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Name of the header carrying the space-separated signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// How far the `webhook-timestamp` may be from the receiver's clock, either way, unless set with
/// [`Webhook::with_tolerance`] (the Standard Webhooks recommendation).
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

// Looking a header up by `&str` parses the name on every call; these are parsed once.
static ID_NAME: HeaderName = HeaderName::from_static(HEADER_ID);
static TIMESTAMP_NAME: HeaderName = HeaderName::from_static(HEADER_TIMESTAMP);
static SIGNATURE_NAME: HeaderName = HeaderName::from_static(HEADER_SIGNATURE);

const SECRET_PREFIX: &str = "whsec_";
const SIGNATURE_VERSION: &str = "v1";

/// Why a delivery (or a secret) was refused.
///
/// No message ever contains the secret or the signature the receiver expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The secret given to [`Webhook::new`] is empty or not base64 (after an optional `whsec_` prefix).
    #[error("invalid webhook secret: {0}")]
    InvalidSecret(&'static str),
    /// A required header (`webhook-id`, `webhook-timestamp` or `webhook-signature`) is absent.
    #[error("missing `{0}` header")]
    MissingHeader(&'static str),
    /// A header is present but unusable: not visible ASCII, empty, repeated (id and timestamp), a timestamp
    /// that is not a number of seconds, or a signature list whose entries are not `version,signature`.
    #[error("invalid `{name}` header: {reason}")]
    InvalidHeader {
        /// The header's name.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The signature is valid but the timestamp is older than the tolerance allows: a stale or replayed
    /// delivery, or a receiver clock that runs ahead.
    #[error("webhook timestamp is too old")]
    TimestampTooOld,
    /// The signature is valid but the timestamp is further in the future than the tolerance allows: a
    /// receiver clock that runs behind.
    #[error("webhook timestamp is too far in the future")]
    TimestampTooNew,
    /// No `v1` signature in `webhook-signature` matches the body and headers: a forged or altered delivery,
    /// or the wrong secret (for example an old one after a rotation).
    #[error("no matching webhook signature")]
    NoMatchingSignature,
    /// The delivery is authentic, but its body is not the envelope `{type, timestamp, data}` or its `data`
    /// does not deserialize into the requested type.
    #[error("invalid webhook payload: {0}")]
    InvalidPayload(String),
}

/// A verified delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent<T> {
    /// The `webhook-id` header (`msg_...`): the same for every retry of a delivery, so a good idempotency key.
    pub id: String,
    /// The body's `type`: the event name given when the event was triggered.
    pub event_type: String,
    /// The body's `timestamp`: when the event was created, to the millisecond. It is covered by the signature,
    /// like the `webhook-timestamp` header that the tolerance check uses (which holds the same instant in
    /// whole seconds).
    pub timestamp: DateTime<Utc>,
    /// The body's `data`: the payload the event was triggered with.
    pub data: T,
}

/// A verifier (and signer) of Standard Webhooks deliveries for one signing secret.
///
/// Cheap to clone; its `Debug` output never shows the key.
#[derive(Clone)]
pub struct Webhook {
    /// The HMAC state right after absorbing the key: each message starts from a copy of it, which spares
    /// hashing the key pads again for every delivery.
    keyed: Hmac<Sha256>,
    tolerance_secs: u64,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("key", &"<redacted>")
            .field("tolerance", &Duration::from_secs(self.tolerance_secs))
            .finish()
    }
}

/// The body's shape; unknown fields are ignored so that new envelope fields do not break receivers.
#[derive(Deserialize)]
struct Envelope<T> {
    #[serde(rename = "type")]
    event_type: String,
    timestamp: DateTime<Utc>,
    data: T,
}

impl Webhook {
    /// Creates a verifier from a signing secret: base64, with or without the `whsec_` prefix (as in the app's
    /// `signing_secret`).
    ///
    /// # Errors
    ///
    /// [`VerifyError::InvalidSecret`] if the secret is empty or not standard, padded base64.
    pub fn new(secret: impl AsRef<str>) -> Result<Self, VerifyError> {
        let secret = secret.as_ref();
        let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| VerifyError::InvalidSecret("not valid base64"))?;
        if key.is_empty() {
            return Err(VerifyError::InvalidSecret("empty key"));
        }
        let keyed = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC accepts keys of any length");
        Ok(Webhook {
            keyed,
            tolerance_secs: DEFAULT_TOLERANCE.as_secs(),
        })
    }

    /// Sets how far (in whole seconds, either way) `webhook-timestamp` may be from the clock. Default:
    /// [`DEFAULT_TOLERANCE`] (5 minutes).
    #[must_use]
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance_secs = tolerance.as_secs();
        self
    }

    /// Verifies a delivery against the system clock and returns its envelope with `data` as JSON.
    ///
    /// `body` must be the raw bytes received. Checks, in order: the three headers are present and well formed,
    /// one `v1` signature matches, the timestamp is within the tolerance, the body is the envelope. A timestamp
    /// error therefore always concerns an authentic delivery.
    ///
    /// # Errors
    ///
    /// The first failed check, as a [`VerifyError`].
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<WebhookEvent<serde_json::Value>, VerifyError> {
        self.verify_at(headers, body, Utc::now())
    }

    /// Like [`verify`](Self::verify), deserializing `data` into `T`.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify); [`VerifyError::InvalidPayload`] when `data` does not fit `T`.
    pub fn verify_as<T: DeserializeOwned>(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<WebhookEvent<T>, VerifyError> {
        self.verify_at(headers, body, Utc::now())
    }

    /// Like [`verify_as`](Self::verify_as), with the clock reading `now` instead of the system clock: for tests,
    /// or to check a recorded delivery as of when it was received.
    ///
    /// # Errors
    ///
    /// As [`verify_as`](Self::verify_as).
    pub fn verify_at<T: DeserializeOwned>(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<WebhookEvent<T>, VerifyError> {
        let id = self.authenticate(headers, body, now)?;
        let envelope: Envelope<T> =
            serde_json::from_slice(body).map_err(|e| VerifyError::InvalidPayload(e.to_string()))?;
        Ok(WebhookEvent {
            id: id.to_owned(),
            event_type: envelope.event_type,
            timestamp: envelope.timestamp,
            data: envelope.data,
        })
    }

    /// Checks the headers, signature and timestamp of a delivery against the system clock without parsing
    /// the body: for receivers that parse the body themselves. Once this returns `Ok`, `body` is authentic.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify), except that the body is never looked at as JSON.
    pub fn verify_signature(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
        self.authenticate(headers, body, Utc::now()).map(|_| ())
    }

    /// Signs a message as Wacht does and returns the `webhook-signature` value (`v1,<base64>`).
    ///
    /// Useful to test receivers; `unix_timestamp` goes into the signed content in decimal, exactly as it must
    /// then appear in `webhook-timestamp` (which [`verify`](Self::verify) only accepts non-negative).
    pub fn sign(&self, msg_id: &str, unix_timestamp: i64, body: &[u8]) -> String {
        let tag = self.tag(msg_id, &unix_timestamp.to_string(), body);
        let mut signature = String::with_capacity(SIGNATURE_VERSION.len() + 1 + 44);
        signature.push_str(SIGNATURE_VERSION);
        signature.push(',');
        STANDARD.encode_string(tag, &mut signature);
        signature
    }

    /// Checks everything but the body's shape; returns the message id.
    fn authenticate<'h>(
        &self,
        headers: &'h HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<&'h str, VerifyError> {
        let id = single_header(headers, &ID_NAME)?;
        let raw_timestamp = single_header(headers, &TIMESTAMP_NAME)?;
        let timestamp = parse_timestamp(raw_timestamp)?;
        let signatures = headers.get_all(&SIGNATURE_NAME);
        if signatures.iter().next().is_none() {
            return Err(VerifyError::MissingHeader(HEADER_SIGNATURE));
        }
        let expected = self.tag(id, raw_timestamp, body);
        if !any_signature_matches(signatures, &expected)? {
            return Err(VerifyError::NoMatchingSignature);
        }
        check_tolerance(timestamp, now.timestamp(), self.tolerance_secs)?;
        Ok(id)
    }

    /// HMAC-SHA256 of `{id}.{timestamp}.{body}`, fed piece by piece so that the body is never copied.
    fn tag(&self, id: &str, timestamp: &str, body: &[u8]) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }
}

/// The value of a header that must appear exactly once, as visible ASCII, non-empty.
fn single_header<'h>(
    headers: &'h HeaderMap,
    key: &'static HeaderName,
) -> Result<&'h str, VerifyError> {
    let name = key.as_str();
    let mut values = headers.get_all(key).iter();
    let value = values.next().ok_or(VerifyError::MissingHeader(name))?;
    if values.next().is_some() {
        return Err(invalid(name, "repeated"));
    }
    let value = value
        .to_str()
        .map_err(|_| invalid(name, "not visible ASCII"))?;
    if value.is_empty() {
        return Err(invalid(name, "empty"));
    }
    Ok(value)
}

/// Unix seconds as plain decimal digits: the signed content uses the header verbatim, so signs and spaces
/// that a lenient parser would accept are refused rather than silently normalised.
fn parse_timestamp(raw: &str) -> Result<i64, VerifyError> {
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(HEADER_TIMESTAMP, "not a number of seconds"));
    }
    raw.parse()
        .map_err(|_| invalid(HEADER_TIMESTAMP, "out of range"))
}

/// Compares every `v1` entry of every `webhook-signature` value with `expected`, in constant time and
/// without stopping at the first match, so that timing reveals neither which entry matched nor how much of
/// it. Other versions are skipped; an entry that is not `version,signature` makes the whole list invalid.
fn any_signature_matches(
    signatures: GetAll<'_, HeaderValue>,
    expected: &[u8; 32],
) -> Result<bool, VerifyError> {
    let mut matched = Choice::from(0);
    let mut entries = 0usize;
    for value in signatures {
        let list = value
            .to_str()
            .map_err(|_| invalid(HEADER_SIGNATURE, "not visible ASCII"))?;
        for entry in list.split_ascii_whitespace() {
            entries += 1;
            let (version, encoded) = entry
                .split_once(',')
                .filter(|(version, _)| !version.is_empty())
                .ok_or(invalid(
                    HEADER_SIGNATURE,
                    "entries must be `version,signature`",
                ))?;
            if version == SIGNATURE_VERSION {
                matched |= signature_equals(encoded, expected);
            }
        }
    }
    if entries == 0 {
        return Err(invalid(HEADER_SIGNATURE, "empty"));
    }
    Ok(matched.into())
}

/// Decodes into a fixed buffer (no allocation); anything that is not exactly 32 bytes of base64 is a mismatch.
fn signature_equals(encoded: &str, expected: &[u8; 32]) -> Choice {
    let mut candidate = [0u8; 32];
    match STANDARD.decode_slice(encoded, &mut candidate) {
        Ok(32) => candidate.ct_eq(expected),
        _ => Choice::from(0),
    }
}

fn check_tolerance(timestamp: i64, now: i64, tolerance_secs: u64) -> Result<(), VerifyError> {
    // i128: neither the subtraction nor a huge tolerance can overflow.
    let age = i128::from(now) - i128::from(timestamp);
    let tolerance = i128::from(tolerance_secs);
    if age > tolerance {
        Err(VerifyError::TimestampTooOld)
    } else if -age > tolerance {
        Err(VerifyError::TimestampTooNew)
    } else {
        Ok(())
    }
}

fn invalid(name: &'static str, reason: &'static str) -> VerifyError {
    VerifyError::InvalidHeader { name, reason }
}

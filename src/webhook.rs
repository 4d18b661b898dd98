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
//! feature `axum`, `VerifiedWebhook` does the same as an extractor.
//!
//! # Retries, the timestamp window and duplicates
//!
//! Wacht sets `webhook-timestamp` once, when the event is triggered, and sends the same value (and the same
//! signature) on every retry. A delivery that fails with a 5xx, 408, 429 or a network error is retried after
//! 30 s, 60 s, 5 min, 15 min, then every 6 h, up to the endpoint's `max_retries` attempts (32 by default, and
//! at most): the 32nd attempt comes about 6.8 days after the trigger, still signed with the trigger's time. A
//! receiver that answers 401 is never retried, so a window that refuses a genuine retry loses the event.
//!
//! The usual Standard Webhooks window (±5 minutes) would refuse every attempt from the fourth on. The default
//! window of [`Webhook`] is therefore asymmetric: a timestamp may be up to [`DEFAULT_MAX_AGE`] in the past
//! (the whole retry schedule, plus a margin) and at most [`DEFAULT_MAX_FUTURE_SKEW`] in the future (clock
//! skew only). Change them with [`Webhook::with_max_age`] and [`Webhook::with_max_future_skew`], or both at
//! once with [`Webhook::with_tolerance`].
//!
//! The window is not what protects you from a captured delivery sent again: within it, a copy verifies like
//! the original. **De-duplicate by [`WebhookEvent::id`]** (the `webhook-id`, the same for every retry of a
//! delivery): remember the ids you have processed for at least [`DEFAULT_MAX_AGE`] (or your own max age) and
//! acknowledge a repeated id with a 2xx without processing it again. That also makes retries after a
//! timeout on your side harmless.
//!
//! # Replayed deliveries
//!
//! When a delivery is replayed (`replay_webhook_delivery`, `webhooks.replay(..)`), Wacht sends the envelope
//! it stored for the original delivery as the new envelope's `data`:
//! `{"type":T,"timestamp":t2,"data":{"type":T,"timestamp":t1,"data":<original payload>}}`, and a replay of
//! that replay wraps it once more. [`Webhook::verify`] and [`Webhook::verify_as`] unwrap these envelopes, so
//! that `data` is always the original payload; [`WebhookEvent::timestamp`] is then the original event's
//! time, [`WebhookEvent::replayed_at`] the time of the replay, and [`WebhookEvent::is_replay`] says so.
//! A replay has a new `webhook-id`: de-duplicate on your own key (an id inside the payload) if a replay must
//! not be processed twice.
//!
//! The rule: the body's `data` is unwrapped when it is a JSON object with **exactly** the three keys `type`,
//! `timestamp` and `data`, whose `type` is a string equal to the enclosing envelope's `type`, and whose
//! `timestamp` is an RFC 3339 date-time string that is not later than the enclosing envelope's `timestamp`.
//! The inner `data` is then examined by the same rule, at most [`MAX_REPLAY_DEPTH`] times in all. Anything
//! else is left as it is: an object with a fourth key, another `type`, a timestamp that is not a string or
//! not RFC 3339, or later than the enclosing one. A payload of your own that has exactly this shape, with
//! the event's own name and an earlier time, cannot be told apart from a replay and is unwrapped too; if your
//! payloads can look like that, use [`Webhook::verify_signature`] and parse the body yourself.
//!
//! ```
//! use http::{HeaderMap, HeaderValue};
//! use wacht_webhooks::{VerifyError, Webhook};
//!
//! # fn main() -> Result<(), VerifyError> {
//! let webhook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! // A replay, sent on 2 May, of an event triggered on 1 May.
//! let body = br#"{"type":"user.created","timestamp":"2024-05-02T08:00:00.000Z",
//!     "data":{"type":"user.created","timestamp":"2024-05-01T12:00:00.000Z","data":{"id":42}}}"#;
//! let now = chrono::Utc::now().timestamp();
//! let mut headers = HeaderMap::new();
//! headers.insert("webhook-id", HeaderValue::from_static("msg_2b80"));
//! headers.insert("webhook-timestamp", HeaderValue::from(now));
//! let signature = webhook.sign("msg_2b80", now, body);
//! headers.insert("webhook-signature", HeaderValue::from_str(&signature).unwrap());
//!
//! let event = webhook.verify(&headers, body)?;
//! assert!(event.is_replay());
//! assert_eq!(event.data["id"], 42);
//! assert_eq!(event.timestamp.to_rfc3339(), "2024-05-01T12:00:00+00:00");
//! assert_eq!(event.replayed_at.unwrap().to_rfc3339(), "2024-05-02T08:00:00+00:00");
//! # Ok(())
//! # }
//! ```
//!
//! [Standard Webhooks]: https://www.standardwebhooks.com/

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use http::header::GetAll;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess,
    Visitor,
};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

#[cfg(feature = "axum")]
mod axum;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use self::axum::{VerifiedWebhook, VerifiedWebhookRejection};

#[cfg(test)]
mod tests;

/// Name of the header carrying the message id.
pub const HEADER_ID: &str = "webhook-id";
/// Name of the header carrying the signing time in Unix seconds.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Name of the header carrying the space-separated signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// How far in the past `webhook-timestamp` may be by default: 7 days, 21 minutes and 30 seconds.
///
/// Wacht signs every attempt of a delivery with the time the event was triggered. With the default (and
/// maximum) of 32 attempts and the waits 30 s, 60 s, 5 min, 15 min, then 6 h, the last attempt is scheduled
/// 584,490 s (6 days, 18 h, 21 min 30 s) after the first, which is sent when the event is triggered. Wacht
/// refuses a `max_retries` whose waits would add up to more than 7 days, so no endpoint's schedule goes
/// further. This default adds one more 6-hour wait as a margin, for what the schedule does not count: the attempts themselves (each may take up to the
/// endpoint's `timeout_seconds`, 30 s by default), queueing in Wacht's workers, a receiver clock that runs
/// ahead, and a rate-limited endpoint or a `Retry-After` answer postponing an attempt. Wacht places no upper
/// bound on those last two: if your receiver answers with long `Retry-After` values, or its endpoint has a
/// tight `rate_limit_config` and much traffic, raise the max age with [`Webhook::with_max_age`].
pub const DEFAULT_MAX_AGE: Duration =
    Duration::from_secs(retry_horizon_secs(DEFAULT_ATTEMPTS) + STEADY_WAIT_SECS);

/// How far in the future `webhook-timestamp` may be by default: 5 minutes (the Standard Webhooks
/// tolerance). A timestamp from the future can only come from a difference between Wacht's clock and the
/// receiver's, so this stays tight.
pub const DEFAULT_MAX_FUTURE_SKEW: Duration = Duration::from_secs(5 * 60);

/// How many envelopes [`Webhook::verify`] unwraps from one replayed body at most (a replay of a replay adds
/// one); further levels stay in `data` as they are. See the module documentation for the rule.
pub const MAX_REPLAY_DEPTH: usize = 64;

/// Wacht's waits after the first four attempts; every later wait is [`STEADY_WAIT_SECS`].
const FIRST_WAITS_SECS: [u64; 4] = [30, 60, 5 * 60, 15 * 60];
const STEADY_WAIT_SECS: u64 = 6 * 60 * 60;
/// Attempts per delivery when the endpoint does not set `max_retries`; also the most it may set.
const DEFAULT_ATTEMPTS: u64 = 32;

/// Seconds from the first attempt of a delivery to its attempt number `attempts`, by the schedule alone.
const fn retry_horizon_secs(attempts: u64) -> u64 {
    let mut total = 0;
    let mut after = 1;
    while after < attempts {
        total += if after <= FIRST_WAITS_SECS.len() as u64 {
            FIRST_WAITS_SECS[after as usize - 1]
        } else {
            STEADY_WAIT_SECS
        };
        after += 1;
    }
    total
}

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
    /// The signature is valid but the timestamp is older than the max age allows ([`DEFAULT_MAX_AGE`],
    /// longer than Wacht retries a delivery, unless changed): a captured delivery sent again long after,
    /// or a receiver clock that runs far ahead.
    #[error("webhook timestamp is too old")]
    TimestampTooOld,
    /// The signature is valid but the timestamp is further in the future than the max future skew allows
    /// ([`DEFAULT_MAX_FUTURE_SKEW`] unless changed): a receiver clock that runs behind.
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
///
/// Marked `#[non_exhaustive]` so that fields can be added; receivers get one from [`Webhook::verify`] (in
/// tests, sign a body with [`Webhook::sign`] and verify it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookEvent<T> {
    /// The `webhook-id` header (`msg_...`): the same for every retry of a delivery, so the key to
    /// de-duplicate by. A replay is a new delivery, with a new id.
    pub id: String,
    /// The body's `type`: the event name given when the event was triggered.
    pub event_type: String,
    /// When the event was triggered: the body's `timestamp`, or for a replay the original envelope's. It is
    /// covered by the signature. For a delivery that is not a replay it is the instant that the
    /// `webhook-timestamp` header holds in whole seconds, on every retry.
    pub timestamp: DateTime<Utc>,
    /// For a replayed delivery, the body's own `timestamp`: when the (latest) replay was made, the instant
    /// that its `webhook-timestamp` holds. `None` when the delivery is not a replay.
    pub replayed_at: Option<DateTime<Utc>>,
    /// The payload the event was triggered with: the body's `data`, unwrapped from the replayed envelopes
    /// if it is a replay.
    pub data: T,
}

impl<T> WebhookEvent<T> {
    /// Whether this delivery is a replay of an earlier one (then [`replayed_at`](Self::replayed_at) is set).
    pub fn is_replay(&self) -> bool {
        self.replayed_at.is_some()
    }
}

/// A verifier (and signer) of Standard Webhooks deliveries for one signing secret.
///
/// Cheap to clone; its `Debug` output never shows the key.
#[derive(Clone)]
pub struct Webhook {
    /// The HMAC state right after absorbing the key: each message starts from a copy of it, which spares
    /// hashing the key pads again for every delivery.
    keyed: Hmac<Sha256>,
    max_age_secs: u64,
    max_future_skew_secs: u64,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("key", &"<redacted>")
            .field("max_age", &Duration::from_secs(self.max_age_secs))
            .field(
                "max_future_skew",
                &Duration::from_secs(self.max_future_skew_secs),
            )
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

/// What the first pass found in a replayed body: enough to build the event without parsing `data` twice.
struct Replay {
    event_type: String,
    original_timestamp: DateTime<Utc>,
    replayed_at: DateTime<Utc>,
    /// How many envelopes to unwrap: 1 for a replay of an original delivery, one more per replay of a replay.
    depth: usize,
}

impl Replay {
    /// The replayed envelopes of `body` that the module documentation's rule unwraps, if there is one.
    ///
    /// A first pass over the raw bytes that allocates nothing for the usual body: it gives up at the first
    /// key of `data` that no envelope has. Any error (a malformed body included) means "not a replay";
    /// the second pass then reports it.
    fn find(body: &[u8]) -> Option<Replay> {
        let probe: Probe<'_> = serde_json::from_slice(body).ok()?;
        let (mut parent_type, mut parent_time) = (probe.event_type.as_ref(), probe.timestamp);
        let mut depth = 0;
        for level in &probe.data.0 {
            if level.event_type != parent_type || level.timestamp > parent_time {
                break;
            }
            (parent_type, parent_time) = (level.event_type.as_ref(), level.timestamp);
            depth += 1;
        }
        (depth > 0).then(|| Replay {
            event_type: probe.event_type.clone().into_owned(),
            original_timestamp: parent_time,
            replayed_at: probe.timestamp,
            depth,
        })
    }

    /// The second pass: deserializes the original payload, `depth` envelopes down, straight into `T`.
    fn original_data<T: DeserializeOwned>(&self, body: &[u8]) -> Result<T, serde_json::Error> {
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        let data = Descend::<T>::new(self.depth).deserialize(&mut deserializer)?;
        deserializer.end()?;
        Ok(data)
    }
}

/// The outer envelope as the first pass reads it (unknown keys ignored, as in [`Envelope`]).
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(rename = "type", borrow)]
    event_type: Cow<'a, str>,
    timestamp: DateTime<Utc>,
    #[serde(borrow)]
    data: Chain<'a>,
}

/// The `type` and `timestamp` of one nested envelope.
struct Stamp<'a> {
    event_type: Cow<'a, str>,
    timestamp: DateTime<Utc>,
}

/// The envelope-shaped objects nested in `data`, outermost first, before the relations between them are
/// checked: each is an object with exactly the keys `type` (a string), `timestamp` (an RFC 3339 string)
/// and `data`.
struct Chain<'a>(Vec<Stamp<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for Chain<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Level { depth: 1 }.deserialize(deserializer).map(Chain)
    }
}

/// Reads the value at `depth` envelopes below the body as a possible envelope; yields the chain from there
/// inwards, empty when it is not envelope-shaped.
///
/// At depth 1 a value that is not envelope-shaped ends the whole first pass with an error at once: nothing
/// can be unwrapped then, and the rest of the body need not be read. Deeper, the value is skipped instead,
/// since the levels above it may still be genuine.
struct Level {
    depth: usize,
}

/// Ends the first pass early (see [`Level`]); never shown to anyone.
const NOT_AN_ENVELOPE: &str = "not a replayed envelope";

impl Level {
    fn not_an_envelope<'de, E: de::Error>(self) -> Result<Vec<Stamp<'de>>, E> {
        if self.depth == 1 {
            Err(E::custom(NOT_AN_ENVELOPE))
        } else {
            Ok(Vec::new())
        }
    }
}

impl<'de> DeserializeSeed<'de> for Level {
    type Value = Vec<Stamp<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        if self.depth > MAX_REPLAY_DEPTH {
            IgnoredAny::deserialize(deserializer)?;
            return Ok(Vec::new());
        }
        deserializer.deserialize_any(self)
    }
}

/// The visits of a visitor of any JSON value for the values it has no use for: `$fallback` gives the
/// result (arrays and objects are read through first).
macro_rules! other_json_values {
    ($fallback:ident) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            self.$fallback()
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            self.$fallback()
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            self.$fallback()
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            self.$fallback()
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            self.$fallback()
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            self.$fallback()
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let value = self.$fallback()?;
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(value)
        }
    };
}

impl<'de> Visitor<'de> for Level {
    type Value = Vec<Stamp<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    other_json_values!(not_an_envelope);

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        self.not_an_envelope()
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut event_type = None;
        let mut timestamp = None;
        let mut inner = None;
        let mut shaped = true;
        while let Some(key) = map.next_key::<Key>()? {
            if !shaped {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            shaped = match key {
                Key::Type if event_type.is_none() => {
                    event_type = map.next_value::<Text<'de>>()?.0;
                    event_type.is_some()
                }
                Key::Timestamp if timestamp.is_none() => {
                    timestamp = map
                        .next_value::<Text<'de>>()?
                        .0
                        .and_then(|t| parse_rfc3339(&t));
                    timestamp.is_some()
                }
                Key::Data if inner.is_none() => {
                    let below = Level {
                        depth: self.depth + 1,
                    };
                    inner = Some(map.next_value_seed(below)?);
                    true
                }
                // Not even the value of a stray key is read when nothing can be unwrapped any more.
                _ if self.depth == 1 => return Err(de::Error::custom(NOT_AN_ENVELOPE)),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    false
                }
            };
            if !shaped && self.depth == 1 {
                return Err(de::Error::custom(NOT_AN_ENVELOPE));
            }
        }
        match (shaped, event_type, timestamp, inner) {
            (true, Some(event_type), Some(timestamp), Some(inner)) => {
                let mut chain = Vec::with_capacity(1 + inner.len());
                chain.push(Stamp {
                    event_type,
                    timestamp,
                });
                chain.extend(inner);
                Ok(chain)
            }
            _ => self.not_an_envelope(),
        }
    }
}

fn parse_rfc3339(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A key of an envelope, recognised without allocating.
enum Key {
    Type,
    Timestamp,
    Data,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    "type" => Key::Type,
                    "timestamp" => Key::Timestamp,
                    "data" => Key::Data,
                    _ => Key::Other,
                })
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Any JSON value, kept when it is a string (borrowed from the body when it has no escapes).
struct Text<'a>(Option<Cow<'a, str>>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl TextVisitor {
            fn none<'de, E>(self) -> Result<Text<'de>, E> {
                Ok(Text(None))
            }
        }
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            other_json_values!(none);
            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Borrowed(text))))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(text.to_owned()))))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// The second pass over a replayed body: goes `envelopes` levels down through `data` and deserializes
/// the payload found there into `T`; every other key is skipped.
struct Descend<T> {
    envelopes: usize,
    target: PhantomData<T>,
}

impl<T> Descend<T> {
    fn new(envelopes: usize) -> Self {
        Descend {
            envelopes,
            target: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Descend<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Descend<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a webhook envelope")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut data = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Data if data.is_none() => {
                    data = Some(match self.envelopes {
                        0 => map.next_value::<T>()?,
                        n => map.next_value_seed(Descend::<T>::new(n - 1))?,
                    });
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        data.ok_or_else(|| de::Error::missing_field("data"))
    }
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
            max_age_secs: DEFAULT_MAX_AGE.as_secs(),
            max_future_skew_secs: DEFAULT_MAX_FUTURE_SKEW.as_secs(),
        })
    }

    /// Sets a symmetric window: `webhook-timestamp` may be up to `tolerance` (in whole seconds) in the past
    /// and in the future, as in other Standard Webhooks libraries. Same as
    /// `.with_max_age(tolerance).with_max_future_skew(tolerance)`.
    ///
    /// A tolerance shorter than [`DEFAULT_MAX_AGE`] refuses the later retries of a delivery, which Wacht
    /// signs with the trigger's time: `Duration::from_secs(300)` refuses every attempt from the fourth on.
    #[must_use]
    pub fn with_tolerance(self, tolerance: Duration) -> Self {
        self.with_max_age(tolerance).with_max_future_skew(tolerance)
    }

    /// Sets how far in the past (in whole seconds) `webhook-timestamp` may be. Default: [`DEFAULT_MAX_AGE`],
    /// which covers every retry of a delivery. Shorten it only if your endpoints have fewer attempts
    /// (`max_retries`), and lengthen it if your receiver answers with long `Retry-After` values.
    #[must_use]
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age_secs = max_age.as_secs();
        self
    }

    /// Sets how far in the future (in whole seconds) `webhook-timestamp` may be: the clock difference
    /// tolerated between Wacht and the receiver. Default: [`DEFAULT_MAX_FUTURE_SKEW`] (5 minutes).
    #[must_use]
    pub fn with_max_future_skew(mut self, max_future_skew: Duration) -> Self {
        self.max_future_skew_secs = max_future_skew.as_secs();
        self
    }

    /// Verifies a delivery against the system clock and returns its envelope with `data` as JSON.
    ///
    /// `body` must be the raw bytes received. Checks, in order: the three headers are present and well formed,
    /// one `v1` signature matches, the timestamp is within the window (see [`with_max_age`](Self::with_max_age)
    /// and [`with_max_future_skew`](Self::with_max_future_skew)), the body is the envelope. A timestamp error
    /// therefore always concerns an authentic delivery. A replayed envelope is unwrapped (see the module
    /// documentation), so that `data` is the original payload.
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
        let id = self.authenticate(headers, body, now)?.to_owned();
        let invalid = |e: serde_json::Error| VerifyError::InvalidPayload(e.to_string());
        if let Some(replay) = Replay::find(body) {
            let data = replay.original_data(body).map_err(invalid)?;
            return Ok(WebhookEvent {
                id,
                event_type: replay.event_type,
                timestamp: replay.original_timestamp,
                replayed_at: Some(replay.replayed_at),
                data,
            });
        }
        let envelope: Envelope<T> = serde_json::from_slice(body).map_err(invalid)?;
        Ok(WebhookEvent {
            id,
            event_type: envelope.event_type,
            timestamp: envelope.timestamp,
            replayed_at: None,
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
        self.check_window(timestamp, now.timestamp())?;
        Ok(id)
    }

    fn check_window(&self, timestamp: i64, now: i64) -> Result<(), VerifyError> {
        // i128: neither the subtraction nor a huge window can overflow.
        let age = i128::from(now) - i128::from(timestamp);
        if age > i128::from(self.max_age_secs) {
            Err(VerifyError::TimestampTooOld)
        } else if -age > i128::from(self.max_future_skew_secs) {
            Err(VerifyError::TimestampTooNew)
        } else {
            Ok(())
        }
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

fn invalid(name: &'static str, reason: &'static str) -> VerifyError {
    VerifyError::InvalidHeader { name, reason }
}

//! Wire conventions shared by every route: snowflake ids, RFC 3339 times and flexible id inputs.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// Milliseconds between the Unix epoch and 2020-01-01, the epoch of the generated ids.
const ID_EPOCH_MS: i64 = 1_577_836_800_000;

/// Bits of a snowflake id below the millisecond timestamp.
const SEQUENCE_BITS: u32 = 22;

/// Hands out unique, increasing, snowflake-like ids (millisecond time above a sequence).
///
/// Ids increase with creation order, so sorting by id is sorting by creation.
#[derive(Debug)]
pub struct IdGenerator {
    last: AtomicI64,
}

impl IdGenerator {
    /// A generator whose first id is based on the current time.
    pub fn new() -> Self {
        Self {
            last: AtomicI64::new(0),
        }
    }

    /// The last id handed out (0 before the first).
    pub fn last(&self) -> i64 {
        self.last.load(Ordering::Relaxed)
    }

    /// Makes every later id larger than `id` (ids loaded from a state file never recur).
    pub fn advance_past(&self, id: i64) {
        self.last.fetch_max(id, Ordering::Relaxed);
    }

    /// The next id: the current time's id, or one more than the previous id if that is larger.
    pub fn next(&self) -> i64 {
        let now_ms = Utc::now().timestamp_millis() - ID_EPOCH_MS;
        let candidate = now_ms.max(0) << SEQUENCE_BITS;
        let mut previous = self.last.load(Ordering::Relaxed);
        loop {
            let next = candidate.max(previous + 1);
            match self.last.compare_exchange_weak(
                previous,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(actual) => previous = actual,
            }
        }
    }
}

impl Default for IdGenerator {
    fn default() -> Self {
        Self::new()
    }
}

/// The current time, truncated to microseconds so that what is stored is exactly what is shown.
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    let micros = t.nanosecond() / 1_000 * 1_000;
    t.with_nanosecond(micros).unwrap_or(t)
}

/// RFC 3339 UTC with microseconds and `Z`, the format of every time in a response.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Serialises a time of a response as [`format_time`] writes it.
pub fn serialize_time<S: Serializer>(t: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_time(*t))
}

/// Serialises an optional time of a response as [`format_time`] writes it, or null.
pub fn serialize_optional_time<S: Serializer>(
    t: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => serialize_time(t, serializer),
        None => serializer.serialize_none(),
    }
}

/// RFC 3339 UTC with milliseconds and `Z`, the format of the outbound envelope's `timestamp`.
pub fn format_time_millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses an RFC 3339 date-time (a bare date is not one).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Parses an id given as text.
pub fn parse_id(s: &str) -> Option<i64> {
    s.trim().parse::<i64>().ok()
}

/// An id in a request body: the wire accepts a JSON string or a JSON number. A string that is not
/// a number names nothing (`None`): it matches no resource rather than being a malformed body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlexId(pub Option<i64>);

impl<'de> Deserialize<'de> for FlexId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        Ok(match Raw::deserialize(deserializer)? {
            Raw::Number(n) => FlexId(Some(n)),
            Raw::Text(s) => FlexId(parse_id(&s)),
        })
    }
}

/// Deserialises a field that may be absent but, when present, must not be `null`.
///
/// Used with `#[serde(default, deserialize_with = "non_null")]` for fields the spec does not make nullable.
pub fn non_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase() {
        let ids = IdGenerator::new();
        let a = ids.next();
        let b = ids.next();
        assert!(b > a && a > 0);
    }

    #[test]
    fn times_have_micros_and_z() {
        let t = parse_time("2026-06-01T12:00:00.123456Z").unwrap();
        assert_eq!(format_time(t), "2026-06-01T12:00:00.123456Z");
        assert_eq!(format_time_millis(t), "2026-06-01T12:00:00.123Z");
        assert!(parse_time("2026-06-01").is_none());
    }

    #[test]
    fn flex_ids_accept_strings_and_numbers() {
        let a: FlexId = serde_json::from_str("\"42\"").unwrap();
        let b: FlexId = serde_json::from_str("42").unwrap();
        assert_eq!(a, b);
        assert_eq!(
            serde_json::from_str::<FlexId>("\"x\"").unwrap(),
            FlexId(None)
        );
        assert!(serde_json::from_str::<FlexId>("true").is_err());
    }
}

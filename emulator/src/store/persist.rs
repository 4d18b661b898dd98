//! The store's state as a snapshot (for a state file) and the few operations fixtures need.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::{ReplayKey, TaskStatus};
use super::{State, Store};
use crate::error::{ApiError, ApiResult};
use crate::signing::SigningKey;
use crate::wire::now;

/// The marker every state file starts with, so a foreign JSON file is never taken for one.
pub const FORMAT: &str = "wacht-webhooks-emulator/state";
/// The version of the snapshot layout; a file of another version is refused, not guessed at.
pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct SnapshotRef<'a> {
    format: &'static str,
    version: u32,
    deployment_id: &'a str,
    last_id: i64,
    state: &'a State,
}

/// Just the marker and version, read before the rest so that a foreign file gets a clear error.
#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    version: Option<u64>,
}

#[derive(Deserialize)]
struct Snapshot {
    deployment_id: String,
    last_id: i64,
    state: State,
}

/// What a loaded state leaves to do: deliveries to resume and replay tasks to start.
#[derive(Debug, Default)]
pub struct Resume {
    /// Deliveries that were pending or awaiting a retry.
    pub deliveries: Vec<i64>,
    /// Replay tasks that were queued and not started.
    pub tasks: Vec<i64>,
}

impl Store {
    /// The whole state as JSON, with the format marker and version.
    pub fn snapshot(&self) -> Result<Vec<u8>, serde_json::Error> {
        let state = self.lock();
        serde_json::to_vec(&SnapshotRef {
            format: FORMAT,
            version: VERSION,
            deployment_id: &self.deployment_id,
            last_id: self.ids.last(),
            state: &state,
        })
    }

    /// This store with the state of a snapshot; `Err` says why the bytes are not one.
    ///
    /// Replay tasks that were running when the snapshot was taken are cancelled (what they
    /// replayed stays); the queued ones and the deliveries still in flight are in [`Resume`].
    pub fn with_snapshot(mut self, bytes: &[u8]) -> Result<(Self, Resume), String> {
        check_header(bytes)?;
        let snapshot: Snapshot =
            serde_json::from_slice(bytes).map_err(|e| format!("corrupt state: {e}"))?;
        let mut state = snapshot.state;
        for app in state.apps.values_mut() {
            app.key = SigningKey::from_secret(&app.signing_secret).ok_or_else(|| {
                format!(
                    "corrupt state: app '{}' has an invalid signing secret",
                    app.slug
                )
            })?;
        }
        let mut resume = Resume::default();
        let at = now();
        for task in state.tasks.values_mut() {
            match task.status {
                TaskStatus::Queued => resume.tasks.push(task.id),
                TaskStatus::Running => {
                    task.status = TaskStatus::Cancelled;
                    task.completed_at = Some(at);
                }
                _ => {}
            }
        }
        resume.deliveries = state
            .deliveries
            .values()
            .filter(|d| d.status().in_flight())
            .map(|d| d.id)
            .collect();
        let highest = [
            state.apps.keys().last(),
            state.catalogs.keys().last(),
            state.endpoints.keys().last(),
            state.deliveries.keys().last(),
            state.endpoint_events.keys().last(),
            state.tasks.keys().last(),
        ]
        .into_iter()
        .flatten()
        .copied()
        .fold(snapshot.last_id, i64::max);
        self.ids.advance_past(highest);
        self.deployment_id = snapshot.deployment_id;
        self.state = Mutex::new(state);
        Ok((self, resume))
    }

    /// Gives an app this signing secret (a fixture's).
    pub fn set_signing_secret(&self, slug: &str, secret: &str) -> ApiResult<()> {
        let key = SigningKey::from_secret(secret)
            .ok_or_else(|| ApiError::bad_request("the signing secret is not whsec_ and base64"))?;
        let mut state = self.lock();
        let app = state.app_mut(slug)?;
        app.signing_secret = secret.to_string();
        app.key = key;
        Ok(())
    }

    /// Whether an app with this slug exists.
    pub fn has_app(&self, slug: &str) -> bool {
        self.lock().app_ids.contains_key(slug)
    }

    /// Whether a catalog with this slug exists.
    pub fn has_catalog(&self, slug: &str) -> bool {
        self.lock().catalog_ids.contains_key(slug)
    }

    /// Whether the app has an endpoint with this URL.
    pub fn has_endpoint(&self, app_slug: &str, url: &str) -> bool {
        let state = self.lock();
        let Ok(app_id) = state.app_id(app_slug) else {
            return false;
        };
        state
            .endpoints
            .values()
            .any(|e| e.app_id == app_id && e.url == url.trim())
    }
}

/// Refuses what is not a state file of this emulator, or one of another version.
fn check_header(bytes: &[u8]) -> Result<(), String> {
    let foreign =
        || format!("not a state file of this emulator (no \"format\": \"{FORMAT}\" marker)");
    let header: Header = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            format!("corrupt or not a state file: {e}")
        } else {
            foreign()
        }
    })?;
    if header.format.as_deref() != Some(FORMAT) {
        return Err(foreign());
    }
    match header.version {
        Some(v) if v == u64::from(VERSION) => Ok(()),
        Some(v) => Err(format!(
            "state format version {v}; this emulator reads version {VERSION}"
        )),
        None => Err("corrupt state: no format version".into()),
    }
}

/// `Bytes` that hold UTF-8 (the outbound envelope) as a JSON string.
pub mod utf8_bytes {
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer, de, ser};

    pub fn serialize<S: Serializer>(bytes: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        let text = std::str::from_utf8(bytes).map_err(ser::Error::custom)?;
        s.serialize_str(text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        String::deserialize(d)
            .map(Bytes::from)
            .map_err(de::Error::custom)
    }
}

/// The idempotency keys as a list (JSON maps have string keys only); keys whose request was still
/// queuing its task are left out, since that request will never finish.
pub mod idempotency_entries {
    use super::*;
    use serde::{Deserializer, Serializer};

    type Entries = HashMap<(i64, String), (ReplayKey, DateTime<Utc>)>;

    pub fn serialize<S: Serializer>(entries: &Entries, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            entries
                .iter()
                .filter(|(_, (key, _))| matches!(key, ReplayKey::Task(_))),
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Entries, D::Error> {
        Vec::<((i64, String), (ReplayKey, DateTime<Utc>))>::deserialize(d)
            .map(|list| list.into_iter().collect())
    }
}

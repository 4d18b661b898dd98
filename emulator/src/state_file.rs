//! The state file: loaded at start, saved atomically on shutdown and periodically.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::store::Store;

/// The file's bytes, or `None` when there is no file yet.
pub fn read(path: &Path) -> Result<Option<Vec<u8>>, String> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read it: {e}")),
    }
}

/// Writes `bytes` so that the file holds either its old or its new content, never a part: a
/// temporary file in the same directory, flushed to disk, then renamed over it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    // The rename itself is durable once the directory is flushed.
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Saves the store to its state file, skipping writes when nothing changed since the last one.
#[derive(Debug)]
pub struct Saver {
    path: PathBuf,
    store: Arc<Store>,
    last: Mutex<Option<u64>>,
}

impl Saver {
    pub fn new(path: PathBuf, store: Arc<Store>) -> Arc<Self> {
        Arc::new(Self {
            path,
            store,
            last: Mutex::new(None),
        })
    }

    /// Saves now; the error names the file.
    pub fn save(&self) -> Result<(), String> {
        let bytes = self
            .store
            .snapshot()
            .map_err(|e| format!("cannot serialise the state: {e}"))?;
        let mut hasher = DefaultHasher::new();
        bytes.hash(&mut hasher);
        let hash = hasher.finish();
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if *last == Some(hash) {
            return Ok(());
        }
        write_atomically(&self.path, &bytes).map_err(|e| format!("cannot write it: {e}"))?;
        *last = Some(hash);
        Ok(())
    }

    /// Saves on a blocking thread, logging a failure (the periodic and final saves).
    pub async fn save_logged(self: &Arc<Self>) {
        let saver = self.clone();
        let result = tokio::task::spawn_blocking(move || saver.save()).await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(message)) => {
                tracing::error!(path = %self.path.display(), "state file not saved: {message}")
            }
            Err(e) => tracing::error!(path = %self.path.display(), "state file not saved: {e}"),
        }
    }

    /// Saves every `interval` until `stop` turns true.
    pub fn spawn_periodic(
        self: &Arc<Self>,
        interval: Duration,
        mut stop: watch::Receiver<bool>,
    ) -> JoinHandle<()> {
        let saver = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                saver.save_logged().await;
            }
        })
    }
}

//! The copies of the spec published for other languages.

use std::path::{Path, PathBuf};

use crate::spec::Spec;
use crate::Error;

/// The spec as pretty-printed JSON, keys in document order, ending with a newline.
pub fn to_json(spec: &Spec) -> String {
    let mut text = serde_json::to_string_pretty(&spec.raw).expect("a JSON value always serializes");
    text.push('\n');
    text
}

/// The spec as normalised YAML: comments, anchors and quoting styles gone, keys in document order.
pub fn to_yaml(spec: &Spec) -> Result<String, Error> {
    serde_yaml::to_string(&spec.raw).map_err(|err| Error::Publish(format!("YAML output: {err}")))
}

/// Writes `webhooks.json` and `webhooks.yaml` into `dir` (created if missing); returns their paths.
pub fn publish(spec: &Spec, dir: &Path) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let outputs = [
        (dir.join("webhooks.json"), to_json(spec)),
        (dir.join("webhooks.yaml"), to_yaml(spec)?),
    ];
    let source = spec.source.canonicalize().ok();
    if let Some((path, _)) = outputs
        .iter()
        .find(|(path, _)| path.canonicalize().ok().is_some() && path.canonicalize().ok() == source)
    {
        return Err(Error::Publish(format!(
            "publishing into {} would overwrite the hand-written spec {}; choose another --out directory",
            dir.display(),
            path.display()
        )));
    }
    let mut written = Vec::new();
    for (path, text) in outputs {
        std::fs::write(&path, text).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

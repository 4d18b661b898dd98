//! The published bundle of the spec, for other languages: the JSON and YAML copies, an HTML
//! reference that opens offline, and `CHANGES.md` since the previously published spec.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Error;
use crate::diff::{Change, diff};
use crate::spec::Spec;
use crate::version::{Version, check_bump};

/// The rendered reference, next to `webhooks.json`.
pub const HTML_FILE: &str = "webhooks.html";
/// The changes since the previously published spec, next to `webhooks.json`.
pub const CHANGES_FILE: &str = "CHANGES.md";

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
/// The YAML copy is left out when it would overwrite `spec`'s own file (the hand-written spec is
/// then the published YAML).
pub fn publish(spec: &Spec, dir: &Path) -> Result<Vec<PathBuf>, Error> {
    create_dir(dir)?;
    let source = spec.source.canonicalize().ok();
    let is_source = |path: &Path| source.is_some() && path.canonicalize().ok() == source;
    let json = dir.join("webhooks.json");
    if is_source(&json) {
        return Err(Error::Publish(format!(
            "publishing into {} would overwrite the spec {}; choose another --out directory",
            dir.display(),
            json.display()
        )));
    }
    let mut outputs = vec![(json, to_json(spec))];
    let yaml = dir.join("webhooks.yaml");
    if !is_source(&yaml) {
        outputs.push((yaml, to_yaml(spec)?));
    }
    let mut written = Vec::new();
    for (path, text) in outputs {
        write(&path, &text)?;
        written.push(path);
    }
    Ok(written)
}

/// How [`publish_bundle`] makes the parts beyond the JSON and YAML copies.
#[derive(Debug, Clone, Default)]
pub struct BundleOptions {
    /// The previously published spec; `None`: the `webhooks.json` already in the directory, if any.
    pub previous: Option<PathBuf>,
    /// The Redocly CLI that renders the HTML reference (`build-docs`); `None`: no HTML.
    pub redocly: Option<PathBuf>,
}

/// Publishes the whole bundle into `dir`: [`publish`]'s copies, [`CHANGES_FILE`] from the changes
/// since the previous spec (breaking first), and with a Redocly CLI [`HTML_FILE`]. Fails, writing
/// nothing, when `info.version` does not follow the previous one as the changes require.
pub fn publish_bundle(
    spec: &Spec,
    dir: &Path,
    options: &BundleOptions,
) -> Result<Vec<PathBuf>, Error> {
    let previous_path = options
        .previous
        .clone()
        .or_else(|| Some(dir.join("webhooks.json")).filter(|p| p.exists()));
    let previous = previous_path.as_deref().map(Spec::load).transpose()?;
    let changes = previous.as_ref().map(|old| diff(old, spec));
    if let (Some(old), Some(changes)) = (&previous, &changes) {
        check_bump(old, spec, changes).map_err(Error::Publish)?;
    }
    let notes = changes_markdown(spec, previous.as_ref().zip(changes.as_deref()))?;
    let mut written = publish(spec, dir)?;
    let changes_path = dir.join(CHANGES_FILE);
    write(&changes_path, &notes)?;
    written.push(changes_path);
    if let Some(redocly) = &options.redocly {
        written.push(render_html(
            redocly,
            &dir.join("webhooks.json"),
            &dir.join(HTML_FILE),
        )?);
    }
    Ok(written)
}

/// `CHANGES.md`: the versions, then the breaking changes, then the compatible ones.
pub fn changes_markdown(spec: &Spec, since: Option<(&Spec, &[Change])>) -> Result<String, Error> {
    let version = Version::of(spec).map_err(Error::Publish)?;
    let mut text = String::from("# Changes to the Wacht Webhooks API spec\n\n");
    let Some((old, changes)) = since else {
        text.push_str(&format!(
            "Version {version}: the first published version.\n"
        ));
        return Ok(text);
    };
    let old_version = Version::of(old).map_err(Error::Publish)?;
    text.push_str(&format!(
        "From {old_version} to {version}, as `wacht-webhooks-generator diff` classifies them: a breaking \
         change can fail a client generated from the previous spec.\n"
    ));
    let (breaking, compatible): (Vec<&Change>, Vec<&Change>) =
        changes.iter().partition(|c| c.breaking);
    for (title, list) in [
        ("Breaking changes", breaking),
        ("Compatible changes", compatible),
    ] {
        text.push_str(&format!("\n## {title} ({})\n\n", list.len()));
        if list.is_empty() {
            text.push_str("None.\n");
        }
        for change in list {
            text.push_str(&format!(
                "- `{}`: {}\n",
                change.location, change.description
            ));
        }
    }
    Ok(text)
}

/// Renders `json` with Redocly's `build-docs`, scripts inlined, into `html`; refuses a page that
/// would load anything from the network.
fn render_html(redocly: &Path, json: &Path, html: &Path) -> Result<PathBuf, Error> {
    let output = Command::new(redocly)
        .arg("build-docs")
        .arg(json)
        .arg("--inlineBundle")
        .arg("--output")
        .arg(html)
        .env("REDOCLY_TELEMETRY", "off")
        .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true")
        .output()
        .map_err(|err| Error::Publish(format!("cannot run {}: {err}", redocly.display())))?;
    if !output.status.success() {
        return Err(Error::Publish(format!(
            "{} build-docs failed: {}",
            redocly.display(),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let page = std::fs::read_to_string(html).map_err(|err| {
        Error::Publish(format!(
            "cannot read the rendered {}: {err}",
            html.display()
        ))
    })?;
    let remote = network_resources(&page);
    if !remote.is_empty() {
        return Err(Error::Publish(format!(
            "{} loads resources from the network, so it would not open offline: {}",
            html.display(),
            remote.join(", ")
        )));
    }
    Ok(html.to_path_buf())
}

/// The network resources an HTML page loads: `src`/`href`/`srcset`/`data`/`poster` of elements that
/// fetch (scripts, style sheets, images, frames, media), CSS `url(...)` and `@import`, when they
/// point at `http:`, `https:` or `//`. Links the reader may follow (`<a href>`) are not resources.
pub fn network_resources(html: &str) -> Vec<String> {
    const FETCHING: [&str; 10] = [
        "script", "link", "img", "iframe", "source", "object", "embed", "video", "audio", "track",
    ];
    const ATTRIBUTES: [&str; 5] = ["src", "href", "srcset", "data", "poster"];
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut rest = lower.as_str();
    while let Some(start) = rest.find('<') {
        let tag = &rest[start + 1..];
        let end = tag.find('>').unwrap_or(tag.len());
        let (element, name) = (
            &tag[..end],
            tag.split(|c: char| !c.is_ascii_alphanumeric()).next(),
        );
        if name.is_some_and(|n| FETCHING.contains(&n)) {
            for attribute in ATTRIBUTES {
                for value in attribute_values(element, attribute) {
                    if is_remote(value) {
                        found.push(format!(
                            "<{}> {attribute}={value}",
                            name.unwrap_or_default()
                        ));
                    }
                }
            }
        }
        rest = &tag[end..];
    }
    for marker in ["url(", "@import"] {
        let mut rest = lower.as_str();
        while let Some(at) = rest.find(marker) {
            let value = rest[at + marker.len()..]
                .trim_start_matches(|c: char| {
                    c.is_whitespace() || c == '"' || c == '\'' || c == '('
                })
                .trim_start_matches("url(")
                .trim_start_matches(['"', '\'']);
            if is_remote(value) {
                found.push(format!(
                    "{marker} {}",
                    value.chars().take(60).collect::<String>()
                ));
            }
            rest = &rest[at + marker.len()..];
        }
    }
    found
}

/// The values of `attribute="..."` (or single-quoted, or bare) within one tag's text.
fn attribute_values<'a>(element: &'a str, attribute: &str) -> Vec<&'a str> {
    let mut values = Vec::new();
    let mut rest = element;
    while let Some(at) = rest.find(attribute) {
        let before = rest[..at].chars().last();
        let after = rest[at + attribute.len()..].trim_start();
        rest = &rest[at + attribute.len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-') {
            continue;
        }
        let Some(value) = after.strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        let value = match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or_default(),
            _ => value
                .split(|c: char| c.is_whitespace())
                .next()
                .unwrap_or_default(),
        };
        values.push(value);
    }
    values
}

fn is_remote(value: &str) -> bool {
    let value = value.trim_start();
    value.starts_with("http:") || value.starts_with("https:") || value.starts_with("//")
}

fn create_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })
}

fn write(path: &Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_that_load_remote_resources_are_found() {
        let page = r#"<html><head>
            <script src="https://cdn.example.com/redoc.js"></script>
            <link rel=stylesheet href='//fonts.example.com/a.css'>
            <style>body { background: url("http://example.com/bg.png") } @import "https://x.example/y.css";</style>
            </head><body><img srcset="https://img.example/a.png 2x"></body></html>"#;
        let found = network_resources(page);
        assert_eq!(found.len(), 5, "{found:?}");
    }

    #[test]
    fn inline_scripts_links_and_local_references_are_offline() {
        let page = r##"<html><head><script>const a = 1;</script>
            <link rel="icon" href="data:image/png;base64,AAAA"><style>a { fill: url(#grad) }</style>
            </head><body><a href="https://github.com/wacht-webhooks/wacht-webhooks#license">license</a>
            <img src="./logo.png"><svg xmlns="http://www.w3.org/2000/svg"></svg></body></html>"##;
        assert_eq!(network_resources(page), Vec::<String>::new());
    }
}

//! `wacht-webhooks-generator`: check, generate, publish and diff the OpenAPI document.

use std::path::PathBuf;
use std::process::ExitCode;

use wacht_webhooks_generator as generator;

const USAGE: &str = "\
usage: wacht-webhooks-generator <command> [args]

commands:
  check [SPEC]                 lint the spec; print findings; exit 1 on any
  generate [SPEC] [--out FILE] print (or write) the generated Rust source
  publish [SPEC] --out DIR [--since OLD] [--redocly PATH | --no-html]
                               write the bundle into DIR: webhooks.json, a normalised
                               webhooks.yaml (unless SPEC is DIR's webhooks.yaml), CHANGES.md
                               (diff since OLD, default DIR's webhooks.json before this run)
                               and webhooks.html (Redocly build-docs, offline; default
                               .ci/spec/node_modules/.bin/redocly); exit 1 when info.version
                               does not follow OLD's as the changes require
  diff OLD NEW                 list changes; exit 1 when any is breaking for existing clients

SPEC defaults to spec/webhooks.yaml.";

const DEFAULT_SPEC: &str = "spec/webhooks.yaml";

/// Where `publish` finds the Redocly CLI unless `--redocly` says otherwise.
const DEFAULT_REDOCLY: &str = ".ci/spec/node_modules/.bin/redocly";

/// Positional arguments and the options.
struct Args {
    positional: Vec<String>,
    out: Option<PathBuf>,
    since: Option<PathBuf>,
    redocly: Option<PathBuf>,
    no_html: bool,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        positional: Vec::new(),
        out: None,
        since: None,
        redocly: None,
        no_html: false,
    };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let mut path = |name: &str| {
            args.next()
                .map(PathBuf::from)
                .ok_or(format!("{name} needs a path"))
        };
        match arg.as_str() {
            "--out" | "-o" => parsed.out = Some(path("--out")?),
            "--since" => parsed.since = Some(path("--since")?),
            "--redocly" => parsed.redocly = Some(path("--redocly")?),
            "--no-html" => parsed.no_html = true,
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            _ => parsed.positional.push(arg),
        }
    }
    Ok(parsed)
}

fn spec_arg(args: &Args, index: usize) -> String {
    args.positional
        .get(index)
        .cloned()
        .unwrap_or_else(|| DEFAULT_SPEC.to_string())
}

fn check(args: &Args) -> Result<ExitCode, generator::Error> {
    let spec = generator::Spec::load(spec_arg(args, 0))?;
    let findings = generator::lint(&spec);
    for finding in &findings {
        println!("{finding}");
    }
    if findings.is_empty() {
        println!("{}: no findings", spec.source.display());
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{}: {} finding(s)", spec.source.display(), findings.len());
        Ok(ExitCode::FAILURE)
    }
}

fn generate(args: &Args) -> Result<ExitCode, generator::Error> {
    let spec = generator::load_checked(spec_arg(args, 0))?;
    let source = generator::generate(&spec)?;
    match &args.out {
        Some(path) => std::fs::write(path, source).map_err(|source| generator::Error::Write {
            path: path.clone(),
            source,
        })?,
        None => print!("{source}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn publish(args: &Args) -> Result<ExitCode, generator::Error> {
    let Some(dir) = &args.out else {
        eprintln!("publish needs --out DIR\n\n{USAGE}");
        return Ok(ExitCode::from(2));
    };
    let spec = generator::load_checked(spec_arg(args, 0))?;
    let redocly = match (&args.redocly, args.no_html) {
        (_, true) => None,
        (Some(path), false) => Some(path.clone()),
        (None, false) => Some(PathBuf::from(DEFAULT_REDOCLY)),
    };
    if let Some(path) = redocly.as_ref().filter(|p| !p.exists()) {
        eprintln!(
            "publish: no Redocly CLI at {} (install it with `npm ci --prefix .ci/spec`, or pass --redocly PATH or --no-html)",
            path.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    let options = generator::BundleOptions {
        previous: args.since.clone(),
        redocly,
    };
    for path in generator::publish_bundle(&spec, dir, &options)? {
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn diff(args: &Args) -> Result<ExitCode, generator::Error> {
    let [old, new] = args.positional.as_slice() else {
        eprintln!("diff needs OLD and NEW\n\n{USAGE}");
        return Ok(ExitCode::from(2));
    };
    let changes = generator::diff(&generator::Spec::load(old)?, &generator::Spec::load(new)?);
    for change in &changes {
        println!("{change}");
    }
    let breaking = changes.iter().filter(|c| c.breaking).count();
    println!(
        "{} change(s), {breaking} breaking for existing clients",
        changes.len()
    );
    Ok(if breaking > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1);
    let command = argv.next();
    let args = match parse(argv) {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("{message}\n");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match command.as_deref() {
        Some("check") => check(&args),
        Some("generate") => generate(&args),
        Some("publish") => publish(&args),
        Some("diff") => diff(&args),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    result.unwrap_or_else(|err| {
        eprintln!("error: {err}");
        ExitCode::FAILURE
    })
}

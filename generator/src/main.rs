//! `wacht-webhooks-generator`: check, generate, publish and diff the OpenAPI document.

use std::path::PathBuf;
use std::process::ExitCode;

use wacht_webhooks_generator as generator;

const USAGE: &str = "\
usage: wacht-webhooks-generator <command> [args]

commands:
  check [SPEC]                 lint the spec; print findings; exit 1 on any
  generate [SPEC] [--out FILE] print (or write) the generated Rust source
  publish [SPEC] --out DIR     write webhooks.json and a normalised webhooks.yaml into DIR
  diff OLD NEW                 list changes; exit 1 when any is breaking for existing clients

SPEC defaults to spec/webhooks.yaml.";

const DEFAULT_SPEC: &str = "spec/webhooks.yaml";

/// Positional arguments and the value of `--out`.
struct Args {
    positional: Vec<String>,
    out: Option<PathBuf>,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut out = None;
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" | "-o" => {
                let value = args.next().ok_or("--out needs a path")?;
                out = Some(PathBuf::from(value));
            }
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            _ => positional.push(arg),
        }
    }
    Ok(Args { positional, out })
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
    for path in generator::publish(&spec, dir)? {
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

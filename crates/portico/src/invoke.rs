//! `portico invoke NAME`: runs one invocation of a function declared in the config file
//! (`[functions.NAME]`), as `aws lambda invoke` would against Lambda, or several (to see warm
//! processes, timeouts and `concurrency` at work). Payloads go to standard output; the
//! function's own output is logged to standard error.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::Args;
use portico_functions::{InvokeError, LocalFunctions, MAX_PAYLOAD, Settings};
use serde_json::{Value, json};

use crate::config::{Config, ServeArgs};

#[derive(Debug, Args)]
pub(crate) struct InvokeArgs {
    /// the function: a `[functions.NAME]` table of the config file
    name: String,
    /// the event, as JSON [default: {}]; repeat it for several invocations, one after the other
    #[arg(long, conflicts_with = "payload_file")]
    payload: Vec<String>,
    /// read the event from this file; repeatable, like --payload
    #[arg(long)]
    payload_file: Vec<PathBuf>,
    /// send all the events at once instead of one after the other
    #[arg(long)]
    parallel: bool,
    /// the TOML config file that declares the function
    #[arg(long)]
    config: PathBuf,
    /// error, warn, info, debug or trace (or a tracing filter) [default: the file's, else info]
    #[arg(long)]
    log_level: Option<String>,
}

/// Runs the invocations. One: its payload on standard output and, for a function error,
/// `function error: Unhandled` on standard error and exit status 1. Several: one JSON line
/// each, in order (`{"payload": ..., "functionError": ...}`, or `{"error": "..."}` for one
/// that did not run), and exit status 1 if any failed.
pub(crate) fn run(args: InvokeArgs) -> anyhow::Result<()> {
    let cfg = Config::load(ServeArgs::from_file(args.config.clone()))?;
    crate::serve::init_logging(args.log_level.as_deref().unwrap_or(&cfg.log_level));
    if !cfg.functions.contains_key(&args.name) {
        bail!(
            "{} declares no function {:?} (add a [functions.{}] table)",
            args.config.display(),
            args.name,
            args.name
        );
    }
    let payloads = payloads(&args)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let settings = Settings {
        region: cfg.region,
        account_id: cfg.account_id,
    };
    let functions = Arc::new(LocalFunctions::new(cfg.functions, settings));
    let results = rt.block_on(async {
        let results = if args.parallel {
            let tasks: Vec<_> = payloads
                .into_iter()
                .map(|payload| {
                    let functions = functions.clone();
                    let name = args.name.clone();
                    tokio::spawn(async move { functions.invoke(&name, payload).await })
                })
                .collect();
            let mut results = Vec::new();
            for task in tasks {
                results.push(task.await.unwrap_or_else(|e| {
                    Err(InvokeError::Service(format!("the invocation failed: {e}")))
                }));
            }
            results
        } else {
            let mut results = Vec::new();
            for payload in payloads {
                results.push(functions.invoke(&args.name, payload).await);
            }
            results
        };
        functions.shutdown().await;
        results
    });

    let mut stdout = std::io::stdout().lock();
    if let [result] = results.as_slice() {
        let invoked = result.clone()?;
        stdout.write_all(&invoked.payload)?;
        stdout.write_all(b"\n")?;
        stdout.flush()?;
        if let Some(error) = invoked.function_error {
            eprintln!("function error: {error}");
            std::process::exit(1);
        }
        return Ok(());
    }
    let mut failed = false;
    for result in results {
        let line = match result {
            Ok(invoked) => {
                failed |= invoked.function_error.is_some();
                let payload =
                    serde_json::from_slice::<Value>(&invoked.payload).unwrap_or_else(|_| {
                        Value::String(String::from_utf8_lossy(&invoked.payload).into_owned())
                    });
                json!({ "payload": payload, "functionError": invoked.function_error })
            }
            Err(e) => {
                failed = true;
                json!({ "error": e.to_string() })
            }
        };
        writeln!(stdout, "{line}")?;
    }
    stdout.flush()?;
    if failed {
        std::process::exit(1);
    }
    Ok(())
}

/// The events: `--payload`s, `--payload-file`s, or one `{}`. Each must be JSON, as Lambda's
/// Invoke requires.
fn payloads(args: &InvokeArgs) -> anyhow::Result<Vec<Bytes>> {
    let mut payloads: Vec<Bytes> = args
        .payload
        .iter()
        .map(|p| Bytes::from(p.clone()))
        .collect();
    for path in &args.payload_file {
        let len = std::fs::metadata(path)
            .with_context(|| format!("reading {}", path.display()))?
            .len();
        if len > MAX_PAYLOAD as u64 {
            bail!(
                "{} is larger than Lambda's payload limit ({MAX_PAYLOAD} bytes)",
                path.display()
            );
        }
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        payloads.push(Bytes::from(bytes));
    }
    if payloads.is_empty() {
        payloads.push(Bytes::from_static(b"{}"));
    }
    for payload in &payloads {
        serde_json::from_slice::<serde::de::IgnoredAny>(payload)
            .context("the payload is not valid JSON")?;
    }
    Ok(payloads)
}

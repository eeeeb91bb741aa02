//! `portico`: a self-hosted gateway that runs Amazon API Gateway's model.

mod config;
mod invoke;
mod openapi;
mod reloader;
mod serve;
mod usage;

use clap::{Parser, Subcommand};

/// mimalloc: the request path allocates many small, short-lived buffers, which glibc's
/// allocator serves markedly slower (measured with `bench/`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "portico", version, about = "A self-hosted Amazon API Gateway")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway: the execute-api data listener and the management API.
    Serve(config::ServeArgs),
    /// Import an OpenAPI document into a running server (prints the API id).
    Import(openapi::ImportArgs),
    /// Export a deployed API as OpenAPI from a running server.
    Export(openapi::ExportArgs),
    /// Invoke a function of the config file once (prints its payload).
    Invoke(invoke::InvokeArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let cfg = config::Config::load(args)?;
            serve::run(cfg)
        }
        Command::Import(args) => openapi::run_import(args),
        Command::Export(args) => openapi::run_export(args),
        Command::Invoke(args) => invoke::run(args),
    }
}

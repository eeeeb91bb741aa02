//! `portico serve`: wires the store, the two planes and the reloader, and stops cleanly.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use portico_controlplane::ControlPlane;
use portico_dataplane::{DataPlane, RuntimeHandle};
use portico_store::{SqliteStore, Store};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::reloader;

/// How long in-flight requests get to finish after SIGINT/SIGTERM.
const DRAIN: Duration = Duration::from_secs(10);

/// The longest a deployment or stage write waits for the data plane to serve it.
const PUBLISH_WAIT: Duration = Duration::from_secs(5);

/// Logs to stderr at `level` (a level or a `tracing` filter), coloured only on a terminal.
pub(crate) fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

pub(crate) fn run(cfg: Config) -> anyhow::Result<()> {
    init_logging(&cfg.log_level);
    // One worker: a current-thread runtime (no work-stealing machinery, as nginx's one worker).
    let rt = if cfg.workers == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cfg.workers)
            .enable_all()
            .build()
    }
    .context("starting the async runtime")?;
    rt.block_on(serve(cfg))
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

async fn serve(cfg: Config) -> anyhow::Result<()> {
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&cfg.data_dir)
            .with_context(|| format!("opening the store in {}", cfg.data_dir.display()))?,
    );
    let runtime = Arc::new(RuntimeHandle::new());
    let limits = Arc::new(portico_limits::Limits::new(Arc::new(
        portico_limits::SystemClock,
    )));
    crate::usage::restore(store.as_ref(), &limits)
        .await
        .context("loading usage counters")?;
    let flusher = tokio::spawn(crate::usage::flusher(store.clone(), limits.clone()));
    // Lambda integrations: local `[functions.NAME]`, else the `[lambda]` endpoint.
    let mut invoker = portico_functions::Invoker::new(
        cfg.functions.clone(),
        portico_functions::Settings {
            region: cfg.region.clone(),
            account_id: cfg.account_id.clone(),
        },
    );
    if let Some(lambda) = &cfg.lambda {
        let remote = portico_functions::RemoteLambda::new(lambda, &cfg.region)
            .map_err(|e| anyhow::anyhow!(e))?;
        invoker = invoker.with_remote(remote);
    }
    let invoker = Arc::new(invoker);
    let data = Arc::new(
        DataPlane::new(
            runtime.clone(),
            limits.clone(),
            portico_dataplane::Settings {
                base_domain: cfg.base_domain.clone(),
                account_id: cfg.account_id.clone(),
                region: cfg.region.clone(),
            },
        )
        .with_invoker(invoker.clone())
        .with_auth(portico_dataplane::authorization::State {
            access_keys: cfg
                .access_keys
                .iter()
                .map(|k| (k.id.clone(), k.clone()))
                .collect(),
            cognito_endpoint: cfg.cognito_endpoint.clone(),
            jwks: portico_dataplane::authorization::cognito::Jwks::new(cfg.jwks_refetch_interval),
            ..Default::default()
        }),
    );
    // Compile what is deployed before accepting traffic, then follow the change feed; writes
    // that change what is served answer once the runtime reflects them.
    let (applied_tx, applied_rx) = watch::channel(0u64);
    let account = portico_limits::Throttle {
        rate: cfg.account_rate_limit,
        burst: cfg.account_burst_limit,
    };
    let reload = tokio::spawn(reloader::run(
        store.clone(),
        runtime.clone(),
        limits.clone(),
        account,
        applied_tx,
    ));
    let published: portico_controlplane::PublishedHook = Arc::new(move |rev| {
        let mut rx = applied_rx.clone();
        Box::pin(async move {
            let wait = rx.wait_for(|&applied| applied >= rev);
            let _ = tokio::time::timeout(PUBLISH_WAIT, wait).await;
        })
    });
    let control = Arc::new(
        ControlPlane::new(
            store.clone(),
            portico_controlplane::Settings {
                region: cfg.region.clone(),
                account_id: cfg.account_id.clone(),
                account_rate_limit: cfg.account_rate_limit,
                account_burst_limit: cfg.account_burst_limit,
            },
        )
        .with_published_hook(published)
        .with_invoker(invoker.clone())
        .with_access_keys(
            cfg.access_keys
                .iter()
                .map(|k| (k.id.clone(), k.secret.clone())),
        ),
    );
    while runtime.load().apis.is_empty() && !reload.is_finished() {
        let empty = store
            .list(portico_store::Kind::RestApi, Some(""))
            .await?
            .is_empty();
        if empty {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // `--import`: the API is deployed before the listeners open, so it is served from the
    // first request.
    let mut imported = None;
    if let Some((file, stage)) = &cfg.import {
        // A locked management API takes only signed calls, this process's own included.
        let signer = cfg.access_keys.first().map(|k| crate::openapi::Signer {
            credentials: portico_sigv4::Credentials {
                access_key_id: k.id.clone(),
                secret_access_key: k.secret.clone(),
                session_token: None,
            },
            region: cfg.region.clone(),
        });
        let api = crate::openapi::import_at_startup(&control, signer, file, stage).await?;
        for w in &api.warnings {
            tracing::warn!(file = %file.display(), "import warning: {w}");
        }
        imported = Some((file.clone(), stage.clone(), api));
    }

    let data_listener = TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("binding the data listener to {}", cfg.listen))?;
    let admin_listener = TcpListener::bind(cfg.admin_listen)
        .await
        .with_context(|| format!("binding the admin listener to {}", cfg.admin_listen))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "data listening on http://{}",
            data_listener.local_addr()?
        )?;
        writeln!(
            out,
            "admin listening on http://{}",
            admin_listener.local_addr()?
        )?;
        out.flush()?;
    }
    tracing::info!(region = %cfg.region, workers = cfg.workers, data_dir = %cfg.data_dir.display(), "portico started");
    if !cfg.access_keys.is_empty() {
        tracing::info!(
            keys = cfg.access_keys.len(),
            "the management API takes only calls signed with a configured access key"
        );
    }
    if let Some((file, stage, api)) = &imported {
        tracing::info!(
            api_id = %api.api_id,
            "imported {} as \"{}\", deployed to stage {stage}: http://{}.execute-api.{}:{}/{stage}/",
            file.display(),
            api.name,
            api.api_id,
            cfg.base_domain,
            data_listener.local_addr()?.port(),
        );
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let data_server = tokio::spawn(portico_dataplane::server::serve_recording(
        data_listener,
        move |req, remote| portico_dataplane::pipeline::execute(data.clone(), req, remote),
        stop_rx.clone(),
        DRAIN,
        Some(runtime.records_header_case()),
    ));
    let admin_server = tokio::spawn(portico_dataplane::server::serve(
        admin_listener,
        move |req, _remote| {
            let control = control.clone();
            async move { control.handle(req).await }
        },
        stop_rx,
        DRAIN,
    ));

    shutdown_signal().await;
    tracing::info!("shutting down: draining in-flight requests");
    let _ = stop_tx.send(true);
    let _ = data_server.await;
    let _ = admin_server.await;
    reload.abort();
    flusher.abort();
    invoker.shutdown().await;
    if let Err(e) = crate::usage::flush(store.as_ref(), &limits).await {
        tracing::warn!(error = %e, "could not persist usage counters at shutdown");
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

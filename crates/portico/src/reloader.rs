//! Keeps the data plane's runtime in step with the store: compile at startup, then recompile
//! the API a change feed event names. The one path for startup and for every redeploy.

use std::collections::HashMap;
use std::sync::Arc;

use portico_dataplane::{CompiledApi, RuntimeHandle, compile_stage};
use portico_model::document::DeploymentRecord;
use portico_model::v1;
use portico_store::{Kind, Store, StoreError};
use tokio::sync::broadcast::error::RecvError;

/// Compiles every stage of one API from the store; `None` when the API does not exist.
pub(crate) async fn compile_api(
    store: &dyn Store,
    api_id: &str,
) -> Result<Option<CompiledApi>, StoreError> {
    let key = portico_store::Key::new(Kind::RestApi, "", api_id);
    if store.get(&key).await?.is_none() {
        return Ok(None);
    }
    let mut api = CompiledApi {
        id: api_id.to_string(),
        stages: Default::default(),
    };
    let mut deployments: HashMap<String, Arc<DeploymentRecord>> = HashMap::new();
    for rec in store.list(Kind::Stage, Some(api_id)).await? {
        let stage: v1::Stage = match serde_json::from_str(&rec.body) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(api_id, error = %e, "unreadable stage skipped");
                continue;
            }
        };
        let Some(dep_id) = stage.deployment_id.clone() else {
            continue;
        };
        let dep = match deployments.get(&dep_id) {
            Some(d) => d.clone(),
            None => {
                let key = portico_store::Key::new(Kind::Deployment, api_id, &dep_id);
                let Some(rec) = store.get(&key).await? else {
                    continue;
                };
                let d: DeploymentRecord = match serde_json::from_str(&rec.body) {
                    Ok(d) => d,
                    Err(e) => {
                        tracing::error!(api_id, error = %e, "unreadable deployment skipped");
                        continue;
                    }
                };
                let d = Arc::new(d);
                deployments.insert(dep_id.clone(), d.clone());
                d
            }
        };
        let compiled = compile_stage(&stage, &dep);
        api.stages.insert(compiled.name.clone(), Arc::new(compiled));
    }
    Ok(Some(api))
}

async fn reload_all(store: &dyn Store, runtime: &RuntimeHandle) -> Result<(), StoreError> {
    let mut rt = portico_dataplane::Runtime::default();
    for rec in store.list(Kind::RestApi, Some("")).await? {
        if let Some(api) = compile_api(store, &rec.key.id).await? {
            rt.apis.insert(rec.key.id.clone(), Arc::new(api));
        }
    }
    tracing::info!(apis = rt.apis.len(), "runtime compiled");
    runtime.replace(rt);
    Ok(())
}

/// Loads everything, then follows the change feed until the feed closes. `applied` carries the
/// revision of the last change the runtime reflects.
pub(crate) async fn run(
    store: Arc<dyn Store>,
    runtime: Arc<RuntimeHandle>,
    limits: Arc<portico_limits::Limits>,
    account: portico_limits::Throttle,
    applied: tokio::sync::watch::Sender<u64>,
) -> Result<(), StoreError> {
    let mut feed = store.subscribe();
    // Keys and plans first: APIs become reachable only after (the serve loop waits on them).
    crate::usage::reload_table(store.as_ref(), &runtime, account).await?;
    reload_all(store.as_ref(), &runtime).await?;
    loop {
        match feed.recv().await {
            Ok(change) => {
                let revision = change.revision;
                match change.key.kind {
                    Kind::ApiKey | Kind::UsagePlan | Kind::UsagePlanKey | Kind::Account => {
                        if let Err(e) =
                            crate::usage::reload_table(store.as_ref(), &runtime, account).await
                        {
                            tracing::error!(error = %e, "usage plans reload failed");
                        }
                    }
                    Kind::UsageOverride if !change.deleted => {
                        crate::usage::apply_override(
                            store.as_ref(),
                            &limits,
                            &change.key.scope,
                            &change.key.id,
                        )
                        .await;
                    }
                    _ => apply(store.as_ref(), &runtime, change).await,
                }
                applied.send_replace(revision);
            }
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "change feed lagged; recompiling everything");
                // A failing store must not stop the reloader for good: log and carry on.
                if let Err(e) = reload_all(store.as_ref(), &runtime).await {
                    tracing::error!(error = %e, "recompiling everything failed");
                }
                if let Err(e) = crate::usage::reload_table(store.as_ref(), &runtime, account).await
                {
                    tracing::error!(error = %e, "usage plans reload failed");
                }
            }
            Err(RecvError::Closed) => return Ok(()),
        }
    }
}

/// Recompiles the API one change concerns.
async fn apply(store: &dyn Store, runtime: &RuntimeHandle, change: portico_store::Change) {
    let api_id = match change.key.kind {
        Kind::RestApi => {
            // Edits to an API are not live until deployed; only its existence matters here.
            let known = runtime.load().apis.contains_key(&change.key.id);
            if known != change.deleted {
                return;
            }
            change.key.id
        }
        Kind::Stage | Kind::Deployment => change.key.scope,
        _ => return,
    };
    match compile_api(store, &api_id).await {
        Ok(api) => runtime.swap(&api_id, api),
        Err(e) => tracing::error!(api_id, error = %e, "recompile failed"),
    }
}

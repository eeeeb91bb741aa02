//! Usage-plan state kept by the binary: the key/plan table the data plane reads, and the
//! quota counters persisted to the store so a restart loses no counts.

use std::sync::Arc;
use std::time::Duration;

use portico_dataplane::RuntimeHandle;
use portico_dataplane::usage::UsageTable;
use portico_limits::Limits;
use portico_model::v1;
use portico_store::{Expect, Key, Kind, Store, StoreError, Write};

fn parse<T: serde::de::DeserializeOwned>(body: &str) -> Option<T> {
    serde_json::from_str(body).ok()
}

/// Rebuilds the API key / usage plan table from the store.
pub(crate) async fn reload_table(
    store: &dyn Store,
    runtime: &RuntimeHandle,
    account: portico_limits::Throttle,
) -> Result<(), StoreError> {
    let keys: Vec<v1::ApiKey> = store
        .list(Kind::ApiKey, Some(""))
        .await?
        .iter()
        .filter_map(|r| parse(&r.body))
        .collect();
    let plans: Vec<v1::UsagePlan> = store
        .list(Kind::UsagePlan, Some(""))
        .await?
        .iter()
        .filter_map(|r| parse(&r.body))
        .collect();
    let memberships: Vec<(String, String)> = store
        .list(Kind::UsagePlanKey, None)
        .await?
        .into_iter()
        .map(|r| (r.key.scope, r.key.id))
        .collect();
    runtime.set_usage(UsageTable::compile(&keys, &plans, &memberships, account));
    Ok(())
}

/// Applies an UpdateUsage written by the management API: sets the key's remaining quota.
pub(crate) async fn apply_override(
    store: &dyn Store,
    limits: &Limits,
    plan_id: &str,
    key_id: &str,
) {
    let Ok(Some(rec)) = store
        .get(&Key::new(Kind::UsageOverride, plan_id, key_id))
        .await
    else {
        return;
    };
    let Some(remaining) =
        parse::<serde_json::Value>(&rec.body).and_then(|v| v["remaining"].as_u64())
    else {
        return;
    };
    let Ok(Some(plan)) = store.get(&Key::new(Kind::UsagePlan, "", plan_id)).await else {
        return;
    };
    let Some(q) = parse::<v1::UsagePlan>(&plan.body).and_then(|p| p.quota) else {
        return;
    };
    let (Some(limit), Some(period)) = (
        q.limit,
        q.period.as_deref().and_then(portico_limits::Period::parse),
    ) else {
        return;
    };
    let spec = portico_limits::QuotaSpec {
        limit: u64::try_from(limit).unwrap_or(0),
        period,
        offset: u32::try_from(q.offset.unwrap_or(0)).unwrap_or(0),
    };
    limits.set_remaining(plan_id, key_id, spec, remaining);
}

/// Loads the persisted counters into `limits`.
pub(crate) async fn restore(store: &dyn Store, limits: &Limits) -> Result<(), StoreError> {
    let records = store
        .list(Kind::Usage, None)
        .await?
        .iter()
        .filter_map(|r| parse(&r.body))
        .collect();
    limits.restore_usage(records);
    Ok(())
}

/// Writes every counter to the store.
pub(crate) async fn flush(store: &dyn Store, limits: &Limits) -> Result<(), StoreError> {
    let writes: Vec<Write> = limits
        .usage_snapshot()
        .into_iter()
        .filter_map(|r| {
            Some(Write::Put {
                key: Key::new(Kind::Usage, r.plan_id.clone(), r.key_id.clone()),
                body: serde_json::to_string(&r).ok()?,
                expect: Expect::Any,
            })
        })
        .collect();
    if writes.is_empty() {
        return Ok(());
    }
    store.commit(writes).await.map(|_| ())
}

/// Flushes changed counters every second until the task is dropped.
pub(crate) async fn flusher(store: Arc<dyn Store>, limits: Arc<Limits>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        if limits.take_dirty()
            && let Err(e) = flush(store.as_ref(), &limits).await
        {
            tracing::warn!(error = %e, "could not persist usage counters");
        }
    }
}

//! UsagePlans, UsagePlanKeys and usage: who may call which stages, how fast and how much.
//! Effective at once (not deployed); counters live in the data plane and are persisted.

use indexmap::IndexMap;
use portico_model::patch::{Patch, PatchOp};
use portico_model::{ids, v1};
use portico_store::{Expect, Key, Kind, Write};

use crate::patching::{self, invalid_path};
use crate::state::to_json;
use crate::{ApiError, Call, ControlPlane, Outcome, Reply, pagination};

fn not_found() -> ApiError {
    ApiError::not_found("Invalid Usage Plan ID specified")
}

async fn load(cp: &ControlPlane, id: &str) -> Result<(v1::UsagePlan, u64), ApiError> {
    let rec = cp
        .store
        .get(&Key::new(Kind::UsagePlan, "", id))
        .await?
        .ok_or_else(not_found)?;
    let plan = serde_json::from_str(&rec.body).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok((plan, rec.revision))
}

/// An `apiId:stage` value must name an existing API and stage.
async fn check_stage(
    cp: &ControlPlane,
    plan_id: &str,
    api: &str,
    stage: &str,
) -> Result<(), ApiError> {
    let missing = || {
        ApiError::not_found(format!(
            "Invalid API Stage {{api: {api}, stage: {stage}}} specified for usageplan {plan_id}"
        ))
    };
    cp.load_api(api).await.map_err(|_| missing())?;
    cp.load_stage(api, stage).await?.ok_or_else(missing)?;
    Ok(())
}

fn check_throttle(t: &v1::ThrottleSettings) -> Result<(), ApiError> {
    if t.rate_limit.is_some_and(|r| r.is_nan() || r < 0.0) || t.burst_limit.is_some_and(|b| b < 0) {
        return Err(ApiError::bad_request(
            "Throttle limits must be non-negative",
        ));
    }
    Ok(())
}

fn check_quota(q: &v1::QuotaSettings) -> Result<(), ApiError> {
    if q.offset.is_some_and(|o| o < 0) {
        return Err(ApiError::bad_request(
            "Quota offset must be a non-negative integer",
        ));
    }
    let period = q.period.as_deref().unwrap_or("");
    if portico_limits::Period::parse(period).is_none() {
        return Err(ApiError::bad_request(format!(
            "Invalid quota period specified: {period}. Valid values are DAY, WEEK, MONTH"
        )));
    }
    if q.limit.is_some_and(|l| l < 0) {
        return Err(ApiError::bad_request(
            "Quota limit should be a non-negative integer",
        ));
    }
    Ok(())
}

pub(crate) async fn create(cp: &ControlPlane, call: &Call) -> Outcome {
    let input: v1::CreateUsagePlanRequest = call.input()?;
    let id = ids::short_id(6);
    for s in input.api_stages.iter().flatten() {
        check_stage(
            cp,
            &id,
            s.api_id.as_deref().unwrap_or(""),
            s.stage.as_deref().unwrap_or(""),
        )
        .await?;
    }
    if let Some(q) = &input.quota {
        check_quota(q)?;
    }
    let stage_throttles = input
        .api_stages
        .iter()
        .flatten()
        .flat_map(|s| s.throttle.iter().flat_map(|m| m.values()));
    for t in input.throttle.iter().chain(stage_throttles) {
        check_throttle(t)?;
    }
    let quota = input.quota.map(|mut q| {
        q.offset = Some(q.offset.unwrap_or(0));
        q
    });
    let plan = v1::UsagePlan {
        id: Some(id.clone()),
        name: input.name,
        description: input.description.filter(|d| !d.is_empty()),
        api_stages: Some(input.api_stages.unwrap_or_default()),
        throttle: input.throttle,
        quota,
        product_code: None,
        tags: input.tags.filter(|t| !t.is_empty()),
    };
    cp.store
        .commit(vec![Write::Put {
            key: Key::new(Kind::UsagePlan, "", &id),
            body: to_json(&plan)?,
            expect: Expect::Absent,
        }])
        .await?;
    Reply::json(&plan)
}

pub(crate) async fn get(cp: &ControlPlane, call: &Call) -> Outcome {
    let (mut plan, _) = load(cp, call.param("usageplanId")).await?;
    if plan.tags.is_none() {
        plan.tags = Some(IndexMap::new());
    }
    Reply::json(&plan)
}

pub(crate) async fn list(cp: &ControlPlane, call: &Call) -> Outcome {
    let key_filter = call.query("keyId");
    let mut items = Vec::new();
    for rec in cp.store.list(Kind::UsagePlan, Some("")).await? {
        if let Some(k) = key_filter
            && cp
                .store
                .get(&Key::new(Kind::UsagePlanKey, rec.key.id.clone(), k))
                .await?
                .is_none()
        {
            continue;
        }
        let mut plan: v1::UsagePlan =
            serde_json::from_str(&rec.body).map_err(|e| ApiError::internal(e.to_string()))?;
        plan.tags = None; // AWS lists plans without their tags
        items.push(serde_json::to_value(plan).map_err(|e| ApiError::internal(e.to_string()))?);
    }
    Reply::json(pagination::page(call, items)?)
}

fn number<T: std::str::FromStr>(p: &Patch) -> Result<T, ApiError> {
    let v = patching::value(p)?;
    v.parse()
        .map_err(|_| ApiError::bad_request(format!("Invalid value for {}: {v}", p.path)))
}

pub(crate) async fn update(cp: &ControlPlane, call: &Call) -> Outcome {
    let patches = patching::read(call, "updateUsagePlanInput")?;
    let id = call.param("usageplanId");
    let (mut plan, rev) = load(cp, id).await?;
    for p in &patches {
        let seg: Vec<&str> = p.segments.iter().map(String::as_str).collect();
        match (seg.as_slice(), p.op) {
            (["name"], PatchOp::Replace) => plan.name = p.value.clone(),
            (["description"], PatchOp::Replace | PatchOp::Add) => {
                plan.description = p.value.clone().filter(|d| !d.is_empty())
            }
            (["productCode"], _) => plan.product_code = p.value.clone(),
            (["apiStages"], op @ (PatchOp::Add | PatchOp::Remove)) => {
                let value = p.value.clone().unwrap_or_default();
                let Some((api, stage)) = value
                    .split_once(':')
                    .filter(|(a, s)| !a.is_empty() && !s.is_empty())
                else {
                    return Err(ApiError::bad_request("Invalid API Stage specified"));
                };
                let stages = plan.api_stages.get_or_insert_with(Vec::new);
                if op == PatchOp::Add {
                    check_stage(cp, id, api, stage).await?;
                    if !stages.iter().any(|s| {
                        s.api_id.as_deref() == Some(api) && s.stage.as_deref() == Some(stage)
                    }) {
                        stages.push(v1::ApiStage {
                            api_id: Some(api.into()),
                            stage: Some(stage.into()),
                            throttle: None,
                        });
                    }
                } else {
                    let before = stages.len();
                    stages.retain(|s| {
                        !(s.api_id.as_deref() == Some(api) && s.stage.as_deref() == Some(stage))
                    });
                    if stages.len() == before {
                        return Err(ApiError::not_found(format!(
                            "Invalid API Stage {{api: {api}, stage: {stage}}} specified for usageplan {id}"
                        )));
                    }
                }
            }
            (["apiStages", api_stage, "throttle", rest @ ..], op) if rest.len() >= 2 => {
                let (api, stage) = api_stage.split_once(':').unwrap_or((api_stage, ""));
                let last = rest[rest.len() - 1];
                let (method_path, field) = if matches!(last, "rateLimit" | "burstLimit") {
                    (rest[..rest.len() - 1].join("/"), Some(last))
                } else {
                    (rest.join("/"), None)
                };
                let method_key = if method_path.starts_with('/') {
                    method_path
                } else {
                    format!("/{method_path}")
                };
                let s = plan
                    .api_stages
                    .get_or_insert_with(Vec::new)
                    .iter_mut()
                    .find(|s| s.api_id.as_deref() == Some(api) && s.stage.as_deref() == Some(stage))
                    .ok_or_else(|| ApiError::not_found(format!(
                        "Invalid API Stage {{api: {api}, stage: {stage}}} specified for usageplan {id}"
                    )))?;
                let map = s.throttle.get_or_insert_with(IndexMap::new);
                match (op, field) {
                    (PatchOp::Remove, _) => {
                        map.shift_remove(&method_key);
                    }
                    (_, Some(f)) => {
                        let t = map.entry(method_key).or_default();
                        if f == "rateLimit" {
                            t.rate_limit = Some(number(p)?);
                        } else {
                            t.burst_limit = Some(number(p)?);
                        }
                    }
                    _ => return Err(invalid_path(p)),
                }
            }
            (["throttle"], PatchOp::Remove) => plan.throttle = None,
            (["throttle", f @ ("rateLimit" | "burstLimit")], PatchOp::Replace | PatchOp::Add) => {
                let t = plan.throttle.get_or_insert_with(Default::default);
                if *f == "rateLimit" {
                    t.rate_limit = Some(number(p)?);
                } else {
                    t.burst_limit = Some(number(p)?);
                }
                check_throttle(t)?;
            }
            (["quota"], PatchOp::Remove) => plan.quota = None,
            (["quota", f @ ("limit" | "period" | "offset")], PatchOp::Replace | PatchOp::Add) => {
                let q = plan.quota.get_or_insert_with(|| v1::QuotaSettings {
                    limit: None,
                    offset: Some(0),
                    period: Some("DAY".into()),
                });
                match *f {
                    "limit" => q.limit = Some(number(p)?),
                    "offset" => q.offset = Some(number(p)?),
                    _ => q.period = Some(patching::value(p)?),
                }
                check_quota(q)?;
            }
            _ => return Err(invalid_path(p)),
        }
    }
    if plan.tags.is_none() {
        plan.tags = Some(IndexMap::new());
    }
    cp.store
        .commit(vec![Write::Put {
            key: Key::new(Kind::UsagePlan, "", id),
            body: to_json(&plan)?,
            expect: Expect::Revision(rev),
        }])
        .await?;
    Reply::json(&plan)
}

pub(crate) async fn delete(cp: &ControlPlane, call: &Call) -> Outcome {
    let id = call.param("usageplanId");
    load(cp, id).await?;
    cp.store
        .commit(vec![
            Write::Delete {
                key: Key::new(Kind::UsagePlan, "", id),
                expect: Expect::Any,
            },
            Write::DeleteScope {
                kind: Kind::UsagePlanKey,
                scope: id.to_string(),
            },
        ])
        .await?;
    Reply::empty()
}

// === UsagePlanKeys ===

/// Adds an API key to a plan (CreateUsagePlanKey, and ImportApiKeys' usageplanIds).
pub(crate) async fn add_key(
    cp: &ControlPlane,
    plan_id: &str,
    key_id: &str,
) -> Result<v1::UsagePlanKey, ApiError> {
    load(cp, plan_id).await?;
    let (key, _) = crate::api_keys::load(cp, key_id).await?;
    let upk = v1::UsagePlanKey {
        id: key.id.clone(),
        type_: Some("API_KEY".into()),
        value: key.value.clone(),
        name: key.name.clone(),
    };
    cp.store
        .commit(vec![Write::Put {
            key: Key::new(Kind::UsagePlanKey, plan_id, key_id),
            body: to_json(&upk)?,
            expect: Expect::Absent,
        }])
        .await
        .map_err(|e| match e {
            portico_store::StoreError::Conflict(_) => ApiError::conflict(format!(
                "Usage Plan {plan_id} cannot be added because API Key {key_id} cannot reference it"
            )),
            other => other.into(),
        })?;
    Ok(upk)
}

/// The plan's keys as they are now (names and values follow the key).
async fn plan_keys(cp: &ControlPlane, plan_id: &str) -> Result<Vec<v1::UsagePlanKey>, ApiError> {
    let mut out = Vec::new();
    for rec in cp.store.list(Kind::UsagePlanKey, Some(plan_id)).await? {
        if let Ok((key, _)) = crate::api_keys::load(cp, &rec.key.id).await {
            out.push(v1::UsagePlanKey {
                id: key.id,
                type_: Some("API_KEY".into()),
                value: key.value,
                name: key.name,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(out)
}

pub(crate) async fn create_key(cp: &ControlPlane, call: &Call) -> Outcome {
    let input: v1::CreateUsagePlanKeyRequest = call.input()?;
    if input.key_type.as_deref().is_some_and(|t| t != "API_KEY") {
        return Err(ApiError::bad_request(
            "Invalid key type specified: only API_KEY is supported",
        ));
    }
    let upk = add_key(
        cp,
        call.param("usageplanId"),
        input.key_id.as_deref().unwrap_or(""),
    )
    .await?;
    Reply::json(&upk)
}

pub(crate) async fn get_key(cp: &ControlPlane, call: &Call) -> Outcome {
    let key_id = call.param("keyId");
    let keys = plan_keys(cp, call.param("usageplanId")).await?;
    let k = keys
        .into_iter()
        .find(|k| k.id.as_deref() == Some(key_id))
        .ok_or_else(|| ApiError::not_found("Invalid Usage Plan Key identifier specified"))?;
    Reply::json(&k)
}

pub(crate) async fn list_keys(cp: &ControlPlane, call: &Call) -> Outcome {
    // `nameQuery` travels as `name` on the wire.
    let prefix = call.query("name").unwrap_or("");
    let items = plan_keys(cp, call.param("usageplanId"))
        .await?
        .into_iter()
        .filter(|k| k.name.as_deref().unwrap_or("").starts_with(prefix))
        .map(|k| serde_json::to_value(k).map_err(|e| ApiError::internal(e.to_string())))
        .collect::<Result<_, _>>()?;
    Reply::json(pagination::page(call, items)?)
}

pub(crate) async fn delete_key(cp: &ControlPlane, call: &Call) -> Outcome {
    let (plan_id, key_id) = (call.param("usageplanId"), call.param("keyId"));
    let k = Key::new(Kind::UsagePlanKey, plan_id, key_id);
    cp.store
        .get(&k)
        .await?
        .ok_or_else(|| ApiError::not_found("Invalid Usage Plan Key identifier specified"))?;
    cp.store
        .commit(vec![Write::Delete {
            key: k,
            expect: Expect::Any,
        }])
        .await?;
    Reply::empty()
}

// === Usage ===

/// Days from `start` to `end` inclusive (`yyyy-MM-dd`), at most 90.
fn days(start: &str, end: &str) -> Result<Vec<String>, ApiError> {
    let parse = portico_model::time::parse_date;
    let bad = || ApiError::bad_request("Invalid date format: dates must be yyyy-MM-dd");
    let (s, e) = (parse(start).ok_or_else(bad)?, parse(end).ok_or_else(bad)?);
    if e < s {
        return Err(ApiError::bad_request(
            "The end date must not be before the start date",
        ));
    }
    if e - s > 90 {
        return Err(ApiError::bad_request(
            "The usage data can be retrieved for at most 90 days",
        ));
    }
    Ok((s..=e)
        .map(|d| portico_model::time::date(d * 86_400))
        .collect())
}

pub(crate) async fn get_usage(cp: &ControlPlane, call: &Call) -> Outcome {
    let plan_id = call.param("usageplanId");
    let (plan, _) = load(cp, plan_id).await?;
    let (start, end) = (
        call.query("startDate").unwrap_or(""),
        call.query("endDate").unwrap_or(""),
    );
    let range = days(start, end)?;
    let key_filter = call.query("keyId");
    // Each day's `remaining` is the quota left at the end of that day, within the quota
    // period the day belongs to (not summed over the requested range).
    let quota = plan.quota.as_ref().and_then(|q| {
        Some(portico_limits::QuotaSpec {
            limit: u64::try_from(q.limit?).ok()?,
            period: portico_limits::Period::parse(q.period.as_deref()?)?,
            offset: u32::try_from(q.offset.unwrap_or(0)).ok()?,
        })
    });
    let mut values = IndexMap::new();
    for rec in cp.store.list(Kind::Usage, Some(plan_id)).await? {
        if key_filter.is_some_and(|k| k != rec.key.id) {
            continue;
        }
        let usage: portico_limits::UsageRecord =
            serde_json::from_str(&rec.body).map_err(|e| ApiError::internal(e.to_string()))?;
        let per_day: Vec<Vec<i64>> = range
            .iter()
            .map(|d| {
                let used = usage.daily.get(d).copied().unwrap_or(0) as i64;
                let Some(q) = quota else { return vec![used, 0] };
                let day_ms = portico_model::time::parse_date(d).unwrap_or(0) * 86_400_000;
                let start = portico_limits::period_start(q, day_ms);
                let start_date = portico_model::time::date(start / 1000);
                let used_in_period: u64 = if start == usage.period_start
                    && portico_model::time::date(portico_model::time::now_epoch_seconds()) == *d
                {
                    // Today, in the current period: the live count (includes UpdateUsage).
                    usage.used
                } else {
                    usage
                        .daily
                        .range(start_date..=d.clone())
                        .map(|(_, n)| *n)
                        .sum()
                };
                vec![used, q.limit.saturating_sub(used_in_period) as i64]
            })
            .collect();
        values.insert(rec.key.id.clone(), per_day);
    }
    Reply::json(v1::Usage {
        usage_plan_id: Some(plan_id.to_string()),
        start_date: Some(start.to_string()),
        end_date: Some(end.to_string()),
        position: None,
        items: Some(values),
    })
}

pub(crate) async fn update_usage(cp: &ControlPlane, call: &Call) -> Outcome {
    let patches = patching::read(call, "updateUsageInput")?;
    let (plan_id, key_id) = (call.param("usageplanId"), call.param("keyId"));
    let (plan, _) = load(cp, plan_id).await?;
    if plan.quota.is_none() {
        return Err(ApiError::bad_request(
            "Usage plan has no quota: there is no remaining usage to update",
        ));
    }
    let mut remaining = None;
    for p in &patches {
        match (
            p.segments
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice(),
            p.op,
        ) {
            (["remaining"], PatchOp::Replace) => remaining = Some(number::<u64>(p)?),
            _ => return Err(invalid_path(p)),
        }
    }
    if let Some(r) = remaining {
        cp.commit_live(vec![Write::Put {
            key: Key::new(Kind::UsageOverride, plan_id, key_id),
            body: serde_json::json!({ "remaining": r }).to_string(),
            expect: Expect::Any,
        }])
        .await?;
    }
    let today = portico_model::time::date(portico_model::time::now_epoch_seconds());
    let mut values = IndexMap::new();
    values.insert(
        key_id.to_string(),
        vec![vec![0, remaining.unwrap_or(0) as i64]],
    );
    Reply::json(v1::Usage {
        usage_plan_id: Some(plan_id.to_string()),
        start_date: Some(today.clone()),
        end_date: Some(today),
        position: None,
        items: Some(values),
    })
}

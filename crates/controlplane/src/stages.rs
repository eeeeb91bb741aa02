//! Stages: a name pointing at a deployment, with variables and per-method settings.
//! Stage changes go live at once (no redeploy), as on AWS.

use indexmap::IndexMap;
use portico_model::patch::{Patch, PatchOp};
use portico_model::{time, v1};
use portico_store::{Expect, Key, Kind, Write};

use crate::patching;
use crate::state::to_json;
use crate::{ApiError, Call, ControlPlane, Outcome, Reply, pagination};

fn not_found() -> ApiError {
    ApiError::not_found("Invalid Stage identifier specified")
}

/// A stage as AWS creates it, with its defaults.
pub(crate) fn new_stage(name: &str, deployment_id: &str) -> v1::Stage {
    let now = time::now_epoch_seconds();
    v1::Stage {
        deployment_id: Some(deployment_id.to_string()),
        stage_name: Some(name.to_string()),
        cache_cluster_enabled: Some(false),
        cache_cluster_status: Some("NOT_AVAILABLE".into()),
        method_settings: Some(IndexMap::new()),
        tracing_enabled: Some(false),
        created_date: Some(now),
        last_updated_date: Some(now),
        ..Default::default()
    }
}

/// The settings a method-settings key starts with when first patched.
fn default_method_setting() -> v1::MethodSetting {
    v1::MethodSetting {
        metrics_enabled: Some(false),
        logging_level: None,
        data_trace_enabled: Some(false),
        throttling_burst_limit: Some(5000),
        throttling_rate_limit: Some(10000.0),
        caching_enabled: Some(false),
        cache_ttl_in_seconds: Some(300),
        cache_data_encrypted: Some(false),
        require_authorization_for_cache_control: Some(true),
        unauthorized_cache_control_header_strategy: Some("SUCCEED_WITH_RESPONSE_HEADER".into()),
    }
}

const VALID_PATHS: &str = "[/deploymentId, /description, /cacheClusterEnabled, /cacheClusterSize, /clientCertificateId, /accessLogSettings, /accessLogSettings/destinationArn, /accessLogSettings/format, /{resourcePath}/{httpMethod}/metrics/enabled, /{resourcePath}/{httpMethod}/logging/dataTrace, /{resourcePath}/{httpMethod}/logging/loglevel, /{resourcePath}/{httpMethod}/throttling/burstLimit/{resourcePath}/{httpMethod}/throttling/rateLimit/{resourcePath}/{httpMethod}/caching/ttlInSeconds, /{resourcePath}/{httpMethod}/caching/enabled, /{resourcePath}/{httpMethod}/caching/dataEncrypted, /{resourcePath}/{httpMethod}/caching/requireAuthorizationForCacheControl, /{resourcePath}/{httpMethod}/caching/unauthorizedCacheControlHeaderStrategy, /*/*/metrics/enabled, /*/*/logging/dataTrace, /*/*/logging/loglevel, /*/*/throttling/burstLimit /*/*/throttling/rateLimit /*/*/caching/ttlInSeconds, /*/*/caching/enabled, /*/*/caching/dataEncrypted, /*/*/caching/requireAuthorizationForCacheControl, /*/*/caching/unauthorizedCacheControlHeaderStrategy, /variables/{variable_name}, /tracingEnabled]";

fn invalid_setting_path(p: &Patch) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid method setting path: {}. Must be one of: {VALID_PATHS}",
        p.path
    ))
}

fn cannot_remove(what: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Cannot remove method setting {what} because there is no method setting for this method "
    ))
}

fn number<T: std::str::FromStr>(p: &Patch) -> Result<T, ApiError> {
    let v = patching::value(p)?;
    v.parse()
        .map_err(|_| ApiError::bad_request(format!("Invalid value for {}: {v}", p.path)))
}

/// Applies one method-setting patch (`/{resourcePath}/{httpMethod}/{group}/{name}`).
fn patch_method_setting(stage: &mut v1::Stage, p: &Patch) -> Result<(), ApiError> {
    let seg = &p.segments;
    let (res, verb, rest) = (&seg[0], &seg[1], &seg[2..]);
    let key = format!("{}/{verb}", res.trim_start_matches('/'));
    let settings = stage.method_settings.get_or_insert_with(IndexMap::new);
    if p.op == PatchOp::Remove {
        if rest.is_empty() || rest.iter().all(|s| s == "*") {
            if settings.shift_remove(&key).is_none() {
                return Err(cannot_remove(&key));
            }
            return Ok(());
        }
        if !settings.contains_key(&key) {
            return Err(cannot_remove(&key));
        }
    }
    if !patching::sets(p) && p.op != PatchOp::Remove {
        return Err(invalid_setting_path(p));
    }
    let inherited = settings
        .get("*/*")
        .cloned()
        .unwrap_or_else(default_method_setting);
    let s = settings.entry(key).or_insert(inherited);
    let path: Vec<&str> = rest.iter().map(String::as_str).collect();
    match path.as_slice() {
        ["metrics", "enabled"] => s.metrics_enabled = Some(patching::bool_value(p)),
        ["logging", "dataTrace"] => s.data_trace_enabled = Some(patching::bool_value(p)),
        ["logging", "loglevel"] => {
            let v = patching::value(p)?;
            if !["OFF", "ERROR", "INFO"].contains(&v.to_ascii_uppercase().as_str()) {
                return Err(ApiError::bad_request(format!(
                    "Invalid value for loglevel: {v}. Valid values are OFF, ERROR, INFO"
                )));
            }
            s.logging_level = Some(v.to_ascii_uppercase());
        }
        ["throttling", "burstLimit"] => {
            let v: i32 = number(p)?;
            if v < 0 {
                return Err(ApiError::bad_request(
                    "Throttling burst limit must be non-negative",
                ));
            }
            s.throttling_burst_limit = Some(v);
        }
        ["throttling", "rateLimit"] => {
            let v: f64 = number(p)?;
            if v.is_nan() || v < 0.0 {
                return Err(ApiError::bad_request(
                    "Throttling rate limit must be non-negative",
                ));
            }
            s.throttling_rate_limit = Some(v);
        }
        ["caching", "enabled"] => s.caching_enabled = Some(patching::bool_value(p)),
        ["caching", "ttlInSeconds"] => s.cache_ttl_in_seconds = Some(number(p)?),
        ["caching", "dataEncrypted"] => s.cache_data_encrypted = Some(patching::bool_value(p)),
        ["caching", "requireAuthorizationForCacheControl"] => {
            s.require_authorization_for_cache_control = Some(patching::bool_value(p))
        }
        ["caching", "unauthorizedCacheControlHeaderStrategy"] => {
            s.unauthorized_cache_control_header_strategy = Some(patching::value(p)?)
        }
        _ => return Err(invalid_setting_path(p)),
    }
    Ok(())
}

fn patch_access_log(stage: &mut v1::Stage, p: &Patch) -> Result<(), ApiError> {
    let invalid = || {
        ApiError::bad_request(
            "Invalid accessLogSettings path. Must be one of : [/accessLogSettings/destinationArn, /accessLogSettings/format]",
        )
    };
    let field = p.segments.get(1).map(String::as_str);
    match p.op {
        PatchOp::Remove => {
            if stage.access_log_settings.is_none() || field.is_some() {
                return Err(cannot_remove(&p.path[1..]));
            }
            stage.access_log_settings = None;
        }
        PatchOp::Add | PatchOp::Replace => {
            let v = p.value.clone().unwrap_or_default();
            let cfg = stage
                .access_log_settings
                .get_or_insert_with(Default::default);
            match field {
                Some("destinationArn") | Some("format") if v.is_empty() => {
                    return Err(ApiError::bad_request("Access Log value must not be empty"));
                }
                Some("destinationArn") => cfg.destination_arn = Some(v),
                Some("format") => cfg.format = Some(v),
                _ => return Err(invalid()),
            }
            if p.segments.len() != 2 {
                return Err(invalid());
            }
        }
        _ => return Err(invalid()),
    }
    Ok(())
}

/// Top-level stage fields, which are never a `{resourcePath}` of a method setting.
fn is_stage_field(s: &str) -> bool {
    matches!(
        s,
        "deploymentId"
            | "description"
            | "cacheClusterEnabled"
            | "cacheClusterSize"
            | "clientCertificateId"
            | "tracingEnabled"
            | "variables"
            | "accessLogSettings"
            | "canarySettings"
            | "tags"
            | "documentation_version"
            | "documentationVersion"
    )
}

fn apply(stage: &mut v1::Stage, p: &Patch, deployments: &[String]) -> Result<(), ApiError> {
    let seg: Vec<&str> = p.segments.iter().map(String::as_str).collect();
    match seg.as_slice() {
        ["deploymentId"] if p.op == PatchOp::Replace => {
            let v = patching::value(p)?;
            if !deployments.contains(&v) {
                return Err(ApiError::bad_request(format!(
                    "Invalid deployment identifier specified: {v}"
                )));
            }
            stage.deployment_id = Some(v);
        }
        ["description"] => {
            stage.description = if patching::sets(p) {
                p.value.clone().filter(|d| !d.is_empty())
            } else {
                None
            }
        }
        ["cacheClusterEnabled"] => stage.cache_cluster_enabled = Some(patching::bool_value(p)),
        ["cacheClusterSize"] => stage.cache_cluster_size = p.value.clone(),
        ["clientCertificateId"] => stage.client_certificate_id = p.value.clone(),
        ["tracingEnabled"] => stage.tracing_enabled = Some(patching::bool_value(p)),
        ["variables", name] => {
            let vars = stage.variables.get_or_insert_with(IndexMap::new);
            match p.op {
                PatchOp::Add | PatchOp::Replace => {
                    vars.insert(name.to_string(), p.value.clone().unwrap_or_default());
                }
                PatchOp::Remove => {
                    vars.shift_remove(*name);
                }
                _ => return Err(invalid_setting_path(p)),
            }
            if vars.is_empty() {
                stage.variables = None;
            }
        }
        ["accessLogSettings", ..] => patch_access_log(stage, p)?,
        ["canarySettings", "deploymentId"] if p.op == PatchOp::Add => {
            return Err(ApiError::bad_request(format!(
                "Invalid add operation with path: {}",
                p.path
            )));
        }
        ["canarySettings", field] => {
            if p.op == PatchOp::Remove {
                let has = stage
                    .canary_settings
                    .as_ref()
                    .is_some_and(|c| match *field {
                        "stageVariableOverrides" => c.stage_variable_overrides.is_some(),
                        "deploymentId" | "percentTraffic" | "useStageCache" => true,
                        _ => false,
                    });
                if !has {
                    return Err(cannot_remove(&p.path[1..]));
                }
            }
            let canary = stage.canary_settings.get_or_insert_with(Default::default);
            match *field {
                "percentTraffic" => canary.percent_traffic = Some(number(p)?),
                "useStageCache" => canary.use_stage_cache = Some(patching::bool_value(p)),
                "deploymentId" => {
                    let v = patching::value(p)?;
                    if !deployments.contains(&v) {
                        return Err(ApiError::bad_request("Deployment id does not exist"));
                    }
                    canary.deployment_id = Some(v);
                }
                _ => return Err(invalid_setting_path(p)),
            }
        }
        ["canarySettings", "stageVariableOverrides", name] => {
            let canary = stage.canary_settings.get_or_insert_with(Default::default);
            let o = canary
                .stage_variable_overrides
                .get_or_insert_with(IndexMap::new);
            if patching::sets(p) {
                o.insert(name.to_string(), p.value.clone().unwrap_or_default());
            } else {
                o.shift_remove(*name);
            }
        }
        ["canarySettings"] if p.op == PatchOp::Remove => stage.canary_settings = None,
        [first, _, ..] if !is_stage_field(first) && (seg.len() >= 4 || p.op == PatchOp::Remove) => {
            patch_method_setting(stage, p)?
        }
        _ => {
            if p.op == PatchOp::Copy {
                return copy(stage, p);
            }
            return Err(invalid_setting_path(p));
        }
    }
    Ok(())
}

/// Canary promotion: `copy` from `/canarySettings/...` to `/deploymentId` or `/variables`.
fn copy(stage: &mut v1::Stage, p: &Patch) -> Result<(), ApiError> {
    let from = p.from.clone().unwrap_or_default();
    match (p.path.as_str(), from.as_str()) {
        ("/deploymentId", "/canarySettings/deploymentId")
        | ("/variables", "/canarySettings/stageVariableOverrides") => {}
        _ => {
            return Err(ApiError::bad_request(format!(
                "Invalid copy operation with path: {} and from {from}. Valid copy:path are [/deploymentId, /variables] and valid copy:from are [/canarySettings/deploymentId, /canarySettings/stageVariableOverrides]",
                p.path
            )));
        }
    }
    let Some(canary) = stage.canary_settings.clone() else {
        return Err(ApiError::bad_request(
            "Promotion not available. Canary does not exist.",
        ));
    };
    if p.path == "/deploymentId" {
        stage.deployment_id = canary.deployment_id;
    } else if let Some(o) = canary.stage_variable_overrides {
        stage.variables.get_or_insert_with(IndexMap::new).extend(o);
    }
    Ok(())
}

pub(crate) async fn create(cp: &ControlPlane, call: &Call) -> Outcome {
    let api_id = call.param("restapi_id");
    let input: v1::CreateStageRequest = call.input()?;
    cp.load_api(api_id).await?;
    let name = input.stage_name.clone().unwrap_or_default();
    if name.is_empty()
        || !name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    {
        return Err(ApiError::bad_request(
            "Stage name only allows a-zA-Z0-9_ and must be between 1 and 128 characters",
        ));
    }
    let deployment_id = input.deployment_id.clone().unwrap_or_default();
    if cp.load_deployment(api_id, &deployment_id).await?.is_none() {
        return Err(ApiError::bad_request(format!(
            "Invalid deployment identifier specified: {deployment_id}"
        )));
    }
    let mut stage = new_stage(&name, &deployment_id);
    stage.description = input.description.filter(|d| !d.is_empty());
    stage.variables = input.variables.filter(|v| !v.is_empty());
    stage.cache_cluster_enabled = Some(input.cache_cluster_enabled.unwrap_or(false));
    stage.cache_cluster_size = input.cache_cluster_size;
    stage.tracing_enabled = Some(input.tracing_enabled.unwrap_or(false));
    stage.documentation_version = input.documentation_version;
    stage.tags = input.tags.filter(|t| !t.is_empty());
    if let Some(c) = input.canary_settings {
        stage.canary_settings = Some(v1::CanarySettings {
            deployment_id: c.deployment_id,
            percent_traffic: Some(c.percent_traffic.unwrap_or(0.0)),
            stage_variable_overrides: c.stage_variable_overrides,
            use_stage_cache: Some(c.use_stage_cache.unwrap_or(false)),
        });
    }
    let write = Write::Put {
        key: Key::new(Kind::Stage, api_id, &name),
        body: to_json(&stage)?,
        expect: Expect::Absent,
    };
    cp.commit_live(vec![write]).await.map_err(|e| match e {
        portico_store::StoreError::Conflict(_) => ApiError::conflict("Stage already exists"),
        other => other.into(),
    })?;
    Reply::json(&stage)
}

pub(crate) async fn get(cp: &ControlPlane, call: &Call) -> Outcome {
    let api_id = call.param("restapi_id");
    cp.load_api(api_id).await?;
    let (stage, _) = cp
        .load_stage(api_id, call.param("stage_name"))
        .await?
        .ok_or_else(not_found)?;
    Reply::json(&stage)
}

pub(crate) async fn list(cp: &ControlPlane, call: &Call) -> Outcome {
    let api_id = call.param("restapi_id");
    cp.load_api(api_id).await?;
    let filter = call.query("deploymentId");
    let items: Vec<serde_json::Value> = cp
        .list_stages(api_id)
        .await?
        .into_iter()
        .filter(|s| filter.is_none() || s.deployment_id.as_deref() == filter)
        .map(|s| serde_json::to_value(s).map_err(|e| ApiError::internal(e.to_string())))
        .collect::<Result<_, _>>()?;
    // GetStages is not paginated on AWS: it answers every stage under `item`.
    let _ = pagination::page;
    Reply::json(serde_json::json!({ "item": items }))
}

pub(crate) async fn update(cp: &ControlPlane, call: &Call) -> Outcome {
    let api_id = call.param("restapi_id");
    let patches = patching::read(call, "updateStageInput")?;
    cp.load_api(api_id).await?;
    let name = call.param("stage_name");
    let deployments: Vec<String> = cp
        .list_deployments(api_id)
        .await?
        .into_iter()
        .filter_map(|d| d.deployment.id)
        .collect();
    for _ in 0..8 {
        let (mut stage, rev) = cp.load_stage(api_id, name).await?.ok_or_else(not_found)?;
        for p in &patches {
            apply(&mut stage, p, &deployments)?;
        }
        stage.last_updated_date = Some(time::now_epoch_seconds());
        let write = Write::Put {
            key: Key::new(Kind::Stage, api_id, name),
            body: to_json(&stage)?,
            expect: Expect::Revision(rev),
        };
        match cp.commit_live(vec![write]).await {
            Ok(_) => return Reply::json(&stage),
            Err(portico_store::StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict(
        "Unable to complete operation due to concurrent modification. Please try again later.",
    ))
}

pub(crate) async fn delete(cp: &ControlPlane, call: &Call) -> Outcome {
    let api_id = call.param("restapi_id");
    cp.load_api(api_id).await?;
    let name = call.param("stage_name");
    cp.load_stage(api_id, name).await?.ok_or_else(not_found)?;
    cp.commit_live(vec![Write::Delete {
        key: Key::new(Kind::Stage, api_id, name),
        expect: Expect::Any,
    }])
    .await?;
    Reply::empty()
}

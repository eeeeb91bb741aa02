//! Deployments: immutable snapshots of a REST API. With `stageName`, creating one also creates
//! the stage or moves it to the new deployment.

use portico_model::document::DeploymentRecord;
use portico_model::{ids, time, v1};
use portico_store::{Expect, Key, Kind, Write};

use crate::patching::{self, invalid_path};
use crate::stages::new_stage;
use crate::state::to_json;
use crate::{ApiError, Call, ControlPlane, Outcome, Reply, pagination};

fn not_found() -> ApiError {
    ApiError::not_found("Invalid Deployment identifier specified")
}

pub(crate) async fn create(cp: &ControlPlane, call: &Call) -> Outcome {
    let api_id = call.param("restapi_id");
    let input: v1::CreateDeploymentRequest = call.input()?;
    let (doc, _) = cp.load_api(api_id).await?;
    let has_methods = doc
        .resources
        .values()
        .any(|r| r.resource_methods.as_ref().is_some_and(|m| !m.is_empty()));
    if !has_methods {
        return Err(ApiError::bad_request(
            "The REST API doesn't contain any methods",
        ));
    }
    let missing_integration = doc
        .resources
        .values()
        .flat_map(|r| r.resource_methods.iter().flatten())
        .any(|(_, m)| m.method_integration.is_none());
    if missing_integration {
        return Err(ApiError::bad_request("No integration defined for method"));
    }
    if input.canary_settings.is_some() {
        let stage = input.stage_name.clone().unwrap_or_default();
        if stage.is_empty() {
            return Err(ApiError::bad_request(format!(
                "Invalid deployment content specified.Non null and non empty stageName must be provided for canary deployment. Provided value is {}",
                input.stage_name.as_deref().unwrap_or("null")
            )));
        }
        if cp.load_stage(api_id, &stage).await?.is_none() {
            return Err(ApiError::bad_request(format!(
                "Invalid deployment content specified.Stage {stage} must already be created before making a canary release deployment"
            )));
        }
    }
    let deployment = v1::Deployment {
        id: Some(ids::deployment_id()),
        description: input.description.clone().filter(|d| !d.is_empty()),
        created_date: Some(time::now_epoch_seconds()),
        api_summary: None,
    };
    let id = deployment.id.clone().unwrap_or_default();
    let record = DeploymentRecord {
        deployment: deployment.clone(),
        snapshot: doc,
    };
    let mut writes = vec![Write::Put {
        key: Key::new(Kind::Deployment, api_id, &id),
        body: to_json(&record)?,
        expect: Expect::Absent,
    }];
    if let Some(stage_name) = input.stage_name.clone().filter(|s| !s.is_empty()) {
        let stage = match cp.load_stage(api_id, &stage_name).await? {
            Some((mut stage, rev)) => {
                if let Some(canary) = input.canary_settings.clone() {
                    stage.canary_settings = Some(v1::CanarySettings {
                        deployment_id: Some(id.clone()),
                        percent_traffic: Some(canary.percent_traffic.unwrap_or(0.0)),
                        stage_variable_overrides: canary.stage_variable_overrides,
                        use_stage_cache: Some(canary.use_stage_cache.unwrap_or(false)),
                    });
                } else {
                    stage.deployment_id = Some(id.clone());
                }
                if let Some(vars) = input.variables.clone() {
                    let cur = stage.variables.get_or_insert_with(Default::default);
                    cur.extend(vars);
                }
                stage.last_updated_date = Some(time::now_epoch_seconds());
                (stage, Expect::Revision(rev))
            }
            None => {
                let mut s = new_stage(&stage_name, &id);
                s.description = input.stage_description.clone().filter(|d| !d.is_empty());
                s.variables = input.variables.clone().filter(|v| !v.is_empty());
                s.cache_cluster_enabled = Some(input.cache_cluster_enabled.unwrap_or(false));
                s.cache_cluster_size = input.cache_cluster_size.clone();
                s.tracing_enabled = Some(input.tracing_enabled.unwrap_or(false));
                (s, Expect::Absent)
            }
        };
        writes.push(Write::Put {
            key: Key::new(Kind::Stage, api_id, &stage_name),
            body: to_json(&stage.0)?,
            expect: stage.1,
        });
    }
    cp.commit_live(writes).await?;
    Reply::json(&deployment)
}

fn summary(record: &DeploymentRecord) -> v1::Deployment {
    let mut d = record.deployment.clone();
    let mut summary = indexmap::IndexMap::new();
    for r in record.snapshot.resources.values() {
        let Some(methods) = &r.resource_methods else {
            continue;
        };
        let mut per = indexmap::IndexMap::new();
        for (verb, m) in methods {
            per.insert(
                verb.clone(),
                v1::MethodSnapshot {
                    authorization_type: m.authorization_type.clone(),
                    api_key_required: m.api_key_required,
                },
            );
        }
        summary.insert(r.path.clone().unwrap_or_default(), per);
    }
    d.api_summary = Some(summary);
    d
}

fn wants_summary(call: &Call) -> bool {
    call.query("embed")
        .is_some_and(|e| e.split(',').any(|x| x.trim() == "apisummary"))
}

pub(crate) async fn get(cp: &ControlPlane, call: &Call) -> Outcome {
    let api_id = call.param("restapi_id");
    cp.load_api(api_id).await?;
    let rec = cp
        .load_deployment(api_id, call.param("deployment_id"))
        .await?
        .ok_or_else(not_found)?;
    if wants_summary(call) {
        Reply::json(summary(&rec))
    } else {
        Reply::json(&rec.deployment)
    }
}

pub(crate) async fn list(cp: &ControlPlane, call: &Call) -> Outcome {
    let api_id = call.param("restapi_id");
    cp.load_api(api_id).await?;
    let items = cp
        .list_deployments(api_id)
        .await?
        .iter()
        .map(|r| serde_json::to_value(&r.deployment).map_err(|e| ApiError::internal(e.to_string())))
        .collect::<Result<_, _>>()?;
    Reply::json(pagination::page(call, items)?)
}

pub(crate) async fn update(cp: &ControlPlane, call: &Call) -> Outcome {
    let api_id = call.param("restapi_id");
    let patches = patching::read(call, "updateDeploymentInput")?;
    cp.load_api(api_id).await?;
    let id = call.param("deployment_id");
    let key = Key::new(Kind::Deployment, api_id, id);
    let rec = cp.store.get(&key).await?.ok_or_else(not_found)?;
    let mut record: DeploymentRecord =
        serde_json::from_str(&rec.body).map_err(|e| ApiError::internal(e.to_string()))?;
    for p in &patches {
        match p
            .segments
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["description"] => {
                record.deployment.description = p.value.clone().filter(|v| !v.is_empty())
            }
            _ => return Err(invalid_path(p)),
        }
    }
    cp.commit_live(vec![Write::Put {
        key,
        body: to_json(&record)?,
        expect: Expect::Revision(rec.revision),
    }])
    .await?;
    Reply::json(&record.deployment)
}

pub(crate) async fn delete(cp: &ControlPlane, call: &Call) -> Outcome {
    let api_id = call.param("restapi_id");
    cp.load_api(api_id).await?;
    let id = call.param("deployment_id");
    cp.load_deployment(api_id, id)
        .await?
        .ok_or_else(not_found)?;
    let in_use = cp.list_stages(api_id).await?.iter().any(|s| {
        s.deployment_id.as_deref() == Some(id)
            || s.canary_settings
                .as_ref()
                .and_then(|c| c.deployment_id.as_deref())
                == Some(id)
    });
    if in_use {
        return Err(ApiError::bad_request(
            "Active stages pointing to this deployment must be moved or deleted",
        ));
    }
    cp.commit_live(vec![Write::Delete {
        key: Key::new(Kind::Deployment, api_id, id),
        expect: Expect::Any,
    }])
    .await?;
    Reply::empty()
}

//! RestApis: create, get, list, update (patchOperations), delete.

use indexmap::IndexMap;
use portico_model::document::RestApiDocument;
use portico_model::patch::PatchOp;
use portico_model::{ids, time, v1};
use portico_store::{Expect, Key, Kind, Write};
use serde_json::Value;

use crate::patching::{self, invalid_path};
use crate::state::to_json;
use crate::{ApiError, Call, ControlPlane, Outcome, Reply, pagination};

const MAX_COMPRESSION: i64 = 10_485_760;
const ENDPOINT_TYPES: &str = "[PRIVATE, EDGE, REGIONAL]";

fn compression_error() -> ApiError {
    ApiError::bad_request("Invalid minimum compression size, must be between 0 and 10485760")
}

/// Fills in and validates `endpointConfiguration` as AWS does on create.
fn endpoint_configuration(
    raw: &Value,
    input: Option<v1::EndpointConfiguration>,
) -> Result<v1::EndpointConfiguration, ApiError> {
    let mut errors = Vec::new();
    let raw_cfg = raw.get("endpointConfiguration");
    let types: Vec<String> = input
        .as_ref()
        .and_then(|c| c.types.clone())
        .unwrap_or_default();
    if types
        .iter()
        .any(|t| !["PRIVATE", "EDGE", "REGIONAL"].contains(&t.as_str()))
    {
        errors.push(format!(
            "Value '[{}]' at 'createRestApiInput.endpointConfiguration.types' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: {ENDPOINT_TYPES}]",
            types.join(", ")
        ));
    }
    let ip = input.as_ref().and_then(|c| c.ip_address_type.clone());
    if let Some(ip) = ip
        .as_deref()
        .filter(|ip| !["ipv4", "dualstack"].contains(ip))
    {
        errors.push(format!(
            "Value '{ip}' at 'createRestApiInput.endpointConfiguration.ipAddressType' failed to satisfy constraint: Member must satisfy enum value set: [ipv4, dualstack]"
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(&errors));
    }
    let explicit_empty = raw_cfg
        .and_then(|c| c.get("types"))
        .and_then(Value::as_array)
        .is_some_and(|a| a.is_empty());
    if explicit_empty {
        return Err(ApiError::bad_request(
            "REGIONAL Configuration and EDGE Configuration cannot be both DISABLED.",
        ));
    }
    if types.len() > 1 {
        return Err(ApiError::bad_request(
            "Cannot create an api with multiple Endpoint Types.",
        ));
    }
    let ty = types.first().cloned().unwrap_or_else(|| "EDGE".to_string());
    let ip = match (ty.as_str(), ip) {
        ("PRIVATE", Some(ip)) if ip != "dualstack" => {
            return Err(ApiError::bad_request(
                "Only dualstack ipAddressType is supported for Private APIs.",
            ));
        }
        ("PRIVATE", _) => "dualstack".to_string(),
        (_, Some(ip)) => ip,
        (_, None) => "ipv4".to_string(),
    };
    let vpce = input.and_then(|c| c.vpc_endpoint_ids);
    Ok(v1::EndpointConfiguration {
        types: Some(vec![ty]),
        ip_address_type: Some(ip),
        vpc_endpoint_ids: vpce,
    })
}

pub(crate) async fn create(cp: &ControlPlane, call: &Call) -> Outcome {
    let raw = call.raw_json();
    let input: v1::CreateRestApiRequest = call.input()?;
    // Shape constraints (ValidationException) are reported before any other rule.
    let endpoint = endpoint_configuration(&raw, input.endpoint_configuration.clone());
    if let Err(e) = &endpoint
        && e.code == "ValidationException"
    {
        return Err(e.clone());
    }
    if input.description.as_deref() == Some("") {
        return Err(ApiError::bad_request(
            "Description cannot be an empty string",
        ));
    }
    let endpoint = endpoint?;
    if let Some(c) = raw.get("minimumCompressionSize") {
        match c.as_i64() {
            Some(n) if (0..=MAX_COMPRESSION).contains(&n) => {}
            _ if c.is_null() => {}
            _ => return Err(compression_error()),
        }
    }
    let name = input.name.clone().unwrap_or_default();
    if name.is_empty() {
        return Err(ApiError::bad_request(
            "The name of the RestApi must be non-empty",
        ));
    }
    if input.description.as_deref() == Some("") {
        return Err(ApiError::bad_request(
            "Description cannot be an empty string",
        ));
    }
    if let Some(src) = input.api_key_source.as_deref()
        && !["HEADER", "AUTHORIZER"].contains(&src)
    {
        return Err(ApiError::validation(&[format!(
            "Value '{src}' at 'createRestApiInput.apiKeySource' failed to satisfy constraint: Member must satisfy enum value set: [HEADER, AUTHORIZER]"
        )]));
    }
    let id = ids::rest_api_id();
    let mut doc = match input.clone_from.as_deref() {
        Some(src) => {
            let (mut d, _) = cp.load_api(src).await?;
            d.api = v1::RestApi::default();
            d
        }
        None => RestApiDocument::default(),
    };
    let root_id = match doc.resources.iter().find(|(_, r)| r.parent_id.is_none()) {
        Some((rid, _)) => rid.clone(),
        None => {
            let rid = ids::root_resource_id();
            doc.resources.insert(
                rid.clone(),
                v1::Resource {
                    id: Some(rid.clone()),
                    path: Some("/".into()),
                    ..Default::default()
                },
            );
            rid
        }
    };
    crate::models::default_models(&mut doc);
    doc.api = v1::RestApi {
        id: Some(id.clone()),
        name: Some(name),
        description: input.description,
        created_date: Some(time::now_epoch_seconds()),
        version: input.version,
        binary_media_types: input.binary_media_types.filter(|b| !b.is_empty()),
        minimum_compression_size: input.minimum_compression_size,
        api_key_source: Some(input.api_key_source.unwrap_or_else(|| "HEADER".into())),
        endpoint_configuration: Some(endpoint),
        policy: input.policy,
        tags: input.tags.filter(|t| !t.is_empty()),
        disable_execute_api_endpoint: Some(input.disable_execute_api_endpoint.unwrap_or(false)),
        root_resource_id: Some(root_id),
        ..Default::default()
    };
    cp.commit_live(vec![Write::Put {
        key: Key::new(Kind::RestApi, "", &id),
        body: to_json(&doc)?,
        expect: Expect::Absent,
    }])
    .await?;
    Reply::json(&doc.api)
}

pub(crate) async fn get(cp: &ControlPlane, call: &Call) -> Outcome {
    let (mut doc, _) = cp.load_api(call.param("restapi_id")).await?;
    // AWS reads an API back with `tags: {}` when it has none (creates omit it).
    doc.api.tags.get_or_insert_with(IndexMap::new);
    Reply::json(&doc.api)
}

pub(crate) async fn list(cp: &ControlPlane, call: &Call) -> Outcome {
    let mut items = Vec::new();
    for rec in cp.store.list(Kind::RestApi, Some("")).await? {
        let doc: RestApiDocument = serde_json::from_str(&rec.body)
            .map_err(|e| ApiError::internal(format!("corrupt stored API: {e}")))?;
        items.push(serde_json::to_value(&doc.api).map_err(|e| ApiError::internal(e.to_string()))?);
    }
    Reply::json(pagination::page(call, items)?)
}

pub(crate) async fn update(cp: &ControlPlane, call: &Call) -> Outcome {
    let patches = patching::read(call, "updateRestApiInput")?;
    let api = cp
        .update_api(call.param("restapi_id"), |doc| {
            let api = &mut doc.api;
            for p in &patches {
                let seg: Vec<&str> = p.segments.iter().map(String::as_str).collect();
                match (seg.as_slice(), p.op) {
                    (["name"], PatchOp::Replace) => {
                        let v = patching::value(p)?;
                        if v.is_empty() {
                            return Err(ApiError::bad_request(
                                "The name of the RestApi must be non-empty",
                            ));
                        }
                        api.name = Some(v);
                    }
                    (["description"], PatchOp::Replace | PatchOp::Add) => {
                        api.description = p.value.clone().filter(|v| !v.is_empty());
                    }
                    (["description"], PatchOp::Remove) => api.description = None,
                    (["version"], PatchOp::Replace | PatchOp::Add) => api.version = p.value.clone(),
                    (["version"], PatchOp::Remove) => api.version = None,
                    (["policy"], PatchOp::Replace | PatchOp::Add) => api.policy = p.value.clone(),
                    (["policy"], PatchOp::Remove) => api.policy = None,
                    (["apiKeySource"], PatchOp::Replace) => {
                        let v = patching::value(p)?;
                        if !["HEADER", "AUTHORIZER"].contains(&v.as_str()) {
                            return Err(ApiError::bad_request(format!(
                                "Invalid apiKeySource specified. Valid values are HEADER,AUTHORIZER. Provided value is {v}"
                            )));
                        }
                        api.api_key_source = Some(v);
                    }
                    (["disableExecuteApiEndpoint"], PatchOp::Replace) => {
                        api.disable_execute_api_endpoint = Some(patching::bool_value(p));
                    }
                    (["minimumCompressionSize"], PatchOp::Replace) => {
                        match p.value.as_deref() {
                            None | Some("") => api.minimum_compression_size = None,
                            Some(v) => match v.parse::<i64>() {
                                Ok(n) if (0..=MAX_COMPRESSION).contains(&n) => {
                                    api.minimum_compression_size = Some(n as i32)
                                }
                                _ => return Err(compression_error()),
                            },
                        }
                    }
                    (["minimumCompressionSize"], _) => return Err(patching::replace_only()),
                    (["binaryMediaTypes", media], op) => {
                        let list = api.binary_media_types.get_or_insert_with(Vec::new);
                        match op {
                            PatchOp::Add => {
                                if !list.iter().any(|m| m == media) {
                                    list.push(media.to_string());
                                }
                            }
                            PatchOp::Remove => list.retain(|m| m != media),
                            PatchOp::Replace => {
                                let v = patching::value(p)?;
                                list.retain(|m| m != media);
                                if !list.contains(&v) {
                                    list.push(v);
                                }
                            }
                            _ => return Err(invalid_path(p)),
                        }
                        if list.is_empty() {
                            api.binary_media_types = None;
                        }
                    }
                    (["endpointConfiguration", "types", _], PatchOp::Replace) => {
                        let v = patching::value(p)?;
                        if !["REGIONAL", "EDGE", "PRIVATE"].contains(&v.as_str()) {
                            return Err(ApiError::bad_request(
                                "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE",
                            ));
                        }
                        let cfg = api.endpoint_configuration.get_or_insert_with(Default::default);
                        if v == "PRIVATE" {
                            cfg.ip_address_type = Some("dualstack".into());
                        }
                        cfg.types = Some(vec![v]);
                    }
                    (["endpointConfiguration", "types", ..], _) => {
                        return Err(ApiError::bad_request(
                            "Invalid patch operation specified. Must be 'add'|'remove'|'replace'",
                        ));
                    }
                    (["endpointConfiguration", "ipAddressType"], PatchOp::Replace) => {
                        let v = patching::value(p)?;
                        if !["ipv4", "dualstack"].contains(&v.as_str()) {
                            return Err(ApiError::bad_request(
                                "ipAddressType must be either ipv4 or dualstack.",
                            ));
                        }
                        let cfg = api.endpoint_configuration.get_or_insert_with(Default::default);
                        let private =
                            cfg.types.as_ref().is_some_and(|t| t.iter().any(|t| t == "PRIVATE"));
                        if private && v != "dualstack" {
                            return Err(ApiError::bad_request(
                                "Only dualstack ipAddressType is supported for Private APIs.",
                            ));
                        }
                        cfg.ip_address_type = Some(v);
                    }
                    (["endpointConfiguration", "ipAddressType"], _) => {
                        return Err(patching::replace_only());
                    }
                    _ => return Err(invalid_path(p)),
                }
            }
            if api.tags.is_none() {
                api.tags = Some(IndexMap::new());
            }
            Ok(api.clone())
        })
        .await?;
    Reply::json(&api)
}

pub(crate) async fn delete(cp: &ControlPlane, call: &Call) -> Outcome {
    let id = call.param("restapi_id");
    let (_, rev) = cp.load_api(id).await?;
    cp.commit_live(vec![
        Write::Delete {
            key: Key::new(Kind::RestApi, "", id),
            expect: Expect::Revision(rev),
        },
        Write::DeleteScope {
            kind: Kind::Stage,
            scope: id.to_string(),
        },
        Write::DeleteScope {
            kind: Kind::Deployment,
            scope: id.to_string(),
        },
    ])
    .await?;
    Reply::empty()
}

//! Methods and MethodResponses.

use indexmap::IndexMap;
use portico_model::patch::PatchOp;
use portico_model::v1;
use serde_json::Value;

use crate::patching::{self, invalid_path};
use crate::state::{method, method_mut, resource_mut};
use crate::{ApiError, Call, ControlPlane, Outcome, Reply};

pub(crate) const HTTP_METHODS: &[&str] = &[
    "GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "ANY",
];

const AUTHORIZATION_TYPES: &[&str] = &["NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"];

fn check_http_method(m: &str) -> Result<(), ApiError> {
    if HTTP_METHODS.contains(&m) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY",
        ))
    }
}

/// `method.request.{querystring|header|path|multivalue...}.NAME`: the name, or AWS's error.
fn request_parameter_name(key: &str) -> Result<&str, ApiError> {
    for loc in [
        "querystring",
        "header",
        "path",
        "multivaluequerystring",
        "multivalueheader",
    ] {
        if let Some(name) = key.strip_prefix(&format!("method.request.{loc}."))
            && !name.is_empty()
        {
            return Ok(name);
        }
    }
    Err(ApiError::bad_request(format!(
        "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: {key}]"
    )))
}

fn check_request_parameters(params: &IndexMap<String, bool>) -> Result<(), ApiError> {
    let mut seen = std::collections::HashSet::new();
    for key in params.keys() {
        let name = request_parameter_name(key)?;
        if !seen.insert(name.to_ascii_lowercase()) {
            return Err(ApiError::bad_request(
                "Parameter names must be unique across querystring, header and path",
            ));
        }
    }
    Ok(())
}

/// Rejects non-boolean values in a `map<string, bool>` the way AWS words it.
fn check_bool_map(raw: &Value, field: &str) -> Result<(), ApiError> {
    if let Some(map) = raw.get(field).and_then(Value::as_object) {
        for v in map.values() {
            if !v.is_boolean() {
                let shown = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                return Err(ApiError::bad_request(format!(
                    "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: {shown}]"
                )));
            }
        }
    }
    Ok(())
}

pub(crate) async fn put(cp: &ControlPlane, call: &Call) -> Outcome {
    let http_method = call.param("http_method").to_string();
    let raw = call.raw_json();
    check_bool_map(&raw, "requestParameters")?;
    let input: v1::PutMethodRequest = call.input()?;
    let rid = call.param("resource_id").to_string();
    let m = cp
        .update_api(call.param("restapi_id"), |doc| {
            resource_mut(doc, &rid)?;
            check_http_method(&http_method)?;
            let auth = input.authorization_type.clone().unwrap_or_else(|| "NONE".into()).to_ascii_uppercase();
            if !AUTHORIZATION_TYPES.contains(&auth.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "Invalid authorization type specified: {auth}"
                )));
            }
            if matches!(auth.as_str(), "CUSTOM" | "COGNITO_USER_POOLS")
                && !input.authorizer_id.as_ref().is_some_and(|a| doc.authorizers.contains_key(a))
            {
                return Err(ApiError::bad_request(
                    "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.",
                ));
            }
            if let Some(v) = &input.request_validator_id
                && !doc.request_validators.contains_key(v) {
                    return Err(ApiError::bad_request(
                        "Invalid Request Validator identifier specified",
                    ));
                }
            if let Some(models) = &input.request_models {
                for name in models.values() {
                    if !doc.models.contains_key(name) {
                        return Err(ApiError::bad_request(format!(
                            "Invalid model identifier specified: {name}"
                        )));
                    }
                }
            }
            if let Some(p) = &input.request_parameters {
                check_request_parameters(p)?;
            }
            let m = v1::Method {
                http_method: Some(http_method.clone()),
                authorization_type: Some(auth),
                authorizer_id: input.authorizer_id.clone(),
                api_key_required: Some(input.api_key_required.unwrap_or(false)),
                request_validator_id: input.request_validator_id.clone(),
                operation_name: input.operation_name.clone(),
                request_parameters: input.request_parameters.clone().filter(|p| !p.is_empty()),
                request_models: input.request_models.clone().filter(|p| !p.is_empty()),
                authorization_scopes: input.authorization_scopes.clone(),
                ..Default::default()
            };
            resource_mut(doc, &rid)?
                .resource_methods
                .get_or_insert_with(IndexMap::new)
                .insert(http_method.clone(), m.clone());
            Ok(m)
        })
        .await
        .map_err(ControlPlane::as_resource_error)?;
    Reply::json(&m)
}

pub(crate) async fn get(cp: &ControlPlane, call: &Call) -> Outcome {
    let (doc, _) = cp
        .load_api(call.param("restapi_id"))
        .await
        .map_err(ControlPlane::as_resource_error)?;
    Reply::json(method(
        &doc,
        call.param("resource_id"),
        call.param("http_method"),
    )?)
}

pub(crate) async fn update(cp: &ControlPlane, call: &Call) -> Outcome {
    let patches = patching::read(call, "updateMethodInput")?;
    let (rid, hm) = (
        call.param("resource_id").to_string(),
        call.param("http_method").to_string(),
    );
    let m = cp
        .update_api(call.param("restapi_id"), |doc| {
            method(doc, &rid, &hm)?;
            for p in &patches {
                let seg: Vec<&str> = p.segments.iter().map(String::as_str).collect();
                let authorizers = doc.authorizers.clone();
                let validators = doc.request_validators.clone();
                let models = doc.models.clone();
                let m = method_mut(doc, &rid, &hm)?;
                match seg.as_slice() {
                    [scalar @ ("authorizationType" | "authorizerId" | "apiKeyRequired"
                    | "operationName" | "requestValidatorId")] => {
                        if p.op != PatchOp::Replace {
                            return Err(patching::replace_only());
                        }
                        match *scalar {
                            "authorizationType" => {
                                let v = patching::value(p)?;
                                if matches!(v.as_str(), "CUSTOM" | "COGNITO_USER_POOLS")
                                    && !m.authorizer_id.as_ref().is_some_and(|a| authorizers.contains_key(a))
                                    && !patches.iter().any(|q| q.path == "/authorizerId" && q.value.as_ref().is_some_and(|a| authorizers.contains_key(a)))
                                {
                                    return Err(ApiError::bad_request(
                                        "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.",
                                    ));
                                }
                                if v == "NONE" || v == "AWS_IAM" {
                                    m.authorizer_id = None;
                                }
                                m.authorization_type = Some(v);
                            }
                            "authorizerId" => {
                                let v = patching::value(p)?;
                                let needs = matches!(
                                    m.authorization_type.as_deref(),
                                    Some("CUSTOM" | "COGNITO_USER_POOLS")
                                );
                                if needs && !authorizers.contains_key(&v) {
                                    return Err(ApiError::bad_request(
                                        "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.",
                                    ));
                                }
                                if needs || authorizers.contains_key(&v) {
                                    m.authorizer_id = Some(v);
                                }
                            }
                            "apiKeyRequired" => m.api_key_required = Some(patching::bool_value(p)),
                            "operationName" => m.operation_name = p.value.clone(),
                            _ => {
                                let v = p.value.clone().filter(|v| !v.is_empty());
                                if let Some(v) = &v
                                    && !validators.contains_key(v) {
                                        return Err(ApiError::bad_request(
                                            "Invalid Request Validator identifier specified",
                                        ));
                                    }
                                m.request_validator_id = v;
                            }
                        }
                    }
                    ["requestParameters", name] => {
                        let key = name.to_string();
                        match p.op {
                            PatchOp::Add | PatchOp::Replace => {
                                request_parameter_name(&key)?;
                                m.request_parameters
                                    .get_or_insert_with(IndexMap::new)
                                    .insert(key, patching::bool_value(p));
                            }
                            PatchOp::Remove => {
                                if let Some(ps) = m.request_parameters.as_mut() {
                                    ps.shift_remove(&key);
                                }
                            }
                            _ => return Err(invalid_path(p)),
                        }
                    }
                    ["requestModels", ct] => match p.op {
                        PatchOp::Add | PatchOp::Replace => {
                            let v = patching::value(p)?;
                            if !models.contains_key(&v) {
                                return Err(ApiError::bad_request(format!(
                                    "Invalid model identifier specified: {v}"
                                )));
                            }
                            m.request_models.get_or_insert_with(IndexMap::new).insert(ct.to_string(), v);
                        }
                        PatchOp::Remove => {
                            if let Some(ms) = m.request_models.as_mut() {
                                ms.shift_remove(*ct);
                            }
                        }
                        _ => return Err(invalid_path(p)),
                    },
                    ["authorizationScopes", ..] => match p.op {
                        PatchOp::Add => m
                            .authorization_scopes
                            .get_or_insert_with(Vec::new)
                            .push(patching::value(p)?),
                        PatchOp::Remove => {
                            let v = p.value.clone().unwrap_or_default();
                            if let Some(s) = m.authorization_scopes.as_mut() {
                                s.retain(|x| *x != v);
                            }
                        }
                        _ => return Err(invalid_path(p)),
                    },
                    _ => return Err(invalid_path(p)),
                }
                if m.request_parameters.as_ref().is_some_and(IndexMap::is_empty) {
                    m.request_parameters = None;
                }
                if m.request_models.as_ref().is_some_and(IndexMap::is_empty) {
                    m.request_models = None;
                }
            }
            Ok(method(doc, &rid, &hm)?.clone())
        })
        .await
        .map_err(ControlPlane::as_resource_error)?;
    Reply::json(&m)
}

pub(crate) async fn delete(cp: &ControlPlane, call: &Call) -> Outcome {
    let (rid, hm) = (
        call.param("resource_id").to_string(),
        call.param("http_method").to_string(),
    );
    cp.update_api(call.param("restapi_id"), |doc| {
        method(doc, &rid, &hm)?;
        if let Some(ms) = resource_mut(doc, &rid)?.resource_methods.as_mut() {
            ms.shift_remove(&hm);
        }
        Ok(())
    })
    .await
    .map_err(ControlPlane::as_resource_error)?;
    Reply::empty()
}

// === MethodResponses ===

/// AWS's status-code constraint (`[1-5]\d\d`), as a ValidationException.
pub(crate) fn check_status_code(code: &str) -> Result<(), String> {
    let b = code.as_bytes();
    if b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && b[1..].iter().all(u8::is_ascii_digit) {
        Ok(())
    } else {
        Err(format!(
            "Value '{code}' at 'statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [1-5]\\d\\d"
        ))
    }
}

fn status_not_found() -> ApiError {
    ApiError::not_found("Invalid Response status code specified")
}

pub(crate) async fn put_response(cp: &ControlPlane, call: &Call) -> Outcome {
    let status = call.param("status_code").to_string();
    check_status_code(&status).map_err(|e| ApiError::validation(&[e]))?;
    let input: v1::PutMethodResponseRequest = call.input()?;
    let (rid, hm) = (
        call.param("resource_id").to_string(),
        call.param("http_method").to_string(),
    );
    let mr = cp
        .update_api(call.param("restapi_id"), |doc| {
            let m = method_mut(doc, &rid, &hm)?;
            let mr = v1::MethodResponse {
                status_code: Some(status.clone()),
                response_parameters: input.response_parameters.clone(),
                response_models: input.response_models.clone(),
            };
            m.method_responses
                .get_or_insert_with(IndexMap::new)
                .insert(status.clone(), mr.clone());
            Ok(mr)
        })
        .await
        .map_err(ControlPlane::as_resource_error)?;
    Reply::json(&mr)
}

pub(crate) async fn get_response(cp: &ControlPlane, call: &Call) -> Outcome {
    let (doc, _) = cp
        .load_api(call.param("restapi_id"))
        .await
        .map_err(ControlPlane::as_resource_error)?;
    let m = method(&doc, call.param("resource_id"), call.param("http_method"))?;
    let mr = m
        .method_responses
        .as_ref()
        .and_then(|r| r.get(call.param("status_code")))
        .ok_or_else(status_not_found)?;
    Reply::json(mr)
}

pub(crate) async fn update_response(cp: &ControlPlane, call: &Call) -> Outcome {
    let status = call.param("status_code").to_string();
    let patches = match patching::read(call, "updateMethodResponseInput") {
        Ok(p) => p,
        Err(mut e) => {
            if let Err(s) = check_status_code(&status) {
                // AWS reports every constraint violation of the input together.
                let n: usize = e
                    .message
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0)
                    + 1;
                let rest = e
                    .message
                    .split_once("detected: ")
                    .map(|x| x.1)
                    .unwrap_or("");
                e.message = format!("{n} validation errors detected: {rest}; {s}");
            }
            return Err(e);
        }
    };
    check_status_code(&status).map_err(|e| ApiError::validation(&[e]))?;
    let (rid, hm) = (
        call.param("resource_id").to_string(),
        call.param("http_method").to_string(),
    );
    let mr = cp
        .update_api(call.param("restapi_id"), |doc| {
            let m = method_mut(doc, &rid, &hm)?;
            let mr = m
                .method_responses
                .as_mut()
                .and_then(|r| r.get_mut(&status))
                .ok_or_else(status_not_found)?;
            for p in &patches {
                let seg: Vec<&str> = p.segments.iter().map(String::as_str).collect();
                match (seg.as_slice(), p.op) {
                    (["responseParameters", name], PatchOp::Replace)
                        if !mr.response_parameters.as_ref().is_some_and(|r| r.contains_key(*name)) =>
                    {
                        return Err(ApiError::not_found("Invalid parameter name specified"));
                    }
                    (["responseModels", ct], PatchOp::Replace)
                        if !mr.response_models.as_ref().is_some_and(|r| r.contains_key(*ct)) =>
                    {
                        return Err(ApiError::not_found("Content-Type specified was not found"));
                    }
                    (["responseParameters", name], PatchOp::Add | PatchOp::Replace) => {
                        if !name.starts_with("method.response.header.") {
                            return Err(ApiError::bad_request(format!(
                                "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: {name}]"
                            )));
                        }
                        mr.response_parameters
                            .get_or_insert_with(IndexMap::new)
                            .insert(name.to_string(), patching::bool_value(p));
                    }
                    (["responseParameters", name], PatchOp::Remove) => {
                        let removed = mr.response_parameters.as_mut().and_then(|r| r.shift_remove(*name));
                        if removed.is_none() {
                            return Err(ApiError::not_found("Invalid parameter name specified"));
                        }
                    }
                    (["responseModels", ct], PatchOp::Add | PatchOp::Replace) => {
                        mr.response_models
                            .get_or_insert_with(IndexMap::new)
                            .insert(ct.to_string(), patching::value(p)?);
                    }
                    (["responseModels", ct], PatchOp::Remove) => {
                        let removed = mr.response_models.as_mut().and_then(|r| r.shift_remove(*ct));
                        if removed.is_none() {
                            return Err(ApiError::not_found("Content-Type specified was not found"));
                        }
                    }
                    _ => return Err(invalid_path(p)),
                }
            }
            if mr.response_parameters.as_ref().is_some_and(IndexMap::is_empty) {
                mr.response_parameters = None;
            }
            if mr.response_models.as_ref().is_some_and(IndexMap::is_empty) {
                mr.response_models = None;
            }
            Ok(mr.clone())
        })
        .await
        .map_err(ControlPlane::as_resource_error)?;
    Reply::json(&mr)
}

pub(crate) async fn delete_response(cp: &ControlPlane, call: &Call) -> Outcome {
    let status = call.param("status_code").to_string();
    let (rid, hm) = (
        call.param("resource_id").to_string(),
        call.param("http_method").to_string(),
    );
    cp.update_api(call.param("restapi_id"), |doc| {
        let m = method_mut(doc, &rid, &hm)?;
        m.method_responses
            .as_mut()
            .and_then(|r| r.shift_remove(&status))
            .ok_or_else(status_not_found)?;
        if m.method_responses.as_ref().is_some_and(IndexMap::is_empty) {
            m.method_responses = None;
        }
        Ok(())
    })
    .await
    .map_err(ControlPlane::as_resource_error)?;
    Reply::empty()
}

//! Integrations and IntegrationResponses.

use indexmap::IndexMap;
use portico_model::patch::PatchOp;
use portico_model::{ids, v1};
use serde_json::Value;

use crate::methods::check_status_code;
use crate::patching::{self, invalid_path};
use crate::state::{method, method_mut};
use crate::{ApiError, Call, ControlPlane, Outcome, Reply};

const INTEGRATION_TYPES: &str = "[HTTP, MOCK, AWS_PROXY, HTTP_PROXY, AWS]";

fn integration_not_found() -> ApiError {
    ApiError::not_found("Invalid Integration identifier specified")
}

/// Values of string maps must be strings: AWS's Java deserializer words the error this way.
fn check_string_map(raw: &Value, field: &str) -> Result<(), ApiError> {
    if let Some(map) = raw.get(field).and_then(Value::as_object) {
        for v in map.values() {
            let class = match v {
                Value::Bool(_) => "java.lang.Boolean",
                Value::Number(_) => "com.amazon.coral.value.json.numbers.TruncatingBigNumber",
                Value::Array(_) => "java.util.ArrayList",
                Value::Object(_) => "java.util.LinkedHashMap",
                Value::String(_) | Value::Null => continue,
            };
            return Err(ApiError::new(
                400,
                "SerializationException",
                format!("class {class} can not be converted to an String"),
            ));
        }
    }
    Ok(())
}

/// Template maps are keyed by content type.
fn check_template_keys(templates: Option<&IndexMap<String, String>>) -> Result<(), ApiError> {
    for ct in templates.into_iter().flat_map(IndexMap::keys) {
        if !ct.contains('/') {
            return Err(ApiError::bad_request(format!(
                "Validation Result: warnings : [], errors : [Invalid content type specified: {ct}]"
            )));
        }
    }
    Ok(())
}

/// AWS shows an empty template as `null`.
fn render_templates(v: &mut Value, field: &str) {
    if let Some(map) = v.get_mut(field).and_then(Value::as_object_mut) {
        for t in map.values_mut() {
            if t.as_str() == Some("") {
                *t = Value::Null;
            }
        }
    }
}

pub(crate) fn render_integration(i: &v1::Integration) -> Result<Value, ApiError> {
    let mut v = serde_json::to_value(i).map_err(|e| ApiError::internal(e.to_string()))?;
    render_templates(&mut v, "requestTemplates");
    if let Some(rs) = v
        .get_mut("integrationResponses")
        .and_then(Value::as_object_mut)
    {
        for r in rs.values_mut() {
            render_templates(r, "responseTemplates");
        }
    }
    Ok(v)
}

fn render_response(r: &v1::IntegrationResponse) -> Result<Value, ApiError> {
    let mut v = serde_json::to_value(r).map_err(|e| ApiError::internal(e.to_string()))?;
    render_templates(&mut v, "responseTemplates");
    Ok(v)
}

fn validate_uri(ty: &str, uri: Option<&str>) -> Result<(), ApiError> {
    portico_model::integration::check_uri(ty, uri).map_err(ApiError::bad_request)
}

pub(crate) async fn put(cp: &ControlPlane, call: &Call) -> Outcome {
    let raw = call.raw_json();
    check_string_map(&raw, "requestParameters")?;
    check_string_map(&raw, "requestTemplates")?;
    let input: v1::PutIntegrationRequest = call.input_null_templates(&["requestTemplates"])?;
    let ty = input.type_.clone().unwrap_or_default();
    if !["HTTP", "MOCK", "AWS_PROXY", "HTTP_PROXY", "AWS"].contains(&ty.as_str()) {
        return Err(ApiError::validation(&[format!(
            "Value '{ty}' at 'putIntegrationInput.type' failed to satisfy constraint: Member must satisfy enum value set: {INTEGRATION_TYPES}"
        )]));
    }
    let (rid, hm) = (
        call.param("resource_id").to_string(),
        call.param("http_method").to_string(),
    );
    let integration = cp
        .update_api(call.param("restapi_id"), |doc| {
            method(doc, &rid, &hm)?;
            if ty != "MOCK"
                && input
                    .integration_http_method
                    .as_deref()
                    .unwrap_or("")
                    .is_empty()
            {
                return Err(ApiError::bad_request(
                    "Enumeration value for HttpMethod must be non-empty",
                ));
            }
            validate_uri(&ty, input.uri.as_deref())?;
            check_template_keys(input.request_templates.as_ref())?;
            let timeout = input.timeout_in_millis.unwrap_or(29_000);
            if !(50..=300_000).contains(&timeout) {
                return Err(ApiError::bad_request(
                    "Timeout should be between 50 ms and 29000 ms",
                ));
            }
            let connection_type = match ty.as_str() {
                "HTTP" | "HTTP_PROXY" => Some(
                    input
                        .connection_type
                        .clone()
                        .unwrap_or_else(|| "INTERNET".into()),
                ),
                _ => input.connection_type.clone(),
            };
            let i = v1::Integration {
                type_: Some(ty.clone()),
                http_method: if ty == "MOCK" {
                    None
                } else {
                    input.integration_http_method.clone()
                },
                uri: if ty == "MOCK" {
                    None
                } else {
                    input.uri.clone()
                },
                connection_type,
                connection_id: input.connection_id.clone(),
                credentials: input.credentials.clone(),
                request_parameters: input.request_parameters.clone().filter(|p| !p.is_empty()),
                request_templates: input.request_templates.clone().filter(|p| !p.is_empty()),
                passthrough_behavior: Some(
                    input
                        .passthrough_behavior
                        .clone()
                        .unwrap_or_else(|| "WHEN_NO_MATCH".into()),
                ),
                content_handling: input.content_handling.clone(),
                timeout_in_millis: Some(timeout),
                cache_namespace: Some(
                    input
                        .cache_namespace
                        .clone()
                        .unwrap_or_else(|| ids::cache_namespace(&rid)),
                ),
                cache_key_parameters: Some(input.cache_key_parameters.clone().unwrap_or_default()),
                integration_responses: None,
                tls_config: input.tls_config.clone(),
                ..Default::default()
            };
            method_mut(doc, &rid, &hm)?.method_integration = Some(i.clone());
            Ok(i)
        })
        .await
        .map_err(ControlPlane::as_resource_error)?;
    Reply::json(render_integration(&integration)?)
}

pub(crate) async fn get(cp: &ControlPlane, call: &Call) -> Outcome {
    let (doc, _) = cp
        .load_api(call.param("restapi_id"))
        .await
        .map_err(ControlPlane::as_resource_error)?;
    let m = method(&doc, call.param("resource_id"), call.param("http_method"))?;
    let i = m
        .method_integration
        .as_ref()
        .ok_or_else(integration_not_found)?;
    Reply::json(render_integration(i)?)
}

pub(crate) async fn update(cp: &ControlPlane, call: &Call) -> Outcome {
    let patches = patching::read(call, "updateIntegrationInput")?;
    let (rid, hm) = (
        call.param("resource_id").to_string(),
        call.param("http_method").to_string(),
    );
    let i = cp
        .update_api(call.param("restapi_id"), |doc| {
            let i = method_mut(doc, &rid, &hm)?
                .method_integration
                .as_mut()
                .ok_or_else(integration_not_found)?;
            for p in &patches {
                let seg: Vec<&str> = p.segments.iter().map(String::as_str).collect();
                let set = patching::sets(p);
                let val = || p.value.clone().filter(|v| !v.is_empty());
                match seg.as_slice() {
                    ["uri"] => i.uri = val(),
                    ["httpMethod"] => i.http_method = val(),
                    ["type"] => i.type_ = val().or(i.type_.take()),
                    ["connectionType"] => i.connection_type = val(),
                    ["connectionId"] => i.connection_id = val(),
                    ["credentials"] => i.credentials = val(),
                    ["passthroughBehavior"] => i.passthrough_behavior = val(),
                    ["contentHandling"] => i.content_handling = val(),
                    ["cacheNamespace"] => i.cache_namespace = val(),
                    ["timeoutInMillis"] => {
                        let v = patching::value(p)?;
                        i.timeout_in_millis = Some(v.parse().map_err(|_| {
                            ApiError::bad_request(format!("Invalid timeout value: {v}"))
                        })?);
                    }
                    ["requestParameters", name] => {
                        let map = i.request_parameters.get_or_insert_with(IndexMap::new);
                        if set {
                            map.insert(name.to_string(), patching::value(p)?);
                        } else {
                            map.shift_remove(*name);
                        }
                    }
                    ["requestTemplates", ct] => {
                        let map = i.request_templates.get_or_insert_with(IndexMap::new);
                        if set {
                            map.insert(ct.to_string(), p.value.clone().unwrap_or_default());
                        } else {
                            map.shift_remove(*ct);
                        }
                    }
                    ["cacheKeyParameters", name] => {
                        let list = i.cache_key_parameters.get_or_insert_with(Vec::new);
                        if p.op == PatchOp::Add {
                            list.push(name.to_string());
                        } else if p.op == PatchOp::Remove {
                            list.retain(|x| x != name);
                        }
                    }
                    ["tlsConfig", "insecureSkipVerification"] => {
                        i.tls_config
                            .get_or_insert_with(Default::default)
                            .insecure_skip_verification = Some(patching::bool_value(p));
                    }
                    _ => return Err(invalid_path(p)),
                }
            }
            if i.request_parameters
                .as_ref()
                .is_some_and(IndexMap::is_empty)
            {
                i.request_parameters = None;
            }
            if i.request_templates.as_ref().is_some_and(IndexMap::is_empty) {
                i.request_templates = None;
            }
            validate_uri(i.type_.as_deref().unwrap_or(""), i.uri.as_deref())?;
            Ok(i.clone())
        })
        .await
        .map_err(ControlPlane::as_resource_error)?;
    Reply::json(render_integration(&i)?)
}

pub(crate) async fn delete(cp: &ControlPlane, call: &Call) -> Outcome {
    let (rid, hm) = (
        call.param("resource_id").to_string(),
        call.param("http_method").to_string(),
    );
    cp.update_api(call.param("restapi_id"), |doc| {
        method_mut(doc, &rid, &hm)?
            .method_integration
            .take()
            .ok_or_else(integration_not_found)
            .map(|_| ())
    })
    .await
    .map_err(ControlPlane::as_resource_error)?;
    Reply::empty()
}

// === IntegrationResponses ===

fn response_not_found() -> ApiError {
    ApiError::not_found("Invalid Response status code specified")
}

pub(crate) async fn put_response(cp: &ControlPlane, call: &Call) -> Outcome {
    let status = call.param("status_code").to_string();
    check_status_code(&status).map_err(|e| ApiError::validation(&[e]))?;
    let raw = call.raw_json();
    check_string_map(&raw, "responseTemplates")?;
    check_string_map(&raw, "responseParameters")?;
    let input: v1::PutIntegrationResponseRequest =
        call.input_null_templates(&["responseTemplates"])?;
    check_template_keys(input.response_templates.as_ref())?;
    if let Some(p) = &input.selection_pattern
        && regex::Regex::new(p).is_err()
    {
        return Err(ApiError::bad_request(format!(
            "Invalid selection pattern specified: {p}"
        )));
    }
    let (rid, hm) = (
        call.param("resource_id").to_string(),
        call.param("http_method").to_string(),
    );
    let r = cp
        .update_api(call.param("restapi_id"), |doc| {
            let i = method_mut(doc, &rid, &hm)?
                .method_integration
                .as_mut()
                .ok_or_else(integration_not_found)?;
            let r = v1::IntegrationResponse {
                status_code: Some(status.clone()),
                selection_pattern: input.selection_pattern.clone(),
                response_parameters: input.response_parameters.clone().filter(|p| !p.is_empty()),
                response_templates: input.response_templates.clone(),
                content_handling: input.content_handling.clone(),
            };
            i.integration_responses
                .get_or_insert_with(IndexMap::new)
                .insert(status.clone(), r.clone());
            Ok(r)
        })
        .await
        .map_err(ControlPlane::as_resource_error)?;
    Reply::json(render_response(&r)?)
}

pub(crate) async fn get_response(cp: &ControlPlane, call: &Call) -> Outcome {
    let status = call.param("status_code");
    check_status_code(status).map_err(|e| ApiError::validation(&[e]))?;
    let (doc, _) = cp
        .load_api(call.param("restapi_id"))
        .await
        .map_err(ControlPlane::as_resource_error)?;
    let m = method(&doc, call.param("resource_id"), call.param("http_method"))?;
    let i = m
        .method_integration
        .as_ref()
        .ok_or_else(integration_not_found)?;
    let r = i
        .integration_responses
        .as_ref()
        .and_then(|r| r.get(status))
        .ok_or_else(response_not_found)?;
    Reply::json(render_response(r)?)
}

pub(crate) async fn update_response(cp: &ControlPlane, call: &Call) -> Outcome {
    let status = call.param("status_code").to_string();
    let patches = patching::read(call, "updateIntegrationResponseInput")?;
    check_status_code(&status).map_err(|e| ApiError::validation(&[e]))?;
    let (rid, hm) = (
        call.param("resource_id").to_string(),
        call.param("http_method").to_string(),
    );
    let r = cp
        .update_api(call.param("restapi_id"), |doc| {
            let r = method_mut(doc, &rid, &hm)?
                .method_integration
                .as_mut()
                .ok_or_else(integration_not_found)?
                .integration_responses
                .as_mut()
                .and_then(|r| r.get_mut(&status))
                .ok_or_else(response_not_found)?;
            for p in &patches {
                let seg: Vec<&str> = p.segments.iter().map(String::as_str).collect();
                let set = patching::sets(p);
                match seg.as_slice() {
                    ["selectionPattern"] => {
                        r.selection_pattern = if set { p.value.clone() } else { None }
                    }
                    ["contentHandling"] => {
                        r.content_handling = if set {
                            p.value.clone().filter(|v| !v.is_empty())
                        } else {
                            None
                        }
                    }
                    ["responseParameters", name] => {
                        let map = r.response_parameters.get_or_insert_with(IndexMap::new);
                        if set {
                            map.insert(name.to_string(), patching::value(p)?);
                        } else {
                            map.shift_remove(*name);
                        }
                    }
                    ["responseTemplates", ct] => {
                        let map = r.response_templates.get_or_insert_with(IndexMap::new);
                        if set {
                            map.insert(ct.to_string(), p.value.clone().unwrap_or_default());
                        } else {
                            map.shift_remove(*ct);
                        }
                    }
                    _ => return Err(invalid_path(p)),
                }
            }
            if r.response_parameters
                .as_ref()
                .is_some_and(IndexMap::is_empty)
            {
                r.response_parameters = None;
            }
            Ok(r.clone())
        })
        .await
        .map_err(ControlPlane::as_resource_error)?;
    Reply::json(render_response(&r)?)
}

pub(crate) async fn delete_response(cp: &ControlPlane, call: &Call) -> Outcome {
    let status = call.param("status_code").to_string();
    let (rid, hm) = (
        call.param("resource_id").to_string(),
        call.param("http_method").to_string(),
    );
    cp.update_api(call.param("restapi_id"), |doc| {
        // AWS reports a missing method here as a missing integration.
        let method = method_mut(doc, &rid, &hm).map_err(|e| {
            if e.message == "Invalid Method identifier specified" {
                integration_not_found()
            } else {
                e
            }
        })?;
        let i = method
            .method_integration
            .as_mut()
            .ok_or_else(integration_not_found)?;
        i.integration_responses
            .as_mut()
            .and_then(|r| r.shift_remove(&status))
            .ok_or_else(response_not_found)?;
        if i.integration_responses
            .as_ref()
            .is_some_and(IndexMap::is_empty)
        {
            i.integration_responses = None;
        }
        Ok(())
    })
    .await
    .map_err(ControlPlane::as_resource_error)?;
    Reply::empty()
}

//! GatewayResponses: how the data plane's errors look, per response type, per REST API.
//! Part of the API definition, so they go live with a deployment.

use indexmap::IndexMap;
use portico_model::document::RestApiDocument;
use portico_model::patch::PatchOp;
use portico_model::v1;

use crate::patching::{self, invalid_path};
use crate::{ApiError, Call, ControlPlane, Outcome, Reply};

/// AWS's response types with their default status codes (None: DEFAULT_4XX/5XX).
pub(crate) const TYPES: &[(&str, Option<&str>)] = &[
    ("ACCESS_DENIED", Some("403")),
    ("API_CONFIGURATION_ERROR", Some("500")),
    ("AUTHORIZER_CONFIGURATION_ERROR", Some("500")),
    ("AUTHORIZER_FAILURE", Some("500")),
    ("BAD_REQUEST_BODY", Some("400")),
    ("BAD_REQUEST_PARAMETERS", Some("400")),
    ("DEFAULT_4XX", None),
    ("DEFAULT_5XX", None),
    ("EXPIRED_TOKEN", Some("403")),
    ("INTEGRATION_FAILURE", Some("504")),
    ("INTEGRATION_TIMEOUT", Some("504")),
    ("INVALID_API_KEY", Some("403")),
    ("INVALID_SIGNATURE", Some("403")),
    ("MISSING_AUTHENTICATION_TOKEN", Some("403")),
    ("QUOTA_EXCEEDED", Some("429")),
    ("REQUEST_TOO_LARGE", Some("413")),
    ("RESOURCE_NOT_FOUND", Some("404")),
    ("THROTTLED", Some("429")),
    ("UNAUTHORIZED", Some("401")),
    ("UNSUPPORTED_MEDIA_TYPE", Some("415")),
    ("WAF_FILTERED", Some("403")),
];

const ENUM_ORDER: &str = "[REQUEST_TOO_LARGE, RESOURCE_NOT_FOUND, AUTHORIZER_CONFIGURATION_ERROR, MISSING_AUTHENTICATION_TOKEN, BAD_REQUEST_BODY, INVALID_SIGNATURE, INVALID_API_KEY, BAD_REQUEST_PARAMETERS, AUTHORIZER_FAILURE, UNAUTHORIZED, INTEGRATION_TIMEOUT, ACCESS_DENIED, DEFAULT_4XX, DEFAULT_5XX, WAF_FILTERED, QUOTA_EXCEEDED, THROTTLED, API_CONFIGURATION_ERROR, UNSUPPORTED_MEDIA_TYPE, INTEGRATION_FAILURE, EXPIRED_TOKEN]";

pub(crate) const DEFAULT_TEMPLATE: &str = "{\"message\":$context.error.messageString}";

fn check_type(t: &str) -> Result<Option<&'static str>, ApiError> {
    TYPES.iter().find(|(n, _)| *n == t).map(|(_, s)| *s).ok_or_else(|| {
        ApiError::validation(&[format!(
            "Value '{t}' at 'responseType' failed to satisfy constraint: Member must satisfy enum value set: {ENUM_ORDER}"
        )])
    })
}

/// The effective response of a type: its own, else inherited from DEFAULT_4XX/DEFAULT_5XX
/// (by the type's status class), else AWS's default.
pub(crate) fn effective(doc: &RestApiDocument, t: &str) -> v1::GatewayResponse {
    if let Some(own) = doc.gateway_responses.get(t) {
        return own.clone();
    }
    let status = TYPES.iter().find(|(n, _)| *n == t).and_then(|(_, s)| *s);
    let parent = match status {
        Some(s) if s.starts_with('4') => doc.gateway_responses.get("DEFAULT_4XX"),
        Some(s) if s.starts_with('5') => doc.gateway_responses.get("DEFAULT_5XX"),
        _ => None,
    };
    match parent {
        Some(p) => v1::GatewayResponse {
            response_type: Some(t.to_string()),
            status_code: p.status_code.clone().or(status.map(str::to_string)),
            response_parameters: p.response_parameters.clone(),
            response_templates: p.response_templates.clone(),
            default_response: Some(true),
        },
        None => v1::GatewayResponse {
            response_type: Some(t.to_string()),
            status_code: status.map(str::to_string),
            response_parameters: Some(IndexMap::new()),
            response_templates: Some(IndexMap::from([(
                "application/json".to_string(),
                DEFAULT_TEMPLATE.to_string(),
            )])),
            default_response: Some(true),
        },
    }
}

pub(crate) async fn get(cp: &ControlPlane, call: &Call) -> Outcome {
    let t = call.param("response_type");
    let (doc, _) = cp.load_api(call.param("restapi_id")).await?;
    check_type(t)?;
    Reply::json(effective(&doc, t))
}

pub(crate) async fn list(cp: &ControlPlane, call: &Call) -> Outcome {
    let (doc, _) = cp.load_api(call.param("restapi_id")).await?;
    let items: Vec<v1::GatewayResponse> = TYPES.iter().map(|(t, _)| effective(&doc, t)).collect();
    Reply::json(serde_json::json!({ "item": items }))
}

pub(crate) async fn put(cp: &ControlPlane, call: &Call) -> Outcome {
    let t = call.param("response_type").to_string();
    let input: v1::PutGatewayResponseRequest = call.input()?;
    let r = cp
        .update_api(call.param("restapi_id"), |doc| {
            let default_status = check_type(&t)?;
            if let Some(s) = &input.status_code {
                crate::methods::check_status_code(s).map_err(|e| ApiError::validation(&[e]))?;
            }
            let r = v1::GatewayResponse {
                response_type: Some(t.clone()),
                status_code: input
                    .status_code
                    .clone()
                    .or(default_status.map(str::to_string)),
                response_parameters: Some(input.response_parameters.clone().unwrap_or_default()),
                response_templates: Some(input.response_templates.clone().unwrap_or_else(|| {
                    IndexMap::from([("application/json".to_string(), DEFAULT_TEMPLATE.to_string())])
                })),
                default_response: Some(false),
            };
            doc.gateway_responses.insert(t.clone(), r.clone());
            Ok(r)
        })
        .await?;
    Reply::json(r)
}

pub(crate) async fn update(cp: &ControlPlane, call: &Call) -> Outcome {
    let t = call.param("response_type").to_string();
    let patches = patching::read(call, "updateGatewayResponseInput")?;
    let r = cp
        .update_api(call.param("restapi_id"), |doc| {
            check_type(&t)?;
            let mut r = effective(doc, &t);
            r.default_response = Some(false);
            for p in &patches {
                if p.path.is_empty() {
                    return Err(ApiError::bad_request("Invalid patch path null"));
                }
                let seg: Vec<&str> = p.segments.iter().map(String::as_str).collect();
                match (seg.as_slice(), p.op) {
                    (["statusCode"], PatchOp::Replace) => {
                        let v = patching::value(p)?;
                        crate::methods::check_status_code(&v)
                            .map_err(|e| ApiError::validation(&[e]))?;
                        r.status_code = Some(v);
                    }
                    ([field @ ("responseParameters" | "responseTemplates"), key], op) => {
                        let map = if *field == "responseParameters" {
                            r.response_parameters.get_or_insert_with(IndexMap::new)
                        } else {
                            r.response_templates.get_or_insert_with(IndexMap::new)
                        };
                        match op {
                            PatchOp::Add | PatchOp::Replace => {
                                let v = p.value.clone().unwrap_or_default();
                                if v.is_empty() {
                                    return Err(ApiError::bad_request(format!(
                                        "Invalid null or empty value in {field}"
                                    )));
                                }
                                if op == PatchOp::Replace && !map.contains_key(*key) {
                                    return Err(ApiError::not_found(
                                        "Invalid parameter name specified",
                                    ));
                                }
                                map.insert(key.to_string(), v);
                            }
                            PatchOp::Remove => {
                                map.shift_remove(*key);
                            }
                            _ => return Err(invalid_path(p)),
                        }
                    }
                    _ => return Err(invalid_path(p)),
                }
            }
            doc.gateway_responses.insert(t.clone(), r.clone());
            Ok(r)
        })
        .await?;
    Reply::json(r)
}

pub(crate) async fn delete(cp: &ControlPlane, call: &Call) -> Outcome {
    let t = call.param("response_type").to_string();
    cp.update_api(call.param("restapi_id"), |doc| {
        check_type(&t)?;
        doc.gateway_responses
            .shift_remove(&t)
            .map(|_| ())
            .ok_or_else(|| ApiError::not_found("Gateway response type not defined on api"))
    })
    .await?;
    Reply::empty()
}

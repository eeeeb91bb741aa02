//! `x-amazon-apigateway-integration`: to an API Gateway integration and back.

use indexmap::IndexMap;
use portico_model::v1;
use serde_json::{Map, Value, json};

use crate::document::text;

/// The integration an operation's extension describes, with the defaults PutIntegration
/// applies. `Err` carries the problem in AWS's words.
/// Where an integration sits, for AWS's warnings.
pub(crate) struct Site<'a> {
    pub(crate) resource_id: &'a str,
    pub(crate) path: &'a str,
    pub(crate) http_method: &'a str,
}

pub(crate) fn import(
    ext: &Value,
    site: &Site<'_>,
    warnings: &mut Vec<String>,
) -> Result<v1::Integration, String> {
    let resource_id = site.resource_id;
    let obj = ext
        .as_object()
        .ok_or("x-amazon-apigateway-integration must be an object")?;
    let ty = obj
        .get("type")
        .and_then(text)
        .map(|t| t.to_ascii_uppercase())
        .ok_or("Invalid integration: missing type")?;
    if !["HTTP", "HTTP_PROXY", "MOCK", "AWS", "AWS_PROXY"].contains(&ty.as_str()) {
        return Err(format!("Invalid integration type: {ty}"));
    }
    let http_method = obj
        .get("httpMethod")
        .and_then(text)
        .map(|m| m.to_ascii_uppercase());
    let uri = obj.get("uri").and_then(text);
    if ty != "MOCK" {
        if http_method.as_deref().unwrap_or("").is_empty() {
            return Err("Enumeration value for HttpMethod must be non-empty".into());
        }
        portico_model::integration::check_uri(&ty, uri.as_deref())?;
    }
    let timeout = match obj.get("timeoutInMillis") {
        None | Some(Value::Null) => 29_000,
        Some(v) => text(v)
            .and_then(|t| t.parse::<i32>().ok())
            .filter(|t| (50..=300_000).contains(t))
            .ok_or("Timeout should be between 50 ms and 29000 ms")?,
    };
    let connection_type = obj
        .get("connectionType")
        .and_then(text)
        .or_else(|| matches!(ty.as_str(), "HTTP" | "HTTP_PROXY").then(|| "INTERNET".to_string()));
    let mut responses = IndexMap::new();
    if let Some(rs) = obj.get("responses") {
        let rs = rs
            .as_object()
            .ok_or("Integration responses must be an object")?;
        for (pattern, r) in rs {
            let status = r
                .get("statusCode")
                .and_then(text)
                .filter(|s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| {
                    format!("Invalid status code in integration response '{pattern}'")
                })?;
            let ir = v1::IntegrationResponse {
                status_code: Some(status.clone()),
                selection_pattern: (pattern != "default").then(|| pattern.clone()),
                response_parameters: string_map(r.get("responseParameters"))?,
                response_templates: string_map(r.get("responseTemplates"))?,
                content_handling: r.get("contentHandling").and_then(text),
            };
            responses.insert(status, ir);
        }
    }
    let tls_config = obj.get("tlsConfig").map(|t| v1::TlsConfig {
        insecure_skip_verification: t.get("insecureSkipVerification").and_then(Value::as_bool),
    });
    Ok(v1::Integration {
        http_method: (ty != "MOCK").then_some(http_method).flatten(),
        uri: (ty != "MOCK").then_some(uri).flatten(),
        connection_type,
        connection_id: obj.get("connectionId").and_then(text),
        credentials: obj.get("credentials").and_then(text),
        request_parameters: request_parameters(obj.get("requestParameters"), site, warnings)?,
        request_templates: string_map(obj.get("requestTemplates"))?,
        passthrough_behavior: Some(
            obj.get("passthroughBehavior")
                .and_then(text)
                .map(|p| p.to_ascii_uppercase())
                .unwrap_or_else(|| "WHEN_NO_MATCH".into()),
        ),
        content_handling: obj.get("contentHandling").and_then(text),
        timeout_in_millis: Some(timeout),
        cache_namespace: Some(
            obj.get("cacheNamespace")
                .and_then(text)
                .unwrap_or_else(|| resource_id.to_string()),
        ),
        cache_key_parameters: Some(
            obj.get("cacheKeyParameters")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(text).collect())
                .unwrap_or_default(),
        ),
        integration_responses: (!responses.is_empty()).then_some(responses),
        tls_config,
        type_: Some(ty),
        ..Default::default()
    })
}

/// `requestParameters`: a value that is not a string is dropped with AWS's warning.
fn request_parameters(
    v: Option<&Value>,
    site: &Site<'_>,
    warnings: &mut Vec<String>,
) -> Result<Option<IndexMap<String, String>>, String> {
    let Some(obj) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let obj = obj
        .as_object()
        .ok_or("requestParameters must be a map of strings")?;
    let mut out = IndexMap::new();
    for (k, item) in obj {
        match item {
            Value::String(s) => {
                out.insert(k.clone(), s.clone());
            }
            other => {
                let got = match other {
                    Value::Bool(_) | Value::Number(_) => other.to_string(),
                    Value::Null => "null".into(),
                    _ => other.to_string(),
                };
                warnings.push(format!(
                    "Invalid format for 'requestParameters'. Expected type string for property '{k}' of resource '{}' and method '{}' but got '{got}'",
                    site.path, site.http_method
                ));
            }
        }
    }
    Ok((!out.is_empty()).then_some(out))
}

/// A map of strings; `None` when absent or empty.
pub(crate) fn string_map(v: Option<&Value>) -> Result<Option<IndexMap<String, String>>, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let obj = v.as_object().ok_or("expected a map of strings")?;
    let mut out = IndexMap::new();
    for (k, item) in obj {
        let s = match item {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            Value::Object(_) | Value::Array(_) => item.to_string(),
            other => text(other).unwrap_or_default(),
        };
        out.insert(k.clone(), s);
    }
    Ok((!out.is_empty()).then_some(out))
}

/// The extension for an integration, as AWS exports it.
pub(crate) fn export(i: &v1::Integration, resource_id: &str) -> Value {
    let mut out = Map::new();
    let ty = i.type_.clone().unwrap_or_default();
    out.insert("type".into(), json!(ty.to_ascii_lowercase()));
    if let Some(m) = &i.http_method {
        out.insert("httpMethod".into(), json!(m));
    }
    if let Some(u) = &i.uri {
        out.insert("uri".into(), json!(u));
    }
    if let Some(c) = i.connection_type.as_deref().filter(|c| *c != "INTERNET") {
        out.insert("connectionType".into(), json!(c));
    }
    for (key, v) in [
        ("connectionId", &i.connection_id),
        ("credentials", &i.credentials),
        ("contentHandling", &i.content_handling),
    ] {
        if let Some(v) = v {
            out.insert(key.into(), json!(v));
        }
    }
    if let Some(rs) = &i.integration_responses {
        let mut responses = Map::new();
        for r in rs.values() {
            let mut o = Map::new();
            o.insert("statusCode".into(), json!(r.status_code));
            if let Some(p) = &r.response_parameters {
                o.insert("responseParameters".into(), json!(p));
            }
            if let Some(t) = &r.response_templates {
                o.insert("responseTemplates".into(), json!(t));
            }
            if let Some(c) = &r.content_handling {
                o.insert("contentHandling".into(), json!(c));
            }
            let key = r
                .selection_pattern
                .clone()
                .unwrap_or_else(|| "default".into());
            responses.insert(key, Value::Object(o));
        }
        out.insert("responses".into(), Value::Object(responses));
    }
    if let Some(p) = &i.request_parameters {
        out.insert("requestParameters".into(), json!(p));
    }
    if let Some(t) = &i.request_templates {
        out.insert("requestTemplates".into(), json!(t));
    }
    if let Some(p) = &i.passthrough_behavior {
        out.insert("passthroughBehavior".into(), json!(p.to_ascii_lowercase()));
    }
    if let Some(t) = i.timeout_in_millis.filter(|t| *t != 29_000) {
        out.insert("timeoutInMillis".into(), json!(t));
    }
    if let Some(ns) = i.cache_namespace.as_ref().filter(|ns| *ns != resource_id) {
        out.insert("cacheNamespace".into(), json!(ns));
    }
    if let Some(k) = i.cache_key_parameters.as_ref().filter(|k| !k.is_empty()) {
        out.insert("cacheKeyParameters".into(), json!(k));
    }
    if let Some(t) = &i.tls_config {
        out.insert(
            "tlsConfig".into(),
            json!({"insecureSkipVerification": t.insecure_skip_verification.unwrap_or(false)}),
        );
    }
    Value::Object(out)
}

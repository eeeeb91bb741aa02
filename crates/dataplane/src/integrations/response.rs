//! Integration response → method response: selection pattern, header mappings, templates.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::Full;

use crate::compile::ResponsePlan;
use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;
use crate::mapping::ParamSource;
use crate::templates;
use portico_mapping::bindings::Overrides;

/// What the integration answered, before mapping.
pub(crate) struct IntegrationOutput<'a> {
    /// Matched against selection patterns (the status code for HTTP and MOCK, a Lambda
    /// error's `errorMessage`); `None` selects the default response (a Lambda success).
    pub(crate) selector: Option<String>,
    pub(crate) headers: Option<&'a HeaderMap>,
    pub(crate) body: Bytes,
}

pub(crate) fn map(
    inv: &Invocation,
    plan: &ResponsePlan,
    out: IntegrationOutput<'_>,
    prior: &Overrides,
) -> Result<Response<Full<Bytes>>, GatewayError> {
    let selected = match &out.selector {
        Some(subject) => plan.select(subject),
        None => plan.default.and_then(|i| plan.responses.get(i)),
    };
    let Some(selected) = selected else {
        return Err(GatewayError::new(ResponseType::ApiConfigurationError).because(format!(
            "Execution failed due to configuration error: No match for output mapping and no default output mapping configured. Endpoint Response Status Code: {}",
            out.selector.as_deref().unwrap_or("200")
        )));
    };
    // Binary conversion (contentHandling, binaryMediaTypes) before any template.
    let types = &inv.stage.binary_media_types;
    let upstream_ct = out
        .headers
        .and_then(|h| h.get(http::header::CONTENT_TYPE))
        .and_then(|v| v.to_str().ok());
    let payload = crate::binary::convert_response(
        &out.body,
        crate::binary::is_binary(types, upstream_ct),
        crate::binary::is_binary(types, inv.header("accept")),
        !types.is_empty(),
        selected.content_handling,
    )
    .map_err(|why| {
        GatewayError::new(ResponseType::ApiConfigurationError).because(format!(
            "Execution failed due to configuration error: {why}"
        ))
    })?;
    let (content_type, body, overrides) =
        match selected.templates.for_response(inv.header("accept")) {
            Some((ct, t)) => {
                let (body, o) = templates::render(inv, t, &payload, prior)?;
                (ct.to_string(), body, o)
            }
            None => ("application/json".to_string(), payload, prior.carried()),
        };
    let mut resp = Response::new(Full::new(body));
    let status = overrides.status.unwrap_or(selected.status);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        headers.insert(http::header::CONTENT_TYPE, v);
    }
    for (name, source) in &selected.parameters {
        let value = match source {
            ParamSource::IntegrationHeader(h) | ParamSource::IntegrationMultiHeader(h) => {
                out.headers.and_then(|hs| {
                    let vals: Vec<&str> = hs
                        .get_all(h.as_str())
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .collect();
                    (!vals.is_empty()).then(|| vals.join(","))
                })
            }
            ParamSource::IntegrationBody => Some(String::from_utf8_lossy(&out.body).into_owned()),
            ParamSource::IntegrationBodyPath(p) => crate::invocation::json_path_value(&out.body, p),
            other => inv.source_value(other),
        };
        let Some(value) = value else { continue };
        let lower = name.to_ascii_lowercase();
        if lower == "transfer-encoding" {
            continue; // AWS never sends a mapped Transfer-Encoding
        }
        let target = match super::http_integration::remapped_name(&lower) {
            Some(r) => r,
            None => match HeaderName::try_from(lower.as_str()) {
                Ok(n) => n,
                Err(_) => continue,
            },
        };
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(target, v);
        }
    }
    for (name, value) in &overrides.response_header {
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
    Ok(resp)
}

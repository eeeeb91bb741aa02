//! HTTP and HTTP_PROXY integrations.

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use super::request;
use super::response::{self, IntegrationOutput};
use crate::compile::{HttpPlan, RequestPlan, ResponsePlan, UriPart};
use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;
use crate::server::DataPlane;
use crate::upstream::UpstreamError;

/// Characters escaped when a parameter is put into a URL path (`/` kept for `{proxy+}`).
const PATH_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'%');
const QUERY_VALUE: &AsciiSet = &PATH_VALUE.add(b'&').add(b'=').add(b'+').add(b'/');

/// Headers that belong to one hop and are never forwarded.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
    )
}

/// The integration URL: placeholders from mapped path parameters, else from the method's
/// path parameters of the same name.
fn build_url(
    plan: &HttpPlan,
    inv: &Invocation,
    mapped: &request::Mapped,
    client_query: Option<&str>,
) -> String {
    let mut url = String::with_capacity(128);
    for part in &plan.uri.parts {
        match part {
            UriPart::Literal(s) => url.push_str(s),
            UriPart::Param(name) => {
                let v = mapped
                    .path
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
                    .or_else(|| inv.path_param(name))
                    .unwrap_or("");
                url.extend(utf8_percent_encode(v, PATH_VALUE));
            }
        }
    }
    let mut sep = if url.contains('?') { '&' } else { '?' };
    if let Some(q) = client_query.filter(|q| !q.is_empty()) {
        url.push(sep);
        url.push_str(q);
        sep = '&';
    }
    for (k, v) in &mapped.query {
        url.push(sep);
        url.extend(utf8_percent_encode(k, QUERY_VALUE));
        url.push('=');
        url.extend(utf8_percent_encode(v, QUERY_VALUE));
        sep = '&';
    }
    url
}

fn upstream_error(e: UpstreamError) -> GatewayError {
    match e {
        UpstreamError::Timeout => GatewayError::new(ResponseType::IntegrationTimeout),
        UpstreamError::Unreachable(why) => GatewayError::new(ResponseType::IntegrationFailure)
            .with_status(500)
            .with_message("Internal server error")
            .because(format!(
                "Execution failed due to configuration error: {why}"
            )),
        UpstreamError::TooLarge => GatewayError::new(ResponseType::IntegrationFailure)
            .with_status(502)
            .with_message("Internal server error")
            .because("endpoint response body too large"),
        UpstreamError::Broken(why) => GatewayError::new(ResponseType::IntegrationFailure)
            .with_status(502)
            .with_message("Internal server error")
            .because(why),
    }
}

fn set_header(req: &mut http::request::Builder, name: &str, value: &str) {
    if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
        if let Some(h) = req.headers_mut() {
            h.insert(n, v);
        }
    }
}

/// HTTP_PROXY: the client's request, forwarded; the upstream's answer, returned as it came.
pub(crate) async fn invoke_proxy(
    dp: &DataPlane,
    inv: &Invocation,
    plan: &HttpPlan,
    req_plan: &RequestPlan,
) -> Result<Response<Full<Bytes>>, GatewayError> {
    let mapped = request::parameters(inv, req_plan);
    let url = build_url(plan, inv, &mapped, inv.raw_query.as_deref());
    let method = plan.method.clone().unwrap_or_else(|| inv.method.clone());
    let mut builder = Request::builder().method(method).uri(&url);
    if let Some(h) = builder.headers_mut() {
        h.reserve(inv.headers.len() + 2);
        for (name, value) in &inv.headers {
            if !hop_by_hop(name) {
                h.append(name.clone(), value.clone());
            }
        }
        let xff = match inv
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
        {
            Some(prev) => format!("{prev}, {}", inv.source_ip),
            None => inv.source_ip.to_string(),
        };
        if let Ok(v) = HeaderValue::from_str(&xff) {
            h.insert("x-forwarded-for", v);
        }
    }
    for (k, v) in &mapped.headers {
        set_header(&mut builder, k, v);
    }
    let req = builder.body(Full::new(inv.body.clone())).map_err(|e| {
        GatewayError::new(ResponseType::ApiConfigurationError)
            .because(format!("invalid integration request to {url}: {e}"))
    })?;
    let resp = dp
        .upstream
        .send(req, plan.timeout)
        .await
        .map_err(upstream_error)?;
    let (parts, body) = resp.into_parts();
    let mut out = Response::new(Full::new(body));
    *out.status_mut() = parts.status;
    let headers = out.headers_mut();
    for (name, value) in parts.headers {
        if let Some(name) = name.filter(|n| !hop_by_hop(n)) {
            headers.append(name, value);
        }
    }
    Ok(out)
}

/// HTTP (non-proxy): only mapped parameters and the (templated) body go upstream; the answer
/// goes through integration responses.
pub(crate) async fn invoke(
    dp: &DataPlane,
    inv: &Invocation,
    plan: &HttpPlan,
    req_plan: &RequestPlan,
    resp_plan: &ResponsePlan,
) -> Result<Response<Full<Bytes>>, GatewayError> {
    let (content_type, body) = request::body(inv, req_plan)?;
    let mapped = request::parameters(inv, req_plan);
    let url = build_url(plan, inv, &mapped, None);
    let method = plan.method.clone().unwrap_or_else(|| inv.method.clone());
    let mut builder = Request::builder().method(method).uri(&url);
    if !body.is_empty() {
        set_header(&mut builder, header::CONTENT_TYPE.as_str(), &content_type);
    }
    for (k, v) in &mapped.headers {
        set_header(&mut builder, k, v);
    }
    let req = builder.body(Full::new(body)).map_err(|e| {
        GatewayError::new(ResponseType::ApiConfigurationError)
            .because(format!("invalid integration request to {url}: {e}"))
    })?;
    let resp = dp
        .upstream
        .send(req, plan.timeout)
        .await
        .map_err(upstream_error)?;
    let status: StatusCode = resp.status();
    let (parts, body) = resp.into_parts();
    response::map(
        inv,
        resp_plan,
        IntegrationOutput {
            selector: status.as_u16().to_string(),
            headers: Some(&parts.headers),
            body,
        },
    )
}

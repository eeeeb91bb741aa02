//! HTTP and HTTP_PROXY integrations.

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use super::request;
use super::response::{self, IntegrationOutput};
use crate::compile::{HttpPlan, RequestPlan, ResponsePlan, UriPart};
use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;
use crate::server::DataPlane;
use crate::upstream::{Outbound, UpstreamError};

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
/// A single path segment's value: `/` escaped too.
const PATH_SEGMENT: &AsciiSet = &PATH_VALUE.add(b'/');
const QUERY_VALUE: &AsciiSet = &PATH_VALUE.add(b'&').add(b'=').add(b'+').add(b'/');

/// Client headers AWS does not forward to an HTTP_PROXY integration (recorded against AWS:
/// `test_apigateway_header_remapping_http[HTTP_PROXY]`), plus the hop-by-hop set.
fn dropped_on_forward(name: &HeaderName) -> bool {
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
            | "content-md5"
            | "expect"
            | "max-forwards"
            | "server"
            | "via"
            | "www-authenticate"
    )
}

/// Headers named by the client's `Connection` header (RFC 9110 §7.6.1): hop-by-hop too.
fn connection_listed(headers: &http::HeaderMap) -> Vec<String> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// `[(name, x-amzn-remapped-name)]`, the new names made at compile time.
macro_rules! remapped {
    ($($name:literal),* $(,)?) => {
        [$(($name, HeaderName::from_static(concat!("x-amzn-remapped-", $name)))),*]
    };
}

/// Upstream response headers AWS renames to `x-amzn-Remapped-{Name}` (recorded).
static REMAPPED: [(&str, HeaderName); 14] = remapped![
    "authorization",
    "connection",
    "content-length",
    "content-md5",
    "date",
    "expect",
    "host",
    "max-forwards",
    "proxy-authenticate",
    "server",
    "trailer",
    "upgrade",
    "user-agent",
    "www-authenticate",
];

/// The name AWS gives upstream response header `name` (lower case), if it renames it.
pub(crate) fn remapped_name(name: &str) -> Option<HeaderName> {
    REMAPPED
        .iter()
        .find(|(from, _)| *from == name)
        .map(|(_, to)| to.clone())
}

const X_AMZN_APIGATEWAY_API_ID: HeaderName = HeaderName::from_static("x-amzn-apigateway-api-id");
const X_AMZN_TRACE_ID: HeaderName = HeaderName::from_static("x-amzn-trace-id");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// `X-Amzn-Trace-Id` as AWS adds it to integration requests.
pub(crate) fn trace_id(request_time_ms: i64) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = *b"Root=1-00000000-000000000000000000000000";
    let secs = (request_time_ms / 1000) as u32;
    for (i, shift) in (0..8).rev().enumerate() {
        s[7 + i] = HEX[((secs >> (shift * 4)) & 0xf) as usize];
    }
    let bytes: [u8; 12] = portico_model::ids::per_request_random();
    for (i, b) in bytes.into_iter().enumerate() {
        s[16 + 2 * i] = HEX[(b >> 4) as usize];
        s[17 + 2 * i] = HEX[(b & 0xf) as usize];
    }
    String::from_utf8(s.to_vec()).unwrap_or_default()
}

/// Headers AWS adds to every HTTP(_PROXY) integration request.
fn add_gateway_headers(h: &mut http::HeaderMap, inv: &Invocation) {
    if let Ok(v) = HeaderValue::from_str(&inv.stage.api_id) {
        h.insert(X_AMZN_APIGATEWAY_API_ID, v);
    }
    if let Ok(v) = HeaderValue::from_str(&trace_id(inv.request_time_ms)) {
        h.insert(X_AMZN_TRACE_ID, v);
    }
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
                let mapped_value = mapped
                    .path
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str());
                // Only the greedy parameter (or a template override) may span segments: a
                // decoded `%2F` in `{id}` must not add path segments upstream.
                let multi = match mapped_value {
                    Some(_) => mapped.multi_segment.iter().any(|m| m == name),
                    None => inv.target.greedy_param.as_deref() == Some(name.as_str()),
                };
                let v = mapped_value.or_else(|| inv.path_param(name)).unwrap_or("");
                if !multi && (v == "." || v == "..") {
                    // A dot segment would climb the upstream's path: send it escaped.
                    url.push_str(&"%2E".repeat(v.len()));
                } else {
                    url.extend(utf8_percent_encode(
                        v,
                        if multi { PATH_VALUE } else { PATH_SEGMENT },
                    ));
                }
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

/// Sets a mapped header, except those AWS never sends to an integration (recorded).
fn set_header(h: &mut http::HeaderMap, name: &str, value: &str) {
    if ["expect", "proxy-authenticate", "te", "via"]
        .iter()
        .any(|d| name.eq_ignore_ascii_case(d))
    {
        return;
    }
    if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
        h.insert(n, v);
    }
}

/// HTTP_PROXY: the client's request, forwarded; the upstream's answer, returned as it came.
pub(crate) async fn invoke_proxy(
    dp: &DataPlane,
    inv: &Invocation,
    plan: &HttpPlan,
    req_plan: &RequestPlan,
) -> Result<Response<Full<Bytes>>, GatewayError> {
    let mapped = request::parameters(inv, req_plan, &Default::default());
    let url = build_url(plan, inv, &mapped, inv.raw_query.as_deref());
    let method = plan.method.clone().unwrap_or_else(|| inv.method.clone());
    let mut h = http::HeaderMap::with_capacity(inv.headers.len() + 4);
    {
        let listed = connection_listed(&inv.headers);
        for (name, value) in &inv.headers {
            if !dropped_on_forward(name) && !listed.iter().any(|l| l == name.as_str()) {
                h.append(name.clone(), value.clone());
            }
        }
        add_gateway_headers(&mut h, inv);
        let xff = match inv
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
        {
            Some(prev) => format!("{prev}, {}", inv.source_ip),
            None => crate::invocation::ip_text(inv.source_ip),
        };
        if let Ok(v) = HeaderValue::from_str(&xff) {
            h.insert(X_FORWARDED_FOR, v);
        }
    }
    for (k, v) in &mapped.headers {
        set_header(&mut h, k, v);
    }
    let req = Outbound {
        method,
        url,
        headers: h,
        body: inv.body.clone(),
    };
    let resp = dp
        .upstream
        .send(req, plan.timeout)
        .await
        .map_err(upstream_error)?;
    let (parts, body) = resp.into_parts();
    // Renamed: the upstream's own Date, Server, Content-Length... reach the client as
    // x-amzn-Remapped-*; framing headers of the upstream hop are dropped.
    let mut headers = http::HeaderMap::with_capacity(parts.headers.len());
    let mut current: Option<HeaderName> = None;
    for (name, value) in parts.headers {
        if let Some(name) = name {
            current = match name.as_str() {
                "transfer-encoding" | "keep-alive" => None,
                other => Some(remapped_name(other).unwrap_or(name)),
            };
        }
        if let Some(name) = &current {
            headers.append(name.clone(), value);
        }
    }
    let mut out = Response::new(Full::new(body));
    *out.status_mut() = parts.status;
    *out.headers_mut() = headers;
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
    let (content_type, body, overrides) = request::body(inv, req_plan)?;
    let mapped = request::parameters(inv, req_plan, &overrides);
    let url = build_url(plan, inv, &mapped, None);
    let method = plan.method.clone().unwrap_or_else(|| inv.method.clone());
    let mut h = http::HeaderMap::with_capacity(8 + mapped.headers.len());
    h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&format!("AmazonAPIGateway_{}", inv.stage.api_id)) {
        h.insert(header::USER_AGENT, v);
    }
    add_gateway_headers(&mut h, inv);
    if !body.is_empty() {
        set_header(&mut h, header::CONTENT_TYPE.as_str(), &content_type);
    }
    for (k, v) in &mapped.headers {
        set_header(&mut h, k, v);
    }
    let req = Outbound {
        method,
        url,
        headers: h,
        body,
    };
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
            selector: Some(status.as_u16().to_string()),
            headers: Some(&parts.headers),
            body,
        },
        &overrides,
    )
}

#[cfg(test)]
mod tests {
    use super::{remapped_name, trace_id};

    #[test]
    fn remaps_the_recorded_names() {
        assert_eq!(
            remapped_name("date").as_ref().map(|n| n.as_str()),
            Some("x-amzn-remapped-date")
        );
        assert_eq!(
            remapped_name("www-authenticate")
                .as_ref()
                .map(|n| n.as_str()),
            Some("x-amzn-remapped-www-authenticate")
        );
        assert!(remapped_name("content-type").is_none());
    }

    #[test]
    fn trace_ids_have_aws_shape() {
        let id = trace_id(1_700_000_000_000);
        assert_eq!(id.len(), 40);
        assert!(id.starts_with("Root=1-6553f100-"), "{id}");
        assert!(id[16..].bytes().all(|c| c.is_ascii_hexdigit()));
    }
}

//! Lambda integrations: AWS_PROXY (the payload 1.0 event and the proxy response format) and
//! AWS (non-proxy: templates in, integration responses selected by `errorMessage` out).
//!
//! Formats as recorded against AWS (`test_apigateway_lambda.snapshot.json`): absent maps are
//! `null`, the client's header casing is kept, `path` is the path after the stage while
//! `requestContext.path` keeps the stage and the client's slashes.

use base64::Engine as _;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;
use indexmap::IndexMap;
use portico_functions::{InvokeError, Invoked};
use serde_json::{Map, Value, json};

use super::request;
use super::response::{self, IntegrationOutput};
use crate::compile::{LambdaPlan, RequestPlan, ResponsePlan};
use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;
use crate::server::DataPlane;

/// Client headers that never reach the function.
fn dropped(name: &str) -> bool {
    matches!(
        name,
        "content-length"
            | "connection"
            | "keep-alive"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "proxy-connection"
    )
}

/// The malformed-response answer: 502 `Internal server error`.
fn bad_gateway(why: impl Into<String>) -> GatewayError {
    GatewayError::new(ResponseType::ApiConfigurationError)
        .with_status(502)
        .because(why)
}

/// Invokes the plan's function with `payload`, bounded by the integration timeout.
async fn call(dp: &DataPlane, plan: &LambdaPlan, payload: Bytes) -> Result<Invoked, GatewayError> {
    let Some(invoker) = &dp.invoker else {
        return Err(
            GatewayError::new(ResponseType::ApiConfigurationError).because(
                "Execution failed due to configuration error: no function runtime is configured",
            ),
        );
    };
    match tokio::time::timeout(plan.timeout, invoker.invoke(&plan.function, payload)).await {
        Err(_) => Err(GatewayError::new(ResponseType::IntegrationTimeout).because(format!(
            "Execution failed due to a timeout error: {} did not answer within {:?}",
            plan.function.name, plan.timeout
        ))),
        Ok(Err(InvokeError::NotFound(name))) => Err(GatewayError::new(
            ResponseType::ApiConfigurationError,
        )
        .because(format!(
            "Execution failed due to configuration error: Function not found: {name} (neither a local function nor a Lambda endpoint)"
        ))),
        Ok(Err(e)) => Err(bad_gateway(format!(
            "Lambda invocation of {} failed: {e}",
            plan.function.name
        ))),
        Ok(Ok(invoked)) => Ok(invoked),
    }
}

// ---------------------------------------------------------------------------------------------
// AWS_PROXY
// ---------------------------------------------------------------------------------------------

pub(crate) async fn invoke_proxy(
    dp: &DataPlane,
    inv: &Invocation,
    plan: &LambdaPlan,
    req: &RequestPlan,
) -> Result<Response<Full<Bytes>>, GatewayError> {
    // AWS_PROXY ignores the integration's requestParameters (recorded:
    // test_lambda_aws_proxy_integration_request_data_mapping).
    let _ = req;
    let event = proxy_event(inv);
    let payload = Bytes::from(serde_json::to_vec(&event).unwrap_or_default());
    let invoked = call(dp, plan, payload).await?;
    if let Some(kind) = &invoked.function_error {
        return Err(bad_gateway(format!(
            "Lambda function {} failed ({kind}): {}",
            plan.function.name,
            String::from_utf8_lossy(&invoked.payload)
        )));
    }
    proxy_response(inv, &invoked.payload)
}

/// A name as the client spelled it; AWS re-capitalizes `Authorization` and `User-Agent`
/// (recorded: `aUThorization` and `user-Agent` reach the function as `Authorization` and
/// `User-Agent`).
fn cased(inv: &Invocation, lower: &str) -> String {
    match lower {
        "authorization" => "Authorization".to_string(),
        "user-agent" => "User-Agent".to_string(),
        _ => inv.original_header_name(lower).unwrap_or(lower).to_string(),
    }
}

/// The REST payload 1.0 event: the request's fields, then the body; `requestContext` carries
/// what the authorizer established.
pub(crate) fn proxy_event(inv: &Invocation) -> Value {
    let mut event = request_fields(inv);
    let (body, is_base64) = event_body(inv);
    event.insert("body".into(), body);
    event.insert("isBase64Encoded".into(), json!(is_base64));
    if let (Some(authorizer), Some(Value::Object(ctx))) = (
        inv.authorized.event_value(),
        event.get_mut("requestContext"),
    ) {
        ctx.insert("authorizer".into(), authorizer);
    }
    Value::Object(event)
}

/// What the proxy event and a REQUEST authorizer's event say about the request, in AWS's
/// order: `resource`, `path`, `httpMethod`, `headers`, `multiValueHeaders`,
/// `queryStringParameters`, `multiValueQueryStringParameters`, `pathParameters`,
/// `stageVariables`, `requestContext` (without `authorizer`).
pub(crate) fn request_fields(inv: &Invocation) -> Map<String, Value> {
    // Headers: the client's (casing kept), then what AWS adds.
    let mut headers: IndexMap<String, Vec<String>> = IndexMap::new();
    let mut push = |name: String, value: String, replace: bool| {
        let key = headers
            .keys()
            .find(|k| k.eq_ignore_ascii_case(&name))
            .cloned()
            .unwrap_or(name);
        let values = headers.entry(key).or_default();
        if replace {
            values.clear();
        }
        values.push(value);
    };
    for (name, value) in &inv.headers {
        if dropped(name.as_str()) {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        push(cased(inv, name.as_str()), value, false);
    }
    let forwarded_for = match inv.header("x-forwarded-for") {
        Some(prior) => format!("{prior}, {}", inv.source_ip),
        None => crate::invocation::ip_text(inv.source_ip),
    };
    push("X-Forwarded-For".into(), forwarded_for, true);
    let port = inv
        .domain_port()
        .map(|p| p.to_string())
        .unwrap_or_else(|| "80".into());
    push("X-Forwarded-Port".into(), port, true);
    push("X-Forwarded-Proto".into(), "http".into(), true);
    if inv.header("x-amzn-trace-id").is_none() {
        push(
            "X-Amzn-Trace-Id".into(),
            super::http_integration::trace_id(inv.request_time_ms),
            true,
        );
    }
    let single: Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.clone(), json!(v.last())))
        .collect();
    let multi: Map<String, Value> = headers.iter().map(|(k, v)| (k.clone(), json!(v))).collect();

    let mut query: IndexMap<String, Vec<String>> = IndexMap::new();
    if let Some(q) = &inv.raw_query {
        for (k, v) in crate::invocation::query_pairs(q) {
            query.entry(k).or_default().push(v);
        }
    }
    let (query_single, query_multi) = if query.is_empty() {
        (Value::Null, Value::Null)
    } else {
        (
            Value::Object(
                query
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v.last())))
                    .collect(),
            ),
            Value::Object(query.iter().map(|(k, v)| (k.clone(), json!(v))).collect()),
        )
    };
    let raw_params = raw_path_parameters(&inv.target.resource_path, &inv.path);
    let path_parameters = if raw_params.is_empty() {
        Value::Null
    } else {
        Value::Object(
            raw_params
                .into_iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect(),
        )
    };
    let stage_variables = if inv.stage.variables.is_empty() {
        Value::Null
    } else {
        json!(inv.stage.variables.as_ref())
    };
    let mut identity = json!({
        "accessKey": null,
        "accountId": null,
        "caller": null,
        "cognitoAuthenticationProvider": null,
        "cognitoAuthenticationType": null,
        "cognitoIdentityId": null,
        "cognitoIdentityPoolId": null,
        "principalOrgId": null,
        "sourceIp": crate::invocation::ip_text(inv.source_ip),
        "user": null,
        "userAgent": inv.header("user-agent"),
        "userArn": null,
    });
    if let Some((key, id)) = &inv.api_key {
        identity["apiKey"] = json!(key);
        identity["apiKeyId"] = json!(id);
    }
    if let Some(iam) = &inv.authorized.iam {
        identity["accessKey"] = json!(iam.access_key);
        identity["accountId"] = json!(iam.account_id);
        identity["caller"] = json!(iam.caller);
        identity["user"] = json!(iam.user);
        identity["userArn"] = json!(iam.user_arn);
    }
    let ctx = |name: &str| inv.context_var(name).unwrap_or_default();
    let event = json!({
        "resource": inv.target.resource_path,
        "path": event_path(&inv.path),
        "httpMethod": inv.method.as_str(),
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": query_single,
        "multiValueQueryStringParameters": query_multi,
        "pathParameters": path_parameters,
        "stageVariables": stage_variables,
        "requestContext": {
            "resourceId": inv.target.resource_id,
            "resourcePath": inv.target.resource_path,
            "httpMethod": inv.method.as_str(),
            "extendedRequestId": inv.extended_request_id,
            "requestTime": ctx("requestTime"),
            "path": ctx("path"),
            "accountId": inv.account_id.as_ref(),
            "protocol": "HTTP/1.1",
            "stage": inv.stage.name,
            "domainPrefix": ctx("domainPrefix"),
            "requestTimeEpoch": inv.request_time_ms,
            "requestId": inv.request_id,
            "identity": identity,
            "domainName": inv.domain_name,
            "deploymentId": inv.stage.deployment_id,
            "apiId": inv.stage.api_id,
        },
    });
    match event {
        Value::Object(fields) => fields,
        _ => Map::new(),
    }
}

/// Path parameters as the event carries them: as sent, still percent-encoded (recorded:
/// `test%2Balias` stays so), a greedy one with its inner `//` and without a trailing `/`.
fn raw_path_parameters<'a>(template: &'a str, path: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut out = Vec::new();
    let mut segments = Vec::new();
    let mut at = 0;
    for s in path.split('/') {
        if !s.is_empty() {
            segments.push((at, s));
        }
        at += s.len() + 1;
    }
    for (i, part) in template.split('/').filter(|p| !p.is_empty()).enumerate() {
        let Some(&(start, seg)) = segments.get(i) else {
            break;
        };
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            match name.strip_suffix('+') {
                Some(greedy) => {
                    out.push((greedy, path[start..].trim_end_matches('/')));
                    break;
                }
                None => out.push((name, seg)),
            }
        }
    }
    out
}

/// The event's `path`: the request path after the stage, leading slashes collapsed to one
/// (`/stage//x` is `/x`; inner `//` stays).
fn event_path(path: &str) -> String {
    let rest = path.trim_start_matches('/');
    format!("/{rest}")
}

/// The body as a string, base64 when it is binary (binaryMediaTypes) or not UTF-8.
fn event_body(inv: &Invocation) -> (Value, bool) {
    if inv.body.is_empty() {
        return (Value::Null, false);
    }
    let binary =
        crate::binary::is_binary(&inv.stage.binary_media_types, inv.header("content-type"));
    match std::str::from_utf8(&inv.body) {
        Ok(text) if !binary => (json!(text), false),
        _ => (
            json!(base64::engine::general_purpose::STANDARD.encode(&inv.body)),
            true,
        ),
    }
}

/// The function's answer as an HTTP response, by the proxy format's rules.
pub(crate) fn proxy_response(
    inv: &Invocation,
    payload: &[u8],
) -> Result<Response<Full<Bytes>>, GatewayError> {
    let malformed = |why: &str| bad_gateway(format!("Malformed Lambda proxy response: {why}"));
    let v: Value = serde_json::from_slice(payload).map_err(|_| malformed("not JSON"))?;
    let obj = v
        .as_object()
        .ok_or_else(|| malformed("not a JSON object"))?;
    if let Some(k) = obj.keys().find(|k| {
        !matches!(
            k.as_str(),
            "statusCode" | "headers" | "multiValueHeaders" | "body" | "isBase64Encoded"
        )
    }) {
        return Err(malformed(&format!("unexpected field {k}")));
    }
    let status = match obj.get("statusCode") {
        None | Some(Value::Null) => 200,
        Some(Value::Number(n)) => n.as_u64().ok_or_else(|| malformed("bad statusCode"))?,
        Some(Value::String(s)) => s.trim().parse().map_err(|_| malformed("bad statusCode"))?,
        Some(_) => return Err(malformed("bad statusCode")),
    };
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| malformed("bad statusCode"))?;

    // multiValueHeaders first, then headers appended (AWS: "value-multi, value-solo").
    let mut merged: Vec<(String, String)> = Vec::new();
    match obj.get("multiValueHeaders") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (name, values) in m {
                let values = values
                    .as_array()
                    .ok_or_else(|| malformed("multiValueHeaders values must be lists"))?;
                for v in values {
                    merged.push((
                        name.clone(),
                        header_text(v).ok_or_else(|| malformed("bad header value"))?,
                    ));
                }
            }
        }
        Some(_) => return Err(malformed("multiValueHeaders must be an object")),
    }
    match obj.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (name, v) in m {
                merged.push((
                    name.clone(),
                    header_text(v).ok_or_else(|| malformed("bad header value"))?,
                ));
            }
        }
        Some(_) => return Err(malformed("headers must be an object")),
    }
    let body = match obj.get("body") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(malformed("body must be a string")),
    };
    let is_base64 = match obj.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(malformed("isBase64Encoded must be a boolean")),
    };
    let accept_binary =
        crate::binary::is_binary(&inv.stage.binary_media_types, inv.header("accept"));
    let body = if is_base64 && accept_binary {
        Bytes::from(
            base64::engine::general_purpose::STANDARD
                .decode(body.as_bytes())
                .map_err(|_| {
                    GatewayError::new(ResponseType::ApiConfigurationError)
                        .because("Lambda proxy response body is not valid base64")
                })?,
        )
    } else {
        Bytes::from(body)
    };
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    for (name, value) in merged {
        let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(&value),
        ) else {
            continue;
        };
        headers.append(n, v);
    }
    if !headers.contains_key(http::header::CONTENT_TYPE) {
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    Ok(resp)
}

/// A header value as the proxy format allows it: a string, a boolean or a number.
fn header_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// AWS (non-proxy)
// ---------------------------------------------------------------------------------------------

pub(crate) async fn invoke(
    dp: &DataPlane,
    inv: &Invocation,
    plan: &LambdaPlan,
    req: &RequestPlan,
    resp: &ResponsePlan,
) -> Result<Response<Full<Bytes>>, GatewayError> {
    let (_, body, overrides) = request::body(inv, req)?;
    let payload = if body.iter().all(u8::is_ascii_whitespace) {
        Bytes::from_static(b"{}")
    } else {
        body
    };
    let invoked = call(dp, plan, payload).await?;
    // A function error selects by its errorMessage; a success takes the default response.
    let selector = invoked.function_error.as_ref().map(|_| {
        serde_json::from_slice::<Value>(&invoked.payload)
            .ok()
            .and_then(|v| {
                v.get("errorMessage")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_default()
    });
    response::map(
        inv,
        resp,
        IntegrationOutput {
            selector,
            headers: None,
            body: invoked.payload,
        },
        &overrides,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_path_parameters_keep_encoding_and_inner_slashes() {
        assert_eq!(
            raw_path_parameters("/{proxy+}", "/a/test%2Bx//b/"),
            [("proxy", "a/test%2Bx//b")]
        );
        assert_eq!(
            raw_path_parameters("/pets/{id}/toys/{toy}", "/pets/1%20/toys/ball"),
            [("id", "1%20"), ("toy", "ball")]
        );
        assert!(raw_path_parameters("/hardcoded", "/hardcoded").is_empty());
    }

    #[test]
    fn event_path_collapses_leading_slashes_only() {
        assert_eq!(event_path("//proxy-value"), "/proxy-value");
        assert_eq!(event_path("/a//b/"), "/a//b/");
        assert_eq!(event_path(""), "/");
    }

    #[test]
    fn header_values_the_proxy_format_allows() {
        assert_eq!(header_text(&json!("v")).as_deref(), Some("v"));
        assert_eq!(header_text(&json!(true)).as_deref(), Some("true"));
        assert_eq!(header_text(&json!(3)).as_deref(), Some("3"));
        assert!(header_text(&json!(["a"])).is_none());
        assert!(header_text(&json!({"a": 1})).is_none());
    }
}

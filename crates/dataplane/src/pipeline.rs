//! The REST request pipeline. `execute` reads like AWS's execution diagram; each phase is a
//! plain function over the [`Invocation`], and any error leaves through a gateway response.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use portico_model::{ids, time};

use crate::MAX_PAYLOAD_BYTES;
use crate::compile::CompiledStage;
use crate::gateway_response::{GatewayError, ResponseType, Scope, error_response};
use crate::integrations;
use crate::invocation::Invocation;
use crate::server::DataPlane;

const X_AMZN_REQUESTID: HeaderName = HeaderName::from_static("x-amzn-requestid");
const X_AMZ_APIGW_ID: HeaderName = HeaderName::from_static("x-amz-apigw-id");

/// How long a client may take to send its body.
const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Where a request is addressed: API, stage, and the path below the stage.
#[derive(Debug, PartialEq)]
struct Target<'a> {
    api_id: &'a str,
    stage: &'a str,
    path: &'a str,
}

/// `{api}.execute-api.{base}/{stage}/...` by Host, else `/_aws/execute-api/{api}/{stage}/...`.
fn resolve<'a>(host: &'a str, path: &'a str, host_suffix: &str) -> Option<Target<'a>> {
    let hostname = host.rsplit_once(':').map_or(host, |(h, p)| {
        if p.bytes().all(|c| c.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    let by_host = hostname.len() > host_suffix.len()
        && hostname[hostname.len() - host_suffix.len()..].eq_ignore_ascii_case(host_suffix);
    let (api_id, rest) = if by_host {
        (&hostname[..hostname.len() - host_suffix.len()], path)
    } else {
        let rest = path.strip_prefix("/_aws/execute-api/")?;
        let (api, rest) = rest.split_once('/').unwrap_or((rest, ""));
        (
            api,
            &path[path.len() - rest.len() - usize::from(!rest.is_empty() || path.ends_with('/'))..],
        )
    };
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    let (stage, below) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    Some(Target {
        api_id,
        stage,
        path: below,
    })
}

fn json_message(message: &str) -> String {
    serde_json::json!({ "message": message }).to_string()
}

/// Answers one execute-api request.
pub async fn execute(
    dp: Arc<DataPlane>,
    req: Request<Incoming>,
    remote: SocketAddr,
) -> Response<Full<Bytes>> {
    let request_id = ids::request_id();
    let extended = ids::extended_request_id();
    let mut resp = match run(&dp, req, remote, &request_id, &extended).await {
        Ok(r) => r,
        Err(r) => r,
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert(X_AMZN_REQUESTID, v);
    }
    if let Ok(v) = HeaderValue::from_str(&extended) {
        h.insert(X_AMZ_APIGW_ID, v);
    }
    resp
}

/// The request body, within the payload limit and the read timeout.
async fn read_body(body: Incoming) -> Result<Bytes, GatewayError> {
    let read = Limited::new(body, MAX_PAYLOAD_BYTES).collect();
    let Ok(read) = tokio::time::timeout(BODY_READ_TIMEOUT, read).await else {
        return Err(GatewayError::new(ResponseType::Default4xx)
            .with_status(408)
            .with_message("Request Timeout"));
    };
    match read {
        Ok(b) => Ok(b.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(GatewayError::new(ResponseType::RequestTooLarge))
        }
        Err(_) => Err(GatewayError::new(ResponseType::Default4xx).with_message("Bad Request")),
    }
}

async fn run(
    dp: &DataPlane,
    req: Request<Incoming>,
    remote: SocketAddr,
    request_id: &str,
    extended: &str,
) -> Result<Response<Full<Bytes>>, Response<Full<Bytes>>> {
    let (mut parts, body) = req.into_parts();
    let original_header_names = parts
        .extensions
        .remove::<crate::header_case::OriginalHeaderNames>()
        .map(|n| n.0);
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or("")
        .to_string();
    let raw_path = parts.uri.path().to_string();

    // Resolve: host/path → API and stage.
    let Some(target) = resolve(&host, &raw_path, &dp.host_suffix) else {
        return Err(error_response(
            404,
            "NotFoundException",
            json_message(&format!("No API matches host {host} and path {raw_path}")),
        ));
    };
    let runtime = dp.runtime.load();
    let Some(api) = runtime.apis.get(target.api_id) else {
        return Err(error_response(
            404,
            "NotFoundException",
            json_message(&format!("API with id '{}' does not exist", target.api_id)),
        ));
    };
    let Some(stage) = api.stages.get(target.stage) else {
        return Err(error_response(
            403,
            "ForbiddenException",
            json_message("Forbidden"),
        ));
    };
    let stage: Arc<CompiledStage> = stage.clone();

    // Errors from here on go through the API's gateway responses.
    let early = |e: GatewayError, params: &[(String, String)], resource_path: &str| {
        e.render_in(&Scope {
            stage: &stage,
            headers: &parts.headers,
            query: parts.uri.query(),
            path_params: params,
            resource_path,
            http_method: parts.method.as_str(),
            request_id,
        })
    };

    // Route: the most specific resource that has this method (or ANY).
    let verb = parts.method.as_str();
    let Some(found) = stage.router.find(target.path, |r| r.method(verb).is_some()) else {
        return Err(early(
            GatewayError::new(ResponseType::MissingAuthenticationToken),
            &[],
            "",
        ));
    };
    let Some(method) = found.value.method(verb).cloned() else {
        return Err(early(
            GatewayError::new(ResponseType::MissingAuthenticationToken),
            &[],
            "",
        ));
    };
    let path_params = found.params;

    // The payload limit, before reading the body.
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_PAYLOAD_BYTES) {
        let e = GatewayError::new(ResponseType::RequestTooLarge);
        return Err(early(e, &path_params, &method.resource_path));
    }
    // A client that stalls mid-body does not hold its connection and memory forever.
    // (A request without a body — most GETs — has nothing to wait for.)
    let body = if hyper::body::Body::is_end_stream(&body) {
        Bytes::new()
    } else {
        // (Boxed: the read's future is large, and most requests have no body.)
        match Box::pin(read_body(body)).await {
            Ok(b) => b,
            Err(e) => return Err(early(e, &path_params, &method.resource_path)),
        }
    };

    let mut inv = Invocation {
        request_id: request_id.to_string(),
        extended_request_id: extended.to_string(),
        method: parts.method,
        path: target.path.to_string(),
        raw_query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        body,
        source_ip: remote.ip(),
        request_time_ms: time::now_epoch_millis(),
        domain_name: host,
        stage,
        target: method,
        path_params,
        account_id: dp.account_id.clone(),
        api_key: None,
        original_header_names,
        authorized: Default::default(),
    };

    // Method request (authorization; API key, usage plan and stage throttles, quota;
    // validation) → integration request → integration → integration response → method
    // response.
    let outcome = match crate::authorization::check(dp, &inv).await {
        Ok(authorized) => {
            inv.authorized = authorized;
            match crate::usage_plans::check(dp, &mut inv)
                .and_then(|()| crate::method_request::validate(&inv, &inv.target.validation))
            {
                Ok(()) => integrations::invoke(dp, &inv).await,
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    outcome.map_err(|e| {
        if let Some(cause) = &e.cause {
            tracing::warn!(
                request_id = %inv.request_id,
                api_id = %inv.stage.api_id,
                stage = %inv.stage.name,
                response_type = e.kind.as_str(),
                cause = %cause,
                "gateway error"
            );
        }
        e.render_in(&Scope {
            stage: &inv.stage,
            headers: &inv.headers,
            query: inv.raw_query.as_deref(),
            path_params: &inv.path_params,
            resource_path: &inv.target.resource_path,
            http_method: inv.method.as_str(),
            request_id: &inv.request_id,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUFFIX: &str = ".execute-api.localhost";

    #[test]
    fn resolves_by_host() {
        let t = resolve("abc123.execute-api.localhost:8080", "/prod/pets/1", SUFFIX).unwrap();
        assert_eq!(
            t,
            Target {
                api_id: "abc123",
                stage: "prod",
                path: "/pets/1"
            }
        );
        let t = resolve("abc123.execute-api.localhost", "/prod", SUFFIX).unwrap();
        assert_eq!(
            t,
            Target {
                api_id: "abc123",
                stage: "prod",
                path: ""
            }
        );
    }

    #[test]
    fn resolves_by_path() {
        let t = resolve("127.0.0.1:8080", "/_aws/execute-api/abc/dev/a/b", SUFFIX).unwrap();
        assert_eq!(
            t,
            Target {
                api_id: "abc",
                stage: "dev",
                path: "/a/b"
            }
        );
        let t = resolve("127.0.0.1:8080", "/_aws/execute-api/abc/dev/", SUFFIX).unwrap();
        assert_eq!(
            t,
            Target {
                api_id: "abc",
                stage: "dev",
                path: "/"
            }
        );
        let t = resolve("127.0.0.1:8080", "/_aws/execute-api/abc/dev", SUFFIX).unwrap();
        assert_eq!(
            t,
            Target {
                api_id: "abc",
                stage: "dev",
                path: ""
            }
        );
        assert!(resolve("127.0.0.1", "/other", SUFFIX).is_none());
    }
}

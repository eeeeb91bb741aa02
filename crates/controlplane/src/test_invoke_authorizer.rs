//! TestInvokeAuthorizer: runs a Lambda authorizer (TOKEN or REQUEST) on a simulated request,
//! as the console's "Test" button does, and reports what a client would get.
//!
//! The event is the one the data plane sends for a `GET /` on AWS's test stage
//! (`methodArn` `.../ESTestInvoke-stage/GET/`), built from the call's `headers`,
//! `multiValueHeaders`, `pathWithQueryString` and `stageVariables`; the returned policy is
//! evaluated against that ARN with `portico-policy`. `clientStatus` is 200 (allowed), 401
//! (`Unauthorized`, or a missing / invalid identity), 403 (denied) or 500 (the function
//! failed or answered something that is not an authorizer response).
//! Cognito authorizers are not test-invoked here (their keys are fetched by the data plane).

use std::time::Instant;

use bytes::Bytes;
use indexmap::IndexMap;
use portico_functions::FunctionRef;
use portico_model::v1;
use portico_policy::{Caller, Decision, Kind, Policy, Request};
use serde_json::{Value, json};

use crate::{ApiError, Call, ControlPlane, Outcome, Reply};

const TEST_STAGE: &str = "ESTestInvoke-stage";

/// The path of `pathWithQueryString` (`/` when empty) and its decoded query pairs.
fn split_query(path: &str) -> (String, Vec<(String, String)>) {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let p = if p.is_empty() { "/" } else { p };
    (p.to_string(), crate::call::parse_query(q))
}

pub(crate) async fn invoke(cp: &ControlPlane, call: &Call) -> Outcome {
    let input: v1::TestInvokeAuthorizerRequest = call.input()?;
    let (doc, _) = cp.load_api(call.param("restapi_id")).await?;
    let api_id = call.param("restapi_id").to_string();
    let a = doc
        .authorizers
        .get(call.param("authorizer_id"))
        .ok_or_else(|| ApiError::not_found("Invalid Authorizer identifier specified"))?
        .clone();
    let ty = a.type_.as_deref().unwrap_or("");
    if !matches!(ty, "TOKEN" | "REQUEST") {
        return Err(ApiError::bad_request(format!(
            "TestInvokeAuthorizer runs Lambda (TOKEN, REQUEST) authorizers; {ty} authorizers are checked by the data plane only"
        )));
    }
    let vars = input.stage_variables.clone().unwrap_or_default();
    let headers = input.headers.clone().unwrap_or_default();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let method_arn = portico_policy::execute_api_arn(
        &cp.settings.region,
        &cp.settings.account_id,
        &api_id,
        TEST_STAGE,
        "GET",
        "/",
    );
    let mut log = vec![format!(
        "Starting authorizer: {} for request: test-invoke-request",
        a.id.as_deref().unwrap_or_default()
    )];
    let unauthorized = |log: &mut Vec<String>, why: &str| {
        log.push(format!("{why}; the client gets 401 Unauthorized"));
        Reply::json(v1::TestInvokeAuthorizerResponse {
            client_status: Some(401),
            log: Some(log.join("\n")),
            latency: Some(0),
            ..Default::default()
        })
    };

    let event = if ty == "TOKEN" {
        let source = a.identity_source.as_deref().unwrap_or("");
        let name = source.strip_prefix("method.request.header.").unwrap_or("");
        let Some(token) = header(name).filter(|t| !t.is_empty()) else {
            return unauthorized(
                &mut log,
                &format!("The identity source {source} is missing"),
            );
        };
        if let Some(expr) = a.identity_validation_expression.as_deref()
            && !regex::Regex::new(&format!("^(?:{expr})$")).is_ok_and(|r| r.is_match(&token))
        {
            return unauthorized(
                &mut log,
                "The token does not match the identity validation expression",
            );
        }
        json!({"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn})
    } else {
        let (path, query) = split_query(input.path_with_query_string.as_deref().unwrap_or("/"));
        let mut multi_headers: IndexMap<String, Vec<String>> =
            input.multi_value_headers.clone().unwrap_or_default();
        for (k, v) in &headers {
            multi_headers.entry(k.clone()).or_default().push(v.clone());
        }
        let mut query_multi: IndexMap<String, Vec<String>> = IndexMap::new();
        for (k, v) in &query {
            query_multi.entry(k.clone()).or_default().push(v.clone());
        }
        // Identity sources must all be present when results are cached.
        if a.authorizer_result_ttl_in_seconds != Some(0) {
            for source in a.identity_source.as_deref().unwrap_or("").split(',') {
                let source = source.trim();
                let present = if let Some(h) = source.strip_prefix("method.request.header.") {
                    header(h).is_some_and(|v| !v.is_empty())
                } else if let Some(q) = source.strip_prefix("method.request.querystring.") {
                    query_multi.contains_key(q)
                } else if let Some(s) = source.strip_prefix("stageVariables.") {
                    vars.contains_key(s)
                } else {
                    true
                };
                if !present {
                    return unauthorized(
                        &mut log,
                        &format!("The identity source {source} is missing"),
                    );
                }
            }
        }
        let nullable = |empty: bool, v: Value| if empty { Value::Null } else { v };
        json!({
            "type": "REQUEST",
            "methodArn": method_arn,
            "resource": "/",
            "path": path,
            "httpMethod": "GET",
            "headers": nullable(headers.is_empty(), json!(headers)),
            "multiValueHeaders": nullable(multi_headers.is_empty(), json!(multi_headers)),
            "queryStringParameters": nullable(
                query_multi.is_empty(),
                Value::Object(query_multi.iter().map(|(k, v)| (k.clone(), json!(v.last()))).collect()),
            ),
            "multiValueQueryStringParameters": nullable(query_multi.is_empty(), json!(query_multi)),
            "pathParameters": Value::Null,
            "stageVariables": nullable(vars.is_empty(), json!(vars)),
            "requestContext": {
                "resourcePath": "/",
                "httpMethod": "GET",
                "path": format!("/{TEST_STAGE}{path}"),
                "accountId": cp.settings.account_id,
                "protocol": "HTTP/1.1",
                "stage": TEST_STAGE,
                "requestId": portico_model::ids::request_id(),
                "identity": {"sourceIp": "test-invoke-source-ip", "userAgent": header("user-agent")},
                "apiId": api_id,
                "domainName": "testPrefix.testDomainName",
                "domainPrefix": "testPrefix",
                "extendedRequestId": portico_model::ids::extended_request_id(),
                "resourceId": "test-invoke-resource-id",
            },
        })
    };

    let uri = portico_model::integration::substitute_stage_variables(
        a.authorizer_uri.as_deref().unwrap_or(""),
        &vars,
    );
    let function = FunctionRef::parse(&uri)
        .ok_or_else(|| ApiError::bad_request(format!("Invalid authorizer URI: {uri}")))?;
    let invoker = cp.invoker.as_ref().ok_or_else(|| {
        ApiError::new(
            500,
            "InternalFailure",
            "no function runtime is configured for TestInvokeAuthorizer",
        )
    })?;
    let started = Instant::now();
    let result = invoker
        .invoke(&function, Bytes::from(event.to_string()))
        .await;
    let latency = started.elapsed().as_millis() as i64;
    let reply =
        |status: i32, log: Vec<String>, principal: Option<String>, policy: Option<String>| {
            Reply::json(v1::TestInvokeAuthorizerResponse {
                client_status: Some(status),
                log: Some(log.join("\n")),
                latency: Some(latency),
                principal_id: principal,
                policy,
                ..Default::default()
            })
        };
    let invoked = match result {
        Ok(i) => i,
        Err(e) => {
            log.push(format!("Execution failed due to configuration error: {e}"));
            return reply(500, log, None, None);
        }
    };
    let output: Value = serde_json::from_slice(&invoked.payload).unwrap_or(Value::Null);
    if invoked.function_error.is_some() {
        if output["errorMessage"].as_str() == Some("Unauthorized") {
            log.push("The authorizer answered Unauthorized".into());
            return reply(401, log, None, None);
        }
        log.push(format!(
            "Execution failed due to configuration error: Authorizer error: {}",
            String::from_utf8_lossy(&invoked.payload)
        ));
        return reply(500, log, None, None);
    }
    let principal = output["principalId"].as_str().map(str::to_string);
    let document = &output["policyDocument"];
    let policy = match Policy::parse(document, Kind::Identity) {
        Ok(p) if principal.is_some() => p,
        _ => {
            log.push(
                "Execution failed due to configuration error: Invalid JSON in response: the authorizer must return principalId and a valid policyDocument".into(),
            );
            return reply(500, log, None, None);
        }
    };
    let request = Request {
        action: "execute-api:Invoke",
        resource: &method_arn,
        api_prefix: &portico_policy::api_prefix(
            &cp.settings.region,
            &cp.settings.account_id,
            &api_id,
        ),
        caller: Caller::Anonymous,
        source_ip: std::net::IpAddr::from([127, 0, 0, 1]),
        user_agent: None,
    };
    let status = match policy.evaluate(&request) {
        Decision::Allow => 200,
        Decision::ExplicitDeny | Decision::NotApplicable => 403,
    };
    log.push(format!(
        "Authorizer result: principal {} is {} to invoke {method_arn}",
        principal.as_deref().unwrap_or_default(),
        if status == 200 {
            "allowed"
        } else {
            "not allowed"
        }
    ));
    reply(status, log, principal, Some(document.to_string()))
}

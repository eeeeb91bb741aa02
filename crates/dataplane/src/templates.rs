//! Rendering mapping templates for an invocation: the `$input`/`$context`/`$stageVariables`
//! bindings built from the request, and the overrides a template sets.

use std::rc::Rc;

use bytes::Bytes;
use portico_mapping::bindings::{self, Bindings, InputData, Overrides};
use portico_vtl::{Limits, Value};

use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::{Invocation, query_pairs};
use crate::mapping::{Template, Uses};

fn input_for(inv: &Invocation, body: &[u8]) -> InputData {
    let query = inv
        .raw_query
        .as_deref()
        .map(|q| query_pairs(q).collect())
        .unwrap_or_default();
    let header = inv
        .headers
        .iter()
        .filter(|(k, _)| !hidden_from_templates(k.as_str()))
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    InputData {
        body: Rc::from(String::from_utf8_lossy(body).as_ref()),
        path: inv.path_params.clone(),
        querystring: query,
        header,
    }
}

/// Request headers API Gateway does not show to mapping templates (recorded: they read as
/// empty through `$input.params`).
fn hidden_from_templates(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "content-md5"
            | "max-forwards"
            | "proxy-authenticate"
            | "server"
            | "te"
            | "trailer"
            | "upgrade"
            | "www-authenticate"
            | "content-length"
            | "expect"
            | "transfer-encoding"
    )
}

fn text(s: impl AsRef<str>) -> Value {
    Value::String(Rc::from(s.as_ref()))
}

/// An authorizer value as templates see it: strings, numbers and booleans as themselves,
/// anything else as its JSON text.
fn json_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::String(s) => text(s),
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => n.as_f64().map_or_else(|| text(n.to_string()), Value::Float),
        },
        other => text(other.to_string()),
    }
}

/// `$context` for this invocation (AWS's REST variables) — the members the template names —
/// with empty override maps when it names them.
fn context_for(inv: &Invocation, uses: &Uses) -> portico_vtl::Map {
    let mut vars: Vec<(&str, Value)> = Vec::with_capacity(24);
    // (member, name): the member is what a template names right after `$context.`.
    const NAMES: [(&str, &str); 23] = [
        ("accountId", "accountId"),
        ("apiId", "apiId"),
        ("deploymentId", "deploymentId"),
        ("domainName", "domainName"),
        ("domainPrefix", "domainPrefix"),
        ("extendedRequestId", "extendedRequestId"),
        ("httpMethod", "httpMethod"),
        ("path", "path"),
        ("protocol", "protocol"),
        ("requestId", "requestId"),
        ("requestTime", "requestTime"),
        ("resourceId", "resourceId"),
        ("resourcePath", "resourcePath"),
        ("stage", "stage"),
        ("identity", "identity.sourceIp"),
        ("identity", "identity.userAgent"),
        ("identity", "identity.apiKey"),
        ("identity", "identity.apiKeyId"),
        ("identity", "identity.accessKey"),
        ("identity", "identity.accountId"),
        ("identity", "identity.caller"),
        ("identity", "identity.user"),
        ("identity", "identity.userArn"),
    ];
    for (member, name) in NAMES {
        if !uses.needs_context_member(member) {
            continue;
        }
        if let Some(v) = inv.context_var(name) {
            vars.push((name, text(v)));
        }
    }
    // $context.authorizer: principalId, the authorizer's context keys, Cognito claims.
    let a = &inv.authorized;
    let mut authorizer: Vec<(String, Value)> = Vec::new();
    if uses.needs_context_member("authorizer") {
        if let Some(p) = &a.principal_id {
            authorizer.push(("authorizer.principalId".into(), text(p)));
        }
        for (k, v) in &a.context {
            authorizer.push((format!("authorizer.{k}"), json_value(v)));
        }
        for (k, v) in a.claims.iter().flatten() {
            authorizer.push((format!("authorizer.claims.{k}"), json_value(v)));
        }
    }
    vars.extend(authorizer.iter().map(|(k, v)| (k.as_str(), v.clone())));
    if uses.needs_context_member("requestTimeEpoch") {
        vars.push(("requestTimeEpoch", Value::Int(inv.request_time_ms)));
    }
    if uses.needs_context_member("awsEndpointRequestId") {
        vars.push(("awsEndpointRequestId", text(&inv.request_id)));
    }
    // Identity fields without a value (caller, user, cognito*) are simply absent: a missing
    // value reads as null and prints as nothing, as AWS's do.
    if uses.needs_context_member("isCanaryRequest") {
        vars.push(("isCanaryRequest", Value::Bool(false)));
    }
    let overrides = uses.needs_context_member("requestOverride")
        || uses.needs_context_member("responseOverride");
    bindings::context_map_with(&vars, overrides)
}

/// Builds only the variables the template mentions.
fn bindings_for(inv: &Invocation, body: &[u8], uses: &Uses) -> Bindings {
    Bindings {
        input: if uses.input {
            input_for(inv, body)
        } else {
            InputData::default()
        },
        context: if uses.context {
            context_for(inv, uses)
        } else {
            bindings::context_map(&[])
        },
        stage_variables: if uses.stage_variables {
            bindings::string_map(
                inv.stage
                    .variables
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            )
        } else {
            portico_vtl::Map::new()
        },
    }
}

/// Renders a template against `body` (the method request's for request templates, the
/// integration's for response templates) and returns the text and the overrides it set.
pub(crate) fn render(
    inv: &Invocation,
    template: &Template,
    body: &[u8],
    prior: &Overrides,
) -> Result<(Bytes, Overrides), GatewayError> {
    match template {
        Template::Literal(t) => Ok((Bytes::from(t.clone()), prior.clone())),
        Template::Vtl(t, uses) => {
            let b = bindings_for(inv, body, uses);
            bindings::seed_overrides(&b.context, prior);
            let out = bindings::render(t, &b, &Limits::default()).map_err(|e| {
                GatewayError::new(ResponseType::ApiConfigurationError).because(format!(
                    "Execution failed due to configuration error: mapping template: {e}"
                ))
            })?;
            // A template that never mentions $context cannot have changed the overrides.
            let overrides = if uses.needs_context_member("requestOverride")
                || uses.needs_context_member("responseOverride")
            {
                bindings::overrides(&b.context)
            } else {
                prior.clone()
            };
            Ok((Bytes::from(out), overrides))
        }
    }
}

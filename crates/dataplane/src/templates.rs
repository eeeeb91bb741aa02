//! Rendering mapping templates for an invocation: the `$input`/`$context`/`$stageVariables`
//! bindings built from the request, and the overrides a template sets.

use std::rc::Rc;

use bytes::Bytes;
use http::HeaderMap;
use portico_mapping::bindings::{
    self, Bindings, InputData, Overrides, ParamKind, ParamLists, Params,
};
use portico_vtl::{HostObject, Limits, Value};

use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::{Invocation, query_pairs_borrowed};
use crate::mapping::{Template, Uses};

/// `$input.params` over the method request. It holds its own copy of the request's
/// parameters (cheap: header values share the request's buffers) and decodes only what a
/// template asks for.
struct RequestParams {
    path: Vec<(String, String)>,
    raw_query: Option<String>,
    headers: HeaderMap,
}

impl RequestParams {
    fn of(inv: &Invocation) -> RequestParams {
        RequestParams {
            path: inv.path_params.clone(),
            raw_query: inv.raw_query.clone(),
            headers: inv.headers.clone(),
        }
    }
}

impl Params for RequestParams {
    fn find(&self, name: &str) -> Option<String> {
        if let Some((_, v)) = self.path.iter().rev().find(|(k, _)| k == name) {
            return Some(v.clone());
        }
        if let Some(v) = self
            .raw_query
            .as_deref()
            .and_then(|q| query_pairs_borrowed(q).filter(|(k, _)| k == name).last())
        {
            return Some(v.1.into_owned());
        }
        let lower = name.to_ascii_lowercase();
        if hidden_from_templates(&lower) {
            return None;
        }
        // (`get_all` finds nothing for a string that is not a header name.)
        self.headers
            .get_all(lower.as_str())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .next_back()
            .map(str::to_string)
    }

    fn each(&self, kind: ParamKind, f: &mut dyn FnMut(&str, &str)) {
        match kind {
            ParamKind::Path => {
                for (k, v) in &self.path {
                    f(k, v);
                }
            }
            ParamKind::QueryString => {
                for (k, v) in self
                    .raw_query
                    .as_deref()
                    .map(query_pairs_borrowed)
                    .into_iter()
                    .flatten()
                {
                    f(&k, &v);
                }
            }
            ParamKind::Header => {
                for (k, v) in &self.headers {
                    if let (false, Ok(v)) = (hidden_from_templates(k.as_str()), v.to_str()) {
                        f(k.as_str(), v);
                    }
                }
            }
        }
    }
}

fn input_for(inv: &Invocation, body: &Bytes, uses: &Uses) -> InputData {
    InputData {
        body: body.clone(),
        params: if uses.input_params {
            Rc::new(RequestParams::of(inv))
        } else {
            Rc::new(ParamLists::default())
        },
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

/// `$context` for a template that only reads members it names: those members, found by
/// name, without a map to build (see [`Uses::reads_context_only`]).
struct ContextView(Vec<(&'static str, Value)>);

impl HostObject for ContextView {
    fn property(&self, name: &str) -> Option<Value> {
        let found = self.0.iter().find(|(k, _)| *k == name);
        Some(found.map(|(_, v)| v.clone()).unwrap_or(Value::Null))
    }

    fn call(&self, _method: &str, _args: &[Value]) -> Result<Option<Value>, String> {
        Ok(None)
    }

    fn render(&self) -> String {
        String::new()
    }
}

/// A map of dotted names (`claims.sub`) and their values, in order.
fn member_map(entries: &[(&str, Value)]) -> Value {
    Value::Map(bindings::context_map_with(entries, false))
}

/// The `$context` members (AWS's REST variables) the template names, in the order
/// `$context` lists them. `identity` and `authorizer` are maps.
fn context_members(inv: &Invocation, uses: &Uses) -> Vec<(&'static str, Value)> {
    const SCALARS: [&str; 14] = [
        "accountId",
        "apiId",
        "deploymentId",
        "domainName",
        "domainPrefix",
        "extendedRequestId",
        "httpMethod",
        "path",
        "protocol",
        "requestId",
        "requestTime",
        "resourceId",
        "resourcePath",
        "stage",
    ];
    const IDENTITY: [&str; 9] = [
        "sourceIp",
        "userAgent",
        "apiKey",
        "apiKeyId",
        "accessKey",
        "accountId",
        "caller",
        "user",
        "userArn",
    ];
    let mut members: Vec<(&'static str, Value)> = Vec::with_capacity(8);
    for name in SCALARS {
        if uses.needs_context_member(name)
            && let Some(v) = inv.context_str(name)
        {
            members.push((name, text(v)));
        }
    }
    // Identity fields without a value (caller, user, cognito*) are simply absent: a missing
    // value reads as null and prints as nothing, as AWS's do.
    if uses.needs_context_member("identity") {
        let mut fields: Vec<(&str, Value)> = Vec::with_capacity(IDENTITY.len());
        for f in IDENTITY {
            if uses.needs_identity_field(f)
                && let Some(v) = inv.identity_str(f)
            {
                fields.push((f, text(v)));
            }
        }
        members.push(("identity", member_map(&fields)));
    }
    // $context.authorizer: principalId, the authorizer's context keys, Cognito claims.
    let a = &inv.authorized;
    if uses.needs_context_member("authorizer") {
        let mut fields: Vec<(String, Value)> = Vec::new();
        if let Some(p) = &a.principal_id {
            fields.push(("principalId".into(), text(p)));
        }
        for (k, v) in &a.context {
            fields.push((k.clone(), json_value(v)));
        }
        for (k, v) in a.claims.iter().flatten() {
            fields.push((format!("claims.{k}"), json_value(v)));
        }
        if !fields.is_empty() {
            let refs: Vec<(&str, Value)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            members.push(("authorizer", member_map(&refs)));
        }
    }
    if uses.needs_context_member("requestTimeEpoch") {
        members.push(("requestTimeEpoch", Value::Int(inv.request_time_ms)));
    }
    if uses.needs_context_member("awsEndpointRequestId") {
        members.push(("awsEndpointRequestId", text(&inv.request_id)));
    }
    if uses.needs_context_member("isCanaryRequest") {
        members.push(("isCanaryRequest", Value::Bool(false)));
    }
    members
}

/// `$context` for this invocation: a read-only view when the template only reads members
/// it names, else a map (with empty override maps when the template names them).
fn context_for(inv: &Invocation, uses: &Uses) -> Value {
    let members = context_members(inv, uses);
    if uses.reads_context_only() {
        return Value::Object(Rc::new(ContextView(members)));
    }
    let refs: Vec<(&str, Value)> = members.into_iter().collect();
    Value::Map(bindings::context_map_with(&refs, uses.names_overrides()))
}

/// Builds only the variables the template mentions.
fn bindings_for(inv: &Invocation, body: &Bytes, uses: &Uses) -> Bindings {
    Bindings {
        input: if uses.input {
            input_for(inv, body, uses)
        } else {
            InputData::default()
        },
        // A template that never mentions `context` cannot reach `$context`.
        context: if uses.context {
            context_for(inv, uses)
        } else {
            Value::Null
        },
        stage_variables: if uses.stage_variables {
            Value::Map(bindings::string_map(
                inv.stage
                    .variables
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            ))
        } else {
            Value::Null
        },
    }
}

/// Renders a template against `body` (the method request's for request templates, the
/// integration's for response templates) and returns the text and the overrides it set.
pub(crate) fn render(
    inv: &Invocation,
    template: &Template,
    body: &Bytes,
    prior: &Overrides,
) -> Result<(Bytes, Overrides), GatewayError> {
    match template {
        Template::Literal(t) => Ok((t.clone(), prior.carried())),
        Template::Vtl(t, uses) => {
            let b = bindings_for(inv, body, uses);
            if let Some(context) = b.context_map() {
                bindings::seed_overrides(context, prior);
            }
            let out = bindings::render(t, &b, &Limits::default()).map_err(|e| {
                GatewayError::new(ResponseType::ApiConfigurationError).because(format!(
                    "Execution failed due to configuration error: mapping template: {e}"
                ))
            })?;
            // A template that never names the override maps cannot have changed them.
            let overrides = match b.context_map() {
                Some(context) if uses.names_overrides() => bindings::overrides(context),
                _ => prior.carried(),
            };
            Ok((Bytes::from(out), overrides))
        }
    }
}

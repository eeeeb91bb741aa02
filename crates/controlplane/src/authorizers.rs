//! Authorizers: create, get, list, update (patchOperations), delete. Lambda (TOKEN, REQUEST)
//! and Cognito user pool authorizers; the data plane enforces them
//! (`portico_dataplane::authorization`).

use portico_model::patch::PatchOp;
use portico_model::{ids, v1};

use crate::patching::{self, invalid_path};
use crate::{ApiError, Call, ControlPlane, Outcome, Reply, pagination};

const TYPES: &str = "[TOKEN, REQUEST, COGNITO_USER_POOLS]";
/// The longest authorizer result TTL (seconds).
const MAX_TTL: i32 = 3600;

fn not_found() -> ApiError {
    ApiError::not_found("Invalid Authorizer identifier specified")
}

/// The checks CreateAuthorizer and UpdateAuthorizer share, on the resulting authorizer.
fn check(a: &v1::Authorizer) -> Result<(), ApiError> {
    if a.name.as_deref().unwrap_or("").is_empty() {
        return Err(ApiError::bad_request("Authorizer name must be non-empty"));
    }
    let ty = a.type_.as_deref().unwrap_or("");
    match ty {
        "TOKEN" | "REQUEST" => {
            let uri = a.authorizer_uri.as_deref().unwrap_or("");
            if !uri.starts_with("arn:") || !uri.contains(":lambda:path/") {
                return Err(ApiError::bad_request(
                    "Invalid Authorizer URI specified. Authorizer URI must be a valid Lambda function invocation ARN",
                ));
            }
            if ty == "TOKEN"
                && !a
                    .identity_source
                    .as_deref()
                    .is_some_and(|s| s.starts_with("method.request.header.") && s.len() > 22)
            {
                return Err(ApiError::bad_request(
                    "Invalid identity source specified. Identity source for a TOKEN authorizer must be a header: method.request.header.<name>",
                ));
            }
            if ty == "REQUEST" && a.authorizer_result_ttl_in_seconds != Some(0) {
                let sources = a.identity_source.as_deref().unwrap_or("");
                if sources.trim().is_empty() {
                    return Err(ApiError::bad_request(
                        "Identity sources must be specified when authorizer caching is enabled",
                    ));
                }
            }
            if let Some(sources) = a.identity_source.as_deref() {
                for s in sources.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let known = [
                        "method.request.header.",
                        "method.request.querystring.",
                        "stageVariables.",
                        "context.",
                    ]
                    .iter()
                    .any(|p| s.strip_prefix(p).is_some_and(|n| !n.is_empty()));
                    if !known {
                        return Err(ApiError::bad_request(format!(
                            "Invalid identity source specified: {s}"
                        )));
                    }
                }
            }
        }
        "COGNITO_USER_POOLS" => {
            let arns = a.provider_ar_ns.as_deref().unwrap_or_default();
            if arns.is_empty() {
                return Err(ApiError::bad_request(
                    "ProviderARNs need to be specified for COGNITO_USER_POOLS authorizer type",
                ));
            }
            for arn in arns {
                let parts: Vec<&str> = arn.splitn(6, ':').collect();
                let ok = parts.len() == 6
                    && parts[0] == "arn"
                    && parts[2] == "cognito-idp"
                    && parts[5]
                        .strip_prefix("userpool/")
                        .is_some_and(|p| !p.is_empty());
                if !ok {
                    return Err(ApiError::bad_request(format!(
                        "Invalid ARN specified in the request: {arn}"
                    )));
                }
            }
        }
        other => {
            return Err(ApiError::validation(&[format!(
                "Value '{other}' at 'createAuthorizerInput.type' failed to satisfy constraint: Member must satisfy enum value set: {TYPES}"
            )]));
        }
    }
    if let Some(ttl) = a.authorizer_result_ttl_in_seconds
        && !(0..=MAX_TTL).contains(&ttl)
    {
        return Err(ApiError::bad_request(
            "Authorizer result TTL must be between 0 and 3600 seconds",
        ));
    }
    if let Some(expr) = a.identity_validation_expression.as_deref()
        && regex::Regex::new(expr).is_err()
    {
        return Err(ApiError::bad_request(format!(
            "Invalid identity validation expression specified: {expr}"
        )));
    }
    Ok(())
}

pub(crate) async fn create(cp: &ControlPlane, call: &Call) -> Outcome {
    let input: v1::CreateAuthorizerRequest = call.input()?;
    let a = v1::Authorizer {
        id: Some(ids::short_id(6)),
        name: input.name,
        type_: input.type_,
        provider_ar_ns: input.provider_ar_ns.filter(|p| !p.is_empty()),
        auth_type: input.auth_type,
        authorizer_uri: input.authorizer_uri,
        authorizer_credentials: input.authorizer_credentials,
        identity_source: input.identity_source,
        identity_validation_expression: input.identity_validation_expression,
        authorizer_result_ttl_in_seconds: input.authorizer_result_ttl_in_seconds,
        ..Default::default()
    };
    check(&a)?;
    let created = cp
        .update_api(call.param("restapi_id"), |doc| {
            if doc.authorizers.values().any(|o| o.name == a.name) {
                return Err(ApiError::conflict(format!(
                    "Authorizer with name '{}' already exists",
                    a.name.as_deref().unwrap_or_default()
                )));
            }
            doc.authorizers
                .insert(a.id.clone().unwrap_or_default(), a.clone());
            Ok(a.clone())
        })
        .await
        .map_err(|e| {
            // AWS answers an unknown API here with a conflict (recorded).
            if e.status == 404 {
                ApiError::conflict(
                    "Unable to complete operation due to concurrent modification. Please try again later.",
                )
            } else {
                e
            }
        })?;
    Reply::json(&created)
}

pub(crate) async fn get(cp: &ControlPlane, call: &Call) -> Outcome {
    let (doc, _) = cp.load_api(call.param("restapi_id")).await?;
    Reply::json(
        doc.authorizers
            .get(call.param("authorizer_id"))
            .ok_or_else(not_found)?,
    )
}

pub(crate) async fn list(cp: &ControlPlane, call: &Call) -> Outcome {
    let (doc, _) = cp.load_api(call.param("restapi_id")).await?;
    let items = doc
        .authorizers
        .values()
        .map(|a| serde_json::to_value(a).map_err(|e| ApiError::internal(e.to_string())))
        .collect::<Result<_, _>>()?;
    Reply::json(pagination::page(call, items)?)
}

const PATCHABLE: &[&str] = &[
    "name",
    "type",
    "authType",
    "authorizerUri",
    "authorizerCredentials",
    "identitySource",
    "identityValidationExpression",
    "authorizerResultTtlInSeconds",
];

pub(crate) async fn update(cp: &ControlPlane, call: &Call) -> Outcome {
    let patches = patching::read(call, "updateAuthorizerInput")?;
    let id = call.param("authorizer_id").to_string();
    let updated = cp
        .update_api(call.param("restapi_id"), |doc| {
            let mut a = doc.authorizers.get(&id).cloned().ok_or_else(not_found)?;
            for p in &patches {
                let seg: Vec<&str> = p.segments.iter().map(String::as_str).collect();
                match (seg.as_slice(), p.op) {
                    (["providerARNs", ..], PatchOp::Add) => {
                        let v = patching::value(p)?;
                        let list = a.provider_ar_ns.get_or_insert_with(Vec::new);
                        if !list.contains(&v) {
                            list.push(v);
                        }
                    }
                    (["providerARNs", rest @ ..], PatchOp::Remove) => {
                        let arn = p.value.clone().unwrap_or_else(|| rest.join("/"));
                        if let Some(list) = a.provider_ar_ns.as_mut() {
                            list.retain(|x| *x != arn);
                        }
                    }
                    ([field], PatchOp::Replace) if PATCHABLE.contains(field) => {
                        let v = p.value.clone().filter(|v| !v.is_empty());
                        match *field {
                            "name" => a.name = v,
                            "type" => a.type_ = v,
                            "authType" => a.auth_type = v,
                            "authorizerUri" => a.authorizer_uri = v,
                            "authorizerCredentials" => a.authorizer_credentials = v,
                            "identitySource" => a.identity_source = v,
                            "identityValidationExpression" => a.identity_validation_expression = v,
                            _ => {
                                a.authorizer_result_ttl_in_seconds = match v {
                                    None => None,
                                    Some(t) => Some(t.parse().map_err(|_| {
                                        ApiError::bad_request(format!(
                                            "Invalid authorizer result TTL specified: {t}"
                                        ))
                                    })?),
                                }
                            }
                        }
                    }
                    _ => return Err(invalid_path(p)),
                }
            }
            check(&a)?;
            if doc
                .authorizers
                .iter()
                .any(|(other, o)| *other != id && o.name == a.name)
            {
                return Err(ApiError::conflict(format!(
                    "Authorizer with name '{}' already exists",
                    a.name.as_deref().unwrap_or_default()
                )));
            }
            doc.authorizers.insert(id.clone(), a.clone());
            Ok(a)
        })
        .await?;
    Reply::json(&updated)
}

pub(crate) async fn delete(cp: &ControlPlane, call: &Call) -> Outcome {
    let id = call.param("authorizer_id").to_string();
    cp.update_api(call.param("restapi_id"), |doc| {
        let a = doc.authorizers.get(&id).ok_or_else(not_found)?;
        let name = a.name.clone().unwrap_or_default();
        for r in doc.resources.values() {
            for (verb, m) in r.resource_methods.iter().flatten() {
                if m.authorizer_id.as_deref() == Some(id.as_str()) {
                    return Err(ApiError::conflict(format!(
                        "Cannot delete authorizer '{name}', is referenced in method: {verb}:{}",
                        r.path.as_deref().unwrap_or("/")
                    )));
                }
            }
        }
        doc.authorizers.shift_remove(&id);
        Ok(())
    })
    .await?;
    Reply::empty()
}

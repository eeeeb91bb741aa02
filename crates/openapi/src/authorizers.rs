//! Security schemes: `x-amazon-apigateway-authorizer` (Lambda TOKEN / REQUEST and Cognito user
//! pools), API keys (`x-api-key` in the header) and SigV4 (`x-amazon-apigateway-authtype:
//! awsSigv4`), to API Gateway authorizers and method settings, and back.

use indexmap::IndexMap;
use portico_model::{ids, v1};
use serde_json::{Map, Value, json};

use crate::document::text;

/// What a security scheme means for the methods that name it.
#[derive(Debug, Clone)]
pub(crate) enum Scheme {
    /// An authorizer, by the id the import gave it.
    Authorizer { id: String, cognito: bool },
    /// The API key in `x-api-key`.
    ApiKey,
    /// SigV4 (`AWS_IAM`).
    Iam,
}

/// The authorizers an import creates (by id) and what each security scheme name means.
pub(crate) type Imported = (IndexMap<String, v1::Authorizer>, IndexMap<String, Scheme>);

/// Reads the security schemes, creating an authorizer for each one that has the extension.
pub(crate) fn import(
    schemes: Option<&Map<String, Value>>,
    warnings: &mut Vec<String>,
) -> Result<Imported, String> {
    let mut authorizers = IndexMap::new();
    let mut by_name = IndexMap::new();
    for (name, scheme) in schemes.into_iter().flatten() {
        let auth_type = scheme.get("x-amazon-apigateway-authtype").and_then(text);
        if let Some(ext) = scheme.get("x-amazon-apigateway-authorizer") {
            let ty = ext
                .get("type")
                .and_then(text)
                .map(|t| t.to_ascii_lowercase())
                .unwrap_or_default();
            let (aws_type, default_auth_type) = match ty.as_str() {
                "token" => ("TOKEN", "custom"),
                "request" => ("REQUEST", "custom"),
                "cognito_user_pools" => ("COGNITO_USER_POOLS", "cognito_user_pools"),
                other => {
                    return Err(format!(
                        "Invalid authorizer type '{other}' for security scheme '{name}'"
                    ));
                }
            };
            let header = scheme
                .get("name")
                .and_then(text)
                .filter(|_| scheme.get("in").and_then(Value::as_str) == Some("header"));
            let identity_source = ext.get("identitySource").and_then(text).or_else(|| {
                (aws_type != "REQUEST")
                    .then(|| header.map(|h| format!("method.request.header.{h}")))
                    .flatten()
            });
            let id = ids::short_id(6);
            let authorizer = v1::Authorizer {
                id: Some(id.clone()),
                name: Some(name.clone()),
                type_: Some(aws_type.to_string()),
                provider_ar_ns: ext
                    .get("providerARNs")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(text).collect()),
                auth_type: Some(auth_type.unwrap_or_else(|| default_auth_type.to_string())),
                authorizer_uri: ext.get("authorizerUri").and_then(text),
                authorizer_credentials: ext.get("authorizerCredentials").and_then(text),
                identity_source,
                identity_validation_expression: ext
                    .get("identityValidationExpression")
                    .and_then(text),
                authorizer_result_ttl_in_seconds: ext
                    .get("authorizerResultTtlInSeconds")
                    .and_then(text)
                    .and_then(|t| t.parse().ok()),
                ..Default::default()
            };
            if aws_type == "COGNITO_USER_POOLS" && authorizer.provider_ar_ns.is_none() {
                return Err(format!(
                    "Cognito authorizer '{name}' must have providerARNs"
                ));
            }
            if aws_type != "COGNITO_USER_POOLS" && authorizer.authorizer_uri.is_none() {
                return Err(format!("Authorizer '{name}' must have an authorizerUri"));
            }
            authorizers.insert(id.clone(), authorizer);
            by_name.insert(
                name.clone(),
                Scheme::Authorizer {
                    id,
                    cognito: aws_type == "COGNITO_USER_POOLS",
                },
            );
        } else if auth_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("awsSigv4"))
        {
            by_name.insert(name.clone(), Scheme::Iam);
        } else if scheme.get("type").and_then(Value::as_str) == Some("apiKey")
            && scheme.get("in").and_then(Value::as_str) == Some("header")
            && scheme
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case("x-api-key"))
        {
            by_name.insert(name.clone(), Scheme::ApiKey);
        } else {
            warnings.push(format!(
                "Unsupported security definition '{name}': ignored (not an API key, SigV4 or an x-amazon-apigateway-authorizer)"
            ));
        }
    }
    Ok((authorizers, by_name))
}

/// The security schemes that describe the API's authorizers, API keys and SigV4.
pub(crate) fn export(doc_authorizers: &IndexMap<String, v1::Authorizer>) -> Map<String, Value> {
    let mut out = Map::new();
    for a in doc_authorizers.values() {
        let name = a.name.clone().unwrap_or_default();
        let header = a
            .identity_source
            .as_deref()
            .and_then(|s| s.strip_prefix("method.request.header."))
            .filter(|h| !h.contains(','))
            .unwrap_or("Unused");
        let mut ext = Map::new();
        let ty = a.type_.as_deref().unwrap_or("TOKEN").to_ascii_lowercase();
        ext.insert("type".into(), json!(ty));
        if let Some(v) = &a.authorizer_uri {
            ext.insert("authorizerUri".into(), json!(v));
        }
        if let Some(v) = &a.authorizer_credentials {
            ext.insert("authorizerCredentials".into(), json!(v));
        }
        if let Some(v) = &a.provider_ar_ns {
            ext.insert("providerARNs".into(), json!(v));
        }
        if let Some(v) = &a.identity_source
            && (ty == "request" || *v != format!("method.request.header.{header}"))
        {
            ext.insert("identitySource".into(), json!(v));
        }
        if let Some(v) = &a.identity_validation_expression {
            ext.insert("identityValidationExpression".into(), json!(v));
        }
        if let Some(v) = a.authorizer_result_ttl_in_seconds {
            ext.insert("authorizerResultTtlInSeconds".into(), json!(v));
        }
        let mut scheme = Map::new();
        scheme.insert("type".into(), json!("apiKey"));
        scheme.insert("name".into(), json!(header));
        scheme.insert("in".into(), json!("header"));
        if let Some(t) = &a.auth_type {
            scheme.insert("x-amazon-apigateway-authtype".into(), json!(t));
        }
        scheme.insert("x-amazon-apigateway-authorizer".into(), Value::Object(ext));
        out.insert(name, Value::Object(scheme));
    }
    out
}

/// The scheme AWS exports for `apiKeyRequired`.
pub(crate) const API_KEY_SCHEME: &str = "api_key";
/// The scheme AWS exports for `AWS_IAM`.
pub(crate) const SIGV4_SCHEME: &str = "sigv4";

pub(crate) fn api_key_scheme() -> Value {
    json!({"type": "apiKey", "name": "x-api-key", "in": "header"})
}

pub(crate) fn sigv4_scheme() -> Value {
    json!({"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"})
}

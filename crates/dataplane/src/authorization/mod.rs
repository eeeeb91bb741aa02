//! Method request, first step: authorization — the method's authorizer (Lambda TOKEN or
//! REQUEST, Cognito user pools, or SigV4 for `AWS_IAM`) and the API's resource policy,
//! combined by AWS's evaluation table.
//!
//! [`Authorization`] is compiled per method at deploy time; [`check`] runs it per request and
//! returns what it established about the caller ([`Authorized`]: `$context.authorizer.*`,
//! `$context.identity.*`, the Lambda event's `requestContext.authorizer`, the usage plan's
//! `usageIdentifierKey`). Failures are `GatewayError`s of AWS's response types:
//! `UNAUTHORIZED` (401), `ACCESS_DENIED` (403), `AUTHORIZER_FAILURE` and
//! `AUTHORIZER_CONFIGURATION_ERROR` (500), `MISSING_AUTHENTICATION_TOKEN`, `INVALID_SIGNATURE`,
//! `EXPIRED_TOKEN` (403).
//!
//! One file per mechanism: `lambda` (TOKEN / REQUEST authorizers and their result cache),
//! `cognito` (JWTs against the pool's JWKS), `iam` (SigV4 against the configured access keys),
//! `policy` (IAM policy documents evaluated against an execute-api ARN: authorizer policies and
//! resource policies), `resource_policy` (the RestApi `policy` and its combination with the
//! authorizer's decision).

pub mod cognito;
pub mod iam;
mod jwt;
pub mod lambda;
/// IAM policy evaluation (the pure `portico-policy` crate).
pub use portico_policy as policy;
pub mod resource_policy;

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;
use portico_model::document::RestApiDocument;
use portico_model::v1;
use serde_json::Value;

use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;
use crate::server::DataPlane;

/// How a method is authorized, decided at deploy time.
#[derive(Debug, Clone)]
pub enum Authorization {
    /// `NONE`.
    Open,
    /// `AWS_IAM`: a SigV4 signature by a configured access key.
    Iam,
    /// `CUSTOM`: a Lambda authorizer.
    Lambda(Arc<lambda::LambdaAuthorizer>),
    /// `COGNITO_USER_POOLS`: a JWT from one of the pools, with the method's scopes (access
    /// tokens) if any.
    Cognito(Arc<cognito::CognitoAuthorizer>, Vec<String>),
    /// An authorizer that cannot run (unknown id, bad configuration): every request is
    /// refused with `AUTHORIZER_CONFIGURATION_ERROR`, the reason logged.
    Misconfigured(String),
}

impl Authorization {
    /// The method's authorization, from its `authorizationType` and `authorizerId`.
    /// `vars` are the stage's variables (authorizer URIs may use them).
    pub fn compile(
        doc: &RestApiDocument,
        method: &v1::Method,
        vars: &IndexMap<String, String>,
    ) -> Authorization {
        let authorizer = || {
            method
                .authorizer_id
                .as_deref()
                .and_then(|id| doc.authorizers.get(id))
        };
        match method.authorization_type.as_deref().unwrap_or("NONE") {
            "NONE" => Authorization::Open,
            "AWS_IAM" => Authorization::Iam,
            "CUSTOM" => match authorizer() {
                Some(a) => match lambda::LambdaAuthorizer::compile(a, vars) {
                    Ok(l) => Authorization::Lambda(Arc::new(l)),
                    Err(why) => Authorization::Misconfigured(why),
                },
                None => {
                    Authorization::Misconfigured("the method's authorizer does not exist".into())
                }
            },
            "COGNITO_USER_POOLS" => match authorizer() {
                Some(a) => match cognito::CognitoAuthorizer::compile(a, vars) {
                    Ok(c) => Authorization::Cognito(
                        Arc::new(c),
                        method.authorization_scopes.clone().unwrap_or_default(),
                    ),
                    Err(why) => Authorization::Misconfigured(why),
                },
                None => {
                    Authorization::Misconfigured("the method's authorizer does not exist".into())
                }
            },
            other => Authorization::Misconfigured(format!("unknown authorization type {other}")),
        }
    }
}

/// An IAM caller (`$context.identity.*` for `AWS_IAM`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IamIdentity {
    pub access_key: String,
    pub account_id: Option<String>,
    pub caller: Option<String>,
    pub user: Option<String>,
    pub user_arn: Option<String>,
}

/// What authorization established about the caller.
#[derive(Debug, Clone, Default)]
pub struct Authorized {
    /// A Lambda authorizer's `principalId`.
    pub principal_id: Option<String>,
    /// A Lambda authorizer's `context` (string, number and boolean values).
    pub context: IndexMap<String, Value>,
    /// A Cognito token's claims.
    pub claims: Option<serde_json::Map<String, Value>>,
    /// A Lambda authorizer's `usageIdentifierKey` (the API key when the source is AUTHORIZER).
    pub usage_identifier_key: Option<String>,
    /// The SigV4 caller.
    pub iam: Option<IamIdentity>,
    /// How long the authorizer took (ms), for `$context.authorizer.integrationLatency`.
    pub latency_ms: Option<u64>,
}

impl Authorized {
    /// `$context.authorizer.X` (`principalId`, `claims.NAME`, a context key).
    pub fn context_var(&self, name: &str) -> Option<String> {
        if name == "principalId" {
            return self.principal_id.clone();
        }
        if name == "integrationLatency" {
            return self.latency_ms.map(|l| l.to_string());
        }
        if let Some(claim) = name.strip_prefix("claims.") {
            return self.claims.as_ref()?.get(claim).map(value_text);
        }
        self.context.get(name).map(value_text)
    }

    /// The Lambda proxy event's `requestContext.authorizer`, if any authorizer ran.
    pub fn event_value(&self) -> Option<Value> {
        if let Some(claims) = &self.claims {
            return Some(serde_json::json!({ "claims": claims }));
        }
        let principal = self.principal_id.as_ref()?;
        let mut out = serde_json::Map::new();
        for (k, v) in &self.context {
            out.insert(k.clone(), v.clone());
        }
        out.insert("principalId".into(), Value::String(principal.clone()));
        out.insert(
            "integrationLatency".into(),
            Value::from(self.latency_ms.unwrap_or(0)),
        );
        Some(Value::Object(out))
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An access key `AWS_IAM` requests (and the admin API) may be signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub id: String,
    pub secret: String,
    pub user_arn: Option<String>,
    pub account_id: Option<String>,
}

/// What the data plane needs to authorize: configuration and the caches shared by all
/// requests.
#[derive(Debug, Default)]
pub struct State {
    /// `[[access_keys]]`, by id.
    pub access_keys: HashMap<String, AccessKey>,
    /// `[cognito] endpoint`: a pool's issuer is `{endpoint}/{userPoolId}`; default AWS's
    /// `https://cognito-idp.{region}.amazonaws.com`.
    pub cognito_endpoint: Option<String>,
    /// Lambda authorizer decisions by (authorizer, identity), for their TTL.
    pub lambda_cache: lambda::Cache,
    /// Cognito pools' signing keys.
    pub jwks: cognito::Jwks,
}

/// Authorizes the request: the method's authorizer, then the resource policy.
pub(crate) async fn check(dp: &DataPlane, inv: &Invocation) -> Result<Authorized, GatewayError> {
    let authorized = match &inv.target.authorization {
        Authorization::Open => Authorized::default(),
        Authorization::Iam => iam::check(dp, inv)?,
        // (Boxed: their futures are large, and most methods need neither.)
        Authorization::Lambda(a) => Box::pin(lambda::check(dp, inv, a)).await?,
        Authorization::Cognito(a, scopes) => Box::pin(cognito::check(dp, inv, a, scopes)).await?,
        Authorization::Misconfigured(why) => {
            return Err(
                GatewayError::new(ResponseType::AuthorizerConfigurationError)
                    .because(format!("authorizer configuration error: {why}")),
            );
        }
    };
    resource_policy::check(dp, inv, &authorized)?;
    Ok(authorized)
}

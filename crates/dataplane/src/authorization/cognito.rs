//! Cognito user pool authorizers. (Being implemented.)

use portico_model::v1;

use super::Authorized;
use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;
use crate::server::DataPlane;

/// A compiled Cognito authorizer.
#[derive(Debug)]
pub struct CognitoAuthorizer {
    pub id: String,
    pub name: String,
}

impl CognitoAuthorizer {
    pub fn compile(a: &v1::Authorizer) -> Result<CognitoAuthorizer, String> {
        Ok(CognitoAuthorizer {
            id: a.id.clone().unwrap_or_default(),
            name: a.name.clone().unwrap_or_default(),
        })
    }
}

/// Signing keys by pool, fetched from the issuer and cached.
#[derive(Debug, Default)]
pub struct Jwks;

pub(crate) async fn check(
    _dp: &DataPlane,
    _inv: &Invocation,
    a: &CognitoAuthorizer,
    _scopes: &[String],
) -> Result<Authorized, GatewayError> {
    Err(
        GatewayError::new(ResponseType::AuthorizerConfigurationError).because(format!(
            "Cognito authorizer {} is not supported by this build yet",
            a.name
        )),
    )
}

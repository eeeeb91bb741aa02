//! Lambda authorizers, TOKEN and REQUEST. (Being implemented.)

use indexmap::IndexMap;
use portico_model::v1;

use super::Authorized;
use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;
use crate::server::DataPlane;

/// A compiled Lambda authorizer.
#[derive(Debug)]
pub struct LambdaAuthorizer {
    pub id: String,
    pub name: String,
}

impl LambdaAuthorizer {
    pub fn compile(
        a: &v1::Authorizer,
        _vars: &IndexMap<String, String>,
    ) -> Result<LambdaAuthorizer, String> {
        Ok(LambdaAuthorizer {
            id: a.id.clone().unwrap_or_default(),
            name: a.name.clone().unwrap_or_default(),
        })
    }
}

/// Decisions cached by (authorizer, identity).
#[derive(Debug, Default)]
pub struct Cache;

pub(crate) async fn check(
    _dp: &DataPlane,
    _inv: &Invocation,
    a: &LambdaAuthorizer,
) -> Result<Authorized, GatewayError> {
    Err(
        GatewayError::new(ResponseType::AuthorizerConfigurationError).because(format!(
            "Lambda authorizer {} is not supported by this build yet",
            a.name
        )),
    )
}

//! Method request, first step: authorization.
//!
//! Lambda and Cognito authorizers and SigV4 (`AWS_IAM`) are not enforced by this build yet.
//! A method that names one must not become an open door, so every request to it is refused:
//! `AWS_IAM` as an unsigned request is (403 `MISSING_AUTHENTICATION_TOKEN`), `CUSTOM` and
//! `COGNITO_USER_POOLS` as an authorizer that cannot run (500
//! `AUTHORIZER_CONFIGURATION_ERROR`), with the reason logged.

use crate::gateway_response::{GatewayError, ResponseType};

/// How a method is authorized, decided at deploy time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    /// `NONE`.
    Open,
    /// `AWS_IAM`, `CUSTOM` or `COGNITO_USER_POOLS`: refused until authorizers are built.
    Unenforced(String),
}

impl Authorization {
    pub fn from_method(authorization_type: Option<&str>) -> Authorization {
        match authorization_type.unwrap_or("NONE") {
            "NONE" => Authorization::Open,
            other => Authorization::Unenforced(other.to_string()),
        }
    }
}

pub(crate) fn check(a: &Authorization) -> Result<(), GatewayError> {
    match a {
        Authorization::Open => Ok(()),
        Authorization::Unenforced(ty) if ty == "AWS_IAM" => {
            Err(GatewayError::new(ResponseType::MissingAuthenticationToken)
                .because("AWS_IAM (SigV4) authorization is not supported by this build yet; the request is refused"))
        }
        Authorization::Unenforced(ty) => Err(GatewayError::new(
            ResponseType::AuthorizerConfigurationError,
        )
        .because(format!(
            "{ty} authorizers are not supported by this build yet; the request is refused"
        ))),
    }
}

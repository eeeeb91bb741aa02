//! `AWS_IAM`: SigV4 against the configured access keys. (Being implemented.)

use super::Authorized;
use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;
use crate::server::DataPlane;

pub(crate) fn check(_dp: &DataPlane, _inv: &Invocation) -> Result<Authorized, GatewayError> {
    Err(GatewayError::new(ResponseType::MissingAuthenticationToken)
        .because("AWS_IAM (SigV4) authorization is not supported by this build yet; the request is refused"))
}

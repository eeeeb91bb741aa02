//! The RestApi's resource policy and its combination with the authorizer. (Being implemented:
//! until then an API with a policy refuses every request.)

use super::Authorized;
use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;
use crate::server::DataPlane;

pub(crate) fn check(
    _dp: &DataPlane,
    inv: &Invocation,
    _a: &Authorized,
) -> Result<(), GatewayError> {
    if inv.stage.has_resource_policy {
        return Err(GatewayError::new(ResponseType::AccessDenied).because(
            "resource policies are not supported by this build yet; the request is refused",
        ));
    }
    Ok(())
}

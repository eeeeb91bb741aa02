//! Integrations: what runs behind a method. A closed set built at compile time and dispatched
//! by `match`; each variant lives in its own file.

mod http_integration;
pub(crate) mod lambda;
mod mock;
mod request;
mod response;

use bytes::Bytes;
use http::Response;
use http_body_util::Full;

use crate::compile::Integration;
use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;
use crate::server::DataPlane;

/// Runs the method's integration and produces the method response.
///
/// The network-bound integrations' futures are large (an HTTP client exchange, a function
/// invocation); they are boxed so that every request's future — moved into place once per
/// request — stays small for the integrations that do not need them (MOCK).
pub async fn invoke(
    dp: &DataPlane,
    inv: &Invocation,
) -> Result<Response<Full<Bytes>>, GatewayError> {
    let target = inv.target.clone();
    match &target.integration {
        Integration::Mock(req, resp) => mock::invoke(inv, req, resp),
        Integration::Http(plan, req, resp) => {
            Box::pin(http_integration::invoke(dp, inv, plan, req, resp)).await
        }
        Integration::HttpProxy(plan, req) => {
            Box::pin(http_integration::invoke_proxy(dp, inv, plan, req)).await
        }
        Integration::LambdaProxy(plan, req) => {
            Box::pin(lambda::invoke_proxy(dp, inv, plan, req)).await
        }
        Integration::Lambda(plan, req, resp) => {
            Box::pin(lambda::invoke(dp, inv, plan, req, resp)).await
        }
        Integration::Unsupported(why) => Err(GatewayError::new(
            ResponseType::ApiConfigurationError,
        )
        .because(format!(
            "Execution failed due to configuration error: {why}"
        ))),
    }
}

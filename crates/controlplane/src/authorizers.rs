//! Authorizers: read access (GetAuthorizer, GetAuthorizers). Authorizers come from OpenAPI
//! imports for now; creating, updating and enforcing them is the authorizers issue's work, and
//! until then the data plane refuses every request to a method that names one (see
//! `portico_dataplane::compile`).

use crate::{ApiError, Call, ControlPlane, Outcome, Reply, pagination};

fn not_found() -> ApiError {
    ApiError::not_found("Invalid Authorizer identifier specified")
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

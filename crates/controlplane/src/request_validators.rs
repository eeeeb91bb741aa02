//! RequestValidators: whether a method's request parameters and/or body are validated.

use portico_model::patch::PatchOp;
use portico_model::{ids, v1};

use crate::patching::{self, invalid_path_must_be, unsupported_op};
use crate::{ApiError, Call, ControlPlane, Outcome, Reply, pagination};

fn not_found() -> ApiError {
    ApiError::not_found("Invalid Request Validator identifier specified")
}

pub(crate) async fn create(cp: &ControlPlane, call: &Call) -> Outcome {
    let input: v1::CreateRequestValidatorRequest = call.input()?;
    let v = cp
        .update_api(call.param("restapi_id"), |doc| {
            let id = ids::short_id(6);
            let v = v1::RequestValidator {
                id: Some(id.clone()),
                name: input.name.clone(),
                validate_request_body: Some(input.validate_request_body.unwrap_or(false)),
                validate_request_parameters: Some(
                    input.validate_request_parameters.unwrap_or(false),
                ),
            };
            doc.request_validators.insert(id, v.clone());
            Ok(v)
        })
        .await
        .map_err(|e| {
            // AWS answers an unknown API here with a 400, not a 404.
            if e.status == 404 {
                ApiError::bad_request("Invalid REST API identifier specified")
            } else {
                e
            }
        })?;
    Reply::json(&v)
}

pub(crate) async fn get(cp: &ControlPlane, call: &Call) -> Outcome {
    let (doc, _) = cp
        .load_api(call.param("restapi_id"))
        .await
        .map_err(|_| not_found())?;
    Reply::json(
        doc.request_validators
            .get(call.param("requestvalidator_id"))
            .ok_or_else(not_found)?,
    )
}

pub(crate) async fn list(cp: &ControlPlane, call: &Call) -> Outcome {
    let (doc, _) = cp.load_api(call.param("restapi_id")).await?;
    let items = doc
        .request_validators
        .values()
        .map(|v| serde_json::to_value(v).map_err(|e| ApiError::internal(e.to_string())))
        .collect::<Result<_, _>>()?;
    Reply::json(pagination::page(call, items)?)
}

pub(crate) async fn update(cp: &ControlPlane, call: &Call) -> Outcome {
    let patches = patching::read(call, "updateRequestValidatorInput")?;
    let id = call.param("requestvalidator_id").to_string();
    let v = cp
        .update_api(call.param("restapi_id"), |doc| {
            let v = doc.request_validators.get_mut(&id).ok_or_else(not_found)?;
            for p in &patches {
                let field = p.segments.first().map(String::as_str).unwrap_or("");
                let known = ["name", "validateRequestParameters", "validateRequestBody"];
                if p.segments.len() != 1 || !known.contains(&field) {
                    return Err(invalid_path_must_be(
                        p,
                        "/name, /validateRequestParameters, /validateRequestBody",
                    ));
                }
                if p.op != PatchOp::Replace {
                    return Err(unsupported_op(p));
                }
                match field {
                    "name" => {
                        let name = p.value.clone().unwrap_or_default();
                        if name.trim().is_empty() {
                            return Err(ApiError::bad_request(
                                "Request Validator name cannot be blank",
                            ));
                        }
                        v.name = Some(name);
                    }
                    "validateRequestParameters" => {
                        v.validate_request_parameters = Some(patching::bool_value(p))
                    }
                    _ => v.validate_request_body = Some(patching::bool_value(p)),
                }
            }
            Ok(v.clone())
        })
        .await?;
    Reply::json(&v)
}

pub(crate) async fn delete(cp: &ControlPlane, call: &Call) -> Outcome {
    let id = call.param("requestvalidator_id").to_string();
    cp.update_api(call.param("restapi_id"), |doc| {
        doc.request_validators
            .shift_remove(&id)
            .ok_or_else(not_found)?;
        for r in doc.resources.values_mut() {
            for m in r.resource_methods.iter_mut().flat_map(|m| m.values_mut()) {
                if m.request_validator_id.as_deref() == Some(id.as_str()) {
                    m.request_validator_id = None;
                }
            }
        }
        Ok(())
    })
    .await
    .map_err(|e| if e.status == 404 { not_found() } else { e })?;
    Reply::empty()
}

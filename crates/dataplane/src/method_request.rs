//! Method request: the request validator's checks, before any integration work.
//! Required parameters first (`BAD_REQUEST_PARAMETERS`), then the body against the method's
//! model for the request's content type (`BAD_REQUEST_BODY`).

use std::sync::Arc;

use portico_mapping::schema::{self, SchemaSet};

use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;
use crate::mapping::media_type;

/// What a method's request validator asks for, compiled from the snapshot.
#[derive(Debug, Default)]
pub struct Validation {
    /// Required header, path and query-string names, in AWS's reporting order.
    pub required_headers: Vec<String>,
    pub required_path: Vec<String>,
    pub required_query: Vec<String>,
    /// `Some` when the validator checks bodies: model name by content type.
    pub body_models: Option<Vec<(String, String)>>,
    /// The API's models, compiled once per stage; `None` when no method validates bodies.
    pub schemas: Option<Arc<SchemaSet>>,
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
    let Some(models) = &v.body_models else {
        return Ok(());
    };
    let ct = inv
        .header("content-type")
        .map(media_type)
        .unwrap_or_else(|| "application/json".into());
    let Some(model) = models
        .iter()
        .find(|(t, _)| *t == ct)
        .map(|(_, m)| m.as_str())
    else {
        return Ok(());
    };
    let Some(schemas) = &v.schemas else {
        return Err(GatewayError::new(ResponseType::ApiConfigurationError)
            .because("the API's models could not be compiled; body validation cannot run"));
    };
    let invalid = |detail: String| {
        GatewayError::new(ResponseType::BadRequestBody).with_validation_error(detail)
    };
    // An empty body is validated as JSON `null`, which no object model accepts.
    let instance: serde_json::Value = if inv.body.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&inv.body)
            .map_err(|e| invalid(format!("[Invalid JSON in request body: {e}]")))?
    };
    schemas
        .validate(model, &instance)
        .map_err(|errors| invalid(schema::error_string(&errors)))
}

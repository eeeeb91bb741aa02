//! Management API errors, as AWS answers them: a status, `x-amzn-ErrorType`, and
//! `{"message": ...}` with AWS's own wording.

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use portico_model::OperationName;

/// An AWS exception, classified where it is raised.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequestException", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(404, "NotFoundException", message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(409, "ConflictException", message)
    }

    /// A constraint violation of the input shape (`1 validation error detected: ...`).
    pub fn validation(errors: &[String]) -> ApiError {
        let n = errors.len();
        let noun = if n == 1 { "error" } else { "errors" };
        ApiError::new(
            400,
            "ValidationException",
            format!("{n} validation {noun} detected: {}", errors.join("; ")),
        )
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(500, "InternalFailure", message)
    }

    pub fn not_implemented(op: OperationName) -> ApiError {
        ApiError::new(
            501,
            "NotImplementedException",
            format!(
                "Operation {} is not implemented by Portico yet",
                op.as_str()
            ),
        )
    }

    pub fn unknown_operation(method: &hyper::Method, path: &str) -> ApiError {
        ApiError::new(
            404,
            "UnknownOperationException",
            format!("No API Gateway operation matches {method} {path}"),
        )
    }

    pub fn into_response(self) -> Response<Full<Bytes>> {
        let body = serde_json::json!({ "message": self.message }).to_string();
        let mut resp = Response::new(Full::new(Bytes::from(body)));
        *resp.status_mut() =
            hyper::StatusCode::from_u16(self.status).unwrap_or(hyper::StatusCode::BAD_REQUEST);
        let h = resp.headers_mut();
        h.insert(
            "content-type",
            hyper::header::HeaderValue::from_static("application/json"),
        );
        h.insert(
            "x-amzn-errortype",
            hyper::header::HeaderValue::from_static(self.code),
        );
        resp
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<portico_store::StoreError> for ApiError {
    fn from(e: portico_store::StoreError) -> ApiError {
        match e {
            portico_store::StoreError::Conflict(_) => ApiError::conflict(
                "Unable to complete operation due to concurrent modification. Please try again later.",
            ),
            other => ApiError::new(503, "ServiceUnavailableException", other.to_string()),
        }
    }
}

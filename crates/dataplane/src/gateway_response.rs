//! Gateway responses: how every data-plane error reaches the client, with AWS's status,
//! `x-amzn-ErrorType` and body for each response type.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;

/// AWS's gateway response types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseType {
    AccessDenied,
    ApiConfigurationError,
    AuthorizerConfigurationError,
    AuthorizerFailure,
    BadRequestParameters,
    BadRequestBody,
    Default4xx,
    Default5xx,
    ExpiredToken,
    IntegrationFailure,
    IntegrationTimeout,
    InvalidApiKey,
    InvalidSignature,
    MissingAuthenticationToken,
    QuotaExceeded,
    RequestTooLarge,
    ResourceNotFound,
    Throttled,
    Unauthorized,
    UnsupportedMediaType,
    WafFiltered,
}

impl ResponseType {
    /// The type's name as AWS spells it (`MISSING_AUTHENTICATION_TOKEN`).
    pub fn as_str(self) -> &'static str {
        use ResponseType::*;
        match self {
            AccessDenied => "ACCESS_DENIED",
            ApiConfigurationError => "API_CONFIGURATION_ERROR",
            AuthorizerConfigurationError => "AUTHORIZER_CONFIGURATION_ERROR",
            AuthorizerFailure => "AUTHORIZER_FAILURE",
            BadRequestParameters => "BAD_REQUEST_PARAMETERS",
            BadRequestBody => "BAD_REQUEST_BODY",
            Default4xx => "DEFAULT_4XX",
            Default5xx => "DEFAULT_5XX",
            ExpiredToken => "EXPIRED_TOKEN",
            IntegrationFailure => "INTEGRATION_FAILURE",
            IntegrationTimeout => "INTEGRATION_TIMEOUT",
            InvalidApiKey => "INVALID_API_KEY",
            InvalidSignature => "INVALID_SIGNATURE",
            MissingAuthenticationToken => "MISSING_AUTHENTICATION_TOKEN",
            QuotaExceeded => "QUOTA_EXCEEDED",
            RequestTooLarge => "REQUEST_TOO_LARGE",
            ResourceNotFound => "RESOURCE_NOT_FOUND",
            Throttled => "THROTTLED",
            Unauthorized => "UNAUTHORIZED",
            UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            WafFiltered => "WAF_FILTERED",
        }
    }

    /// Default status code.
    pub fn status(self) -> u16 {
        use ResponseType::*;
        match self {
            AccessDenied
            | ExpiredToken
            | InvalidApiKey
            | InvalidSignature
            | MissingAuthenticationToken
            | WafFiltered => 403,
            ApiConfigurationError
            | AuthorizerConfigurationError
            | AuthorizerFailure
            | Default5xx => 500,
            BadRequestParameters | BadRequestBody | Default4xx => 400,
            IntegrationFailure | IntegrationTimeout => 504,
            QuotaExceeded | Throttled => 429,
            RequestTooLarge => 413,
            ResourceNotFound => 404,
            Unauthorized => 401,
            UnsupportedMediaType => 415,
        }
    }

    /// The `x-amzn-ErrorType` AWS sends.
    pub fn error_type(self) -> &'static str {
        use ResponseType::*;
        match self {
            AccessDenied => "AccessDeniedException",
            MissingAuthenticationToken => "MissingAuthenticationTokenException",
            InvalidApiKey | WafFiltered => "ForbiddenException",
            InvalidSignature => "InvalidSignatureException",
            ExpiredToken => "ExpiredTokenException",
            Unauthorized => "UnauthorizedException",
            BadRequestParameters | BadRequestBody | UnsupportedMediaType | Default4xx => {
                "BadRequestException"
            }
            Throttled => "TooManyRequestsException",
            QuotaExceeded => "LimitExceededException",
            RequestTooLarge => "RequestTooLargeException",
            ResourceNotFound => "NotFoundException",
            AuthorizerConfigurationError => "AuthorizerConfigurationException",
            AuthorizerFailure => "AuthorizerFailureException",
            ApiConfigurationError | IntegrationFailure | IntegrationTimeout | Default5xx => {
                "InternalServerErrorException"
            }
        }
    }

    /// `$context.error.message` when the error does not carry its own.
    pub fn default_message(self) -> &'static str {
        use ResponseType::*;
        match self {
            AccessDenied => "User is not authorized to access this resource with an explicit deny",
            MissingAuthenticationToken => "Missing Authentication Token",
            InvalidApiKey | WafFiltered => "Forbidden",
            InvalidSignature => {
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
            }
            ExpiredToken => "The security token included in the request is expired",
            Unauthorized => "Unauthorized",
            BadRequestParameters => "Missing required request parameters",
            BadRequestBody => "Invalid request body",
            UnsupportedMediaType => "Unsupported Media Type",
            Throttled => "Too Many Requests",
            QuotaExceeded => "Limit Exceeded",
            RequestTooLarge => "Request Too Long",
            ResourceNotFound => "Not Found",
            IntegrationTimeout => "Endpoint request timed out",
            AuthorizerConfigurationError
            | AuthorizerFailure
            | ApiConfigurationError
            | IntegrationFailure
            | Default5xx => "Internal server error",
            Default4xx => "Bad Request",
        }
    }
}

/// A data-plane failure, classified where it was made.
#[derive(Debug, Clone)]
pub struct GatewayError {
    pub kind: ResponseType,
    /// Overrides the type's status (an integration failure AWS reports as 502, for example).
    pub status: Option<u16>,
    /// `$context.error.message`; the type's default when `None`.
    pub message: Option<String>,
    /// What went wrong, for the log only; never shown to the client.
    pub cause: Option<String>,
    /// `$context.error.validationErrorString` (request validation failures).
    pub validation_error: Option<String>,
}

impl GatewayError {
    pub fn new(kind: ResponseType) -> GatewayError {
        GatewayError {
            kind,
            status: None,
            message: None,
            cause: None,
            validation_error: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> GatewayError {
        self.status = Some(status);
        self
    }

    pub fn with_message(mut self, message: impl Into<String>) -> GatewayError {
        self.message = Some(message.into());
        self
    }

    pub fn with_validation_error(mut self, detail: String) -> GatewayError {
        self.cause = Some(detail.clone());
        self.validation_error = Some(detail);
        self
    }

    pub fn because(mut self, cause: impl Into<String>) -> GatewayError {
        self.cause = Some(cause.into());
        self
    }

    pub fn message(&self) -> &str {
        self.message
            .as_deref()
            .unwrap_or(self.kind.default_message())
    }

    /// The client's view of this error with AWS's default gateway response.
    pub fn render(&self) -> Response<Full<Bytes>> {
        let status = self.status.unwrap_or(self.kind.status());
        let body = serde_json::json!({ "message": self.message() }).to_string();
        error_response(status, self.kind.error_type(), body)
    }
}

/// An error answered before any API is known (no gateway responses apply yet).
pub fn error_response(
    status: u16,
    error_type: &'static str,
    body: String,
) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert("x-amzn-errortype", HeaderValue::from_static(error_type));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_token_renders_as_aws() {
        let r = GatewayError::new(ResponseType::MissingAuthenticationToken).render();
        assert_eq!(r.status(), 403);
        assert_eq!(
            r.headers()["x-amzn-errortype"],
            "MissingAuthenticationTokenException"
        );
    }
}

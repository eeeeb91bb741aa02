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
    /// Overrides the type's `x-amzn-ErrorType` (a SigV4 failure names its own exception).
    pub error_type: Option<&'static str>,
    /// The message is IAM's (a policy denied the request): AWS's default body names it
    /// `Message`, capitalized (`{"Message":"User: anonymous is not authorized ..."}`).
    pub iam_message: bool,
}

impl GatewayError {
    pub fn new(kind: ResponseType) -> GatewayError {
        GatewayError {
            kind,
            status: None,
            message: None,
            cause: None,
            validation_error: None,
            error_type: None,
            iam_message: false,
        }
    }

    pub fn with_error_type(mut self, error_type: &'static str) -> GatewayError {
        self.error_type = Some(error_type);
        self
    }

    /// The `x-amzn-ErrorType` header's value.
    pub fn error_type(&self) -> &'static str {
        self.error_type.unwrap_or(self.kind.error_type())
    }

    pub fn with_status(mut self, status: u16) -> GatewayError {
        self.status = Some(status);
        self
    }

    pub fn with_message(mut self, message: impl Into<String>) -> GatewayError {
        self.message = Some(message.into());
        self
    }

    /// An IAM policy evaluation's message (see [`GatewayError::iam_message`]).
    pub fn with_iam_message(mut self, message: impl Into<String>) -> GatewayError {
        self.message = Some(message.into());
        self.iam_message = true;
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

    /// `$context.error.messageString`: the message as a JSON string, or `null` for an
    /// authorizer configuration error, whose message AWS leaves null (widely reported: a
    /// failing Lambda authorizer answers 500 `{"message": null}`).
    pub fn message_string(&self) -> String {
        if self.kind == ResponseType::AuthorizerConfigurationError && self.message.is_none() {
            return "null".to_string();
        }
        serde_json::Value::String(self.message().to_string()).to_string()
    }

    /// AWS's default body. Errors of the execution itself (integration failures and timeouts,
    /// configuration errors) are written `{"message": "..."}`, with a space, unlike the
    /// others (recorded: the 36-byte `Internal server error` body). IAM's denials name the
    /// key `Message`.
    fn default_body(&self) -> String {
        let quoted = self.message_string();
        if self.iam_message {
            return format!("{{\"Message\":{quoted}}}");
        }
        match self.kind {
            ResponseType::IntegrationFailure
            | ResponseType::IntegrationTimeout
            | ResponseType::ApiConfigurationError
            | ResponseType::AuthorizerConfigurationError
            | ResponseType::Default5xx => format!("{{\"message\": {quoted}}}"),
            _ => format!("{{\"message\":{quoted}}}"),
        }
    }

    /// The client's view of this error with AWS's default gateway response.
    pub fn render(&self) -> Response<Full<Bytes>> {
        let status = self.status.unwrap_or(self.kind.status());
        let body = self.default_body();
        error_response(status, self.error_type(), body)
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

// === Customized gateway responses ===

impl ResponseType {
    pub const ALL: [ResponseType; 21] = [
        ResponseType::AccessDenied,
        ResponseType::ApiConfigurationError,
        ResponseType::AuthorizerConfigurationError,
        ResponseType::AuthorizerFailure,
        ResponseType::BadRequestParameters,
        ResponseType::BadRequestBody,
        ResponseType::Default4xx,
        ResponseType::Default5xx,
        ResponseType::ExpiredToken,
        ResponseType::IntegrationFailure,
        ResponseType::IntegrationTimeout,
        ResponseType::InvalidApiKey,
        ResponseType::InvalidSignature,
        ResponseType::MissingAuthenticationToken,
        ResponseType::QuotaExceeded,
        ResponseType::RequestTooLarge,
        ResponseType::ResourceNotFound,
        ResponseType::Throttled,
        ResponseType::Unauthorized,
        ResponseType::UnsupportedMediaType,
        ResponseType::WafFiltered,
    ];
}

/// One customized gateway response, compiled from the deployment.
#[derive(Debug)]
pub struct Custom {
    pub status: Option<u16>,
    pub headers: Vec<(String, crate::mapping::ParamSource)>,
    pub templates: crate::mapping::TemplateSet,
}

/// The API's gateway responses: for each type, its own, else DEFAULT_4XX / DEFAULT_5XX by
/// its status class. Types with neither answer AWS's defaults without any rendering work.
#[derive(Debug, Default)]
pub struct Customized {
    by_type: std::collections::HashMap<ResponseType, std::sync::Arc<Custom>>,
}

impl Customized {
    pub fn compile(doc: &portico_model::document::RestApiDocument) -> Customized {
        let compile_one = |r: &portico_model::v1::GatewayResponse| -> Option<Custom> {
            let headers = r
                .response_parameters
                .iter()
                .flatten()
                .filter_map(|(k, v)| {
                    let name = k.strip_prefix("gatewayresponse.header.")?;
                    Some((
                        name.to_ascii_lowercase(),
                        crate::mapping::ParamSource::parse(v)?,
                    ))
                })
                .collect();
            let templates =
                crate::mapping::TemplateSet::compile(r.response_templates.as_ref()).ok()?;
            Some(Custom {
                status: r.status_code.as_deref().and_then(|s| s.parse().ok()),
                headers,
                templates,
            })
        };
        let mut own = std::collections::HashMap::new();
        for t in ResponseType::ALL {
            if let Some(r) = doc.gateway_responses.get(t.as_str()).and_then(compile_one) {
                own.insert(t, std::sync::Arc::new(r));
            }
        }
        let d4 = own.get(&ResponseType::Default4xx).cloned();
        let d5 = own.get(&ResponseType::Default5xx).cloned();
        let mut by_type = own.clone();
        for t in ResponseType::ALL {
            if by_type.contains_key(&t) {
                continue;
            }
            let parent = if t.status() < 500 { &d4 } else { &d5 };
            if let Some(p) = parent {
                by_type.insert(t, p.clone());
            }
        }
        Customized { by_type }
    }

    pub fn get(&self, t: ResponseType) -> Option<&Custom> {
        self.by_type.get(&t).map(|c| c.as_ref())
    }
}

/// What an error response may read of the request (it may fail before an invocation exists).
pub struct Scope<'a> {
    pub stage: &'a crate::compile::CompiledStage,
    pub headers: &'a http::HeaderMap,
    pub query: Option<&'a str>,
    pub path_params: &'a [(String, String)],
    pub resource_path: &'a str,
    pub http_method: &'a str,
    pub request_id: &'a str,
}

impl GatewayError {
    /// Renders this error with the API's gateway responses (AWS's defaults when not
    /// customized).
    pub fn render_in(&self, scope: &Scope<'_>) -> Response<Full<Bytes>> {
        let Some(custom) = scope.stage.gateway_responses.get(self.kind) else {
            return self.render();
        };
        let status = custom.status.or(self.status).unwrap_or(self.kind.status());
        let accept = scope
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok());
        let (content_type, body) = match custom.templates.for_response(accept) {
            Some((ct, t)) => (ct.to_string(), self.render_template(t, scope)),
            None => (
                "application/json".to_string(),
                format!("{{\"message\":{}}}", self.message_string()),
            ),
        };
        let mut resp = error_response(status, self.error_type(), body);
        let h = resp.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&content_type) {
            h.insert(http::header::CONTENT_TYPE, v);
        }
        for (name, source) in &custom.headers {
            if let (Some(value), Ok(n)) = (
                source_value(source, scope),
                http::HeaderName::try_from(name.as_str()),
            ) && let Ok(v) = HeaderValue::from_str(&value)
            {
                h.insert(n, v);
            }
        }
        resp
    }

    fn render_template(&self, t: &crate::mapping::Template, scope: &Scope<'_>) -> String {
        use portico_mapping::bindings;
        use portico_vtl::Value;
        let template = match t {
            crate::mapping::Template::Literal(s) => return String::from_utf8_lossy(s).into_owned(),
            crate::mapping::Template::Vtl(t, _) => t,
        };
        let text = |s: &str| Value::String(std::rc::Rc::from(s));
        let message = self.message();
        let quoted = self.message_string();
        let context = bindings::context_map(&[
            ("error.message", text(message)),
            ("error.messageString", text(&quoted)),
            ("error.responseType", text(self.kind.as_str())),
            (
                "error.validationErrorString",
                text(self.validation_error.as_deref().unwrap_or("")),
            ),
            ("stage", text(&scope.stage.name)),
            ("apiId", text(&scope.stage.api_id)),
            ("deploymentId", text(&scope.stage.deployment_id)),
            ("resourcePath", text(scope.resource_path)),
            ("httpMethod", text(scope.http_method)),
            ("requestId", text(scope.request_id)),
        ]);
        let b = bindings::Bindings {
            input: bindings::InputData::default(),
            context: Value::Map(context),
            stage_variables: Value::Map(bindings::string_map(
                scope
                    .stage
                    .variables
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            )),
        };
        bindings::render(template, &b, &portico_vtl::Limits::default())
            .unwrap_or_else(|_| format!("{{\"message\":{quoted}}}"))
    }
}

fn source_value(source: &crate::mapping::ParamSource, scope: &Scope<'_>) -> Option<String> {
    use crate::mapping::ParamSource as S;
    match source {
        S::Static(s) => Some(s.clone()),
        S::MethodHeader(n) => scope
            .headers
            .get(n.as_str())
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        S::MethodPath(n) => scope
            .path_params
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone()),
        S::MethodQuery(n) => scope.query.and_then(|q| {
            crate::invocation::query_pairs(q)
                .filter(|(k, _)| k == n)
                .map(|(_, v)| v)
                .last()
        }),
        S::StageVariable(n) => scope.stage.variables.get(n).cloned(),
        S::Context(n) => match n.as_str() {
            "stage" => Some(scope.stage.name.clone()),
            "apiId" => Some(scope.stage.api_id.clone()),
            "requestId" => Some(scope.request_id.to_string()),
            "resourcePath" => Some(scope.resource_path.to_string()),
            "httpMethod" => Some(scope.http_method.to_string()),
            _ => None,
        },
        _ => None,
    }
}

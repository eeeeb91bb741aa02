//! MOCK: the status comes from the request template's `statusCode`; the answer from the
//! integration response it selects.

use bytes::Bytes;
use http::Response;
use http_body_util::Full;

use super::request;
use super::response::{self, IntegrationOutput};
use crate::compile::{RequestPlan, ResponsePlan};
use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;

pub(crate) fn invoke(
    inv: &Invocation,
    req: &RequestPlan,
    resp: &ResponsePlan,
) -> Result<Response<Full<Bytes>>, GatewayError> {
    let (_, body, overrides) = request::body(inv, req)?;
    let status = if req.templates.is_empty() && body.is_empty() {
        200
    } else {
        status_of(&body).ok_or_else(|| {
            GatewayError::new(ResponseType::ApiConfigurationError).because(
                "Execution failed due to configuration error: the MOCK request template did not produce a statusCode",
            )
        })?
    };
    response::map(
        inv,
        resp,
        IntegrationOutput {
            selector: Some(status.to_string()),
            headers: None,
            body: Bytes::new(),
        },
        &overrides,
    )
}

/// `statusCode` of the rendered request template (`{"statusCode": 200}`). AWS reads it
/// leniently (unquoted names such as CDK's `{statusCode: 200}` work), so this scans for the
/// field instead of requiring strict JSON.
fn status_of(body: &[u8]) -> Option<u16> {
    const FIELD: &[u8] = b"statusCode";
    let text = std::str::from_utf8(body).ok()?;
    let at = body.windows(FIELD.len()).position(|w| w == FIELD)?;
    let rest =
        text[at + "statusCode".len()..].trim_start_matches(['"', '\'', ' ', '\t', '\r', '\n']);
    let rest = rest
        .strip_prefix(':')?
        .trim_start_matches([' ', '\t', '\r', '\n', '"', '\'']);
    let digits: &str = &rest[..rest.bytes().take_while(u8::is_ascii_digit).count()];
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_status_code() {
        assert_eq!(super::status_of(br#"{"statusCode": 404}"#), Some(404));
        assert_eq!(super::status_of(br#"{"statusCode": "201"}"#), Some(201));
        assert_eq!(super::status_of(b"nope"), None);
        assert_eq!(super::status_of(b"{statusCode: 200}"), Some(200));
        assert_eq!(super::status_of(b"{ 'statusCode' : '302' }"), Some(302));
    }
}

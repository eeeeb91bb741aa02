//! The management API's lock: once access keys are configured, every management request must
//! be SigV4-signed (service `apigateway`, the server's region) by one of them, as AWS requires
//! of its own management API; boto3, the AWS CLI and the SDKs sign every call with whatever
//! credentials they have. Without keys the API is open (the binary refuses to listen beyond
//! loopback then).
//!
//! Refusals are AWS's: 403, `{"message": ...}` with `portico-sigv4`'s wording and the
//! exception as `x-amzn-ErrorType`: `MissingAuthenticationTokenException` ("Missing
//! Authentication Token"), `UnrecognizedClientException` ("The security token included in the
//! request is invalid.", also for any session token: configured keys are long-term),
//! `InvalidSignatureException` (a wrong secret, an expired signature, a wrong scope),
//! `IncompleteSignatureException` (a signature that cannot be read).

use std::collections::HashMap;

use portico_sigv4::{Body, IncomingRequest, VerifyError, VerifyOptions};

use crate::ApiError;

/// Checks the signature of a management request; `keys` maps access key ids to secrets (none:
/// every request passes).
pub(crate) fn check(
    keys: &HashMap<String, String>,
    region: &str,
    parts: &http::request::Parts,
    body: &[u8],
) -> Result<(), ApiError> {
    if keys.is_empty() {
        return Ok(());
    }
    let mut headers: Vec<(&str, &[u8])> = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();
    // HTTP/2 carries the host as `:authority`.
    if !parts.headers.contains_key(http::header::HOST)
        && let Some(authority) = parts.uri.authority()
    {
        headers.push(("host", authority.as_str().as_bytes()));
    }
    let request = IncomingRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        body: Body::Bytes(body),
    };
    let options = VerifyOptions {
        service: "apigateway",
        region: Some(region),
        now: portico_model::time::now_epoch_seconds(),
        allow_unsigned_payload: false,
    };
    let verified = portico_sigv4::verify(&request, &options, keys).and_then(|identity| {
        match identity.session_token {
            Some(_) => Err(VerifyError::UnknownAccessKey {
                access_key_id: identity.access_key_id,
            }),
            None => Ok(()),
        }
    });
    verified.map_err(|e| {
        tracing::info!(
            method = %parts.method,
            path = parts.uri.path(),
            error = e.kind().error_type(),
            "management request refused"
        );
        ApiError::new(403, e.kind().error_type(), e.message())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use portico_sigv4::{Credentials, OutgoingRequest, Payload, SigningParams};

    const ID: &str = "AKIDADMIN";
    const SECRET: &str = "admin-secret";

    fn keys() -> HashMap<String, String> {
        HashMap::from([(ID.to_string(), SECRET.to_string())])
    }

    /// A request to `/restapis?limit=5` signed now with `id`/`secret` for `service`.
    fn signed(id: &str, secret: &str, service: &str, body: &'static [u8]) -> http::request::Parts {
        let url = "http://127.0.0.1:9080/restapis?limit=5";
        let credentials = Credentials {
            access_key_id: id.into(),
            secret_access_key: secret.into(),
            session_token: None,
        };
        let set = portico_sigv4::sign(
            &OutgoingRequest {
                method: "POST",
                url,
                headers: &[("Content-Type", "application/json")],
                payload: Payload::Bytes(body),
            },
            &SigningParams {
                credentials: &credentials,
                region: "us-east-1",
                service,
                time: portico_model::time::now_epoch_seconds(),
            },
        )
        .unwrap();
        let mut req = http::Request::post("/restapis?limit=5")
            .header("host", "127.0.0.1:9080")
            .header("content-type", "application/json");
        for (k, v) in &set {
            req = req.header(*k, v.as_str());
        }
        req.body(()).unwrap().into_parts().0
    }

    fn refusal(parts: &http::request::Parts, body: &[u8]) -> (&'static str, String) {
        let e = check(&keys(), "us-east-1", parts, body).unwrap_err();
        assert_eq!(e.status, 403);
        (e.code, e.message)
    }

    #[test]
    fn without_keys_everything_passes() {
        let parts = http::Request::get("/restapis")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        assert!(check(&HashMap::new(), "us-east-1", &parts, b"").is_ok());
    }

    #[test]
    fn a_configured_key_passes_and_anything_else_is_refused_as_aws_does() {
        let body = br#"{"name":"x"}"#;
        assert!(
            check(
                &keys(),
                "us-east-1",
                &signed(ID, SECRET, "apigateway", body),
                body
            )
            .is_ok()
        );

        let unsigned = http::Request::get("/restapis")
            .header("host", "127.0.0.1:9080")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        assert_eq!(
            refusal(&unsigned, b""),
            (
                "MissingAuthenticationTokenException",
                "Missing Authentication Token".into()
            )
        );
        assert_eq!(
            refusal(&signed("AKIDOTHER", SECRET, "apigateway", body), body),
            (
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".into()
            )
        );
        let (code, message) = refusal(&signed(ID, "wrong", "apigateway", body), body);
        assert_eq!(code, "InvalidSignatureException");
        assert!(message.starts_with("The request signature we calculated does not match"));
        // The body is signed: another body does not pass.
        let (code, _) = refusal(&signed(ID, SECRET, "apigateway", body), b"{}");
        assert_eq!(code, "InvalidSignatureException");
        let (code, message) = refusal(&signed(ID, SECRET, "execute-api", body), body);
        assert_eq!(code, "InvalidSignatureException");
        assert_eq!(
            message,
            "Credential should be scoped to correct service: 'apigateway'. "
        );
    }

    #[test]
    fn session_tokens_are_not_ours() {
        let body = b"";
        let mut parts = signed(ID, SECRET, "apigateway", body);
        // Signed without the token, so the token is also unsigned; either way it is refused
        // before the signature could matter.
        parts
            .headers
            .insert("x-amz-security-token", "FQoGZXIvYXdzE".parse().unwrap());
        let (code, _) = refusal(&parts, body);
        assert_eq!(code, "UnrecognizedClientException");
    }
}

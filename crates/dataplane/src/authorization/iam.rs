//! `AWS_IAM`: the request must carry a SigV4 signature (the `Authorization` header or a
//! presigned query) by one of the configured access keys, for service `execute-api` and the
//! data plane's region, within AWS's five minutes (or the presigned `X-Amz-Expires`), over the
//! request exactly as it arrived: method, path, query, headers, body.
//!
//! The path is the one the client sent: `/{stage}/...` for host-addressed requests
//! (`{api}.execute-api.{domain}`), `/_aws/execute-api/{api}/{stage}/...` for path-addressed
//! ones — a client signs the URL it calls.
//!
//! Failures answer as API Gateway does (403, the `portico-sigv4` message):
//! no signature → `MISSING_AUTHENTICATION_TOKEN`; unknown access key →
//! `UnrecognizedClientException` "The security token included in the request is invalid.";
//! anything else, an expired signature included → `INVALID_SIGNATURE`
//! (`InvalidSignatureException`, or `IncompleteSignatureException` for a signature that
//! cannot be read). Both unrecognised and unreadable signatures go through the
//! `INVALID_SIGNATURE` gateway response: AWS does not document which one they use.
//! `EXPIRED_TOKEN` is for expired session tokens, which Portico never issues; a request
//! carrying `X-Amz-Security-Token` is refused as an unrecognised client.

use portico_sigv4::{Body, ErrorKind, IncomingRequest, VerifyError, VerifyOptions};

use super::{Authorized, IamIdentity};
use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;
use crate::server::DataPlane;

pub(crate) fn check(dp: &DataPlane, inv: &Invocation) -> Result<Authorized, GatewayError> {
    let path = signed_path(dp, inv);
    let mut headers: Vec<(&str, &[u8])> = inv
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();
    // HTTP/2 carries the host as `:authority`, which `http` keeps out of the header map.
    if !inv.headers.contains_key(http::header::HOST) {
        headers.push(("host", inv.domain_name.as_bytes()));
    }
    let request = IncomingRequest {
        method: inv.method.as_str(),
        path: &path,
        query: inv.raw_query.as_deref().unwrap_or(""),
        headers: &headers,
        body: Body::Bytes(&inv.body),
    };
    let options = VerifyOptions {
        service: "execute-api",
        region: Some(&dp.settings.region),
        now: inv.request_time_ms.div_euclid(1000),
        allow_unsigned_payload: false,
    };
    let secrets = |id: &str| dp.auth.access_keys.get(id).map(|k| k.secret.clone());
    let identity = portico_sigv4::verify(&request, &options, &secrets).map_err(refusal)?;
    if identity.session_token.is_some() {
        // The configured keys are long-term: no session token belongs to them.
        return Err(refusal(VerifyError::UnknownAccessKey {
            access_key_id: identity.access_key_id,
        }));
    }
    let Some(key) = dp.auth.access_keys.get(&identity.access_key_id) else {
        return Err(refusal(VerifyError::UnknownAccessKey {
            access_key_id: identity.access_key_id,
        }));
    };
    let account = key
        .account_id
        .clone()
        .unwrap_or_else(|| dp.settings.account_id.clone());
    let principal = principal_id(&key.id);
    Ok(Authorized {
        iam: Some(IamIdentity {
            access_key: key.id.clone(),
            account_id: Some(account.clone()),
            caller: Some(principal.clone()),
            user: Some(principal),
            user_arn: Some(
                key.user_arn
                    .clone()
                    .unwrap_or_else(|| format!("arn:aws:iam::{account}:user/{}", key.id)),
            ),
        }),
        ..Authorized::default()
    })
}

/// The path as the client sent it, stage included.
fn signed_path(dp: &DataPlane, inv: &Invocation) -> String {
    let hostname = inv
        .domain_name
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(inv.domain_name.as_str(), |(host, _)| host);
    let by_host = hostname.len() > dp.host_suffix.len()
        && hostname[hostname.len() - dp.host_suffix.len()..].eq_ignore_ascii_case(&dp.host_suffix);
    if by_host {
        format!("/{}{}", inv.stage.name, inv.path)
    } else {
        format!(
            "/_aws/execute-api/{}/{}{}",
            inv.stage.api_id, inv.stage.name, inv.path
        )
    }
}

/// The unique id AWS shows as `$context.identity.caller` / `user` for an IAM user
/// (`AIDA` and 17 characters). Portico has no IAM, so it derives a stable one from the key.
fn principal_id(access_key: &str) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = ring::digest::digest(&ring::digest::SHA256, access_key.as_bytes());
    let tail: String = digest.as_ref()[..17]
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b % 32)]))
        .collect();
    format!("AIDA{tail}")
}

/// The gateway response for a verification failure, with AWS's message and error type.
fn refusal(e: VerifyError) -> GatewayError {
    let kind = e.kind();
    let response = match kind {
        ErrorKind::MissingAuthenticationToken => ResponseType::MissingAuthenticationToken,
        ErrorKind::IncompleteSignature
        | ErrorKind::InvalidSignature
        | ErrorKind::UnrecognizedClient => ResponseType::InvalidSignature,
    };
    let message = e.message();
    GatewayError::new(response)
        .with_message(message.clone())
        .with_error_type(kind.error_type())
        .because(format!("AWS_IAM: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_ids_look_like_iam_user_ids_and_are_stable() {
        let id = principal_id("AKIDEXAMPLE");
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("AIDA"));
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
        assert_eq!(id, principal_id("AKIDEXAMPLE"));
        assert_ne!(id, principal_id("AKIDEXAMPLF"));
    }

    #[test]
    fn failures_keep_aws_message_and_error_type() {
        let e = refusal(VerifyError::UnknownAccessKey {
            access_key_id: "x".into(),
        });
        assert_eq!(e.kind, ResponseType::InvalidSignature);
        assert_eq!(
            e.message(),
            "The security token included in the request is invalid."
        );
        let r = e.render();
        assert_eq!(r.status(), 403);
        assert_eq!(
            r.headers()["x-amzn-errortype"],
            "UnrecognizedClientException"
        );
        let r = refusal(VerifyError::MissingAuthenticationToken).render();
        assert_eq!(
            r.headers()["x-amzn-errortype"],
            "MissingAuthenticationTokenException"
        );
        let e = refusal(VerifyError::Expired {
            signed_at: 0,
            now: 600,
        });
        assert_eq!(e.kind, ResponseType::InvalidSignature);
        assert!(e.message().starts_with("Signature expired: "));
    }
}

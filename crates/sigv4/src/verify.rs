//! Verifying incoming requests: the `Authorization` header form and presigned URLs, checked in
//! the order AWS's SigV4 front end checks them, so the first problem reported is AWS's.

use std::collections::HashMap;

use ring::hmac;

use crate::canonical::{self, ALGORITHM, CanonicalParts, QueryParam, TERMINATOR, UNSIGNED_PAYLOAD};
use crate::error::{Missing, ScopeMismatch, VerifyError};
use crate::sign::MAX_EXPIRES;
use crate::time;

/// How far a request time may be from the verifier's clock: five minutes, either way.
pub const MAX_SKEW: i64 = 300;

/// A request as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct IncomingRequest<'a> {
    /// As received; it is not uppercased (`GET`, not `get`).
    pub method: &'a str,
    /// The raw path, still percent-encoded, exactly as in the request line.
    pub path: &'a str,
    /// The raw query string after `?` (empty when none), still percent-encoded.
    pub query: &'a str,
    /// Every header, in order, names in any case; repeats allowed. It must include `host`
    /// (for HTTP/2, the `:authority`) since every signature covers it.
    pub headers: &'a [(&'a str, &'a [u8])],
    pub body: Body<'a>,
}

/// The request body, or its hash when the caller already has it.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    Bytes(&'a [u8]),
    /// SHA-256 of the body, lowercase hex.
    Sha256(&'a str),
}

/// What the caller accepts.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// The service the credential scope must name (`execute-api`, `apigateway`, ...).
    pub service: &'a str,
    /// The region the credential scope must name; `None` accepts any.
    pub region: Option<&'a str>,
    /// The verifier's clock: seconds since the Unix epoch.
    pub now: i64,
    /// Whether a client may sign `UNSIGNED-PAYLOAD` (declared in `X-Amz-Content-Sha256`)
    /// instead of the body's hash.
    pub allow_unsigned_payload: bool,
}

/// Where secrets come from: the secret access key of an access key id, if it is known.
pub trait SecretLookup {
    fn secret_access_key(&self, access_key_id: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> SecretLookup for F {
    fn secret_access_key(&self, access_key_id: &str) -> Option<String> {
        self(access_key_id)
    }
}

impl SecretLookup for HashMap<String, String> {
    fn secret_access_key(&self, access_key_id: &str) -> Option<String> {
        self.get(access_key_id).cloned()
    }
}

/// Which form the signature came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
    Header,
    /// `X-Amz-Algorithm=...&X-Amz-Signature=...` in the query; `expires` is `X-Amz-Expires`
    /// (absent: the header form's five minutes apply).
    Presigned { expires: Option<u64> },
}

/// The credential scope a request was signed for: `date/region/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    /// `YYYYMMDD`.
    pub date: String,
    pub region: String,
    pub service: String,
}

/// Who signed a request that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub access_key_id: String,
    pub scope: CredentialScope,
    /// `X-Amz-Security-Token`, when the client sent one. The verifier does not check it: a
    /// caller that issues temporary credentials must (it is signed in every botocore request).
    pub session_token: Option<String>,
    /// The request time, epoch seconds.
    pub signed_at: i64,
    pub form: Form,
}

/// What the two forms have in common once parsed.
struct Claimed {
    form: Form,
    algorithm: String,
    credential: String,
    signed_headers: String,
    signature: String,
    timestamp: String,
    signed_at: i64,
    session_token: Option<String>,
}

/// Verifies `request`'s SigV4 signature, in either form, against the secret `secrets` gives for
/// its access key. Checks, in AWS's order: that there is one signature; that it is complete;
/// the request time (±[`MAX_SKEW`], or up to `X-Amz-Expires` for a presigned URL); that `host`
/// is signed; the algorithm; the credential and its scope (region, service, terminator, day);
/// the access key; and the signature itself, compared in constant time over exactly the
/// headers the client signed. The payload hash signed is the body's, except that a client's
/// `X-Amz-Content-Sha256: UNSIGNED-PAYLOAD` is honoured when the options allow it; a declared
/// hash that is not the body's therefore fails as a signature mismatch.
pub fn verify(
    request: &IncomingRequest<'_>,
    options: &VerifyOptions<'_>,
    secrets: &impl SecretLookup,
) -> Result<Identity, VerifyError> {
    let query = canonical::parse_query(request.query);
    let authorization = header(request.headers, "authorization");
    let algorithm_param = param(&query, "X-Amz-Algorithm");
    let claimed = match (authorization, algorithm_param) {
        (Some(_), Some(_)) => return Err(VerifyError::BothAuthorizationForms),
        (None, None) => return Err(VerifyError::MissingAuthenticationToken),
        (Some(value), None) => from_header(value, request.headers)?,
        (None, Some(algorithm)) => from_query(&algorithm, &query)?,
    };
    check_time(&claimed, options.now)?;

    let mut signed_headers: Vec<String> = claimed
        .signed_headers
        .split(';')
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect();
    signed_headers.sort();
    signed_headers.dedup();
    if !signed_headers.iter().any(|name| name == "host") {
        return Err(VerifyError::HostNotSigned);
    }
    if claimed.algorithm != ALGORITHM {
        return Err(VerifyError::UnsupportedAlgorithm {
            algorithm: claimed.algorithm,
        });
    }

    let trimmed = claimed.credential.trim_end_matches('/');
    let parts: Vec<&str> = trimmed.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts[..] else {
        return Err(VerifyError::MalformedCredential {
            credential: claimed.credential.clone(),
        });
    };
    let mut mismatch = ScopeMismatch::default();
    if options.region.is_some_and(|expected| expected != region) {
        mismatch.region = Some(region.to_owned());
    }
    if service != options.service {
        mismatch.service = Some(options.service.to_owned());
    }
    if terminator != TERMINATOR {
        mismatch.terminator = Some(terminator.to_owned());
    }
    if date != &claimed.timestamp[..8] {
        mismatch.date = Some((
            date.to_owned(),
            claimed.timestamp[..8].to_owned(),
            claimed.timestamp.clone(),
        ));
    }
    if mismatch != ScopeMismatch::default() {
        return Err(VerifyError::CredentialScope(mismatch));
    }

    let Some(secret) = secrets.secret_access_key(access_key_id) else {
        return Err(VerifyError::UnknownAccessKey {
            access_key_id: access_key_id.to_owned(),
        });
    };

    let body_hash = match request.body {
        Body::Bytes(bytes) => canonical::sha256_hex(bytes),
        Body::Sha256(hash) => hash.to_owned(),
    };
    let declared = header(request.headers, "x-amz-content-sha256");
    let payload_hash = match declared {
        Some(value) if options.allow_unsigned_payload && value.trim() == UNSIGNED_PAYLOAD => {
            UNSIGNED_PAYLOAD.to_owned()
        }
        _ => body_hash,
    };
    let canonical_query = match claimed.form {
        Form::Header => canonical::canonical_query(&query),
        Form::Presigned { .. } => {
            canonical::canonical_query(query.iter().filter(|p| p.key != b"X-Amz-Signature"))
        }
    };
    let canonical_request = CanonicalParts {
        method: request.method,
        uri: &canonical::canonical_uri(request.path),
        query: &canonical_query,
        headers: request.headers,
        signed_headers: &signed_headers,
        payload_hash: &payload_hash,
    }
    .render();
    let scope = format!("{date}/{region}/{service}/{TERMINATOR}");
    let string_to_sign = canonical::string_to_sign(&claimed.timestamp, &scope, &canonical_request);
    let key = canonical::signing_key(&secret, date, region, service);
    let provided = canonical::unhex(&claimed.signature).unwrap_or_default();
    if hmac::verify(&key, string_to_sign.as_bytes(), &provided).is_err() {
        return Err(VerifyError::SignatureDoesNotMatch {
            canonical_request: String::from_utf8_lossy(&canonical_request).into_owned(),
            string_to_sign,
        });
    }

    Ok(Identity {
        access_key_id: access_key_id.to_owned(),
        scope: CredentialScope {
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
        },
        session_token: claimed.session_token,
        signed_at: claimed.signed_at,
        form: claimed.form,
    })
}

/// The first value of a header, as text (bytes beyond ASCII read as Latin-1).
fn header(headers: &[(&str, &[u8])], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, value)| value.iter().map(|&b| char::from(b)).collect())
}

/// The first value of a query parameter, decoded (bytes beyond UTF-8 replaced).
fn param(query: &[QueryParam], name: &str) -> Option<String> {
    query
        .iter()
        .find(|p| p.key == name.as_bytes())
        .map(|p| String::from_utf8_lossy(&p.value).into_owned())
}

/// `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`: the algorithm is the
/// first word; the rest is `key=value` pairs separated by commas or whitespace, the last of a
/// repeated key winning.
fn from_header(value: String, headers: &[(&str, &[u8])]) -> Result<Claimed, VerifyError> {
    let trimmed = value.trim();
    let (algorithm, rest) = trimmed
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((trimmed, ""));
    let mut pairs: HashMap<&str, &str> = HashMap::new();
    for piece in rest
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|piece| !piece.is_empty())
    {
        let Some((key, value)) = piece.split_once('=') else {
            return Err(VerifyError::MalformedAuthorization {
                header: trimmed.to_owned(),
                pair: piece.to_owned(),
            });
        };
        pairs.insert(key, value);
    }
    let get = |key: &str| pairs.get(key).copied().filter(|v| !v.is_empty());
    let credential = get("Credential");
    let signature = get("Signature");
    let signed_headers = get("SignedHeaders");
    let amz_date = header(headers, "x-amz-date");
    let date = amz_date.clone().or_else(|| header(headers, "date"));

    let mut missing = Vec::new();
    for (part, present) in [
        (Missing::Credential, credential.is_some()),
        (Missing::Signature, signature.is_some()),
        (Missing::SignedHeaders, signed_headers.is_some()),
        (Missing::Date, date.is_some()),
    ] {
        if !present {
            missing.push(part);
        }
    }
    let (Some(credential), Some(signature), Some(signed_headers), Some(date)) =
        (credential, signature, signed_headers, date)
    else {
        return Err(VerifyError::IncompleteAuthorization {
            missing,
            algorithm: algorithm.to_owned(),
        });
    };

    // `X-Amz-Date` must be ISO 8601 basic; a `Date` header may also be an HTTP date, and the
    // string to sign then carries it in basic format, as clients sign it.
    let signed_at = time::parse_amz_date(date.trim())
        .or_else(|| {
            amz_date
                .is_none()
                .then(|| time::parse_http_date(&date))
                .flatten()
        })
        .ok_or_else(|| VerifyError::InvalidDate {
            value: date.clone(),
        })?;
    Ok(Claimed {
        form: Form::Header,
        algorithm: algorithm.to_owned(),
        credential: credential.to_owned(),
        signed_headers: signed_headers.to_owned(),
        signature: signature.to_owned(),
        timestamp: time::format_amz_date(signed_at),
        signed_at,
        session_token: header(headers, "x-amz-security-token"),
    })
}

/// `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-SignedHeaders`,
/// `X-Amz-Signature` and optionally `X-Amz-Expires` and `X-Amz-Security-Token`, first values.
fn from_query(algorithm: &str, query: &[QueryParam]) -> Result<Claimed, VerifyError> {
    if algorithm != ALGORITHM {
        return Err(VerifyError::MissingAuthenticationToken);
    }
    let get = |name| param(query, name).filter(|v| !v.is_empty());
    let credential = get("X-Amz-Credential");
    let signature = get("X-Amz-Signature");
    let signed_headers = get("X-Amz-SignedHeaders");
    let date = get("X-Amz-Date");
    let mut missing = Vec::new();
    for (part, present) in [
        (Missing::Credential, credential.is_some()),
        (Missing::Signature, signature.is_some()),
        (Missing::SignedHeaders, signed_headers.is_some()),
        (Missing::Date, date.is_some()),
    ] {
        if !present {
            missing.push(part);
        }
    }
    let (Some(credential), Some(signature), Some(signed_headers), Some(date)) =
        (credential, signature, signed_headers, date)
    else {
        return Err(VerifyError::IncompleteQuery { missing });
    };
    let signed_at = time::parse_amz_date(&date).ok_or_else(|| VerifyError::InvalidDate {
        value: date.clone(),
    })?;
    let expires = match param(query, "X-Amz-Expires") {
        None => None,
        Some(value) => {
            let seconds = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
                value.parse::<u64>().ok()
            } else {
                None
            };
            let seconds = seconds.ok_or(VerifyError::InvalidExpires { value })?;
            if seconds > u64::from(MAX_EXPIRES) {
                return Err(VerifyError::ExpiresTooLong { expires: seconds });
            }
            Some(seconds)
        }
    };
    Ok(Claimed {
        form: Form::Presigned { expires },
        algorithm: algorithm.to_owned(),
        credential,
        signed_headers,
        signature,
        timestamp: date,
        signed_at,
        session_token: param(query, "X-Amz-Security-Token"),
    })
}

/// Header form and presigned URLs without `X-Amz-Expires`: within five minutes of `now`.
/// Presigned URLs: from five minutes before `X-Amz-Date` to `X-Amz-Expires` after it.
fn check_time(claimed: &Claimed, now: i64) -> Result<(), VerifyError> {
    let signed_at = claimed.signed_at;
    if signed_at > now.saturating_add(MAX_SKEW) {
        return Err(VerifyError::NotYetCurrent { signed_at, now });
    }
    match claimed.form {
        Form::Presigned {
            expires: Some(expires),
        } => {
            if now.saturating_sub_unsigned(expires) > signed_at {
                return Err(VerifyError::PresignedExpired {
                    signed_at,
                    expires,
                    now,
                });
            }
        }
        _ => {
            if signed_at < now.saturating_sub(MAX_SKEW) {
                return Err(VerifyError::Expired { signed_at, now });
            }
        }
    }
    Ok(())
}

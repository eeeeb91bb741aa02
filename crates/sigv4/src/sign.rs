//! Signing outgoing requests, as botocore signs them: the `Authorization` header form
//! (`SigV4Auth`) and presigned URLs (`SigV4QueryAuth`).

use std::fmt;

use crate::canonical::{
    self, ALGORITHM, CanonicalParts, TERMINATOR, UNSIGNED_HEADERS, UNSIGNED_PAYLOAD,
};
use crate::time;

/// An access key: its id, its secret, and the session token of temporary credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Who signs, for which region and service, and when.
#[derive(Debug, Clone, Copy)]
pub struct SigningParams<'a> {
    pub credentials: &'a Credentials,
    pub region: &'a str,
    pub service: &'a str,
    /// Seconds since the Unix epoch; the signature is valid from this moment.
    pub time: i64,
}

/// What the signature covers of the body.
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    /// The body; it is hashed.
    Bytes(&'a [u8]),
    /// The body's SHA-256, lowercase hex, computed by the caller.
    Sha256(&'a str),
    /// The body is not signed: `UNSIGNED-PAYLOAD` is signed instead and sent as
    /// `X-Amz-Content-SHA256` (botocore with `payload_signing_enabled = False`).
    Unsigned,
}

/// A request about to be sent.
#[derive(Debug, Clone, Copy)]
pub struct OutgoingRequest<'a> {
    /// Signed in uppercase, as botocore does; send it in uppercase.
    pub method: &'a str,
    /// `scheme://authority/path?query`, with path and query already percent-encoded as they
    /// will go on the wire. A fragment is ignored.
    pub url: &'a str,
    /// The headers that will be sent, in order; a name may repeat. Every one of them is signed
    /// except botocore's hop-by-hop list (`Connection`, `User-Agent`, `Expect`, ...). Without a
    /// `Host` header, the URL's host is signed (lowercase, without userinfo or the scheme's
    /// default port), which is what HTTP clients send.
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: Payload<'a>,
}

/// Why a request could not be signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignError {
    /// The URL has no `scheme://host`, or its port is not a number.
    InvalidUrl(String),
    /// The time is before 1970 or after 9999.
    TimeOutOfRange(i64),
    /// A presigned URL lives from 1 second to 7 days (604800 seconds).
    ExpiresOutOfRange(u32),
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::InvalidUrl(url) => {
                write!(f, "cannot sign a request to {url:?}: not an absolute URL")
            }
            SignError::TimeOutOfRange(t) => write!(f, "cannot sign at {t}: outside 1970-9999"),
            SignError::ExpiresOutOfRange(e) => {
                write!(
                    f,
                    "a presigned URL expires after 1 to 604800 seconds, not {e}"
                )
            }
        }
    }
}

impl std::error::Error for SignError {}

/// The longest a presigned URL may live: seven days.
pub const MAX_EXPIRES: u32 = 604_800;

/// Signs `request` for the `Authorization` header form. Returns the headers to set, each
/// replacing any header of the same name: `X-Amz-Date` (or `Date`, rewritten, when the request
/// carries a `Date` header), `X-Amz-Security-Token` with session credentials,
/// `X-Amz-Content-SHA256: UNSIGNED-PAYLOAD` for [`Payload::Unsigned`], and `Authorization`.
///
/// Like botocore for every service but S3, no `X-Amz-Content-SHA256` is added for a signed
/// body; a caller-supplied `X-Amz-Content-SHA256` header is signed as the payload hash.
pub fn sign(
    request: &OutgoingRequest<'_>,
    params: &SigningParams<'_>,
) -> Result<Vec<(&'static str, String)>, SignError> {
    let url = Url::parse(request.url)?;
    let timestamp = timestamp(params.time)?;

    // The request as it will be sent: botocore drops a stale Authorization, replaces the date
    // (`Date` if the request has one, else `X-Amz-Date`), the session token and, for an
    // unsigned body, the payload hash header.
    let mut added: Vec<(&'static str, String)> = Vec::with_capacity(4);
    let has_date = request.headers.iter().any(|(n, _)| is("date", n));
    if has_date {
        added.push(("Date", time::format_botocore_date(params.time)));
    } else {
        added.push(("X-Amz-Date", timestamp.clone()));
    }
    if let Some(token) = &params.credentials.session_token {
        added.push(("X-Amz-Security-Token", token.clone()));
    }
    if matches!(request.payload, Payload::Unsigned) {
        added.push(("X-Amz-Content-SHA256", UNSIGNED_PAYLOAD.to_owned()));
    }
    let mut sent: Vec<(&str, &str)> = request
        .headers
        .iter()
        .copied()
        .filter(|(name, _)| {
            !is("authorization", name)
                && !is("x-amz-date", name)
                && !added.iter().any(|(a, _)| is(a, name))
        })
        .collect();
    sent.extend(added.iter().map(|(n, v)| (*n, v.as_str())));

    let host = url.host_header();
    if !sent.iter().any(|(n, _)| is("host", n)) {
        sent.push(("host", &host));
    }
    let signed_headers = signed_header_names(&sent);
    let payload_hash = payload_hash(&sent, request.payload);
    let canonical_query = canonical::canonical_query(&canonical::parse_query(url.query));
    let (signature, scope) = sign_parts(
        params,
        &timestamp,
        &CanonicalParts {
            method: &request.method.to_ascii_uppercase(),
            uri: &canonical::canonical_uri(url.path),
            query: &canonical_query,
            headers: &sent,
            signed_headers: &signed_headers,
            payload_hash: &payload_hash,
        },
    );
    added.push((
        "Authorization",
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
            params.credentials.access_key_id,
            signed_headers.join(";"),
        ),
    ));
    Ok(added)
}

/// Presigns `request`: returns its URL with `X-Amz-Algorithm`, `X-Amz-Credential`,
/// `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Security-Token` (with session
/// credentials) and `X-Amz-Signature` appended to the query, valid for `expires_in` seconds
/// from `params.time`. The request's headers are signed and must be sent with the URL.
pub fn presign(
    request: &OutgoingRequest<'_>,
    params: &SigningParams<'_>,
    expires_in: u32,
) -> Result<String, SignError> {
    if !(1..=MAX_EXPIRES).contains(&expires_in) {
        return Err(SignError::ExpiresOutOfRange(expires_in));
    }
    let url = Url::parse(request.url)?;
    let timestamp = timestamp(params.time)?;
    let host = url.host_header();
    let mut sent: Vec<(&str, &str)> = request
        .headers
        .iter()
        .copied()
        .filter(|(name, _)| !is("authorization", name))
        .collect();
    if !sent.iter().any(|(n, _)| is("host", n)) {
        sent.push(("host", &host));
    }
    let signed_headers = signed_header_names(&sent);

    let scope = scope(&timestamp, params);
    let mut auth: Vec<(&str, String)> = vec![
        ("X-Amz-Algorithm", ALGORITHM.to_owned()),
        (
            "X-Amz-Credential",
            format!("{}/{scope}", params.credentials.access_key_id),
        ),
        ("X-Amz-Date", timestamp.clone()),
        ("X-Amz-Expires", expires_in.to_string()),
        ("X-Amz-SignedHeaders", signed_headers.join(";")),
    ];
    if let Some(token) = &params.credentials.session_token {
        auth.push(("X-Amz-Security-Token", token.clone()));
    }
    let mut query = canonical::parse_query(url.query);
    query.extend(auth.iter().map(|(k, v)| canonical::QueryParam {
        key: k.as_bytes().to_vec(),
        value: v.as_bytes().to_vec(),
    }));

    // The operation's parameters first, then the signature's, each re-encoded (botocore's
    // `percent_encode_sequence`), and the signature last.
    let mut out = String::with_capacity(request.url.len() + 256);
    out.push_str(url.before_query);
    out.push('?');
    for (i, param) in query.iter().enumerate() {
        let (key, value) = param.encoded();
        if i > 0 {
            out.push('&');
        }
        out.push_str(&key);
        out.push('=');
        out.push_str(&value);
    }

    let payload_hash = match request.payload {
        Payload::Unsigned => UNSIGNED_PAYLOAD.to_owned(),
        payload => payload_hash(&sent, payload),
    };
    let (signature, _) = sign_parts(
        params,
        &timestamp,
        &CanonicalParts {
            method: &request.method.to_ascii_uppercase(),
            uri: &canonical::canonical_uri(url.path),
            query: &canonical::canonical_query(&query),
            headers: &sent,
            signed_headers: &signed_headers,
            payload_hash: &payload_hash,
        },
    );
    out.push_str("&X-Amz-Signature=");
    out.push_str(&signature);
    Ok(out)
}

fn is(lowercase: &str, name: &str) -> bool {
    name.trim().eq_ignore_ascii_case(lowercase)
}

fn timestamp(time: i64) -> Result<String, SignError> {
    if (0..=time::MAX_TIME).contains(&time) {
        Ok(time::format_amz_date(time))
    } else {
        Err(SignError::TimeOutOfRange(time))
    }
}

fn scope(timestamp: &str, params: &SigningParams<'_>) -> String {
    format!(
        "{}/{}/{}/{TERMINATOR}",
        &timestamp[..8],
        params.region,
        params.service
    )
}

/// Every header name, lowercased, but the ones botocore leaves unsigned; sorted, unique.
fn signed_header_names(headers: &[(&str, &str)]) -> Vec<String> {
    let mut names: Vec<String> = headers
        .iter()
        .map(|(n, _)| n.trim().to_ascii_lowercase())
        .filter(|n| !UNSIGNED_HEADERS.contains(&n.as_str()))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// An `X-Amz-Content-SHA256` header is the payload hash (botocore uses the first one);
/// otherwise the body's hash.
fn payload_hash(headers: &[(&str, &str)], payload: Payload<'_>) -> String {
    if let Some((_, declared)) = headers.iter().find(|(n, _)| is("x-amz-content-sha256", n)) {
        return (*declared).to_owned();
    }
    match payload {
        Payload::Bytes(body) => canonical::sha256_hex(body),
        Payload::Sha256(hash) => hash.to_owned(),
        Payload::Unsigned => UNSIGNED_PAYLOAD.to_owned(),
    }
}

/// Returns the signature and the credential scope.
fn sign_parts(
    params: &SigningParams<'_>,
    timestamp: &str,
    parts: &CanonicalParts<'_, &str>,
) -> (String, String) {
    let scope = scope(timestamp, params);
    let string_to_sign = canonical::string_to_sign(timestamp, &scope, &parts.render());
    let key = canonical::signing_key(
        &params.credentials.secret_access_key,
        &timestamp[..8],
        params.region,
        params.service,
    );
    (canonical::signature(&key, &string_to_sign), scope)
}

/// The parts of an absolute URL that signing needs (Python's `urlsplit`, simplified).
struct Url<'a> {
    scheme: &'a str,
    host: String,
    port: Option<u16>,
    path: &'a str,
    query: &'a str,
    /// `scheme://authority/path`, as given.
    before_query: &'a str,
}

impl<'a> Url<'a> {
    fn parse(url: &'a str) -> Result<Url<'a>, SignError> {
        let invalid = || SignError::InvalidUrl(url.to_owned());
        let without_fragment = url.split_once('#').map_or(url, |(u, _)| u);
        let (scheme, rest) = without_fragment.split_once("://").ok_or_else(invalid)?;
        if scheme.is_empty()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return Err(invalid());
        }
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path_and_query) = rest.split_at(authority_end);
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (host, port) = if host_port.starts_with('[') {
            let close = host_port.find(']').ok_or_else(invalid)?;
            (
                &host_port[..=close],
                host_port[close + 1..].strip_prefix(':'),
            )
        } else {
            match host_port.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            }
        };
        if host.is_empty() || host == "[]" {
            return Err(invalid());
        }
        let port = match port {
            None | Some("") => None,
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => {
                Some(p.parse::<u16>().map_err(|_| invalid())?)
            }
            Some(_) => return Err(invalid()),
        };
        let before_query_len = without_fragment.len() - path_and_query.len() + path.len();
        Ok(Url {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            path,
            query,
            before_query: &without_fragment[..before_query_len],
        })
    }

    /// `host[:port]`, the port only when it is not the scheme's default (botocore's
    /// `_host_from_url`).
    fn host_header(&self) -> String {
        let default_port = match self.scheme.to_ascii_lowercase().as_str() {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        };
        match self.port {
            Some(port) if Some(port) != default_port => format!("{}:{port}", self.host),
            _ => self.host.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_like_urlsplit() {
        let url = Url::parse("https://user:pw@Example.COM:8443/a/b?x=1&y#frag").unwrap();
        assert_eq!(url.host_header(), "example.com:8443");
        assert_eq!(url.path, "/a/b");
        assert_eq!(url.query, "x=1&y");
        assert_eq!(url.before_query, "https://user:pw@Example.COM:8443/a/b");

        let url = Url::parse("https://h.example:443").unwrap();
        assert_eq!(
            (url.host_header().as_str(), url.path, url.query),
            ("h.example", "", "")
        );
        let url = Url::parse("http://[::1]:80/x").unwrap();
        assert_eq!(url.host_header(), "[::1]");
        let url = Url::parse("http://[::1]:8080?q").unwrap();
        assert_eq!(
            (url.host_header().as_str(), url.path, url.query),
            ("[::1]:8080", "", "q")
        );
        let url = Url::parse("ws://h:80/").unwrap();
        assert_eq!(url.host_header(), "h:80");

        for bad in [
            "",
            "/path",
            "https://",
            "https://:80/",
            "https://h:x/",
            "https://h:70000/",
            "://h/",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn refuses_what_cannot_be_signed() {
        let credentials = Credentials {
            access_key_id: "AKID".into(),
            secret_access_key: "secret".into(),
            session_token: None,
        };
        let request = OutgoingRequest {
            method: "GET",
            url: "https://h/",
            headers: &[],
            payload: Payload::Bytes(b""),
        };
        let at = |time| SigningParams {
            credentials: &credentials,
            region: "us-east-1",
            service: "execute-api",
            time,
        };
        assert_eq!(sign(&request, &at(-1)), Err(SignError::TimeOutOfRange(-1)));
        assert_eq!(
            presign(&request, &at(0), 0),
            Err(SignError::ExpiresOutOfRange(0))
        );
        assert_eq!(
            presign(&request, &at(0), MAX_EXPIRES + 1),
            Err(SignError::ExpiresOutOfRange(MAX_EXPIRES + 1))
        );
        assert!(presign(&request, &at(0), MAX_EXPIRES).is_ok());
    }

    #[test]
    fn credentials_debug_hides_secrets() {
        let credentials = Credentials {
            access_key_id: "AKID".into(),
            secret_access_key: "secret".into(),
            session_token: Some("token".into()),
        };
        let shown = format!("{credentials:?}");
        assert!(
            shown.contains("AKID") && !shown.contains("secret\"") && !shown.contains("token\"")
        );
    }
}

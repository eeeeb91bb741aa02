//! The canonical request and everything that goes into it, shared by signing and
//! verification so the two cannot drift apart: URI encoding, path normalization, the canonical
//! query string, header values, the string to sign and the derived signing key.

use ring::{digest, hmac};

/// The only algorithm SigV4 defines.
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The credential scope's last element.
pub(crate) const TERMINATOR: &str = "aws4_request";
/// The payload hash a client writes when it does not sign the body.
pub(crate) const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Headers botocore never signs (`botocore.auth.SIGNED_HEADERS_BLACKLIST`): hop-by-hop headers
/// a proxy may rewrite, and the ones an HTTP client or tracer adds after signing.
pub(crate) const UNSIGNED_HEADERS: &[&str] = &[
    "baggage",
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "traceparent",
    "tracestate",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "x-amzn-trace-id",
];

const HEX: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// Lowercase hex only, as SigV4 writes signatures.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

/// RFC 3986 percent-encoding as SigV4 wants it: everything but `A-Z a-z 0-9 - _ . ~` (and `/`
/// when `keep_slash`) becomes `%XX` with uppercase hex, byte by byte (UTF-8 for text).
pub(crate) fn uri_encode(out: &mut String, bytes: &[u8], keep_slash: bool) {
    for &b in bytes {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
            out.push(char::from(HEX_UPPER[usize::from(b & 0xf)]));
        }
    }
}

/// Decodes `%XX` escapes; anything else, a malformed escape included, is kept as it is. `+` is
/// a plus sign, not a space: SigV4 clients encode spaces as `%20`.
pub(crate) fn percent_decode(s: &str) -> Vec<u8> {
    fn value(c: u8) -> Option<u8> {
        char::from(c).to_digit(16).map(|d| d as u8)
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                b.get(i + 1).copied().and_then(value),
                b.get(i + 2).copied().and_then(value),
            )
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// RFC 3986 §5.2.4 dot-segment removal plus the collapsing of empty segments AWS services
/// expect (`botocore.utils.remove_dot_segments`): `/a/./b/../c//d/` → `/a/c/d/`.
fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment),
        }
    }
    let mut out = String::with_capacity(path.len());
    if path.starts_with('/') {
        out.push('/');
    }
    out.push_str(&segments.join("/"));
    if path.ends_with('/') && !segments.is_empty() {
        out.push('/');
    }
    out
}

/// The canonical URI of a non-S3 service: the path as it appears on the wire (still
/// percent-encoded), normalized, then encoded once more — so `%20` is signed as `%2520`. That
/// second encoding is what botocore (and every AWS SDK outside S3) does.
pub(crate) fn canonical_uri(raw_path: &str) -> String {
    let normalized = if raw_path.is_empty() {
        "/".to_owned()
    } else {
        normalize_path(raw_path)
    };
    let mut out = String::with_capacity(normalized.len() + 8);
    uri_encode(&mut out, normalized.as_bytes(), true);
    out
}

/// One query parameter, decoded.
#[derive(Debug, Clone)]
pub(crate) struct QueryParam {
    pub(crate) key: Vec<u8>,
    pub(crate) value: Vec<u8>,
}

impl QueryParam {
    pub(crate) fn encoded(&self) -> (String, String) {
        let mut key = String::new();
        let mut value = String::new();
        uri_encode(&mut key, &self.key, false);
        uri_encode(&mut value, &self.value, false);
        (key, value)
    }
}

/// Splits a raw query string (no `?`) into decoded parameters, in order. A piece without `=` is
/// a key with an empty value; empty pieces (`a=1&&b=2`, a trailing `&`) are not parameters.
pub(crate) fn parse_query(raw: &str) -> Vec<QueryParam> {
    raw.split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
            QueryParam {
                key: percent_decode(key),
                value: percent_decode(value),
            }
        })
        .collect()
}

/// The canonical query string: every parameter re-encoded, sorted by encoded key and then by
/// encoded value, `key=value` joined with `&`.
pub(crate) fn canonical_query<'a>(params: impl IntoIterator<Item = &'a QueryParam>) -> String {
    let mut pairs: Vec<(String, String)> = params.into_iter().map(QueryParam::encoded).collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// Python's `str.split()` whitespace, in ASCII.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1f)
}

/// SigV4's `Trimall`: leading and trailing whitespace removed, runs of whitespace inside
/// collapsed to one space (inside quotes too, as botocore does).
pub(crate) fn trim_all(out: &mut Vec<u8>, value: &[u8]) {
    let mut words = value.split(|&b| is_space(b)).filter(|w| !w.is_empty());
    if let Some(first) = words.next() {
        out.extend_from_slice(first);
        for word in words {
            out.push(b' ');
            out.extend_from_slice(word);
        }
    }
}

/// What a canonical request is made of. `signed_headers` are lowercase, sorted and unique;
/// `headers` are every header of the request (any case, in order); a signed header missing from
/// them contributes no line, which no honest signer produces, so the signature will not match.
pub(crate) struct CanonicalParts<'a, V> {
    pub(crate) method: &'a str,
    pub(crate) uri: &'a str,
    pub(crate) query: &'a str,
    pub(crate) headers: &'a [(&'a str, V)],
    pub(crate) signed_headers: &'a [String],
    pub(crate) payload_hash: &'a str,
}

impl<V: AsRef<[u8]>> CanonicalParts<'_, V> {
    /// `METHOD \n URI \n QUERY \n name:value\n... \n signed;headers \n payload-hash`. Bytes,
    /// since header values need not be UTF-8.
    pub(crate) fn render(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(self.method.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(self.uri.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(self.query.as_bytes());
        out.push(b'\n');
        for name in self.signed_headers {
            let mut values = self
                .headers
                .iter()
                .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
                .peekable();
            if values.peek().is_none() {
                continue;
            }
            out.extend_from_slice(name.as_bytes());
            out.push(b':');
            for (i, (_, value)) in values.enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                trim_all(&mut out, value.as_ref());
            }
            out.push(b'\n');
        }
        out.push(b'\n');
        out.extend_from_slice(self.signed_headers.join(";").as_bytes());
        out.push(b'\n');
        out.extend_from_slice(self.payload_hash.as_bytes());
        out
    }
}

/// `AWS4-HMAC-SHA256 \n timestamp \n date/region/service/aws4_request \n hex(sha256(canonical))`.
pub(crate) fn string_to_sign(timestamp: &str, scope: &str, canonical_request: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{scope}\n{}",
        sha256_hex(canonical_request)
    )
}

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub(crate) fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> hmac::Key {
    let mut key = hmac::Key::new(hmac::HMAC_SHA256, format!("AWS4{secret}").as_bytes());
    for part in [date, region, service, TERMINATOR] {
        let tag = hmac::sign(&key, part.as_bytes());
        key = hmac::Key::new(hmac::HMAC_SHA256, tag.as_ref());
    }
    key
}

/// The signature, lowercase hex.
pub(crate) fn signature(key: &hmac::Key, string_to_sign: &str) -> String {
    hex(hmac::sign(key, string_to_sign.as_bytes()).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized_like_botocore() {
        for (raw, canonical) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("/a/./b/../c/.", "/a/c"),
            ("/a/b/", "/a/b/"),
            ("/../..", "/"),
            ("/prod//pets///1", "/prod/pets/1"),
            ("/a%20b", "/a%2520b"),
            ("/a%2Fb", "/a%252Fb"),
            ("/caf\u{e9}", "/caf%C3%A9"),
            (
                "/a!$'()*+,;=:@~_.-z",
                "/a%21%24%27%28%29%2A%2B%2C%3B%3D%3A%40~_.-z",
            ),
            ("relative/./x", "relative/x"),
        ] {
            assert_eq!(canonical_uri(raw), canonical, "{raw:?}");
        }
    }

    #[test]
    fn query_is_decoded_reencoded_and_sorted() {
        let canonical = |raw: &str| canonical_query(&parse_query(raw));
        assert_eq!(canonical("b=2&a=3&a=1&c=&a=10"), "a=1&a=10&a=3&b=2&c=");
        assert_eq!(canonical("flag&empty=&z=1"), "empty=&flag=&z=1");
        assert_eq!(canonical("a=1&&b=2&"), "a=1&b=2");
        assert_eq!(canonical("q=%7e%2a%zz+"), "q=~%2A%25zz%2B");
        assert_eq!(canonical("k=a=b"), "k=a%3Db");
        assert_eq!(canonical(""), "");
    }

    #[test]
    fn header_values_are_trimmed_and_collapsed() {
        let trimmed = |v: &str| {
            let mut out = Vec::new();
            trim_all(&mut out, v.as_bytes());
            String::from_utf8(out).unwrap()
        };
        assert_eq!(trimmed("  a   b\t\tc  "), "a b c");
        assert_eq!(trimmed("a  \"b    c\"   d"), "a \"b c\" d");
        assert_eq!(trimmed(""), "");
        assert_eq!(trimmed(" \t "), "");
    }

    #[test]
    fn signing_key_matches_aws_documentation() {
        // The example in AWS's "Create a signature" documentation.
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830",
            "us-east-1",
            "iam",
        );
        let sts = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\nf536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59";
        assert_eq!(
            signature(&key, sts),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(hex(&[0, 1, 0xab, 0xff]), "0001abff");
        assert_eq!(unhex("0001abff"), Some(vec![0, 1, 0xab, 0xff]));
        assert_eq!(unhex("ABFF"), None);
        assert_eq!(unhex("abc"), None);
    }
}

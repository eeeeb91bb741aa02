//! Golden vectors from botocore (`vectors.json`, made by `gen_vectors.py`): signing each case
//! must give botocore's request exactly, and the verifier must accept each botocore-signed
//! request and refuse it after any one-byte change to what the signature covers, or outside
//! its time window.

use base64::Engine as _;
use portico_sigv4::{
    Body, Credentials, Form, IncomingRequest, OutgoingRequest, Payload, SigningParams, VerifyError,
    VerifyOptions, presign, sign, verify,
};
use serde_json::Value;

struct Case {
    name: String,
    presigned: bool,
    service: String,
    region: String,
    time: i64,
    credentials: Credentials,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    unsigned_payload: bool,
    expires: u32,
    expected_url: Option<String>,
    expected_headers: Vec<(String, String)>,
    canonical_request: String,
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_owned(),
                p[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn cases() -> Vec<Case> {
    let vectors: Value = serde_json::from_str(include_str!("vectors.json")).unwrap();
    vectors["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_owned();
            Case {
                name: s("name"),
                presigned: c["form"] == "presigned",
                service: s("service"),
                region: s("region"),
                time: c["time"].as_i64().unwrap(),
                credentials: Credentials {
                    access_key_id: c["credentials"]["access_key_id"].as_str().unwrap().into(),
                    secret_access_key: c["credentials"]["secret_access_key"]
                        .as_str()
                        .unwrap()
                        .into(),
                    session_token: c["credentials"]["session_token"].as_str().map(Into::into),
                },
                method: s("method"),
                url: s("url"),
                headers: pairs(&c["headers"]),
                body: base64::engine::general_purpose::STANDARD
                    .decode(c["body_base64"].as_str().unwrap())
                    .unwrap(),
                unsigned_payload: c["unsigned_payload"].as_bool().unwrap(),
                expires: c["expires"].as_u64().unwrap_or(0) as u32,
                expected_url: c["expected_url"].as_str().map(Into::into),
                expected_headers: pairs(&c["expected_headers"]),
                canonical_request: s("canonical_request"),
            }
        })
        .collect()
}

impl Case {
    fn params(&self) -> SigningParams<'_> {
        SigningParams {
            credentials: &self.credentials,
            region: &self.region,
            service: &self.service,
            time: self.time,
        }
    }

    /// The request botocore sent: its path and query, and every header including the Host
    /// its HTTP client adds (taken from botocore's canonical request).
    fn received(&self) -> Received {
        let url = self.expected_url.as_deref().unwrap_or(&self.url);
        let after_scheme = &url[url.find("://").unwrap() + 3..];
        let path_and_query = &after_scheme[after_scheme.find('/').unwrap_or(after_scheme.len())..];
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let mut headers: Vec<(String, Vec<u8>)> = self
            .expected_headers
            .iter()
            .map(|(n, v)| (n.clone(), v.clone().into_bytes()))
            .collect();
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            let host = self
                .canonical_request
                .lines()
                .find_map(|line| line.strip_prefix("host:"))
                .unwrap();
            headers.push(("Host".into(), host.as_bytes().to_vec()));
        }
        Received {
            method: self.method.to_ascii_uppercase(),
            path: if path.is_empty() {
                "/".into()
            } else {
                path.into()
            },
            query: query.into(),
            headers,
            body: self.body.clone(),
        }
    }

    fn options(&self, now: i64) -> VerifyOptions<'_> {
        VerifyOptions {
            service: &self.service,
            region: Some(&self.region),
            now,
            allow_unsigned_payload: self.unsigned_payload,
        }
    }

    fn signed_header_names(&self) -> Vec<String> {
        let list = match &self.expected_url {
            Some(url) => {
                let start = url.find("X-Amz-SignedHeaders=").unwrap() + 20;
                url[start..].split('&').next().unwrap().replace("%3B", ";")
            }
            None => {
                let auth = &self.expected_headers.last().unwrap().1;
                let start = auth.find("SignedHeaders=").unwrap() + 14;
                auth[start..].split(',').next().unwrap().to_owned()
            }
        };
        list.split(';').map(str::to_owned).collect()
    }
}

#[derive(Clone)]
struct Received {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Received {
    fn verify(&self, case: &Case, now: i64) -> Result<portico_sigv4::Identity, VerifyError> {
        let headers: Vec<(&str, &[u8])> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        let key = case.credentials.access_key_id.clone();
        let secret = case.credentials.secret_access_key.clone();
        verify(
            &IncomingRequest {
                method: &self.method,
                path: &self.path,
                query: &self.query,
                headers: &headers,
                body: Body::Bytes(&self.body),
            },
            &case.options(now),
            &move |id: &str| (id == key).then(|| secret.clone()),
        )
    }
}

#[test]
fn vectors_cover_what_the_brief_asks() {
    let cases = cases();
    assert!(cases.len() >= 30);
    assert!(cases.iter().any(|c| c.presigned));
    assert!(cases.iter().any(|c| c.service == "lambda"));
    assert!(cases.iter().any(|c| c.service == "execute-api"));
    assert!(cases.iter().any(|c| c.credentials.session_token.is_some()));
    assert!(cases.iter().any(|c| c.unsigned_payload));
}

#[test]
fn signing_matches_botocore() {
    for case in cases() {
        let headers: Vec<(&str, &str)> = case
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let request = OutgoingRequest {
            method: &case.method,
            url: &case.url,
            headers: &headers,
            payload: if case.unsigned_payload {
                Payload::Unsigned
            } else {
                Payload::Bytes(&case.body)
            },
        };
        if case.presigned {
            let url = presign(&request, &case.params(), case.expires).unwrap();
            assert_eq!(Some(&url), case.expected_url.as_ref(), "{}", case.name);
        } else {
            let set = sign(&request, &case.params()).unwrap();
            // Apply them as an HTTP client would: each replaces headers of its name, and
            // botocore also drops a stale X-Amz-Date.
            let mut sent: Vec<(String, String)> = case
                .headers
                .iter()
                .filter(|(n, _)| {
                    !n.eq_ignore_ascii_case("x-amz-date")
                        && !set.iter().any(|(s, _)| s.eq_ignore_ascii_case(n))
                })
                .cloned()
                .collect();
            sent.extend(set.iter().map(|(n, v)| ((*n).to_owned(), v.clone())));
            assert_eq!(sent, case.expected_headers, "{}", case.name);
        }
    }
}

#[test]
fn signing_a_precomputed_hash_matches_signing_the_body() {
    for case in cases()
        .into_iter()
        .filter(|c| !c.presigned && !c.unsigned_payload)
    {
        let headers: Vec<(&str, &str)> = case
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let hash = ring::digest::digest(&ring::digest::SHA256, &case.body);
        let hex: String = hash.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        let request = |payload| OutgoingRequest {
            method: &case.method,
            url: &case.url,
            headers: &headers,
            payload,
        };
        assert_eq!(
            sign(&request(Payload::Sha256(&hex)), &case.params()),
            sign(&request(Payload::Bytes(&case.body)), &case.params()),
            "{}",
            case.name
        );
    }
}

#[test]
fn verifier_accepts_every_botocore_request() {
    for case in cases() {
        let identity = case
            .received()
            .verify(&case, case.time + 1)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(identity.access_key_id, case.credentials.access_key_id);
        assert_eq!(identity.scope.region, case.region);
        assert_eq!(identity.scope.service, case.service);
        assert_eq!(identity.session_token, case.credentials.session_token);
        assert_eq!(identity.signed_at, case.time);
        assert_eq!(
            identity.form,
            if case.presigned {
                Form::Presigned {
                    expires: Some(u64::from(case.expires)),
                }
            } else {
                Form::Header
            }
        );
    }
}

/// Replaces the byte at `i` with another of the same class, so the change stays one byte and
/// keeps the request well-formed.
fn mutate(s: &str, i: usize) -> String {
    let mut bytes = s.as_bytes().to_vec();
    bytes[i] = match bytes[i] {
        b'0'..=b'8' | b'a'..=b'y' | b'A'..=b'Y' => bytes[i] + 1,
        b'9' => b'0',
        b'z' => b'a',
        b'Z' => b'A',
        other => panic!("not mutable: {other}"),
    };
    String::from_utf8(bytes).unwrap()
}

/// Positions of letters and digits that are not the hex digits of a `%XX` escape (changing an
/// escape's case would be the same request).
fn mutable_positions(s: &str) -> Vec<usize> {
    let b = s.as_bytes();
    (0..b.len())
        .filter(|&i| b[i].is_ascii_alphanumeric())
        .filter(|&i| (i < 1 || b[i - 1] != b'%') && (i < 2 || b[i - 2] != b'%'))
        .collect()
}

fn assert_refused(case: &Case, received: &Received, what: &str) {
    if let Ok(identity) = received.verify(case, case.time + 1) {
        panic!(
            "{}: accepted after changing {what}: {identity:?}",
            case.name
        );
    }
}

#[test]
fn verifier_refuses_any_one_byte_change() {
    for case in cases() {
        let original = case.received();

        let mut r = original.clone();
        r.method = mutate(&r.method, 0);
        assert_refused(&case, &r, "the method");

        // Every letter and digit of the path, but in a segment that `..` removes.
        let segments: Vec<&str> = original.path.split('/').collect();
        let mut offset = 0;
        for (n, segment) in segments.iter().enumerate() {
            if segments.get(n + 1) != Some(&"..") {
                for i in mutable_positions(segment) {
                    let mut r = original.clone();
                    r.path = mutate(&original.path, offset + i);
                    assert_refused(&case, &r, &format!("path byte {}", offset + i));
                }
            }
            offset += segment.len() + 1;
        }

        for i in mutable_positions(&original.query) {
            let mut r = original.clone();
            r.query = mutate(&original.query, i);
            assert_refused(&case, &r, &format!("query byte {i} ({})", r.query));
        }
        let mut r = original.clone();
        r.query
            .push_str(if r.query.is_empty() { "x" } else { "&x" });
        assert_refused(&case, &r, "the query (a parameter added)");

        for name in case.signed_header_names() {
            let (index, value) = original
                .headers
                .iter()
                .enumerate()
                .find(|(_, (n, _))| n.eq_ignore_ascii_case(&name))
                .map(|(i, (_, v))| (i, String::from_utf8(v.clone()).unwrap()))
                .unwrap();
            let mut changed = Vec::new();
            for i in mutable_positions(&value) {
                changed.push(mutate(&value, i));
            }
            changed.push(format!("{value}x"));
            for new in changed {
                let mut r = original.clone();
                r.headers[index].1 = new.clone().into_bytes();
                assert_refused(&case, &r, &format!("header {name}: {new:?}"));
            }
        }

        // The body, unless the client chose not to sign it.
        let mut r = original.clone();
        match r.body.first_mut() {
            Some(b) => *b ^= 1,
            None => r.body.push(b'x'),
        }
        if case.unsigned_payload {
            assert!(r.verify(&case, case.time).is_ok(), "{}", case.name);
        } else {
            assert_refused(&case, &r, "the body");
        }

        // Every hex digit of the signature.
        let (index, value, start) = match &case.expected_url {
            Some(_) => {
                let start = original.query.find("X-Amz-Signature=").unwrap() + 16;
                (None, original.query.clone(), start)
            }
            None => {
                let i = original
                    .headers
                    .iter()
                    .position(|(n, _)| n == "Authorization")
                    .unwrap();
                let value = String::from_utf8(original.headers[i].1.clone()).unwrap();
                let start = value.find("Signature=").unwrap() + 10;
                (Some(i), value, start)
            }
        };
        for i in start..start + 64 {
            let changed = mutate(&value, i);
            let mut r = original.clone();
            match index {
                Some(h) => r.headers[h].1 = changed.into_bytes(),
                None => r.query = changed,
            }
            assert_refused(&case, &r, &format!("signature digit {}", i - start));
        }
    }
}

#[test]
fn verifier_keeps_the_time_window() {
    for case in cases() {
        let r = case.received();
        let t = case.time;
        assert!(r.verify(&case, t - 300).is_ok(), "{}", case.name);
        assert!(
            matches!(
                r.verify(&case, t - 301),
                Err(VerifyError::NotYetCurrent { .. })
            ),
            "{}",
            case.name
        );
        if case.presigned {
            let end = t + i64::from(case.expires);
            assert!(r.verify(&case, end).is_ok(), "{}", case.name);
            assert!(
                matches!(
                    r.verify(&case, end + 1),
                    Err(VerifyError::PresignedExpired { .. })
                ),
                "{}",
                case.name
            );
        } else {
            assert!(r.verify(&case, t + 300).is_ok(), "{}", case.name);
            let late = r.verify(&case, t + 301).unwrap_err();
            assert!(matches!(late, VerifyError::Expired { .. }), "{}", case.name);
            assert!(late.message().starts_with("Signature expired: "));
        }
    }
}

#[test]
fn unsigned_payload_only_where_the_caller_allows_it() {
    for case in cases().into_iter().filter(|c| c.unsigned_payload) {
        let r = case.received();
        let headers: Vec<(&str, &[u8])> = r
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        let secret = case.credentials.secret_access_key.clone();
        let refused = verify(
            &IncomingRequest {
                method: &r.method,
                path: &r.path,
                query: &r.query,
                headers: &headers,
                body: Body::Bytes(&r.body),
            },
            &VerifyOptions {
                allow_unsigned_payload: false,
                ..case.options(case.time)
            },
            &move |_: &str| Some(secret.clone()),
        );
        assert!(
            matches!(refused, Err(VerifyError::SignatureDoesNotMatch { .. })),
            "{}: {refused:?}",
            case.name
        );
    }
}

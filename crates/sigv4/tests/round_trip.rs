//! Random requests, signed and then verified as the server would receive them, must verify
//! with the signer's identity; with one signature digit changed they must not. A tiny
//! deterministic PRNG (SplitMix64) makes every run the same.

use portico_sigv4::{
    Body, Credentials, Form, IncomingRequest, MAX_EXPIRES, OutgoingRequest, Payload, SigningParams,
    VerifyError, VerifyOptions, presign, sign, verify,
};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// Text drawn from `alphabet`, `0..max` characters.
    fn text(&mut self, alphabet: &[&str], max: usize) -> String {
        let len = self.below(max);
        (0..len).map(|_| self.pick(alphabet)).collect()
    }
}

/// Characters for paths, query keys and values: unreserved, reserved, spaces, `%`, non-ASCII.
const URL_CHARS: &[&str] = &[
    "a",
    "b",
    "Z",
    "0",
    "9",
    "-",
    "_",
    ".",
    "~",
    " ",
    "!",
    "$",
    "&",
    "'",
    "(",
    ")",
    "*",
    "+",
    ",",
    ";",
    "=",
    ":",
    "@",
    "/",
    "?",
    "#",
    "%",
    "\u{e9}",
    "\u{65e5}",
    "\u{1f600}",
    "\"",
    "<",
];
const HEADER_NAME_CHARS: &[&str] = &["a", "b", "x", "Y", "-", "0", "_"];
const HEADER_VALUE_CHARS: &[&str] = &["a", "B", "7", " ", " ", "\t", "\"", ",", ";", "=", "/", "~"];

/// botocore's `percent_encode`: everything but unreserved characters (and `safe`).
fn encode(s: &str, safe: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || safe.as_bytes().contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct Generated {
    method: String,
    url: String,
    path: String,
    query: String,
    host: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    credentials: Credentials,
    region: &'static str,
    service: &'static str,
    time: i64,
    payload: u8,
}

fn generate(rng: &mut Rng) -> Generated {
    let method = rng
        .pick(&["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
        .to_string();
    let (scheme, host, port) = rng.pick(&[
        ("https", "abc123.execute-api.us-east-1.amazonaws.com", ""),
        ("https", "lambda.eu-west-1.amazonaws.com", ":443"),
        ("http", "localhost", ":9001"),
        ("http", "127.0.0.1", ":80"),
        ("http", "[::1]", ":8080"),
    ]);
    let host_header = match port {
        ":443" | ":80" => host.to_owned(),
        _ => format!("{host}{port}"),
    };

    // Segments are encoded (one of them sometimes left raw, or a dot segment), joined by /.
    let mut path = String::new();
    for _ in 0..rng.below(6) {
        path.push('/');
        match rng.below(10) {
            0 => path.push_str(rng.pick(&[".", "..", ""])),
            1 => path.push_str(&rng.text(
                &[
                    "a", "!", "$", "'", "(", ")", "*", "+", ",", ";", "=", ":", "@",
                ],
                6,
            )),
            _ => {
                let segment = rng.text(URL_CHARS, 8);
                path.push_str(&encode(&segment, ""));
            }
        }
    }
    if rng.chance(20) {
        path.push('/');
    }

    let mut params: Vec<(String, String)> = Vec::new();
    for _ in 0..rng.below(5) {
        let key = if rng.chance(30) && !params.is_empty() {
            params[rng.below(params.len())].0.clone()
        } else {
            rng.text(URL_CHARS, 6)
        };
        params.push((key, rng.text(URL_CHARS, 8)));
    }
    let query = params
        .iter()
        .map(|(k, v)| {
            if v.is_empty() && rng.chance(50) {
                encode(k, "")
            } else {
                format!("{}={}", encode(k, ""), encode(v, ""))
            }
        })
        .collect::<Vec<_>>()
        .join("&");

    let mut headers: Vec<(String, String)> = Vec::new();
    for _ in 0..rng.below(5) {
        let name = if rng.chance(20) && !headers.is_empty() {
            headers[rng.below(headers.len())].0.to_ascii_uppercase()
        } else if rng.chance(15) {
            rng.pick(&[
                "User-Agent",
                "Connection",
                "Content-Type",
                "X-Amzn-Trace-Id",
                "Accept",
            ])
            .to_string()
        } else {
            format!("x-{}", rng.text(HEADER_NAME_CHARS, 8))
        };
        headers.push((name, rng.text(HEADER_VALUE_CHARS, 12)));
    }

    let body: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
    let url = if query.is_empty() {
        format!("{scheme}://{host}{port}{path}")
    } else {
        format!("{scheme}://{host}{port}{path}?{query}")
    };
    Generated {
        method,
        url,
        path,
        query,
        host: host_header,
        headers,
        body,
        credentials: Credentials {
            access_key_id: format!("AKID{}", rng.next() % 1_000_000),
            secret_access_key: rng.text(&["a", "Z", "0", "/", "+"], 40),
            session_token: rng
                .chance(30)
                .then(|| rng.text(&["a", "Z", "0", "/", "+", "="], 60)),
        },
        region: rng.pick(&["us-east-1", "eu-west-1", "ap-southeast-2"]),
        service: rng.pick(&["execute-api", "lambda", "apigateway"]),
        time: (rng.next() % 253_402_300_000) as i64,
        payload: rng.below(3) as u8,
    }
}

#[test]
fn random_requests_sign_then_verify() {
    let mut rng = Rng(0x5157_4e34_2024);
    for iteration in 0..3000 {
        let g = generate(&mut rng);
        let hash: String = ring::digest::digest(&ring::digest::SHA256, &g.body)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let headers: Vec<(&str, &str)> = g
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let presigned = rng.chance(30);
        let payload = match (g.payload, presigned) {
            (0, _) | (2, true) => Payload::Bytes(&g.body),
            (1, _) => Payload::Sha256(&hash),
            _ => Payload::Unsigned,
        };
        let request = OutgoingRequest {
            method: &g.method,
            url: &g.url,
            headers: &headers,
            payload,
        };
        let params = SigningParams {
            credentials: &g.credentials,
            region: g.region,
            service: g.service,
            time: g.time,
        };

        // What the server receives.
        let mut received: Vec<(String, String)> = g.headers.clone();
        let (query, expires) = if presigned {
            let expires = 1 + rng.below(MAX_EXPIRES as usize) as u32;
            let url = presign(&request, &params, expires).unwrap();
            let query = url.split_once('?').unwrap().1.to_owned();
            (query, Some(expires))
        } else {
            let set = sign(&request, &params).unwrap();
            received.retain(|(n, _)| !set.iter().any(|(s, _)| s.eq_ignore_ascii_case(n)));
            received.extend(set.into_iter().map(|(n, v)| (n.to_owned(), v)));
            (g.query.clone(), None)
        };
        received.push(("Host".into(), g.host.clone()));
        let received: Vec<(&str, &[u8])> = received
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .collect();

        let window = expires.map_or(300, i64::from);
        let now = g.time - 300 + rng.below((window + 301) as usize) as i64;
        let path = if g.path.is_empty() { "/" } else { &g.path };
        let secret = g.credentials.secret_access_key.clone();
        let key = g.credentials.access_key_id.clone();
        let check = |query: &str, body: &[u8]| {
            verify(
                &IncomingRequest {
                    method: &g.method,
                    path,
                    query,
                    headers: &received,
                    body: Body::Bytes(body),
                },
                &VerifyOptions {
                    service: g.service,
                    region: Some(g.region),
                    now,
                    allow_unsigned_payload: true,
                },
                &|id: &str| (id == key).then(|| secret.clone()),
            )
        };
        let identity = check(&query, &g.body).unwrap_or_else(|e| {
            panic!(
                "iteration {iteration}: {} {} {:?}: {e}",
                g.method, g.url, g.headers
            )
        });
        assert_eq!(identity.access_key_id, g.credentials.access_key_id);
        assert_eq!(identity.scope.region, g.region);
        assert_eq!(identity.scope.service, g.service);
        assert_eq!(identity.session_token, g.credentials.session_token);
        assert_eq!(identity.signed_at, g.time);
        assert_eq!(
            identity.form,
            match expires {
                Some(e) => Form::Presigned {
                    expires: Some(u64::from(e))
                },
                None => Form::Header,
            }
        );

        // A changed body fails unless the client declared it unsigned.
        let mut other = g.body.clone();
        other.push(0);
        let changed = check(&query, &other);
        if matches!(payload, Payload::Unsigned) {
            assert!(changed.is_ok(), "iteration {iteration}");
        } else {
            assert!(
                matches!(changed, Err(VerifyError::SignatureDoesNotMatch { .. })),
                "iteration {iteration}: {changed:?}"
            );
        }
        if presigned {
            let tampered = if query.ends_with('0') {
                format!("{}1", &query[..query.len() - 1])
            } else {
                format!("{}0", &query[..query.len() - 1])
            };
            assert!(
                matches!(
                    check(&tampered, &g.body),
                    Err(VerifyError::SignatureDoesNotMatch { .. })
                ),
                "iteration {iteration}"
            );
        }
    }
}

/// Fragments a hostile client might send where the verifier parses.
const GARBAGE: &[&str] = &[
    "AWS4-HMAC-SHA256",
    " ",
    ",",
    "=",
    "/",
    ";",
    "Credential=",
    "SignedHeaders=",
    "Signature=",
    "AKID",
    "20240115",
    "20240115T123456Z",
    "99991231T235959Z",
    "00000000T000000Z",
    "us-east-1",
    "execute-api",
    "aws4_request",
    "host",
    "x-amz-date",
    "%",
    "%2",
    "%zz",
    "\u{e9}",
    "\t",
    "&",
    "X-Amz-Algorithm=",
    "X-Amz-Credential=",
    "X-Amz-Date=",
    "X-Amz-Expires=",
    "-1",
    "18446744073709551616",
    "604800",
    "X-Amz-SignedHeaders=",
    "X-Amz-Signature=",
    "0",
    "f",
];

#[test]
fn garbage_never_panics() {
    let mut rng = Rng(7);
    for _ in 0..20_000 {
        let authorization = rng.text(GARBAGE, 12);
        let query = rng.text(GARBAGE, 12);
        let date = rng.text(GARBAGE, 3);
        let mut headers: Vec<(&str, &[u8])> = vec![("host", b"h")];
        if rng.chance(70) {
            headers.push(("Authorization", authorization.as_bytes()));
        }
        if rng.chance(70) {
            headers.push((
                if rng.chance(50) { "X-Amz-Date" } else { "Date" },
                date.as_bytes(),
            ));
        }
        let now = match rng.below(4) {
            0 => i64::MIN,
            1 => i64::MAX,
            _ => 1_705_322_096,
        };
        let result = verify(
            &IncomingRequest {
                method: "GET",
                path: "/",
                query: &query,
                headers: &headers,
                body: Body::Bytes(b""),
            },
            &VerifyOptions {
                service: "execute-api",
                region: None,
                now,
                allow_unsigned_payload: rng.chance(50),
            },
            &|_: &str| Some("secret".to_owned()),
        );
        if let Err(e) = result {
            let _ = (e.message(), e.kind());
        }
    }
}

//! Each way verification fails, in AWS's order, with AWS's message.

use portico_sigv4::{
    Body, Credentials, ErrorKind, IncomingRequest, Missing, OutgoingRequest, Payload,
    SigningParams, VerifyError, VerifyOptions, presign, sign, verify,
};

const T: i64 = 1_705_322_096; // 20240115T123456Z
const HOST: &str = "abc123.execute-api.us-east-1.amazonaws.com";

fn credentials() -> Credentials {
    Credentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        session_token: None,
    }
}

/// A request to `/prod/pets?a=1` as received: `Host`, the signed headers, any `extra`.
fn signed_headers(region: &str, service: &str) -> Vec<(String, String)> {
    let credentials = credentials();
    let set = sign(
        &OutgoingRequest {
            method: "GET",
            url: &format!("https://{HOST}/prod/pets?a=1"),
            headers: &[],
            payload: Payload::Bytes(b""),
        },
        &SigningParams {
            credentials: &credentials,
            region,
            service,
            time: T,
        },
    )
    .unwrap();
    let mut headers = vec![("Host".to_owned(), HOST.to_owned())];
    headers.extend(set.into_iter().map(|(n, v)| (n.to_owned(), v)));
    headers
}

fn check(
    query: &str,
    headers: &[(String, String)],
) -> Result<portico_sigv4::Identity, VerifyError> {
    let headers: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    verify(
        &IncomingRequest {
            method: "GET",
            path: "/prod/pets",
            query,
            headers: &headers,
            body: Body::Bytes(b""),
        },
        &VerifyOptions {
            service: "execute-api",
            region: Some("us-east-1"),
            now: T,
            allow_unsigned_payload: false,
        },
        &|key: &str| (key == "AKIDEXAMPLE").then(|| credentials().secret_access_key),
    )
}

fn with_authorization(value: &str) -> Vec<(String, String)> {
    signed_headers("us-east-1", "execute-api")
        .into_iter()
        .map(|(n, v)| {
            if n == "Authorization" {
                (n, value.to_owned())
            } else {
                (n, v)
            }
        })
        .collect()
}

fn authorization() -> String {
    signed_headers("us-east-1", "execute-api")
        .into_iter()
        .find(|(n, _)| n == "Authorization")
        .unwrap()
        .1
}

fn hashed(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .encode(ring::digest::digest(&ring::digest::SHA256, s.as_bytes()))
}

#[test]
fn a_signed_request_verifies() {
    let identity = check("a=1", &signed_headers("us-east-1", "execute-api")).unwrap();
    assert_eq!(identity.access_key_id, "AKIDEXAMPLE");
    assert_eq!(identity.scope.date, "20240115");
}

#[test]
fn no_signature_is_a_missing_authentication_token() {
    let e = check("a=1", &[("Host".into(), HOST.into())]).unwrap_err();
    assert_eq!(e, VerifyError::MissingAuthenticationToken);
    assert_eq!(e.message(), "Missing Authentication Token");
    assert_eq!(e.kind(), ErrorKind::MissingAuthenticationToken);
    assert_eq!(e.kind().error_type(), "MissingAuthenticationTokenException");

    // A query naming another algorithm is no SigV4 signature either.
    let e = check(
        "X-Amz-Algorithm=AWS4-HMAC-SHA512",
        &[("Host".into(), HOST.into())],
    );
    assert_eq!(e.unwrap_err(), VerifyError::MissingAuthenticationToken);
}

#[test]
fn both_forms_at_once_are_refused() {
    let e = check(
        "a=1&X-Amz-Algorithm=AWS4-HMAC-SHA256",
        &signed_headers("us-east-1", "execute-api"),
    )
    .unwrap_err();
    assert_eq!(
        e.message(),
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
    );
}

#[test]
fn a_bearer_token_is_not_a_key_value_pair() {
    let e = check(
        "a=1",
        &with_authorization("Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"),
    )
    .unwrap_err();
    assert_eq!(
        e,
        VerifyError::MalformedAuthorization {
            header: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig".into(),
            pair: "eyJhbGciOiJIUzI1NiJ9.e30.sig".into(),
        }
    );
    assert_eq!(
        e.message(),
        format!(
            "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '{}'.",
            hashed("Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig")
        )
    );
    assert_eq!(e.kind(), ErrorKind::IncompleteSignature);
}

#[test]
fn an_incomplete_header_lists_what_is_missing() {
    let e = check("a=1", &with_authorization("allow")).unwrap_err();
    assert_eq!(
        e,
        VerifyError::IncompleteAuthorization {
            missing: vec![
                Missing::Credential,
                Missing::Signature,
                Missing::SignedHeaders
            ],
            algorithm: "allow".into(),
        }
    );
    assert!(e.message().starts_with(
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. (Hashed with SHA-256 and encoded with Base64) Authorization="
    ));

    // No date at all.
    let headers: Vec<(String, String)> = signed_headers("us-east-1", "execute-api")
        .into_iter()
        .filter(|(n, _)| n != "X-Amz-Date")
        .collect();
    let e = check("a=1", &headers).unwrap_err();
    assert_eq!(
        e,
        VerifyError::IncompleteAuthorization {
            missing: vec![Missing::Date],
            algorithm: "AWS4-HMAC-SHA256".into(),
        }
    );
}

#[test]
fn separators_may_be_commas_or_spaces() {
    let compact = authorization().replace(", ", ",");
    assert!(check("a=1", &with_authorization(&compact)).is_ok());
    let spaced = authorization().replace(", ", " ,  ");
    assert!(check("a=1", &with_authorization(&spaced)).is_ok());
}

#[test]
fn a_malformed_date_is_refused() {
    let mut headers = signed_headers("us-east-1", "execute-api");
    headers
        .iter_mut()
        .find(|(n, _)| n == "X-Amz-Date")
        .unwrap()
        .1 = "2024-01-15T12:34:56Z".into();
    let e = check("a=1", &headers).unwrap_err();
    assert_eq!(
        e.message(),
        "Date must be in ISO-8601 'basic format'. Got '2024-01-15T12:34:56Z'. See http://en.wikipedia.org/wiki/ISO_8601"
    );
}

#[test]
fn host_must_be_signed() {
    let auth = authorization().replace("SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date");
    let e = check("a=1", &with_authorization(&auth)).unwrap_err();
    assert_eq!(e, VerifyError::HostNotSigned);
    assert_eq!(
        e.message(),
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
    );
}

#[test]
fn only_aws4_hmac_sha256() {
    let auth = authorization().replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA25");
    let e = check("a=1", &with_authorization(&auth)).unwrap_err();
    assert_eq!(
        e.message(),
        "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA25' (only AWS4-HMAC-SHA256 for now). "
    );
}

#[test]
fn a_credential_has_five_parts() {
    let auth = authorization().replace("/aws4_request", "");
    let e = check("a=1", &with_authorization(&auth)).unwrap_err();
    assert_eq!(
        e.message(),
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20240115/us-east-1/execute-api'"
    );
    // Trailing slashes are ignored (the credential is not itself signed; its scope is).
    let auth = authorization().replace("/aws4_request", "/aws4_request//");
    assert!(check("a=1", &with_authorization(&auth)).is_ok());
}

#[test]
fn the_scope_must_be_this_region_service_and_day() {
    let e = check("a=1", &signed_headers("eu-west-1", "lambda")).unwrap_err();
    assert_eq!(
        e.message(),
        "Credential should be scoped to a valid region. Credential should be scoped to correct service: 'execute-api'. "
    );
    assert_eq!(e.kind(), ErrorKind::InvalidSignature);

    let auth = authorization().replace("/20240115/", "/20240114/");
    let e = check("a=1", &with_authorization(&auth)).unwrap_err();
    assert_eq!(
        e.message(),
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20240114' != '20240115', from '20240115T123456Z'."
    );

    let auth = authorization().replace("/aws4_request", "/aws5_request");
    let e = check("a=1", &with_authorization(&auth)).unwrap_err();
    assert_eq!(
        e.message(),
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. "
    );
}

#[test]
fn any_region_when_the_caller_does_not_care() {
    let headers = signed_headers("eu-west-1", "execute-api");
    let headers: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    let identity = verify(
        &IncomingRequest {
            method: "GET",
            path: "/prod/pets",
            query: "a=1",
            headers: &headers,
            body: Body::Bytes(b""),
        },
        &VerifyOptions {
            service: "execute-api",
            region: None,
            now: T,
            allow_unsigned_payload: false,
        },
        &|_: &str| Some(credentials().secret_access_key),
    )
    .unwrap();
    assert_eq!(identity.scope.region, "eu-west-1");
}

#[test]
fn an_unknown_access_key_is_an_invalid_security_token() {
    let auth = authorization().replace("AKIDEXAMPLE", "AKIDOTHER");
    let e = check("a=1", &with_authorization(&auth)).unwrap_err();
    assert_eq!(
        e,
        VerifyError::UnknownAccessKey {
            access_key_id: "AKIDOTHER".into()
        }
    );
    assert_eq!(
        e.message(),
        "The security token included in the request is invalid."
    );
    assert_eq!(e.kind().error_type(), "UnrecognizedClientException");
}

#[test]
fn a_mismatch_shows_the_canonical_request() {
    let e = check("a=2", &signed_headers("us-east-1", "execute-api")).unwrap_err();
    assert_eq!(
        e.message(),
        format!(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'GET\n/prod/pets\na=2\nhost:{HOST}\nx-amz-date:20240115T123456Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20240115T123456Z\n20240115/us-east-1/execute-api/aws4_request\n{}'\n",
            match &e {
                VerifyError::SignatureDoesNotMatch { string_to_sign, .. } =>
                    string_to_sign.rsplit('\n').next().unwrap().to_owned(),
                _ => unreachable!(),
            }
        )
    );
    // A signature in uppercase hex, or not hex at all, does not match either.
    let upper = authorization();
    let at = upper.find("Signature=").unwrap() + 10;
    let upper = format!("{}{}", &upper[..at], upper[at..].to_ascii_uppercase());
    assert!(matches!(
        check("a=1", &with_authorization(&upper)),
        Err(VerifyError::SignatureDoesNotMatch { .. })
    ));
}

#[test]
fn a_declared_payload_hash_must_be_the_bodys() {
    let credentials = credentials();
    let declared = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"; // "test"
    let set = sign(
        &OutgoingRequest {
            method: "PUT",
            url: &format!("https://{HOST}/prod/pets"),
            headers: &[("X-Amz-Content-Sha256", declared)],
            payload: Payload::Bytes(b"other"),
        },
        &SigningParams {
            credentials: &credentials,
            region: "us-east-1",
            service: "execute-api",
            time: T,
        },
    )
    .unwrap();
    let mut headers: Vec<(&str, &[u8])> = vec![
        ("host", HOST.as_bytes()),
        ("x-amz-content-sha256", declared.as_bytes()),
    ];
    headers.extend(set.iter().map(|(n, v)| (*n, v.as_bytes())));
    let verify_body = |body: &[u8]| {
        verify(
            &IncomingRequest {
                method: "PUT",
                path: "/prod/pets",
                query: "",
                headers: &headers,
                body: Body::Bytes(body),
            },
            &VerifyOptions {
                service: "execute-api",
                region: Some("us-east-1"),
                now: T,
                allow_unsigned_payload: true,
            },
            &|_: &str| Some(credentials.secret_access_key.clone()),
        )
    };
    assert!(verify_body(b"test").is_ok());
    assert!(matches!(
        verify_body(b"other"),
        Err(VerifyError::SignatureDoesNotMatch { .. })
    ));
}

fn presigned(expires: u32) -> String {
    let credentials = credentials();
    let url = presign(
        &OutgoingRequest {
            method: "GET",
            url: &format!("https://{HOST}/prod/pets?a=1"),
            headers: &[],
            payload: Payload::Bytes(b""),
        },
        &SigningParams {
            credentials: &credentials,
            region: "us-east-1",
            service: "execute-api",
            time: T,
        },
        expires,
    )
    .unwrap();
    url.split_once('?').unwrap().1.to_owned()
}

fn host_only() -> Vec<(String, String)> {
    vec![("Host".into(), HOST.into())]
}

#[test]
fn a_presigned_url_verifies_and_lists_missing_parameters() {
    let query = presigned(60);
    assert!(check(&query, &host_only()).is_ok());

    let without: String = query
        .split('&')
        .filter(|p| !p.starts_with("X-Amz-Signature=") && !p.starts_with("X-Amz-Date="))
        .collect::<Vec<_>>()
        .join("&");
    let e = check(&without, &host_only()).unwrap_err();
    assert_eq!(
        e.message(),
        "AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters."
    );
    assert_eq!(e.kind(), ErrorKind::IncompleteSignature);
}

#[test]
fn presigned_expiry_must_be_a_number_up_to_a_week() {
    let query = presigned(60);
    let e = check(
        &query.replace("X-Amz-Expires=60", "X-Amz-Expires=-1"),
        &host_only(),
    );
    assert_eq!(e.unwrap_err().message(), "X-Amz-Expires should be a number");
    let e = check(
        &query.replace("X-Amz-Expires=60", "X-Amz-Expires=604801"),
        &host_only(),
    );
    assert_eq!(
        e.unwrap_err().message(),
        "X-Amz-Expires must be less than a week (in seconds) that is 604800"
    );
}

#[test]
fn a_presigned_url_expires() {
    let query = presigned(60);
    let headers: Vec<(&str, &[u8])> = vec![("Host", HOST.as_bytes())];
    let at = |now| {
        verify(
            &IncomingRequest {
                method: "GET",
                path: "/prod/pets",
                query: &query,
                headers: &headers,
                body: Body::Bytes(b""),
            },
            &VerifyOptions {
                service: "execute-api",
                region: Some("us-east-1"),
                now,
                allow_unsigned_payload: false,
            },
            &|_: &str| Some(credentials().secret_access_key),
        )
    };
    assert!(at(T + 60).is_ok());
    let e = at(T + 61).unwrap_err();
    assert_eq!(
        e,
        VerifyError::PresignedExpired {
            signed_at: T,
            expires: 60,
            now: T + 61
        }
    );
    assert_eq!(
        e.message(),
        "Signature expired: 20240115T123456Z is now earlier than 20240115T123457Z (20240115T123557Z - 60 sec.)"
    );
    assert!(matches!(
        at(T - 301),
        Err(VerifyError::NotYetCurrent { .. })
    ));
}

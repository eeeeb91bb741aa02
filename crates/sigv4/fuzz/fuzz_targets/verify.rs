#![no_main]
//! Arbitrary requests through `verify`: the `Authorization` header parser, the presigned query,
//! dates, credential scopes and canonicalization must never panic, every refusal must have a
//! message, and only the one configured key can ever verify.
//!
//! Input: `METHOD TARGET\n` (TARGET is `path?query`), then `name: value` header lines, a blank
//! line, and the body. The seeds are requests botocore signed at 20240115T123456Z for
//! `AKIDEXAMPLE` (`gen_seeds.py`); the clock is fixed a few seconds later, so they
//! verify and the fuzzer starts from the accepting path.

use libfuzzer_sys::fuzz_target;
use portico_sigv4::{Body, IncomingRequest, VerifyOptions, verify};

const NOW: i64 = 1_705_322_100;

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let mut lines = head.split(|&b| b == b'\n');
    let Some(Ok(request_line)) = lines.next().map(std::str::from_utf8) else {
        return;
    };
    let (method, target) = request_line.split_once(' ').unwrap_or((request_line, "/"));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers: Vec<(&str, &[u8])> = lines
        .filter_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            let name = std::str::from_utf8(&line[..colon]).ok()?;
            let value = &line[colon + 1..];
            let value = value.strip_prefix(b" ").unwrap_or(value);
            Some((name, value))
        })
        .collect();
    let request = IncomingRequest {
        method,
        path,
        query,
        headers: &headers,
        body: Body::Bytes(body),
    };
    let secrets = |id: &str| {
        (id == "AKIDEXAMPLE").then(|| "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_string())
    };
    for (region, unsigned) in [(Some("us-east-1"), false), (None, true)] {
        let options = VerifyOptions {
            service: "execute-api",
            region,
            now: NOW,
            allow_unsigned_payload: unsigned,
        };
        match verify(&request, &options, &secrets) {
            Ok(identity) => {
                assert_eq!(identity.access_key_id, "AKIDEXAMPLE");
                assert_eq!(identity.scope.service, "execute-api");
            }
            Err(e) => {
                assert!(!e.message().is_empty());
                let _ = e.kind().error_type();
            }
        }
    }
});

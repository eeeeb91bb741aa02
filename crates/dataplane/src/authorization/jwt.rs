//! JSON Web Tokens as Cognito user pools issue them: the JWS compact form
//! (`header.payload.signature`, base64url without padding), signed RS256, checked against the
//! RSA keys of a JWKS document. Pure: no IO, no clock; `cognito` decides what the claims mean.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use serde_json::{Map, Value};

/// The longest token read. Cognito's are 1–4 KiB (groups and custom attributes make ID
/// tokens grow); anything far beyond is refused before decoding.
pub(crate) const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// A token whose parts decoded; its signature is not checked yet.
#[derive(Debug)]
pub(crate) struct Token<'a> {
    /// The header's `alg`.
    pub(crate) alg: String,
    /// The header's `kid`: which key of the issuer's JWKS signed it.
    pub(crate) kid: Option<String>,
    /// The payload, a JSON object.
    pub(crate) claims: Map<String, Value>,
    /// `header.payload` as received: what the signature covers.
    signing_input: &'a str,
    signature: Vec<u8>,
}

/// Why a token could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed(pub(crate) &'static str);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed token: {}", self.0)
    }
}

/// Splits and decodes a compact JWS. Checks only the shape: three base64url parts, a JSON
/// object header with a string `alg`, a JSON object payload.
pub(crate) fn decode(token: &str) -> Result<Token<'_>, Malformed> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Malformed("longer than 16 KiB"));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Malformed("not three dot-separated parts"));
    };
    let header = object(header).ok_or(Malformed("the header is not base64url JSON"))?;
    let claims = object(payload).ok_or(Malformed("the payload is not base64url JSON"))?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| Malformed("the signature is not base64url"))?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(Malformed("the header has no alg"))?
        .to_string();
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .map(str::to_string);
    // Three parts were found, so there is a last dot: the signature follows it.
    let signed_len = token.rfind('.').unwrap_or(0);
    Ok(Token {
        alg,
        kid,
        claims,
        signing_input: &token[..signed_len],
        signature,
    })
}

fn object(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

impl Token<'_> {
    /// Whether `key` signed this token with RS256 (RSASSA-PKCS1-v1_5, SHA-256). Any other
    /// `alg` never verifies: `none` and HMAC are what forged tokens claim.
    pub(crate) fn verify(&self, key: &PublicKey) -> bool {
        if self.alg != "RS256" {
            return false;
        }
        let components = RsaPublicKeyComponents {
            n: &key.n[..],
            e: &key.e[..],
        };
        components
            .verify(
                &RSA_PKCS1_2048_8192_SHA256,
                self.signing_input.as_bytes(),
                &self.signature,
            )
            .is_ok()
    }

    /// A claim that is a number of seconds since the epoch (`exp`, `nbf`, `iat`).
    pub(crate) fn seconds(&self, claim: &str) -> Option<i64> {
        let v = self.claims.get(claim)?;
        v.as_i64().or_else(|| v.as_f64().map(|f| f.floor() as i64))
    }

    pub(crate) fn string(&self, claim: &str) -> Option<&str> {
        self.claims.get(claim).and_then(Value::as_str)
    }
}

/// An RSA public key from a JWK (`kty: RSA`, `n`, `e`), big-endian without leading zeros.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct PublicKey {
    n: Vec<u8>,
    e: Vec<u8>,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey(RSA-{})", self.n.len() * 8)
    }
}

/// The signing keys of a JWKS document (`{"keys": [...]}`) by `kid`. Keys that cannot sign
/// RS256 tokens (another `kty`, `use` other than `sig`, `alg` other than `RS256`) and keys
/// without a `kid` are skipped; a document that is not a JWKS is an error.
pub(crate) fn parse_jwks(bytes: &[u8]) -> Result<HashMap<String, Arc<PublicKey>>, String> {
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the JWKS is not JSON: {e}"))?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("the JWKS has no keys array")?;
    let mut out = HashMap::new();
    for jwk in keys {
        let field = |name: &str| jwk.get(name).and_then(Value::as_str);
        if field("kty") != Some("RSA")
            || field("use").is_some_and(|u| u != "sig")
            || field("alg").is_some_and(|a| a != "RS256")
        {
            continue;
        }
        let (Some(kid), Some(n), Some(e)) = (field("kid"), field("n"), field("e")) else {
            continue;
        };
        let (Ok(n), Ok(e)) = (URL_SAFE_NO_PAD.decode(n), URL_SAFE_NO_PAD.decode(e)) else {
            continue;
        };
        out.insert(
            kid.to_string(),
            Arc::new(PublicKey {
                n: minimal(n),
                e: minimal(e),
            }),
        );
    }
    Ok(out)
}

/// ring reads integers in their minimal big-endian form.
fn minimal(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    bytes.drain(..zeros);
    bytes
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
    use serde_json::json;

    /// A test key pair (generated once with python `cryptography`): the private key, and its
    /// public half as a JWK with `kid`.
    pub(crate) fn test_key(which: u8) -> (RsaKeyPair, Value) {
        let text = match which {
            1 => include_str!("testdata/rsa-key1.json"),
            _ => include_str!("testdata/rsa-key2.json"),
        };
        let v: Value = serde_json::from_str(text).unwrap();
        let der = STANDARD.decode(v["pkcs8"].as_str().unwrap()).unwrap();
        let pair = RsaKeyPair::from_pkcs8(&der).unwrap();
        let jwk = json!({"kid": format!("kid-{which}"), "alg": "RS256", "kty": "RSA", "use": "sig",
                         "n": v["n"], "e": v["e"]});
        (pair, jwk)
    }

    /// A token signed by `key`, with `header` fields over the default `{"alg":"RS256"}`.
    pub(crate) fn mint(key: &RsaKeyPair, header: Value, claims: &Value) -> String {
        let mut h = json!({"alg": "RS256"});
        for (k, v) in header.as_object().unwrap() {
            h[k] = v.clone();
        }
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(h.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0; key.public().modulus_len()];
        key.sign(
            &RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            input.as_bytes(),
            &mut sig,
        )
        .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    fn jwks(keys: &[&Value]) -> HashMap<String, Arc<PublicKey>> {
        parse_jwks(json!({ "keys": keys }).to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_token_verifies_with_its_key_only() {
        let (k1, jwk1) = test_key(1);
        let (_, jwk2) = test_key(2);
        let keys = jwks(&[&jwk1, &jwk2]);
        let token = mint(&k1, json!({"kid": "kid-1"}), &json!({"sub": "u", "exp": 5}));
        let t = decode(&token).unwrap();
        assert_eq!(t.kid.as_deref(), Some("kid-1"));
        assert_eq!(t.string("sub"), Some("u"));
        assert_eq!(t.seconds("exp"), Some(5));
        assert!(t.verify(&keys["kid-1"]));
        assert!(!t.verify(&keys["kid-2"]));
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let (k1, jwk1) = test_key(1);
        let keys = jwks(&[&jwk1]);
        let token = mint(&k1, json!({"kid": "kid-1"}), &json!({"sub": "alice"}));
        let [h, p, s]: [&str; 3] = token.split('.').collect::<Vec<_>>().try_into().unwrap();
        // Another payload under the same header and signature.
        let forged_payload = URL_SAFE_NO_PAD.encode(json!({"sub": "admin"}).to_string());
        let forged = format!("{h}.{forged_payload}.{s}");
        assert!(!decode(&forged).unwrap().verify(&keys["kid-1"]));
        // One flipped signature byte.
        let mut sig = URL_SAFE_NO_PAD.decode(s).unwrap();
        sig[10] ^= 1;
        let flipped = format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(sig));
        assert!(!decode(&flipped).unwrap().verify(&keys["kid-1"]));
    }

    #[test]
    fn only_rs256_is_accepted() {
        let (k1, jwk1) = test_key(1);
        let keys = jwks(&[&jwk1]);
        // Correctly signed with the RSA key, but the header claims another algorithm.
        for alg in ["none", "HS256", "RS512"] {
            let token = mint(&k1, json!({"alg": alg, "kid": "kid-1"}), &json!({}));
            assert!(!decode(&token).unwrap().verify(&keys["kid-1"]), "{alg}");
        }
    }

    #[test]
    fn malformed_tokens_are_refused_with_a_reason() {
        let cases = [
            ("", "not three dot-separated parts"),
            ("a.b", "not three dot-separated parts"),
            ("a.b.c.d", "not three dot-separated parts"),
            ("!!.e30.", "the header is not base64url JSON"),
            ("e30.e30.", "the header has no alg"),
            (
                "eyJhbGciOiJSUzI1NiJ9.WzFd.",
                "the payload is not base64url JSON",
            ),
            (
                "eyJhbGciOiJSUzI1NiJ9.e30.***",
                "the signature is not base64url",
            ),
        ];
        for (token, why) in cases {
            assert_eq!(decode(token).unwrap_err(), Malformed(why), "{token:?}");
        }
        let long = format!("{}.e30.", "e".repeat(MAX_TOKEN_BYTES));
        assert_eq!(decode(&long).unwrap_err(), Malformed("longer than 16 KiB"));
        // A padded part is not base64url as JWS writes it.
        assert!(decode("eyJhbGciOiJSUzI1NiJ9.e30=.").is_err());
    }

    #[test]
    fn jwks_keeps_only_rs256_signing_keys_with_a_kid() {
        let (_, jwk) = test_key(1);
        let mut enc = jwk.clone();
        enc["use"] = json!("enc");
        enc["kid"] = json!("enc");
        let mut ec = json!({"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"});
        ec["use"] = json!("sig");
        let mut anonymous = jwk.clone();
        anonymous.as_object_mut().unwrap().remove("kid");
        let mut padded = jwk.clone();
        padded["kid"] = json!("padded");
        // A modulus with a leading zero byte is the same key.
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        padded["n"] = json!(URL_SAFE_NO_PAD.encode([&[0u8][..], &n].concat()));
        let keys = jwks(&[&jwk, &enc, &ec, &anonymous, &padded]);
        let mut kids: Vec<&str> = keys.keys().map(String::as_str).collect();
        kids.sort();
        assert_eq!(kids, ["kid-1", "padded"]);
        assert_eq!(keys["kid-1"], keys["padded"]);
        assert!(parse_jwks(b"[]").is_err());
        assert!(parse_jwks(b"not json").is_err());
    }
}

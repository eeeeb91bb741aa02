//! `COGNITO_USER_POOLS` authorizers: a JWT issued by one of the authorizer's user pools, in
//! the identity source header (raw, or after `Bearer `), RS256-signed by a key of the pool's
//! JWKS (`{issuer}/.well-known/jwks.json`), unexpired, and of the right kind: an ID token when
//! the method declares no OAuth scopes, an access token whose `scope` holds one of the
//! method's scopes when it does (AWS's rule). Anything else is `UNAUTHORIZED` (401
//! `{"message":"Unauthorized"}`); a pool whose keys cannot be fetched is
//! `AUTHORIZER_CONFIGURATION_ERROR`.
//!
//! The issuer of pool `P` in region `R` is AWS's `https://cognito-idp.R.amazonaws.com/P`, or
//! `{endpoint}/P` with `[cognito] endpoint` (a local Cognito emulator). Keys are cached per
//! pool; a token naming an unknown `kid` refetches the JWKS, at most once per
//! [`Jwks::refetch_interval`] per pool, within [`FETCH_TIMEOUT`] and [`MAX_JWKS_BYTES`].
//!
//! The claims reach `$context.authorizer.claims.*` and the Lambda event as AWS's REST APIs
//! pass them: every value a string, `exp`/`iat`/`nbf` as Java dates
//! (`Sun Dec 17 07:28:12 UTC 2017`), arrays as `[a b]`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use indexmap::IndexMap;
use portico_model::v1;
use regex::Regex;
use serde_json::{Map, Value};

use super::Authorized;
use super::jwt::{self, PublicKey};
use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;
use crate::server::DataPlane;

/// How long one JWKS fetch may take, connection included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest JWKS document read (Cognito's are about 1 KiB: two keys).
pub const MAX_JWKS_BYTES: usize = 64 * 1024;

/// The default of [`Jwks::refetch_interval`].
pub const DEFAULT_REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// A compiled Cognito authorizer.
#[derive(Debug)]
pub struct CognitoAuthorizer {
    pub id: String,
    pub name: String,
    pools: Vec<UserPool>,
    /// The identity source's header, lower case.
    header: String,
    /// `identityValidationExpression`: what the token's audience (`aud` of an ID token,
    /// `client_id` of an access token) must match, whole.
    audience: Option<Regex>,
}

/// A user pool of `providerARNs`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct UserPool {
    region: String,
    id: String,
}

impl UserPool {
    /// `arn:{partition}:cognito-idp:{region}:{account}:userpool/{poolId}`.
    fn from_arn(arn: &str) -> Option<UserPool> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let ["arn", _, "cognito-idp", region, _, resource] = parts[..] else {
            return None;
        };
        let id = resource.strip_prefix("userpool/")?;
        let valid = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        (valid(region) && valid(id)).then(|| UserPool {
            region: region.to_string(),
            id: id.to_string(),
        })
    }

    fn issuer(&self, endpoint: Option<&str>) -> String {
        match endpoint {
            Some(e) => format!("{}/{}", e.trim_end_matches('/'), self.id),
            None => format!(
                "https://cognito-idp.{}.amazonaws.com/{}",
                self.region, self.id
            ),
        }
    }
}

impl CognitoAuthorizer {
    /// Reads `providerARNs` (stage variables substituted from `vars`), `identitySource`
    /// (a request header; `Authorization` by default) and `identityValidationExpression`.
    pub fn compile(
        a: &v1::Authorizer,
        vars: &IndexMap<String, String>,
    ) -> Result<CognitoAuthorizer, String> {
        let mut pools = Vec::new();
        for arn in a.provider_ar_ns.iter().flatten() {
            let arn = crate::compile::substitute_stage_variables(arn, vars);
            let pool = UserPool::from_arn(&arn)
                .ok_or_else(|| format!("invalid Cognito user pool ARN {arn:?}"))?;
            if !pools.contains(&pool) {
                pools.push(pool);
            }
        }
        if pools.is_empty() {
            return Err("a Cognito authorizer without providerARNs".into());
        }
        let source = a
            .identity_source
            .as_deref()
            .unwrap_or("method.request.header.Authorization");
        let header = source
            .trim()
            .strip_prefix("method.request.header.")
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("identity source {source:?} is not a request header"))?
            .to_ascii_lowercase();
        let audience = match a.identity_validation_expression.as_deref() {
            Some(e) if !e.is_empty() => Some(
                Regex::new(&format!("^(?:{e})$"))
                    .map_err(|err| format!("invalid identityValidationExpression: {err}"))?,
            ),
            _ => None,
        };
        Ok(CognitoAuthorizer {
            id: a.id.clone().unwrap_or_default(),
            name: a.name.clone().unwrap_or_default(),
            pools,
            header,
            audience,
        })
    }
}

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// One pool's signing keys by `kid`.
type KeySet = HashMap<String, Arc<PublicKey>>;

/// The signing keys of the user pools, by issuer, fetched on first use and refetched when a
/// token names a key the cache lacks (pools rotate keys), rate-limited per pool. Only pools
/// of deployed authorizers are ever looked up, so the cache is bounded by the configuration.
pub struct Jwks {
    pools: Mutex<HashMap<String, Arc<PoolKeys>>>,
    client: OnceLock<HttpClient>,
    /// The least time between two fetches of one pool's JWKS.
    pub refetch_interval: Duration,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwks")
            .field("refetch_interval", &self.refetch_interval)
            .finish_non_exhaustive()
    }
}

impl Default for Jwks {
    fn default() -> Self {
        Jwks::new(DEFAULT_REFETCH_INTERVAL)
    }
}

#[derive(Default)]
struct PoolKeys {
    /// The keys of the last successful fetch (none yet: `None`).
    keys: RwLock<Option<Arc<KeySet>>>,
    /// When the JWKS was last fetched (successfully or not). The lock is held across a fetch,
    /// so requests missing the same key wait for one fetch rather than each making one.
    fetched: tokio::sync::Mutex<Option<Instant>>,
}

impl PoolKeys {
    fn get(&self, kid: &str) -> Option<Arc<PublicKey>> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.as_ref()?.get(kid).cloned()
    }

    fn loaded(&self) -> bool {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }
}

/// What the key cache says about a `kid`.
#[derive(Debug)]
enum Lookup {
    Key(Arc<PublicKey>),
    /// The pool's JWKS does not have it.
    Unknown,
    /// The pool's keys have never been fetched successfully.
    Unavailable(String),
}

impl Jwks {
    pub fn new(refetch_interval: Duration) -> Jwks {
        Jwks {
            pools: Mutex::default(),
            client: OnceLock::new(),
            refetch_interval,
        }
    }

    fn pool(&self, issuer: &str) -> Arc<PoolKeys> {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        pools.entry(issuer.to_string()).or_default().clone()
    }

    async fn key(&self, issuer: &str, kid: &str) -> Lookup {
        let pool = self.pool(issuer);
        if let Some(key) = pool.get(kid) {
            return Lookup::Key(key);
        }
        let mut fetched = pool.fetched.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(key) = pool.get(kid) {
            return Lookup::Key(key);
        }
        let recent = fetched.is_some_and(|at| at.elapsed() < self.refetch_interval);
        if !recent {
            *fetched = Some(Instant::now());
            match self.fetch(issuer).await {
                Ok(keys) => {
                    *pool.keys.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(keys));
                    if let Some(key) = pool.get(kid) {
                        return Lookup::Key(key);
                    }
                }
                Err(why) => {
                    tracing::warn!(issuer, error = %why, "could not fetch the user pool's JWKS");
                    if !pool.loaded() {
                        return Lookup::Unavailable(why);
                    }
                }
            }
        } else if !pool.loaded() {
            return Lookup::Unavailable(format!(
                "the last fetch of {issuer}'s JWKS failed less than {:?} ago",
                self.refetch_interval
            ));
        }
        Lookup::Unknown
    }

    async fn fetch(&self, issuer: &str) -> Result<KeySet, String> {
        let url = format!("{issuer}/.well-known/jwks.json");
        let client = self.client.get_or_init(|| {
            let https = hyper_rustls::HttpsConnectorBuilder::new()
                .with_webpki_roots()
                .https_or_http()
                .enable_http1()
                .build();
            Client::builder(TokioExecutor::new()).build(https)
        });
        let req = http::Request::get(&url)
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|e| format!("{url}: {e}"))?;
        let read = async {
            let resp = client
                .request(req)
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            if resp.status() != http::StatusCode::OK {
                return Err(format!("{url} answered {}", resp.status()));
            }
            Limited::new(resp.into_body(), MAX_JWKS_BYTES)
                .collect()
                .await
                .map(|b| b.to_bytes())
                .map_err(|e| format!("{url}: reading the body: {e}"))
        };
        let body = tokio::time::timeout(FETCH_TIMEOUT, read)
            .await
            .map_err(|_| format!("{url} did not answer within {FETCH_TIMEOUT:?}"))??;
        jwt::parse_jwks(&body).map_err(|e| format!("{url}: {e}"))
    }
}

fn unauthorized(why: impl Into<String>) -> GatewayError {
    GatewayError::new(ResponseType::Unauthorized).because(why)
}

pub(crate) async fn check(
    dp: &DataPlane,
    inv: &Invocation,
    a: &CognitoAuthorizer,
    scopes: &[String],
) -> Result<Authorized, GatewayError> {
    let value = inv.header(&a.header).unwrap_or("").trim();
    // AWS takes the raw token, and the same after `Bearer `.
    let token = match value.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => value[7..].trim_start(),
        _ => value,
    };
    if token.is_empty() {
        return Err(unauthorized(format!(
            "Cognito authorizer {}: no token in the {} header",
            a.name, a.header
        )));
    }
    let jwt = jwt::decode(token).map_err(|e| unauthorized(e.to_string()))?;
    let endpoint = dp.auth.cognito_endpoint.as_deref();
    let issuer = jwt
        .string("iss")
        .and_then(|iss| {
            a.pools
                .iter()
                .map(|p| p.issuer(endpoint))
                .find(|issuer| issuer == iss)
        })
        .ok_or_else(|| {
            unauthorized(format!(
                "the token's issuer {:?} is none of authorizer {}'s user pools",
                jwt.string("iss").unwrap_or(""),
                a.name
            ))
        })?;
    let kid = jwt
        .kid
        .as_deref()
        .ok_or_else(|| unauthorized("the token's header has no kid"))?;
    let key = match dp.auth.jwks.key(&issuer, kid).await {
        Lookup::Key(key) => key,
        Lookup::Unknown => {
            return Err(unauthorized(format!("{issuer}'s JWKS has no key {kid:?}")));
        }
        Lookup::Unavailable(why) => {
            return Err(
                GatewayError::new(ResponseType::AuthorizerConfigurationError).because(format!(
                    "Cognito authorizer {}: the user pool's keys are unavailable: {why}",
                    a.name
                )),
            );
        }
    };
    if !jwt.verify(&key) {
        return Err(unauthorized(format!(
            "the token's signature does not verify with {issuer}'s key {kid:?} (alg {})",
            jwt.alg
        )));
    }
    let now = inv.request_time_ms.div_euclid(1000);
    check_claims(&jwt, now, scopes, a.audience.as_ref()).map_err(unauthorized)?;
    Ok(Authorized {
        claims: Some(aws_claims(&jwt.claims)),
        ..Authorized::default()
    })
}

/// The claims' rules once the signature holds: the token is current, of the kind the method
/// wants (ID token without scopes; access token with one of the scopes), for the expected
/// audience.
fn check_claims(
    jwt: &jwt::Token<'_>,
    now: i64,
    scopes: &[String],
    audience: Option<&Regex>,
) -> Result<(), String> {
    let exp = jwt.seconds("exp").ok_or("the token has no exp")?;
    if now >= exp {
        return Err(format!("the token expired at {exp} (now {now})"));
    }
    if let Some(nbf) = jwt.seconds("nbf")
        && now < nbf
    {
        return Err(format!("the token is not valid before {nbf} (now {now})"));
    }
    let token_use = jwt.string("token_use").unwrap_or("");
    if scopes.is_empty() {
        if token_use != "id" {
            return Err(format!(
                "the method has no OAuth scopes, so it takes ID tokens; this one's token_use is {token_use:?}"
            ));
        }
    } else {
        if token_use != "access" {
            return Err(format!(
                "the method has OAuth scopes, so it takes access tokens; this one's token_use is {token_use:?}"
            ));
        }
        let granted = jwt.string("scope").unwrap_or("");
        if !granted
            .split_ascii_whitespace()
            .any(|s| scopes.iter().any(|want| want == s))
        {
            return Err(format!(
                "the token's scopes {granted:?} include none of the method's {scopes:?}"
            ));
        }
    }
    if let Some(re) = audience {
        let aud = match token_use {
            "access" => jwt.string("client_id"),
            _ => jwt.string("aud"),
        }
        .unwrap_or("");
        if !re.is_match(aud) {
            return Err(format!(
                "the token's audience {aud:?} does not match identityValidationExpression"
            ));
        }
    }
    Ok(())
}

/// The claims as AWS's REST APIs hand them on: strings only.
fn aws_claims(claims: &Map<String, Value>) -> Map<String, Value> {
    claims
        .iter()
        .map(|(k, v)| {
            let text = match (k.as_str(), v) {
                ("exp" | "iat" | "nbf", Value::Number(n)) => match n.as_i64() {
                    Some(secs) => java_date(secs),
                    None => n.to_string(),
                },
                (_, Value::String(s)) => s.clone(),
                (_, Value::Array(items)) => {
                    let items: Vec<String> = items
                        .iter()
                        .map(|i| match i {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect();
                    format!("[{}]", items.join(" "))
                }
                (_, other) => other.to_string(),
            };
            (k.clone(), Value::String(text))
        })
        .collect()
}

/// `java.util.Date#toString` in UTC: `Sun Dec 17 07:28:12 UTC 2017`.
fn java_date(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = portico_model::time::civil_from_days(days);
    format!(
        "{} {} {d:02} {:02}:{:02}:{:02} UTC {y}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorization::jwt::tests::{mint, test_key};
    use serde_json::json;

    fn authorizer(arns: &[&str], source: Option<&str>) -> Result<CognitoAuthorizer, String> {
        let a = v1::Authorizer {
            id: Some("abc".into()),
            name: Some("pool".into()),
            type_: Some("COGNITO_USER_POOLS".into()),
            provider_ar_ns: Some(arns.iter().map(|s| s.to_string()).collect()),
            identity_source: source.map(str::to_string),
            ..Default::default()
        };
        let vars = IndexMap::from([("pool".to_string(), "eu-west-1_Stage".to_string())]);
        CognitoAuthorizer::compile(&a, &vars)
    }

    #[test]
    fn compile_reads_pools_and_the_identity_header() {
        let a = authorizer(
            &[
                "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbC",
                "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/${stageVariables.pool}",
            ],
            Some("method.request.header.X-Token"),
        )
        .unwrap();
        assert_eq!(a.header, "x-token");
        assert_eq!(
            a.pools[0].issuer(None),
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC"
        );
        assert_eq!(
            a.pools[1].issuer(Some("http://127.0.0.1:9229/")),
            "http://127.0.0.1:9229/eu-west-1_Stage"
        );
        assert_eq!(
            authorizer(&["arn:aws:cognito-idp:r:1:userpool/p"], None)
                .unwrap()
                .header,
            "authorization"
        );
        for bad in [
            "arn:aws:cognito-idp:us-east-1:1:pool/x",
            "arn:aws:lambda:us-east-1:1:userpool/x",
            "arn:aws:cognito-idp:us-east-1:1:userpool/",
            "arn:aws:cognito-idp:us-east-1:1:userpool/a/../b",
        ] {
            assert!(authorizer(&[bad], None).is_err(), "{bad}");
        }
        assert!(authorizer(&[], None).is_err());
        assert!(
            authorizer(
                &["arn:aws:cognito-idp:r:1:userpool/p"],
                Some("method.request.querystring.t")
            )
            .is_err()
        );
    }

    fn claims_ok(claims: Value, scopes: &[&str], audience: Option<&str>) -> Result<(), String> {
        let (key, _) = test_key(1);
        let token = mint(&key, json!({"kid": "kid-1"}), &claims);
        let jwt = jwt::decode(&token).unwrap();
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let re = audience.map(|a| Regex::new(&format!("^(?:{a})$")).unwrap());
        check_claims(&jwt, 1000, &scopes, re.as_ref())
    }

    #[test]
    fn id_tokens_without_scopes_access_tokens_with_one_of_them() {
        let id = json!({"token_use": "id", "exp": 1001, "aud": "client-1"});
        let access = json!({"token_use": "access", "exp": 1001, "scope": "openid pets/read", "client_id": "client-1"});
        assert!(claims_ok(id.clone(), &[], None).is_ok());
        assert!(
            claims_ok(access.clone(), &[], None)
                .unwrap_err()
                .contains("takes ID tokens")
        );
        assert!(claims_ok(access.clone(), &["pets/write", "pets/read"], None).is_ok());
        assert!(
            claims_ok(access.clone(), &["pets/write"], None)
                .unwrap_err()
                .contains("none of")
        );
        assert!(
            claims_ok(id.clone(), &["pets/read"], None)
                .unwrap_err()
                .contains("takes access tokens")
        );
        // identityValidationExpression against aud / client_id.
        assert!(claims_ok(id.clone(), &[], Some("client-[0-9]")).is_ok());
        assert!(claims_ok(id, &[], Some("client")).is_err());
        assert!(claims_ok(access, &["pets/read"], Some("client-1")).is_ok());
    }

    #[test]
    fn expiry_and_not_before_are_exact() {
        assert!(
            claims_ok(json!({"token_use": "id", "exp": 1000}), &[], None)
                .unwrap_err()
                .contains("expired")
        );
        assert!(
            claims_ok(json!({"token_use": "id"}), &[], None)
                .unwrap_err()
                .contains("no exp")
        );
        assert!(
            claims_ok(
                json!({"token_use": "id", "exp": 2000, "nbf": 1001}),
                &[],
                None
            )
            .unwrap_err()
            .contains("not valid before")
        );
        assert!(
            claims_ok(
                json!({"token_use": "id", "exp": 2000, "nbf": 1000}),
                &[],
                None
            )
            .is_ok()
        );
    }

    #[test]
    fn claims_are_strings_as_aws_passes_them() {
        let claims = json!({
            "sub": "u-1", "email_verified": true, "auth_time": 1513492092,
            "exp": 1513495692, "iat": 1513492092, "cognito:groups": ["admins", "users"],
            "address": {"street": "x"}
        });
        let out = aws_claims(claims.as_object().unwrap());
        assert_eq!(
            Value::Object(out),
            json!({
                "sub": "u-1", "email_verified": "true", "auth_time": "1513492092",
                "exp": "Sun Dec 17 07:28:12 UTC 2017", "iat": "Sun Dec 17 06:28:12 UTC 2017",
                "cognito:groups": "[admins users]", "address": "{\"street\":\"x\"}"
            })
        );
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(java_date(951_782_400), "Tue Feb 29 00:00:00 UTC 2000");
    }
}

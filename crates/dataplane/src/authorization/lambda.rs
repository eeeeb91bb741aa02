//! Lambda authorizers (`CUSTOM`), TOKEN and REQUEST, as API Gateway runs them for REST APIs.
//!
//! 1. The resource policy's explicit deny refuses before anything runs (`resource_policy`).
//! 2. The identity: TOKEN reads `method.request.header.X` (missing or empty → 401
//!    `UNAUTHORIZED` without invoking; `identityValidationExpression` must match the whole token,
//!    else 401 too); REQUEST reads its identity sources (headers, query string, stage variables,
//!    `$context`), and when caching is on any missing or empty one is a 401 without invoking.
//!    With caching off (TTL 0) AWS invokes the function whatever the sources hold ("When caching
//!    is turned off, you don't need to specify an identity source. API Gateway passes the
//!    request directly to the authorizer Lambda function": the console guide, Configure a
//!    Lambda authorizer).
//! 3. The decision comes from the cache, keyed by the authorizer and the identity (not by the
//!    method: one decision serves every method of the stage for its TTL, and its policy is
//!    evaluated against each method's ARN), else from the function: a TOKEN event
//!    `{type, authorizationToken, methodArn}` or a REQUEST event (the proxy event's request
//!    fields, shared with `integrations::lambda`).
//! 4. The function raising `Unauthorized` (exactly) is a 401; any other error, a timeout, or
//!    output that is not `{principalId, policyDocument, context?, usageIdentifierKey?}` with a
//!    readable policy and context values that are strings, numbers or booleans is a 500
//!    `AUTHORIZER_CONFIGURATION_ERROR` (`{"message": null}`).
//! 5. The policy is evaluated against the method ARN and combined with the resource policy
//!    (Table A); the context reaches `$context.authorizer.*` and the Lambda event stringified,
//!    as AWS passes it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use indexmap::IndexMap;
use portico_functions::{FunctionRef, Invoked};
use portico_limits::{Clock, SystemClock};
use portico_model::v1;
use serde_json::{Value, json};

use super::Authorized;
use super::policy::{Caller, Decision, Kind, Policy};
use super::resource_policy::{self, Target};
use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;
use crate::mapping::ParamSource;
use crate::server::DataPlane;

/// How long API Gateway waits for an authorizer (HTTP APIs document 10,000 ms; REST APIs use
/// the same bound here).
const AUTHORIZER_TIMEOUT: Duration = Duration::from_secs(10);
/// `authorizerResultTtlInSeconds` when unset, and its ceiling.
const DEFAULT_TTL_SECONDS: i64 = 300;
const MAX_TTL_SECONDS: i64 = 3600;

/// A compiled Lambda authorizer.
#[derive(Debug)]
pub struct LambdaAuthorizer {
    pub id: String,
    pub name: String,
    identity: Identity,
    function: FunctionRef,
    /// How long a decision is cached, in milliseconds; 0: not cached.
    ttl_ms: i64,
}

#[derive(Debug)]
enum Identity {
    /// The token header (lower case) and `identityValidationExpression`, anchored.
    Token {
        header: String,
        validation: Option<regex::Regex>,
    },
    /// The identity sources, in their declared order.
    Request { sources: Vec<ParamSource> },
}

impl LambdaAuthorizer {
    /// Compiles a TOKEN or REQUEST authorizer; `vars` are the stage's variables (the URI may
    /// name them).
    pub fn compile(
        a: &v1::Authorizer,
        vars: &IndexMap<String, String>,
    ) -> Result<LambdaAuthorizer, String> {
        let name = a.name.clone().unwrap_or_default();
        let uri = crate::compile::substitute_stage_variables(
            a.authorizer_uri.as_deref().unwrap_or(""),
            vars,
        );
        let function = uri
            .contains(":lambda:path/")
            .then(|| FunctionRef::parse(&uri))
            .flatten()
            .ok_or_else(|| format!("authorizer {name}: invalid authorizer URI {uri}"))?;
        let ttl_s = i64::from(
            a.authorizer_result_ttl_in_seconds
                .unwrap_or(DEFAULT_TTL_SECONDS as i32),
        )
        .clamp(0, MAX_TTL_SECONDS);
        let source = a.identity_source.as_deref().unwrap_or("").trim();
        let identity = match a.type_.as_deref() {
            Some("TOKEN") => {
                let header = source
                    .strip_prefix("method.request.header.")
                    .filter(|h| !h.is_empty())
                    .ok_or_else(|| {
                        format!("authorizer {name}: a TOKEN identity source must be method.request.header.NAME, not {source:?}")
                    })?;
                let validation = match a
                    .identity_validation_expression
                    .as_deref()
                    .filter(|e| !e.is_empty())
                {
                    Some(e) => Some(regex::Regex::new(&format!("^(?:{e})$")).map_err(|err| {
                        format!("authorizer {name}: invalid identityValidationExpression: {err}")
                    })?),
                    None => None,
                };
                Identity::Token {
                    header: header.to_ascii_lowercase(),
                    validation,
                }
            }
            Some("REQUEST") => {
                let mut sources = Vec::new();
                for expr in source.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let src = ParamSource::parse(expr).filter(|s| {
                        matches!(
                            s,
                            ParamSource::MethodHeader(_)
                                | ParamSource::MethodMultiHeader(_)
                                | ParamSource::MethodQuery(_)
                                | ParamSource::MethodMultiQuery(_)
                                | ParamSource::MethodPath(_)
                                | ParamSource::StageVariable(_)
                                | ParamSource::Context(_)
                        )
                    });
                    sources.push(src.ok_or_else(|| {
                        format!("authorizer {name}: invalid identity source {expr}")
                    })?);
                }
                if sources.is_empty() && ttl_s > 0 {
                    return Err(format!(
                        "authorizer {name}: a REQUEST authorizer with caching needs identity sources"
                    ));
                }
                Identity::Request { sources }
            }
            other => {
                return Err(format!(
                    "authorizer {name}: type {} is not a Lambda authorizer",
                    other.unwrap_or("(none)")
                ));
            }
        };
        Ok(LambdaAuthorizer {
            id: a.id.clone().unwrap_or_default(),
            name,
            identity,
            function,
            ttl_ms: ttl_s * 1000,
        })
    }

    /// A REQUEST authorizer (its event carries the request's headers, casing kept).
    pub fn is_request(&self) -> bool {
        matches!(self.identity, Identity::Request { .. })
    }

    /// The identity values, in order: the token, or each identity source's value. `Err`: 401
    /// without invoking. An empty list for a REQUEST authorizer whose caching is off.
    fn identity(&self, inv: &Invocation) -> Result<Vec<String>, GatewayError> {
        let unauthorized = |why: String| GatewayError::new(ResponseType::Unauthorized).because(why);
        match &self.identity {
            Identity::Token { header, validation } => {
                let token = inv
                    .header(header)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| {
                        unauthorized(format!("authorizer {}: no {header} token", self.name))
                    })?;
                if validation.as_ref().is_some_and(|re| !re.is_match(token)) {
                    return Err(unauthorized(format!(
                        "authorizer {}: the token does not match identityValidationExpression",
                        self.name
                    )));
                }
                Ok(vec![token.to_string()])
            }
            Identity::Request { sources } => {
                if self.ttl_ms == 0 {
                    return Ok(Vec::new());
                }
                sources
                    .iter()
                    .map(|s| {
                        source_value(inv, s)
                            .filter(|v| !v.is_empty())
                            .ok_or_else(|| {
                                unauthorized(format!(
                                    "authorizer {}: identity source {s:?} is missing or empty",
                                    self.name
                                ))
                            })
                    })
                    .collect()
            }
        }
    }

    /// The cache key: the stage's deployment, this authorizer, its function, and the identity.
    fn cache_key(&self, inv: &Invocation, identity: &[String]) -> String {
        let mut key = String::with_capacity(64 + identity.iter().map(String::len).sum::<usize>());
        for part in [
            inv.stage.api_id.as_str(),
            inv.stage.name.as_str(),
            inv.stage.deployment_id.as_str(),
            self.id.as_str(),
            self.function.name.as_str(),
            self.function.qualifier.as_deref().unwrap_or(""),
        ]
        .into_iter()
        .chain(identity.iter().map(String::as_str))
        {
            // Length-prefixed, so no value can imitate a boundary.
            key.push_str(&part.len().to_string());
            key.push(':');
            key.push_str(part);
        }
        key
    }
}

/// An identity source's value: every value of a header or query parameter, joined.
fn source_value(inv: &Invocation, s: &ParamSource) -> Option<String> {
    match s {
        ParamSource::MethodHeader(n) | ParamSource::MethodMultiHeader(n) => {
            inv.header_values_joined(n)
        }
        ParamSource::MethodQuery(n) | ParamSource::MethodMultiQuery(n) => {
            let v = inv.query_values(n);
            (!v.is_empty()).then(|| v.join(","))
        }
        other => inv.source_value(other),
    }
}

/// What an authorizer function decided, as the cache keeps it.
#[derive(Debug)]
struct Decided {
    principal_id: String,
    /// Values stringified, as AWS hands them on.
    context: IndexMap<String, Value>,
    usage_identifier_key: Option<String>,
    policy: Policy,
    /// Roughly what the entry costs the cache, in bytes.
    size: usize,
}

impl Decided {
    /// Reads the function's output.
    fn parse(payload: &[u8]) -> Result<Decided, String> {
        let v: Value = serde_json::from_slice(payload).map_err(|_| "output is not JSON")?;
        let obj = v.as_object().ok_or("output is not a JSON object")?;
        let principal_id = match obj.get("principalId") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err("output has no principalId".into()),
        };
        let document = obj
            .get("policyDocument")
            .ok_or("output has no policyDocument")?;
        let policy = Policy::parse(document, Kind::Identity)
            .map_err(|e| format!("could not parse policy: {e}"))?;
        let mut context = IndexMap::new();
        match obj.get("context") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => {
                            return Err(format!(
                                "context value {k} is not a string, number or boolean"
                            ));
                        }
                    };
                    context.insert(k.clone(), Value::String(text));
                }
            }
            Some(_) => return Err("context is not an object".into()),
        }
        let usage_identifier_key = match obj.get("usageIdentifierKey") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err("usageIdentifierKey is not a string".into()),
        };
        Ok(Decided {
            principal_id,
            context,
            usage_identifier_key,
            policy,
            size: payload.len() + 256,
        })
    }
}

// === Cache ===

/// Decisions by (authorizer, identity), each for its authorizer's TTL. Bounded by entries and
/// by bytes: a full cache first drops what has expired, then what expires soonest. Time comes
/// from a [`Clock`].
pub struct Cache {
    clock: Arc<dyn Clock>,
    max_entries: usize,
    max_bytes: usize,
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    entries: HashMap<String, Entry>,
    bytes: usize,
}

struct Entry {
    decided: Arc<Decided>,
    expires_at: i64,
    size: usize,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("Cache")
            .field("entries", &inner.entries.len())
            .field("bytes", &inner.bytes)
            .field("max_entries", &self.max_entries)
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

impl Default for Cache {
    fn default() -> Cache {
        Cache::new(Arc::new(SystemClock), 10_000, 32 * 1024 * 1024)
    }
}

impl Cache {
    pub fn new(clock: Arc<dyn Clock>, max_entries: usize, max_bytes: usize) -> Cache {
        Cache {
            clock,
            max_entries,
            max_bytes,
            inner: Mutex::new(CacheInner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now(&self) -> i64 {
        self.clock.now_millis()
    }

    /// How many decisions are cached.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get(&self, key: &str) -> Option<Arc<Decided>> {
        let now = self.now();
        let mut inner = self.lock();
        match inner.entries.get(key) {
            Some(e) if e.expires_at > now => Some(e.decided.clone()),
            Some(_) => {
                if let Some(e) = inner.entries.remove(key) {
                    inner.bytes -= e.size;
                }
                None
            }
            None => None,
        }
    }

    fn put(&self, key: String, decided: Arc<Decided>, ttl_ms: i64) {
        let size = key.len() + decided.size;
        if ttl_ms <= 0 || size > self.max_bytes / 16 {
            return;
        }
        let now = self.now();
        let mut inner = self.lock();
        if let Some(old) = inner.entries.remove(&key) {
            inner.bytes -= old.size;
        }
        if inner.entries.len() >= self.max_entries || inner.bytes + size > self.max_bytes {
            let mut freed = 0;
            inner.entries.retain(|_, e| {
                let keep = e.expires_at > now;
                if !keep {
                    freed += e.size;
                }
                keep
            });
            inner.bytes -= freed;
        }
        while inner.entries.len() >= self.max_entries || inner.bytes + size > self.max_bytes {
            let Some(soonest) = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.expires_at)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(e) = inner.entries.remove(&soonest) {
                inner.bytes -= e.size;
            }
        }
        inner.bytes += size;
        inner.entries.insert(
            key,
            Entry {
                decided,
                expires_at: now + ttl_ms,
                size,
            },
        );
    }
}

// === The check ===

fn configuration_error(why: String) -> GatewayError {
    GatewayError::new(ResponseType::AuthorizerConfigurationError).because(why)
}

pub(crate) async fn check(
    dp: &DataPlane,
    inv: &Invocation,
    a: &LambdaAuthorizer,
) -> Result<Authorized, GatewayError> {
    let target = Target::of(dp, inv);
    // Before the authorizer: the resource policy's explicit deny ends it here.
    let resource = resource_policy::evaluate(inv, &target, &Authorized::default())?;
    if resource == Some(Decision::ExplicitDeny) {
        resource_policy::combine_with_authorizer(Decision::NotApplicable, resource, &target)?;
    }
    let identity = a.identity(inv)?;
    let cache = &dp.auth.lambda_cache;
    let key = (a.ttl_ms > 0).then(|| a.cache_key(inv, &identity));
    let cached = key.as_deref().and_then(|k| cache.get(k));
    let (decided, latency_ms) = match cached {
        Some(d) => (d, 0),
        None => {
            let started = cache.now();
            let decided = Arc::new(invoke(dp, inv, a, &target, &identity).await?);
            let latency = u64::try_from(cache.now() - started).unwrap_or(0);
            if let Some(k) = key {
                cache.put(k, decided.clone(), a.ttl_ms);
            }
            (decided, latency)
        }
    };
    let decision = decided
        .policy
        .evaluate(&target.request(inv, Caller::Anonymous));
    resource_policy::combine_with_authorizer(decision, resource, &target)?;
    Ok(Authorized {
        principal_id: Some(decided.principal_id.clone()),
        context: decided.context.clone(),
        usage_identifier_key: decided.usage_identifier_key.clone(),
        latency_ms: Some(latency_ms),
        ..Authorized::default()
    })
}

/// Runs the authorizer function and reads its decision.
async fn invoke(
    dp: &DataPlane,
    inv: &Invocation,
    a: &LambdaAuthorizer,
    target: &Target,
    identity: &[String],
) -> Result<Decided, GatewayError> {
    let event = match &a.identity {
        Identity::Token { .. } => json!({
            "type": "TOKEN",
            "authorizationToken": identity.first().map(String::as_str).unwrap_or(""),
            "methodArn": target.arn,
        }),
        Identity::Request { .. } => {
            let mut event = serde_json::Map::new();
            event.insert("type".into(), json!("REQUEST"));
            event.insert("methodArn".into(), json!(target.arn));
            event.extend(crate::integrations::lambda::request_fields(inv));
            Value::Object(event)
        }
    };
    let Some(invoker) = &dp.invoker else {
        return Err(configuration_error(format!(
            "authorizer {}: no function runtime is configured",
            a.name
        )));
    };
    let payload = Bytes::from(serde_json::to_vec(&event).unwrap_or_default());
    let invoked: Invoked = match tokio::time::timeout(
        AUTHORIZER_TIMEOUT,
        invoker.invoke(&a.function, payload),
    )
    .await
    {
        Err(_) => {
            return Err(configuration_error(format!(
                "authorizer {}: {} did not answer within {AUTHORIZER_TIMEOUT:?}",
                a.name, a.function.name
            )));
        }
        Ok(Err(e)) => {
            return Err(configuration_error(format!(
                "authorizer {}: invoking {} failed: {e}",
                a.name, a.function.name
            )));
        }
        Ok(Ok(invoked)) => invoked,
    };
    if let Some(kind) = &invoked.function_error {
        let message = serde_json::from_slice::<Value>(&invoked.payload)
            .ok()
            .and_then(|v| {
                v.get("errorMessage")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
        if message.as_deref() == Some("Unauthorized") {
            return Err(
                GatewayError::new(ResponseType::Unauthorized).because(format!(
                    "authorizer {}: the function answered Unauthorized",
                    a.name
                )),
            );
        }
        return Err(configuration_error(format!(
            "authorizer {}: {} failed ({kind}): {}",
            a.name,
            a.function.name,
            String::from_utf8_lossy(&invoked.payload[..invoked.payload.len().min(1024)])
        )));
    }
    Decided::parse(&invoked.payload)
        .map_err(|e| configuration_error(format!("authorizer {}: {e}", a.name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use portico_limits::ManualClock;

    fn decided(principal: &str) -> Arc<Decided> {
        let payload = json!({
            "principalId": principal,
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}
            ]},
        });
        Arc::new(Decided::parse(payload.to_string().as_bytes()).unwrap())
    }

    #[test]
    fn output_is_read_as_aws_reads_it() {
        let d = Decided::parse(
            json!({
                "principalId": "user|a1",
                "policyDocument": {"Version": "2012-10-17", "Statement": {
                    "Action": "execute-api:Invoke", "Effect": "Deny", "Resource": ["*"]
                }},
                "context": {"s": "v", "n": 1, "f": 1.5, "b": true},
                "usageIdentifierKey": "key-1",
                "extra": "ignored",
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(d.principal_id, "user|a1");
        let ctx: Vec<(&str, &Value)> = d.context.iter().map(|(k, v)| (k.as_str(), v)).collect();
        assert_eq!(
            ctx,
            [
                ("s", &json!("v")),
                ("n", &json!("1")),
                ("f", &json!("1.5")),
                ("b", &json!("true"))
            ]
        );
        assert_eq!(d.usage_identifier_key.as_deref(), Some("key-1"));

        for bad in [
            json!("Allow"),
            json!({"policyDocument": {"Statement": []}}),
            json!({"principalId": "u"}),
            json!({"principalId": "u", "policyDocument": {"Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}]}}),
            json!({"principalId": "u", "policyDocument": {"Statement": []}, "context": {"a": [1]}}),
            json!({"principalId": "u", "policyDocument": {"Statement": []}, "context": {"a": {"b": 1}}}),
            json!({"principalId": "u", "policyDocument": {"Statement": []}, "context": {"a": null}}),
            json!({"principalId": "u", "policyDocument": {"Statement": []}, "context": "x"}),
            json!({"principalId": "u", "policyDocument": {"Statement": []}, "usageIdentifierKey": 5}),
        ] {
            assert!(Decided::parse(bad.to_string().as_bytes()).is_err(), "{bad}");
        }
        assert!(Decided::parse(b"not json").is_err());
    }

    #[test]
    fn compile_reads_type_sources_ttl_and_uri() {
        let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:${stageVariables.fn}/invocations";
        let mut vars = IndexMap::new();
        vars.insert("fn".to_string(), "auth".to_string());
        let base = v1::Authorizer {
            id: Some("a1".into()),
            name: Some("tok".into()),
            type_: Some("TOKEN".into()),
            authorizer_uri: Some(uri.into()),
            identity_source: Some("method.request.header.Authorization".into()),
            identity_validation_expression: Some("Bearer .+".into()),
            ..Default::default()
        };
        let a = LambdaAuthorizer::compile(&base, &vars).unwrap();
        assert_eq!(a.function.name, "auth");
        assert_eq!(a.ttl_ms, 300_000);
        assert!(!a.is_request());
        match &a.identity {
            Identity::Token { header, validation } => {
                assert_eq!(header, "authorization");
                let re = validation.as_ref().unwrap();
                assert!(re.is_match("Bearer x"));
                assert!(!re.is_match("xBearer x"));
            }
            Identity::Request { .. } => panic!("TOKEN expected"),
        }
        let ttl = |t| {
            LambdaAuthorizer::compile(
                &v1::Authorizer {
                    authorizer_result_ttl_in_seconds: Some(t),
                    ..base.clone()
                },
                &vars,
            )
            .unwrap()
            .ttl_ms
        };
        assert_eq!((ttl(0), ttl(60), ttl(99_999)), (0, 60_000, 3_600_000));

        let request = v1::Authorizer {
            type_: Some("REQUEST".into()),
            identity_source: Some(
                "method.request.header.Auth, method.request.querystring.q,stageVariables.s, context.requestId".into(),
            ),
            ..base.clone()
        };
        let a = LambdaAuthorizer::compile(&request, &vars).unwrap();
        assert!(a.is_request());
        assert!(matches!(&a.identity, Identity::Request { sources } if sources.len() == 4));

        for bad in [
            v1::Authorizer {
                type_: Some("COGNITO_USER_POOLS".into()),
                ..base.clone()
            },
            v1::Authorizer {
                authorizer_uri: Some("https://example.com".into()),
                ..base.clone()
            },
            v1::Authorizer {
                identity_source: Some("method.request.querystring.t".into()),
                ..base.clone()
            },
            v1::Authorizer {
                identity_validation_expression: Some("(".into()),
                ..base.clone()
            },
            v1::Authorizer {
                identity_source: Some("method.request.body".into()),
                ..request.clone()
            },
            v1::Authorizer {
                identity_source: None,
                ..request.clone()
            },
        ] {
            assert!(LambdaAuthorizer::compile(&bad, &vars).is_err(), "{bad:?}");
        }
        // Without caching, a REQUEST authorizer needs no identity source.
        let uncached = v1::Authorizer {
            identity_source: None,
            authorizer_result_ttl_in_seconds: Some(0),
            ..request
        };
        assert!(LambdaAuthorizer::compile(&uncached, &vars).is_ok());
    }

    #[test]
    fn cache_entries_expire_with_their_ttl() {
        let clock = Arc::new(ManualClock::new(1_000_000));
        let cache = Cache::new(clock.clone(), 100, 1 << 20);
        cache.put("k".into(), decided("a"), 1_000);
        assert_eq!(cache.get("k").unwrap().principal_id, "a");
        clock.advance(999);
        assert!(cache.get("k").is_some());
        clock.advance(1);
        assert!(cache.get("k").is_none());
        assert!(cache.is_empty());
        cache.put("zero".into(), decided("a"), 0);
        assert!(cache.get("zero").is_none());
    }

    #[test]
    fn cache_is_bounded_by_entries_and_bytes() {
        let clock = Arc::new(ManualClock::new(0));
        let cache = Cache::new(clock.clone(), 3, 1 << 20);
        for (i, ttl) in [(0, 5_000), (1, 1_000), (2, 9_000)] {
            cache.put(format!("k{i}"), decided("p"), ttl);
        }
        // Full: the entry expiring soonest goes.
        cache.put("k3".into(), decided("p"), 9_000);
        assert_eq!(cache.len(), 3);
        assert!(cache.get("k1").is_none());
        // Expired entries go first.
        clock.advance(6_000);
        cache.put("k4".into(), decided("p"), 9_000);
        assert!(cache.get("k0").is_none());
        assert_eq!(cache.len(), 3);

        let one = decided("p").size + 2;
        let cache = Cache::new(clock.clone(), 1_000, one * 16 + one / 2);
        for i in 0..40 {
            cache.put(format!("b{i}"), decided("p"), 60_000);
        }
        let inner = cache.lock();
        assert!(inner.bytes <= cache.max_bytes);
        assert_eq!(
            inner.bytes,
            inner.entries.values().map(|e| e.size).sum::<usize>()
        );
        drop(inner);
        // An entry larger than a sixteenth of the budget is not kept.
        let cache = Cache::new(clock, 1_000, 16 * 100);
        cache.put("big".into(), decided("p"), 60_000);
        assert!(cache.is_empty());
    }
}

//! IAM policy documents evaluated against an `execute-api` request: the policy a Lambda
//! authorizer returns and the RestApi's resource policy. Pure: a parsed [`Policy`] and a
//! [`Request`] in, a [`Decision`] out.
//!
//! IAM's rules as they apply here: `Statement` is an object or a list; `Action`/`NotAction`,
//! `Resource`/`NotResource` and `Principal`/`NotPrincipal` take a string or a list; `*` matches
//! any run of characters and `?` one character (actions case-insensitively, resources by ARN
//! segment); an explicit `Deny` wins over any `Allow`; a request no statement covers is
//! neither allowed nor denied. Conditions: the string, ARN, IP address, `Bool` and `Null`
//! operators, with `IfExists` and the `ForAnyValue:`/`ForAllValues:` qualifiers, on the keys
//! a gateway knows (`aws:SourceIp`, `aws:PrincipalArn`, `aws:PrincipalAccount`,
//! `aws:UserAgent`); a key it does not know is absent, as IAM treats it (positive operators
//! fail, negated ones hold). An operator this evaluator does not implement makes its
//! statement fail closed: an `Allow` does not apply, a `Deny` does.

use std::net::IpAddr;

use serde_json::Value;

/// What a policy says about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Some `Deny` statement applies.
    ExplicitDeny,
    /// No statement applies: "neither allow nor deny" in AWS's evaluation tables.
    NotApplicable,
}

/// Which kind of document: an identity policy (a Lambda authorizer's `policyDocument`: no
/// `Principal`) or a resource policy (`Principal` or `NotPrincipal` required).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Identity,
    Resource,
}

/// Who is calling, as a resource policy's `Principal` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller<'a> {
    /// No AWS identity (no authorization, a Lambda or Cognito authorizer).
    Anonymous,
    /// A SigV4 caller: its ARN and account.
    Iam {
        arn: &'a str,
        account: Option<&'a str>,
    },
}

/// The request a policy is asked about.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `execute-api:Invoke`.
    pub action: &'a str,
    /// The method ARN ([`execute_api_arn`]).
    pub resource: &'a str,
    /// `arn:aws:execute-api:{region}:{account}:{apiId}/`: what a resource policy's short form
    /// `execute-api:/` stands for.
    pub api_prefix: &'a str,
    pub caller: Caller<'a>,
    pub source_ip: IpAddr,
    pub user_agent: Option<&'a str>,
}

/// The ARN of a method request:
/// `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{VERB}/{path without its leading /}`.
pub fn execute_api_arn(
    region: &str,
    account: &str,
    api_id: &str,
    stage: &str,
    verb: &str,
    path: &str,
) -> String {
    format!(
        "{}{stage}/{verb}/{}",
        api_prefix(region, account, api_id),
        path.strip_prefix('/').unwrap_or(path)
    )
}

/// `arn:aws:execute-api:{region}:{account}:{apiId}/`.
pub fn api_prefix(region: &str, account: &str, api_id: &str) -> String {
    format!("arn:aws:execute-api:{region}:{account}:{api_id}/")
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    statements: Vec<Statement>,
    /// Parts this evaluator does not implement (their statements fail closed), for the log.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Statement {
    allow: bool,
    /// `None`: any caller (identity policies have no `Principal`).
    principal: Option<Scope<Principal>>,
    action: Scope<String>,
    resource: Scope<String>,
    conditions: Vec<Condition>,
}

/// `Action` / `NotAction` and the like: the listed patterns, or everything but them.
#[derive(Debug, Clone, PartialEq)]
enum Scope<T> {
    In(Vec<T>),
    NotIn(Vec<T>),
}

#[derive(Debug, Clone, PartialEq)]
enum Principal {
    /// `"*"` or `{"AWS": "*"}`.
    Anyone,
    /// An `AWS` principal: an ARN or a 12-digit account id.
    Aws(String),
    /// `Service`, `Federated`, `CanonicalUser`: never an execute-api caller.
    Other,
}

#[derive(Debug, Clone, PartialEq)]
struct Condition {
    op: Op,
    negated: bool,
    if_exists: bool,
    qualifier: Qualifier,
    key: String,
    values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Qualifier {
    Single,
    ForAnyValue,
    ForAllValues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    ArnLike,
    IpAddress,
    Bool,
    Null,
    /// An operator not implemented here (numeric, date, binary): fails closed.
    Unsupported,
}

impl Policy {
    /// Parses a policy from its JSON text.
    pub fn parse_str(text: &str, kind: Kind) -> Result<Policy, String> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| format!("policy is not JSON: {e}"))?;
        Policy::parse(&v, kind)
    }

    /// Parses a policy document.
    pub fn parse(doc: &Value, kind: Kind) -> Result<Policy, String> {
        let obj = doc.as_object().ok_or("policy is not a JSON object")?;
        let statements = match obj.get("Statement") {
            Some(Value::Array(list)) => list.iter().collect(),
            Some(s @ Value::Object(_)) => vec![s],
            Some(_) => return Err("Statement must be an object or a list".into()),
            None => return Err("policy has no Statement".into()),
        };
        let mut warnings = Vec::new();
        let statements = statements
            .into_iter()
            .map(|s| statement(s, kind, &mut warnings))
            .collect::<Result<_, _>>()?;
        Ok(Policy {
            statements,
            warnings,
        })
    }

    /// What the policy says about `req`: an applicable `Deny` wins, then an applicable
    /// `Allow`, else neither.
    pub fn evaluate(&self, req: &Request<'_>) -> Decision {
        let mut allowed = false;
        for s in &self.statements {
            if s.applies(req) {
                if !s.allow {
                    return Decision::ExplicitDeny;
                }
                allowed = true;
            }
        }
        if allowed {
            Decision::Allow
        } else {
            Decision::NotApplicable
        }
    }
}

fn statement(v: &Value, kind: Kind, warnings: &mut Vec<String>) -> Result<Statement, String> {
    let obj = v.as_object().ok_or("a Statement must be an object")?;
    let allow = match obj.get("Effect").and_then(Value::as_str) {
        Some("Allow") => true,
        Some("Deny") => false,
        _ => return Err("a Statement's Effect must be Allow or Deny".into()),
    };
    let action = scope(obj, "Action", "NotAction", |s| Some(s.to_string()))?
        .ok_or("a Statement needs Action or NotAction")?;
    let resource = scope(obj, "Resource", "NotResource", |s| Some(s.to_string()))?
        .ok_or("a Statement needs Resource or NotResource")?;
    let principal = match kind {
        Kind::Identity => None,
        Kind::Resource => Some(principals(obj)?),
    };
    let mut conditions = Vec::new();
    if let Some(c) = obj.get("Condition") {
        let ops = c.as_object().ok_or("Condition must be an object")?;
        for (op_name, keys) in ops {
            let keys = keys
                .as_object()
                .ok_or_else(|| format!("Condition {op_name} must be an object"))?;
            for (key, values) in keys {
                let c = condition(op_name, key, values)?;
                if c.op == Op::Unsupported {
                    warnings.push(format!(
                        "condition operator {op_name} is not supported: its statement fails closed"
                    ));
                }
                conditions.push(c);
            }
        }
    }
    Ok(Statement {
        allow,
        principal,
        action,
        resource,
        conditions,
    })
}

/// A string or a list of strings.
fn strings(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                Value::Bool(b) => Ok(b.to_string()),
                _ => Err("expected a string or a list of strings".to_string()),
            })
            .collect(),
        Value::Number(n) => Ok(vec![n.to_string()]),
        Value::Bool(b) => Ok(vec![b.to_string()]),
        _ => Err("expected a string or a list of strings".into()),
    }
}

fn scope<T>(
    obj: &serde_json::Map<String, Value>,
    yes: &str,
    no: &str,
    item: impl Fn(&str) -> Option<T>,
) -> Result<Option<Scope<T>>, String> {
    let list = |v: &Value| -> Result<Vec<T>, String> {
        Ok(strings(v)?.iter().filter_map(|s| item(s)).collect())
    };
    match (obj.get(yes), obj.get(no)) {
        (Some(_), Some(_)) => Err(format!("a Statement cannot have both {yes} and {no}")),
        (Some(v), None) => Ok(Some(Scope::In(list(v)?))),
        (None, Some(v)) => Ok(Some(Scope::NotIn(list(v)?))),
        (None, None) => Ok(None),
    }
}

fn principals(obj: &serde_json::Map<String, Value>) -> Result<Scope<Principal>, String> {
    let read = |v: &Value| -> Result<Vec<Principal>, String> {
        match v {
            Value::String(s) if s == "*" => Ok(vec![Principal::Anyone]),
            Value::Object(m) => {
                let mut out = Vec::new();
                for (kind, ids) in m {
                    for id in strings(ids)? {
                        out.push(match (kind.as_str(), id.as_str()) {
                            ("AWS", "*") => Principal::Anyone,
                            ("AWS", _) => Principal::Aws(id),
                            _ => Principal::Other,
                        });
                    }
                }
                Ok(out)
            }
            _ => Err("Principal must be \"*\" or an object".into()),
        }
    };
    match (obj.get("Principal"), obj.get("NotPrincipal")) {
        (Some(_), Some(_)) => Err("a Statement cannot have both Principal and NotPrincipal".into()),
        (Some(v), None) => Ok(Scope::In(read(v)?)),
        (None, Some(v)) => Ok(Scope::NotIn(read(v)?)),
        (None, None) => Err("a resource policy Statement needs Principal or NotPrincipal".into()),
    }
}

fn condition(op_name: &str, key: &str, values: &Value) -> Result<Condition, String> {
    let (qualifier, rest) = if let Some(r) = strip_prefix_ci(op_name, "ForAnyValue:") {
        (Qualifier::ForAnyValue, r)
    } else if let Some(r) = strip_prefix_ci(op_name, "ForAllValues:") {
        (Qualifier::ForAllValues, r)
    } else {
        (Qualifier::Single, op_name)
    };
    let (base, if_exists) = match strip_suffix_ci(rest, "IfExists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    let (op, negated) = match base.to_ascii_lowercase().as_str() {
        "stringequals" => (Op::StringEquals, false),
        "stringnotequals" => (Op::StringEquals, true),
        "stringequalsignorecase" => (Op::StringEqualsIgnoreCase, false),
        "stringnotequalsignorecase" => (Op::StringEqualsIgnoreCase, true),
        "stringlike" => (Op::StringLike, false),
        "stringnotlike" => (Op::StringLike, true),
        "arnequals" | "arnlike" => (Op::ArnLike, false),
        "arnnotequals" | "arnnotlike" => (Op::ArnLike, true),
        "ipaddress" => (Op::IpAddress, false),
        "notipaddress" => (Op::IpAddress, true),
        "bool" => (Op::Bool, false),
        "null" => (Op::Null, false),
        _ => (Op::Unsupported, false),
    };
    Ok(Condition {
        op,
        negated,
        if_exists,
        qualifier,
        key: key.to_ascii_lowercase(),
        values: strings(values).map_err(|e| format!("Condition {op_name} {key}: {e}"))?,
    })
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    (s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &s[prefix.len()..])
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let at = s.len().checked_sub(suffix.len())?;
    (s.is_char_boundary(at) && s[at..].eq_ignore_ascii_case(suffix)).then(|| &s[..at])
}

// === impl Statement ===

impl Statement {
    fn applies(&self, req: &Request<'_>) -> bool {
        let principal_ok = match &self.principal {
            None => true,
            Some(p) => p.covers(|p| p.matches(&req.caller)),
        };
        principal_ok
            && self.action.covers(|a| glob(a, req.action, true))
            && self
                .resource
                .covers(|r| resource_matches(r, req.resource, req.api_prefix))
            && self.conditions.iter().all(|c| c.holds(req, self.allow))
    }
}

impl<T> Scope<T> {
    fn covers(&self, matches: impl Fn(&T) -> bool) -> bool {
        match self {
            Scope::In(items) => items.iter().any(matches),
            Scope::NotIn(items) => !items.iter().any(matches),
        }
    }
}

impl Principal {
    fn matches(&self, caller: &Caller<'_>) -> bool {
        match (self, caller) {
            (Principal::Anyone, _) => true,
            (Principal::Aws(id), Caller::Iam { arn, account }) => {
                if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
                    return *account == Some(id.as_str());
                }
                if let Some(acct) = id
                    .strip_prefix("arn:aws:iam::")
                    .and_then(|r| r.strip_suffix(":root"))
                {
                    return *account == Some(acct);
                }
                id == arn || role_of_session(arn).is_some_and(|role| *id == role)
            }
            _ => false,
        }
    }
}

/// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` is a session of
/// `arn:aws:iam::ACCOUNT:role/ROLE`.
fn role_of_session(arn: &str) -> Option<String> {
    let rest = arn.strip_prefix("arn:aws:sts::")?;
    let (account, rest) = rest.split_once(":assumed-role/")?;
    let (role, _session) = rest.rsplit_once('/')?;
    Some(format!("arn:aws:iam::{account}:role/{role}"))
}

/// A `Resource` pattern against the method ARN: `execute-api:/…` is relative to the API's
/// ARN; an ARN pattern matches segment by segment (the last pattern segment takes the rest);
/// anything else (`*`) as a whole.
fn resource_matches(pattern: &str, resource: &str, api_prefix: &str) -> bool {
    if let Some(rest) = pattern.strip_prefix("execute-api:/") {
        return resource
            .strip_prefix(api_prefix)
            .is_some_and(|r| glob(rest, r, false));
    }
    if !pattern.starts_with("arn:") {
        return glob(pattern, resource, false);
    }
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let mut r = resource.splitn(p.len(), ':');
    p.iter()
        .all(|seg| r.next().is_some_and(|rs| glob(seg, rs, false)))
}

// === impl Condition ===

impl Condition {
    /// Whether the condition holds. `allow`: the statement's effect, for operators this
    /// evaluator does not implement (an `Allow` fails, a `Deny` applies).
    fn holds(&self, req: &Request<'_>, allow: bool) -> bool {
        if self.op == Op::Unsupported {
            return !allow;
        }
        let value = context_value(&self.key, req);
        if self.op == Op::Null {
            // "Null": true asks that the key be absent.
            let want_absent = self.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
            return want_absent == value.is_none();
        }
        let Some(value) = value else {
            // A missing key: positive operators fail, negated ones hold, `IfExists` holds, and
            // `ForAllValues` holds over the empty set.
            return self.negated || self.if_exists || self.qualifier == Qualifier::ForAllValues;
        };
        let any = self.values.iter().any(|v| self.matches_one(v, &value));
        any != self.negated
    }

    fn matches_one(&self, pattern: &str, value: &str) -> bool {
        match self.op {
            Op::StringEquals => pattern == value,
            Op::StringEqualsIgnoreCase => pattern.eq_ignore_ascii_case(value),
            Op::StringLike => glob(pattern, value, false),
            Op::ArnLike => resource_matches(pattern, value, ""),
            Op::IpAddress => value
                .parse::<IpAddr>()
                .is_ok_and(|ip| cidr_contains(pattern, ip)),
            Op::Bool => pattern.eq_ignore_ascii_case(value),
            Op::Null | Op::Unsupported => false,
        }
    }
}

/// The request's value for a condition key (lower case), if it has one.
fn context_value(key: &str, req: &Request<'_>) -> Option<String> {
    match key {
        "aws:sourceip" => Some(unmapped(req.source_ip).to_string()),
        "aws:useragent" => req.user_agent.map(str::to_string),
        "aws:principalarn" => match req.caller {
            Caller::Iam { arn, .. } => Some(role_of_session(arn).unwrap_or_else(|| arn.into())),
            Caller::Anonymous => None,
        },
        "aws:principalaccount" => match req.caller {
            Caller::Iam { account, .. } => account.map(str::to_string),
            Caller::Anonymous => None,
        },
        "aws:principaltype" => match req.caller {
            Caller::Iam { .. } => Some("User".into()),
            Caller::Anonymous => Some("Anonymous".into()),
        },
        _ => None,
    }
}

/// An IPv4 address a dual-stack socket reported as `::ffff:a.b.c.d`, as IPv4.
fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// `a.b.c.d/n`, `a:b::/n` or a single address; a malformed block contains nothing.
pub fn cidr_contains(block: &str, ip: IpAddr) -> bool {
    let (addr, bits) = match block.trim().split_once('/') {
        Some((a, b)) => (a, b.parse::<u32>().ok()),
        None => (block.trim(), None),
    };
    let Ok(net) = addr.parse::<IpAddr>() else {
        return false;
    };
    match (unmapped(net), unmapped(ip)) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let bits = bits.unwrap_or(32);
            if bits > 32 {
                return false;
            }
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let bits = bits.unwrap_or(128);
            if bits > 128 {
                return false;
            }
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

/// IAM wildcard matching: `*` any run of characters (none included), `?` exactly one.
pub fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and how much text it has taken.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && eq(p[pi], t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PREFIX: &str = "arn:aws:execute-api:us-east-1:123456789012:abc123/";

    fn request<'a>(resource: &'a str, ip: &str) -> Request<'a> {
        Request {
            action: "execute-api:Invoke",
            resource,
            api_prefix: PREFIX,
            caller: Caller::Anonymous,
            source_ip: ip.parse().unwrap(),
            user_agent: Some("curl/8"),
        }
    }

    fn arn(stage: &str, verb: &str, path: &str) -> String {
        execute_api_arn("us-east-1", "123456789012", "abc123", stage, verb, path)
    }

    fn identity(v: serde_json::Value) -> Policy {
        Policy::parse(&v, Kind::Identity).unwrap()
    }

    fn resource(v: serde_json::Value) -> Policy {
        Policy::parse(&v, Kind::Resource).unwrap()
    }

    fn allow(resource: serde_json::Value) -> serde_json::Value {
        json!({"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resource}
        ]})
    }

    #[test]
    fn method_arns_drop_the_leading_slash() {
        assert_eq!(
            arn("dev", "GET", "/pets/1"),
            "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/GET/pets/1"
        );
        assert_eq!(
            arn("dev", "GET", "/"),
            "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/GET/"
        );
        assert_eq!(
            arn("dev", "POST", ""),
            "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/POST/"
        );
    }

    #[test]
    fn glob_stars_and_question_marks() {
        assert!(glob("*", "", false));
        assert!(glob("*", "anything/at:all", false));
        assert!(glob("a*c", "abbbc", false));
        assert!(glob("a*c", "ac", false));
        assert!(!glob("a*c", "acb", false));
        assert!(glob("a?c", "abc", false));
        assert!(!glob("a?c", "ac", false));
        assert!(glob("*/GET/*", "dev/GET/pets/1", false));
        assert!(!glob("*/GET/*", "dev/POST/pets/1", false));
        assert!(glob("pets/*/toys", "pets/1/2/toys", false));
        assert!(!glob("Pets", "pets", false));
        assert!(glob("execute-api:invoke", "execute-api:Invoke", true));
        assert!(glob("**a**", "xxa", false));
        assert!(!glob("", "x", false));
    }

    #[test]
    fn allow_exact_and_wildcard_resources() {
        let get = arn("dev", "GET", "/pets");
        let post = arn("dev", "POST", "/pets");
        let p = identity(allow(json!(get.clone())));
        assert_eq!(p.evaluate(&request(&get, "1.2.3.4")), Decision::Allow);
        assert_eq!(
            p.evaluate(&request(&post, "1.2.3.4")),
            Decision::NotApplicable
        );
        let p = identity(allow(json!(
            "arn:aws:execute-api:us-east-1:123456789012:abc123/*/GET/*"
        )));
        assert_eq!(p.evaluate(&request(&get, "1.2.3.4")), Decision::Allow);
        assert_eq!(
            p.evaluate(&request(&post, "1.2.3.4")),
            Decision::NotApplicable
        );
        for any in [
            "*",
            "arn:aws:execute-api:*",
            "arn:aws:execute-api:*:*:*",
            "arn:aws:execute-api:us-east-1:*:abc123/*",
            "arn:aws:execute-api:us-east-?:123456789012:abc123/dev/*",
        ] {
            let p = identity(allow(json!(any)));
            assert_eq!(
                p.evaluate(&request(&post, "1.2.3.4")),
                Decision::Allow,
                "{any}"
            );
        }
        // Segment by segment: a region pattern does not match the account.
        let p = identity(allow(json!("arn:aws:execute-api:us-east-1:1234*:abc123/*")));
        assert_eq!(p.evaluate(&request(&post, "1.2.3.4")), Decision::Allow);
        let p = identity(allow(json!(
            "arn:aws:execute-api:us-west-?:123456789012:abc123/*"
        )));
        assert_eq!(
            p.evaluate(&request(&post, "1.2.3.4")),
            Decision::NotApplicable
        );
        // Another API, another account.
        let p = identity(allow(json!(
            "arn:aws:execute-api:us-east-1:123456789012:other/*"
        )));
        assert_eq!(
            p.evaluate(&request(&get, "1.2.3.4")),
            Decision::NotApplicable
        );
    }

    #[test]
    fn resources_and_actions_as_lists_statement_as_object() {
        let get = arn("dev", "GET", "/pets");
        let v = json!({"Version": "2012-10-17", "Statement": {
            "Action": ["s3:GetObject", "execute-api:*"],
            "Effect": "Allow",
            "Resource": ["arn:aws:s3:::bucket/*", get.clone()],
        }});
        assert_eq!(
            identity(v).evaluate(&request(&get, "1.2.3.4")),
            Decision::Allow
        );
        for action in [
            "*",
            "execute-api:Invoke",
            "EXECUTE-API:invoke",
            "execute-api:In*",
        ] {
            let v = json!({"Statement": [{"Action": action, "Effect": "Allow", "Resource": "*"}]});
            assert_eq!(
                identity(v).evaluate(&request(&get, "1.2.3.4")),
                Decision::Allow,
                "{action}"
            );
        }
        for action in [
            "execute-api:ManageConnections",
            "s3:*",
            "execute-api:Invoke2",
        ] {
            let v = json!({"Statement": [{"Action": action, "Effect": "Allow", "Resource": "*"}]});
            assert_eq!(
                identity(v).evaluate(&request(&get, "1.2.3.4")),
                Decision::NotApplicable,
                "{action}"
            );
        }
    }

    #[test]
    fn explicit_deny_wins_in_any_order() {
        let get = arn("dev", "GET", "/pets");
        for statements in [
            json!([
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"},
                {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": get.clone()},
            ]),
            json!([
                {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": "*/GET/*"},
                {"Action": "*", "Effect": "Allow", "Resource": "*"},
            ]),
        ] {
            let p = identity(json!({"Statement": statements}));
            assert_eq!(
                p.evaluate(&request(&get, "1.2.3.4")),
                Decision::ExplicitDeny
            );
        }
        // A Deny that does not cover the request leaves the Allow.
        let p = identity(json!({"Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"},
            {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": "*/POST/*"},
        ]}));
        assert_eq!(p.evaluate(&request(&get, "1.2.3.4")), Decision::Allow);
    }

    #[test]
    fn not_action_and_not_resource() {
        let get = arn("dev", "GET", "/pets");
        let admin = arn("dev", "GET", "/admin");
        let p = identity(json!({"Statement": [
            {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:execute-api:*:*:*/*/*/admin"},
        ]}));
        assert_eq!(p.evaluate(&request(&get, "1.2.3.4")), Decision::Allow);
        assert_eq!(
            p.evaluate(&request(&admin, "1.2.3.4")),
            Decision::NotApplicable
        );
        let p = identity(json!({"Statement": [
            {"Effect": "Deny", "NotAction": "execute-api:Invoke", "Resource": "*"},
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
        ]}));
        assert_eq!(p.evaluate(&request(&get, "1.2.3.4")), Decision::Allow);
    }

    #[test]
    fn malformed_documents_are_refused() {
        for bad in [
            json!("x"),
            json!({}),
            json!({"Statement": "x"}),
            json!({"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "allow", "Action": "*", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "*", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": {"a": 1}, "Resource": "*"}]}),
        ] {
            assert!(Policy::parse(&bad, Kind::Identity).is_err(), "{bad}");
        }
        // A resource policy statement names its principal.
        let no_principal =
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        assert!(Policy::parse(&no_principal, Kind::Resource).is_err());
        assert!(Policy::parse_str("{not json", Kind::Resource).is_err());
    }

    #[test]
    fn resource_policy_short_form_and_principals() {
        let get = arn("dev", "GET", "/pets");
        let p = resource(json!({"Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
            "Resource": "execute-api:/dev/GET/*",
        }]}));
        assert_eq!(p.evaluate(&request(&get, "1.2.3.4")), Decision::Allow);
        let prod = arn("prod", "GET", "/pets");
        assert_eq!(
            p.evaluate(&request(&prod, "1.2.3.4")),
            Decision::NotApplicable
        );

        // {"AWS": ...}: anyone with "*", else only the named IAM callers.
        let named = resource(json!({"Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::123456789012:user/alice", "210987654321"]},
            "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
        }]}));
        assert_eq!(
            named.evaluate(&request(&get, "1.2.3.4")),
            Decision::NotApplicable
        );
        let mut req = request(&get, "1.2.3.4");
        req.caller = Caller::Iam {
            arn: "arn:aws:iam::123456789012:user/alice",
            account: Some("123456789012"),
        };
        assert_eq!(named.evaluate(&req), Decision::Allow);
        req.caller = Caller::Iam {
            arn: "arn:aws:iam::123456789012:user/bob",
            account: Some("123456789012"),
        };
        assert_eq!(named.evaluate(&req), Decision::NotApplicable);
        req.caller = Caller::Iam {
            arn: "arn:aws:iam::210987654321:user/carol",
            account: Some("210987654321"),
        };
        assert_eq!(named.evaluate(&req), Decision::Allow);

        let root_and_role = resource(json!({"Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::123456789012:role/ops"]},
            "Action": "execute-api:Invoke", "Resource": "*",
        }]}));
        req.caller = Caller::Iam {
            arn: "arn:aws:iam::111122223333:user/dave",
            account: Some("111122223333"),
        };
        assert_eq!(root_and_role.evaluate(&req), Decision::Allow);
        req.caller = Caller::Iam {
            arn: "arn:aws:sts::123456789012:assumed-role/ops/session-1",
            account: Some("123456789012"),
        };
        assert_eq!(root_and_role.evaluate(&req), Decision::Allow);

        let anyone = resource(json!({"Statement": [{
            "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Resource": "*",
        }]}));
        assert_eq!(
            anyone.evaluate(&request(&get, "1.2.3.4")),
            Decision::ExplicitDeny
        );
        let service = resource(json!({"Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "*", "Resource": "*",
        }]}));
        assert_eq!(
            service.evaluate(&request(&get, "1.2.3.4")),
            Decision::NotApplicable
        );
        let not_alice = resource(json!({"Statement": [{
            "Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:user/alice"},
            "Action": "*", "Resource": "*",
        }]}));
        assert_eq!(
            not_alice.evaluate(&request(&get, "1.2.3.4")),
            Decision::ExplicitDeny
        );
        req.caller = Caller::Iam {
            arn: "arn:aws:iam::123456789012:user/alice",
            account: Some("123456789012"),
        };
        assert_eq!(not_alice.evaluate(&req), Decision::NotApplicable);
    }

    #[test]
    fn source_ip_conditions_v4_and_v6() {
        let get = arn("dev", "GET", "/pets");
        let allow_block = resource(json!({"Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
            "Resource": "execute-api:/*",
            "Condition": {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "198.51.100.7", "2001:db8::/32"]}},
        }]}));
        for (ip, want) in [
            ("192.0.2.10", Decision::Allow),
            ("192.0.3.10", Decision::NotApplicable),
            ("198.51.100.7", Decision::Allow),
            ("198.51.100.8", Decision::NotApplicable),
            ("2001:db8:1::5", Decision::Allow),
            ("2001:db9::5", Decision::NotApplicable),
            ("::ffff:192.0.2.99", Decision::Allow),
        ] {
            assert_eq!(allow_block.evaluate(&request(&get, ip)), want, "{ip}");
        }
        let deny_others = resource(json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
            {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
             "Condition": {"NotIpAddress": {"aws:sourceip": "10.0.0.0/8"}}},
        ]}));
        assert_eq!(
            deny_others.evaluate(&request(&get, "10.1.2.3")),
            Decision::Allow
        );
        assert_eq!(
            deny_others.evaluate(&request(&get, "11.1.2.3")),
            Decision::ExplicitDeny
        );
        assert!(cidr_contains("0.0.0.0/0", "8.8.8.8".parse().unwrap()));
        assert!(cidr_contains("::/0", "2001:db8::1".parse().unwrap()));
        assert!(!cidr_contains("10.0.0.0/33", "10.0.0.1".parse().unwrap()));
        assert!(!cidr_contains("bogus/8", "10.0.0.1".parse().unwrap()));
        assert!(!cidr_contains("10.0.0.0/8", "::1".parse().unwrap()));
    }

    #[test]
    fn missing_keys_and_unsupported_operators() {
        let get = arn("dev", "GET", "/pets");
        // The docs' VPC endpoint example: a public request has no aws:SourceVpce, so
        // StringNotEquals holds and the Deny applies.
        let vpce = resource(json!({"Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
        }]}));
        assert_eq!(
            vpce.evaluate(&request(&get, "1.2.3.4")),
            Decision::ExplicitDeny
        );
        let positive = resource(json!({"Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}},
        }]}));
        assert_eq!(
            positive.evaluate(&request(&get, "1.2.3.4")),
            Decision::NotApplicable
        );
        let if_exists = resource(json!({"Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
            "Condition": {"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}},
        }]}));
        assert_eq!(
            if_exists.evaluate(&request(&get, "1.2.3.4")),
            Decision::Allow
        );
        let null = resource(json!({"Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
            "Condition": {"Null": {"aws:PrincipalArn": "true"}},
        }]}));
        assert_eq!(
            null.evaluate(&request(&get, "1.2.3.4")),
            Decision::ExplicitDeny
        );
        let ua = resource(json!({"Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
            "Condition": {"StringLike": {"aws:UserAgent": "curl/*"}, "IpAddress": {"aws:SourceIp": "1.2.3.0/24"}},
        }]}));
        assert_eq!(ua.evaluate(&request(&get, "1.2.3.4")), Decision::Allow);
        assert_eq!(
            ua.evaluate(&request(&get, "1.2.4.4")),
            Decision::NotApplicable
        );
        // An operator this evaluator lacks: the Allow does not apply, the Deny does.
        let date = json!({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}});
        let allow_dated = resource(json!({"Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": date.clone(),
        }]}));
        assert_eq!(allow_dated.warnings.len(), 1);
        assert_eq!(
            allow_dated.evaluate(&request(&get, "1.2.3.4")),
            Decision::NotApplicable
        );
        let deny_dated = resource(json!({"Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*", "Condition": date,
        }]}));
        assert_eq!(
            deny_dated.evaluate(&request(&get, "1.2.3.4")),
            Decision::ExplicitDeny
        );
    }

    #[test]
    fn principal_conditions_for_iam_callers() {
        let get = arn("dev", "GET", "/x");
        let p = resource(json!({"Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*/GET/x",
            "Condition": {"ForAllValues:ArnNotEquals": {"aws:PrincipalArn": ["arn:aws:iam::123456789012:role/a"]}},
        }]}));
        let mut req = request(&get, "1.2.3.4");
        req.caller = Caller::Iam {
            arn: "arn:aws:sts::123456789012:assumed-role/a/s",
            account: Some("123456789012"),
        };
        assert_eq!(p.evaluate(&req), Decision::NotApplicable);
        req.caller = Caller::Iam {
            arn: "arn:aws:sts::123456789012:assumed-role/b/s",
            account: Some("123456789012"),
        };
        assert_eq!(p.evaluate(&req), Decision::ExplicitDeny);
    }
}

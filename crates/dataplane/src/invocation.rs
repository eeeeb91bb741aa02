//! One request's journey through a stage: what every phase reads and writes.

use std::borrow::Cow::{self, Borrowed, Owned};
use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method};

use crate::compile::{CompiledMethod, CompiledStage};
use crate::mapping::ParamSource;

/// The per-request context (`$context`, `$input`, parameters).
#[derive(Debug)]
pub struct Invocation {
    pub request_id: String,
    pub extended_request_id: String,
    pub method: Method,
    /// The request path after the stage, as the client sent it (still percent-encoded).
    pub path: String,
    pub raw_query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub source_ip: IpAddr,
    pub request_time_ms: i64,
    pub domain_name: String,
    pub stage: Arc<CompiledStage>,
    pub target: Arc<CompiledMethod>,
    pub path_params: Vec<(String, String)>,
    pub account_id: Arc<str>,
    /// The API key used (value, id), once the usage-plan phase accepted it.
    pub api_key: Option<(String, String)>,
    /// What authorization established (authorizer output, IAM caller).
    pub authorized: crate::authorization::Authorized,
    /// The request's header names as the client spelled them (HTTP/1.1 only), when the
    /// connection recorded them; see `header_case`.
    pub original_header_names: Option<Vec<String>>,
}

/// The decoded `(name, value)` pairs of a raw query string, in order (`+` is a space, as
/// browsers and AWS clients encode it; a pair without `=` has an empty value).
pub(crate) fn query_pairs(q: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query_pairs_borrowed(q).map(|(k, v)| (k.into_owned(), v.into_owned()))
}

/// [`query_pairs`], borrowing the names and values that need no decoding.
pub(crate) fn query_pairs_borrowed(q: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    q.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k), decode(v))
    })
}

fn decode(s: &str) -> Cow<'_, str> {
    if !s.contains(['+', '%']) {
        return Borrowed(s);
    }
    Owned(
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned(),
    )
}

/// The value at a JSONPath of a JSON body, as a mapping expression yields it: strings as they
/// are, anything else as JSON text; nothing when the body is not JSON or the path is missing.
pub fn json_path_value(body: &[u8], path: &portico_mapping::JsonPath) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_slice(body).ok()?;
    match path.eval(&doc)? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// An address as text (`127.0.0.1`), IPv4 without the formatting machinery (this runs for
/// every proxied request's `X-Forwarded-For`).
pub fn ip_text(ip: IpAddr) -> String {
    let IpAddr::V4(v4) = ip else {
        return ip.to_string();
    };
    let mut s = String::with_capacity(15);
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        if octet >= 100 {
            s.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            s.push(char::from(b'0' + octet / 10 % 10));
        }
        s.push(char::from(b'0' + octet % 10));
    }
    s
}

impl Invocation {
    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.path_params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All decoded values of a query parameter, in order.
    pub fn query_values(&self, name: &str) -> Vec<String> {
        let Some(q) = &self.raw_query else {
            return Vec::new();
        };
        query_pairs(q)
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .collect()
    }

    /// A single-valued query parameter: the last value, as AWS maps it.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_values(name).pop()
    }

    /// `lower` (a header name as `http` stores it) as the client spelled it, if known.
    pub fn original_header_name(&self, lower: &str) -> Option<&str> {
        self.original_header_names
            .as_ref()?
            .iter()
            .find(|n| n.eq_ignore_ascii_case(lower))
            .map(String::as_str)
    }

    /// The port of the Host the client addressed, if it named one.
    pub fn domain_port(&self) -> Option<u16> {
        let host = self.header("host")?;
        let (_, port) = host.rsplit_once(':')?;
        port.parse().ok()
    }

    /// Every value of a header, joined with `,` (none: `None`).
    pub fn header_values_joined(&self, name: &str) -> Option<String> {
        let v: Vec<&str> = self
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!v.is_empty()).then(|| v.join(","))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get_all(name)
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
    }

    /// `$context.X` values.
    pub fn context_var(&self, name: &str) -> Option<String> {
        self.context_str(name).map(Cow::into_owned)
    }

    /// `$context.X` values, borrowed where the invocation holds them as they are.
    pub fn context_str(&self, name: &str) -> Option<Cow<'_, str>> {
        Some(match name {
            "requestId" | "awsEndpointRequestId" => Borrowed(&self.request_id),
            "extendedRequestId" => Borrowed(&self.extended_request_id),
            "apiId" => Borrowed(&self.stage.api_id),
            "stage" => Borrowed(&self.stage.name),
            "deploymentId" => Borrowed(&self.stage.deployment_id),
            "resourceId" => Borrowed(&self.target.resource_id),
            "resourcePath" => Borrowed(&self.target.resource_path),
            "httpMethod" => Borrowed(self.method.as_str()),
            "path" => Owned(format!("/{}{}", self.stage.name, self.path)),
            "protocol" => Borrowed("HTTP/1.1"),
            "accountId" => Borrowed(&self.account_id),
            "domainName" => Borrowed(&self.domain_name),
            "domainPrefix" => Borrowed(self.domain_name.split('.').next().unwrap_or("")),
            "requestTime" => Owned(portico_model::time::clf(self.request_time_ms)),
            "requestTimeEpoch" => Owned(self.request_time_ms.to_string()),
            _ => {
                if let Some(field) = name.strip_prefix("identity.") {
                    return self.identity_str(field);
                }
                return self
                    .authorized
                    .context_var(name.strip_prefix("authorizer.")?)
                    .map(Owned);
            }
        })
    }

    /// `$context.identity.X` values.
    pub fn identity_str(&self, field: &str) -> Option<Cow<'_, str>> {
        let iam = || self.authorized.iam.as_ref();
        Some(match field {
            "sourceIp" => Owned(ip_text(self.source_ip)),
            "apiKey" => Borrowed(&self.api_key.as_ref()?.0),
            "apiKeyId" => Borrowed(&self.api_key.as_ref()?.1),
            "userAgent" => Borrowed(self.header("user-agent").unwrap_or("")),
            "accessKey" => Borrowed(&iam()?.access_key),
            "accountId" => Borrowed(iam()?.account_id.as_deref()?),
            "caller" => Borrowed(iam()?.caller.as_deref()?),
            "user" => Borrowed(iam()?.user.as_deref()?),
            "userArn" => Borrowed(iam()?.user_arn.as_deref()?),
            _ => return None,
        })
    }

    /// The value of a request-side mapping expression.
    pub fn source_value(&self, source: &ParamSource) -> Option<String> {
        match source {
            ParamSource::Static(s) => Some(s.clone()),
            ParamSource::MethodPath(n) => self.path_param(n).map(str::to_string),
            ParamSource::MethodQuery(n) => self.query_param(n),
            ParamSource::MethodMultiQuery(n) => {
                let v = self.query_values(n);
                (!v.is_empty()).then(|| v.join(","))
            }
            ParamSource::MethodHeader(n) => self.header(n).map(str::to_string),
            ParamSource::MethodMultiHeader(n) => self.header_values_joined(n),
            ParamSource::MethodBody => Some(String::from_utf8_lossy(&self.body).into_owned()),
            ParamSource::MethodBodyPath(p) => json_path_value(&self.body, p),
            ParamSource::Context(n) => self.context_var(n),
            ParamSource::StageVariable(n) => self.stage.variables.get(n).cloned(),
            ParamSource::IntegrationHeader(_)
            | ParamSource::IntegrationMultiHeader(_)
            | ParamSource::IntegrationBody
            | ParamSource::IntegrationBodyPath(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ip_text, query_pairs};

    #[test]
    fn formats_addresses() {
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "10.20.100.255",
            "::1",
            "2001:db8::8a2e:370:7334",
        ] {
            let parsed: std::net::IpAddr = ip.parse().unwrap();
            assert_eq!(ip_text(parsed), ip);
        }
    }

    #[test]
    fn query_pairs_decode_names_values_and_plus() {
        let pairs: Vec<_> = query_pairs("a=1&&b%20c=x+y%2B&flag&a=2").collect();
        assert_eq!(
            pairs,
            [
                ("a".into(), "1".into()),
                ("b c".into(), "x y+".into()),
                ("flag".into(), String::new()),
                ("a".into(), "2".into()),
            ]
        );
    }
}

//! Lambda functions: where an integration's or an authorizer's function runs.
//!
//! [`Invoker`] is the one component the data plane (Lambda integrations) and authorizers call.
//! A function declared in the config file (`[functions.NAME]`) runs locally: Portico hosts the
//! Lambda Runtime API (2018-06-01) for it and supervises a pool of processes running its
//! command ([`local`]). Any other function is invoked on the configured Lambda endpoint with
//! SigV4 and the Invoke API's semantics ([`remote`]).
//!
//! The answer has the Invoke API's shape: a payload, and `function_error` set (as
//! `X-Amz-Function-Error` would be) when the function failed — raised an error, crashed, timed
//! out or failed to initialise; the payload then holds `{"errorMessage", "errorType", ...}`.
//! [`InvokeError`] is for invocations that did not reach a function at all.

pub mod local;
pub mod remote;

use std::collections::BTreeMap;

use bytes::Bytes;

pub use local::{FunctionConfig, LocalFunctions};
pub use remote::{LambdaConfig, RemoteLambda};

/// Region and account the functions run as (ARNs, environment).
#[derive(Debug, Clone)]
pub struct Settings {
    pub region: String,
    pub account_id: String,
}

/// What an invocation returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoked {
    pub payload: Bytes,
    /// `Unhandled` when the function failed (error, crash, timeout, init error).
    pub function_error: Option<String>,
}

/// Why an invocation did not reach a function.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// No local function has the name and no Lambda endpoint is configured.
    #[error("Function not found: {0}")]
    NotFound(String),
    /// Every instance was busy for as long as the function's timeout.
    #[error("Rate Exceeded.")]
    Throttled,
    /// The event is larger than Lambda's synchronous payload limit (6 MB).
    #[error("Request payload size exceeded the limit for synchronous invocations")]
    PayloadTooLarge,
    /// The Invoke call failed (network, credentials, an error answer from the endpoint).
    #[error("{0}")]
    Service(String),
}

/// The synchronous payload limit, both ways (6 MB).
pub const MAX_PAYLOAD: usize = 6 * 1024 * 1024;

/// A function as an integration or authorizer URI names it: a name or an ARN, with an
/// optional qualifier (`name:alias`, `arn:...:function:name:3`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    pub name: String,
    pub qualifier: Option<String>,
    /// From an ARN: its region and account.
    pub region: Option<String>,
    pub account_id: Option<String>,
}

impl FunctionRef {
    /// Reads `name`, `name:qualifier`, `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`
    /// or the integration URI form
    /// `arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/{that}/invocations`.
    pub fn parse(s: &str) -> Option<FunctionRef> {
        let s = match s.split_once(":lambda:path/2015-03-31/functions/") {
            Some((head, rest)) if head.starts_with("arn:") && head.contains(":apigateway:") => {
                rest.strip_suffix("/invocations")?
            }
            _ => s,
        };
        if let Some(rest) = s.strip_prefix("arn:") {
            // partition:lambda:region:account:function:name[:qualifier]
            let parts: Vec<&str> = rest.split(':').collect();
            if parts.len() < 6 || parts[1] != "lambda" || parts[4] != "function" {
                return None;
            }
            let name = parts[5];
            let qualifier = parts.get(6).map(|q| q.to_string());
            if !valid_name(name) || parts.len() > 7 {
                return None;
            }
            return Some(FunctionRef {
                name: name.to_string(),
                qualifier,
                region: Some(parts[2].to_string()).filter(|r| !r.is_empty()),
                account_id: Some(parts[3].to_string()).filter(|a| !a.is_empty()),
            });
        }
        let (name, qualifier) = match s.split_once(':') {
            Some((n, q)) => (n, Some(q.to_string())),
            None => (s, None),
        };
        valid_name(name).then(|| FunctionRef {
            name: name.to_string(),
            qualifier,
            region: None,
            account_id: None,
        })
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 140
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Local functions first, then the remote Lambda endpoint.
#[derive(Debug)]
pub struct Invoker {
    local: LocalFunctions,
    remote: Option<RemoteLambda>,
}

impl Invoker {
    pub fn new(functions: BTreeMap<String, FunctionConfig>, settings: Settings) -> Invoker {
        Invoker {
            local: LocalFunctions::new(functions, settings),
            remote: None,
        }
    }

    /// Sends functions that are not local to a Lambda endpoint.
    pub fn with_remote(mut self, remote: RemoteLambda) -> Invoker {
        self.remote = Some(remote);
        self
    }

    /// Invokes `function` with `payload` (synchronously, `RequestResponse`).
    pub async fn invoke(
        &self,
        function: &FunctionRef,
        payload: Bytes,
    ) -> Result<Invoked, InvokeError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(InvokeError::PayloadTooLarge);
        }
        if self.local.contains(&function.name) {
            return self.local.invoke(&function.name, payload).await;
        }
        match &self.remote {
            Some(remote) => remote.invoke(function, payload).await,
            None => Err(InvokeError::NotFound(function.name.clone())),
        }
    }

    /// Stops every local function's processes.
    pub async fn shutdown(&self) {
        self.local.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_arns_and_integration_uris() {
        let f = FunctionRef::parse("my-fn").unwrap();
        assert_eq!((f.name.as_str(), f.qualifier), ("my-fn", None));
        let f = FunctionRef::parse("my-fn:live").unwrap();
        assert_eq!(f.qualifier.as_deref(), Some("live"));
        let f = FunctionRef::parse("arn:aws:lambda:eu-west-1:123456789012:function:f:3").unwrap();
        assert_eq!(f.name, "f");
        assert_eq!(f.qualifier.as_deref(), Some("3"));
        assert_eq!(f.region.as_deref(), Some("eu-west-1"));
        let f = FunctionRef::parse(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:echo/invocations",
        )
        .unwrap();
        assert_eq!(f.name, "echo");
        for bad in [
            "",
            "a b",
            "arn:aws:s3:::bucket",
            "arn:aws:lambda:r:a:function:",
        ] {
            assert!(FunctionRef::parse(bad).is_none(), "{bad}");
        }
    }
}

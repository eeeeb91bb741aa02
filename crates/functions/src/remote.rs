//! Remote functions: AWS Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`,
//! `RequestResponse`) on the configured endpoint, signed with SigV4 (service `lambda`), with the
//! credentials of the standard AWS environment: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
//! `AWS_SESSION_TOKEN`, else the shared credentials file's profile (`AWS_PROFILE`, default
//! `default`; `AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`).
//!
//! The answer keeps the Invoke API's semantics: `X-Amz-Function-Error` marks a function error;
//! error answers map onto [`InvokeError`] (`ResourceNotFoundException` → `NotFound`,
//! `TooManyRequestsException` → `Throttled`, anything else → `Service`).

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use portico_sigv4::{Credentials, OutgoingRequest, Payload, SigningParams};
use serde::Deserialize;

use crate::{FunctionRef, InvokeError, Invoked, MAX_PAYLOAD};

/// `[lambda]` in the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LambdaConfig {
    /// The Invoke API's base URL (`https://lambda.us-east-1.amazonaws.com`, or a local
    /// emulator's).
    pub endpoint: String,
    /// The region to sign for when the function is named without an ARN (default: Portico's).
    #[serde(default)]
    pub region: Option<String>,
}

/// The Lambda endpoint and how to sign for it.
pub struct RemoteLambda {
    endpoint: String,
    region: String,
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl std::fmt::Debug for RemoteLambda {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteLambda")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl RemoteLambda {
    pub fn new(config: &LambdaConfig, default_region: &str) -> Result<RemoteLambda, String> {
        let endpoint = config.endpoint.trim_end_matches('/').to_string();
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(format!(
                "[lambda] endpoint must be an http:// or https:// URL, got {endpoint}"
            ));
        }
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .build();
        Ok(RemoteLambda {
            endpoint,
            region: config
                .region
                .clone()
                .unwrap_or_else(|| default_region.to_string()),
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    pub async fn invoke(&self, f: &FunctionRef, payload: Bytes) -> Result<Invoked, InvokeError> {
        let credentials = credentials().ok_or_else(|| {
            InvokeError::Service(
                "no AWS credentials for the Lambda endpoint (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in ~/.aws/credentials)".into(),
            )
        })?;
        let region = f.region.clone().unwrap_or_else(|| self.region.clone());
        let name = match (&f.region, &f.account_id) {
            (Some(r), Some(a)) => format!("arn:aws:lambda:{r}:{a}:function:{}", f.name),
            _ => f.name.clone(),
        };
        let mut url = format!(
            "{}/2015-03-31/functions/{}/invocations",
            self.endpoint,
            portico_sigv4::uri_encode_component(&name)
        );
        if let Some(q) = &f.qualifier {
            url.push_str("?Qualifier=");
            url.push_str(&portico_sigv4::uri_encode_component(q));
        }
        let time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let headers = [
            ("Content-Type", "application/json"),
            ("X-Amz-Invocation-Type", "RequestResponse"),
        ];
        let signed = portico_sigv4::sign(
            &OutgoingRequest {
                method: "POST",
                url: &url,
                headers: &headers,
                payload: Payload::Bytes(&payload),
            },
            &SigningParams {
                credentials: &credentials,
                region: &region,
                service: "lambda",
                time,
            },
        )
        .map_err(|e| InvokeError::Service(format!("signing the Invoke request: {e}")))?;
        let mut req = hyper::Request::builder().method("POST").uri(&url);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        for (k, v) in &signed {
            req = req.header(*k, v.as_str());
        }
        let req = req
            .body(Full::new(payload))
            .map_err(|e| InvokeError::Service(format!("building the Invoke request: {e}")))?;
        let resp = self
            .client
            .request(req)
            .await
            .map_err(|e| InvokeError::Service(format!("calling {}: {e}", self.endpoint)))?;
        let status = resp.status().as_u16();
        let function_error = resp
            .headers()
            .get("x-amz-function-error")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let error_type = resp
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(|t| t.split(':').next().unwrap_or(t).to_string());
        let body = Limited::new(resp.into_body(), MAX_PAYLOAD + 1024)
            .collect()
            .await
            .map_err(|e| InvokeError::Service(format!("reading the Invoke answer: {e}")))?
            .to_bytes();
        if (200..300).contains(&status) {
            return Ok(Invoked {
                payload: body,
                function_error,
            });
        }
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let kind = error_type
            .or_else(|| parsed["Type"].as_str().map(str::to_string))
            .or_else(|| parsed["__type"].as_str().map(str::to_string))
            .unwrap_or_default();
        let message = parsed["message"]
            .as_str()
            .or_else(|| parsed["Message"].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        Err(match kind.as_str() {
            "ResourceNotFoundException" => InvokeError::NotFound(f.name.clone()),
            "TooManyRequestsException" => InvokeError::Throttled,
            "RequestTooLargeException" => InvokeError::PayloadTooLarge,
            _ => InvokeError::Service(format!("Lambda answered {status} {kind}: {message}")),
        })
    }
}

/// Credentials from the environment, else the shared credentials file.
pub fn credentials() -> Option<Credentials> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(id), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        return Some(Credentials {
            access_key_id: id,
            secret_access_key: secret,
            session_token: env("AWS_SESSION_TOKEN"),
        });
    }
    let file = env("AWS_SHARED_CREDENTIALS_FILE")
        .map(std::path::PathBuf::from)
        .or_else(|| env("HOME").map(|h| std::path::Path::new(&h).join(".aws/credentials")))?;
    let text = std::fs::read_to_string(file).ok()?;
    let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
    profile_credentials(&text, &profile)
}

/// The `[profile]` section of a shared credentials file.
fn profile_credentials(text: &str, profile: &str) -> Option<Credentials> {
    let mut in_section = false;
    let (mut id, mut secret, mut token) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_section = name.trim() == profile;
            continue;
        }
        if !in_section {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim().to_string();
        match k.trim() {
            "aws_access_key_id" => id = Some(v),
            "aws_secret_access_key" => secret = Some(v),
            "aws_session_token" => token = Some(v),
            _ => {}
        }
    }
    Some(Credentials {
        access_key_id: id?,
        secret_access_key: secret?,
        session_token: token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_profile() {
        let text = "[default]\naws_access_key_id = A\naws_secret_access_key=S\n\n[other]\naws_access_key_id=B\naws_secret_access_key=T\naws_session_token = X\n";
        let c = profile_credentials(text, "other").unwrap();
        assert_eq!(
            (c.access_key_id.as_str(), c.session_token.as_deref()),
            ("B", Some("X"))
        );
        assert_eq!(
            profile_credentials(text, "default").unwrap().access_key_id,
            "A"
        );
        assert!(profile_credentials(text, "missing").is_none());
    }

    #[test]
    fn encodes_arns_in_the_path() {
        assert_eq!(
            portico_sigv4::uri_encode_component("arn:aws:lambda:us-east-1:1:function:f"),
            "arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af"
        );
    }
}

//! The pooled HTTP client behind HTTP and HTTP_PROXY integrations: keep-alive connections
//! shared by every worker thread, TLS by rustls (ring).

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::MAX_PAYLOAD_BYTES;

/// Why an upstream call failed, as the gateway response it becomes.
#[derive(Debug)]
pub enum UpstreamError {
    /// No answer within the integration timeout.
    Timeout,
    /// The request never reached the upstream (refused, DNS, TLS).
    Unreachable(String),
    /// The upstream answered more than the payload limit.
    TooLarge,
    /// The connection broke mid-answer.
    Broken(String),
}

/// A buffered upstream answer.
pub type UpstreamResponse = Response<Bytes>;

#[derive(Debug, Clone)]
pub struct Upstream {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Default for Upstream {
    fn default() -> Self {
        Upstream::new()
    }
}

impl Upstream {
    pub fn new() -> Upstream {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.enforce_http(false);
        http.set_keepalive(Some(Duration::from_secs(60)));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(1024)
            .build(https);
        Upstream { client }
    }

    /// Sends `req` and buffers the answer (bounded by the payload limit), all within `timeout`.
    pub async fn send(
        &self,
        req: Request<Full<Bytes>>,
        timeout: Duration,
    ) -> Result<UpstreamResponse, UpstreamError> {
        let call = async {
            let resp = self.client.request(req).await.map_err(|e| {
                if e.is_connect() {
                    UpstreamError::Unreachable(format!("{e:?}"))
                } else {
                    UpstreamError::Broken(format!("{e:?}"))
                }
            })?;
            let (parts, body) = resp.into_parts();
            let bytes = Limited::new(body, MAX_PAYLOAD_BYTES)
                .collect()
                .await
                .map_err(|e| {
                    if e.downcast_ref::<http_body_util::LengthLimitError>()
                        .is_some()
                    {
                        UpstreamError::TooLarge
                    } else {
                        UpstreamError::Broken(e.to_string())
                    }
                })?
                .to_bytes();
            Ok(Response::from_parts(parts, bytes))
        };
        tokio::time::timeout(timeout, call)
            .await
            .map_err(|_| UpstreamError::Timeout)?
    }
}

//! The pooled HTTP clients behind HTTP and HTTP_PROXY integrations. Plain HTTP goes through
//! [`h1`], inline in the request's task; HTTPS through hyper's pooled client with rustls (ring).
//! Both keep connections alive and share them across worker threads.

mod h1;

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

/// A request for an integration endpoint.
#[derive(Debug)]
pub struct Outbound {
    pub method: http::Method,
    /// Absolute `http://` or `https://` URL.
    pub url: String,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

#[derive(Debug)]
pub struct Upstream {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    plain: h1::Pool,
}

/// `(host, port, authority, path_and_query)` of an `http://` URL.
fn split_http_url(url: &str) -> Option<(&str, u16, &str, &str)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, tail) = v6.split_once(']')?;
        let port = match tail.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None => 80,
        };
        (h, port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().ok()?),
            None => (authority, 80),
        }
    };
    if host.is_empty() || authority.contains('@') {
        return None;
    }
    Some((host, port, authority, path))
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
        Upstream {
            client,
            plain: h1::Pool::default(),
        }
    }

    /// Sends `req` and buffers the answer, all within `timeout`.
    pub async fn send(
        &self,
        req: Outbound,
        timeout: Duration,
    ) -> Result<UpstreamResponse, UpstreamError> {
        if let Some((host, port, authority, path)) = split_http_url(&req.url) {
            let out = h1::Outbound {
                method: &req.method,
                host,
                port,
                authority,
                path_and_query: path,
                headers: &req.headers,
                body: &req.body,
            };
            return tokio::time::timeout(timeout, self.plain.send(&out))
                .await
                .map_err(|_| UpstreamError::Timeout)?;
        }
        if !req.url.starts_with("https://") {
            return Err(UpstreamError::Unreachable(format!(
                "unsupported integration URL {}",
                req.url
            )));
        }
        let mut builder = Request::builder().method(req.method).uri(&req.url);
        if let Some(h) = builder.headers_mut() {
            *h = req.headers;
        }
        let request = builder.body(Full::new(req.body)).map_err(|e| {
            UpstreamError::Unreachable(format!("invalid integration URL {}: {e}", req.url))
        })?;
        self.send_hyper(request, timeout).await
    }

    /// Sends `req` through hyper's client and buffers the answer (bounded by the payload
    /// limit), all within `timeout`.
    async fn send_hyper(
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

#[cfg(test)]
mod tests {
    #[test]
    fn splits_http_urls() {
        assert_eq!(
            super::split_http_url("http://a.b:81/x?y"),
            Some(("a.b", 81, "a.b:81", "/x?y"))
        );
        assert_eq!(
            super::split_http_url("http://a.b?y=1"),
            Some(("a.b", 80, "a.b", "?y=1"))
        );
        assert_eq!(
            super::split_http_url("http://[::1]:8/"),
            Some(("::1", 8, "[::1]:8", "/"))
        );
        assert_eq!(super::split_http_url("http://u@h/"), None);
        assert_eq!(super::split_http_url("https://h/"), None);
    }
}

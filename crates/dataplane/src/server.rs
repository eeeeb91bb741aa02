//! Listeners: accept loop, HTTP/1.1 keep-alive and h2c, graceful drain, panic isolation.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::runtime::RuntimeHandle;
use crate::upstream::Upstream;

/// What the data plane needs to know about its deployment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Host-based invoke URLs are `{api-id}.execute-api.{base_domain}`.
    pub base_domain: String,
    pub account_id: String,
    pub region: String,
}

/// The data plane: the compiled runtime and the shared upstream pool.
#[derive(Debug)]
pub struct DataPlane {
    pub runtime: Arc<RuntimeHandle>,
    /// Throttle buckets and quota counters (persisted by the binary).
    pub limits: Arc<dyn portico_limits::Counters>,
    pub upstream: Upstream,
    pub settings: Settings,
    pub(crate) account_id: Arc<str>,
    /// `.execute-api.{base_domain}`, lower case.
    pub(crate) host_suffix: String,
    /// Where Lambda integrations' functions run (none: they answer 500).
    pub invoker: Option<Arc<portico_functions::Invoker>>,
    /// Authorization's configuration and caches.
    pub auth: crate::authorization::State,
}

impl DataPlane {
    pub fn new(
        runtime: Arc<RuntimeHandle>,
        limits: Arc<dyn portico_limits::Counters>,
        settings: Settings,
    ) -> DataPlane {
        DataPlane {
            runtime,
            limits,
            upstream: Upstream::new(),
            account_id: Arc::from(settings.account_id.as_str()),
            host_suffix: format!(".execute-api.{}", settings.base_domain.to_ascii_lowercase()),
            settings,
            invoker: None,
            auth: Default::default(),
        }
    }

    /// Authorizes with `auth` (access keys, the Cognito endpoint).
    pub fn with_auth(mut self, auth: crate::authorization::State) -> DataPlane {
        self.auth = auth;
        self
    }

    /// Runs Lambda integrations on `invoker`.
    pub fn with_invoker(mut self, invoker: Arc<portico_functions::Invoker>) -> DataPlane {
        self.invoker = Some(invoker);
        self
    }
}

/// A future that turns a panic into an error instead of killing the connection task.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(())),
        }
    }
}

/// Serves `handler` on `listener` until `shutdown` flips, then drains in-flight requests for
/// at most `drain`. A panicking request answers 500 and the server carries on.
pub async fn serve<F, Fut>(
    listener: TcpListener,
    handler: F,
    shutdown: watch::Receiver<bool>,
    drain: Duration,
) where
    F: Fn(Request<Incoming>, SocketAddr) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    serve_recording(listener, handler, shutdown, drain, None).await
}

/// [`serve`], recording each request's original header names
/// ([`crate::header_case::OriginalHeaderNames`] in its extensions) on connections accepted
/// while `record` is set.
pub async fn serve_recording<F, Fut>(
    listener: TcpListener,
    handler: F,
    mut shutdown: watch::Receiver<bool>,
    drain: Duration,
    record: Option<Arc<std::sync::atomic::AtomicBool>>,
) where
    F: Fn(Request<Incoming>, SocketAddr) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(60));
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, remote) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let h = handler.clone();
                let queue = record
                    .as_ref()
                    .filter(|r| r.load(std::sync::atomic::Ordering::Relaxed))
                    .map(|_| crate::header_case::HeadQueue::default());
                let stream = crate::header_case::CaseRecorder::new(stream, queue.clone());
                let svc = service_fn(move |mut req: Request<Incoming>| {
                    if let Some(names) = queue.as_ref().and_then(|q| q.pop()) {
                        req.extensions_mut().insert(names);
                    }
                    let fut = CatchUnwind(Box::pin(h(req, remote)));
                    async move {
                        Ok::<_, Infallible>(fut.await.unwrap_or_else(|()| {
                            tracing::error!("request handler panicked");
                            let mut resp = crate::gateway_response::error_response(
                                500,
                                "InternalServerErrorException",
                                r#"{"message": "Internal server error"}"#.to_string(),
                            );
                            let id = portico_model::ids::request_id();
                            if let Ok(v) = http::HeaderValue::from_str(&id) {
                                resp.headers_mut().insert("x-amzn-requestid", v);
                            }
                            resp
                        }))
                    }
                });
                let conn = builder.serve_connection(TokioIo::new(stream), svc).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(drain) => tracing::warn!("drain timed out; closing remaining connections"),
    }
}

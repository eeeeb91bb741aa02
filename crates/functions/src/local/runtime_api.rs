//! The Lambda Runtime API (2018-06-01) that one runtime process talks to.
//!
//! Each process gets its own listener on `127.0.0.1:0` (its `AWS_LAMBDA_RUNTIME_API`), so
//! every request on it comes from that process and no request id has to be routed between
//! processes; killing the process and dropping its [`RuntimeApi`] ends everything of it.
//!
//! The invocation side hands events over with [`Event`]; `GET .../invocation/next` takes one
//! (long-polling until there is one), `POST .../invocation/{id}/response|error` answers it
//! through the event's `reply` channel. `POST .../init/error` and the process's exit mark the
//! process dead ([`Life`]), which the invocation side watches.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Body;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

use super::{errors, ids};
use crate::MAX_PAYLOAD;

const PREFIX: &str = "/2018-06-01/runtime/";

/// Connections one process may hold open at once (a runtime uses one or two).
const MAX_CONNECTIONS: usize = 32;

/// An invocation on its way to the runtime.
#[derive(Debug)]
pub(crate) struct Event {
    pub(crate) request_id: String,
    pub(crate) payload: Bytes,
    pub(crate) timeout: Duration,
    /// Told when the runtime has taken the event (the invocation's clock starts).
    pub(crate) taken: oneshot::Sender<()>,
    pub(crate) reply: oneshot::Sender<Reply>,
}

/// How the runtime answered an event.
#[derive(Debug)]
pub(crate) enum Reply {
    Response(Bytes),
    /// A function error's payload.
    Error(Bytes),
}

/// Whether the process can still run invocations. The first death is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Life {
    Running,
    /// The runtime posted `/init/error` with this (completed) payload.
    InitFailed(Bytes),
    /// The process exited: `None` cleanly, else `exit status N` / `signal: N`.
    Exited(Option<String>),
}

/// The invocation the runtime holds (took with `next`, has not answered yet).
#[derive(Debug)]
struct Current {
    request_id: String,
    reply: Option<oneshot::Sender<Reply>>,
}

/// The Runtime API of one process.
#[derive(Debug)]
pub(crate) struct RuntimeApi {
    function: String,
    arn: String,
    events: tokio::sync::Mutex<mpsc::Receiver<Event>>,
    current: Mutex<Option<Current>>,
    life: watch::Sender<Life>,
}

impl RuntimeApi {
    /// The API and the sender of its events.
    pub(crate) fn new(function: &str, arn: String) -> (Arc<RuntimeApi>, mpsc::Sender<Event>) {
        let (events_tx, events_rx) = mpsc::channel(1);
        let api = RuntimeApi {
            function: function.to_string(),
            arn,
            events: tokio::sync::Mutex::new(events_rx),
            current: Mutex::new(None),
            life: watch::Sender::new(Life::Running),
        };
        (Arc::new(api), events_tx)
    }

    pub(crate) fn function(&self) -> &str {
        &self.function
    }

    /// The request id of the invocation the process is running, or ran last (its output is
    /// logged under it).
    pub(crate) fn current_request_id(&self) -> Option<String> {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        current.as_ref().map(|c| c.request_id.clone())
    }

    pub(crate) fn life(&self) -> watch::Receiver<Life> {
        self.life.subscribe()
    }

    pub(crate) fn is_running(&self) -> bool {
        *self.life.borrow() == Life::Running
    }

    /// Records the process's death unless one is recorded already.
    pub(crate) fn die(&self, how: Life) {
        self.life.send_if_modified(|life| {
            if *life == Life::Running {
                *life = how;
                true
            } else {
                false
            }
        });
    }

    /// Serves the API on `listener` until the returned task is aborted (which ends every
    /// connection with it).
    pub(crate) fn serve(self: &Arc<Self>, listener: TcpListener) -> tokio::task::JoinHandle<()> {
        let api = self.clone();
        tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                let accepted = tokio::select! {
                    accepted = listener.accept() => accepted,
                    Some(_) = connections.join_next(), if !connections.is_empty() => continue,
                };
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors and the like: try again shortly.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                if connections.len() >= MAX_CONNECTIONS {
                    tracing::warn!(
                        target: "portico::function",
                        function = %api.function,
                        "Runtime API: too many connections, refusing one"
                    );
                    continue;
                }
                let api = api.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let api = api.clone();
                        async move { Ok::<_, Infallible>(api.handle(req).await) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        })
    }

    /// Answers one Runtime API request.
    pub(crate) async fn handle<B>(&self, req: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let path = req.uri().path().to_string();
        let Some(route) = path.strip_prefix(PREFIX) else {
            return not_found();
        };
        let method = req.method().clone();
        match (method, route.split('/').collect::<Vec<_>>().as_slice()) {
            (Method::GET, ["invocation", "next"]) => self.next().await,
            (Method::POST, ["invocation", id, kind @ ("response" | "error")]) => {
                let id = id.to_string();
                let response = *kind == "response";
                self.answer(&id, response, req).await
            }
            (Method::POST, ["init", "error"]) => self.init_error(req).await,
            _ => not_found(),
        }
    }

    /// `GET /invocation/next`: waits for an event and hands it over.
    async fn next(&self) -> Response<Full<Bytes>> {
        let event = {
            let mut events = self.events.lock().await;
            events.recv().await
        };
        let Some(event) = event else {
            // The process is being killed: keep it waiting rather than have it log a failure.
            return std::future::pending().await;
        };
        let now = ids::epoch_millis();
        let deadline = now + event.timeout.as_millis() as u64;
        {
            let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
            *current = Some(Current {
                request_id: event.request_id.clone(),
                reply: Some(event.reply),
            });
        }
        let _ = event.taken.send(());
        tracing::debug!(
            target: "portico::function",
            function = %self.function,
            request_id = %event.request_id,
            "Runtime API: event taken"
        );
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "application/json")
            .header("Lambda-Runtime-Aws-Request-Id", &event.request_id)
            .header("Lambda-Runtime-Deadline-Ms", deadline.to_string())
            .header("Lambda-Runtime-Invoked-Function-Arn", &self.arn)
            .header("Lambda-Runtime-Trace-Id", ids::trace_id(now / 1000))
            .body(Full::new(event.payload))
            .unwrap_or_else(|_| internal_error())
    }

    /// `POST /invocation/{id}/response` and `/invocation/{id}/error`.
    async fn answer<B>(&self, id: &str, response: bool, req: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if !self.is_pending(id) {
            return invalid_request_id();
        }
        let error_type = error_type_header(&req);
        let body = match read_body(req.into_body()).await {
            Ok(body) => Ok(body),
            Err(BodyError::TooLarge) => Err(()),
            Err(BodyError::Broken(e)) => {
                return json(
                    StatusCode::BAD_REQUEST,
                    &serde_json::json!({"errorMessage": e, "errorType": "InvalidRequest"})
                        .to_string(),
                );
            }
        };
        let reply = match (&body, response) {
            (Ok(body), true) => Reply::Response(body.clone()),
            (Ok(body), false) => Reply::Error(errors::reported(body, error_type.as_deref())),
            (Err(()), _) => Reply::Error(errors::response_too_large()),
        };
        let Some(sender) = self.take_reply(id) else {
            return invalid_request_id();
        };
        let _ = sender.send(reply);
        match body {
            Ok(_) => accepted(),
            Err(()) => json(
                StatusCode::PAYLOAD_TOO_LARGE,
                std::str::from_utf8(&errors::response_too_large_for_runtime()).unwrap_or(""),
            ),
        }
    }

    /// `POST /init/error`: the runtime could not initialise; the process is done for.
    async fn init_error<B>(&self, req: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let error_type = error_type_header(&req);
        let body = match read_body(req.into_body()).await {
            Ok(body) => body,
            Err(_) => Bytes::new(),
        };
        let payload = errors::reported(&body, error_type.as_deref());
        tracing::debug!(
            target: "portico::function",
            function = %self.function,
            "Runtime API: init error"
        );
        self.die(Life::InitFailed(payload));
        accepted()
    }

    fn is_pending(&self, id: &str) -> bool {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        current
            .as_ref()
            .is_some_and(|c| c.request_id == id && c.reply.is_some())
    }

    fn take_reply(&self, id: &str) -> Option<oneshot::Sender<Reply>> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        current
            .as_mut()
            .filter(|c| c.request_id == id)
            .and_then(|c| c.reply.take())
    }
}

enum BodyError {
    TooLarge,
    Broken(String),
}

/// The body, up to [`MAX_PAYLOAD`] bytes.
async fn read_body<B>(body: B) -> Result<Bytes, BodyError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    // A Content-Length over the limit is refused before reading anything.
    if body.size_hint().lower() > MAX_PAYLOAD as u64 {
        return Err(BodyError::TooLarge);
    }
    match Limited::new(body, MAX_PAYLOAD).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(BodyError::TooLarge)
        }
        Err(e) => Err(BodyError::Broken(e.to_string())),
    }
}

fn error_type_header<B>(req: &Request<B>) -> Option<String> {
    req.headers()
        .get("Lambda-Runtime-Function-Error-Type")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn json(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
        .unwrap_or_else(|_| internal_error())
}

fn accepted() -> Response<Full<Bytes>> {
    json(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

fn invalid_request_id() -> Response<Full<Bytes>> {
    json(
        StatusCode::BAD_REQUEST,
        r#"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#,
    )
}

fn not_found() -> Response<Full<Bytes>> {
    json(
        StatusCode::NOT_FOUND,
        r#"{"errorMessage":"Unknown resource","errorType":"NotFound"}"#,
    )
}

fn internal_error() -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, path: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
        Request::builder()
            .method(method)
            .uri(path)
            .body(Full::new(body.into()))
            .unwrap()
    }

    async fn body_text(response: Response<Full<Bytes>>) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    struct Sent {
        taken: oneshot::Receiver<()>,
        reply: oneshot::Receiver<Reply>,
    }

    async fn send(events: &mpsc::Sender<Event>, id: &str, payload: &'static str) -> Sent {
        let (taken_tx, taken) = oneshot::channel();
        let (reply_tx, reply) = oneshot::channel();
        events
            .send(Event {
                request_id: id.to_string(),
                payload: Bytes::from_static(payload.as_bytes()),
                timeout: Duration::from_secs(3),
                taken: taken_tx,
                reply: reply_tx,
            })
            .await
            .unwrap();
        Sent { taken, reply }
    }

    fn api() -> (Arc<RuntimeApi>, mpsc::Sender<Event>) {
        RuntimeApi::new(
            "f",
            "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
        )
    }

    #[tokio::test]
    async fn next_hands_over_the_event_with_lambdas_headers() {
        let (api, events) = api();
        let sent = send(&events, "id-1", r#"{"a":1}"#).await;
        let before = ids::epoch_millis();
        let response = api
            .handle(request(
                Method::GET,
                "/2018-06-01/runtime/invocation/next",
                "",
            ))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let h = response.headers();
        assert_eq!(h["lambda-runtime-aws-request-id"], "id-1");
        assert_eq!(
            h["lambda-runtime-invoked-function-arn"],
            "arn:aws:lambda:us-east-1:000000000000:function:f"
        );
        let deadline: u64 = h["lambda-runtime-deadline-ms"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (before + 3000..before + 4000).contains(&deadline),
            "{deadline}"
        );
        assert!(
            h["lambda-runtime-trace-id"]
                .to_str()
                .unwrap()
                .starts_with("Root=1-")
        );
        assert_eq!(body_text(response).await, r#"{"a":1}"#);
        sent.taken.await.unwrap();
        assert_eq!(api.current_request_id().as_deref(), Some("id-1"));

        // Unknown ids are refused; the right one answers once.
        let wrong = api
            .handle(request(
                Method::POST,
                "/2018-06-01/runtime/invocation/other/response",
                "1",
            ))
            .await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            body_text(wrong).await,
            r#"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#
        );
        let ok = api
            .handle(request(
                Method::POST,
                "/2018-06-01/runtime/invocation/id-1/response",
                "\"done\"",
            ))
            .await;
        assert_eq!(ok.status(), StatusCode::ACCEPTED);
        assert_eq!(body_text(ok).await, r#"{"status":"OK"}"#);
        match sent.reply.await.unwrap() {
            Reply::Response(b) => assert_eq!(b, "\"done\""),
            other => panic!("{other:?}"),
        }
        let again = api
            .handle(request(
                Method::POST,
                "/2018-06-01/runtime/invocation/id-1/response",
                "x",
            ))
            .await;
        assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn errors_take_the_header_type_when_the_body_lacks_one() {
        let (api, events) = api();
        let sent = send(&events, "id-2", "{}").await;
        api.handle(request(
            Method::GET,
            "/2018-06-01/runtime/invocation/next",
            "",
        ))
        .await;
        let req = Request::builder()
            .method(Method::POST)
            .uri("/2018-06-01/runtime/invocation/id-2/error")
            .header("Lambda-Runtime-Function-Error-Type", "Custom.Error")
            .body(Full::new(Bytes::from_static(b"{\"errorMessage\":\"no\"}")))
            .unwrap();
        assert_eq!(api.handle(req).await.status(), StatusCode::ACCEPTED);
        match sent.reply.await.unwrap() {
            Reply::Error(b) => assert_eq!(b, r#"{"errorMessage":"no","errorType":"Custom.Error"}"#),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn oversized_responses_fail_the_invocation() {
        let (api, events) = api();
        let sent = send(&events, "id-3", "{}").await;
        api.handle(request(
            Method::GET,
            "/2018-06-01/runtime/invocation/next",
            "",
        ))
        .await;
        let big = vec![b'a'; MAX_PAYLOAD + 1];
        let response = api
            .handle(request(
                Method::POST,
                "/2018-06-01/runtime/invocation/id-3/response",
                big,
            ))
            .await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        match sent.reply.await.unwrap() {
            Reply::Error(b) => assert!(
                std::str::from_utf8(&b)
                    .unwrap()
                    .contains("Function.ResponseSizeTooLarge")
            ),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn init_errors_kill_the_process_and_unknown_routes_are_404() {
        let (api, _events) = api();
        let mut life = api.life();
        let req = Request::builder()
            .method(Method::POST)
            .uri("/2018-06-01/runtime/init/error")
            .header(
                "Lambda-Runtime-Function-Error-Type",
                "Runtime.ImportModuleError",
            )
            .body(Full::new(Bytes::from_static(
                b"{\"errorMessage\":\"Unable to import module 'x'\"}",
            )))
            .unwrap();
        assert_eq!(api.handle(req).await.status(), StatusCode::ACCEPTED);
        let dead = life
            .wait_for(|l| *l != Life::Running)
            .await
            .unwrap()
            .clone();
        assert_eq!(
            dead,
            Life::InitFailed(Bytes::from_static(
                br#"{"errorMessage":"Unable to import module 'x'","errorType":"Runtime.ImportModuleError"}"#
            ))
        );
        // The first death is kept.
        api.die(Life::Exited(Some("exit status 1".into())));
        assert!(matches!(*api.life().borrow(), Life::InitFailed(_)));

        for (method, path) in [
            (Method::GET, "/"),
            (Method::GET, "/2018-06-01/runtime/invocation/x/response"),
            (Method::POST, "/2018-06-01/runtime/invocation/next"),
            (Method::GET, "/2018-06-01/runtime/init/error"),
        ] {
            let response = api.handle(request(method, path, "")).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        }
    }
}

//! A small HTTP/1.1 client for plain-HTTP integrations, run inline in the request's task.
//!
//! hyper's pooled client hands every request to a per-connection task through channels; on a
//! proxy path where the integration call is most of the work, that hop costs more than the
//! HTTP parsing. Here a request takes an idle keep-alive connection from the pool, writes its
//! head and body in one write, reads the answer with `httparse` and puts the connection back.
//! A reused connection the upstream closed meanwhile is detected before any byte of the answer
//! and the request is retried once on a new connection.

use std::io;
use std::sync::Mutex;

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::UpstreamError;
use crate::MAX_PAYLOAD_BYTES;

/// The largest response head accepted.
const MAX_HEAD_BYTES: usize = 64 * 1024;
const MAX_HEADERS: usize = 128;
/// Idle connections kept per upstream address.
const MAX_IDLE_PER_HOST: usize = 1024;

/// Idle keep-alive connections by `host:port`.
#[derive(Debug, Default)]
pub(crate) struct Pool {
    idle: Mutex<crate::runtime::FastMap<String, Vec<Conn>>>,
}

/// A keep-alive connection and its read buffer (reused across requests).
#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    buf: BytesMut,
    idle_since: std::time::Instant,
}

/// Idle connections older than this are closed rather than reused.
const MAX_IDLE: std::time::Duration = std::time::Duration::from_secs(60);
/// A read buffer larger than this is not kept with a pooled connection.
const MAX_POOLED_BUFFER: usize = 64 * 1024;

impl Conn {
    /// Whether an idle connection can carry a new request: not expired, and the upstream has
    /// neither closed it nor sent anything unasked (a late `408`, stray bytes).
    fn reusable(&self) -> bool {
        if self.idle_since.elapsed() > MAX_IDLE {
            return false;
        }
        // The reactor's readiness first (no syscall): an idle socket that never became
        // readable is healthy. If it did, look: EOF or unasked bytes make it unusable.
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        if self.stream.poll_read_ready(&mut cx).is_pending() {
            return true;
        }
        let mut probe = [0u8; 1];
        matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }
}

/// A request to send: the target and what to write.
pub(crate) struct Outbound<'a> {
    pub(crate) method: &'a Method,
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    /// `host[:port]` as the Host header carries it.
    pub(crate) authority: &'a str,
    pub(crate) path_and_query: &'a str,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a Bytes,
}

/// Why one exchange failed, and whether a retry on a new connection is safe.
enum Failure {
    /// The reused connection was closed before the upstream answered anything.
    Stale,
    Fatal(UpstreamError),
}

impl Pool {
    fn take(&self, key: &str) -> Option<Conn> {
        let mut idle = self.idle.lock().ok()?;
        let list = idle.get_mut(key)?;
        while let Some(c) = list.pop() {
            if c.reusable() {
                return Some(c);
            }
        }
        None
    }

    fn put(&self, key: &str, mut stream: Conn) {
        if stream.buf.capacity() > MAX_POOLED_BUFFER {
            stream.buf = BytesMut::new();
        }
        stream.idle_since = std::time::Instant::now();
        if let Ok(mut idle) = self.idle.lock() {
            let list = match idle.get_mut(key) {
                Some(l) => l,
                None => idle.entry(key.to_string()).or_default(),
            };
            if list.len() < MAX_IDLE_PER_HOST {
                list.push(stream);
            }
        }
    }

    /// Sends the request and reads the whole answer (bounded by the payload limit).
    pub(crate) async fn send(&self, req: &Outbound<'_>) -> Result<Response<Bytes>, UpstreamError> {
        let key = req.authority;
        let mut head =
            Vec::with_capacity(256 + req.headers.len() * 48 + req.body.len().min(65_536));
        write_head(&mut head, req);
        let inline_body = req.body.len() <= 65_536;
        if inline_body {
            head.extend_from_slice(req.body);
        }
        // A request whose reused connection turned out closed is sent again on a new one,
        // but only when sending it twice is harmless (RFC 9110 idempotent methods).
        let retryable = matches!(
            *req.method,
            Method::GET
                | Method::HEAD
                | Method::OPTIONS
                | Method::PUT
                | Method::DELETE
                | Method::TRACE
        );
        for attempt in 0..2 {
            let pooled = if attempt == 0 { self.take(key) } else { None };
            let (stream, reused) = match pooled {
                Some(s) => (s, true),
                None => (
                    Conn {
                        stream: connect(req.host, req.port).await?,
                        buf: BytesMut::new(),
                        idle_since: std::time::Instant::now(),
                    },
                    false,
                ),
            };
            let body = if inline_body { None } else { Some(req.body) };
            match exchange(stream, &head, body, req.method).await {
                Ok((resp, keep)) => {
                    if let Some(s) = keep {
                        self.put(key, s);
                    }
                    return Ok(resp);
                }
                Err(Failure::Stale) if reused && retryable => continue,
                Err(Failure::Stale) => {
                    return Err(UpstreamError::Broken(
                        "connection closed before a response".into(),
                    ));
                }
                Err(Failure::Fatal(e)) => return Err(e),
            }
        }
        Err(UpstreamError::Broken(
            "connection closed before a response".into(),
        ))
    }
}

async fn connect(host: &str, port: u16) -> Result<TcpStream, UpstreamError> {
    let stream = TcpStream::connect((host, port))
        .await
        .map_err(|e| UpstreamError::Unreachable(format!("{host}:{port}: {e}")))?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

fn write_head(out: &mut Vec<u8>, req: &Outbound<'_>) {
    out.extend_from_slice(req.method.as_str().as_bytes());
    out.push(b' ');
    if !req.path_and_query.starts_with('/') {
        out.push(b'/');
    }
    out.extend_from_slice(req.path_and_query.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    // A mapped Host header replaces the authority's (never two Host headers).
    if !req.headers.contains_key(http::header::HOST) {
        out.extend_from_slice(b"host: ");
        out.extend_from_slice(req.authority.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    for (name, value) in req.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let needs_length =
        !req.body.is_empty() || matches!(*req.method, Method::POST | Method::PUT | Method::PATCH);
    if needs_length {
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(req.body.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

fn io_failure(e: io::Error, answered: bool) -> Failure {
    let closed = matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::UnexpectedEof
    );
    if closed && !answered {
        Failure::Stale
    } else {
        Failure::Fatal(UpstreamError::Broken(e.to_string()))
    }
}

/// How the body of a parsed response is framed.
enum Framing {
    None,
    Length(usize),
    Chunked,
    UntilClose,
}

/// Writes the request, reads the answer; returns the connection when it can be reused.
async fn exchange(
    conn: Conn,
    head: &[u8],
    body: Option<&Bytes>,
    method: &Method,
) -> Result<(Response<Bytes>, Option<Conn>), Failure> {
    let Conn {
        mut stream,
        mut buf,
        ..
    } = conn;
    stream
        .write_all(head)
        .await
        .map_err(|e| io_failure(e, false))?;
    if let Some(b) = body {
        stream
            .write_all(b)
            .await
            .map_err(|e| io_failure(e, false))?;
    }
    buf.clear();
    buf.reserve(4 * 1024);
    // After an interim (1xx) answer the final one may already be buffered: parse first.
    let mut need_read = true;
    loop {
        let n = if need_read {
            stream
                .read_buf(&mut buf)
                .await
                .map_err(|e| io_failure(e, !buf.is_empty()))?
        } else {
            need_read = true;
            buf.len()
        };
        if n == 0 {
            return Err(if buf.is_empty() {
                Failure::Stale
            } else {
                Failure::Fatal(UpstreamError::Broken(
                    "connection closed mid-response".into(),
                ))
            });
        }
        let Some(Head {
            len: head_len,
            status,
            headers: map,
            mut framing,
            mut keep_alive,
        }) = parse_head(&buf)?
        else {
            if buf.len() > MAX_HEAD_BYTES {
                return Err(Failure::Fatal(UpstreamError::Broken(
                    "response head too large".into(),
                )));
            }
            continue;
        };
        let code = status.as_u16();
        if (100..200).contains(&code) && code != 101 {
            // An interim answer (100 Continue): drop it and read on.
            buf.advance(head_len);
            need_read = buf.is_empty();
            continue;
        }
        if *method == Method::HEAD || code == 204 || code == 304 {
            framing = Framing::None;
        }
        buf.advance(head_len);
        let body = match framing {
            Framing::None => Bytes::new(),
            Framing::Length(n) => {
                if n > MAX_PAYLOAD_BYTES {
                    return Err(Failure::Fatal(UpstreamError::TooLarge));
                }
                while buf.len() < n {
                    buf.reserve(n - buf.len());
                    let r = stream
                        .read_buf(&mut buf)
                        .await
                        .map_err(|e| io_failure(e, true))?;
                    if r == 0 {
                        return Err(Failure::Fatal(UpstreamError::Broken(
                            "connection closed mid-body".into(),
                        )));
                    }
                }
                if buf.len() > n {
                    // Bytes past the body: the upstream is not speaking HTTP/1.1 correctly.
                    keep_alive = false;
                }
                buf.split_to(n).freeze()
            }
            Framing::Chunked => {
                let body = read_chunked(&mut stream, &mut buf).await?;
                if !buf.is_empty() {
                    keep_alive = false;
                }
                body
            }
            Framing::UntilClose => {
                keep_alive = false;
                loop {
                    if buf.len() > MAX_PAYLOAD_BYTES {
                        return Err(Failure::Fatal(UpstreamError::TooLarge));
                    }
                    let r = stream
                        .read_buf(&mut buf)
                        .await
                        .map_err(|e| io_failure(e, true))?;
                    if r == 0 {
                        break;
                    }
                }
                buf.split().freeze()
            }
        };
        let mut resp = Response::new(body);
        *resp.status_mut() = status;
        *resp.headers_mut() = map;
        let idle_since = std::time::Instant::now();
        return Ok((
            resp,
            keep_alive.then_some(Conn {
                stream,
                buf,
                idle_since,
            }),
        ));
    }
}

/// A parsed response head.
struct Head {
    /// Its length in the buffer.
    len: usize,
    status: StatusCode,
    headers: HeaderMap,
    framing: Framing,
    keep_alive: bool,
}

/// Parses the response head at the front of `buf` (`None`: not all of it is there yet).
/// Not async, so that the parser's header array never becomes part of a request's future.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, Failure> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut headers);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => {
            return Err(Failure::Fatal(UpstreamError::Broken(format!(
                "invalid response: {e}"
            ))));
        }
    };
    let code = parsed.code.unwrap_or(0);
    let status = StatusCode::from_u16(code)
        .map_err(|_| Failure::Fatal(UpstreamError::Broken(format!("invalid status {code}"))))?;
    let http10 = parsed.version == Some(0);
    let mut map = HeaderMap::with_capacity(parsed.headers.len());
    let mut framing = Framing::UntilClose;
    let mut keep_alive = !http10;
    for h in parsed.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| Failure::Fatal(UpstreamError::Broken("invalid header name".into())))?;
        let value = HeaderValue::from_bytes(h.value)
            .map_err(|_| Failure::Fatal(UpstreamError::Broken("invalid header value".into())))?;
        if name == http::header::CONTENT_LENGTH {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok());
            match n {
                Some(n) if !matches!(framing, Framing::Chunked) => framing = Framing::Length(n),
                Some(_) => {}
                None => {
                    return Err(Failure::Fatal(UpstreamError::Broken(
                        "invalid content-length".into(),
                    )));
                }
            }
        } else if name == http::header::TRANSFER_ENCODING {
            if h.value.eq_ignore_ascii_case(b"chunked") || h.value.ends_with(b"chunked") {
                framing = Framing::Chunked;
            }
        } else if name == http::header::CONNECTION {
            if h.value.eq_ignore_ascii_case(b"close") {
                keep_alive = false;
            } else if h.value.eq_ignore_ascii_case(b"keep-alive") && http10 {
                keep_alive = true;
            }
        }
        map.append(name, value);
    }
    Ok(Some(Head {
        len,
        status,
        headers: map,
        framing,
        keep_alive,
    }))
}

/// Decodes a chunked body that starts at the front of `buf`.
async fn read_chunked(stream: &mut TcpStream, buf: &mut BytesMut) -> Result<Bytes, Failure> {
    let mut out = BytesMut::new();
    loop {
        // The chunk-size line.
        let line_end = loop {
            if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
                break i;
            }
            if buf.len() > 4096 {
                return Err(Failure::Fatal(UpstreamError::Broken(
                    "invalid chunk size line".into(),
                )));
            }
            fill(stream, buf).await?;
        };
        let size_text = std::str::from_utf8(&buf[..line_end]).unwrap_or("");
        let size_hex = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| Failure::Fatal(UpstreamError::Broken("invalid chunk size".into())))?;
        buf.advance(line_end + 2);
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
                    buf.advance(i + 2);
                    if i == 0 {
                        return Ok(out.freeze());
                    }
                    continue;
                }
                if buf.len() > MAX_HEAD_BYTES {
                    return Err(Failure::Fatal(UpstreamError::Broken(
                        "trailers too large".into(),
                    )));
                }
                fill(stream, buf).await?;
            }
        }
        if size > MAX_PAYLOAD_BYTES || out.len() + size > MAX_PAYLOAD_BYTES {
            return Err(Failure::Fatal(UpstreamError::TooLarge));
        }
        while buf.len() < size + 2 {
            fill(stream, buf).await?;
        }
        if &buf[size..size + 2] != b"\r\n" {
            return Err(Failure::Fatal(UpstreamError::Broken(
                "invalid chunk terminator".into(),
            )));
        }
        out.extend_from_slice(&buf[..size]);
        buf.advance(size + 2);
    }
}

async fn fill(stream: &mut TcpStream, buf: &mut BytesMut) -> Result<(), Failure> {
    buf.reserve(8 * 1024);
    let n = stream
        .read_buf(buf)
        .await
        .map_err(|e| io_failure(e, true))?;
    if n == 0 {
        return Err(Failure::Fatal(UpstreamError::Broken(
            "connection closed mid-body".into(),
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// An upstream that answers each connection's requests with the canned `answers`, in turn.
    async fn upstream(answers: Vec<&'static [u8]>) -> (u16, tokio::task::JoinHandle<Vec<Vec<u8>>>) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut seen = Vec::new();
            for a in answers {
                let mut buf = vec![0u8; 65536];
                let n = s.read(&mut buf).await.unwrap();
                seen.push(buf[..n].to_vec());
                s.write_all(a).await.unwrap();
            }
            seen
        });
        (port, task)
    }

    fn outbound<'a>(
        m: &'a Method,
        port: u16,
        auth: &'a str,
        h: &'a HeaderMap,
        b: &'a Bytes,
    ) -> Outbound<'a> {
        Outbound {
            method: m,
            host: "127.0.0.1",
            port,
            authority: auth,
            path_and_query: "/p?q=1",
            headers: h,
            body: b,
        }
    }

    #[tokio::test]
    async fn reuses_connections_and_decodes_chunked() {
        let (port, task) = upstream(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-a: 1\r\n\r\nok",
            b"HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
        ])
        .await;
        let pool = Pool::default();
        let auth = format!("127.0.0.1:{port}");
        let (h, b) = (HeaderMap::new(), Bytes::from_static(b"hi"));
        let r = pool
            .send(&outbound(&Method::POST, port, &auth, &h, &b))
            .await
            .unwrap();
        assert_eq!((r.status().as_u16(), r.body().as_ref()), (200, &b"ok"[..]));
        assert_eq!(r.headers()["x-a"], "1");
        let r = pool
            .send(&outbound(&Method::GET, port, &auth, &h, &Bytes::new()))
            .await
            .unwrap();
        assert_eq!(
            (r.status().as_u16(), r.body().as_ref()),
            (201, &b"abcde"[..])
        );
        let seen = task.await.unwrap();
        let first = String::from_utf8_lossy(&seen[0]);
        assert!(
            first.starts_with("POST /p?q=1 HTTP/1.1\r\nhost: 127.0.0.1:"),
            "{first}"
        );
        assert!(first.ends_with("content-length: 2\r\n\r\nhi"), "{first}");
    }

    #[tokio::test]
    async fn retries_once_when_a_pooled_connection_went_stale() {
        // First server: answers once, then closes; the pooled connection is stale.
        let (port, task) = upstream(vec![b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"]).await;
        let pool = Pool::default();
        let auth = format!("127.0.0.1:{port}");
        let (h, b) = (HeaderMap::new(), Bytes::new());
        pool.send(&outbound(&Method::GET, port, &auth, &h, &b))
            .await
            .unwrap();
        task.await.unwrap();
        // Nobody listens any more: the retry's connect fails, as an unreachable upstream.
        let err = pool
            .send(&outbound(&Method::GET, port, &auth, &h, &b))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                UpstreamError::Unreachable(_) | UpstreamError::Broken(_)
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_huge_chunk_size_is_refused_without_panicking() {
        let (port, _task) = upstream(vec![
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\na\r\nffffffffffffffff\r\nx",
        ])
        .await;
        let pool = Pool::default();
        let auth = format!("127.0.0.1:{port}");
        let (h, b) = (HeaderMap::new(), Bytes::new());
        let err = pool
            .send(&outbound(&Method::GET, port, &auth, &h, &b))
            .await
            .unwrap_err();
        assert!(matches!(err, UpstreamError::TooLarge), "{err:?}");
    }

    #[tokio::test]
    async fn an_interim_answer_and_the_final_one_in_one_segment() {
        let (port, _task) = upstream(vec![
            b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
        ])
        .await;
        let pool = Pool::default();
        let auth = format!("127.0.0.1:{port}");
        let (h, b) = (HeaderMap::new(), Bytes::new());
        let r = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            pool.send(&outbound(&Method::GET, port, &auth, &h, &b)),
        )
        .await
        .expect("no hang")
        .unwrap();
        assert_eq!((r.status().as_u16(), r.body().as_ref()), (200, &b"ok"[..]));
    }

    #[tokio::test]
    async fn rejects_oversized_bodies() {
        let (port, _task) = upstream(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 99999999999\r\n\r\n",
        ])
        .await;
        let pool = Pool::default();
        let auth = format!("127.0.0.1:{port}");
        let (h, b) = (HeaderMap::new(), Bytes::new());
        let err = pool
            .send(&outbound(&Method::GET, port, &auth, &h, &b))
            .await
            .unwrap_err();
        assert!(matches!(err, UpstreamError::TooLarge), "{err:?}");
    }
}

//! The client's header casing, which `http::HeaderMap` loses and the Lambda proxy event keeps
//! (`tEsT-HEADeR` reaches the function as sent).
//!
//! hyper does not expose the original case of request headers, so the connection records it:
//! [`CaseRecorder`] wraps an HTTP/1.1 connection's socket, follows the byte stream (request
//! heads, then `Content-Length` or chunked bodies) and queues each head's header names as
//! written. The server takes one entry per request (HTTP/1.1 answers in order) and attaches it
//! as [`OriginalHeaderNames`]. Anything it cannot follow (an upgrade, HTTP/2, a malformed or
//! oversized head) switches it off for the rest of the connection; the names then stay
//! lower-case, never wrong: a recorded name is only used for the header it spells.
//!
//! It costs a parse of every head, so the server wraps connections only while some deployed
//! API has a Lambda proxy integration ([`crate::runtime::RuntimeHandle::records_header_case`]).

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The largest request head followed (hyper's default limit is ~400 KB; heads are small).
const MAX_HEAD: usize = 64 * 1024;
/// Heads queued ahead of the requests that use them (pipelining).
const MAX_QUEUED: usize = 64;

/// One request's header names, as the client wrote them, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginalHeaderNames(pub Vec<String>);

/// The heads a connection has read and its requests have not yet taken.
#[derive(Debug, Clone, Default)]
pub struct HeadQueue(Arc<Mutex<VecDeque<Vec<String>>>>);

impl HeadQueue {
    /// The next request's names, if they were recorded.
    pub fn pop(&self) -> Option<OriginalHeaderNames> {
        self.0.lock().ok()?.pop_front().map(OriginalHeaderNames)
    }

    fn push(&self, names: Vec<String>) -> bool {
        let Ok(mut q) = self.0.lock() else {
            return false;
        };
        if q.len() >= MAX_QUEUED {
            return false;
        }
        q.push_back(names);
        true
    }
}

#[derive(Debug)]
enum State {
    /// Reading a head; bytes so far.
    Head(Vec<u8>),
    /// Skipping this many body bytes.
    Body(u64),
    /// A chunked body: reading a chunk-size line.
    ChunkSize(Vec<u8>),
    /// Skipping chunk data plus its CRLF.
    ChunkData(u64),
    /// Trailers after the last chunk, until an empty line.
    Trailers(Vec<u8>),
    /// Stopped following (upgrade, HTTP/2, something unparseable).
    Off,
}

/// Follows an HTTP/1.1 request stream and records header names.
#[derive(Debug)]
pub struct Follower {
    state: State,
    queue: HeadQueue,
}

impl Follower {
    pub fn new(queue: HeadQueue) -> Follower {
        Follower {
            state: State::Head(Vec::new()),
            queue,
        }
    }

    /// Feeds bytes the server read.
    pub fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            match &mut self.state {
                State::Off => return,
                State::Head(buf) => {
                    // Skip CRLFs between requests (RFC 9112 §2.2).
                    if buf.is_empty() {
                        let skip = data
                            .iter()
                            .take_while(|b| **b == b'\r' || **b == b'\n')
                            .count();
                        data = &data[skip..];
                        if data.is_empty() {
                            return;
                        }
                    }
                    let before = buf.len();
                    buf.extend_from_slice(data);
                    match find_end(buf, before) {
                        Some(end) => {
                            let head = buf[..end].to_vec();
                            let consumed = end - before;
                            data = &data[consumed..];
                            self.state = self.head(&head);
                        }
                        None => {
                            if buf.len() > MAX_HEAD {
                                self.state = State::Off;
                            }
                            return;
                        }
                    }
                }
                State::Body(left) => {
                    let n = (*left).min(data.len() as u64) as usize;
                    *left -= n as u64;
                    data = &data[n..];
                    if *left == 0 {
                        self.state = State::Head(Vec::new());
                    }
                }
                State::ChunkSize(line) => {
                    let Some(pos) = data.iter().position(|b| *b == b'\n') else {
                        line.extend_from_slice(data);
                        if line.len() > 1024 {
                            self.state = State::Off;
                        }
                        return;
                    };
                    line.extend_from_slice(&data[..=pos]);
                    data = &data[pos + 1..];
                    let text = String::from_utf8_lossy(line);
                    let size = text
                        .trim()
                        .split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_string();
                    self.state = match u64::from_str_radix(&size, 16) {
                        Ok(0) => State::Trailers(Vec::new()),
                        Ok(n) => State::ChunkData(n.saturating_add(2)),
                        Err(_) => State::Off,
                    };
                }
                State::ChunkData(left) => {
                    let n = (*left).min(data.len() as u64) as usize;
                    *left -= n as u64;
                    data = &data[n..];
                    if *left == 0 {
                        self.state = State::ChunkSize(Vec::new());
                    }
                }
                State::Trailers(line) => {
                    let Some(pos) = data.iter().position(|b| *b == b'\n') else {
                        line.extend_from_slice(data);
                        if line.len() > MAX_HEAD {
                            self.state = State::Off;
                        }
                        return;
                    };
                    line.extend_from_slice(&data[..=pos]);
                    data = &data[pos + 1..];
                    let empty = line.iter().all(|b| *b == b'\r' || *b == b'\n');
                    self.state = if empty {
                        State::Head(Vec::new())
                    } else {
                        State::Trailers(Vec::new())
                    };
                }
            }
        }
    }

    /// Records a complete head and decides how its body is framed.
    fn head(&self, head: &[u8]) -> State {
        let mut headers = [httparse::EMPTY_HEADER; 128];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(head) {
            Ok(httparse::Status::Complete(_)) => {}
            _ => return State::Off,
        }
        if req.version != Some(1) {
            return State::Off;
        }
        let mut names = Vec::with_capacity(req.headers.len());
        let mut length: Option<u64> = None;
        let mut chunked = false;
        let mut upgrade = false;
        for h in req.headers.iter() {
            names.push(h.name.to_string());
            if h.name.eq_ignore_ascii_case("content-length") {
                match std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.trim().parse().ok())
                {
                    Some(n) => length = Some(n),
                    None => return State::Off,
                }
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = String::from_utf8_lossy(h.value)
                    .to_ascii_lowercase()
                    .contains("chunked");
            } else if h.name.eq_ignore_ascii_case("upgrade") {
                upgrade = true;
            }
        }
        if !self.queue.push(names) || upgrade || req.method == Some("CONNECT") {
            return State::Off;
        }
        if chunked {
            State::ChunkSize(Vec::new())
        } else {
            match length {
                Some(n) if n > 0 => State::Body(n),
                _ => State::Head(Vec::new()),
            }
        }
    }
}

/// The end of a head (just past `\r\n\r\n`), searching from a little before `from`.
fn find_end(buf: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(3);
    buf[start..]
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| start + p + 4)
}

/// A socket whose reads are also fed to a [`Follower`] (when recording is on).
#[derive(Debug)]
pub struct CaseRecorder<T> {
    inner: T,
    follower: Option<Follower>,
}

impl<T> CaseRecorder<T> {
    /// Records into `queue` when given; otherwise passes bytes straight through.
    pub fn new(inner: T, queue: Option<HeadQueue>) -> CaseRecorder<T> {
        CaseRecorder {
            inner,
            follower: queue.map(Follower::new),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for CaseRecorder<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let (Poll::Ready(Ok(())), Some(f)) = (&poll, this.follower.as_mut()) {
            f.feed(&buf.filled()[before..]);
        }
        poll
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for CaseRecorder<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follow(chunks: &[&[u8]]) -> Vec<Vec<String>> {
        let q = HeadQueue::default();
        let mut f = Follower::new(q.clone());
        for c in chunks {
            f.feed(c);
        }
        std::iter::from_fn(|| q.pop().map(|n| n.0)).collect()
    }

    #[test]
    fn records_names_across_split_reads_and_bodies() {
        let got = follow(&[
            b"POST /a HTTP/1.1\r\nHost: x\r\ntEsT-HEADeR: v\r\nContent-Length: 5\r\n\r\nhel",
            b"lo\r\nGET /b HTTP/1.1\r\nX-One: 1\r",
            b"\n\r\n",
        ]);
        assert_eq!(
            got,
            vec![
                vec![
                    "Host".to_string(),
                    "tEsT-HEADeR".into(),
                    "Content-Length".into()
                ],
                vec!["X-One".to_string()],
            ]
        );
    }

    #[test]
    fn follows_chunked_bodies_and_trailers() {
        let got = follow(&[
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nTrail: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nAfter: 1\r\n\r\n",
        ]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1], vec!["After".to_string()]);
    }

    #[test]
    fn body_lookalikes_are_not_heads() {
        let got = follow(&[
            b"POST / HTTP/1.1\r\nContent-Length: 30\r\n\r\nGET / HTTP/1.1\r\nEvil: 1\r\n\r\n\r\n",
        ]);
        assert_eq!(got, vec![vec!["Content-Length".to_string()]]);
    }

    #[test]
    fn gives_up_on_what_it_cannot_follow() {
        assert!(follow(&[b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"]).is_empty());
        let got = follow(&[
            b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\nGET / HTTP/1.1\r\nX: 1\r\n\r\n",
        ]);
        assert_eq!(got.len(), 1);
        let huge = vec![b'a'; MAX_HEAD + 10];
        assert!(follow(&[&huge]).is_empty());
    }
}

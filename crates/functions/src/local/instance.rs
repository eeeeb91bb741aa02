//! One runtime process: its own Runtime API listener, the process running the function's
//! command, its output, and the invocations it runs, one at a time.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::io::{AsyncBufRead, AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::net::TcpListener;
use tokio::process::Command;
use tokio::sync::{mpsc, oneshot, watch};

use super::runtime_api::{Event, Life, Reply, RuntimeApi};
use super::{FunctionConfig, errors, ids};
use crate::{Invoked, Settings};

/// How long a new process may take to ask for its first event, on top of the function's
/// timeout. Lambda gives the init phase 10 s and then retries it within the invocation's
/// timeout, so a runtime that never starts fails after about as long there.
pub(crate) const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest line of a process's output that is logged; the rest of a longer line is cut.
const MAX_LOG_LINE: usize = 16 * 1024;

/// What starting processes for a function takes.
#[derive(Debug)]
pub(crate) struct Spec {
    pub(crate) function: String,
    pub(crate) config: FunctionConfig,
    pub(crate) settings: Settings,
}

impl Spec {
    fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.settings.region, self.settings.account_id, self.function
        )
    }
}

/// Why a process could not be started.
#[derive(Debug)]
pub(crate) enum StartError {
    /// The command could not be run (missing program, not executable, bad directory): the
    /// function's fault.
    Spawn(String),
    /// Portico could not host it (no port): Portico's.
    Host(String),
}

/// The end of one invocation on an instance.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) invoked: Invoked,
    /// Whether the process can take the next invocation (it answered and is alive).
    pub(crate) reusable: bool,
    /// A warm process died before taking the event: the function never saw it, so it may run
    /// on a new process (a warm process can die after its last answer, e.g. when the runtime
    /// gives up after a 413).
    pub(crate) undelivered: bool,
}

impl Outcome {
    fn answered(payload: Bytes, function_error: bool, reusable: bool) -> Outcome {
        Outcome {
            invoked: Invoked {
                payload,
                function_error: function_error.then(|| "Unhandled".to_string()),
            },
            reusable,
            undelivered: false,
        }
    }

    /// A function error after which the process is retired.
    pub(crate) fn failed(payload: Bytes) -> Outcome {
        Outcome::answered(payload, true, false)
    }
}

/// A running process and its Runtime API. Dropping it kills the process and closes the
/// listener and every connection on it.
#[derive(Debug)]
pub(crate) struct Instance {
    api: Arc<RuntimeApi>,
    events: mpsc::Sender<Event>,
    /// Dropped (or sent to) kills the process.
    _kill: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
    /// Whether the runtime has taken an event before (its init is over).
    warm: bool,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Instance {
    /// Binds a listener and starts the function's command against it. `tracker` is held until
    /// the process has exited (shutdown waits for every tracker to be dropped).
    pub(crate) async fn start(
        spec: &Spec,
        tracker: mpsc::Sender<()>,
    ) -> Result<Instance, StartError> {
        let config = &spec.config;
        let (program, args) = config
            .command
            .split_first()
            .ok_or_else(|| StartError::Spawn("the function has no command".into()))?;
        let task_root = task_root(config.cwd.as_deref())
            .map_err(|e| StartError::Spawn(format!("cannot resolve the working directory: {e}")))?;
        let host =
            |e: std::io::Error| StartError::Host(format!("cannot listen for the Runtime API: {e}"));
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.map_err(host)?;
        let addr = listener.local_addr().map_err(host)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let env = environment(spec, addr, &task_root, &ids::log_stream_name(now));

        let mut child = Command::new(program)
            .args(args)
            .current_dir(&task_root)
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                StartError::Spawn(format!(
                    "cannot start {program:?} in {}: {e}",
                    task_root.display()
                ))
            })?;
        let pid = child.id();

        let (api, events) = RuntimeApi::new(&spec.function, spec.arn());
        let server = api.serve(listener);
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(log_output(stdout, "stdout", api.clone()));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(log_output(stderr, "stderr", api.clone()));
        }
        let (kill, killed) = oneshot::channel::<()>();
        let monitored = api.clone();
        tokio::spawn(async move {
            let _tracker = tracker;
            let status = tokio::select! {
                status = child.wait() => status,
                _ = killed => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            let status = match status {
                Ok(status) => errors::describe_exit(status),
                Err(e) => Some(e.to_string()),
            };
            tracing::debug!(
                target: "portico::function",
                function = %monitored.function(),
                pid,
                status = status.as_deref().unwrap_or("exit status 0"),
                "runtime process exited"
            );
            monitored.die(Life::Exited(status));
        });
        tracing::debug!(
            target: "portico::function",
            function = %spec.function,
            pid,
            runtime_api = %addr,
            "runtime process started"
        );
        Ok(Instance {
            api,
            events,
            _kill: kill,
            server,
            warm: false,
        })
    }

    /// Whether the process is still alive and has not reported an init error.
    pub(crate) fn is_running(&self) -> bool {
        self.api.is_running()
    }

    /// Runs one invocation: hands the event over, then waits for the answer, the process's
    /// death or the timeout, whichever comes first. Every wait is bounded: a new process gets
    /// [`INIT_TIMEOUT`] plus `timeout` to take the event, a warm one `timeout`; then the
    /// invocation gets `timeout` from the moment the event was taken.
    pub(crate) async fn invoke(
        &mut self,
        request_id: &str,
        payload: Bytes,
        timeout: Duration,
    ) -> Outcome {
        let (taken_tx, taken_rx) = oneshot::channel();
        let (reply_tx, reply_rx) = oneshot::channel();
        let mut life = self.api.life();
        let event = Event {
            request_id: request_id.to_string(),
            payload,
            timeout,
            taken: taken_tx,
            reply: reply_tx,
        };
        if self.events.try_send(event).is_err() {
            // The instance runs one invocation at a time, so the channel is empty and open.
            return Outcome::failed(errors::exited(request_id, Some("the runtime is gone")));
        }

        let wait_taken = if self.warm {
            timeout
        } else {
            INIT_TIMEOUT + timeout
        };
        tokio::select! {
            biased;
            () = settled(taken_rx) => self.warm = true,
            dead = death(&mut life) => {
                let warm = self.warm;
                return Outcome { undelivered: warm, ..self.died(request_id, dead) };
            }
            () = tokio::time::sleep(wait_taken) => return self.timed_out(request_id, timeout),
        }

        tokio::select! {
            biased;
            reply = settled(reply_rx) => match reply {
                Reply::Response(payload) => Outcome::answered(payload, false, self.is_running()),
                Reply::Error(payload) => Outcome::answered(payload, true, self.is_running()),
            },
            dead = death(&mut life) => self.died(request_id, dead),
            () = tokio::time::sleep(timeout) => self.timed_out(request_id, timeout),
        }
    }

    fn died(&self, request_id: &str, life: Life) -> Outcome {
        let payload = match life {
            Life::InitFailed(payload) => payload,
            Life::Exited(status) => errors::exited(request_id, status.as_deref()),
            Life::Running => errors::exited(request_id, None),
        };
        tracing::warn!(
            target: "portico::function",
            function = %self.api.function(),
            request_id,
            error = %excerpt(&payload),
            "the runtime failed"
        );
        Outcome::failed(payload)
    }

    fn timed_out(&self, request_id: &str, timeout: Duration) -> Outcome {
        tracing::warn!(
            target: "portico::function",
            function = %self.api.function(),
            request_id,
            "Task timed out after {:.2} seconds",
            timeout.as_secs_f64()
        );
        Outcome::failed(errors::timed_out(request_id, timeout))
    }
}

/// The start of an error payload, for the log.
fn excerpt(payload: &[u8]) -> String {
    const MAX: usize = 1024;
    let text = String::from_utf8_lossy(&payload[..payload.len().min(MAX)]).into_owned();
    if payload.len() > MAX {
        text + "…"
    } else {
        text
    }
}

/// The value a oneshot delivers; never, if its sender is dropped unsent (the instance's death
/// or the timeout then ends the wait).
async fn settled<T>(rx: oneshot::Receiver<T>) -> T {
    match rx.await {
        Ok(value) => value,
        Err(_) => std::future::pending().await,
    }
}

/// Resolves once the process is dead.
async fn death(life: &mut watch::Receiver<Life>) -> Life {
    let dead = life
        .wait_for(|l| *l != Life::Running)
        .await
        .map(|life| life.clone());
    match dead {
        Ok(life) => life,
        // The sender lives as long as the RuntimeApi, which the instance holds.
        Err(_) => std::future::pending().await,
    }
}

/// `LAMBDA_TASK_ROOT` and the process's working directory: `cwd`, else the current
/// directory, made absolute.
fn task_root(cwd: Option<&Path>) -> std::io::Result<PathBuf> {
    match cwd {
        Some(dir) => std::path::absolute(dir),
        None => std::env::current_dir(),
    }
}

/// The variables Lambda sets for a runtime, then the function's own (which win). The process
/// inherits Portico's environment underneath.
fn environment(
    spec: &Spec,
    runtime_api: SocketAddr,
    task_root: &Path,
    log_stream: &str,
) -> Vec<(String, String)> {
    let config = &spec.config;
    let region = &spec.settings.region;
    let mut env: Vec<(String, String)> = [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", spec.function.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", config.memory.to_string()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", spec.function),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream.to_string()),
        ("_HANDLER", config.handler.clone().unwrap_or_default()),
        ("LAMBDA_TASK_ROOT", task_root.display().to_string()),
        ("AWS_REGION", region.clone()),
        ("AWS_DEFAULT_REGION", region.clone()),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_portico".to_string()),
        ("TZ", ":UTC".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    env.extend(config.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    env
}

/// Logs a process's output line by line under the request id it is running.
async fn log_output<R: AsyncRead + Unpin>(output: R, stream: &'static str, api: Arc<RuntimeApi>) {
    let mut reader = BufReader::new(output);
    let mut line = Vec::new();
    while let Ok(Some(cut)) = read_line(&mut reader, &mut line, MAX_LOG_LINE).await {
        let request_id = api.current_request_id();
        tracing::info!(
            target: "portico::function",
            function = %api.function(),
            request_id = request_id.as_deref().unwrap_or(""),
            stream,
            "{}{}",
            printable(&line),
            if cut { " [line cut]" } else { "" }
        );
    }
}

/// A line of output as text that cannot disturb the log: invalid UTF-8 replaced, control
/// characters (terminal escapes, carriage returns) escaped, a trailing `\r` dropped.
fn printable(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut text = String::with_capacity(line.len());
    for c in String::from_utf8_lossy(line).chars() {
        if c.is_control() && c != '\t' {
            text.extend(c.escape_default());
        } else {
            text.push(c);
        }
    }
    text
}

/// Reads one line (without its `\n`) into `line`, keeping at most `max` bytes of it and
/// skipping the rest. `Some(cut)` for a line (`cut`: it was longer than `max`), `None` at the
/// end of the stream.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<bool>> {
    line.clear();
    let mut read_any = false;
    let mut cut = false;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(read_any.then_some(cut));
        }
        read_any = true;
        let (chunk, used, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], i + 1, true),
            None => (buf, buf.len(), false),
        };
        let room = max.saturating_sub(line.len());
        cut |= chunk.len() > room;
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        reader.consume(used);
        if done {
            return Ok(Some(cut));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_read_bounded() {
        let mut input: &[u8] = b"one\r\n\ntoo long a line\nlast";
        let mut line = Vec::new();
        let mut lines = Vec::new();
        while let Some(cut) = read_line(&mut input, &mut line, 8).await.unwrap() {
            lines.push((String::from_utf8(line.clone()).unwrap(), cut));
        }
        assert_eq!(
            lines,
            [
                ("one\r".to_string(), false),
                (String::new(), false),
                ("too long".to_string(), true),
                ("last".to_string(), false),
            ]
        );
    }

    #[test]
    fn output_is_logged_printable() {
        assert_eq!(printable(b"plain\ttext\r"), "plain\ttext");
        assert_eq!(
            printable(b"\x1b[31mred\x00\rnext"),
            "\\u{1b}[31mred\\u{0}\\rnext"
        );
        assert_eq!(printable(b"\xff ok"), "\u{fffd} ok");
    }

    #[test]
    fn the_environment_is_lambdas_then_the_functions() {
        let spec = Spec {
            function: "echo".into(),
            config: FunctionConfig {
                handler: Some("app.handler".into()),
                memory: 256,
                env: [("TZ", "Europe/Paris"), ("EXTRA", "1")]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ..FunctionConfig::new(["x"])
            },
            settings: Settings {
                region: "eu-west-1".into(),
                account_id: "123456789012".into(),
            },
        };
        assert_eq!(
            spec.arn(),
            "arn:aws:lambda:eu-west-1:123456789012:function:echo"
        );
        let env = environment(
            &spec,
            "127.0.0.1:4567".parse().unwrap(),
            Path::new("/srv/fn"),
            "2026/11/21/[$LATEST]00",
        );
        let last = |k: &str| {
            env.iter()
                .rev()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(last("AWS_LAMBDA_RUNTIME_API"), Some("127.0.0.1:4567"));
        assert_eq!(last("AWS_LAMBDA_FUNCTION_NAME"), Some("echo"));
        assert_eq!(last("AWS_LAMBDA_FUNCTION_VERSION"), Some("$LATEST"));
        assert_eq!(last("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), Some("256"));
        assert_eq!(last("AWS_LAMBDA_LOG_GROUP_NAME"), Some("/aws/lambda/echo"));
        assert_eq!(
            last("AWS_LAMBDA_LOG_STREAM_NAME"),
            Some("2026/11/21/[$LATEST]00")
        );
        assert_eq!(last("_HANDLER"), Some("app.handler"));
        assert_eq!(last("LAMBDA_TASK_ROOT"), Some("/srv/fn"));
        assert_eq!(last("AWS_REGION"), Some("eu-west-1"));
        assert_eq!(last("AWS_DEFAULT_REGION"), Some("eu-west-1"));
        assert_eq!(last("AWS_EXECUTION_ENV"), Some("AWS_Lambda_portico"));
        assert_eq!(last("TZ"), Some("Europe/Paris"));
        assert_eq!(last("EXTRA"), Some("1"));
    }

    #[test]
    fn the_task_root_is_absolute() {
        let root = task_root(Some(Path::new("functions"))).unwrap();
        assert!(root.is_absolute() && root.ends_with("functions"));
        assert_eq!(task_root(None).unwrap(), std::env::current_dir().unwrap());
    }
}

//! Local functions: Portico hosts the Lambda Runtime API (2018-06-01) and runs the configured
//! command as the function's runtime, the way Lambda runs a runtime's `bootstrap` — so the
//! real runtime clients work unchanged (the black-box tests run `awslambdaric` and the
//! `lambda_runtime` crate).
//!
//! - **A pool per function.** At most `concurrency` processes, each running one invocation at
//!   a time. A process is started when an invocation finds no idle one, and stays warm after
//!   answering. Invocations that find every slot busy wait (up to [`MAX_WAITING`] of them) for
//!   as long as the function's timeout, then fail with [`InvokeError::Throttled`].
//! - **A listener per process** (`instance`, `runtime_api`): each process gets its own Runtime
//!   API on `127.0.0.1:0`. Whatever arrives on it comes from that process, so a timeout kills
//!   exactly the process that ran the invocation, and a crash or `/init/error` fails exactly
//!   its invocation — no routing of request ids between processes.
//! - **Failures are function errors**, as Lambda reports them (`errors`): a timeout kills the
//!   process (`Sandbox.Timedout`); a process that exits fails its invocation
//!   (`Runtime.ExitError`); an `/init/error` fails it with the runtime's own error; a command
//!   that cannot be started is `Runtime.InvalidEntrypoint`. The failed process is not
//!   replaced until an invocation needs one, so a crashing function cannot spin.
//! - **Every wait is bounded** by the function's timeout (a new process also gets
//!   `instance::INIT_TIMEOUT` to start).
//! - An invocation runs in its own task: a caller that stops waiting does not kill the
//!   process halfway; the invocation finishes (or times out) and the process stays warm.
//! - Output: each process's stdout and stderr are logged line by line (target
//!   `portico::function`, with the function's name and the current request id).

mod errors;
mod ids;
mod instance;
mod runtime_api;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};

use crate::{FunctionRef, InvokeError, Invoked, MAX_PAYLOAD, Settings};
use instance::{Instance, Outcome, Spec};

/// How many invocations of one function may wait for a free process; more are throttled at
/// once.
pub const MAX_WAITING: usize = 1000;

/// How long [`LocalFunctions::shutdown`] waits for the killed processes to be reaped.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

/// `[functions.NAME]` in the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionConfig {
    /// The runtime process: program and arguments (`["python3", "-m", "awslambdaric", "app.handler"]`).
    pub command: Vec<String>,
    /// Working directory (and `LAMBDA_TASK_ROOT`); default: the current directory.
    #[serde(default)]
    pub cwd: Option<PathBuf>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// `_HANDLER`.
    #[serde(default)]
    pub handler: Option<String>,
    /// Seconds an invocation may run (default 3, as Lambda).
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` in MB (default 128).
    #[serde(default = "default_memory")]
    pub memory: u32,
    /// How many processes may run invocations at once (default 1).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

fn default_timeout() -> u64 {
    3
}
fn default_memory() -> u32 {
    128
}
fn default_concurrency() -> usize {
    1
}

impl FunctionConfig {
    /// A function running `command`, with Lambda's defaults for the rest.
    pub fn new<S: Into<String>>(command: impl IntoIterator<Item = S>) -> FunctionConfig {
        FunctionConfig {
            command: command.into_iter().map(Into::into).collect(),
            cwd: None,
            env: BTreeMap::new(),
            handler: None,
            timeout: default_timeout(),
            memory: default_memory(),
            concurrency: default_concurrency(),
        }
    }

    /// Whether the function `name` can run with this configuration (Lambda's limits for the
    /// name, timeout and memory). The message names the offending key.
    pub fn check(&self, name: &str) -> Result<(), String> {
        if !FunctionRef::parse(name).is_some_and(|f| f.name == name && f.qualifier.is_none()) {
            return Err(format!(
                "{name:?} is not a function name (letters, digits, - and _, at most 140)"
            ));
        }
        if self
            .command
            .first()
            .is_none_or(|program| program.is_empty())
        {
            return Err("command: must name a program".into());
        }
        if !(1..=900).contains(&self.timeout) {
            return Err(format!(
                "timeout: must be 1 to 900 seconds, got {}",
                self.timeout
            ));
        }
        if !(128..=10_240).contains(&self.memory) {
            return Err(format!(
                "memory: must be 128 to 10240 MB, got {}",
                self.memory
            ));
        }
        if !(1..=1000).contains(&self.concurrency) {
            return Err(format!(
                "concurrency: must be 1 to 1000, got {}",
                self.concurrency
            ));
        }
        let nul = |s: &str| s.contains('\0');
        if let Some((key, _)) = self
            .env
            .iter()
            .find(|(k, v)| k.is_empty() || k.contains('=') || nul(k) || nul(v))
        {
            return Err(format!("env: {key:?} cannot be set"));
        }
        if self.command.iter().any(|a| nul(a)) {
            return Err("command: contains a NUL byte".into());
        }
        Ok(())
    }
}

/// The local functions and their process pools. Cheap to create (nothing starts until an
/// invocation needs it); shared behind an `Arc` by any number of tasks.
pub struct LocalFunctions {
    pools: BTreeMap<String, Arc<Pool>>,
    stopping: watch::Sender<bool>,
    /// Cloned into every process's supervisor; gone once shutdown began.
    tracker: Mutex<Option<mpsc::Sender<()>>>,
    /// Closed once every supervisor (so every process) is gone.
    exited: tokio::sync::Mutex<mpsc::Receiver<()>>,
}

impl std::fmt::Debug for LocalFunctions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalFunctions")
            .field("functions", &self.pools.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl LocalFunctions {
    pub fn new(configs: BTreeMap<String, FunctionConfig>, settings: Settings) -> LocalFunctions {
        let pools = configs
            .into_iter()
            .map(|(name, config)| {
                let pool = Pool {
                    slots: Arc::new(Semaphore::new(config.concurrency)),
                    waiting: AtomicUsize::new(0),
                    idle: Mutex::new(Idle::default()),
                    spec: Spec {
                        function: name.clone(),
                        config,
                        settings: settings.clone(),
                    },
                };
                (name, Arc::new(pool))
            })
            .collect();
        let (tracker, exited) = mpsc::channel(1);
        LocalFunctions {
            pools,
            stopping: watch::Sender::new(false),
            tracker: Mutex::new(Some(tracker)),
            exited: tokio::sync::Mutex::new(exited),
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.pools.contains_key(name)
    }

    /// Runs one invocation of `name` and returns what it answered. A function that failed
    /// (raised, crashed, timed out, failed to start) is an `Ok` with `function_error` set;
    /// `Err` is for invocations that did not run: unknown function, oversized event, every
    /// process busy for the function's timeout (`Throttled`), shutdown.
    pub async fn invoke(&self, name: &str, payload: Bytes) -> Result<Invoked, InvokeError> {
        let pool = self
            .pools
            .get(name)
            .ok_or_else(|| InvokeError::NotFound(name.to_string()))?;
        if payload.len() > MAX_PAYLOAD {
            return Err(InvokeError::PayloadTooLarge);
        }
        pool.spec
            .config
            .check(name)
            .map_err(|problem| InvokeError::Service(format!("function {name}: {problem}")))?;
        let mut stopping = self.stopping.subscribe();
        if *stopping.borrow() {
            return Err(shutting_down());
        }
        let permit = tokio::select! {
            permit = pool.acquire() => permit?,
            _ = stopping.wait_for(|s| *s) => return Err(shutting_down()),
        };
        let tracker = self
            .tracker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(shutting_down)?;
        let pool = pool.clone();
        // In a task of its own, so that a caller giving up does not kill the process midway.
        let invocation = tokio::spawn(async move {
            let _permit = permit;
            tokio::select! {
                invoked = pool.run(payload, tracker) => invoked,
                _ = stopping.wait_for(|s| *s) => Err(shutting_down()),
            }
        });
        invocation
            .await
            .unwrap_or_else(|e| Err(InvokeError::Service(format!("the invocation failed: {e}"))))
    }

    /// Kills every process, stops their listeners and waits (a few seconds at most) until the
    /// processes are gone. Invocations in flight and later ones fail.
    pub async fn shutdown(&self) {
        self.stopping.send_replace(true);
        for pool in self.pools.values() {
            pool.close();
        }
        drop(
            self.tracker
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let mut exited = self.exited.lock().await;
        let all_gone = async { while exited.recv().await.is_some() {} };
        if tokio::time::timeout(SHUTDOWN_WAIT, all_gone).await.is_err() {
            tracing::warn!(
                target: "portico::function",
                "function processes still running {} s after they were killed",
                SHUTDOWN_WAIT.as_secs()
            );
        }
    }
}

fn shutting_down() -> InvokeError {
    InvokeError::Service("local functions are shutting down".into())
}

/// One function's processes.
struct Pool {
    spec: Spec,
    /// One permit per process that may run an invocation.
    slots: Arc<Semaphore>,
    /// Invocations waiting for a permit.
    waiting: AtomicUsize,
    idle: Mutex<Idle>,
}

/// Warm processes waiting for an invocation.
#[derive(Default)]
struct Idle {
    closed: bool,
    instances: Vec<Instance>,
}

impl Pool {
    /// A slot to run an invocation in, waiting at most the function's timeout for one.
    async fn acquire(&self) -> Result<OwnedSemaphorePermit, InvokeError> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let _waiting = Waiting::enter(&self.waiting).ok_or(InvokeError::Throttled)?;
        let timeout = Duration::from_secs(self.spec.config.timeout);
        match tokio::time::timeout(timeout, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_closed)) => Err(shutting_down()),
            Err(_elapsed) => {
                tracing::debug!(
                    target: "portico::function",
                    function = %self.spec.function,
                    "throttled: every process stayed busy for the function's timeout"
                );
                Err(InvokeError::Throttled)
            }
        }
    }

    /// Runs one invocation on a warm process, or a new one.
    async fn run(&self, payload: Bytes, tracker: mpsc::Sender<()>) -> Result<Invoked, InvokeError> {
        let request_id = ids::request_id();
        let timeout = Duration::from_secs(self.spec.config.timeout);
        let mut instance = match self.take_idle() {
            Some(instance) => instance,
            None => match self.start(&request_id, tracker.clone()).await {
                Ok(instance) => instance,
                Err(failed) => return failed,
            },
        };
        let mut outcome = instance.invoke(&request_id, payload.clone(), timeout).await;
        if outcome.undelivered {
            // Once, and on a new process: a crash-looping function fails here.
            drop(instance);
            instance = match self.start(&request_id, tracker).await {
                Ok(instance) => instance,
                Err(failed) => return failed,
            };
            outcome = instance.invoke(&request_id, payload, timeout).await;
        }
        if outcome.reusable {
            self.put_idle(instance);
        }
        Ok(outcome.invoked)
    }

    /// A new process, or the answer for an invocation that cannot have one: the function
    /// error of a command that cannot start, or Portico's error.
    async fn start(
        &self,
        request_id: &str,
        tracker: mpsc::Sender<()>,
    ) -> Result<Instance, Result<Invoked, InvokeError>> {
        match Instance::start(&self.spec, tracker).await {
            Ok(instance) => Ok(instance),
            Err(instance::StartError::Spawn(problem)) => {
                tracing::warn!(
                    target: "portico::function",
                    function = %self.spec.function,
                    request_id,
                    "{problem}"
                );
                let payload = errors::invalid_entrypoint(request_id, &problem);
                Err(Ok(Outcome::failed(payload).invoked))
            }
            Err(instance::StartError::Host(problem)) => Err(Err(InvokeError::Service(format!(
                "function {}: {problem}",
                self.spec.function
            )))),
        }
    }

    /// The most recently used warm process that is still alive.
    fn take_idle(&self) -> Option<Instance> {
        let mut dead = Vec::new();
        let found = {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                match idle.instances.pop() {
                    Some(instance) if instance.is_running() => break Some(instance),
                    Some(instance) => dead.push(instance),
                    None => break None,
                }
            }
        };
        drop(dead);
        found
    }

    fn put_idle(&self, instance: Instance) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if !idle.closed {
            idle.instances.push(instance);
        }
    }

    /// No more invocations; the warm processes are killed.
    fn close(&self) {
        self.slots.close();
        let instances = {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            idle.closed = true;
            std::mem::take(&mut idle.instances)
        };
        drop(instances);
    }
}

/// Counts an invocation waiting for a slot while it exists.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn enter(count: &'a AtomicUsize) -> Option<Waiting<'a>> {
        let before = count.fetch_add(1, Ordering::AcqRel);
        let waiting = Waiting(count);
        (before < MAX_WAITING).then_some(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
        }
    }

    #[test]
    fn local_functions_are_shareable() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<LocalFunctions>();
    }

    #[test]
    fn configs_are_checked() {
        let ok = FunctionConfig::new(["python3"]);
        assert_eq!(ok.check("my-fn_1"), Ok(()));
        assert!(
            ok.check("my fn")
                .unwrap_err()
                .contains("not a function name")
        );
        assert!(ok.check("fn:alias").is_err());
        let bad = |f: fn(&mut FunctionConfig)| {
            let mut c = FunctionConfig::new(["python3"]);
            f(&mut c);
            c.check("f").unwrap_err()
        };
        assert!(bad(|c| c.command.clear()).starts_with("command"));
        assert!(bad(|c| c.timeout = 0).starts_with("timeout"));
        assert!(bad(|c| c.timeout = 901).starts_with("timeout"));
        assert!(bad(|c| c.memory = 64).starts_with("memory"));
        assert!(bad(|c| c.concurrency = 0).starts_with("concurrency"));
        assert!(
            bad(|c| {
                c.env.insert("A=B".into(), "1".into());
            })
            .starts_with("env")
        );
    }

    #[test]
    fn waiting_is_bounded() {
        let count = AtomicUsize::new(MAX_WAITING - 1);
        let last = Waiting::enter(&count).unwrap();
        assert!(Waiting::enter(&count).is_none());
        assert_eq!(count.load(Ordering::Acquire), MAX_WAITING);
        drop(last);
        assert_eq!(count.load(Ordering::Acquire), MAX_WAITING - 1);
    }

    #[tokio::test]
    async fn unknown_functions_oversized_events_and_shutdown() {
        let functions = LocalFunctions::new(
            [("f".to_string(), FunctionConfig::new(["true"]))].into(),
            settings(),
        );
        assert!(functions.contains("f") && !functions.contains("g"));
        assert_eq!(
            functions.invoke("g", Bytes::new()).await,
            Err(InvokeError::NotFound("g".into()))
        );
        let big = Bytes::from(vec![b' '; MAX_PAYLOAD + 1]);
        assert_eq!(
            functions.invoke("f", big).await,
            Err(InvokeError::PayloadTooLarge)
        );
        functions.shutdown().await;
        assert!(matches!(
            functions.invoke("f", Bytes::from_static(b"{}")).await,
            Err(InvokeError::Service(_))
        ));
    }

    #[tokio::test]
    async fn a_command_that_cannot_start_is_a_function_error() {
        let functions = LocalFunctions::new(
            [(
                "f".to_string(),
                FunctionConfig::new(["/nonexistent/portico-test-runtime"]),
            )]
            .into(),
            settings(),
        );
        let invoked = functions
            .invoke("f", Bytes::from_static(b"{}"))
            .await
            .unwrap();
        assert_eq!(invoked.function_error.as_deref(), Some("Unhandled"));
        let payload: serde_json::Value = serde_json::from_slice(&invoked.payload).unwrap();
        assert_eq!(payload["errorType"], "Runtime.InvalidEntrypoint");
        assert!(
            payload["errorMessage"]
                .as_str()
                .unwrap()
                .contains("portico-test-runtime"),
            "{payload}"
        );
        functions.shutdown().await;
    }

    #[cfg(unix)]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_runtime_that_exits_before_taking_the_event_fails_it() {
        let functions = LocalFunctions::new(
            [("f".to_string(), FunctionConfig::new(["false"]))].into(),
            settings(),
        );
        let invoked = functions
            .invoke("f", Bytes::from_static(b"{}"))
            .await
            .unwrap();
        let payload: serde_json::Value = serde_json::from_slice(&invoked.payload).unwrap();
        assert_eq!(payload["errorType"], "Runtime.ExitError");
        assert!(
            payload["errorMessage"]
                .as_str()
                .unwrap()
                .ends_with("Error: Runtime exited with error: exit status 1"),
            "{payload}"
        );
        functions.shutdown().await;
    }

    /// A process that never asks for its event: shutdown kills it and fails the invocation
    /// at once.
    #[cfg(unix)]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shutdown_kills_running_processes_and_fails_their_invocations() {
        let functions = Arc::new(LocalFunctions::new(
            [("f".to_string(), FunctionConfig::new(["sleep", "30"]))].into(),
            settings(),
        ));
        let invocation = tokio::spawn({
            let functions = functions.clone();
            async move { functions.invoke("f", Bytes::from_static(b"{}")).await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = std::time::Instant::now();
        functions.shutdown().await;
        assert!(matches!(
            invocation.await.unwrap(),
            Err(InvokeError::Service(_))
        ));
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        // The supervisor reaped the process before shutdown returned.
        assert!(functions.exited.lock().await.recv().await.is_none());
    }
}

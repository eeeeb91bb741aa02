//! Local functions: Portico hosts the Lambda Runtime API and runs the configured command.
//! (Being implemented.)

use std::collections::BTreeMap;
use std::path::PathBuf;

use bytes::Bytes;
use serde::Deserialize;

use crate::{InvokeError, Invoked, Settings};

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

/// The local functions and their process pools.
#[derive(Debug)]
pub struct LocalFunctions {
    configs: BTreeMap<String, FunctionConfig>,
    settings: Settings,
}

impl LocalFunctions {
    pub fn new(configs: BTreeMap<String, FunctionConfig>, settings: Settings) -> LocalFunctions {
        LocalFunctions { configs, settings }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.configs.contains_key(name)
    }

    pub async fn invoke(&self, name: &str, _payload: Bytes) -> Result<Invoked, InvokeError> {
        let _ = &self.settings;
        Err(InvokeError::Service(format!(
            "local function {name}: not implemented yet"
        )))
    }

    pub async fn shutdown(&self) {}
}

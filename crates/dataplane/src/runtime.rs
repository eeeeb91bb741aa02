//! Everything the data plane serves, swapped atomically when a deployment or stage changes.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwap;

use crate::compile::CompiledApi;
use crate::usage::UsageTable;

/// A map probed on every request: foldhash (randomly seeded per process) instead of SipHash.
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// All compiled APIs, by id. Immutable once built.
#[derive(Debug, Default)]
pub struct Runtime {
    pub apis: FastMap<String, Arc<CompiledApi>>,
}

/// The shared, atomically swappable runtime. Readers never block; a swap never drops an
/// in-flight request (it keeps the `Arc` of the runtime it started with).
#[derive(Debug, Default)]
pub struct RuntimeHandle {
    current: ArcSwap<Runtime>,
    usage: ArcSwap<UsageTable>,
    /// Set (for good) once an API with a Lambda proxy integration is served: connections
    /// then record the client's header casing (`header_case`).
    header_case: Arc<AtomicBool>,
}

impl RuntimeHandle {
    pub fn new() -> RuntimeHandle {
        RuntimeHandle::default()
    }

    /// The runtime as of now.
    pub fn load(&self) -> Arc<Runtime> {
        self.current.load_full()
    }

    /// Replaces one API (or removes it, with `None`), keeping every other compiled API.
    pub fn swap(&self, api_id: &str, api: Option<CompiledApi>) {
        if api.as_ref().is_some_and(CompiledApi::needs_header_case) {
            self.header_case.store(true, Ordering::Relaxed);
        }
        self.current.rcu(|cur| {
            let mut apis = cur.apis.clone();
            match &api {
                Some(a) => {
                    apis.insert(api_id.to_string(), Arc::new(a.clone()));
                }
                None => {
                    apis.remove(api_id);
                }
            }
            Runtime { apis }
        });
    }

    /// Whether connections should record header casing (see `header_case`).
    pub fn records_header_case(&self) -> Arc<AtomicBool> {
        self.header_case.clone()
    }

    /// API keys and usage plans as of now.
    pub fn usage(&self) -> Arc<UsageTable> {
        self.usage.load_full()
    }

    /// Replaces the API key and usage plan table.
    pub fn set_usage(&self, table: UsageTable) {
        self.usage.store(Arc::new(table));
    }

    /// Replaces everything at once (startup, or after the change feed lagged).
    pub fn replace(&self, runtime: Runtime) {
        if runtime.apis.values().any(|a| a.needs_header_case()) {
            self.header_case.store(true, Ordering::Relaxed);
        }
        self.current.store(Arc::new(runtime));
    }
}

//! Where management definitions live: the [`Store`] trait, its SQLite backend, and the change
//! feed that tells the data plane to recompile.
//!
//! The store knows nothing of API Gateway's shapes: it keeps JSON documents under a
//! `(kind, scope, id)` key with a revision each, commits batches of writes atomically with
//! optimistic preconditions, and publishes one [`Change`] per write after the commit is durable.
//! A second backend (PostgreSQL) implements the same trait; nothing above it changes.
//!
//! Architecture invariant: a commit that returned `Ok` survives `kill -9` (SQLite WAL with
//! `synchronous=FULL`).

mod sqlite;

use std::future::Future;
use std::pin::Pin;

pub use sqlite::SqliteStore;
use tokio::sync::broadcast;

/// A boxed future, so that `dyn Store` works.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What sort of document a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A REST API with everything beneath it (`RestApiDocument`); scope is empty.
    RestApi,
    /// A deployment and its frozen snapshot; scope is the API id.
    Deployment,
    /// A stage; scope is the API id.
    Stage,
    /// Account-wide settings (`GetAccount`); scope and id empty.
    Account,
    /// API keys; scope empty.
    ApiKey,
    /// Usage plans; scope empty.
    UsagePlan,
    /// Usage plan keys; scope is the usage plan id.
    UsagePlanKey,
    /// Quota and per-day usage counters of one key under one plan; scope is the plan id.
    Usage,
    /// A pending UpdateUsage (`remaining` set by the management API); scope is the plan id.
    UsageOverride,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::RestApi => "restapi",
            Kind::Deployment => "deployment",
            Kind::Stage => "stage",
            Kind::Account => "account",
            Kind::ApiKey => "apikey",
            Kind::UsagePlan => "usageplan",
            Kind::UsagePlanKey => "usageplankey",
            Kind::Usage => "usage",
            Kind::UsageOverride => "usageoverride",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "restapi" => Kind::RestApi,
            "deployment" => Kind::Deployment,
            "stage" => Kind::Stage,
            "account" => Kind::Account,
            "apikey" => Kind::ApiKey,
            "usageplan" => Kind::UsagePlan,
            "usageplankey" => Kind::UsagePlanKey,
            "usage" => Kind::Usage,
            "usageoverride" => Kind::UsageOverride,
            _ => return None,
        })
    }
}

/// The address of one document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub kind: Kind,
    pub scope: String,
    pub id: String,
}

impl Key {
    pub fn new(kind: Kind, scope: impl Into<String>, id: impl Into<String>) -> Key {
        Key {
            kind,
            scope: scope.into(),
            id: id.into(),
        }
    }
}

/// A stored document.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub key: Key,
    /// The store-wide revision of the commit that last wrote this document.
    pub revision: u64,
    /// The document, JSON text.
    pub body: String,
}

/// A precondition on the current state of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Whatever is there.
    Any,
    /// Nothing may be there yet.
    Absent,
    /// The document must still be at this revision (optimistic concurrency).
    Revision(u64),
}

/// One write of a batch.
#[derive(Debug, Clone)]
pub enum Write {
    Put {
        key: Key,
        body: String,
        expect: Expect,
    },
    Delete {
        key: Key,
        expect: Expect,
    },
    /// Deletes every document of `kind` under `scope` (cascades when an API is deleted).
    DeleteScope {
        kind: Kind,
        scope: String,
    },
}

/// What the change feed says after each durable write.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub revision: u64,
    pub key: Key,
    pub deleted: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A precondition failed: somebody else wrote first. Callers re-read and retry.
    #[error("conflicting write to {0:?}")]
    Conflict(Key),
    #[error("store backend: {0}")]
    Backend(String),
    #[error("store is closed")]
    Closed,
}

/// The storage behind the control plane.
pub trait Store: Send + Sync + 'static {
    fn get<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<Option<Record>, StoreError>>;
    /// Every document of `kind` (under `scope` when given), oldest first.
    fn list<'a>(
        &'a self,
        kind: Kind,
        scope: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<Record>, StoreError>>;
    /// Applies all writes or none; returns the commit's revision once it is durable.
    fn commit(&self, writes: Vec<Write>) -> BoxFuture<'_, Result<u64, StoreError>>;
    /// The change feed. A receiver that lags must reload everything it derived.
    fn subscribe(&self) -> broadcast::Receiver<Change>;
    /// Flushes and closes; later calls fail with [`StoreError::Closed`].
    fn close(&self) -> BoxFuture<'_, ()>;
}

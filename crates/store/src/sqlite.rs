//! The embedded backend: one SQLite file in the data directory, WAL, `synchronous=FULL`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::broadcast;

use crate::{BoxFuture, Change, Expect, Key, Kind, Record, Store, StoreError, Write};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS documents (
    kind     TEXT    NOT NULL,
    scope    TEXT    NOT NULL,
    id       TEXT    NOT NULL,
    revision INTEGER NOT NULL,
    body     TEXT    NOT NULL,
    PRIMARY KEY (kind, scope, id)
);
CREATE TABLE IF NOT EXISTS changes (
    revision INTEGER PRIMARY KEY AUTOINCREMENT,
    kind     TEXT    NOT NULL,
    scope    TEXT    NOT NULL,
    id       TEXT    NOT NULL,
    deleted  INTEGER NOT NULL
);
";

/// How many change rows are kept (a new backend instance reads the tail to catch up).
const CHANGES_KEPT: i64 = 10_000;

/// SQLite-backed [`Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    conn: Mutex<Option<Connection>>,
    feed: broadcast::Sender<Change>,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SqliteStore {
    /// Opens (or creates) `dir/portico.db`.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| backend(format!("{}: {e}", dir.display())))?;
        let conn = Connection::open(dir.join("portico.db")).map_err(backend)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        let (feed, _) = broadcast::channel(4096);
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                conn: Mutex::new(Some(conn)),
                feed,
            }),
        })
    }

    async fn with_conn<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = inner
                .conn
                .lock()
                .map_err(|_| backend("store lock poisoned"))?;
            let conn = guard.as_mut().ok_or(StoreError::Closed)?;
            f(conn)
        })
        .await
        .map_err(backend)?
    }
}

fn current_revision(tx: &rusqlite::Transaction<'_>, key: &Key) -> Result<Option<u64>, StoreError> {
    tx.query_row(
        "SELECT revision FROM documents WHERE kind = ?1 AND scope = ?2 AND id = ?3",
        params![key.kind.as_str(), key.scope, key.id],
        |r| r.get::<_, i64>(0),
    )
    .optional()
    .map(|o| o.map(|r| r as u64))
    .map_err(backend)
}

fn check(tx: &rusqlite::Transaction<'_>, key: &Key, expect: Expect) -> Result<(), StoreError> {
    let ok = match expect {
        Expect::Any => true,
        Expect::Absent => current_revision(tx, key)?.is_none(),
        Expect::Revision(r) => current_revision(tx, key)? == Some(r),
    };
    if ok {
        Ok(())
    } else {
        Err(StoreError::Conflict(key.clone()))
    }
}

fn log_change(tx: &rusqlite::Transaction<'_>, key: &Key, deleted: bool) -> Result<u64, StoreError> {
    tx.execute(
        "INSERT INTO changes (kind, scope, id, deleted) VALUES (?1, ?2, ?3, ?4)",
        params![key.kind.as_str(), key.scope, key.id, deleted as i64],
    )
    .map_err(backend)?;
    Ok(tx.last_insert_rowid() as u64)
}

fn apply(conn: &mut Connection, writes: Vec<Write>) -> Result<(u64, Vec<Change>), StoreError> {
    let tx = conn.transaction().map_err(backend)?;
    let mut changes = Vec::new();
    let mut last = 0;
    for w in writes {
        match w {
            Write::Put { key, body, expect } => {
                check(&tx, &key, expect)?;
                let rev = log_change(&tx, &key, false)?;
                tx.execute(
                    "INSERT INTO documents (kind, scope, id, revision, body) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (kind, scope, id) DO UPDATE SET revision = excluded.revision, body = excluded.body",
                    params![key.kind.as_str(), key.scope, key.id, rev as i64, body],
                )
                .map_err(backend)?;
                last = rev;
                changes.push(Change {
                    revision: rev,
                    key,
                    deleted: false,
                });
            }
            Write::Delete { key, expect } => {
                check(&tx, &key, expect)?;
                let rev = log_change(&tx, &key, true)?;
                tx.execute(
                    "DELETE FROM documents WHERE kind = ?1 AND scope = ?2 AND id = ?3",
                    params![key.kind.as_str(), key.scope, key.id],
                )
                .map_err(backend)?;
                last = rev;
                changes.push(Change {
                    revision: rev,
                    key,
                    deleted: true,
                });
            }
            Write::DeleteScope { kind, scope } => {
                let ids: Vec<String> = {
                    let mut st = tx
                        .prepare("SELECT id FROM documents WHERE kind = ?1 AND scope = ?2")
                        .map_err(backend)?;
                    st.query_map(params![kind.as_str(), scope], |r| r.get(0))
                        .map_err(backend)?
                        .collect::<Result<_, _>>()
                        .map_err(backend)?
                };
                for id in ids {
                    let key = Key::new(kind, scope.clone(), id);
                    let rev = log_change(&tx, &key, true)?;
                    last = rev;
                    changes.push(Change {
                        revision: rev,
                        key,
                        deleted: true,
                    });
                }
                tx.execute(
                    "DELETE FROM documents WHERE kind = ?1 AND scope = ?2",
                    params![kind.as_str(), scope],
                )
                .map_err(backend)?;
            }
        }
    }
    let first = changes.first().map_or(last, |c| c.revision);
    if last > 0 && (first.saturating_sub(1)) / 1000 != last / 1000 {
        tx.execute(
            "DELETE FROM changes WHERE revision < ?1",
            params![last as i64 - CHANGES_KEPT],
        )
        .map_err(backend)?;
    }
    tx.commit().map_err(backend)?;
    Ok((last, changes))
}

fn row_to_record(kind: Kind, r: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    Ok(Record {
        key: Key::new(kind, r.get::<_, String>(0)?, r.get::<_, String>(1)?),
        revision: r.get::<_, i64>(2)? as u64,
        body: r.get(3)?,
    })
}

impl Store for SqliteStore {
    fn get<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        let key = key.clone();
        Box::pin(self.with_conn(move |c| {
            c.query_row(
                "SELECT scope, id, revision, body FROM documents WHERE kind = ?1 AND scope = ?2 AND id = ?3",
                params![key.kind.as_str(), key.scope, key.id],
                |r| row_to_record(key.kind, r),
            )
            .optional()
            .map_err(backend)
        }))
    }

    fn list<'a>(
        &'a self,
        kind: Kind,
        scope: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<Record>, StoreError>> {
        let scope = scope.map(str::to_string);
        Box::pin(self.with_conn(move |c| {
            let (sql, args): (&str, Vec<String>) = match scope {
                Some(s) => (
                    "SELECT scope, id, revision, body FROM documents WHERE kind = ?1 AND scope = ?2 ORDER BY rowid",
                    vec![kind.as_str().to_string(), s],
                ),
                None => (
                    "SELECT scope, id, revision, body FROM documents WHERE kind = ?1 ORDER BY rowid",
                    vec![kind.as_str().to_string()],
                ),
            };
            let mut st = c.prepare_cached(sql).map_err(backend)?;
            let rows = st
                .query_map(rusqlite::params_from_iter(args.iter()), |r| row_to_record(kind, r))
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            Ok(rows)
        }))
    }

    fn commit(&self, writes: Vec<Write>) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            // Published while the connection lock is held, so the feed carries commits in
            // revision order and a commit is never durable without being announced.
            let feed = self.inner.feed.clone();
            self.with_conn(move |c| {
                let (rev, changes) = apply(c, writes)?;
                for ch in changes {
                    // No receivers is fine: nobody derives state yet.
                    let _ = feed.send(ch);
                }
                Ok(rev)
            })
            .await
        })
    }

    fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.inner.feed.subscribe()
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let inner = self.inner.clone();
            let _ = tokio::task::spawn_blocking(move || {
                if let Ok(mut guard) = inner.conn.lock()
                    && let Some(conn) = guard.take()
                {
                    let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
                    let _ = conn.close();
                }
            })
            .await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> Key {
        Key::new(Kind::RestApi, "", id)
    }

    #[tokio::test]
    async fn commits_are_atomic_and_preconditions_hold() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(dir.path()).unwrap();
        let mut feed = s.subscribe();
        let rev = s
            .commit(vec![Write::Put {
                key: key("a"),
                body: "{}".into(),
                expect: Expect::Absent,
            }])
            .await
            .unwrap();
        assert_eq!(feed.recv().await.unwrap().key, key("a"));
        // A second create of the same key conflicts and writes nothing.
        let err = s
            .commit(vec![
                Write::Put {
                    key: key("b"),
                    body: "{}".into(),
                    expect: Expect::Absent,
                },
                Write::Put {
                    key: key("a"),
                    body: "{}".into(),
                    expect: Expect::Absent,
                },
            ])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)));
        assert!(s.get(&key("b")).await.unwrap().is_none());
        // Optimistic update at the right revision works, at a stale one conflicts.
        s.commit(vec![Write::Put {
            key: key("a"),
            body: "1".into(),
            expect: Expect::Revision(rev),
        }])
        .await
        .unwrap();
        let stale = s
            .commit(vec![Write::Put {
                key: key("a"),
                body: "2".into(),
                expect: Expect::Revision(rev),
            }])
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))));
        assert_eq!(s.get(&key("a")).await.unwrap().unwrap().body, "1");
    }

    #[tokio::test]
    async fn data_survives_reopen_and_scope_delete_cascades() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = SqliteStore::open(dir.path()).unwrap();
            for id in ["s1", "s2"] {
                s.commit(vec![Write::Put {
                    key: Key::new(Kind::Stage, "api", id),
                    body: id.into(),
                    expect: Expect::Any,
                }])
                .await
                .unwrap();
            }
            // Dropped without close: like a crash after the acknowledgement.
        }
        let s = SqliteStore::open(dir.path()).unwrap();
        let stages = s.list(Kind::Stage, Some("api")).await.unwrap();
        assert_eq!(
            stages.iter().map(|r| r.body.as_str()).collect::<Vec<_>>(),
            ["s1", "s2"]
        );
        s.commit(vec![Write::DeleteScope {
            kind: Kind::Stage,
            scope: "api".into(),
        }])
        .await
        .unwrap();
        assert!(s.list(Kind::Stage, None).await.unwrap().is_empty());
        s.close().await;
        assert!(matches!(s.get(&key("x")).await, Err(StoreError::Closed)));
    }
}

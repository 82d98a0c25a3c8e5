//! The SQLite store: one file, WAL journal, one writer connection.
//!
//! All calls run on Tokio's blocking pool. One connection behind a mutex serialises writes
//! in this process, and every read-check-write (the 5-active rule, revisions) also runs in
//! a `BEGIN IMMEDIATE` transaction, so it stays atomic even if a second process opened the
//! same file.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use followup_domain::{
    ChatbotId, FollowUp, FollowUpConfig, FollowUpFilter, FollowUpId, MAX_ACTIVE_FOLLOW_UPS,
    Timestamp,
};
use followup_ports::{FollowUpStore, NewFollowUp, StoreError};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use crate::migrations;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

pub(crate) fn unavailable(error: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the store file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(unavailable)?;
        Self::init(conn)
    }

    /// A private in-memory store, for tests.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(unavailable)?)
    }

    fn init(mut conn: Connection) -> Result<Self, StoreError> {
        // WAL: readers never block the writer; NORMAL sync is durable across process
        // crashes (an OS crash may lose the last commits, never corrupt the file).
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(unavailable)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(unavailable)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(unavailable)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(unavailable)?;
        migrations::migrate(&mut conn).map_err(unavailable)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `work` with the connection on the blocking pool.
    pub(crate) async fn with_conn<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Unavailable("store connection poisoned".into()))?;
            work(&mut guard)
        })
        .await
        .map_err(unavailable)?
    }
}

const SELECT_FOLLOW_UP: &str =
    "SELECT chatbot_id, id, config, revision, created_at, updated_at FROM follow_ups";

fn read_follow_up(row: &Row<'_>) -> rusqlite::Result<FollowUp> {
    let invalid = |column: usize, error: String| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, error.into())
    };
    let chatbot_id: String = row.get(0)?;
    let id: String = row.get(1)?;
    let config: String = row.get(2)?;
    let revision: i64 = row.get(3)?;
    Ok(FollowUp {
        chatbot_id: ChatbotId::parse(&chatbot_id).map_err(|e| invalid(0, e.message))?,
        id: FollowUpId::parse(&id).map_err(|e| invalid(1, e.message))?,
        // Re-validated on the way in: a row edited by hand cannot smuggle in a bad config.
        config: serde_json::from_str(&config).map_err(|e| invalid(2, e.to_string()))?,
        revision: u64::try_from(revision).map_err(|e| invalid(3, e.to_string()))?,
        created_at: Timestamp::from_millis(row.get(4)?),
        updated_at: Timestamp::from_millis(row.get(5)?),
    })
}

fn load(
    conn: &Connection,
    chatbot: &ChatbotId,
    id: &FollowUpId,
) -> Result<Option<FollowUp>, StoreError> {
    conn.query_row(
        &format!("{SELECT_FOLLOW_UP} WHERE chatbot_id = ?1 AND id = ?2"),
        params![chatbot.as_str(), id.as_str()],
        read_follow_up,
    )
    .optional()
    .map_err(unavailable)
}

/// Fails when `chatbot` already has the maximum of active follow-ups (not counting
/// `except`, the one being changed). Must run inside the write transaction.
fn ensure_room_for_one_more_active(
    conn: &Connection,
    chatbot: &ChatbotId,
    except: &FollowUpId,
) -> Result<(), StoreError> {
    let active: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM follow_ups WHERE chatbot_id = ?1 AND active = 1 AND id != ?2",
            params![chatbot.as_str(), except.as_str()],
            |row| row.get(0),
        )
        .map_err(unavailable)?;
    if usize::try_from(active).unwrap_or(usize::MAX) >= MAX_ACTIVE_FOLLOW_UPS {
        return Err(StoreError::ActiveLimitReached {
            limit: MAX_ACTIVE_FOLLOW_UPS,
        });
    }
    Ok(())
}

fn config_json(config: &FollowUpConfig) -> Result<String, StoreError> {
    serde_json::to_string(config).map_err(unavailable)
}

/// Writes `next` over the stored row (same key), bumping nothing itself.
fn write_back(conn: &Connection, next: &FollowUp) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE follow_ups SET config = ?3, active = ?4, color = ?5, revision = ?6, updated_at = ?7
         WHERE chatbot_id = ?1 AND id = ?2",
        params![
            next.chatbot_id.as_str(),
            next.id.as_str(),
            config_json(&next.config)?,
            next.config.active,
            next.config.color.map(|c| c.as_str()),
            i64::try_from(next.revision).map_err(unavailable)?,
            next.updated_at.as_millis(),
        ],
    )
    .map_err(unavailable)?;
    Ok(())
}

#[async_trait]
impl FollowUpStore for SqliteStore {
    async fn create_follow_up(&self, new: NewFollowUp) -> Result<FollowUp, StoreError> {
        self.with_conn(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            if new.config.active {
                ensure_room_for_one_more_active(&tx, &new.chatbot_id, &new.id)?;
            }
            let follow_up = FollowUp {
                id: new.id,
                chatbot_id: new.chatbot_id,
                config: new.config,
                revision: 1,
                created_at: new.now,
                updated_at: new.now,
            };
            tx.execute(
                "INSERT INTO follow_ups
                   (chatbot_id, id, config, active, color, revision, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6)",
                params![
                    follow_up.chatbot_id.as_str(),
                    follow_up.id.as_str(),
                    config_json(&follow_up.config)?,
                    follow_up.config.active,
                    follow_up.config.color.map(|c| c.as_str()),
                    follow_up.created_at.as_millis(),
                ],
            )
            .map_err(unavailable)?;
            tx.commit().map_err(unavailable)?;
            Ok(follow_up)
        })
        .await
    }

    async fn get_follow_up(
        &self,
        chatbot: &ChatbotId,
        id: &FollowUpId,
    ) -> Result<Option<FollowUp>, StoreError> {
        let (chatbot, id) = (chatbot.clone(), id.clone());
        self.with_conn(move |conn| load(conn, &chatbot, &id)).await
    }

    async fn list_follow_ups(
        &self,
        chatbot: &ChatbotId,
        filter: FollowUpFilter,
    ) -> Result<Vec<FollowUp>, StoreError> {
        let chatbot = chatbot.clone();
        self.with_conn(move |conn| {
            let mut statement = conn
                .prepare_cached(&format!(
                    "{SELECT_FOLLOW_UP}
                     WHERE chatbot_id = ?1
                       AND (?2 IS NULL OR color = ?2)
                       AND (?3 IS NULL OR active = ?3)
                     ORDER BY created_at, id"
                ))
                .map_err(unavailable)?;
            let rows = statement
                .query_map(
                    params![
                        chatbot.as_str(),
                        filter.color.map(|c| c.as_str()),
                        filter.active
                    ],
                    read_follow_up,
                )
                .map_err(unavailable)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(unavailable)
        })
        .await
    }

    async fn replace_follow_up(
        &self,
        chatbot: &ChatbotId,
        id: &FollowUpId,
        config: FollowUpConfig,
        expected_revision: Option<u64>,
        now: Timestamp,
    ) -> Result<FollowUp, StoreError> {
        let (chatbot, id) = (chatbot.clone(), id.clone());
        self.with_conn(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let current = load(&tx, &chatbot, &id)?.ok_or(StoreError::NotFound)?;
            if expected_revision.is_some_and(|expected| expected != current.revision) {
                return Err(StoreError::RevisionConflict {
                    current: current.revision,
                });
            }
            if config == current.config {
                // Nothing changes: no new revision, so a repeated PUT is idempotent.
                return Ok(current);
            }
            if config.active && !current.config.active {
                ensure_room_for_one_more_active(&tx, &chatbot, &id)?;
            }
            let next = FollowUp {
                config,
                revision: current.revision + 1,
                updated_at: now,
                ..current
            };
            write_back(&tx, &next)?;
            tx.commit().map_err(unavailable)?;
            Ok(next)
        })
        .await
    }

    async fn set_follow_up_active(
        &self,
        chatbot: &ChatbotId,
        id: &FollowUpId,
        active: bool,
        now: Timestamp,
    ) -> Result<FollowUp, StoreError> {
        let (chatbot, id) = (chatbot.clone(), id.clone());
        self.with_conn(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let current = load(&tx, &chatbot, &id)?.ok_or(StoreError::NotFound)?;
            if current.config.active == active {
                return Ok(current);
            }
            if active {
                ensure_room_for_one_more_active(&tx, &chatbot, &id)?;
            }
            let mut next = current;
            next.config.active = active;
            next.revision += 1;
            next.updated_at = now;
            write_back(&tx, &next)?;
            tx.commit().map_err(unavailable)?;
            Ok(next)
        })
        .await
    }

    async fn delete_follow_up(
        &self,
        chatbot: &ChatbotId,
        id: &FollowUpId,
    ) -> Result<FollowUp, StoreError> {
        let (chatbot, id) = (chatbot.clone(), id.clone());
        self.with_conn(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let current = load(&tx, &chatbot, &id)?.ok_or(StoreError::NotFound)?;
            tx.execute(
                "DELETE FROM follow_ups WHERE chatbot_id = ?1 AND id = ?2",
                params![chatbot.as_str(), id.as_str()],
            )
            .map_err(unavailable)?;
            tx.commit().map_err(unavailable)?;
            Ok(current)
        })
        .await
    }
}

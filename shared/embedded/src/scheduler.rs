//! The embedded scheduler: one row per pending follow-up in the same SQLite file, fired by
//! an in-process loop. It survives restarts: items due while the engine was down fire
//! late (on the next start) rather than never.
//!
//! Delivery is at least once, like EventBridge Scheduler with SQS: an item is removed only
//! after its handler succeeded, and only if it was not rescheduled meanwhile. Handlers
//! must therefore be idempotent (the sender's claim makes them so).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use followup_domain::Timestamp;
use followup_ports::{Clock, DueHandler, DueItem, DueKey, Scheduler, SchedulerError, StoreError};
use rusqlite::params;
use tokio::sync::Notify;

use crate::sqlite::{SqliteStore, unavailable};

/// How long a failed item waits before it is tried again.
const RETRY_AFTER_MS: i64 = 30_000;
/// Upper bound on one sleep of the loop, so a changed clock is noticed.
const MAX_IDLE: Duration = Duration::from_secs(5);
/// Items fired per batch.
const BATCH: usize = 100;

#[derive(Debug, Clone)]
pub struct SqliteScheduler {
    store: SqliteStore,
    wake: Arc<Notify>,
}

fn scheduler_error(error: StoreError) -> SchedulerError {
    SchedulerError::Unavailable(error.to_string())
}

impl SqliteScheduler {
    /// A scheduler over the same SQLite file as `store`.
    pub fn new(store: &SqliteStore) -> Self {
        Self {
            store: store.clone(),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Items due at or before `now`, earliest first.
    pub async fn due_items(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<DueItem>, StoreError> {
        self.store
            .with_conn(move |conn| {
                let mut statement = conn
                    .prepare_cached("SELECT item FROM schedules WHERE due_at <= ?1 ORDER BY due_at, name LIMIT ?2")
                    .map_err(unavailable)?;
                let rows = statement
                    .query_map(params![now.as_millis(), i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
                        row.get::<_, String>(0)
                    })
                    .map_err(unavailable)?;
                let mut items = Vec::new();
                for row in rows {
                    let json = row.map_err(unavailable)?;
                    match serde_json::from_str::<DueItem>(&json) {
                        Ok(item) => items.push(item),
                        Err(error) => tracing::error!(%error, "unreadable schedule row skipped"),
                    }
                }
                Ok(items)
            })
            .await
    }

    /// Every scheduled item, earliest first (for tests and the benchmark).
    pub async fn all_items(&self) -> Result<Vec<DueItem>, StoreError> {
        self.due_items(Timestamp::from_millis(i64::MAX), usize::MAX)
            .await
    }

    pub async fn next_due_at(&self) -> Result<Option<Timestamp>, StoreError> {
        self.store
            .with_conn(|conn| {
                conn.query_row("SELECT MIN(due_at) FROM schedules", [], |row| {
                    row.get::<_, Option<i64>>(0)
                })
                .map(|due| due.map(Timestamp::from_millis))
                .map_err(unavailable)
            })
            .await
    }

    /// Removes `item` only if it is still exactly what is scheduled under its name.
    async fn remove_if_unchanged(&self, item: &DueItem) -> Result<(), StoreError> {
        let name = item.key.schedule_name();
        let json = serde_json::to_string(item).map_err(unavailable)?;
        self.store
            .with_conn(move |conn| {
                conn.execute(
                    "DELETE FROM schedules WHERE name = ?1 AND item = ?2",
                    params![name, json],
                )
                .map_err(unavailable)?;
                Ok(())
            })
            .await
    }

    async fn postpone(&self, item: &DueItem, until: Timestamp) -> Result<(), StoreError> {
        let name = item.key.schedule_name();
        let json = serde_json::to_string(item).map_err(unavailable)?;
        self.store
            .with_conn(move |conn| {
                conn.execute(
                    "UPDATE schedules SET due_at = ?3 WHERE name = ?1 AND item = ?2",
                    params![name, json, until.as_millis()],
                )
                .map_err(unavailable)?;
                Ok(())
            })
            .await
    }

    /// Fires everything due at `now` into `handler`; returns how many were handled.
    pub async fn fire_due(
        &self,
        now: Timestamp,
        handler: &dyn DueHandler,
    ) -> Result<usize, StoreError> {
        let mut handled = 0;
        loop {
            let batch = self.due_items(now, BATCH).await?;
            if batch.is_empty() {
                return Ok(handled);
            }
            let mut progressed = false;
            for item in batch {
                match handler.on_due(item.clone()).await {
                    Ok(()) => {
                        self.remove_if_unchanged(&item).await?;
                        handled += 1;
                        progressed = true;
                    }
                    Err(error) => {
                        tracing::warn!(
                            follow_up = %item.key.follow_up_id,
                            %error,
                            "due item failed; retrying in 30 s"
                        );
                        self.postpone(
                            &item,
                            Timestamp::from_millis(now.as_millis() + RETRY_AFTER_MS),
                        )
                        .await?;
                    }
                }
            }
            if !progressed {
                return Ok(handled);
            }
        }
    }

    /// Runs until `shutdown` resolves: fires due items, then sleeps until the next one
    /// (or until a new item is scheduled).
    pub async fn run(
        self,
        clock: Arc<dyn Clock>,
        handler: Arc<dyn DueHandler>,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) {
        tokio::pin!(shutdown);
        loop {
            let now = clock.now();
            if let Err(error) = self.fire_due(now, handler.as_ref()).await {
                tracing::error!(%error, "embedded scheduler could not fire due items");
            }
            let idle = match self.next_due_at().await {
                Ok(Some(next)) => {
                    let wait = next
                        .as_millis()
                        .saturating_sub(clock.now().as_millis())
                        .max(0);
                    Duration::from_millis(u64::try_from(wait).unwrap_or(0)).min(MAX_IDLE)
                }
                Ok(None) | Err(_) => MAX_IDLE,
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(idle) => {}
            }
        }
    }
}

#[async_trait]
impl Scheduler for SqliteScheduler {
    async fn schedule(&self, item: DueItem) -> Result<(), SchedulerError> {
        let name = item.key.schedule_name();
        let due_at = item.due_at.as_millis();
        let json =
            serde_json::to_string(&item).map_err(|e| SchedulerError::Unavailable(e.to_string()))?;
        self.store
            .with_conn(move |conn| {
                conn.execute(
                    "INSERT OR REPLACE INTO schedules (name, item, due_at) VALUES (?1, ?2, ?3)",
                    params![name, json, due_at],
                )
                .map_err(unavailable)?;
                Ok(())
            })
            .await
            .map_err(scheduler_error)?;
        self.wake.notify_one();
        Ok(())
    }

    async fn cancel(&self, key: &DueKey) -> Result<(), SchedulerError> {
        let name = key.schedule_name();
        self.store
            .with_conn(move |conn| {
                conn.execute("DELETE FROM schedules WHERE name = ?1", params![name])
                    .map_err(unavailable)?;
                Ok(())
            })
            .await
            .map_err(scheduler_error)
    }
}

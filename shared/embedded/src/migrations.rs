//! Schema migrations, tracked in SQLite's `user_version`. Each entry runs once, in order,
//! inside one transaction with the version bump, so a crash never leaves half a migration.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: follow-up configuration. The validated config is stored as JSON (re-validated on
    // read); the columns beside it exist only for keys, filters and the 5-active rule.
    "CREATE TABLE follow_ups (
        chatbot_id TEXT NOT NULL,
        id TEXT NOT NULL,
        config TEXT NOT NULL,
        active INTEGER NOT NULL CHECK (active IN (0, 1)),
        color TEXT,
        revision INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (chatbot_id, id)
    ) WITHOUT ROWID;
    CREATE INDEX follow_ups_by_activity ON follow_ups (chatbot_id, active);",
];

/// The schema version this build expects.
pub const LATEST_VERSION: usize = MIGRATIONS.len();

pub fn migrate(conn: &mut Connection) -> rusqlite::Result<usize> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > LATEST_VERSION {
        // Written by a newer build: refuse rather than misread it.
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "store schema version {current} is newer than this build's {LATEST_VERSION}"
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "applied store migration");
    }
    Ok(LATEST_VERSION)
}

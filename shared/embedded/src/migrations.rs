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
    // 2: integrations, conversations, transcripts, pending follow-ups, the conversation
    // log, and the embedded scheduler's schedules.
    "CREATE TABLE integrations (
        platform TEXT NOT NULL,
        account_id TEXT NOT NULL,
        chatbot_id TEXT NOT NULL,
        access_token TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (platform, account_id)
    ) WITHOUT ROWID;
    CREATE INDEX integrations_by_chatbot ON integrations (chatbot_id);
    CREATE TABLE conversations (
        chatbot_id TEXT NOT NULL,
        id TEXT NOT NULL,
        last_customer_message_at INTEGER,
        silence_period INTEGER NOT NULL,
        planned_period INTEGER NOT NULL,
        profile_name TEXT,
        PRIMARY KEY (chatbot_id, id)
    ) WITHOUT ROWID;
    CREATE INDEX conversations_by_activity
        ON conversations (chatbot_id, last_customer_message_at DESC);
    CREATE TABLE inbound_messages (
        chatbot_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (chatbot_id, message_id)
    ) WITHOUT ROWID;
    CREATE TABLE transcript (
        chatbot_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        speaker TEXT NOT NULL CHECK (speaker IN ('customer', 'business')),
        text TEXT,
        PRIMARY KEY (chatbot_id, conversation_id, message_id)
    ) WITHOUT ROWID;
    CREATE INDEX transcript_by_time ON transcript (chatbot_id, conversation_id, at);
    CREATE TABLE pending_follow_ups (
        chatbot_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        follow_up_id TEXT NOT NULL,
        silence_period INTEGER NOT NULL,
        due_at INTEGER NOT NULL,
        PRIMARY KEY (chatbot_id, conversation_id, follow_up_id)
    ) WITHOUT ROWID;
    CREATE INDEX pending_by_follow_up ON pending_follow_ups (chatbot_id, follow_up_id);
    CREATE TABLE conversation_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        chatbot_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        entry TEXT NOT NULL
    );
    CREATE INDEX log_by_conversation ON conversation_log (chatbot_id, conversation_id, seq);
    CREATE TABLE schedules (
        name TEXT PRIMARY KEY,
        item TEXT NOT NULL,
        due_at INTEGER NOT NULL
    );
    CREATE INDEX schedules_by_due ON schedules (due_at);",
    // 3: the sender: deliveries (claims), stopped conversations, and log columns for
    // per-follow-up statistics.
    "ALTER TABLE conversations ADD COLUMN stopped_period INTEGER;
    ALTER TABLE conversation_log ADD COLUMN follow_up_id TEXT;
    ALTER TABLE conversation_log ADD COLUMN kind TEXT;
    ALTER TABLE conversation_log ADD COLUMN reason TEXT;
    CREATE INDEX log_by_follow_up ON conversation_log (chatbot_id, follow_up_id, kind);
    CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        follow_up_id TEXT NOT NULL,
        silence_period INTEGER NOT NULL,
        status TEXT NOT NULL,
        sent_as TEXT,
        template_name TEXT,
        platform_message_id TEXT,
        detail TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        sent_at INTEGER,
        replied_at INTEGER,
        UNIQUE (chatbot_id, conversation_id, follow_up_id, silence_period)
    );
    CREATE INDEX deliveries_by_follow_up ON deliveries (chatbot_id, follow_up_id, created_at);
    CREATE INDEX deliveries_awaiting_reply ON deliveries (chatbot_id, conversation_id, sent_at)
        WHERE replied_at IS NULL;",
    // 4: the WhatsApp template catalogue, per WhatsApp Business Account (WABA), the
    // accounts each chatbot linked, and the WABA of a WhatsApp integration.
    "ALTER TABLE integrations ADD COLUMN waba_id TEXT;
    CREATE TABLE message_templates (
        waba_id TEXT NOT NULL,
        name TEXT NOT NULL,
        language TEXT NOT NULL,
        template_id TEXT NOT NULL,
        category TEXT,
        status TEXT NOT NULL,
        status_reason TEXT,
        parameter_format TEXT NOT NULL CHECK (parameter_format IN ('positional', 'named')),
        body_text TEXT,
        body_parameter_count INTEGER NOT NULL,
        unsupported TEXT,
        components_json TEXT NOT NULL,
        status_at INTEGER NOT NULL,
        PRIMARY KEY (waba_id, name, language)
    ) WITHOUT ROWID;
    CREATE TABLE template_links (
        chatbot_id TEXT NOT NULL,
        waba_id TEXT NOT NULL,
        synced_at INTEGER NOT NULL,
        PRIMARY KEY (chatbot_id, waba_id)
    ) WITHOUT ROWID;",
    // 5: claims are leases. A claim records its holder's token and lease, and when the
    // holder started calling Meta; claims from before this version have no lease and are
    // taken over by the next delivery of their item.
    "ALTER TABLE deliveries ADD COLUMN claim_token TEXT;
    ALTER TABLE deliveries ADD COLUMN lease_until INTEGER;
    ALTER TABLE deliveries ADD COLUMN attempt_started_at INTEGER;",
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

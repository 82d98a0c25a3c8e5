//! The store contract on the embedded SQLite adapter, plus what only a file store has:
//! persistence across a restart and schema migrations.

use std::sync::Arc;

use followup_domain::{CatalogueEntry, FollowUpFilter, Platform, Timestamp};
use followup_embedded::SqliteStore;
use followup_ports::{FollowUpStore, IntegrationStore, NewFollowUp, TemplateStore};
use followup_tests::store_contract::{chatbot, config, follow_up_id};
use followup_tests::store_contract_tests;

async fn fresh_file_store() -> Arc<SqliteStore> {
    // Each test gets its own file (kept alive for the process) so WAL and locking are real.
    let dir = tempfile::tempdir().expect("temp dir").keep();
    Arc::new(SqliteStore::open(&dir.join("store.sqlite")).expect("open store"))
}

store_contract_tests!(fresh_file_store());

#[tokio::test]
async fn when_the_store_is_reopened_then_follow_ups_are_still_there() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.sqlite");
    {
        let store = SqliteStore::open(&path).expect("open");
        store
            .create_follow_up(NewFollowUp {
                id: follow_up_id("f1"),
                chatbot_id: chatbot("clinic"),
                config: config("Survives restarts", "green", true),
                now: Timestamp::from_millis(42),
            })
            .await
            .expect("create");
    }
    let reopened = SqliteStore::open(&path).expect("reopen");
    let list = reopened
        .list_follow_ups(&chatbot("clinic"), FollowUpFilter::default())
        .await
        .expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].config.name.as_str(), "Survives restarts");
    assert_eq!(list[0].created_at, Timestamp::from_millis(42));
}

#[tokio::test]
async fn when_the_file_was_written_by_a_newer_schema_then_opening_fails_loudly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.sqlite");
    drop(SqliteStore::open(&path).expect("open"));
    rusqlite::Connection::open(&path)
        .and_then(|conn| conn.pragma_update(None, "user_version", 999))
        .expect("bump the schema version as a future build would");
    let error = SqliteStore::open(&path).expect_err("newer schema must be refused");
    assert!(error.to_string().contains("newer"), "{error}");
}

fn user_version(path: &std::path::Path) -> i64 {
    rusqlite::Connection::open(path)
        .and_then(|conn| conn.query_row("PRAGMA user_version", [], |row| row.get(0)))
        .expect("read the schema version")
}

#[tokio::test]
async fn when_a_version_3_file_is_opened_then_integrations_are_kept_and_the_catalogue_is_added() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.sqlite");
    {
        // The part of a version 3 file that migrations 4 and 5 change: integrations as
        // migration 2 created them, with one row, and the deliveries table (5 adds columns).
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute_batch(
            "CREATE TABLE integrations (
                platform TEXT NOT NULL,
                account_id TEXT NOT NULL,
                chatbot_id TEXT NOT NULL,
                access_token TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (platform, account_id)
            ) WITHOUT ROWID;
            INSERT INTO integrations VALUES ('whatsapp', '111', 'clinic', 'token', 1, 2);
            CREATE TABLE deliveries (id TEXT PRIMARY KEY);
            PRAGMA user_version = 3;",
        )
        .expect("a version 3 file");
    }
    let store = SqliteStore::open(&path).expect("open and migrate");
    assert_eq!(user_version(&path), 5);
    let found = store
        .find_integration(Platform::Whatsapp, "111")
        .await
        .expect("find")
        .expect("kept");
    assert_eq!(
        (found.chatbot_id, found.waba_id, found.access_token.expose()),
        (chatbot("clinic"), None, "token")
    );
    let template = followup_tests::store_contract::template("222", "reminder", "en_US");
    store
        .replace_catalogue(
            &chatbot("clinic"),
            "222",
            vec![template.clone()],
            Timestamp::from_millis(3),
        )
        .await
        .expect("the catalogue tables exist");
    let listed = store
        .list_templates(&chatbot("clinic"))
        .await
        .expect("list");
    assert_eq!(
        listed,
        [CatalogueEntry {
            template,
            status_at: Timestamp::from_millis(3)
        }]
    );
    drop(store);
    drop(SqliteStore::open(&path).expect("reopen"));
    assert_eq!(
        user_version(&path),
        5,
        "an up-to-date file is not migrated again"
    );
}

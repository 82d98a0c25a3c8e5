//! The store contract on the embedded SQLite adapter, plus what only a file store has:
//! persistence across a restart and schema migrations.

use std::sync::Arc;

use followup_domain::{FollowUpFilter, Timestamp};
use followup_embedded::SqliteStore;
use followup_ports::{FollowUpStore, NewFollowUp};
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

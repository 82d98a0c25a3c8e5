//! Embedded adapters: everything the service needs on one machine, in one SQLite file.

mod migrations;
mod sqlite;

pub use sqlite::SqliteStore;

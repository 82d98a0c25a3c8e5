//! Embedded adapters: everything the service needs on one machine, in one SQLite file.

mod conversations;
mod deliveries;
mod integrations;
mod migrations;
mod scheduler;
mod sqlite;
mod templates;

pub use scheduler::SqliteScheduler;
pub use sqlite::SqliteStore;

//! Application services: what happens when a webhook arrives, when a follow-up comes due,
//! and when one is deactivated or deleted. Written against the ports only, so the same code
//! runs in the local engine and in the Lambda functions.

mod catalogue;
mod ingest;
mod lifecycle;
mod plan;
mod sender;

use std::sync::Arc;

use followup_domain::WindowPolicy;
use followup_ports::{
    Clock, Judge, Messenger, Scheduler, SchedulerError, Store, StoreError, TemplateDirectory,
};

pub use catalogue::{Catalogue, CatalogueError, UsableCatalogue};
pub use ingest::IngestSummary;
pub use sender::{PROFILE_NAME_FALLBACK, SendDue, SendOutcome};

/// Default first check of an `ai` delay: 2 hours after the customer's last message, the low
/// end of the 2-6 h that usually works best. The judge then sends or picks a later time.
pub const DEFAULT_AI_FIRST_CHECK_MINUTES: u32 = 120;

/// The ports and settings the services work with.
#[derive(Debug, Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub scheduler: Arc<dyn Scheduler>,
    pub clock: Arc<dyn Clock>,
    pub judge: Arc<dyn Judge>,
    pub messenger: Arc<dyn Messenger>,
    /// Meta's template endpoints (or the local stand-in).
    pub templates: Arc<dyn TemplateDirectory>,
    pub policy: WindowPolicy,
    pub ai_first_check_minutes: u32,
}

/// A service call failed for a reason on our side; the caller should retry (webhooks:
/// answer 5xx so Meta redelivers; due items: leave them for redelivery).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Scheduler(#[from] SchedulerError),
    /// Meta throttled the send beyond the client's own retries: deliver the item again later.
    #[error("throttled by Meta")]
    Throttled,
}

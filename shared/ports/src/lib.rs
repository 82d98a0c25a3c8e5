//! Ports: the traits the service's logic is written against, so that the same handlers
//! run on AWS (DynamoDB, EventBridge Scheduler, SQS, Graph API, an LLM) and on one
//! machine (SQLite, an in-process scheduler, an outbox, the offline judge).
//!
//! Every method is async and object-safe (`dyn Trait`), so adapters are chosen at start-up
//! from configuration, not at compile time.

mod clock;
mod judge;
mod messenger;
mod scheduler;
mod store;
mod templates;

pub use clock::{Clock, FixedClock, SystemClock};
pub use judge::{
    Judge, JudgeError, JudgeRequest, JudgeVerdict, Speaker, TokenUsage, TranscriptLine,
    VerdictEvidence,
};
pub use messenger::{Messenger, OutboundBody, OutboundMessage, SendError, SendReceipt};
pub use scheduler::{DueHandler, DueItem, DueKey, Scheduler, SchedulerError};
pub use store::{
    Claim, ConversationStore, ConversationSummary, Delivery, DeliveryStatus, DeliveryStore,
    DeliveryUpdate, FollowUpStats, FollowUpStore, InboundMessage, Integration, IntegrationStore,
    LogPage, NewFollowUp, PendingFollowUp, Recorded, Store, StoreError, Upserted,
};
pub use templates::{
    CatalogueAccount, CreatedTemplate, DirectoryError, TemplateDirectory, TemplateStore,
};

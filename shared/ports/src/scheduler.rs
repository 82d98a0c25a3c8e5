use async_trait::async_trait;
use followup_domain::{ChatbotId, FollowUpId, Timestamp};
use serde::{Deserialize, Serialize};

/// Identifies one pending follow-up: at most one is pending per (conversation,
/// follow-up), so this is also the schedule's deterministic name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DueKey {
    pub chatbot_id: ChatbotId,
    /// The conversation: platform, business account and customer, as one opaque key.
    pub conversation_id: String,
    pub follow_up_id: FollowUpId,
}

/// What fires: the key, the silence period it was planned for (so the sender can see it
/// is stale when the customer wrote since), and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueItem {
    pub key: DueKey,
    pub silence_period: u64,
    pub due_at: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    /// The message is for logs only.
    #[error("scheduler unavailable: {0}")]
    Unavailable(String),
}

/// One one-shot schedule per pending follow-up (EventBridge Scheduler on AWS, a persistent
/// in-process timer locally). Both operations are idempotent: scheduling the same key
/// again replaces the pending item, cancelling a missing one succeeds.
#[async_trait]
pub trait Scheduler: Send + Sync + std::fmt::Debug {
    async fn schedule(&self, item: DueItem) -> Result<(), SchedulerError>;
    async fn cancel(&self, key: &DueKey) -> Result<(), SchedulerError>;
}

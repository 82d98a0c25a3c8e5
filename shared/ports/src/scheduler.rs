use async_trait::async_trait;
use followup_domain::{ChatbotId, ConversationId, FollowUpId, Timestamp};
use serde::{Deserialize, Serialize};

/// Identifies one pending follow-up: at most one is pending per (conversation,
/// follow-up), so this is also the schedule's deterministic name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DueKey {
    pub chatbot_id: ChatbotId,
    pub conversation_id: ConversationId,
    pub follow_up_id: FollowUpId,
}

/// What fires: the key, the silence period it was planned for (so the sender can see it
/// is stale when the customer wrote since), and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueItem {
    pub key: DueKey,
    pub silence_period: u64,
    pub due_at: Timestamp,
    /// How many judge calls for this item failed so far (0 for a first fire). Carried in
    /// the schedule's payload, so retries back off and stop without a store read.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub judge_attempts: u32,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl DueKey {
    /// A stable name for the schedule: the same key always gives the same name, so a
    /// retried create replaces instead of duplicating.
    pub fn schedule_name(&self) -> String {
        format!(
            "{}/{}/{}",
            self.chatbot_id, self.conversation_id, self.follow_up_id
        )
    }
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

/// Receives due items when a schedule fires: the sender (or, before it exists, a
/// recorder). Delivery is at least once, so implementations must be idempotent.
#[async_trait]
pub trait DueHandler: Send + Sync {
    /// `Err` means "try again later"; the message is for logs only.
    async fn on_due(&self, item: DueItem) -> Result<(), String>;
}

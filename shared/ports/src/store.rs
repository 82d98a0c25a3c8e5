use async_trait::async_trait;
use followup_domain::{ChatbotId, FollowUp, FollowUpConfig, FollowUpFilter, FollowUpId, Timestamp};

/// Why a store call failed. Client mistakes (`NotFound`, `ActiveLimitReached`,
/// `RevisionConflict`) are separate from the store being unavailable, so the HTTP layer can
/// map them to 404/409 and everything else to 503 without details.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// Activating would make more than `limit` follow-ups active for the chatbot.
    #[error("the chatbot already has {limit} active follow-ups")]
    ActiveLimitReached { limit: usize },
    /// The follow-up changed since it was read (optimistic concurrency).
    #[error("the follow-up was changed concurrently (now at revision {current})")]
    RevisionConflict { current: u64 },
    /// Anything else: I/O, corruption, a closed connection. The message is for logs only.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// A follow-up to create; the id is chosen by the caller so that retries are idempotent.
#[derive(Debug, Clone)]
pub struct NewFollowUp {
    pub id: FollowUpId,
    pub chatbot_id: ChatbotId,
    pub config: FollowUpConfig,
    pub now: Timestamp,
}

/// Follow-up configuration, per chatbot. Every method is scoped by chatbot: a follow-up
/// of another chatbot is `NotFound`, never returned.
///
/// The 5-active rule ([`followup_domain::MAX_ACTIVE_FOLLOW_UPS`]) is enforced *inside*
/// the store, atomically with the write, so concurrent activations can never leave more
/// than five active.
#[async_trait]
pub trait FollowUpStore: Send + Sync + std::fmt::Debug {
    async fn create_follow_up(&self, new: NewFollowUp) -> Result<FollowUp, StoreError>;

    async fn get_follow_up(
        &self,
        chatbot: &ChatbotId,
        id: &FollowUpId,
    ) -> Result<Option<FollowUp>, StoreError>;

    /// Oldest first.
    async fn list_follow_ups(
        &self,
        chatbot: &ChatbotId,
        filter: FollowUpFilter,
    ) -> Result<Vec<FollowUp>, StoreError>;

    /// Replaces the whole configuration. With `expected_revision`, fails with
    /// `RevisionConflict` when the stored revision differs. Replacing a configuration
    /// with an identical one changes nothing (same revision, same `updated_at`).
    async fn replace_follow_up(
        &self,
        chatbot: &ChatbotId,
        id: &FollowUpId,
        config: FollowUpConfig,
        expected_revision: Option<u64>,
        now: Timestamp,
    ) -> Result<FollowUp, StoreError>;

    /// Sets the active flag; a no-op (same revision) when it already has that value.
    async fn set_follow_up_active(
        &self,
        chatbot: &ChatbotId,
        id: &FollowUpId,
        active: bool,
        now: Timestamp,
    ) -> Result<FollowUp, StoreError>;

    /// Removes the follow-up and returns what was removed.
    async fn delete_follow_up(
        &self,
        chatbot: &ChatbotId,
        id: &FollowUpId,
    ) -> Result<FollowUp, StoreError>;
}

use crate::judge::TranscriptLine;
use crate::templates::TemplateStore;
use async_trait::async_trait;
use followup_domain::{
    ChatbotId, Conversation, ConversationId, FollowUp, FollowUpConfig, FollowUpFilter, FollowUpId,
    LogEntry, Platform, Secret, Timestamp,
};

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
    /// The platform account is already connected to another chatbot.
    #[error("the account is connected to another chatbot")]
    AccountTaken,
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

/// A platform account connected to a chatbot: where its webhooks come from and which token
/// sends through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integration {
    pub chatbot_id: ChatbotId,
    pub platform: Platform,
    /// WhatsApp phone number id, Facebook page id or Instagram account id.
    pub account_id: String,
    /// WhatsApp only: the WhatsApp Business Account the phone number belongs to, whose
    /// template catalogue follow-ups use.
    pub waba_id: Option<String>,
    pub access_token: Secret,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Whether an upsert created the integration or replaced its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Updated,
}

/// Platform accounts per chatbot. An account belongs to at most one chatbot: tenants are
/// isolated by the account their webhooks arrive for.
#[async_trait]
pub trait IntegrationStore: Send + Sync {
    /// Connects the account, or replaces its token when this chatbot already has it.
    /// `AccountTaken` when another chatbot has it.
    async fn upsert_integration(
        &self,
        integration: Integration,
    ) -> Result<(Integration, Upserted), StoreError>;

    async fn list_integrations(&self, chatbot: &ChatbotId) -> Result<Vec<Integration>, StoreError>;

    async fn delete_integration(
        &self,
        chatbot: &ChatbotId,
        platform: Platform,
        account_id: &str,
    ) -> Result<(), StoreError>;

    /// Which chatbot owns this account (for routing a webhook).
    async fn find_integration(
        &self,
        platform: Platform,
        account_id: &str,
    ) -> Result<Option<Integration>, StoreError>;
}

/// A customer message as the store records it. `text` feeds the judge's transcript and
/// is personal data: it is stored for that and never logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    pub message_id: String,
    /// Meta's timestamp.
    pub sent_at: Timestamp,
    /// When the webhook arrived here.
    pub received_at: Timestamp,
    pub kind: String,
    pub text: Option<String>,
    pub profile_name: Option<String>,
}

/// What recording a customer message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The message id was already recorded (a Meta retry): nothing changed.
    pub duplicate: bool,
    /// The conversation after the write.
    pub conversation: Conversation,
}

/// A follow-up waiting to come due in a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingFollowUp {
    pub conversation_id: ConversationId,
    pub follow_up_id: FollowUpId,
    pub silence_period: u64,
    pub due_at: Timestamp,
}

/// A conversation in a chatbot's list.
pub type ConversationSummary = Conversation;

/// A page of a conversation's log, newest first; `next_before` continues the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPage {
    pub entries: Vec<(u64, LogEntry)>,
    pub next_before: Option<u64>,
}

/// Conversations, their transcripts, pending follow-ups and logs.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Records a customer message once per message id, atomically with: the last customer
    /// message time (Meta's timestamp; never moves backwards), a new silence period when
    /// the message is the newest, the bounded transcript, and a log entry.
    async fn record_customer_message(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        message: InboundMessage,
    ) -> Result<Recorded, StoreError>;

    /// Adds a business message (echo) to the transcript, once per message id. Changes
    /// no silence period. Returns false for a duplicate.
    async fn record_business_message(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        message_id: &str,
        sent_at: Timestamp,
        text: Option<String>,
    ) -> Result<bool, StoreError>;

    /// The bounded transcript, oldest first, for the judge.
    async fn transcript(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
    ) -> Result<Vec<TranscriptLine>, StoreError>;

    async fn get_conversation(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
    ) -> Result<Option<Conversation>, StoreError>;

    /// Most recently active first.
    async fn list_conversations(
        &self,
        chatbot: &ChatbotId,
        limit: usize,
    ) -> Result<Vec<ConversationSummary>, StoreError>;

    async fn pending_follow_ups(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
    ) -> Result<Vec<PendingFollowUp>, StoreError>;

    /// Every conversation where `follow_up` is pending (to cancel on deactivate/delete).
    async fn pending_for_follow_up(
        &self,
        chatbot: &ChatbotId,
        follow_up: &FollowUpId,
    ) -> Result<Vec<PendingFollowUp>, StoreError>;

    /// Finishes planning `silence_period`: the conversation's pending set becomes
    /// `pending`, `log` is appended and the period is marked planned — all or nothing, and
    /// only while `silence_period` is still the conversation's current one (returns false
    /// otherwise, and writes nothing).
    async fn commit_plan(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        silence_period: u64,
        pending: Vec<PendingFollowUp>,
        log: Vec<LogEntry>,
    ) -> Result<bool, StoreError>;

    /// Removes the pending entry if it is still for `silence_period`, appending `log` in
    /// the same transaction. Returns false (and writes nothing) when it was not pending.
    async fn settle_pending(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        follow_up: &FollowUpId,
        silence_period: u64,
        log: Vec<LogEntry>,
    ) -> Result<bool, StoreError>;

    async fn append_log(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        log: Vec<LogEntry>,
    ) -> Result<(), StoreError>;

    /// Newest first, `limit` entries older than the `before` sequence number.
    async fn conversation_log(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<LogPage, StoreError>;
}

/// Where a delivery stands. `Claimed` and `Throttled` are in flight; the others are final
/// for the silence period (WhatsApp statuses move `Sent` on to `Delivered`, `Read`, or
/// `Failed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Claimed,
    Throttled,
    Sent,
    Delivered,
    Read,
    Failed,
    Skipped,
    Unknown,
}

impl DeliveryStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Claimed => "claimed",
            Self::Throttled => "throttled",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Claimed,
            Self::Throttled,
            Self::Sent,
            Self::Delivered,
            Self::Read,
            Self::Failed,
            Self::Skipped,
            Self::Unknown,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }

    /// Settled for its silence period: nothing more may be sent for it.
    pub const fn is_final(self) -> bool {
        !matches!(self, Self::Claimed | Self::Throttled)
    }
}

/// One follow-up for one conversation and silence period: claimed before sending, so that
/// concurrent or repeated deliveries of the same due item never send twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub chatbot_id: ChatbotId,
    pub conversation_id: ConversationId,
    pub follow_up_id: FollowUpId,
    pub silence_period: u64,
    pub status: DeliveryStatus,
    /// `text` or `template` once decided.
    pub sent_as: Option<String>,
    pub template_name: Option<String>,
    pub platform_message_id: Option<String>,
    /// Why it failed or was skipped, for the log and the API.
    pub detail: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    /// When the customer first wrote within 24 h after it was sent.
    pub replied_at: Option<Timestamp>,
    /// While `Claimed`: until when the claim's holder may work on it. A claim whose lease
    /// ran out belongs to a sender that stopped (a crash, a Lambda timeout) and is taken
    /// over by the next delivery of the item.
    pub lease_until: Option<Timestamp>,
    /// When the holder durably noted that it was about to call Meta: a claim taken over
    /// with this set may have been sent, so it becomes `outcome_unknown`, never resent.
    pub attempt_started_at: Option<Timestamp>,
}

/// A claim's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This caller may go on and send, under this delivery id.
    Claimed(String),
    /// A claim whose lease ran out (its holder stopped) is now this caller's, under the
    /// delivery's original id. `attempt_started_at` tells whether the old holder may
    /// already have called Meta.
    TakenOver {
        id: String,
        attempt_started_at: Option<Timestamp>,
    },
    /// Someone else holds it (lease still running) or settled it.
    Taken(Box<Delivery>),
}

/// How a delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryUpdate {
    pub status: DeliveryStatus,
    pub sent_as: Option<String>,
    pub template_name: Option<String>,
    pub platform_message_id: Option<String>,
    pub detail: Option<String>,
    pub at: Timestamp,
}

/// Per-follow-up counts for operators tuning their follow-ups.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FollowUpStats {
    pub scheduled: u64,
    pub cancelled: std::collections::BTreeMap<String, u64>,
    pub dropped: std::collections::BTreeMap<String, u64>,
    pub skipped: std::collections::BTreeMap<String, u64>,
    pub stopped: u64,
    pub sent: u64,
    pub failed: u64,
    pub outcome_unknown: u64,
    /// Sent follow-ups the customer answered within 24 h.
    pub replied: u64,
}

impl FollowUpStats {
    /// Share of sent follow-ups answered within 24 h; `None` before the first send.
    pub fn reply_rate(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        (self.sent > 0).then(|| self.replied as f64 / self.sent as f64)
    }
}

/// Deliveries: claims, outcomes, statuses, replies and statistics.
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    async fn find_delivery(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        follow_up: &FollowUpId,
        silence_period: u64,
    ) -> Result<Option<Delivery>, StoreError>;

    /// Claims (conversation, follow-up, period) under `delivery_id` until `lease_until`,
    /// atomically: exactly one of any number of concurrent callers gets `Claimed` or
    /// `TakenOver`. A `Throttled` delivery (its retry) and a `Claimed` one whose lease ran
    /// out before `now` can be claimed again, under their original id. `delivery_id` is
    /// fresh per call and stays the claim's token: only its holder can start an attempt.
    #[allow(clippy::too_many_arguments)]
    async fn claim_delivery(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        follow_up: &FollowUpId,
        silence_period: u64,
        delivery_id: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Claim, StoreError>;

    /// Durably notes, before Meta is called, that the holder of the claim `token` starts
    /// sending `delivery_id`. False when the claim is no longer that holder's (its lease
    /// ran out and another sender took it over): the caller must not send.
    async fn start_attempt(
        &self,
        chatbot: &ChatbotId,
        delivery_id: &str,
        token: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Gives a claim back (the judge asked to wait): the next check may claim again.
    async fn release_claim(&self, chatbot: &ChatbotId, delivery_id: &str)
    -> Result<(), StoreError>;

    /// Marks a claimed delivery as throttled, to be claimed again by the retry (Meta
    /// answered that nothing was sent, so the attempt mark is cleared).
    async fn mark_throttled(
        &self,
        chatbot: &ChatbotId,
        delivery_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Settles a delivery, in one transaction with removing the pending entry of its period
    /// and appending `log`.
    async fn finish_delivery(
        &self,
        chatbot: &ChatbotId,
        delivery_id: &str,
        update: DeliveryUpdate,
        log: Vec<LogEntry>,
    ) -> Result<(), StoreError>;

    /// A WhatsApp status for a delivery of this chatbot: only moves forward
    /// (sent → delivered → read; failed from any of them). Returns false when nothing
    /// changed (unknown id, another chatbot's id, or an older status).
    async fn record_delivery_status(
        &self,
        chatbot: &ChatbotId,
        delivery_id: &str,
        status: DeliveryStatus,
        at: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Newest first.
    async fn list_deliveries(
        &self,
        chatbot: &ChatbotId,
        follow_up: &FollowUpId,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError>;

    async fn follow_up_stats(
        &self,
        chatbot: &ChatbotId,
        follow_up: &FollowUpId,
    ) -> Result<FollowUpStats, StoreError>;

    /// Marks the conversation stopped for `silence_period` (the stop trigger was met), if
    /// that is still its current period.
    async fn stop_conversation(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        silence_period: u64,
    ) -> Result<bool, StoreError>;

    /// Moves a pending follow-up to a later due time within its period (`ai` delay wait),
    /// appending `log`. False when it is no longer pending for that period.
    async fn reschedule_pending(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        follow_up: &FollowUpId,
        silence_period: u64,
        due_at: Timestamp,
        log: Vec<LogEntry>,
    ) -> Result<bool, StoreError>;
}

/// Everything the service stores, behind one object.
pub trait Store:
    FollowUpStore + IntegrationStore + ConversationStore + DeliveryStore + TemplateStore
{
}

impl<T: FollowUpStore + IntegrationStore + ConversationStore + DeliveryStore + TemplateStore> Store
    for T
{
}

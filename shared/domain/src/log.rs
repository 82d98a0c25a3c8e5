//! Conversation log: every decision the service takes about a conversation, in the order
//! taken. Entries hold ids, times and reasons; never message text.

use serde::{Deserialize, Serialize};

use crate::ids::FollowUpId;
use crate::platform::PlannedSend;
use crate::time::Timestamp;

/// Why pending follow-ups were cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// The customer wrote again: a new silence period starts.
    CustomerReplied,
    /// The follow-up was deactivated.
    FollowUpDeactivated,
    /// The follow-up was deleted.
    FollowUpDeleted,
    /// The judge found the stop trigger met.
    StopTriggerMet,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LogEvent {
    /// A customer message started (or, out of order, joined) a silence period.
    CustomerMessage {
        message_id: String,
        message_kind: String,
        sent_at: Timestamp,
        silence_period: u64,
    },
    Scheduled {
        follow_up_id: FollowUpId,
        silence_period: u64,
        due_at: Timestamp,
        /// `None` for an `ai` delay (first check time instead).
        requested_minutes: Option<u32>,
        effective_minutes: u32,
        clamped: bool,
        send_as: PlannedSend,
    },
    Cancelled {
        follow_up_id: FollowUpId,
        silence_period: u64,
        reason: CancelReason,
    },
    /// A scheduled follow-up came due and was handed to the sender.
    Due {
        follow_up_id: FollowUpId,
        silence_period: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub at: Timestamp,
    #[serde(flatten)]
    pub event: LogEvent,
}

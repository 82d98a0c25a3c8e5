//! Conversation log: every decision the service takes about a conversation, in the order
//! taken. Entries hold ids, times and reasons; never message text.

use serde::{Deserialize, Serialize};

use crate::ids::FollowUpId;
use crate::platform::PlannedSend;
use crate::send::{DropReason, SkipReason};
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
    /// Dropped before the judge was asked.
    Dropped {
        follow_up_id: FollowUpId,
        silence_period: u64,
        reason: DropReason,
    },
    /// Judged, and not sent.
    Skipped {
        follow_up_id: FollowUpId,
        silence_period: u64,
        reason: SkipReason,
    },
    /// The judge asked to check again later (`ai` delay), or could not be asked and is
    /// asked again then (`judge_retry`: the failed attempts so far).
    Waiting {
        follow_up_id: FollowUpId,
        silence_period: u64,
        until: Timestamp,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        judge_retry: Option<u32>,
    },
    /// The judge found the stop trigger met: every pending follow-up of the conversation
    /// is cancelled until the customer writes again.
    Stopped {
        follow_up_id: FollowUpId,
        silence_period: u64,
    },
    Sent {
        follow_up_id: FollowUpId,
        silence_period: u64,
        delivery_id: String,
        /// `text` or `template`.
        sent_as: String,
    },
    /// Meta refused it (bad token, other errors); not retried.
    Failed {
        follow_up_id: FollowUpId,
        silence_period: u64,
        delivery_id: String,
        error: String,
    },
    /// The request left but no answer came: it may have been delivered. Never retried, so
    /// the customer cannot get it twice.
    OutcomeUnknown {
        follow_up_id: FollowUpId,
        silence_period: u64,
        delivery_id: String,
    },
}

impl LogEvent {
    /// The follow-up an entry is about, if any (for per-follow-up statistics).
    pub fn follow_up_id(&self) -> Option<&FollowUpId> {
        match self {
            Self::CustomerMessage { .. } => None,
            Self::Scheduled { follow_up_id, .. }
            | Self::Cancelled { follow_up_id, .. }
            | Self::Dropped { follow_up_id, .. }
            | Self::Skipped { follow_up_id, .. }
            | Self::Waiting { follow_up_id, .. }
            | Self::Stopped { follow_up_id, .. }
            | Self::Sent { follow_up_id, .. }
            | Self::Failed { follow_up_id, .. }
            | Self::OutcomeUnknown { follow_up_id, .. } => Some(follow_up_id),
        }
    }

    /// The entry's kind as serialized (`scheduled`, `sent`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::CustomerMessage { .. } => "customer_message",
            Self::Scheduled { .. } => "scheduled",
            Self::Cancelled { .. } => "cancelled",
            Self::Dropped { .. } => "dropped",
            Self::Skipped { .. } => "skipped",
            Self::Waiting { .. } => "waiting",
            Self::Stopped { .. } => "stopped",
            Self::Sent { .. } => "sent",
            Self::Failed { .. } => "failed",
            Self::OutcomeUnknown { .. } => "outcome_unknown",
        }
    }

    /// The reason of a cancelled, dropped or skipped entry, as serialized.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            Self::Cancelled { reason, .. } => Some(match reason {
                CancelReason::CustomerReplied => "customer_replied",
                CancelReason::FollowUpDeactivated => "follow_up_deactivated",
                CancelReason::FollowUpDeleted => "follow_up_deleted",
                CancelReason::StopTriggerMet => "stop_trigger_met",
            }),
            Self::Dropped { reason, .. } => Some(reason.as_str()),
            Self::Skipped { reason, .. } => Some(reason.as_str()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_entries_are_serialized_then_kind_and_reason_match_the_helpers() {
        let id = FollowUpId::parse("f").expect("id");
        let events = [
            LogEvent::Cancelled {
                follow_up_id: id.clone(),
                silence_period: 1,
                reason: CancelReason::StopTriggerMet,
            },
            LogEvent::Dropped {
                follow_up_id: id.clone(),
                silence_period: 1,
                reason: DropReason::AlreadySent,
            },
            LogEvent::Skipped {
                follow_up_id: id.clone(),
                silence_period: 1,
                reason: SkipReason::WindowClosed,
            },
            LogEvent::Sent {
                follow_up_id: id,
                silence_period: 1,
                delivery_id: "d".into(),
                sent_as: "text".into(),
            },
        ];
        for event in events {
            let json = serde_json::to_value(&event).expect("serialize");
            assert_eq!(json["kind"], event.kind());
            assert_eq!(json["reason"].as_str(), event.reason());
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub at: Timestamp,
    #[serde(flatten)]
    pub event: LogEvent,
}

//! The send decision for one due (conversation, follow-up, silence period), as pure
//! functions: first the cheap checks that need no judge, then what to do with the judge's
//! verdict and the window. Every outcome names its reason, for the conversation log.

use serde::{Deserialize, Serialize};

use crate::conversation::Conversation;
use crate::followup::{FollowUp, MessageMode, WhatsAppTemplate};
use crate::platform::{Platform, SendMode, WindowPolicy};
use crate::time::Timestamp;

/// Why a due item is dropped before the judge is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The customer wrote since: a newer silence period exists.
    Stale,
    FollowUpDeleted,
    FollowUpInactive,
    /// This follow-up already went out (or was settled) in this silence period.
    AlreadySent,
    /// The stop trigger was met in this silence period.
    ConversationStopped,
    /// The chatbot has no integration for this account any more.
    NoIntegration,
}

impl DropReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Stale => "stale",
            Self::FollowUpDeleted => "follow_up_deleted",
            Self::FollowUpInactive => "follow_up_inactive",
            Self::AlreadySent => "already_sent",
            Self::ConversationStopped => "conversation_stopped",
            Self::NoIntegration => "no_integration",
        }
    }
}

/// Why a judged follow-up is not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The judge found the description does not apply to this conversation.
    DescriptionDoesNotApply,
    /// Past the free-form window and no WhatsApp template to send instead.
    WindowClosed,
    /// The judge could not be asked (timeout, unavailable, invalid answer), also after
    /// its retries.
    JudgeFailed,
    /// The judge was not confident enough that the follow-up still makes sense: held.
    JudgeUnsure,
    /// Meta refused: the customer opted out of marketing messages.
    OptedOut,
    /// Past the window, and the catalogue says the template cannot be sent (paused,
    /// disabled, rejected, deleted, or no longer listed).
    TemplateNotApproved,
}

impl SkipReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DescriptionDoesNotApply => "description_does_not_apply",
            Self::WindowClosed => "window_closed",
            Self::JudgeFailed => "judge_failed",
            Self::JudgeUnsure => "judge_unsure",
            Self::OptedOut => "opted_out",
            Self::TemplateNotApproved => "template_not_approved",
        }
    }
}

/// What the checks before the judge decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreCheck {
    Drop(DropReason),
    AskJudge,
}

/// The facts the pre-check needs; all read from the store at fire time.
#[derive(Debug, Clone, Copy)]
pub struct DueFacts<'a> {
    pub due_period: u64,
    pub conversation: &'a Conversation,
    /// `None` when the follow-up was deleted.
    pub follow_up: Option<&'a FollowUp>,
    pub already_settled: bool,
    pub has_integration: bool,
}

/// The cheap checks, in order: stale, deleted, inactive, already sent, stopped, no
/// integration. Only what passes all of them costs a judge call.
pub fn pre_check(facts: &DueFacts<'_>) -> PreCheck {
    let conversation = facts.conversation;
    let reason = if conversation.silence_period != facts.due_period {
        Some(DropReason::Stale)
    } else if facts.follow_up.is_none() {
        Some(DropReason::FollowUpDeleted)
    } else if facts.follow_up.is_some_and(|f| !f.config.active) {
        Some(DropReason::FollowUpInactive)
    } else if facts.already_settled {
        Some(DropReason::AlreadySent)
    } else if conversation.stopped_period == Some(facts.due_period) {
        Some(DropReason::ConversationStopped)
    } else if !facts.has_integration {
        Some(DropReason::NoIntegration)
    } else {
        None
    };
    reason.map_or(PreCheck::AskJudge, PreCheck::Drop)
}

/// The judge's answer, already validated by its adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub stop_trigger_met: bool,
    pub description_applies: bool,
    /// For an `ai` delay: check again then instead of sending now.
    pub wait_until: Option<Timestamp>,
    /// For an `ai` message: the text.
    pub message_text: Option<String>,
    /// The judge was not sure enough to send: hold (after a stop or a "does not apply",
    /// which are taken as they are).
    pub unsure: bool,
}

/// What goes out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Text(String),
    Template(WhatsAppTemplate),
}

/// The decision after the judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendDecision {
    /// Stop every pending follow-up of the conversation until the customer writes again.
    StopConversation,
    Skip(SkipReason),
    /// `ai` delay: not yet; check again at this time (same silence period).
    WaitUntil(Timestamp),
    Send(Outgoing),
}

/// The decision for a follow-up that passed the pre-check, given the judge's assessment
/// and the window at `now` (measured from Meta's timestamp of the customer's last message).
pub fn decide(
    follow_up: &FollowUp,
    platform: Platform,
    last_customer_message: Timestamp,
    now: Timestamp,
    policy: WindowPolicy,
    assessment: &Assessment,
) -> SendDecision {
    if assessment.stop_trigger_met {
        return SendDecision::StopConversation;
    }
    if !assessment.description_applies {
        return SendDecision::Skip(SkipReason::DescriptionDoesNotApply);
    }
    if assessment.unsure {
        // A wrong send costs far more than a missed one.
        return SendDecision::Skip(SkipReason::JudgeUnsure);
    }
    let template = follow_up
        .config
        .whatsapp_template
        .as_ref()
        .filter(|_| platform.supports_templates());
    if let Some(until) = assessment.wait_until.filter(|until| *until > now) {
        // Waiting must not carry a free-form follow-up past its window: only wait while
        // the later moment still allows a send.
        if policy.send_mode(platform, last_customer_message, until, template.is_some())
            != SendMode::WindowClosed
        {
            return SendDecision::WaitUntil(until);
        }
    }
    match policy.send_mode(platform, last_customer_message, now, template.is_some()) {
        SendMode::FreeForm => match (&follow_up.config.message, &assessment.message_text) {
            (MessageMode::Custom { text }, _) => {
                SendDecision::Send(Outgoing::Text(text.as_str().to_owned()))
            }
            (MessageMode::Ai, Some(text)) if !text.trim().is_empty() => {
                SendDecision::Send(Outgoing::Text(text.clone()))
            }
            (MessageMode::Ai, _) => SendDecision::Skip(SkipReason::JudgeFailed),
        },
        SendMode::Template => match template {
            Some(template) => SendDecision::Send(Outgoing::Template(template.clone())),
            None => SendDecision::Skip(SkipReason::WindowClosed),
        },
        SendMode::WindowClosed => SendDecision::Skip(SkipReason::WindowClosed),
    }
}

#[cfg(test)]
#[path = "send_tests.rs"]
mod tests;

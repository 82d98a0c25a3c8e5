use async_trait::async_trait;
use followup_domain::{FollowUpConfig, Platform, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    Customer,
    Business,
}

/// One line of the bounded transcript the judge reads. Customer text is untrusted input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptLine {
    pub speaker: Speaker,
    pub at: Timestamp,
    pub text: String,
}

/// Everything the judge needs for one due follow-up, and nothing it could use to change
/// where the message goes.
#[derive(Debug, Clone)]
pub struct JudgeRequest {
    pub platform: Platform,
    pub follow_up: FollowUpConfig,
    pub transcript: Vec<TranscriptLine>,
    pub last_customer_message: Timestamp,
    pub now: Timestamp,
    /// For an `ai` delay: the latest moment the judge may ask to wait until (the end of
    /// the free-form window, or for WhatsApp with a template a bound the sender picks).
    pub latest_send_at: Timestamp,
    /// The most characters a generated text may have on this platform.
    pub max_text_chars: usize,
}

impl JudgeRequest {
    /// Whether the judge must pick the send time (an `ai` delay).
    pub fn decides_timing(&self) -> bool {
        matches!(self.follow_up.delay, followup_domain::Delay::Ai)
    }

    /// Whether the judge must write the text (an `ai` message).
    pub fn writes_text(&self) -> bool {
        matches!(self.follow_up.message, followup_domain::MessageMode::Ai)
    }
}

/// The judge's decision, validated by the adapter before it is returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgeVerdict {
    pub stop_trigger_met: bool,
    pub stop_reason: String,
    pub description_applies: bool,
    pub applies_reason: String,
    /// For an `ai` delay: `None` sends now, `Some(t)` asks to check again at `t`.
    pub wait_until: Option<Timestamp>,
    /// For an `ai` message: the text to send.
    pub message_text: Option<String>,
    /// What the judge quoted for its conclusions (empty when it quoted nothing).
    pub evidence: VerdictEvidence,
    /// Set when the judge is not confident enough to send: the follow-up is held (not
    /// sent, logged as `judge_unsure`) with this reason, whatever the other fields say.
    pub unsure: Option<String>,
    /// Model tokens the verdict cost, when a model gave it.
    pub usage: Option<TokenUsage>,
}

/// Short quotes from the transcript that a verdict rests on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerdictEvidence {
    pub stop: String,
    pub applies: String,
}

/// Tokens one model call used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
    #[error("the judge timed out")]
    Timeout,
    #[error("the judge is unavailable: {0}")]
    Unavailable(String),
    /// The model answered something that failed validation.
    #[error("the judge's answer was invalid: {0}")]
    InvalidAnswer(String),
}

/// Decides at send time whether a follow-up still makes sense. Called only by the sender,
/// never on the webhook path, and at most once per due item.
#[async_trait]
pub trait Judge: Send + Sync + std::fmt::Debug {
    async fn assess(&self, request: &JudgeRequest) -> Result<JudgeVerdict, JudgeError>;
}

//! A request builder for the judge crate's unit tests.

use followup_domain::{FollowUpDraft, Platform, Timestamp};
use followup_ports::{JudgeRequest, Speaker, TranscriptLine};
use serde_json::json;

pub(crate) const NOW: Timestamp = Timestamp::from_secs(1_767_225_600);
pub(crate) const APPOINTMENT_TRIGGER: &str =
    "Customer confirmed, cancelled, or is no longer interested";
pub(crate) const APPOINTMENT_DESCRIPTION: &str =
    "Customer showed interest in booking but did not confirm date and time";

pub(crate) fn minutes_ago(minutes: u32) -> Timestamp {
    Timestamp::from_millis(NOW.as_millis() - i64::from(minutes) * 60_000)
}

pub(crate) struct Builder {
    description: String,
    stop_trigger: String,
    ai_delay: bool,
    ai_message: bool,
    lines: Vec<(Speaker, u32, String)>,
    max_text_chars: usize,
    latest_send_at: Option<Timestamp>,
}

pub(crate) fn request() -> Builder {
    Builder {
        description: APPOINTMENT_DESCRIPTION.to_owned(),
        stop_trigger: APPOINTMENT_TRIGGER.to_owned(),
        ai_delay: false,
        ai_message: true,
        lines: Vec::new(),
        max_text_chars: 1000,
        latest_send_at: None,
    }
}

impl Builder {
    pub(crate) fn description(mut self, d: &str) -> Self {
        self.description = d.to_owned();
        self
    }
    pub(crate) fn trigger(mut self, t: &str) -> Self {
        self.stop_trigger = t.to_owned();
        self
    }
    pub(crate) fn ai_delay(mut self) -> Self {
        self.ai_delay = true;
        self
    }
    pub(crate) fn custom_message(mut self) -> Self {
        self.ai_message = false;
        self
    }
    pub(crate) fn customer(mut self, minutes: u32, text: &str) -> Self {
        self.lines
            .push((Speaker::Customer, minutes, text.to_owned()));
        self
    }
    pub(crate) fn business(mut self, minutes: u32, text: &str) -> Self {
        self.lines
            .push((Speaker::Business, minutes, text.to_owned()));
        self
    }
    pub(crate) fn max_chars(mut self, max: usize) -> Self {
        self.max_text_chars = max;
        self
    }
    pub(crate) fn latest_send_at(mut self, at: Timestamp) -> Self {
        self.latest_send_at = Some(at);
        self
    }
    pub(crate) fn build(self) -> JudgeRequest {
        let draft: FollowUpDraft = serde_json::from_value(json!({
            "name": "Test follow-up",
            "delay": if self.ai_delay { json!({"mode": "ai"}) } else { json!({"mode": "manual", "minutes": 240}) },
            "description": self.description,
            "stop_trigger": self.stop_trigger,
            "message": if self.ai_message { json!({"mode": "ai"}) } else { json!({"mode": "custom", "text": "Still interested?"}) },
        }))
        .expect("draft");
        let follow_up = draft.validate().expect("valid follow-up");
        let transcript: Vec<TranscriptLine> = self
            .lines
            .into_iter()
            .map(|(speaker, minutes, text)| TranscriptLine {
                speaker,
                at: minutes_ago(minutes),
                text,
            })
            .collect();
        let last_customer_message = transcript
            .iter()
            .filter(|l| l.speaker == Speaker::Customer)
            .map(|l| l.at)
            .max()
            .expect("a customer line");
        JudgeRequest {
            platform: Platform::Whatsapp,
            follow_up,
            transcript,
            last_customer_message,
            now: NOW,
            latest_send_at: self
                .latest_send_at
                .unwrap_or_else(|| last_customer_message.plus_minutes(24 * 60 - 15)),
            max_text_chars: self.max_text_chars,
        }
    }
}

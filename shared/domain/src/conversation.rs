//! Conversations: one customer talking to one business account on one platform.

use serde::{Deserialize, Serialize};

use crate::FollowUp;
use crate::ids::{ChatbotId, FollowUpId};
use crate::platform::{DelayPlan, PlannedSend, Platform, WindowPolicy};
use crate::time::Timestamp;
use crate::validation::FieldError;

/// Meta's account and user ids: digits for phone number, page and user ids, letters and
/// dots for WhatsApp's business-scoped user ids (`BR.1502576394655843`).
pub fn parse_meta_id(field: &str, raw: &str) -> Result<String, FieldError> {
    let valid = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-';
    if raw.is_empty() || raw.len() > 128 || !raw.chars().all(valid) {
        return Err(FieldError::new(
            field,
            "meta_id",
            "must be 1 to 128 characters of letters, digits, '.', '_' or '-'",
        ));
    }
    Ok(raw.to_owned())
}

/// Identifies a conversation: `{platform}:{business account}:{customer}`, e.g.
/// `whatsapp:106540352242922:16315551181`. Safe in URL paths as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ConversationId(String);

impl ConversationId {
    pub fn new(
        platform: Platform,
        business_account_id: &str,
        customer_id: &str,
    ) -> Result<Self, FieldError> {
        parse_meta_id("business_account_id", business_account_id)?;
        parse_meta_id("customer_id", customer_id)?;
        Ok(Self(format!(
            "{platform}:{business_account_id}:{customer_id}"
        )))
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let invalid = || {
            FieldError::new(
                "conversation_id",
                "conversation_id",
                "must look like `whatsapp:<phone number id>:<customer id>`",
            )
        };
        let mut parts = raw.splitn(3, ':');
        let (Some(platform), Some(account), Some(customer)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let platform = Platform::ALL
            .into_iter()
            .find(|p| p.as_str() == platform)
            .ok_or_else(invalid)?;
        Self::new(platform, account, customer).map_err(|_| invalid())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn platform(&self) -> Platform {
        let name = self.0.split(':').next().unwrap_or_default();
        Platform::ALL
            .into_iter()
            .find(|p| p.as_str() == name)
            .unwrap_or(Platform::Whatsapp)
    }

    /// (business account id, customer id)
    pub fn parts(&self) -> (&str, &str) {
        let mut parts = self.0.splitn(3, ':').skip(1);
        (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        )
    }
}

impl TryFrom<String> for ConversationId {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw).map_err(|e| e.message)
    }
}

impl From<ConversationId> for String {
    fn from(value: ConversationId) -> String {
        value.0
    }
}

impl std::fmt::Display for ConversationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A conversation's state as the scheduler and sender need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub chatbot_id: ChatbotId,
    pub id: ConversationId,
    /// Meta's timestamp of the customer's latest message; never moves backwards.
    pub last_customer_message_at: Option<Timestamp>,
    /// Increases with every customer message that is newer than the last one. Follow-ups
    /// are planned per silence period; a due item of an older period is stale.
    pub silence_period: u64,
    /// The last silence period whose follow-ups were fully planned (scheduled and logged).
    /// Lower than `silence_period` after a crash mid-way: a retry plans it again.
    pub planned_period: u64,
    /// The customer's profile name from the latest webhook contact, for template parameters.
    pub profile_name: Option<String>,
    /// The silence period in which the judge found the stop trigger met: nothing more is
    /// sent in it. A new customer message starts a new period and lifts the stop.
    pub stopped_period: Option<u64>,
}

impl Conversation {
    pub fn needs_planning(&self) -> bool {
        self.last_customer_message_at.is_some() && self.planned_period < self.silence_period
    }
}

/// One follow-up planned for a silence period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedFollowUp {
    pub follow_up_id: FollowUpId,
    pub due_at: Timestamp,
    /// `None` for an `ai` delay, whose first check time is the service's setting.
    pub requested_minutes: Option<u32>,
    pub effective_minutes: u32,
    pub clamped: bool,
    pub send_as: PlannedSend,
}

/// Plans every active follow-up for a new silence period that started at
/// `last_customer_message` (Meta's timestamp). A manual delay is clamped per the platform
/// policy; an `ai` delay gets a first check after `ai_first_check_minutes`, where the judge
/// decides to send or to wait.
pub fn plan_silence_period(
    follow_ups: &[FollowUp],
    platform: Platform,
    last_customer_message: Timestamp,
    policy: WindowPolicy,
    ai_first_check_minutes: u32,
) -> Vec<PlannedFollowUp> {
    follow_ups
        .iter()
        .filter(|f| f.config.active)
        .map(|f| {
            let has_template = f.config.whatsapp_template.is_some();
            let (requested, plan): (Option<u32>, DelayPlan) = match f.config.delay {
                crate::Delay::Manual { minutes } => (
                    Some(minutes.get()),
                    policy.plan_delay(platform, minutes.get(), has_template),
                ),
                crate::Delay::Ai => (
                    None,
                    policy.plan_delay(platform, ai_first_check_minutes, has_template),
                ),
            };
            PlannedFollowUp {
                follow_up_id: f.id.clone(),
                due_at: last_customer_message.plus_minutes(plan.effective_minutes),
                requested_minutes: requested,
                effective_minutes: plan.effective_minutes,
                clamped: plan.clamped,
                send_as: plan.send_as,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FollowUpDraft;

    fn follow_up(id: &str, delay: serde_json::Value, active: bool, template: bool) -> FollowUp {
        let mut draft = serde_json::json!({
            "name": id, "delay": delay, "description": "d", "stop_trigger": "s", "active": active
        });
        if template {
            draft["whatsapp_template"] = serde_json::json!({"name": "t", "language": "en"});
        }
        let draft: FollowUpDraft = serde_json::from_value(draft).expect("draft");
        FollowUp {
            id: FollowUpId::parse(id).expect("id"),
            chatbot_id: ChatbotId::parse("bot").expect("id"),
            config: draft.validate().expect("valid"),
            revision: 1,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn when_planning_then_only_active_follow_ups_are_planned_from_metas_timestamp() {
        let last = Timestamp::from_secs(1_763_971_200);
        let follow_ups = [
            follow_up(
                "four-hours",
                serde_json::json!({"mode": "manual", "hours": 4}),
                true,
                false,
            ),
            follow_up(
                "off",
                serde_json::json!({"mode": "manual", "hours": 1}),
                false,
                false,
            ),
            follow_up("ai", serde_json::json!({"mode": "ai"}), true, false),
            follow_up(
                "thirty-hours",
                serde_json::json!({"mode": "manual", "hours": 30}),
                true,
                true,
            ),
        ];
        let policy = WindowPolicy::default();
        let plan = plan_silence_period(&follow_ups, Platform::Instagram, last, policy, 120);
        let summary: Vec<(&str, i64, bool)> = plan
            .iter()
            .map(|p| {
                (
                    p.follow_up_id.as_str(),
                    p.due_at.minutes_since(last),
                    p.clamped,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("four-hours", 240, false),
                ("ai", 120, false),
                ("thirty-hours", 1425, true)
            ]
        );

        let whatsapp = plan_silence_period(&follow_ups, Platform::Whatsapp, last, policy, 120);
        assert_eq!(
            whatsapp[2].due_at.minutes_since(last),
            1800,
            "WhatsApp with a template keeps 30 h"
        );
        assert_eq!(whatsapp[2].send_as, PlannedSend::Template);
        assert_eq!(whatsapp[1].requested_minutes, None);
    }

    #[test]
    fn when_conversation_ids_are_parsed_then_platform_and_parts_round_trip() {
        let id = ConversationId::new(Platform::Whatsapp, "106540352242922", "BR.1502576394655843")
            .expect("valid");
        assert_eq!(id.as_str(), "whatsapp:106540352242922:BR.1502576394655843");
        let parsed = ConversationId::parse(id.as_str()).expect("parse");
        assert_eq!(parsed, id);
        assert_eq!(parsed.platform(), Platform::Whatsapp);
        assert_eq!(parsed.parts(), ("106540352242922", "BR.1502576394655843"));
        for bad in [
            "",
            "sms:1:2",
            "whatsapp:1",
            "whatsapp::2",
            "whatsapp:1:a b",
            "whatsapp:1:2:3",
        ] {
            assert!(ConversationId::parse(bad).is_err(), "{bad:?}");
        }
    }
}

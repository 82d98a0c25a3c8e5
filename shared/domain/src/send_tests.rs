use super::*;
use crate::{ChatbotId, ConversationId, FollowUpDraft, FollowUpId};
use serde_json::json;

const HOUR: u32 = 60;

fn follow_up(message: serde_json::Value, template: bool, active: bool) -> FollowUp {
    let mut draft = json!({
        "name": "Reminder", "delay": {"mode": "manual", "hours": 4},
        "description": "d", "stop_trigger": "s", "message": message, "active": active
    });
    if template {
        draft["whatsapp_template"] = json!({"name": "reminder", "language": "en"});
    }
    let draft: FollowUpDraft = serde_json::from_value(draft).expect("draft");
    FollowUp {
        id: FollowUpId::parse("f").expect("id"),
        chatbot_id: ChatbotId::parse("bot").expect("id"),
        config: draft.validate().expect("valid"),
        revision: 1,
        created_at: Timestamp::from_millis(0),
        updated_at: Timestamp::from_millis(0),
    }
}

fn conversation(period: u64, stopped: Option<u64>) -> Conversation {
    Conversation {
        chatbot_id: ChatbotId::parse("bot").expect("id"),
        id: ConversationId::parse("whatsapp:1:2").expect("id"),
        last_customer_message_at: Some(Timestamp::from_secs(0)),
        silence_period: period,
        planned_period: period,
        profile_name: None,
        stopped_period: stopped,
    }
}

fn custom() -> serde_json::Value {
    json!({"mode": "custom", "text": "Still interested?"})
}

#[test]
fn when_checking_before_the_judge_then_each_drop_reason_wins_in_order() {
    let active = follow_up(custom(), false, true);
    let inactive = follow_up(custom(), false, false);
    let current = conversation(3, None);
    let stopped = conversation(3, Some(3));
    let stopped_before = conversation(3, Some(2));
    let facts = |conversation, follow_up, already_settled, has_integration| DueFacts {
        due_period: 3,
        conversation,
        follow_up,
        already_settled,
        has_integration,
    };
    let rows: [(DueFacts<'_>, PreCheck); 8] = [
        (
            facts(&current, Some(&active), false, true),
            PreCheck::AskJudge,
        ),
        (
            DueFacts {
                due_period: 2,
                ..facts(&current, Some(&active), false, true)
            },
            PreCheck::Drop(DropReason::Stale),
        ),
        (
            facts(&current, None, false, true),
            PreCheck::Drop(DropReason::FollowUpDeleted),
        ),
        (
            facts(&current, Some(&inactive), false, true),
            PreCheck::Drop(DropReason::FollowUpInactive),
        ),
        (
            facts(&current, Some(&active), true, true),
            PreCheck::Drop(DropReason::AlreadySent),
        ),
        (
            facts(&stopped, Some(&active), false, true),
            PreCheck::Drop(DropReason::ConversationStopped),
        ),
        (
            facts(&stopped_before, Some(&active), false, true),
            PreCheck::AskJudge,
        ),
        (
            facts(&current, Some(&active), false, false),
            PreCheck::Drop(DropReason::NoIntegration),
        ),
    ];
    for (index, (facts, expected)) in rows.iter().enumerate() {
        assert_eq!(pre_check(facts), *expected, "row {index}");
    }
}

fn assessment(
    stop: bool,
    applies: bool,
    wait: Option<Timestamp>,
    text: Option<&str>,
) -> Assessment {
    Assessment {
        stop_trigger_met: stop,
        description_applies: applies,
        wait_until: wait,
        message_text: text.map(str::to_owned),
        unsure: false,
    }
}

#[test]
fn when_deciding_after_the_judge_then_stop_apply_wait_and_window_each_hold() {
    let policy = WindowPolicy::default();
    let last = Timestamp::from_secs(0);
    let inside = last.plus_minutes(4 * HOUR);
    let outside = last.plus_minutes(30 * HOUR);
    let custom_fu = follow_up(custom(), false, true);
    let ai_fu = follow_up(json!({"mode": "ai"}), false, true);
    let templated = follow_up(json!({"mode": "ai"}), true, true);
    let go = assessment(false, true, None, Some("Hi again!"));
    let text = |t: &str| SendDecision::Send(Outgoing::Text(t.to_owned()));

    let rows = [
        (
            &custom_fu,
            Platform::Whatsapp,
            inside,
            assessment(true, true, None, None),
            SendDecision::StopConversation,
        ),
        (
            &custom_fu,
            Platform::Whatsapp,
            inside,
            assessment(false, false, None, None),
            SendDecision::Skip(SkipReason::DescriptionDoesNotApply),
        ),
        (
            &custom_fu,
            Platform::Instagram,
            inside,
            go.clone(),
            text("Still interested?"),
        ),
        (
            &ai_fu,
            Platform::Messenger,
            inside,
            go.clone(),
            text("Hi again!"),
        ),
        (
            &ai_fu,
            Platform::Messenger,
            inside,
            assessment(false, true, None, Some("  ")),
            SendDecision::Skip(SkipReason::JudgeFailed),
        ),
        (
            &ai_fu,
            Platform::Messenger,
            outside,
            go.clone(),
            SendDecision::Skip(SkipReason::WindowClosed),
        ),
        (
            &ai_fu,
            Platform::Whatsapp,
            outside,
            go.clone(),
            SendDecision::Skip(SkipReason::WindowClosed),
        ),
        (
            &templated,
            Platform::Whatsapp,
            outside,
            go.clone(),
            SendDecision::Send(Outgoing::Template(
                templated
                    .config
                    .whatsapp_template
                    .clone()
                    .expect("template"),
            )),
        ),
        (
            &templated,
            Platform::Instagram,
            outside,
            go.clone(),
            SendDecision::Skip(SkipReason::WindowClosed),
        ),
        (
            &ai_fu,
            Platform::Whatsapp,
            inside,
            assessment(false, true, Some(inside.plus_minutes(60)), Some("x")),
            SendDecision::WaitUntil(inside.plus_minutes(60)),
        ),
        // A wait that would end past the window sends now instead.
        (
            &ai_fu,
            Platform::Whatsapp,
            inside,
            assessment(false, true, Some(outside), Some("x")),
            text("x"),
        ),
        // A wait in the past is no wait.
        (
            &ai_fu,
            Platform::Whatsapp,
            inside,
            assessment(false, true, Some(last), Some("x")),
            text("x"),
        ),
    ];
    for (index, (follow_up, platform, now, assessment, expected)) in rows.into_iter().enumerate() {
        assert_eq!(
            decide(follow_up, platform, last, now, policy, &assessment),
            expected,
            "row {index}"
        );
    }
}

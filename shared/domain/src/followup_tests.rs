use super::*;
use serde_json::{Value, json};

fn appointment_reminder() -> Value {
    json!({
        "name": "Appointment reminder - 4 hours",
        "color": "blue",
        "delay": {"mode": "manual", "hours": 4},
        "description": "The customer showed interest in booking but did not confirm date and time.",
        "stop_trigger": "The customer confirmed, cancelled, or is no longer interested.",
        "message": {"mode": "custom", "text": "Still interested? Free slots: Tue 10:00, Wed 15:00."},
        "whatsapp_template": {
            "name": "appointment_reminder",
            "language": "en_US",
            "parameters": [{"type": "profile_name"}, {"type": "text", "text": "Tue 10:00"}]
        },
        "active": true
    })
}

fn validate(value: Value) -> Result<FollowUpConfig, ValidationErrors> {
    let draft: FollowUpDraft = serde_json::from_value(value).expect("draft shape");
    draft.validate()
}

fn with(field: &str, value: Value) -> Value {
    let mut body = appointment_reminder();
    body[field] = value;
    body
}

fn without(field: &str) -> Value {
    let mut body = appointment_reminder();
    body.as_object_mut().expect("object").remove(field);
    body
}

/// The (field, rule) pairs a body breaks.
fn broken(value: Value) -> Vec<(String, &'static str)> {
    match validate(value) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.0.into_iter().map(|e| (e.field, e.rule)).collect(),
    }
}

fn one(field: &str, rule: &'static str) -> Vec<(String, &'static str)> {
    vec![(field.to_owned(), rule)]
}

#[test]
fn when_the_appointment_example_is_saved_then_every_field_is_kept() {
    let config = validate(appointment_reminder()).expect("valid");
    assert_eq!(config.name.as_str(), "Appointment reminder - 4 hours");
    assert_eq!(config.color, Some(LabelColor::Blue));
    assert_eq!(
        config.delay,
        Delay::Manual {
            minutes: DelayMinutes(240)
        }
    );
    assert!(matches!(config.message, MessageMode::Custom { .. }));
    let template = config.whatsapp_template.expect("template");
    assert_eq!(template.parameters.len(), 2);
    assert_eq!(template.parameters[0], TemplateParameter::ProfileName);
    assert!(config.active);
}

#[test]
fn when_name_has_100_characters_then_it_is_accepted_and_101_is_refused() {
    assert!(broken(with("name", json!("a".repeat(100)))).is_empty());
    assert_eq!(
        broken(with("name", json!("a".repeat(101)))),
        one("name", "max_length")
    );
}

#[test]
fn when_name_is_multibyte_then_characters_are_counted_not_bytes() {
    let hundred = format!("{}🦷", "Zahnarzt-Erinnerung ".repeat(5).trim_end());
    assert_eq!(hundred.chars().count(), 100);
    assert!(hundred.len() > 100);
    assert!(broken(with("name", json!(hundred))).is_empty());
    assert_eq!(
        broken(with("name", json!(format!("{hundred}ö")))),
        one("name", "max_length")
    );
    assert!(broken(with("name", json!("ü".repeat(100)))).is_empty());
    assert_eq!(
        broken(with("name", json!("ü".repeat(101)))),
        one("name", "max_length")
    );
    assert_eq!(
        broken(with("name", json!("🦷".repeat(101)))),
        one("name", "max_length")
    );
}

#[test]
fn when_name_is_missing_blank_or_multiline_then_it_is_refused() {
    assert_eq!(broken(without("name")), one("name", "required"));
    assert_eq!(broken(with("name", json!("   "))), one("name", "not_blank"));
    assert_eq!(broken(with("name", json!(""))), one("name", "not_blank"));
    assert_eq!(
        broken(with("name", json!("a\nb"))),
        one("name", "no_control_characters")
    );
}

#[test]
fn when_color_is_outside_the_palette_then_it_is_refused() {
    for color in LabelColor::ALL {
        assert!(broken(with("color", json!(color.as_str()))).is_empty());
    }
    assert_eq!(broken(with("color", json!("teal"))), one("color", "one_of"));
    assert_eq!(broken(with("color", json!("Blue"))), one("color", "one_of"));
    assert!(validate(without("color")).expect("valid").color.is_none());
    assert!(
        validate(with("color", Value::Null))
            .expect("valid")
            .color
            .is_none()
    );
}

#[test]
fn when_delay_is_manual_then_minutes_or_hours_must_be_positive_and_bounded() {
    let delay = |v: Value| broken(with("delay", v));
    assert!(delay(json!({"mode": "manual", "minutes": 1})).is_empty());
    assert!(delay(json!({"mode": "manual", "minutes": 43_200})).is_empty());
    assert_eq!(
        delay(json!({"mode": "manual", "minutes": 0})),
        one("delay.minutes", "range")
    );
    assert_eq!(
        delay(json!({"mode": "manual", "minutes": -5})),
        one("delay.minutes", "range")
    );
    assert_eq!(
        delay(json!({"mode": "manual", "minutes": 43_201})),
        one("delay.minutes", "range")
    );
    assert_eq!(
        delay(json!({"mode": "manual", "hours": 0})),
        one("delay.hours", "range")
    );
    assert_eq!(
        delay(json!({"mode": "manual", "hours": 721})),
        one("delay.hours", "range")
    );
    assert_eq!(
        delay(json!({"mode": "manual"})),
        one("delay.minutes", "required")
    );
    assert_eq!(
        delay(json!({"mode": "manual", "minutes": 60, "hours": 1})),
        one("delay", "one_of_minutes_or_hours")
    );
    assert_eq!(delay(json!({"mode": "later"})), one("delay.mode", "one_of"));
    assert_eq!(delay(json!({})), one("delay.mode", "required"));
    assert_eq!(broken(without("delay")), one("delay", "required"));
}

#[test]
fn when_delay_is_ai_then_it_takes_no_duration() {
    assert_eq!(
        validate(with("delay", json!({"mode": "ai"})))
            .expect("valid")
            .delay,
        Delay::Ai
    );
    assert_eq!(
        broken(with("delay", json!({"mode": "ai", "minutes": 30}))),
        one("delay", "ai_delay_has_no_duration")
    );
}

#[test]
fn when_description_or_stop_trigger_is_missing_or_blank_or_too_long_then_it_is_refused() {
    assert_eq!(
        broken(without("description")),
        one("description", "required")
    );
    assert_eq!(
        broken(with("description", json!(" \n "))),
        one("description", "not_blank")
    );
    assert!(broken(with("description", json!("x".repeat(2000)))).is_empty());
    assert_eq!(
        broken(with("description", json!("x".repeat(2001)))),
        one("description", "max_length")
    );
    assert!(broken(with("description", json!("line one\nline two"))).is_empty());
    assert_eq!(
        broken(without("stop_trigger")),
        one("stop_trigger", "required")
    );
    assert_eq!(
        broken(with("stop_trigger", json!(""))),
        one("stop_trigger", "not_blank")
    );
    assert!(broken(with("stop_trigger", json!("x".repeat(1000)))).is_empty());
    assert_eq!(
        broken(with("stop_trigger", json!("x".repeat(1001)))),
        one("stop_trigger", "max_length")
    );
}

#[test]
fn when_message_is_custom_then_its_text_is_required_and_fits_every_platform() {
    let message = |v: Value| broken(with("message", v));
    assert_eq!(
        message(json!({"mode": "custom"})),
        one("message.text", "required")
    );
    assert_eq!(
        message(json!({"mode": "custom", "text": "  "})),
        one("message.text", "not_blank")
    );
    assert!(message(json!({"mode": "custom", "text": "é".repeat(1000)})).is_empty());
    assert_eq!(
        message(json!({"mode": "custom", "text": "é".repeat(1001)})),
        one("message.text", "max_length")
    );
    assert_eq!(
        message(json!({"mode": "ai", "text": "hi"})),
        one("message.text", "ai_message_has_no_text")
    );
    assert_eq!(
        message(json!({"mode": "sms"})),
        one("message.mode", "one_of")
    );
    assert_eq!(message(json!({})), one("message.mode", "required"));
    assert_eq!(
        validate(without("message")).expect("valid").message,
        MessageMode::Ai
    );
}

#[test]
fn when_template_fields_are_wrong_then_each_is_named_by_its_path() {
    let template = |v: Value| broken(with("whatsapp_template", v));
    assert_eq!(
        template(json!({"language": "en"})),
        one("whatsapp_template.name", "required")
    );
    assert_eq!(
        template(json!({"name": "Purchase Confirmation", "language": "en"})),
        one("whatsapp_template.name", "template_name")
    );
    assert_eq!(
        template(json!({"name": "purchase_confirmation"})),
        one("whatsapp_template.language", "required")
    );
    for bad in ["english", "EN", "en-US", "e", "en_us", "en_"] {
        assert_eq!(
            template(json!({"name": "x", "language": bad})),
            one("whatsapp_template.language", "language_code"),
            "{bad}"
        );
    }
    for good in ["en", "de", "fil", "en_US", "pt_BR", "es_419"] {
        assert!(
            template(json!({"name": "x", "language": good})).is_empty(),
            "{good}"
        );
    }
    assert_eq!(
        template(json!({"name": "x", "language": "en", "parameters": [
            {"type": "text", "text": "ok"},
            {"type": "text", "text": "two\nlines"},
            {"type": "text"},
            {"type": "emoji"},
            {"type": "profile_name", "text": "Ann"},
            {"type": "text", "text": "a     b"}
        ]})),
        vec![
            (
                "whatsapp_template.parameters[1].text".to_owned(),
                "no_control_characters"
            ),
            (
                "whatsapp_template.parameters[2].text".to_owned(),
                "required"
            ),
            ("whatsapp_template.parameters[3].type".to_owned(), "one_of"),
            (
                "whatsapp_template.parameters[4].text".to_owned(),
                "profile_name_has_no_text"
            ),
            (
                "whatsapp_template.parameters[5].text".to_owned(),
                "no_long_space_runs"
            ),
        ]
    );
    let twenty_one = vec![json!({"type": "profile_name"}); 21];
    assert_eq!(
        template(json!({"name": "x", "language": "en", "parameters": twenty_one})),
        one("whatsapp_template.parameters", "max_items")
    );
}

#[test]
fn when_many_fields_are_wrong_then_all_are_reported_at_once() {
    let errors = broken(json!({"color": "teal", "delay": {"mode": "manual", "minutes": 0}}));
    let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "name",
            "color",
            "delay.minutes",
            "description",
            "stop_trigger"
        ]
    );
}

#[test]
fn when_active_is_omitted_then_the_follow_up_is_active() {
    assert!(validate(without("active")).expect("valid").active);
    assert!(
        !validate(with("active", json!(false)))
            .expect("valid")
            .active
    );
}

#[test]
fn when_an_unknown_field_is_sent_then_the_draft_is_refused() {
    let result: Result<FollowUpDraft, _> = serde_json::from_value(with("colour", json!("blue")));
    assert!(result.is_err());
}

#[test]
fn when_config_is_serialized_and_read_back_then_it_is_identical_and_revalidated() {
    let config = validate(appointment_reminder()).expect("valid");
    let stored = serde_json::to_value(&config).expect("serialize");
    assert_eq!(stored["delay"], json!({"mode": "manual", "minutes": 240}));
    let back: FollowUpConfig = serde_json::from_value(stored.clone()).expect("read back");
    assert_eq!(back, config);
    // The serialized shape is also a valid request: an edit can start from it.
    let draft: FollowUpDraft = serde_json::from_value(stored.clone()).expect("draft");
    assert_eq!(draft.validate().expect("valid"), config);
    // Rehydration applies the rules: a corrupted name cannot come back as valid.
    let mut corrupted = stored;
    corrupted["name"] = json!("x".repeat(101));
    assert!(serde_json::from_value::<FollowUpConfig>(corrupted).is_err());
}

#[test]
fn when_delay_exceeds_the_window_then_clamped_platforms_warn() {
    let policy = WindowPolicy::default();
    let mut body = with("delay", json!({"mode": "manual", "hours": 30}));
    let config = validate(body.clone()).expect("valid");
    let warned: Vec<Platform> = config.warnings(policy).iter().map(|w| w.platform).collect();
    assert_eq!(
        warned,
        [Platform::Messenger, Platform::Instagram],
        "WhatsApp has a template"
    );

    body.as_object_mut()
        .expect("object")
        .remove("whatsapp_template");
    let config = validate(body).expect("valid");
    assert_eq!(config.warnings(policy).len(), 3);
    assert!(
        config.warnings(policy)[0]
            .message
            .contains("1425 minutes instead of 1800")
    );

    let short = validate(appointment_reminder()).expect("valid");
    assert!(short.warnings(policy).is_empty());
    let ai = validate(with("delay", json!({"mode": "ai"}))).expect("valid");
    assert!(ai.delay_plans(policy).is_empty());
}

#[test]
fn when_filtering_then_colour_and_active_both_apply() {
    let config = validate(appointment_reminder()).expect("valid");
    let follow_up = FollowUp {
        id: FollowUpId::parse("f1").expect("id"),
        chatbot_id: ChatbotId::parse("bot").expect("id"),
        config,
        revision: 1,
        created_at: Timestamp::from_millis(0),
        updated_at: Timestamp::from_millis(0),
    };
    let filter = |color, active| FollowUpFilter { color, active }.matches(&follow_up);
    assert!(filter(None, None));
    assert!(filter(Some(LabelColor::Blue), Some(true)));
    assert!(!filter(Some(LabelColor::Green), None));
    assert!(!filter(None, Some(false)));
}

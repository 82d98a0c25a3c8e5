use super::*;
use serde_json::{Value, json};

fn reminder() -> Value {
    json!({
        "name": "appointment_reminder",
        "language": "en_US",
        "category": "UTILITY",
        "body": {"text": "Hi {{1}}, your slot on {{2}} is still free. Reply YES to book.", "examples": ["Ana", "Tuesday 10:00"]},
        "header": {"text": "Your appointment"},
        "footer": {"text": "Dental clinic"},
        "buttons": [
            {"type": "quick_reply", "text": "Book it"},
            {"type": "url", "text": "See slots", "url": "https://clinic.example/slots"},
            {"type": "phone_number", "text": "Call us", "phone_number": "+4930123456"}
        ]
    })
}

fn broken(value: Value) -> Vec<(String, &'static str)> {
    let draft: NewTemplateDraft = serde_json::from_value(value).expect("draft shape");
    match draft.validate() {
        Ok(_) => Vec::new(),
        Err(errors) => errors.0.into_iter().map(|e| (e.field, e.rule)).collect(),
    }
}

#[test]
fn when_request_is_complete_then_it_validates_with_every_part() {
    let draft: NewTemplateDraft = serde_json::from_value(reminder()).unwrap();
    let template = draft.validate().expect("valid");
    assert_eq!(template.category, TemplateCategory::Utility);
    assert_eq!(template.body_examples, ["Ana", "Tuesday 10:00"]);
    assert_eq!(template.buttons.len(), 3);
    assert_eq!(template.header_text.as_deref(), Some("Your appointment"));
}

#[test]
fn when_fields_are_missing_then_each_is_reported_by_path() {
    assert_eq!(
        broken(json!({})),
        [
            ("name".to_owned(), "required"),
            ("language".to_owned(), "required"),
            ("category".to_owned(), "required"),
            ("body".to_owned(), "required"),
        ]
    );
}

#[test]
fn when_name_has_uppercase_then_name_is_refused() {
    let mut body = reminder();
    body["name"] = json!("Appointment Reminder");
    assert_eq!(broken(body), [("name".to_owned(), "template_name")]);
}

#[test]
fn when_category_is_authentication_then_it_is_refused() {
    let mut body = reminder();
    body["category"] = json!("AUTHENTICATION");
    assert_eq!(broken(body), [("category".to_owned(), "one_of")]);
}

#[test]
fn when_examples_do_not_match_placeholders_then_examples_are_refused() {
    let mut body = reminder();
    body["body"]["examples"] = json!(["Ana"]);
    assert_eq!(
        broken(body),
        [("body.examples".to_owned(), "example_count")]
    );
}

#[test]
fn when_placeholders_skip_a_number_or_sit_at_the_edge_then_body_text_is_refused() {
    let mut gap = reminder();
    gap["body"]["text"] = json!("Hi {{1}}, see you {{3}}.");
    assert_eq!(
        broken(gap),
        [("body.text".to_owned(), "sequential_placeholders")]
    );
    let mut edge = reminder();
    edge["body"]["text"] = json!("{{1}}, your slot {{2}} is free");
    assert_eq!(
        broken(edge),
        [("body.text".to_owned(), "placeholder_at_edge")]
    );
    let mut named = reminder();
    named["body"]["text"] = json!("Hi {{first_name}}, hello");
    assert_eq!(
        broken(named),
        [("body.text".to_owned(), "positional_placeholders")]
    );
}

#[test]
fn when_body_is_too_long_then_max_length_is_reported() {
    let mut body = reminder();
    body["body"] = json!({"text": "a".repeat(MAX_BODY_CHARS + 1)});
    assert_eq!(broken(body), [("body.text".to_owned(), "max_length")]);
}

#[test]
fn when_buttons_are_wrong_then_each_is_reported_under_its_index() {
    let mut body = reminder();
    body["buttons"] = json!([
        {"type": "quick_reply", "text": "This text is far too long for a button"},
        {"type": "url", "text": "Go", "url": "ftp://x"},
        {"type": "phone_number", "text": "Call", "phone_number": "12"},
        {"type": "flow", "text": "Go"}
    ]);
    assert_eq!(
        broken(body),
        [
            ("buttons[0].text".to_owned(), "max_length"),
            ("buttons[1].url".to_owned(), "url"),
            ("buttons[2].phone_number".to_owned(), "phone_number"),
            ("buttons[3].type".to_owned(), "one_of"),
        ]
    );
}

#[test]
fn when_header_has_a_placeholder_then_it_is_refused() {
    let mut body = reminder();
    body["header"]["text"] = json!("For {{1}}");
    assert_eq!(
        broken(body),
        [("header.text".to_owned(), "no_placeholders")]
    );
}

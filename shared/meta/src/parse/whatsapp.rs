//! `object: whatsapp_business_account`: `entry[].changes[]`, each with a `field` and a
//! `value`; the `messages` field carries `messages[]`, `statuses[]` or `errors[]`.

use followup_domain::{
    Platform, TemplateCategory, TemplateCategoryChange, TemplateStatus, TemplateStatusChange,
    Timestamp,
};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{
    CustomerMessage, DeliveryStatus, IgnoreReason, InboundEvent, MessageKind, MetaInt, StatusKind,
    Str, ignored, lenient,
};

const PLATFORM: Platform = Platform::Whatsapp;

#[derive(Deserialize)]
struct Entry<'a> {
    /// The WhatsApp Business Account id.
    #[serde(borrow)]
    id: Option<Str<'a>>,
    /// Seconds; dates template status updates.
    time: Option<MetaInt>,
    #[serde(borrow)]
    changes: Option<Vec<&'a RawValue>>,
}

/// `field: message_template_status_update`.
#[derive(Deserialize)]
struct TemplateStatusValue<'a> {
    #[serde(borrow)]
    event: Option<Str<'a>>,
    message_template_id: Option<MetaInt>,
    #[serde(borrow)]
    message_template_name: Option<Str<'a>>,
    #[serde(borrow)]
    message_template_language: Option<Str<'a>>,
    #[serde(borrow)]
    reason: Option<Str<'a>>,
    #[serde(borrow)]
    other_info: Option<OtherInfo<'a>>,
}

/// `field: template_category_update`. A completed change carries `previous_category`; an
/// impending one (`correct_category`, `new_category` = the current one) changes nothing yet.
#[derive(Deserialize)]
struct TemplateCategoryValue<'a> {
    #[serde(borrow)]
    message_template_name: Option<Str<'a>>,
    #[serde(borrow)]
    message_template_language: Option<Str<'a>>,
    #[serde(borrow)]
    previous_category: Option<Str<'a>>,
    #[serde(borrow)]
    new_category: Option<Str<'a>>,
}

/// Sent with pauses and disables: `title` names why (`FIRST_PAUSE`, …).
#[derive(Deserialize)]
struct OtherInfo<'a> {
    #[serde(borrow)]
    title: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct Change<'a> {
    #[serde(borrow)]
    field: Option<Str<'a>>,
    #[serde(borrow)]
    value: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Value<'a> {
    #[serde(borrow)]
    metadata: Option<Metadata<'a>>,
    #[serde(borrow)]
    contacts: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    messages: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    statuses: Option<Vec<&'a RawValue>>,
    // Zero-sized elements: counting them allocates nothing.
    errors: Option<Vec<serde::de::IgnoredAny>>,
}

#[derive(Deserialize)]
struct Metadata<'a> {
    #[serde(borrow)]
    phone_number_id: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct Contact<'a> {
    #[serde(borrow)]
    wa_id: Option<Str<'a>>,
    #[serde(borrow)]
    user_id: Option<Str<'a>>,
    #[serde(borrow)]
    profile: Option<Profile<'a>>,
}

#[derive(Deserialize)]
struct Profile<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
}

/// The per-type bodies stay raw and only the one named by `type` is read, so an odd body
/// of another type (or of a type we do not know) cannot make the message malformed.
#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    from: Option<Str<'a>>,
    #[serde(borrow)]
    from_user_id: Option<Str<'a>>,
    #[serde(borrow)]
    id: Option<Str<'a>>,
    timestamp: Option<MetaInt>,
    #[serde(borrow, rename = "type")]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    text: Option<&'a RawValue>,
    #[serde(borrow)]
    image: Option<&'a RawValue>,
    #[serde(borrow)]
    video: Option<&'a RawValue>,
    #[serde(borrow)]
    document: Option<&'a RawValue>,
    #[serde(borrow)]
    interactive: Option<&'a RawValue>,
    #[serde(borrow)]
    button: Option<&'a RawValue>,
    #[serde(borrow)]
    reaction: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct TextBody<'a> {
    #[serde(borrow)]
    body: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct MediaBody<'a> {
    #[serde(borrow)]
    caption: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct Interactive<'a> {
    #[serde(borrow)]
    button_reply: Option<Reply<'a>>,
    #[serde(borrow)]
    list_reply: Option<Reply<'a>>,
}

#[derive(Deserialize)]
struct Reply<'a> {
    #[serde(borrow)]
    title: Option<Str<'a>>,
}

/// `type: button`: the customer tapped a quick-reply button of a template.
#[derive(Deserialize)]
struct Button<'a> {
    #[serde(borrow)]
    text: Option<Str<'a>>,
    #[serde(borrow)]
    payload: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct Reaction<'a> {
    #[serde(borrow)]
    emoji: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct Status<'a> {
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    status: Option<Str<'a>>,
    timestamp: Option<MetaInt>,
    #[serde(borrow)]
    recipient_id: Option<Str<'a>>,
    #[serde(borrow)]
    recipient_user_id: Option<Str<'a>>,
    #[serde(borrow)]
    biz_opaque_callback_data: Option<Str<'a>>,
    #[serde(borrow)]
    errors: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct StatusError {
    code: Option<MetaInt>,
}

pub(super) fn entry(raw: &RawValue, events: &mut Vec<InboundEvent>) {
    let Some(entry) = lenient::<Entry<'_>>(raw) else {
        events.push(malformed());
        return;
    };
    let Some(changes) = entry.changes else {
        events.push(malformed());
        return;
    };
    let account = EntryAccount {
        waba_id: entry.id.and_then(Str::non_empty).map(Str::into_string),
        at: entry.time.map(|t| Timestamp::from_secs(t.0)),
    };
    for change in changes {
        self::change(change, &account, events);
    }
}

/// What a change needs to know of its entry.
struct EntryAccount {
    waba_id: Option<String>,
    at: Option<Timestamp>,
}

/// A template's new review state. Without the account, the template's name and language,
/// the event, or the entry's time it cannot be applied safely, so it is malformed.
fn template_status(raw: Option<&RawValue>, account: &EntryAccount) -> InboundEvent {
    let Some(value) = raw.and_then(lenient::<TemplateStatusValue<'_>>) else {
        return malformed();
    };
    let (Some(waba_id), Some(at), Some(name), Some(language), Some(event)) = (
        account.waba_id.clone(),
        account.at,
        value.message_template_name.and_then(Str::non_empty),
        value.message_template_language.and_then(Str::non_empty),
        value.event.and_then(Str::non_empty),
    ) else {
        return malformed();
    };
    let reason = value
        .reason
        .and_then(Str::non_empty)
        .filter(|r| !r.eq_ignore_ascii_case("NONE"))
        .or_else(|| {
            value
                .other_info
                .and_then(|o| o.title)
                .and_then(Str::non_empty)
        })
        .map(|r| r.chars().take(200).collect::<String>());
    InboundEvent::TemplateStatus(TemplateStatusChange {
        waba_id,
        template_id: value.message_template_id.map(|id| id.0.to_string()),
        name: name.into_string(),
        language: language.into_string(),
        status: TemplateStatus::from_meta(&event),
        reason,
        at,
    })
}

/// A template's new category (Meta recategorised it), or ignored when it only announces one.
fn template_category(raw: Option<&RawValue>, account: &EntryAccount) -> InboundEvent {
    let Some(value) = raw.and_then(lenient::<TemplateCategoryValue<'_>>) else {
        return malformed();
    };
    if value.previous_category.is_none() {
        // An impending change: the category stays until Meta sends the completed one.
        return ignored(
            PLATFORM,
            IgnoreReason::UnsupportedField("template_category_update (impending)".into()),
        );
    }
    let (Some(waba_id), Some(at), Some(name), Some(language), Some(category)) = (
        account.waba_id.clone(),
        account.at,
        value.message_template_name.and_then(Str::non_empty),
        value.message_template_language.and_then(Str::non_empty),
        value
            .new_category
            .and_then(|c| TemplateCategory::from_meta(&c)),
    ) else {
        return malformed();
    };
    InboundEvent::TemplateCategory(TemplateCategoryChange {
        waba_id,
        name: name.into_string(),
        language: language.into_string(),
        category,
        at,
    })
}

fn change(raw: &RawValue, account: &EntryAccount, events: &mut Vec<InboundEvent>) {
    let Some(change) = lenient::<Change<'_>>(raw) else {
        events.push(malformed());
        return;
    };
    match change.field.as_deref() {
        Some("messages") => {}
        Some("message_template_status_update") => {
            events.push(template_status(change.value, account));
            return;
        }
        Some("template_category_update") => {
            events.push(template_category(change.value, account));
            return;
        }
        Some(other) => {
            events.push(ignored(
                PLATFORM,
                IgnoreReason::UnsupportedField(other.to_owned()),
            ));
            return;
        }
        None => {
            events.push(malformed());
            return;
        }
    }
    let Some(value) = change.value.and_then(lenient::<Value<'_>>) else {
        events.push(malformed());
        return;
    };

    let has_errors = value.errors.is_some_and(|errors| !errors.is_empty());
    let messages = value.messages.unwrap_or_default();
    let statuses = value.statuses.unwrap_or_default();
    if has_errors {
        // Meta's change-level errors name no message: nothing to mark or retry.
        events.push(ignored(PLATFORM, IgnoreReason::WebhookError));
    } else if messages.is_empty() && statuses.is_empty() {
        events.push(malformed());
        return;
    }

    let phone_number_id = value
        .metadata
        .and_then(|m| m.phone_number_id)
        .and_then(Str::non_empty);
    let contacts: Vec<Contact<'_>> = value
        .contacts
        .unwrap_or_default()
        .into_iter()
        .filter_map(lenient)
        .collect();
    for raw in messages {
        events.push(message(raw, phone_number_id.as_deref(), &contacts));
    }
    for raw in statuses {
        events.push(status(raw, phone_number_id.as_deref()));
    }
}

fn message(
    raw: &RawValue,
    phone_number_id: Option<&str>,
    contacts: &[Contact<'_>],
) -> InboundEvent {
    let Some(message) = lenient::<Message<'_>>(raw) else {
        return malformed();
    };
    let (Some(phone_number_id), Some(id), Some(timestamp)) = (
        phone_number_id,
        message.id.and_then(Str::non_empty),
        message.timestamp,
    ) else {
        return malformed();
    };

    let from = message.from.and_then(Str::non_empty);
    let from_user_id = message.from_user_id.and_then(Str::non_empty);
    let contact = matching_contact(contacts, from.as_deref(), from_user_id.as_deref());
    // A 2026 username user may come with no phone number at all, only the business-scoped
    // user id; without either there is no conversation to attach the message to.
    let customer_id = match (from, from_user_id) {
        (Some(id), _) | (None, Some(id)) => id.into_string(),
        (None, None) => match contact.and_then(|c| non_empty(&c.wa_id).or(non_empty(&c.user_id))) {
            Some(id) => id.to_owned(),
            None => return ignored(PLATFORM, IgnoreReason::NoCustomer),
        },
    };

    let type_name = message.kind.as_deref().unwrap_or("");
    let (kind, text) = match type_name {
        "text" => (MessageKind::Text, body_text(message.text)),
        "image" | "video" | "document" => {
            let body = match type_name {
                "image" => message.image,
                "video" => message.video,
                _ => message.document,
            };
            let caption = body
                .and_then(lenient::<MediaBody<'_>>)
                .and_then(|b| b.caption);
            (MessageKind::Media, caption)
        }
        "audio" | "sticker" => (MessageKind::Media, None),
        "location" => (MessageKind::Location, None),
        "interactive" => {
            let title = message
                .interactive
                .and_then(lenient::<Interactive<'_>>)
                .and_then(|i| i.button_reply.or(i.list_reply))
                .and_then(|reply| reply.title);
            (MessageKind::Interactive, title)
        }
        "button" => {
            let text = message
                .button
                .and_then(lenient::<Button<'_>>)
                .and_then(|b| b.text.and_then(Str::non_empty).or(b.payload));
            (MessageKind::QuickReply, text)
        }
        "reaction" => match message.reaction.and_then(lenient::<Reaction<'_>>) {
            // WhatsApp withdraws a reaction by sending it again with an empty emoji.
            Some(reaction) => match reaction.emoji.and_then(Str::non_empty) {
                Some(emoji) => (MessageKind::Reaction, Some(emoji)),
                None => return ignored(PLATFORM, IgnoreReason::Unreact),
            },
            None => (MessageKind::Reaction, None),
        },
        // A number change and similar notices are not the customer writing.
        "system" => return ignored(PLATFORM, IgnoreReason::NotAConversationTurn),
        other => (MessageKind::Other(other.to_owned()), None),
    };

    InboundEvent::CustomerMessage(CustomerMessage {
        platform: PLATFORM,
        business_account_id: phone_number_id.to_owned(),
        customer_id,
        message_id: id.into_string(),
        sent_at: Timestamp::from_secs(timestamp.0),
        kind,
        text: text.map(Str::into_string),
        profile_name: contact
            .and_then(|c| c.profile.as_ref())
            .and_then(|p| p.name.as_deref())
            .filter(|name| !name.is_empty())
            .map(str::to_owned),
        standby: false,
    })
}

/// The contact entry describing the sender. With several senders in one change, only an
/// id match is trusted; a lone contact is the sender when the message names nobody.
fn matching_contact<'c, 'a>(
    contacts: &'c [Contact<'a>],
    from: Option<&str>,
    from_user_id: Option<&str>,
) -> Option<&'c Contact<'a>> {
    let by_id = contacts.iter().find(|c| {
        (from.is_some() && c.wa_id.as_deref() == from)
            || (from_user_id.is_some() && c.user_id.as_deref() == from_user_id)
    });
    match (by_id, from, from_user_id, contacts) {
        (Some(contact), ..) => Some(contact),
        (None, None, None, [only]) => Some(only),
        _ => None,
    }
}

fn non_empty<'s>(value: &'s Option<Str<'_>>) -> Option<&'s str> {
    value.as_deref().filter(|v| !v.is_empty())
}

fn body_text(raw: Option<&RawValue>) -> Option<Str<'_>> {
    raw.and_then(lenient::<TextBody<'_>>).and_then(|t| t.body)
}

fn status(raw: &RawValue, phone_number_id: Option<&str>) -> InboundEvent {
    let Some(status) = lenient::<Status<'_>>(raw) else {
        return malformed();
    };
    let (Some(phone_number_id), Some(id), Some(kind), Some(timestamp)) = (
        phone_number_id,
        status.id.and_then(Str::non_empty),
        status.status.and_then(Str::non_empty),
        status.timestamp,
    ) else {
        return malformed();
    };
    let kind = match &*kind {
        "sent" => StatusKind::Sent,
        "delivered" => StatusKind::Delivered,
        "read" => StatusKind::Read,
        "failed" => StatusKind::Failed,
        _ => StatusKind::Other(kind.into_string()),
    };
    InboundEvent::DeliveryStatus(DeliveryStatus {
        business_account_id: phone_number_id.to_owned(),
        message_id: id.into_string(),
        customer_id: status
            .recipient_id
            .and_then(Str::non_empty)
            .or_else(|| status.recipient_user_id.and_then(Str::non_empty))
            .map(Str::into_string),
        status: kind,
        at: Timestamp::from_secs(timestamp.0),
        callback_data: status
            .biz_opaque_callback_data
            .and_then(Str::non_empty)
            .map(Str::into_string),
        error_codes: status
            .errors
            .unwrap_or_default()
            .into_iter()
            .filter_map(lenient::<StatusError>)
            .filter_map(|e| e.code.map(|c| c.0))
            .collect(),
    })
}

fn malformed() -> InboundEvent {
    super::malformed(PLATFORM)
}

#[cfg(test)]
mod tests {
    use super::super::parse_webhook;
    use super::*;

    fn parse_value(value: &str) -> Vec<InboundEvent> {
        let body = format!(
            r#"{{"object":"whatsapp_business_account","entry":[{{"id":"1","changes":[{{"field":"messages","value":{value}}}]}}]}}"#
        );
        parse_webhook(body.as_bytes()).expect("envelope is valid")
    }

    fn only_message(events: Vec<InboundEvent>) -> CustomerMessage {
        match <[InboundEvent; 1]>::try_from(events) {
            Ok([InboundEvent::CustomerMessage(message)]) => message,
            other => panic!("expected one customer message, got {other:?}"),
        }
    }

    #[test]
    fn when_message_names_no_customer_and_contacts_cannot_tell_then_no_customer() {
        let no_contacts = parse_value(
            r#"{"metadata":{"phone_number_id":"10"},"messages":[{"id":"wamid.A","timestamp":"1","type":"text","text":{"body":"hi"}}]}"#,
        );
        let two_contacts = parse_value(
            r#"{"metadata":{"phone_number_id":"10"},"contacts":[{"wa_id":"1"},{"wa_id":"2"}],"messages":[{"from":"","id":"wamid.A","timestamp":"1","type":"text"}]}"#,
        );
        for events in [no_contacts, two_contacts] {
            assert_eq!(
                events,
                [ignored(PLATFORM, IgnoreReason::NoCustomer)],
                "{events:?}"
            );
        }
    }

    #[test]
    fn when_contacts_hold_several_senders_then_each_message_gets_its_own_profile_name() {
        let events = parse_value(
            r#"{"metadata":{"phone_number_id":"10"},
                "contacts":[{"wa_id":"1","profile":{"name":"One"}},{"user_id":"US.2","profile":{"name":"Two"}}],
                "messages":[{"from":"9","id":"a","timestamp":"1","type":"text"},
                            {"from_user_id":"US.2","id":"b","timestamp":"1","type":"text"},
                            {"from":"1","id":"c","timestamp":"1","type":"text"}]}"#,
        );
        let names: Vec<_> = events
            .into_iter()
            .map(|e| match e {
                InboundEvent::CustomerMessage(m) => (m.customer_id, m.profile_name),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            names,
            [
                ("9".to_owned(), None),
                ("US.2".to_owned(), Some("Two".to_owned())),
                ("1".to_owned(), Some("One".to_owned())),
            ]
        );
    }

    #[test]
    fn when_template_quick_reply_button_then_quick_reply_with_button_text() {
        let message = only_message(parse_value(
            r#"{"metadata":{"phone_number_id":"10"},"messages":[{"from":"1","id":"a","timestamp":"1","type":"button","button":{"payload":"YES","text":"Yes, book it"}}]}"#,
        ));
        assert_eq!(message.kind, MessageKind::QuickReply);
        assert_eq!(message.text.as_deref(), Some("Yes, book it"));
    }

    #[test]
    fn when_a_type_body_is_odd_then_the_message_still_counts_without_text() {
        let message = only_message(parse_value(
            r#"{"metadata":{"phone_number_id":"10"},"messages":[{"from":"1","id":"a","timestamp":"1","type":"image","image":"oops","text":42}]}"#,
        ));
        assert_eq!(message.kind, MessageKind::Media);
        assert_eq!(message.text, None);
    }

    #[test]
    fn when_status_names_only_a_business_scoped_user_then_it_is_the_customer() {
        let events = parse_value(
            r#"{"metadata":{"phone_number_id":"10"},"statuses":[
                {"id":"wamid.X","status":"deleted","timestamp":1,"recipient_user_id":"BR.1","errors":[{"code":"131026"},{"title":"no code"},7]},
                {"id":"wamid.Y","timestamp":"1"}]}"#,
        );
        assert_eq!(
            events,
            [
                InboundEvent::DeliveryStatus(DeliveryStatus {
                    business_account_id: "10".to_owned(),
                    message_id: "wamid.X".to_owned(),
                    customer_id: Some("BR.1".to_owned()),
                    status: StatusKind::Other("deleted".to_owned()),
                    at: Timestamp::from_secs(1),
                    callback_data: None,
                    error_codes: vec![131_026],
                }),
                malformed(),
            ]
        );
    }

    #[test]
    fn when_the_change_has_no_phone_number_id_then_each_item_is_malformed() {
        let events = parse_value(
            r#"{"messages":[{"from":"1","id":"a","timestamp":"1","type":"text"}],"statuses":[{"id":"b","status":"sent","timestamp":"1"}]}"#,
        );
        assert_eq!(events, [malformed(), malformed()]);
    }

    #[test]
    fn when_a_messages_change_carries_nothing_we_know_then_malformed() {
        assert_eq!(parse_value(r#"{"metadata":{}}"#), [malformed()]);
        assert_eq!(parse_value(r#""a string""#), [malformed()]);
    }

    #[test]
    fn when_an_entry_has_no_changes_or_a_change_no_field_then_malformed() {
        let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1"},{"id":"1","changes":[{"value":{}}]}]}"#;
        assert_eq!(parse_webhook(body), Ok(vec![malformed(), malformed()]));
    }
}

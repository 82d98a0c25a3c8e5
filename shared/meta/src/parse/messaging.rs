//! `object: page` (Messenger) and `object: instagram`: `entry[].messaging[]` (or
//! `standby[]` when another app owns the thread), one event per item, with `sender`,
//! `recipient`, a millisecond `timestamp` and one of `message`, `postback`, `reaction`,
//! `read`, `delivery`, ...

use followup_domain::{Platform, Timestamp};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use super::{
    BusinessEcho, CustomerMessage, EventKind, IgnoreReason, InboundEvent, MessageKind, MetaInt,
    Str, ignored, lenient, malformed,
};

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    messaging: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    standby: Option<Vec<&'a RawValue>>,
    /// Page and Instagram subscriptions other than messaging (feed, comments, mentions).
    #[serde(borrow)]
    changes: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct Change<'a> {
    #[serde(borrow)]
    field: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(borrow)]
    sender: Option<Party<'a>>,
    #[serde(borrow)]
    recipient: Option<Party<'a>>,
    timestamp: Option<MetaInt>,
    #[serde(borrow)]
    message: Option<Message<'a>>,
    #[serde(borrow)]
    postback: Option<Postback<'a>>,
    #[serde(borrow)]
    reaction: Option<Reaction<'a>>,
    read: Option<IgnoredAny>,
    delivery: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Party<'a> {
    #[serde(borrow)]
    id: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    mid: Option<Str<'a>>,
    #[serde(borrow)]
    text: Option<Str<'a>>,
    is_echo: Option<bool>,
    is_deleted: Option<bool>,
    #[serde(borrow)]
    app_id: Option<Str<'a>>,
    #[serde(borrow)]
    quick_reply: Option<QuickReply<'a>>,
    reply_to: Option<ReplyTo>,
    #[serde(borrow)]
    attachments: Option<Vec<Attachment<'a>>>,
}

#[derive(Deserialize)]
struct QuickReply<'a> {
    #[serde(borrow)]
    payload: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct ReplyTo {
    story: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Attachment<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct Postback<'a> {
    #[serde(borrow)]
    mid: Option<Str<'a>>,
    #[serde(borrow)]
    title: Option<Str<'a>>,
    #[serde(borrow)]
    payload: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct Reaction<'a> {
    #[serde(borrow)]
    mid: Option<Str<'a>>,
    #[serde(borrow)]
    action: Option<Str<'a>>,
    #[serde(borrow)]
    reaction: Option<Str<'a>>,
    #[serde(borrow)]
    emoji: Option<Str<'a>>,
}

/// What every customer-side event shares, checked once.
struct Context<'e> {
    platform: Platform,
    /// Our side of the conversation: `recipient.id`, else the entry's id.
    business: Option<&'e str>,
    customer: Option<&'e str>,
    at: Option<Timestamp>,
    standby: bool,
}

pub(super) fn entry(platform: Platform, raw: &RawValue, events: &mut Vec<InboundEvent>) {
    let Some(entry) = lenient::<Entry<'_>>(raw) else {
        events.push(malformed(platform));
        return;
    };
    if entry.messaging.is_none() && entry.standby.is_none() && entry.changes.is_none() {
        events.push(malformed(platform));
        return;
    }
    let entry_id = entry.id.as_deref().filter(|id| !id.is_empty());
    for raw in entry.messaging.unwrap_or_default() {
        events.push(event(platform, entry_id, raw, false));
    }
    for raw in entry.standby.unwrap_or_default() {
        events.push(event(platform, entry_id, raw, true));
    }
    for raw in entry.changes.unwrap_or_default() {
        events.push(
            match lenient::<Change<'_>>(raw).and_then(|c| c.field.and_then(Str::non_empty)) {
                Some(field) => ignored(
                    platform,
                    IgnoreReason::UnsupportedField(field.into_string()),
                ),
                None => malformed(platform),
            },
        );
    }
}

fn event(
    platform: Platform,
    entry_id: Option<&str>,
    raw: &RawValue,
    standby: bool,
) -> InboundEvent {
    let Some(event) = lenient::<Event<'_>>(raw) else {
        return malformed(platform);
    };
    let sender = party_id(event.sender.as_ref());
    let recipient = party_id(event.recipient.as_ref());
    let at = event.timestamp.map(|t| Timestamp::from_millis(t.0));

    let context = Context {
        platform,
        business: recipient.or(entry_id),
        customer: sender,
        at,
        standby,
    };
    // Only the customer's own events count as interactions. Meta flags the business's
    // messages with `is_echo`, but an event whose sender is the page or Instagram account
    // itself (the entry's id, or the recipient too) was produced by the business whether
    // or not the flag is there: the Page inbox, another app on the page, a test send.
    let sent_by_business = sender.is_some() && (sender == recipient || sender == entry_id);
    if let Some(message) = event.message {
        if message.is_echo == Some(true) || sent_by_business {
            // The business wrote this one: the customer is on the receiving end.
            let business = sender.or(entry_id);
            if recipient.is_some() && recipient == business {
                return ignored(platform, IgnoreReason::FromBusiness);
            }
            return echo(platform, message, business, recipient, at);
        }
        return customer_message(&context, message);
    }
    if sent_by_business && (event.postback.is_some() || event.reaction.is_some()) {
        return ignored(platform, IgnoreReason::FromBusiness);
    }
    if let Some(postback) = event.postback {
        return self::postback(&context, postback);
    }
    if let Some(reaction) = event.reaction {
        return self::reaction(&context, reaction);
    }
    if event.read.is_some() {
        return ignored(platform, IgnoreReason::Read);
    }
    if event.delivery.is_some() {
        return ignored(platform, IgnoreReason::Delivery);
    }
    match lenient::<EventKind>(raw) {
        Some(EventKind(Some(kind))) => ignored(platform, IgnoreReason::UnsupportedField(kind)),
        _ => malformed(platform),
    }
}

fn party_id<'e>(party: Option<&'e Party<'_>>) -> Option<&'e str> {
    party
        .and_then(|p| p.id.as_deref())
        .filter(|id| !id.is_empty())
}

fn echo(
    platform: Platform,
    message: Message<'_>,
    business: Option<&str>,
    customer: Option<&str>,
    at: Option<Timestamp>,
) -> InboundEvent {
    let (Some(mid), Some(sent_at), Some(business)) =
        (message.mid.and_then(Str::non_empty), at, business)
    else {
        return malformed(platform);
    };
    let Some(customer) = customer else {
        return ignored(platform, IgnoreReason::NoCustomer);
    };
    InboundEvent::BusinessEcho(BusinessEcho {
        platform,
        business_account_id: business.to_owned(),
        customer_id: customer.to_owned(),
        message_id: mid.into_string(),
        sent_at,
        text: message.text.map(Str::into_string),
        app_id: message
            .app_id
            .and_then(Str::non_empty)
            .map(Str::into_string),
    })
}

fn customer_message(context: &Context<'_>, message: Message<'_>) -> InboundEvent {
    if message.is_deleted == Some(true) {
        return ignored(context.platform, IgnoreReason::NotAConversationTurn);
    }
    let Some(mid) = message.mid.and_then(Str::non_empty) else {
        return malformed(context.platform);
    };
    let (kind, text) = if let Some(quick_reply) = message.quick_reply {
        // The text is the button's title; the payload stands in when a client omits it.
        let text = message
            .text
            .and_then(Str::non_empty)
            .or(quick_reply.payload);
        (MessageKind::QuickReply, text)
    } else if message.reply_to.is_some_and(|r| r.story.is_some()) {
        (MessageKind::StoryReply, message.text)
    } else if message.text.is_some() {
        (MessageKind::Text, message.text)
    } else {
        let first_type = message
            .attachments
            .unwrap_or_default()
            .into_iter()
            .find_map(|a| a.kind);
        let kind = match first_type.as_deref() {
            Some("image" | "video" | "audio" | "file") => MessageKind::Media,
            Some("location") => MessageKind::Location,
            Some(other) => MessageKind::Other(other.to_owned()),
            None => MessageKind::Other(String::new()),
        };
        (kind, None)
    };
    build(context, mid.into_string(), kind, text)
}

fn postback(context: &Context<'_>, postback: Postback<'_>) -> InboundEvent {
    let message_id = match (
        postback.mid.and_then(Str::non_empty),
        context.customer,
        context.at,
    ) {
        (Some(mid), _, _) => mid.into_string(),
        // Messenger postbacks may come without a mid; Meta's retries of the same event
        // repeat sender, timestamp and payload, so this id deduplicates them.
        (None, Some(customer), Some(at)) => format!(
            "postback:{customer}:{}:{}",
            at.as_millis(),
            postback.payload.as_deref().unwrap_or("")
        ),
        (None, _, _) => return malformed(context.platform),
    };
    let text = postback.title.and_then(Str::non_empty).or(postback.payload);
    build(context, message_id, MessageKind::Postback, text)
}

fn reaction(context: &Context<'_>, reaction: Reaction<'_>) -> InboundEvent {
    if reaction.action.as_deref() == Some("unreact") {
        return ignored(context.platform, IgnoreReason::Unreact);
    }
    let Some(mid) = reaction.mid.and_then(Str::non_empty) else {
        return malformed(context.platform);
    };
    let shown = reaction
        .emoji
        .and_then(Str::non_empty)
        .or_else(|| reaction.reaction.and_then(Str::non_empty));
    let discriminator = shown
        .as_deref()
        .or(reaction.action.as_deref())
        .unwrap_or("react");
    // `mid` names the message reacted to, so on its own it would collide with that
    // message's id and with every other reaction to it.
    let at = context.at.map_or(0, Timestamp::as_millis);
    let message_id = format!("reaction:{}:{at}:{discriminator}", &*mid);
    build(context, message_id, MessageKind::Reaction, shown)
}

fn build(
    context: &Context<'_>,
    message_id: String,
    kind: MessageKind,
    text: Option<Str<'_>>,
) -> InboundEvent {
    let (Some(sent_at), Some(business)) = (context.at, context.business) else {
        return malformed(context.platform);
    };
    let Some(customer) = context.customer else {
        return ignored(context.platform, IgnoreReason::NoCustomer);
    };
    InboundEvent::CustomerMessage(CustomerMessage {
        platform: context.platform,
        business_account_id: business.to_owned(),
        customer_id: customer.to_owned(),
        message_id,
        sent_at,
        kind,
        text: text.map(Str::into_string),
        profile_name: None,
        standby: context.standby,
    })
}

#[cfg(test)]
mod tests {
    use super::super::parse_webhook;
    use super::*;

    const MESSENGER: Platform = Platform::Messenger;

    fn parse_events(platform: &str, events: &str) -> Vec<InboundEvent> {
        let body = format!(
            r#"{{"object":"{platform}","entry":[{{"id":"PAGE","time":1,"messaging":[{events}]}}]}}"#
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
    fn when_postback_has_no_mid_then_a_stable_id_is_synthesised() {
        let event = r#"{"sender":{"id":"U"},"recipient":{"id":"PAGE"},"timestamp":"1763971440000","postback":{"title":"","payload":"BOOK"}}"#;
        let first = only_message(parse_events("page", event));
        let retry = only_message(parse_events("page", event));
        assert_eq!(first.message_id, "postback:U:1763971440000:BOOK");
        assert_eq!(first, retry);
        assert_eq!(first.text.as_deref(), Some("BOOK"));
        assert_eq!(first.sent_at, Timestamp::from_millis(1_763_971_440_000));
    }

    #[test]
    fn when_recipient_is_missing_then_the_entry_id_is_the_business() {
        let message = only_message(parse_events(
            "instagram",
            r#"{"sender":{"id":"U"},"timestamp":1,"message":{"mid":"m","text":"hi"}}"#,
        ));
        assert_eq!(message.business_account_id, "PAGE");
        assert_eq!(message.platform, Platform::Instagram);
    }

    #[test]
    fn when_the_page_itself_sends_without_the_echo_flag_then_it_is_the_business_writing() {
        let events = parse_events(
            "page",
            r#"{"sender":{"id":"PAGE"},"recipient":{"id":"U"},"timestamp":1,"message":{"mid":"m","text":"Your order shipped"}}"#,
        );
        match events.as_slice() {
            [InboundEvent::BusinessEcho(echo)] => {
                assert_eq!(echo.business_account_id, "PAGE");
                assert_eq!(echo.customer_id, "U");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn when_sender_and_recipient_are_the_same_account_then_nothing_counts_as_the_customer() {
        for event in [
            r#"{"sender":{"id":"ACC"},"recipient":{"id":"ACC"},"timestamp":1,"message":{"mid":"m","text":"hi"}}"#,
            r#"{"sender":{"id":"ACC"},"recipient":{"id":"ACC"},"timestamp":1,"message":{"mid":"m","text":"hi","is_echo":true}}"#,
            r#"{"sender":{"id":"PAGE"},"recipient":{"id":"U"},"timestamp":1,"postback":{"mid":"p","payload":"X"}}"#,
            r#"{"sender":{"id":"PAGE"},"recipient":{"id":"U"},"timestamp":1,"reaction":{"mid":"m","action":"react","emoji":"x"}}"#,
        ] {
            assert_eq!(
                parse_events("instagram", event),
                [ignored(Platform::Instagram, IgnoreReason::FromBusiness)],
                "{event}"
            );
        }
    }

    #[test]
    fn when_sender_is_missing_then_no_customer() {
        assert_eq!(
            parse_events(
                "page",
                r#"{"recipient":{"id":"PAGE"},"timestamp":1,"message":{"mid":"m","text":"hi"}}"#
            ),
            [ignored(MESSENGER, IgnoreReason::NoCustomer)]
        );
    }

    #[test]
    fn when_attachments_are_not_media_then_kind_follows_the_attachment_type() {
        let kinds: Vec<_> = parse_events(
            "page",
            r#"{"sender":{"id":"U"},"timestamp":1,"message":{"mid":"a","attachments":[{"type":"location"}]}},
               {"sender":{"id":"U"},"timestamp":1,"message":{"mid":"b","attachments":[{"type":"fallback"}]}},
               {"sender":{"id":"U"},"timestamp":1,"message":{"mid":"c"}}"#,
        )
        .into_iter()
        .map(|e| match e {
            InboundEvent::CustomerMessage(m) => m.kind,
            other => panic!("{other:?}"),
        })
        .collect();
        assert_eq!(
            kinds,
            [
                MessageKind::Location,
                MessageKind::Other("fallback".to_owned()),
                MessageKind::Other(String::new()),
            ]
        );
    }

    #[test]
    fn when_event_kind_is_unknown_then_it_is_named_and_an_empty_event_is_malformed() {
        assert_eq!(
            parse_events(
                "page",
                r#"{"sender":{"id":"U"},"recipient":{"id":"PAGE"},"timestamp":1,"optin":{"ref":"x"}},
                   {"sender":{"id":"U"},"recipient":{"id":"PAGE"},"timestamp":1},
                   ["not","an","event"]"#
            ),
            [
                ignored(
                    MESSENGER,
                    IgnoreReason::UnsupportedField("optin".to_owned())
                ),
                malformed(MESSENGER),
                malformed(MESSENGER),
            ]
        );
    }

    #[test]
    fn when_reaction_has_no_emoji_then_its_name_is_shown_and_unreact_is_ignored() {
        assert_eq!(
            parse_events(
                "instagram",
                r#"{"sender":{"id":"U"},"timestamp":5,"reaction":{"mid":"m","action":"react","reaction":"wow"}},
                   {"sender":{"id":"U"},"timestamp":6,"reaction":{"mid":"m","action":"unreact","reaction":"wow"}}"#
            ),
            [
                InboundEvent::CustomerMessage(CustomerMessage {
                    platform: Platform::Instagram,
                    business_account_id: "PAGE".to_owned(),
                    customer_id: "U".to_owned(),
                    message_id: "reaction:m:5:wow".to_owned(),
                    sent_at: Timestamp::from_millis(5),
                    kind: MessageKind::Reaction,
                    text: Some("wow".to_owned()),
                    profile_name: None,
                    standby: false,
                }),
                ignored(Platform::Instagram, IgnoreReason::Unreact),
            ]
        );
    }

    #[test]
    fn when_entry_has_changes_or_nothing_then_unsupported_field_or_malformed() {
        let body = br#"{"object":"instagram","entry":[
            {"id":"IG","time":1,"changes":[{"field":"comments","value":{"text":"nice"}},{"value":{}}]},
            {"id":"IG","time":1}
        ]}"#;
        assert_eq!(
            parse_webhook(body),
            Ok(vec![
                ignored(
                    Platform::Instagram,
                    IgnoreReason::UnsupportedField("comments".to_owned())
                ),
                malformed(Platform::Instagram),
                malformed(Platform::Instagram),
            ])
        );
    }

    #[test]
    fn when_an_echo_arrives_on_standby_then_it_is_still_an_echo() {
        let body = br#"{"object":"page","entry":[{"id":"PAGE","time":1,"standby":[
            {"sender":{"id":"PAGE"},"recipient":{"id":"U"},"timestamp":1,"message":{"mid":"m","is_echo":true,"app_id":"263902037430900"}}
        ]}]}"#;
        assert_eq!(
            parse_webhook(body),
            Ok(vec![InboundEvent::BusinessEcho(BusinessEcho {
                platform: MESSENGER,
                business_account_id: "PAGE".to_owned(),
                customer_id: "U".to_owned(),
                message_id: "m".to_owned(),
                sent_at: Timestamp::from_millis(1),
                text: None,
                app_id: Some("263902037430900".to_owned()),
            })])
        );
    }
}

//! Meta webhook bodies into [`InboundEvent`]s.
//!
//! One POST can batch several entries, each with several changes or messaging events, each
//! with several messages or statuses. Every one of them is parsed on its own (each level is
//! first captured as a [`RawValue`], then read into a struct whose fields are all
//! optional), so one event Meta shaped in a way we did not foresee becomes a single
//! [`IgnoreReason::Malformed`] and the customer messages next to it still count. Only a
//! body that is not JSON, or not Meta's envelope at all, is an error: the HTTP layer answers
//! 400, which makes Meta show the failure instead of silently dropping a batch.
//!
//! Strings are borrowed from the body while the wire structs are read and copied once, into
//! the events; this is the webhook's hot path.

mod messaging;
mod whatsapp;

use std::borrow::Cow;
use std::fmt;

use followup_domain::{Platform, Timestamp};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundEvent {
    /// Something the customer did that counts as an interaction.
    CustomerMessage(CustomerMessage),
    /// A message the business sent (echo), for the transcript only.
    BusinessEcho(BusinessEcho),
    /// WhatsApp status of a message we (or the business) sent.
    DeliveryStatus(DeliveryStatus),
    /// A WhatsApp template's review state changed (`message_template_status_update`).
    TemplateStatus(followup_domain::TemplateStatusChange),
    /// Meta recategorised a WhatsApp template (`template_category_update`, completed).
    TemplateCategory(followup_domain::TemplateCategoryChange),
    /// Known but not an interaction and not needed (reads, deliveries, unreacts,
    /// webhook-level errors, ...).
    Ignored {
        platform: Option<Platform>,
        reason: IgnoreReason,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerMessage {
    pub platform: Platform,
    /// WhatsApp phone_number_id; Messenger page id (recipient.id / entry id); Instagram
    /// account id.
    pub business_account_id: String,
    /// WhatsApp: `from` (wa_id) if present, else the business-scoped user id
    /// (`from_user_id`/contacts[].user_id); Messenger PSID / Instagram IGSID (sender.id).
    pub customer_id: String,
    /// wamid / mid. Postbacks without a mid get a stable synthetic id
    /// `postback:<sender>:<timestamp ms>:<payload>`; Messenger/Instagram reactions get
    /// `reaction:<mid>:<timestamp ms>:<emoji, else reaction name, else action>` (their
    /// `mid` is the id of the message reacted to, not of the reaction; the time tells a
    /// reaction given again after an unreact from Meta's retry of the first).
    pub message_id: String,
    /// Meta's timestamp of the message.
    pub sent_at: Timestamp,
    pub kind: MessageKind,
    /// Human-readable text for the judge's transcript: text body, caption, button/list
    /// title, quick-reply title/payload text, postback title, emoji of a reaction; None for
    /// pure media/location. Personal data: never log it.
    pub text: Option<String>,
    /// WhatsApp contacts[].profile.name when present.
    pub profile_name: Option<String>,
    /// true if it came via Messenger `standby` (another app owns the thread).
    pub standby: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageKind {
    Text,
    Media,
    Location,
    Interactive,
    QuickReply,
    Postback,
    Reaction,
    StoryReply,
    /// The platform's own type name (WhatsApp `type`, Messenger/Instagram attachment type);
    /// empty when Meta sent none.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessEcho {
    pub platform: Platform,
    pub business_account_id: String,
    pub customer_id: String,
    pub message_id: String,
    pub sent_at: Timestamp,
    /// Personal data (it quotes the conversation): never log it.
    pub text: Option<String>,
    /// The app that sent it: lets our own sends be told from a human's. Meta sends it on
    /// Messenger echoes only.
    pub app_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryStatus {
    /// The WhatsApp phone_number_id the message was sent from.
    pub business_account_id: String,
    /// The wamid of the message this status is about.
    pub message_id: String,
    /// `recipient_id` (wa_id), else `recipient_user_id` (business-scoped user id).
    pub customer_id: Option<String>,
    pub status: StatusKind,
    pub at: Timestamp,
    /// `biz_opaque_callback_data` as we set it on the send.
    pub callback_data: Option<String>,
    pub error_codes: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusKind {
    Sent,
    Delivered,
    Read,
    Failed,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoreReason {
    UnknownObject,
    Read,
    Delivery,
    Unreact,
    WebhookError,
    /// A webhook field or messaging event kind we do not handle, by Meta's name.
    UnsupportedField(String),
    Malformed,
    NoCustomer,
    /// The customer unsent (deleted) a message, or WhatsApp reports a system change such
    /// as a new number: not the customer talking to the business.
    NotAConversationTurn,
    /// Sent by the business's own page or account (sender is the page, or sender and
    /// recipient are the same): never the customer talking.
    FromBusiness,
}

/// The body is not a Meta webhook at all. Carries no part of the body: customer texts are
/// personal data and this error may well be logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("webhook body is not JSON (line {line}, column {column})")]
    NotJson { line: usize, column: usize },
    #[error("webhook body is JSON but not an object with `object` and an `entry` array")]
    NotAWebhook,
}

impl ParseError {
    fn from_serde(error: &serde_json::Error) -> Self {
        if error.is_data() {
            Self::NotAWebhook
        } else {
            Self::NotJson {
                line: error.line(),
                column: error.column(),
            }
        }
    }
}

/// Parses a webhook POST body (the raw bytes, after the signature check) into events, in
/// the order Meta sent them.
pub fn parse_webhook(raw_body: &[u8]) -> Result<Vec<InboundEvent>, ParseError> {
    let envelope: Envelope<'_> =
        serde_json::from_slice(raw_body).map_err(|e| ParseError::from_serde(&e))?;
    // serde also reads a struct from a JSON array by position; Meta's body is an object.
    if raw_body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ParseError::NotAWebhook);
    }
    let (Some(object), Some(entries)) = (envelope.object, envelope.entry) else {
        return Err(ParseError::NotAWebhook);
    };
    let platform = match &*object.0 {
        "whatsapp_business_account" => Platform::Whatsapp,
        "page" => Platform::Messenger,
        "instagram" => Platform::Instagram,
        _ => {
            return Ok(vec![InboundEvent::Ignored {
                platform: None,
                reason: IgnoreReason::UnknownObject,
            }]);
        }
    };
    let mut events = Vec::with_capacity(entries.len());
    for entry in entries {
        match platform {
            Platform::Whatsapp => whatsapp::entry(entry, &mut events),
            Platform::Messenger | Platform::Instagram => {
                messaging::entry(platform, entry, &mut events);
            }
        }
    }
    Ok(events)
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    object: Option<Str<'a>>,
    #[serde(borrow)]
    entry: Option<Vec<&'a RawValue>>,
}

/// Reads one captured item; `None` when its shape is not what `T` expects.
fn lenient<'a, T: Deserialize<'a>>(raw: &'a RawValue) -> Option<T> {
    serde_json::from_str(raw.get()).ok()
}

fn ignored(platform: Platform, reason: IgnoreReason) -> InboundEvent {
    InboundEvent::Ignored {
        platform: Some(platform),
        reason,
    }
}

fn malformed(platform: Platform) -> InboundEvent {
    ignored(platform, IgnoreReason::Malformed)
}

/// A string from the body, borrowed unless it had escapes. Integers are accepted too:
/// Meta sends some ids as JSON numbers (Messenger's `app_id`) and may do so for others.
struct Str<'a>(Cow<'a, str>);

impl<'a> Str<'a> {
    /// Meta sometimes sends `""` where a value is absent; treat both alike.
    fn non_empty(self) -> Option<Self> {
        (!self.0.is_empty()).then_some(self)
    }

    fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl std::ops::Deref for Str<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;

        impl<'de> Visitor<'de> for StrVisitor {
            type Value = Str<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an integer")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }
        }

        deserializer.deserialize_any(StrVisitor)
    }
}

/// An integer Meta sends as a JSON number or as a string of digits: WhatsApp timestamps
/// are strings, Messenger's are numbers, and neither is promised to stay that way.
#[derive(Clone, Copy)]
struct MetaInt(i64);

impl<'de> Deserialize<'de> for MetaInt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IntVisitor;

        impl Visitor<'_> for IntVisitor {
            type Value = MetaInt;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or a string of digits")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(MetaInt(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v)
                    .map(MetaInt)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                v.trim()
                    .parse()
                    .map(MetaInt)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str("non-integer"), &self))
            }
        }

        deserializer.deserialize_any(IntVisitor)
    }
}

/// The first key of a messaging event other than the envelope keys every event has: the
/// name of the event kind (`optin`, `referral`, `message_edit`, ...), in body order. Only
/// read for kinds we do not handle, so the extra pass stays off the hot path.
struct EventKind(Option<String>);

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = EventKind;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a messaging event object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut kind = None;
                while let Some(key) = map.next_key::<Str<'de>>()? {
                    map.next_value::<IgnoredAny>()?;
                    if kind.is_none() && !matches!(&*key, "sender" | "recipient" | "timestamp") {
                        kind = Some(key.into_string());
                    }
                }
                Ok(EventKind(kind))
            }
        }

        deserializer.deserialize_map(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Vec<InboundEvent>, ParseError> {
        parse_webhook(body.as_bytes())
    }

    #[test]
    fn when_body_is_not_json_then_not_json_with_position() {
        assert_eq!(
            parse("{\"object\":\"page\",\n\"entry\":[}"),
            Err(ParseError::NotJson {
                line: 2,
                column: 10
            })
        );
        assert!(matches!(parse(""), Err(ParseError::NotJson { .. })));
        assert!(matches!(
            parse_webhook(b"{\"object\":\"page\",\"entry\":[\"\xff\"]}"),
            Err(ParseError::NotJson { .. })
        ));
    }

    #[test]
    fn when_json_is_not_the_envelope_then_not_a_webhook() {
        for body in [
            "[]",
            r#"["page", []]"#,
            "\"page\"",
            "{}",
            r#"{"object":"page"}"#,
            r#"{"entry":[]}"#,
            r#"{"object":"page","entry":{}}"#,
            r#"{"object":["page"],"entry":[]}"#,
        ] {
            assert_eq!(parse(body), Err(ParseError::NotAWebhook), "{body}");
        }
    }

    #[test]
    fn when_error_is_displayed_then_it_quotes_nothing_from_the_body() {
        let error =
            parse(r#"{"object":"page","entry":[{"text":"my secret"#).expect_err("truncated body");
        assert!(!error.to_string().contains("secret"), "{error}");
    }

    #[test]
    fn when_timestamps_come_as_strings_or_numbers_then_both_are_read() {
        let read = |json: &str| serde_json::from_str::<MetaInt>(json).ok().map(|t| t.0);
        assert_eq!(read("\"1763971200\""), Some(1_763_971_200));
        assert_eq!(read("1763971200000"), Some(1_763_971_200_000));
        assert_eq!(read("\"17639x\""), None);
        assert_eq!(read("1.5"), None);
        assert_eq!(read("18446744073709551615"), None);
    }

    #[test]
    fn when_strings_have_no_escapes_then_they_are_borrowed() {
        let plain: Str<'_> = serde_json::from_str("\"m_abc\"").expect("string");
        assert!(matches!(plain.0, Cow::Borrowed("m_abc")));
        let escaped: Str<'_> = serde_json::from_str(r#""a\/b""#).expect("string");
        assert_eq!(&*escaped, "a/b");
        let number: Str<'_> = serde_json::from_str("880011223344556").expect("number");
        assert_eq!(&*number, "880011223344556");
    }
}

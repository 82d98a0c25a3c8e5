//! The item layout: every key the store reads or writes is built here, so the table in
//! `docs/aws.md` ("Access patterns") and the code cannot drift apart unnoticed.
//!
//! Ids never contain `#` (chatbot, follow-up and Meta account ids are checked tokens; a
//! conversation id is `platform:account:customer`); free-form parts (message and delivery
//! ids) only ever come last in a key.

use aws_sdk_dynamodb::types::AttributeValue;
use followup_domain::{ChatbotId, ConversationId, FollowUpId, Platform, Timestamp};
use followup_ports::StoreError;

use super::item::{Item, Read, s};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
pub const GSI2: &str = "gsi2";
pub const GSI2_PK: &str = "gsi2pk";
pub const GSI2_SK: &str = "gsi2sk";
/// DynamoDB deletes an item some time (usually within days) after this epoch second.
pub const TTL_ATTRIBUTE: &str = "expires_at";

const DAY_SECS: i64 = 24 * 60 * 60;
/// Message ids are kept this long after arrival: Meta redelivers a webhook for up to 7 days,
/// and a redelivery must still be recognised.
pub(crate) const MESSAGE_ID_TTL_SECS: i64 = 14 * DAY_SECS;
/// Transcript lines are kept this long after they were written: a follow-up may come due
/// up to 30 days (the longest manual delay) after the customer's last message, and the
/// judge must still see what was said.
pub(crate) const TRANSCRIPT_TTL_SECS: i64 = 45 * DAY_SECS;
/// A sent follow-up waits this long for the customer's reply: a reply counts within 24 h
/// of Meta's timestamp, and the reply's webhook may be redelivered for up to 7 days.
pub(crate) const REPLY_MARKER_TTL_SECS: i64 = 8 * DAY_SECS;

/// The TTL value `ttl_secs` after `at`.
pub(crate) fn expires(at: Timestamp, ttl_secs: i64) -> AttributeValue {
    super::item::n(at.as_millis().div_euclid(1000).saturating_add(ttl_secs))
}

/// A number as fixed-width digits that sort as strings the way the numbers sort.
pub(crate) fn ordered(value: i64) -> String {
    format!("{:020}", i128::from(value) - i128::from(i64::MIN))
}

/// Like [`ordered`], but newest (largest) first.
pub(crate) fn ordered_desc(value: i64) -> String {
    format!("{:020}", i128::from(i64::MAX) - i128::from(value))
}

pub(crate) fn seq(value: u64) -> String {
    format!("{value:020}")
}

/// A table key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    fn new(pk: String, sk: impl Into<String>) -> Self {
        Self { pk, sk: sk.into() }
    }

    pub fn into_item(self) -> Item {
        Item::from([(PK.to_owned(), s(self.pk)), (SK.to_owned(), s(self.sk))])
    }

    /// The key of an item read back.
    pub fn of(item: &Item) -> Result<Self, StoreError> {
        Ok(Self::new(item.str(PK)?.to_owned(), item.str(SK)?))
    }
}

// Follow-ups and the active counter: one partition per chatbot.

pub(crate) fn chatbot_pk(chatbot: &ChatbotId) -> String {
    format!("BOT#{chatbot}")
}

pub(crate) const FOLLOW_UP_PREFIX: &str = "FU#";

pub(crate) fn follow_up(chatbot: &ChatbotId, id: &FollowUpId) -> Key {
    Key::new(chatbot_pk(chatbot), format!("{FOLLOW_UP_PREFIX}{id}"))
}

pub(crate) fn active_counter(chatbot: &ChatbotId) -> Key {
    Key::new(chatbot_pk(chatbot), "ACTIVE")
}

// Integrations: keyed by the platform account (webhook routing), listed per chatbot on gsi1.

pub(crate) fn integration(platform: Platform, account_id: &str) -> Key {
    Key::new(format!("ACCOUNT#{platform}#{account_id}"), "INTEGRATION")
}

pub(crate) fn integrations_gsi1pk(chatbot: &ChatbotId) -> String {
    format!("BOT#{chatbot}#INTEGRATIONS")
}

/// Sorts like SQLite's `ORDER BY platform, account_id` (no platform name is a prefix of
/// another, and account ids use no character below `#`).
pub(crate) fn integrations_gsi1sk(platform: Platform, account_id: &str) -> String {
    format!("{platform}#{account_id}")
}

// The template catalogue: one partition per WhatsApp Business Account, one item per
// template (Meta names are `[a-z0-9_]`, language codes have no `#`); each account a
// chatbot linked is an item in the chatbot's partition.

pub(crate) fn waba_pk(waba_id: &str) -> String {
    format!("WABA#{waba_id}")
}

pub(crate) const TEMPLATE_PREFIX: &str = "TPL#";

pub(crate) fn template(waba_id: &str, name: &str, language: &str) -> Key {
    Key::new(
        waba_pk(waba_id),
        format!("{TEMPLATE_PREFIX}{name}#{language}"),
    )
}

pub(crate) const TEMPLATE_LINK_PREFIX: &str = "WABA#";

pub(crate) fn template_link(chatbot: &ChatbotId, waba_id: &str) -> Key {
    Key::new(
        chatbot_pk(chatbot),
        format!("{TEMPLATE_LINK_PREFIX}{waba_id}"),
    )
}

// Message ids, for idempotency.

pub(crate) fn message(chatbot: &ChatbotId, message_id: &str) -> Key {
    Key::new(format!("MSG#{chatbot}#{message_id}"), "MSG")
}

// A conversation: one partition holding its state, reply markers, transcript, pending
// follow-ups, log and deliveries. Sort keys, in their order:
//   DLV#…  LOG#…  PENDING#…  STATE  STATE#REPLY#…  TX#…
// `PENDING#…` and `STATE` are adjacent, so one query reads the pending set with the state;
// `STATE` and `STATE#REPLY#…` share a prefix, so one query reads the state with its
// reply markers.

pub(crate) fn conversation_pk(chatbot: &ChatbotId, conversation: &ConversationId) -> String {
    format!("CONV#{chatbot}#{conversation}")
}

pub(crate) const STATE: &str = "STATE";
pub(crate) const REPLY_PREFIX: &str = "STATE#REPLY#";
pub(crate) const TRANSCRIPT_PREFIX: &str = "TX#";
pub(crate) const PENDING_PREFIX: &str = "PENDING#";
pub(crate) const LOG_PREFIX: &str = "LOG#";
pub(crate) const DELIVERY_PREFIX: &str = "DLV#";

pub(crate) fn state(chatbot: &ChatbotId, conversation: &ConversationId) -> Key {
    Key::new(conversation_pk(chatbot, conversation), STATE)
}

pub(crate) fn conversations_gsi1pk(chatbot: &ChatbotId) -> String {
    format!("BOT#{chatbot}#CONVERSATIONS")
}

/// Most recently active first, then by id; conversations without a customer message last
/// (SQLite: `ORDER BY last IS NULL, last DESC, id`).
pub(crate) fn conversations_gsi1sk(
    conversation: &ConversationId,
    last_customer_message_at: Option<Timestamp>,
) -> String {
    match last_customer_message_at {
        Some(at) => format!("A#{}#{conversation}", ordered_desc(at.as_millis())),
        None => format!("B#{conversation}"),
    }
}

pub(crate) fn reply_marker(
    chatbot: &ChatbotId,
    conversation: &ConversationId,
    sent_at: Timestamp,
    follow_up: &FollowUpId,
    silence_period: u64,
) -> Key {
    Key::new(
        conversation_pk(chatbot, conversation),
        format!(
            "{REPLY_PREFIX}{}#{follow_up}#{}",
            ordered(sent_at.as_millis()),
            seq(silence_period)
        ),
    )
}

pub(crate) fn transcript_line(
    chatbot: &ChatbotId,
    conversation: &ConversationId,
    at: Timestamp,
    message_id: &str,
) -> Key {
    Key::new(
        conversation_pk(chatbot, conversation),
        format!(
            "{TRANSCRIPT_PREFIX}{}#{message_id}",
            ordered(at.as_millis())
        ),
    )
}

pub(crate) fn pending(
    chatbot: &ChatbotId,
    conversation: &ConversationId,
    follow_up: &FollowUpId,
) -> Key {
    Key::new(
        conversation_pk(chatbot, conversation),
        format!("{PENDING_PREFIX}{follow_up}"),
    )
}

pub(crate) fn pending_gsi1pk(chatbot: &ChatbotId, follow_up: &FollowUpId) -> String {
    format!("BOT#{chatbot}#FU#{follow_up}#PENDING")
}

pub(crate) fn log_batch(chatbot: &ChatbotId, conversation: &ConversationId, first_seq: u64) -> Key {
    Key::new(
        conversation_pk(chatbot, conversation),
        format!("{LOG_PREFIX}{}", seq(first_seq)),
    )
}

pub(crate) fn log_sk(first_seq: u64) -> String {
    format!("{LOG_PREFIX}{}", seq(first_seq))
}

pub(crate) fn delivery(
    chatbot: &ChatbotId,
    conversation: &ConversationId,
    follow_up: &FollowUpId,
    silence_period: u64,
) -> Key {
    Key::new(
        conversation_pk(chatbot, conversation),
        format!("{DELIVERY_PREFIX}{follow_up}#{}", seq(silence_period)),
    )
}

pub(crate) fn deliveries_gsi2pk(chatbot: &ChatbotId, follow_up: &FollowUpId) -> String {
    format!("BOT#{chatbot}#FU#{follow_up}#DELIVERIES")
}

/// Newest first when read backwards (SQLite: `ORDER BY created_at DESC, id DESC`).
pub(crate) fn deliveries_gsi2sk(created_at: Timestamp, delivery_id: &str) -> String {
    format!("{}#{delivery_id}", ordered(created_at.as_millis()))
}

/// Where a delivery id points: the delivery's key. Scoped by chatbot, so another chatbot's
/// id cannot be looked up at all.
pub(crate) fn delivery_pointer(chatbot: &ChatbotId, delivery_id: &str) -> Key {
    Key::new(format!("DLVID#{chatbot}#{delivery_id}"), "DLVID")
}

pub(crate) fn stats(chatbot: &ChatbotId, follow_up: &FollowUpId) -> Key {
    Key::new(format!("STATS#{chatbot}#{follow_up}"), "STATS")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_numbers_are_encoded_then_strings_sort_like_the_numbers() {
        let values = [i64::MIN, -5, -1, 0, 1, 9, 10, 1_700_000_000_000, i64::MAX];
        for pair in values.windows(2) {
            assert!(ordered(pair[0]) < ordered(pair[1]), "{pair:?}");
            assert!(ordered_desc(pair[0]) > ordered_desc(pair[1]), "{pair:?}");
            assert_eq!(ordered(pair[0]).len(), 20);
            assert_eq!(ordered_desc(pair[0]).len(), 20);
        }
        assert!(seq(9) < seq(10));
    }

    #[test]
    fn when_conversation_keys_are_built_then_pending_and_state_are_adjacent() {
        let mut sks = [
            "DLV#f#1",
            "LOG#1",
            "PENDING#zzz",
            STATE,
            "STATE#REPLY#1",
            "TX#1",
        ];
        let sorted = sks;
        sks.sort_unstable();
        assert_eq!(sks, sorted);
    }
}

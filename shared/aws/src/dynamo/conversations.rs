//! Conversations: state, transcript, pending follow-ups and the log, all in the
//! conversation's partition (`CONV#{chatbot}#{conversation}`).
//!
//! The `STATE` item carries the conversation and its `log_seq`. It can exist with only
//! `log_seq` (a log written for a conversation never seen, as SQLite allows): a
//! conversation exists when its `silence_period` does.

use async_trait::async_trait;
use followup_domain::{
    ChatbotId, Conversation, ConversationId, FollowUpId, LogEntry, LogEvent, Timestamp,
};
use followup_ports::{
    ConversationStore, ConversationSummary, InboundMessage, LogPage, PendingFollowUp, Recorded,
    Speaker, StoreError, TranscriptLine,
};

use super::deliveries::{self, VERSION};
use super::expr::Expr;
use super::item::{Item, ItemBuilder, Read, corrupt, n, s};
use super::keys::{self, GSI1_PK, GSI1_SK, Key, PENDING_PREFIX, REPLY_PREFIX, SK, STATE};
use super::log::{self, LOG_SEQ, StatsDelta};
use super::{ATTEMPTS, DynamoStore, Query, SortKey, Transacted, Write, Written, backoff};

/// A customer message this soon after a sent follow-up counts as a reply to it.
pub(crate) const REPLY_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
/// Lines the judge reads (the latest ones); older lines stay until their TTL.
pub const TRANSCRIPT_LINES: usize = 40;
/// Characters kept per transcript line.
pub const TRANSCRIPT_LINE_CHARS: usize = 2000;

pub(crate) const SILENCE_PERIOD: &str = "silence_period";
const PLANNED_PERIOD: &str = "planned_period";
const STOPPED_PERIOD: &str = "stopped_period";
const LAST_CUSTOMER_MESSAGE_AT: &str = "last_customer_message_at";
const PROFILE_NAME: &str = "profile_name";
const DUE_AT: &str = "due_at";

/// The `STATE` item as read.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub conversation: Option<Conversation>,
    pub log_seq: Option<u64>,
}

impl State {
    pub fn read(item: Option<&Item>) -> Result<Self, StoreError> {
        let Some(item) = item else {
            return Ok(Self::default());
        };
        Ok(Self {
            conversation: item
                .contains_key(SILENCE_PERIOD)
                .then(|| conversation_from(item))
                .transpose()?,
            log_seq: item.opt_u64(LOG_SEQ)?,
        })
    }
}

fn conversation_from(item: &Item) -> Result<Conversation, StoreError> {
    Ok(Conversation {
        chatbot_id: ChatbotId::parse(item.str("chatbot_id")?)
            .map_err(|e| corrupt("chatbot_id", e.message))?,
        id: ConversationId::parse(item.str("conversation_id")?)
            .map_err(|e| corrupt("conversation_id", e.message))?,
        last_customer_message_at: item
            .opt_i64(LAST_CUSTOMER_MESSAGE_AT)?
            .map(Timestamp::from_millis),
        silence_period: item.u64(SILENCE_PERIOD)?,
        planned_period: item.u64(PLANNED_PERIOD)?,
        profile_name: item.opt_str(PROFILE_NAME)?.map(str::to_owned),
        stopped_period: item.opt_u64(STOPPED_PERIOD)?,
    })
}

fn empty_conversation(chatbot: &ChatbotId, id: &ConversationId) -> Conversation {
    Conversation {
        chatbot_id: chatbot.clone(),
        id: id.clone(),
        last_customer_message_at: None,
        silence_period: 0,
        planned_period: 0,
        profile_name: None,
        stopped_period: None,
    }
}

pub(crate) fn pending_from(item: &Item) -> Result<PendingFollowUp, StoreError> {
    Ok(PendingFollowUp {
        conversation_id: ConversationId::parse(item.str("conversation_id")?)
            .map_err(|e| corrupt("conversation_id", e.message))?,
        follow_up_id: FollowUpId::parse(item.str("follow_up_id")?)
            .map_err(|e| corrupt("follow_up_id", e.message))?,
        silence_period: item.u64(SILENCE_PERIOD)?,
        due_at: Timestamp::from_millis(item.i64(DUE_AT)?),
    })
}

fn pending_item(chatbot: &ChatbotId, conversation: &ConversationId, p: &PendingFollowUp) -> Item {
    ItemBuilder::new(keys::pending(chatbot, conversation, &p.follow_up_id).into_item())
        .with("conversation_id", s(conversation.as_str()))
        .with("follow_up_id", s(p.follow_up_id.as_str()))
        .with(SILENCE_PERIOD, n(p.silence_period))
        .with(DUE_AT, n(p.due_at.as_millis()))
        .with(GSI1_PK, s(keys::pending_gsi1pk(chatbot, &p.follow_up_id)))
        .with(GSI1_SK, s(conversation.as_str()))
        .build()
}

/// The condition "still pending for `silence_period`".
pub(crate) fn pending_for_period(silence_period: u64) -> Expr {
    let mut expr = Expr::default();
    let condition = expr.equals(SILENCE_PERIOD, n(silence_period));
    expr.require(condition);
    expr
}

fn truncate(text: Option<String>) -> Option<String> {
    text.map(|t| {
        if t.chars().count() > TRANSCRIPT_LINE_CHARS {
            t.chars().take(TRANSCRIPT_LINE_CHARS).collect()
        } else {
            t
        }
    })
}

fn transcript_item(
    chatbot: &ChatbotId,
    conversation: &ConversationId,
    message_id: &str,
    at: Timestamp,
    speaker: Speaker,
    text: Option<String>,
) -> Item {
    let speaker = match speaker {
        Speaker::Customer => "customer",
        Speaker::Business => "business",
    };
    ItemBuilder::new(keys::transcript_line(chatbot, conversation, at, message_id).into_item())
        .with("message_id", s(message_id))
        .with("speaker", s(speaker))
        .with("at", n(at.as_millis()))
        .with_opt("text", truncate(text).map(s))
        .with(
            keys::TTL_ATTRIBUTE,
            keys::expires(at, keys::TRANSCRIPT_TTL_SECS),
        )
        .build()
}

/// Sets what a conversation's `STATE` item needs to exist (keeps what it already has).
fn ensure_conversation(expr: &mut Expr, chatbot: &ChatbotId, conversation: &ConversationId) {
    expr.set_if_absent("chatbot_id", s(chatbot.as_str()))
        .set_if_absent("conversation_id", s(conversation.as_str()))
        .set_if_absent(SILENCE_PERIOD, n(0))
        .set_if_absent(PLANNED_PERIOD, n(0))
        .set_if_absent(GSI1_PK, s(keys::conversations_gsi1pk(chatbot)))
        .set_if_absent(GSI1_SK, s(keys::conversations_gsi1sk(conversation, None)));
}

/// A sent delivery waiting for the customer's reply (see `deliveries`).
struct ReplyMarker {
    key: Key,
    follow_up_id: FollowUpId,
    silence_period: u64,
    sent_at: Timestamp,
}

fn marker_from(item: &Item) -> Result<ReplyMarker, StoreError> {
    Ok(ReplyMarker {
        key: Key::of(item)?,
        follow_up_id: FollowUpId::parse(item.str("follow_up_id")?)
            .map_err(|e| corrupt("follow_up_id", e.message))?,
        silence_period: item.u64(SILENCE_PERIOD)?,
        sent_at: Timestamp::from_millis(item.i64("sent_at")?),
    })
}

/// SQLite: `sent_at <= message AND message - sent_at <= 24 h`.
fn within_reply_window(sent_at: Timestamp, message_at: Timestamp) -> bool {
    sent_at <= message_at && message_at.as_millis() - sent_at.as_millis() <= REPLY_WINDOW_MS
}

impl DynamoStore {
    pub(crate) async fn read_state(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
    ) -> Result<State, StoreError> {
        State::read(self.get(keys::state(chatbot, conversation)).await?.as_ref())
    }

    /// One query for the `STATE` item and the pending entries from `first_follow_up` on
    /// (all of them for `None`): their sort keys are adjacent.
    pub(crate) async fn state_and_pending(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        first_follow_up: Option<&FollowUpId>,
    ) -> Result<(State, Vec<PendingFollowUp>), StoreError> {
        let from = match first_follow_up {
            Some(follow_up) => format!("{PENDING_PREFIX}{follow_up}"),
            None => PENDING_PREFIX.to_owned(),
        };
        let items = self
            .query(Query::table(
                keys::conversation_pk(chatbot, conversation),
                SortKey::Between(from, STATE.to_owned()),
            ))
            .await?;
        let mut state = None;
        let mut pending = Vec::new();
        for item in &items {
            if item.str(SK)? == STATE {
                state = Some(item);
            } else {
                pending.push(pending_from(item)?);
            }
        }
        Ok((State::read(state)?, pending))
    }

    /// Appends `log` to the conversation, together with `writes` (the first ones in the
    /// transaction), conditioned on the `log_seq` read. `Ok(Some(failed))` when it was
    /// cancelled by a condition among `writes`; retried on a lost race of the log itself.
    pub(crate) async fn transact_with_log(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        read_seq: Option<u64>,
        mut writes: Vec<Write>,
        log: &[LogEntry],
        mut stats: StatsDelta,
    ) -> Result<Transacted, StoreError> {
        let own = writes.len();
        if !log.is_empty() {
            let mut state = Expr::default();
            let batch = log::append(&mut state, chatbot, conversation, read_seq, log)?;
            writes.push(Write::update(keys::state(chatbot, conversation), state));
            writes.extend(batch);
            stats.log(log);
        }
        writes.extend(stats.into_writes(chatbot));
        Ok(match self.transact(writes).await? {
            // Only the caller's own conditions are rules; the log's is a lost race.
            Transacted::ConditionFailed(failed) if failed.iter().any(|&i| i < own) => {
                Transacted::ConditionFailed(failed.into_iter().filter(|&i| i < own).collect())
            }
            Transacted::ConditionFailed(_) => Transacted::Conflict,
            other => other,
        })
    }
}

#[async_trait]
impl ConversationStore for DynamoStore {
    async fn record_customer_message(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        message: InboundMessage,
    ) -> Result<Recorded, StoreError> {
        for attempt in 0..ATTEMPTS {
            // The state and the reply markers in one read (shared sort-key prefix).
            let items = self
                .query(Query::table(
                    keys::conversation_pk(chatbot, conversation),
                    SortKey::BeginsWith(STATE.to_owned()),
                ))
                .await?;
            let mut state_item = None;
            let mut markers = Vec::new();
            for item in &items {
                let sk = item.str(SK)?;
                if sk == STATE {
                    state_item = Some(item);
                } else if sk.starts_with(REPLY_PREFIX) {
                    markers.push(marker_from(item)?);
                }
            }
            let state = State::read(state_item)?;
            let current = state
                .conversation
                .clone()
                .unwrap_or_else(|| empty_conversation(chatbot, conversation));
            let mut next = current.clone();
            // Only a message newer than the newest one starts a silence period: a late,
            // out-of-order delivery joins the transcript but moves nothing backwards.
            if next
                .last_customer_message_at
                .is_none_or(|last| message.sent_at > last)
            {
                next.last_customer_message_at = Some(message.sent_at);
                next.silence_period += 1;
            }
            if message.profile_name.is_some() {
                next.profile_name.clone_from(&message.profile_name);
            }

            let mut writes = Vec::new();
            let mut once = Expr::default();
            let new_id = once.absent(keys::PK);
            once.require(new_id);
            writes.push(Write::put(
                ItemBuilder::new(keys::message(chatbot, &message.message_id).into_item())
                    .with("conversation_id", s(conversation.as_str()))
                    .with("received_at", n(message.received_at.as_millis()))
                    .with(
                        keys::TTL_ATTRIBUTE,
                        keys::expires(message.received_at, keys::MESSAGE_ID_TTL_SECS),
                    )
                    .build(),
                once,
            ));

            // The state item: only the fields this write owns, so that planning's and the
            // sender's concurrent updates of other fields are never overwritten.
            let mut update = Expr::default();
            update
                .set("chatbot_id", s(chatbot.as_str()))
                .set("conversation_id", s(conversation.as_str()))
                .set(SILENCE_PERIOD, n(next.silence_period))
                .set_if_absent(PLANNED_PERIOD, n(0))
                .set(GSI1_PK, s(keys::conversations_gsi1pk(chatbot)))
                .set(
                    GSI1_SK,
                    s(keys::conversations_gsi1sk(
                        conversation,
                        next.last_customer_message_at,
                    )),
                );
            if let Some(last) = next.last_customer_message_at {
                update.set(LAST_CUSTOMER_MESSAGE_AT, n(last.as_millis()));
            }
            if let Some(name) = &next.profile_name {
                update.set(PROFILE_NAME, s(name));
            }
            let entry = LogEntry {
                at: message.received_at,
                event: LogEvent::CustomerMessage {
                    message_id: message.message_id.clone(),
                    message_kind: message.kind.clone(),
                    sent_at: message.sent_at,
                    silence_period: next.silence_period,
                },
            };
            let batch = log::append(
                &mut update,
                chatbot,
                conversation,
                state.log_seq,
                std::slice::from_ref(&entry),
            )?;
            writes.push(Write::update(keys::state(chatbot, conversation), update));
            writes.push(Write::put(
                transcript_item(
                    chatbot,
                    conversation,
                    &message.message_id,
                    message.sent_at,
                    Speaker::Customer,
                    message.text.clone(),
                ),
                Expr::default(),
            ));
            writes.extend(batch);

            // A customer message within 24 h of a sent follow-up counts as its reply.
            let mut stats = StatsDelta::default();
            let answered: Vec<&ReplyMarker> = markers
                .iter()
                .filter(|m| within_reply_window(m.sent_at, message.sent_at))
                .collect();
            if !answered.is_empty() {
                let found = self
                    .get_many(
                        answered
                            .iter()
                            .map(|m| {
                                keys::delivery(
                                    chatbot,
                                    conversation,
                                    &m.follow_up_id,
                                    m.silence_period,
                                )
                            })
                            .collect(),
                    )
                    .await?;
                for (marker, item) in answered.into_iter().zip(found) {
                    let Some(item) = item else { continue };
                    let (before, version) = deliveries::delivery_from(&item)?;
                    if before.replied_at.is_some()
                        || !before
                            .sent_at
                            .is_some_and(|sent| within_reply_window(sent, message.sent_at))
                    {
                        continue;
                    }
                    let mut after = before.clone();
                    after.replied_at = Some(message.sent_at);
                    let mut expr = Expr::default();
                    let unchanged = expr.equals(VERSION, n(version));
                    expr.require(unchanged);
                    expr.set("replied_at", n(message.sent_at.as_millis()))
                        .bump(VERSION);
                    writes.push(Write::update(Key::of(&item)?, expr));
                    writes.push(Write::delete(marker.key.clone(), Expr::default()));
                    stats.delivery(Some(&before), &after);
                }
            }
            writes.extend(stats.into_writes(chatbot));

            match self.transact(writes).await? {
                Transacted::Committed => {
                    return Ok(Recorded {
                        duplicate: false,
                        conversation: next,
                    });
                }
                outcome if outcome.failed(0) => {
                    return Ok(Recorded {
                        duplicate: true,
                        conversation: current,
                    });
                }
                // Another write to this conversation came first: read again.
                Transacted::ConditionFailed(_) | Transacted::Conflict => backoff(attempt).await,
            }
        }
        Err(super::contention())
    }

    async fn record_business_message(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        message_id: &str,
        sent_at: Timestamp,
        text: Option<String>,
    ) -> Result<bool, StoreError> {
        // The conversation first, then the line: a crash in between leaves a conversation
        // without the line, which Meta's redelivery adds; never a line without its
        // conversation. A stale read only costs an update that changes nothing.
        let known = self
            .get_with(keys::state(chatbot, conversation), false)
            .await?
            .is_some_and(|item| item.contains_key(SILENCE_PERIOD));
        if !known {
            let mut expr = Expr::default();
            ensure_conversation(&mut expr, chatbot, conversation);
            self.write_retrying(Write::update(keys::state(chatbot, conversation), expr))
                .await?;
        }
        let mut once = Expr::default();
        let new_line = once.absent(keys::PK);
        once.require(new_line);
        let line = transcript_item(
            chatbot,
            conversation,
            message_id,
            sent_at,
            Speaker::Business,
            text,
        );
        match self.write_retrying(Write::put(line, once)).await? {
            Written::Done(_) => Ok(true),
            Written::ConditionFailed(_) => Ok(false),
            Written::Conflict => Err(super::contention()),
        }
    }

    async fn transcript(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
    ) -> Result<Vec<TranscriptLine>, StoreError> {
        // The newest lines, read backwards and bounded here; older ones cost nothing.
        let items = self
            .query(
                Query::table(
                    keys::conversation_pk(chatbot, conversation),
                    SortKey::BeginsWith(keys::TRANSCRIPT_PREFIX.to_owned()),
                )
                .backwards()
                .limit(TRANSCRIPT_LINES),
            )
            .await?;
        let mut lines = items
            .iter()
            .map(|item| {
                Ok(TranscriptLine {
                    speaker: if item.str("speaker")? == "business" {
                        Speaker::Business
                    } else {
                        Speaker::Customer
                    },
                    at: Timestamp::from_millis(item.i64("at")?),
                    text: item.opt_str("text")?.unwrap_or_default().to_owned(),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        lines.reverse();
        Ok(lines)
    }

    async fn get_conversation(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
    ) -> Result<Option<Conversation>, StoreError> {
        Ok(self.read_state(chatbot, conversation).await?.conversation)
    }

    async fn list_conversations(
        &self,
        chatbot: &ChatbotId,
        limit: usize,
    ) -> Result<Vec<ConversationSummary>, StoreError> {
        self.query(Query::gsi1(keys::conversations_gsi1pk(chatbot)).limit(limit))
            .await?
            .iter()
            .map(conversation_from)
            .collect()
    }

    async fn pending_follow_ups(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
    ) -> Result<Vec<PendingFollowUp>, StoreError> {
        let mut pending = self
            .query(Query::table(
                keys::conversation_pk(chatbot, conversation),
                SortKey::BeginsWith(PENDING_PREFIX.to_owned()),
            ))
            .await?
            .iter()
            .map(pending_from)
            .collect::<Result<Vec<_>, _>>()?;
        pending.sort_by(|a, b| (a.due_at, &a.follow_up_id).cmp(&(b.due_at, &b.follow_up_id)));
        Ok(pending)
    }

    async fn pending_for_follow_up(
        &self,
        chatbot: &ChatbotId,
        follow_up: &FollowUpId,
    ) -> Result<Vec<PendingFollowUp>, StoreError> {
        self.query(Query::gsi1(keys::pending_gsi1pk(chatbot, follow_up)))
            .await?
            .iter()
            .map(pending_from)
            .collect()
    }

    async fn commit_plan(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        silence_period: u64,
        pending: Vec<PendingFollowUp>,
        log: Vec<LogEntry>,
    ) -> Result<bool, StoreError> {
        for attempt in 0..ATTEMPTS {
            let (state, previous) = self.state_and_pending(chatbot, conversation, None).await?;
            let Some(current) = state.conversation else {
                return Ok(false);
            };
            if current.silence_period != silence_period {
                return Ok(false);
            }
            let mut update = Expr::default();
            let still_current = update.equals(SILENCE_PERIOD, n(silence_period));
            update.require(still_current).set(
                PLANNED_PERIOD,
                n(current.planned_period.max(silence_period)),
            );
            let batch = log::append(&mut update, chatbot, conversation, state.log_seq, &log)?;
            let mut writes = vec![Write::update(keys::state(chatbot, conversation), update)];
            // The pending set becomes `pending`: puts replace same-key entries, the rest go.
            for old in previous
                .iter()
                .filter(|old| !pending.iter().any(|p| p.follow_up_id == old.follow_up_id))
            {
                writes.push(Write::delete(
                    keys::pending(chatbot, conversation, &old.follow_up_id),
                    Expr::default(),
                ));
            }
            for item in &pending {
                writes.push(Write::put(
                    pending_item(chatbot, conversation, item),
                    Expr::default(),
                ));
            }
            writes.extend(batch);
            let mut stats = StatsDelta::default();
            stats.log(&log);
            writes.extend(stats.into_writes(chatbot));
            match self.transact(writes).await? {
                Transacted::Committed => return Ok(true),
                // The period moved or the log grew: the next read tells which.
                Transacted::ConditionFailed(_) | Transacted::Conflict => backoff(attempt).await,
            }
        }
        Err(super::contention())
    }

    async fn settle_pending(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        follow_up: &FollowUpId,
        silence_period: u64,
        log: Vec<LogEntry>,
    ) -> Result<bool, StoreError> {
        for attempt in 0..ATTEMPTS {
            let (state, pending) = self
                .state_and_pending(chatbot, conversation, Some(follow_up))
                .await?;
            let is_pending = pending
                .iter()
                .any(|p| p.follow_up_id == *follow_up && p.silence_period == silence_period);
            if !is_pending {
                return Ok(false);
            }
            let delete = Write::delete(
                keys::pending(chatbot, conversation, follow_up),
                pending_for_period(silence_period),
            );
            match self
                .transact_with_log(
                    chatbot,
                    conversation,
                    state.log_seq,
                    vec![delete],
                    &log,
                    StatsDelta::default(),
                )
                .await?
            {
                Transacted::Committed => return Ok(true),
                Transacted::ConditionFailed(_) => return Ok(false),
                Transacted::Conflict => backoff(attempt).await,
            }
        }
        Err(super::contention())
    }

    async fn append_log(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        log: Vec<LogEntry>,
    ) -> Result<(), StoreError> {
        if log.is_empty() {
            return Ok(());
        }
        for attempt in 0..ATTEMPTS {
            let state = self.read_state(chatbot, conversation).await?;
            match self
                .transact_with_log(
                    chatbot,
                    conversation,
                    state.log_seq,
                    Vec::new(),
                    &log,
                    StatsDelta::default(),
                )
                .await?
            {
                Transacted::Committed => return Ok(()),
                Transacted::ConditionFailed(_) | Transacted::Conflict => backoff(attempt).await,
            }
        }
        Err(super::contention())
    }

    async fn conversation_log(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<LogPage, StoreError> {
        self.read_log(chatbot, conversation, before, limit).await
    }
}

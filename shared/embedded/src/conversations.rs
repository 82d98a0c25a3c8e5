//! Conversations, transcripts, pending follow-ups and the conversation log in SQLite.

use async_trait::async_trait;
use followup_domain::{
    ChatbotId, Conversation, ConversationId, FollowUpId, LogEntry, LogEvent, Timestamp,
};
use followup_ports::{
    ConversationStore, ConversationSummary, InboundMessage, LogPage, PendingFollowUp, Recorded,
    Speaker, StoreError, TranscriptLine,
};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};

use crate::sqlite::{SqliteStore, unavailable};

/// A customer message this soon after a sent follow-up counts as a reply to it.
const REPLY_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// Lines kept per conversation for the judge; older ones are dropped.
pub const TRANSCRIPT_LINES: usize = 40;
/// Characters kept per transcript line.
pub const TRANSCRIPT_LINE_CHARS: usize = 2000;

fn conversion(column: usize, message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, message.into())
}

fn read_conversation(row: &Row<'_>) -> rusqlite::Result<Conversation> {
    let chatbot: String = row.get(0)?;
    let id: String = row.get(1)?;
    Ok(Conversation {
        chatbot_id: ChatbotId::parse(&chatbot).map_err(|e| conversion(0, e.message))?,
        id: ConversationId::parse(&id).map_err(|e| conversion(1, e.message))?,
        last_customer_message_at: row.get::<_, Option<i64>>(2)?.map(Timestamp::from_millis),
        silence_period: u64::try_from(row.get::<_, i64>(3)?)
            .map_err(|e| conversion(3, e.to_string()))?,
        planned_period: u64::try_from(row.get::<_, i64>(4)?)
            .map_err(|e| conversion(4, e.to_string()))?,
        profile_name: row.get(5)?,
        stopped_period: row
            .get::<_, Option<i64>>(6)?
            .map(|p| u64::try_from(p).map_err(|e| conversion(6, e.to_string())))
            .transpose()?,
    })
}

const SELECT_CONVERSATION: &str = "SELECT chatbot_id, id, last_customer_message_at, silence_period, \
     planned_period, profile_name, stopped_period FROM conversations";

pub(crate) fn load_conversation(
    conn: &Connection,
    chatbot: &ChatbotId,
    id: &ConversationId,
) -> Result<Option<Conversation>, StoreError> {
    conn.prepare_cached(&format!(
        "{SELECT_CONVERSATION} WHERE chatbot_id = ?1 AND id = ?2"
    ))
    .and_then(|mut s| {
        s.query_row(params![chatbot.as_str(), id.as_str()], read_conversation)
            .optional()
    })
    .map_err(unavailable)
}

pub(crate) fn save_conversation(conn: &Connection, c: &Conversation) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO conversations
           (chatbot_id, id, last_customer_message_at, silence_period, planned_period, profile_name,
            stopped_period)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            c.chatbot_id.as_str(),
            c.id.as_str(),
            c.last_customer_message_at.map(Timestamp::as_millis),
            i64::try_from(c.silence_period).map_err(unavailable)?,
            i64::try_from(c.planned_period).map_err(unavailable)?,
            c.profile_name,
            c.stopped_period
                .map(i64::try_from)
                .transpose()
                .map_err(unavailable)?,
        ],
    )
    .map_err(unavailable)?;
    Ok(())
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

fn truncate(text: Option<String>) -> Option<String> {
    text.map(|t| {
        if t.chars().count() > TRANSCRIPT_LINE_CHARS {
            t.chars().take(TRANSCRIPT_LINE_CHARS).collect()
        } else {
            t
        }
    })
}

/// Inserts a transcript line once per message id and drops lines beyond the bound.
/// Returns false when the message id was already there.
fn add_transcript_line(
    tx: &Transaction<'_>,
    chatbot: &ChatbotId,
    conversation: &ConversationId,
    message_id: &str,
    at: Timestamp,
    speaker: &str,
    text: Option<String>,
) -> Result<bool, StoreError> {
    let inserted = tx
        .execute(
            "INSERT OR IGNORE INTO transcript (chatbot_id, conversation_id, message_id, at, speaker, text)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![chatbot.as_str(), conversation.as_str(), message_id, at.as_millis(), speaker, truncate(text)],
        )
        .map_err(unavailable)?;
    if inserted > 0 {
        tx.execute(
            "DELETE FROM transcript WHERE chatbot_id = ?1 AND conversation_id = ?2 AND message_id NOT IN (
                 SELECT message_id FROM transcript WHERE chatbot_id = ?1 AND conversation_id = ?2
                 ORDER BY at DESC, message_id DESC LIMIT ?3)",
            params![chatbot.as_str(), conversation.as_str(), TRANSCRIPT_LINES as i64],
        )
        .map_err(unavailable)?;
    }
    Ok(inserted > 0)
}

pub(crate) fn append_entries(
    conn: &Connection,
    chatbot: &ChatbotId,
    conversation: &ConversationId,
    entries: &[LogEntry],
) -> Result<(), StoreError> {
    let mut statement = conn
        .prepare_cached(
            "INSERT INTO conversation_log (chatbot_id, conversation_id, entry, follow_up_id, kind, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(unavailable)?;
    for entry in entries {
        let json = serde_json::to_string(entry).map_err(unavailable)?;
        statement
            .execute(params![
                chatbot.as_str(),
                conversation.as_str(),
                json,
                entry.event.follow_up_id().map(FollowUpId::as_str),
                entry.event.kind(),
                entry.event.reason(),
            ])
            .map_err(unavailable)?;
    }
    Ok(())
}

fn read_pending(row: &Row<'_>) -> rusqlite::Result<PendingFollowUp> {
    let conversation: String = row.get(0)?;
    let follow_up: String = row.get(1)?;
    Ok(PendingFollowUp {
        conversation_id: ConversationId::parse(&conversation)
            .map_err(|e| conversion(0, e.message))?,
        follow_up_id: FollowUpId::parse(&follow_up).map_err(|e| conversion(1, e.message))?,
        silence_period: u64::try_from(row.get::<_, i64>(2)?)
            .map_err(|e| conversion(2, e.to_string()))?,
        due_at: Timestamp::from_millis(row.get(3)?),
    })
}

const SELECT_PENDING: &str =
    "SELECT conversation_id, follow_up_id, silence_period, due_at FROM pending_follow_ups";

fn immediate(conn: &mut Connection) -> Result<Transaction<'_>, StoreError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(unavailable)
}

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn record_customer_message(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        message: InboundMessage,
    ) -> Result<Recorded, StoreError> {
        let (chatbot, id) = (chatbot.clone(), conversation.clone());
        self.with_conn(move |conn| {
            let tx = immediate(conn)?;
            let inserted = tx
                .execute(
                    "INSERT OR IGNORE INTO inbound_messages (chatbot_id, message_id, conversation_id, received_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![chatbot.as_str(), message.message_id, id.as_str(), message.received_at.as_millis()],
                )
                .map_err(unavailable)?;
            let mut state = load_conversation(&tx, &chatbot, &id)?.unwrap_or_else(|| empty_conversation(&chatbot, &id));
            if inserted == 0 {
                return Ok(Recorded { duplicate: true, conversation: state });
            }
            // Only a message newer than the newest one starts a silence period: a late,
            // out-of-order delivery joins the transcript but moves nothing backwards.
            if state.last_customer_message_at.is_none_or(|last| message.sent_at > last) {
                state.last_customer_message_at = Some(message.sent_at);
                state.silence_period += 1;
            }
            if message.profile_name.is_some() {
                state.profile_name.clone_from(&message.profile_name);
            }
            save_conversation(&tx, &state)?;
            // A customer message within 24 h of a sent follow-up counts as its reply.
            tx.execute(
                "UPDATE deliveries SET replied_at = ?3
                 WHERE chatbot_id = ?1 AND conversation_id = ?2 AND replied_at IS NULL
                   AND sent_at IS NOT NULL AND sent_at <= ?3 AND ?3 - sent_at <= ?4",
                params![chatbot.as_str(), id.as_str(), message.sent_at.as_millis(), REPLY_WINDOW_MS],
            )
            .map_err(unavailable)?;
            add_transcript_line(&tx, &chatbot, &id, &message.message_id, message.sent_at, "customer", message.text)?;
            append_entries(
                &tx,
                &chatbot,
                &id,
                &[LogEntry {
                    at: message.received_at,
                    event: LogEvent::CustomerMessage {
                        message_id: message.message_id,
                        message_kind: message.kind,
                        sent_at: message.sent_at,
                        silence_period: state.silence_period,
                    },
                }],
            )?;
            tx.commit().map_err(unavailable)?;
            Ok(Recorded { duplicate: false, conversation: state })
        })
        .await
    }

    async fn record_business_message(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        message_id: &str,
        sent_at: Timestamp,
        text: Option<String>,
    ) -> Result<bool, StoreError> {
        let (chatbot, id, message_id) =
            (chatbot.clone(), conversation.clone(), message_id.to_owned());
        self.with_conn(move |conn| {
            let tx = immediate(conn)?;
            if load_conversation(&tx, &chatbot, &id)?.is_none() {
                save_conversation(&tx, &empty_conversation(&chatbot, &id))?;
            }
            let added =
                add_transcript_line(&tx, &chatbot, &id, &message_id, sent_at, "business", text)?;
            tx.commit().map_err(unavailable)?;
            Ok(added)
        })
        .await
    }

    async fn transcript(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
    ) -> Result<Vec<TranscriptLine>, StoreError> {
        let (chatbot, id) = (chatbot.clone(), conversation.clone());
        self.with_conn(move |conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT speaker, at, text FROM transcript WHERE chatbot_id = ?1 AND conversation_id = ?2
                     ORDER BY at, message_id",
                )
                .map_err(unavailable)?;
            let rows = statement
                .query_map(params![chatbot.as_str(), id.as_str()], |row| {
                    let speaker: String = row.get(0)?;
                    Ok(TranscriptLine {
                        speaker: if speaker == "business" { Speaker::Business } else { Speaker::Customer },
                        at: Timestamp::from_millis(row.get(1)?),
                        text: row.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    })
                })
                .map_err(unavailable)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(unavailable)
        })
        .await
    }

    async fn get_conversation(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
    ) -> Result<Option<Conversation>, StoreError> {
        let (chatbot, id) = (chatbot.clone(), conversation.clone());
        self.with_conn(move |conn| load_conversation(conn, &chatbot, &id))
            .await
    }

    async fn list_conversations(
        &self,
        chatbot: &ChatbotId,
        limit: usize,
    ) -> Result<Vec<ConversationSummary>, StoreError> {
        let chatbot = chatbot.clone();
        self.with_conn(move |conn| {
            let mut statement = conn
                .prepare_cached(&format!(
                    "{SELECT_CONVERSATION} WHERE chatbot_id = ?1
                     ORDER BY last_customer_message_at IS NULL, last_customer_message_at DESC, id LIMIT ?2"
                ))
                .map_err(unavailable)?;
            let rows = statement
                .query_map(params![chatbot.as_str(), i64::try_from(limit).unwrap_or(i64::MAX)], read_conversation)
                .map_err(unavailable)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(unavailable)
        })
        .await
    }

    async fn pending_follow_ups(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
    ) -> Result<Vec<PendingFollowUp>, StoreError> {
        let (chatbot, id) = (chatbot.clone(), conversation.clone());
        self.with_conn(move |conn| {
            let mut statement = conn
                .prepare_cached(&format!(
                    "{SELECT_PENDING} WHERE chatbot_id = ?1 AND conversation_id = ?2 ORDER BY due_at, follow_up_id"
                ))
                .map_err(unavailable)?;
            let rows = statement
                .query_map(params![chatbot.as_str(), id.as_str()], read_pending)
                .map_err(unavailable)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(unavailable)
        })
        .await
    }

    async fn pending_for_follow_up(
        &self,
        chatbot: &ChatbotId,
        follow_up: &FollowUpId,
    ) -> Result<Vec<PendingFollowUp>, StoreError> {
        let (chatbot, follow_up) = (chatbot.clone(), follow_up.clone());
        self.with_conn(move |conn| {
            let mut statement = conn
                .prepare_cached(&format!(
                    "{SELECT_PENDING} WHERE chatbot_id = ?1 AND follow_up_id = ?2 ORDER BY conversation_id"
                ))
                .map_err(unavailable)?;
            let rows = statement
                .query_map(params![chatbot.as_str(), follow_up.as_str()], read_pending)
                .map_err(unavailable)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(unavailable)
        })
        .await
    }

    async fn commit_plan(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        silence_period: u64,
        pending: Vec<PendingFollowUp>,
        log: Vec<LogEntry>,
    ) -> Result<bool, StoreError> {
        let (chatbot, id) = (chatbot.clone(), conversation.clone());
        self.with_conn(move |conn| {
            let tx = immediate(conn)?;
            let Some(mut state) = load_conversation(&tx, &chatbot, &id)? else {
                return Ok(false);
            };
            if state.silence_period != silence_period {
                return Ok(false);
            }
            tx.execute(
                "DELETE FROM pending_follow_ups WHERE chatbot_id = ?1 AND conversation_id = ?2",
                params![chatbot.as_str(), id.as_str()],
            )
            .map_err(unavailable)?;
            for item in &pending {
                tx.execute(
                    "INSERT INTO pending_follow_ups (chatbot_id, conversation_id, follow_up_id, silence_period, due_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        chatbot.as_str(),
                        id.as_str(),
                        item.follow_up_id.as_str(),
                        i64::try_from(item.silence_period).map_err(unavailable)?,
                        item.due_at.as_millis(),
                    ],
                )
                .map_err(unavailable)?;
            }
            append_entries(&tx, &chatbot, &id, &log)?;
            state.planned_period = state.planned_period.max(silence_period);
            save_conversation(&tx, &state)?;
            tx.commit().map_err(unavailable)?;
            Ok(true)
        })
        .await
    }

    async fn settle_pending(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        follow_up: &FollowUpId,
        silence_period: u64,
        log: Vec<LogEntry>,
    ) -> Result<bool, StoreError> {
        let (chatbot, id, follow_up) = (chatbot.clone(), conversation.clone(), follow_up.clone());
        self.with_conn(move |conn| {
            let tx = immediate(conn)?;
            let removed = tx
                .execute(
                    "DELETE FROM pending_follow_ups
                     WHERE chatbot_id = ?1 AND conversation_id = ?2 AND follow_up_id = ?3 AND silence_period = ?4",
                    params![
                        chatbot.as_str(),
                        id.as_str(),
                        follow_up.as_str(),
                        i64::try_from(silence_period).map_err(unavailable)?
                    ],
                )
                .map_err(unavailable)?;
            if removed == 0 {
                return Ok(false);
            }
            append_entries(&tx, &chatbot, &id, &log)?;
            tx.commit().map_err(unavailable)?;
            Ok(true)
        })
        .await
    }

    async fn append_log(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        log: Vec<LogEntry>,
    ) -> Result<(), StoreError> {
        let (chatbot, id) = (chatbot.clone(), conversation.clone());
        self.with_conn(move |conn| append_entries(conn, &chatbot, &id, &log))
            .await
    }

    async fn conversation_log(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<LogPage, StoreError> {
        let (chatbot, id) = (chatbot.clone(), conversation.clone());
        self.with_conn(move |conn| {
            let before = before.map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
            // One more than asked tells whether another page follows.
            let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
            let mut statement = conn
                .prepare_cached(
                    "SELECT seq, entry FROM conversation_log
                     WHERE chatbot_id = ?1 AND conversation_id = ?2 AND seq < ?3
                     ORDER BY seq DESC LIMIT ?4",
                )
                .map_err(unavailable)?;
            let rows = statement
                .query_map(
                    params![chatbot.as_str(), id.as_str(), before, fetch],
                    |row| {
                        let seq: i64 = row.get(0)?;
                        let entry: String = row.get(1)?;
                        let entry: LogEntry = serde_json::from_str(&entry)
                            .map_err(|e| conversion(1, e.to_string()))?;
                        Ok((u64::try_from(seq).unwrap_or_default(), entry))
                    },
                )
                .map_err(unavailable)?;
            let mut entries = rows
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(unavailable)?;
            let next_before = if entries.len() > limit {
                entries.truncate(limit);
                entries.last().map(|(seq, _)| *seq)
            } else {
                None
            };
            Ok(LogPage {
                entries,
                next_before,
            })
        })
        .await
    }
}

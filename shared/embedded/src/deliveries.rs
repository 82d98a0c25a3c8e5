//! Deliveries in SQLite: the claim that makes sending at most once, outcomes, WhatsApp
//! statuses, replies and per-follow-up statistics.

use std::collections::BTreeMap;

use async_trait::async_trait;
use followup_domain::{ChatbotId, ConversationId, FollowUpId, LogEntry, Timestamp};
use followup_ports::{
    Claim, Delivery, DeliveryStatus, DeliveryStore, DeliveryUpdate, FollowUpStats, StoreError,
};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use crate::conversations::{append_entries, load_conversation, save_conversation};
use crate::sqlite::{SqliteStore, unavailable};

const SELECT: &str = "SELECT id, chatbot_id, conversation_id, follow_up_id, silence_period, status, sent_as, \
     template_name, platform_message_id, detail, created_at, updated_at, sent_at, replied_at, lease_until, \
     attempt_started_at FROM deliveries";

fn conversion(column: usize, message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, message.into())
}

fn read_delivery(row: &Row<'_>) -> rusqlite::Result<Delivery> {
    let chatbot: String = row.get(1)?;
    let conversation: String = row.get(2)?;
    let follow_up: String = row.get(3)?;
    let status: String = row.get(5)?;
    Ok(Delivery {
        id: row.get(0)?,
        chatbot_id: ChatbotId::parse(&chatbot).map_err(|e| conversion(1, e.message))?,
        conversation_id: ConversationId::parse(&conversation)
            .map_err(|e| conversion(2, e.message))?,
        follow_up_id: FollowUpId::parse(&follow_up).map_err(|e| conversion(3, e.message))?,
        silence_period: u64::try_from(row.get::<_, i64>(4)?)
            .map_err(|e| conversion(4, e.to_string()))?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| conversion(5, format!("unknown status {status}")))?,
        sent_as: row.get(6)?,
        template_name: row.get(7)?,
        platform_message_id: row.get(8)?,
        detail: row.get(9)?,
        created_at: Timestamp::from_millis(row.get(10)?),
        updated_at: Timestamp::from_millis(row.get(11)?),
        sent_at: row.get::<_, Option<i64>>(12)?.map(Timestamp::from_millis),
        replied_at: row.get::<_, Option<i64>>(13)?.map(Timestamp::from_millis),
        lease_until: row.get::<_, Option<i64>>(14)?.map(Timestamp::from_millis),
        attempt_started_at: row.get::<_, Option<i64>>(15)?.map(Timestamp::from_millis),
    })
}

fn by_key(
    conn: &Connection,
    chatbot: &ChatbotId,
    conversation: &ConversationId,
    follow_up: &FollowUpId,
    period: i64,
) -> Result<Option<Delivery>, StoreError> {
    conn.prepare_cached(&format!(
        "{SELECT} WHERE chatbot_id = ?1 AND conversation_id = ?2 AND follow_up_id = ?3 AND silence_period = ?4"
    ))
    .and_then(|mut s| {
        s.query_row(params![chatbot.as_str(), conversation.as_str(), follow_up.as_str(), period], read_delivery)
            .optional()
    })
    .map_err(unavailable)
}

fn by_id(conn: &Connection, chatbot: &ChatbotId, id: &str) -> Result<Option<Delivery>, StoreError> {
    conn.prepare_cached(&format!("{SELECT} WHERE chatbot_id = ?1 AND id = ?2"))
        .and_then(|mut s| {
            s.query_row(params![chatbot.as_str(), id], read_delivery)
                .optional()
        })
        .map_err(unavailable)
}

fn period(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(unavailable)
}

/// Order of WhatsApp statuses; a status webhook never moves a delivery backwards.
fn progress(status: DeliveryStatus) -> u8 {
    match status {
        DeliveryStatus::Claimed | DeliveryStatus::Throttled => 0,
        DeliveryStatus::Sent | DeliveryStatus::Unknown => 1,
        DeliveryStatus::Delivered => 2,
        DeliveryStatus::Read => 3,
        DeliveryStatus::Failed | DeliveryStatus::Skipped => 4,
    }
}

#[async_trait]
impl DeliveryStore for SqliteStore {
    async fn find_delivery(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        follow_up: &FollowUpId,
        silence_period: u64,
    ) -> Result<Option<Delivery>, StoreError> {
        let (chatbot, conversation, follow_up) =
            (chatbot.clone(), conversation.clone(), follow_up.clone());
        self.with_conn(move |conn| {
            by_key(
                conn,
                &chatbot,
                &conversation,
                &follow_up,
                period(silence_period)?,
            )
        })
        .await
    }

    async fn claim_delivery(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        follow_up: &FollowUpId,
        silence_period: u64,
        delivery_id: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Claim, StoreError> {
        let (chatbot, conversation, follow_up, delivery_id) = (
            chatbot.clone(),
            conversation.clone(),
            follow_up.clone(),
            delivery_id.to_owned(),
        );
        self.with_conn(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let p = period(silence_period)?;
            let retake = |existing: &Delivery, keep_attempt: bool| {
                tx.execute(
                    "UPDATE deliveries SET status = 'claimed', updated_at = ?2, claim_token = ?3, lease_until = ?4,
                            attempt_started_at = CASE WHEN ?5 THEN attempt_started_at END
                     WHERE id = ?1",
                    params![existing.id, now.as_millis(), delivery_id, lease_until.as_millis(), keep_attempt],
                )
                .map_err(unavailable)
            };
            let claim = match by_key(&tx, &chatbot, &conversation, &follow_up, p)? {
                Some(existing) if existing.status == DeliveryStatus::Throttled => {
                    retake(&existing, false)?;
                    Claim::Claimed(existing.id)
                }
                Some(existing)
                    if existing.status == DeliveryStatus::Claimed
                        && existing.lease_until.is_none_or(|lease| lease < now) =>
                {
                    retake(&existing, true)?;
                    Claim::TakenOver {
                        id: existing.id,
                        attempt_started_at: existing.attempt_started_at,
                    }
                }
                Some(existing) => Claim::Taken(Box::new(existing)),
                None => {
                    tx.execute(
                        "INSERT INTO deliveries (id, chatbot_id, conversation_id, follow_up_id, silence_period,
                                                 status, created_at, updated_at, claim_token, lease_until)
                         VALUES (?1, ?2, ?3, ?4, ?5, 'claimed', ?6, ?6, ?1, ?7)",
                        params![delivery_id, chatbot.as_str(), conversation.as_str(), follow_up.as_str(), p,
                                now.as_millis(), lease_until.as_millis()],
                    )
                    .map_err(unavailable)?;
                    Claim::Claimed(delivery_id.clone())
                }
            };
            tx.commit().map_err(unavailable)?;
            Ok(claim)
        })
        .await
    }

    async fn start_attempt(
        &self,
        chatbot: &ChatbotId,
        delivery_id: &str,
        token: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let (chatbot, delivery_id, token) =
            (chatbot.clone(), delivery_id.to_owned(), token.to_owned());
        self.with_conn(move |conn| {
            let changed = conn
                .execute(
                    "UPDATE deliveries SET attempt_started_at = ?4, updated_at = ?4
                     WHERE chatbot_id = ?1 AND id = ?2 AND status = 'claimed' AND claim_token = ?3",
                    params![chatbot.as_str(), delivery_id, token, now.as_millis()],
                )
                .map_err(unavailable)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn release_claim(
        &self,
        chatbot: &ChatbotId,
        delivery_id: &str,
    ) -> Result<(), StoreError> {
        let (chatbot, delivery_id) = (chatbot.clone(), delivery_id.to_owned());
        self.with_conn(move |conn| {
            conn.execute(
                "DELETE FROM deliveries WHERE chatbot_id = ?1 AND id = ?2 AND status = 'claimed'",
                params![chatbot.as_str(), delivery_id],
            )
            .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn mark_throttled(
        &self,
        chatbot: &ChatbotId,
        delivery_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let (chatbot, delivery_id) = (chatbot.clone(), delivery_id.to_owned());
        self.with_conn(move |conn| {
            conn.execute(
                "UPDATE deliveries SET status = 'throttled', updated_at = ?3, attempt_started_at = NULL,
                        lease_until = NULL
                 WHERE chatbot_id = ?1 AND id = ?2 AND status = 'claimed'",
                params![chatbot.as_str(), delivery_id, now.as_millis()],
            )
            .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn finish_delivery(
        &self,
        chatbot: &ChatbotId,
        delivery_id: &str,
        update: DeliveryUpdate,
        log: Vec<LogEntry>,
    ) -> Result<(), StoreError> {
        let (chatbot, delivery_id) = (chatbot.clone(), delivery_id.to_owned());
        self.with_conn(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let delivery = by_id(&tx, &chatbot, &delivery_id)?.ok_or(StoreError::NotFound)?;
            let sent_at = matches!(update.status, DeliveryStatus::Sent | DeliveryStatus::Unknown)
                .then_some(update.at.as_millis());
            tx.execute(
                "UPDATE deliveries SET status = ?2, sent_as = ?3, template_name = ?4, platform_message_id = ?5,
                        detail = ?6, updated_at = ?7, sent_at = COALESCE(sent_at, ?8),
                        lease_until = NULL, claim_token = NULL
                 WHERE id = ?1",
                params![
                    delivery_id,
                    update.status.as_str(),
                    update.sent_as,
                    update.template_name,
                    update.platform_message_id,
                    update.detail,
                    update.at.as_millis(),
                    sent_at,
                ],
            )
            .map_err(unavailable)?;
            tx.execute(
                "DELETE FROM pending_follow_ups
                 WHERE chatbot_id = ?1 AND conversation_id = ?2 AND follow_up_id = ?3 AND silence_period = ?4",
                params![
                    chatbot.as_str(),
                    delivery.conversation_id.as_str(),
                    delivery.follow_up_id.as_str(),
                    period(delivery.silence_period)?
                ],
            )
            .map_err(unavailable)?;
            append_entries(&tx, &chatbot, &delivery.conversation_id, &log)?;
            tx.commit().map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn record_delivery_status(
        &self,
        chatbot: &ChatbotId,
        delivery_id: &str,
        status: DeliveryStatus,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let (chatbot, delivery_id) = (chatbot.clone(), delivery_id.to_owned());
        self.with_conn(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let Some(current) = by_id(&tx, &chatbot, &delivery_id)? else {
                return Ok(false);
            };
            let moves_forward = progress(status) > progress(current.status)
                && !matches!(
                    current.status,
                    DeliveryStatus::Failed | DeliveryStatus::Skipped
                );
            if !moves_forward {
                return Ok(false);
            }
            tx.execute(
                "UPDATE deliveries SET status = ?2, updated_at = ?3 WHERE id = ?1",
                params![delivery_id, status.as_str(), at.as_millis()],
            )
            .map_err(unavailable)?;
            tx.commit().map_err(unavailable)?;
            Ok(true)
        })
        .await
    }

    async fn list_deliveries(
        &self,
        chatbot: &ChatbotId,
        follow_up: &FollowUpId,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let (chatbot, follow_up) = (chatbot.clone(), follow_up.clone());
        self.with_conn(move |conn| {
            let mut statement = conn
                .prepare_cached(&format!(
                    "{SELECT} WHERE chatbot_id = ?1 AND follow_up_id = ?2 ORDER BY created_at DESC, id DESC LIMIT ?3"
                ))
                .map_err(unavailable)?;
            let rows = statement
                .query_map(
                    params![chatbot.as_str(), follow_up.as_str(), i64::try_from(limit).unwrap_or(i64::MAX)],
                    read_delivery,
                )
                .map_err(unavailable)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(unavailable)
        })
        .await
    }

    async fn follow_up_stats(
        &self,
        chatbot: &ChatbotId,
        follow_up: &FollowUpId,
    ) -> Result<FollowUpStats, StoreError> {
        let (chatbot, follow_up) = (chatbot.clone(), follow_up.clone());
        self.with_conn(move |conn| {
            let mut stats = FollowUpStats::default();
            let mut statement = conn
                .prepare_cached(
                    "SELECT kind, reason, COUNT(*) FROM conversation_log
                     WHERE chatbot_id = ?1 AND follow_up_id = ?2 GROUP BY kind, reason",
                )
                .map_err(unavailable)?;
            let rows = statement
                .query_map(params![chatbot.as_str(), follow_up.as_str()], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?, row.get::<_, i64>(2)?))
                })
                .map_err(unavailable)?;
            for row in rows {
                let (kind, reason, count) = row.map_err(unavailable)?;
                let count = u64::try_from(count).unwrap_or_default();
                let by_reason = |map: &mut BTreeMap<String, u64>| {
                    *map.entry(reason.clone().unwrap_or_default()).or_default() += count;
                };
                match kind.as_str() {
                    "scheduled" => stats.scheduled += count,
                    "cancelled" => by_reason(&mut stats.cancelled),
                    "dropped" => by_reason(&mut stats.dropped),
                    "skipped" => by_reason(&mut stats.skipped),
                    "stopped" => stats.stopped += count,
                    "failed" => stats.failed += count,
                    "outcome_unknown" => stats.outcome_unknown += count,
                    _ => {}
                }
            }
            let (sent, replied): (i64, i64) = conn
                .query_row(
                    "SELECT COUNT(sent_at), COUNT(replied_at) FROM deliveries
                     WHERE chatbot_id = ?1 AND follow_up_id = ?2 AND status IN ('sent', 'delivered', 'read')",
                    params![chatbot.as_str(), follow_up.as_str()],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .map_err(unavailable)?;
            stats.sent = u64::try_from(sent).unwrap_or_default();
            stats.replied = u64::try_from(replied).unwrap_or_default();
            Ok(stats)
        })
        .await
    }

    async fn stop_conversation(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        silence_period: u64,
    ) -> Result<bool, StoreError> {
        let (chatbot, conversation) = (chatbot.clone(), conversation.clone());
        self.with_conn(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let Some(mut state) = load_conversation(&tx, &chatbot, &conversation)? else {
                return Ok(false);
            };
            if state.silence_period != silence_period {
                return Ok(false);
            }
            state.stopped_period = Some(silence_period);
            save_conversation(&tx, &state)?;
            tx.commit().map_err(unavailable)?;
            Ok(true)
        })
        .await
    }

    async fn reschedule_pending(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        follow_up: &FollowUpId,
        silence_period: u64,
        due_at: Timestamp,
        log: Vec<LogEntry>,
    ) -> Result<bool, StoreError> {
        let (chatbot, conversation, follow_up) =
            (chatbot.clone(), conversation.clone(), follow_up.clone());
        self.with_conn(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let updated = tx
                .execute(
                    "UPDATE pending_follow_ups SET due_at = ?5
                     WHERE chatbot_id = ?1 AND conversation_id = ?2 AND follow_up_id = ?3 AND silence_period = ?4",
                    params![
                        chatbot.as_str(),
                        conversation.as_str(),
                        follow_up.as_str(),
                        period(silence_period)?,
                        due_at.as_millis()
                    ],
                )
                .map_err(unavailable)?;
            if updated == 0 {
                return Ok(false);
            }
            append_entries(&tx, &chatbot, &conversation, &log)?;
            tx.commit().map_err(unavailable)?;
            Ok(true)
        })
        .await
    }
}

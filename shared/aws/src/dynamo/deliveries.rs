//! Deliveries: the claim that makes sending at most once, outcomes, WhatsApp statuses,
//! replies and statistics.
//!
//! A delivery lives in its conversation's partition under `DLV#{follow-up}#{period}`, so
//! the claim is one conditional write on the key that must be unique. A delivery id is
//! found through a small pointer item (`DLVID#{chatbot}#{id}`) written before the claim:
//! a crash between the two leaves a pointer to nothing, never a delivery nobody can find.
//! Every change of a delivery is conditional on its version (`ver`), so the statistics
//! counters that change with it in the same transaction stay exact.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use followup_domain::{ChatbotId, ConversationId, FollowUpId, LogEntry, Timestamp};
use followup_ports::{
    Claim, Delivery, DeliveryStatus, DeliveryStore, DeliveryUpdate, FollowUpStats, StoreError,
};

use super::conversations::{SILENCE_PERIOD, State, pending_for_period};
use super::expr::Expr;
use super::item::{Item, ItemBuilder, Read, corrupt, n, s};
use super::keys::{self, GSI2_PK, GSI2_SK, Key};
use super::log::StatsDelta;
use super::{ATTEMPTS, DynamoStore, Query, Transacted, Write, Written, backoff};

/// The delivery's version, bumped by every write to it.
pub(crate) const VERSION: &str = "ver";
const STATUS: &str = "status";
const ID: &str = "id";
/// The claim's holder: the fresh id its `claim_delivery` call brought.
const CLAIM_TOKEN: &str = "claim_token";
const LEASE_UNTIL: &str = "lease_until";
const ATTEMPT_STARTED_AT: &str = "attempt_started_at";

/// A delivery and its version.
pub(crate) fn delivery_from(item: &Item) -> Result<(Delivery, u64), StoreError> {
    let status = item.str(STATUS)?;
    let timestamp = |attribute: &str| -> Result<Option<Timestamp>, StoreError> {
        Ok(item.opt_i64(attribute)?.map(Timestamp::from_millis))
    };
    let text = |attribute: &str| -> Result<Option<String>, StoreError> {
        Ok(item.opt_str(attribute)?.map(str::to_owned))
    };
    let delivery = Delivery {
        id: item.str(ID)?.to_owned(),
        chatbot_id: ChatbotId::parse(item.str("chatbot_id")?)
            .map_err(|e| corrupt("chatbot_id", e.message))?,
        conversation_id: ConversationId::parse(item.str("conversation_id")?)
            .map_err(|e| corrupt("conversation_id", e.message))?,
        follow_up_id: FollowUpId::parse(item.str("follow_up_id")?)
            .map_err(|e| corrupt("follow_up_id", e.message))?,
        silence_period: item.u64(SILENCE_PERIOD)?,
        status: DeliveryStatus::parse(status).ok_or_else(|| corrupt(STATUS, status))?,
        sent_as: text("sent_as")?,
        template_name: text("template_name")?,
        platform_message_id: text("platform_message_id")?,
        detail: text("detail")?,
        created_at: Timestamp::from_millis(item.i64("created_at")?),
        updated_at: Timestamp::from_millis(item.i64("updated_at")?),
        sent_at: timestamp("sent_at")?,
        replied_at: timestamp("replied_at")?,
        lease_until: timestamp(LEASE_UNTIL)?,
        attempt_started_at: timestamp(ATTEMPT_STARTED_AT)?,
    };
    Ok((delivery, item.u64(VERSION)?))
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

/// The condition "unchanged since read at `version`".
fn at_version(version: u64) -> Expr {
    let mut expr = Expr::default();
    let unchanged = expr.equals(VERSION, n(version));
    expr.require(unchanged);
    expr
}

/// Where a delivery id points: the delivery's (conversation, follow-up, period).
struct Pointer {
    conversation: ConversationId,
    follow_up: FollowUpId,
    silence_period: u64,
}

impl Pointer {
    fn from(item: &Item) -> Result<Self, StoreError> {
        Ok(Self {
            conversation: ConversationId::parse(item.str("conversation_id")?)
                .map_err(|e| corrupt("conversation_id", e.message))?,
            follow_up: FollowUpId::parse(item.str("follow_up_id")?)
                .map_err(|e| corrupt("follow_up_id", e.message))?,
            silence_period: item.u64(SILENCE_PERIOD)?,
        })
    }

    fn key(&self, chatbot: &ChatbotId) -> Key {
        keys::delivery(
            chatbot,
            &self.conversation,
            &self.follow_up,
            self.silence_period,
        )
    }
}

impl DynamoStore {
    /// Where the delivery `delivery_id` of `chatbot` is, if it has one.
    async fn pointer(
        &self,
        chatbot: &ChatbotId,
        delivery_id: &str,
    ) -> Result<Option<Pointer>, StoreError> {
        self.get(keys::delivery_pointer(chatbot, delivery_id))
            .await?
            .map(|item| Pointer::from(&item))
            .transpose()
    }

    async fn delivery_key(
        &self,
        chatbot: &ChatbotId,
        delivery_id: &str,
    ) -> Result<Option<Key>, StoreError> {
        Ok(self
            .pointer(chatbot, delivery_id)
            .await?
            .map(|p| p.key(chatbot)))
    }

    /// The delivery behind `key` if it still has `delivery_id` (a pointer left by a lost
    /// claim points at another delivery's key).
    async fn delivery_with_id(
        &self,
        key: Key,
        delivery_id: &str,
    ) -> Result<Option<(Delivery, u64)>, StoreError> {
        match self.get(key).await? {
            Some(item) => {
                let (delivery, version) = delivery_from(&item)?;
                Ok((delivery.id == delivery_id).then_some((delivery, version)))
            }
            None => Ok(None),
        }
    }

    async fn forget_pointer(&self, chatbot: &ChatbotId, delivery_id: &str) {
        // Best effort: a left-over pointer is harmless (lookups check the id it leads to).
        let pointer = Write::delete(
            keys::delivery_pointer(chatbot, delivery_id),
            Expr::default(),
        );
        if let Err(error) = self.write(pointer).await {
            tracing::warn!(%error, "could not remove an unused delivery pointer");
        }
    }
}

#[async_trait]
impl DeliveryStore for DynamoStore {
    async fn find_delivery(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        follow_up: &FollowUpId,
        silence_period: u64,
    ) -> Result<Option<Delivery>, StoreError> {
        self.get(keys::delivery(
            chatbot,
            conversation,
            follow_up,
            silence_period,
        ))
        .await?
        .map(|item| delivery_from(&item).map(|(delivery, _)| delivery))
        .transpose()
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
        // 1. The pointer, first: it may only ever name this (conversation, follow-up, period).
        let mut expr = Expr::default();
        let fresh = expr.absent(keys::PK);
        let same = [
            expr.equals("conversation_id", s(conversation.as_str())),
            expr.equals("follow_up_id", s(follow_up.as_str())),
            expr.equals(SILENCE_PERIOD, n(silence_period)),
        ]
        .join(" AND ");
        expr.require(format!("{fresh} OR ({same})"));
        let pointer = ItemBuilder::new(keys::delivery_pointer(chatbot, delivery_id).into_item())
            .with("conversation_id", s(conversation.as_str()))
            .with("follow_up_id", s(follow_up.as_str()))
            .with(SILENCE_PERIOD, n(silence_period))
            .build();
        if let Written::ConditionFailed(_) = self.write_retrying(Write::put(pointer, expr)).await? {
            return Err(StoreError::Unavailable(format!(
                "delivery id {delivery_id} already names another delivery"
            )));
        }

        // 2. The claim: created when absent, taken over when throttled (keeping its id).
        let key = keys::delivery(chatbot, conversation, follow_up, silence_period);
        for attempt in 0..ATTEMPTS {
            let mut expr = Expr::default();
            expr.set_if_absent(ID, s(delivery_id))
                .set("chatbot_id", s(chatbot.as_str()))
                .set("conversation_id", s(conversation.as_str()))
                .set("follow_up_id", s(follow_up.as_str()))
                .set(SILENCE_PERIOD, n(silence_period))
                .set(STATUS, s(DeliveryStatus::Claimed.as_str()))
                .set(CLAIM_TOKEN, s(delivery_id))
                .set(LEASE_UNTIL, n(lease_until.as_millis()))
                .remove(ATTEMPT_STARTED_AT)
                .set_if_absent("created_at", n(now.as_millis()))
                .set("updated_at", n(now.as_millis()))
                .set(GSI2_PK, s(keys::deliveries_gsi2pk(chatbot, follow_up)))
                .set_if_absent(GSI2_SK, s(keys::deliveries_gsi2sk(now, delivery_id)))
                .bump(VERSION);
            let absent = expr.absent(keys::PK);
            let throttled = expr.equals(STATUS, s(DeliveryStatus::Throttled.as_str()));
            expr.require(format!("{absent} OR {throttled}"));
            match self
                .write_retrying(Write::update(key.clone(), expr).returning(ReturnValue::AllNew))
                .await?
            {
                Written::Done(Some(item)) => {
                    let (claimed, _) = delivery_from(&item)?;
                    if claimed.id != delivery_id {
                        // A throttled delivery's retry goes on under its original id.
                        self.forget_pointer(chatbot, delivery_id).await;
                    }
                    return Ok(Claim::Claimed(claimed.id));
                }
                Written::Done(None) => {
                    return Err(StoreError::Unavailable(
                        "DynamoDB UpdateItem returned no attributes".into(),
                    ));
                }
                Written::ConditionFailed(current) => {
                    let current = match current {
                        Some(item) => Some(item),
                        None => self.get(key.clone()).await?,
                    };
                    // Released between our write and this read: claim again.
                    let Some(item) = current else {
                        backoff(attempt).await;
                        continue;
                    };
                    let (existing, version) = delivery_from(&item)?;
                    if existing.status == DeliveryStatus::Claimed
                        && item.opt_str(CLAIM_TOKEN)? == Some(delivery_id)
                    {
                        // Our own claim, written by an SDK retry whose first answer was
                        // lost: it is still ours (tokens are unique per claim attempt).
                        return Ok(match existing.attempt_started_at {
                            Some(at) => Claim::TakenOver {
                                id: existing.id,
                                attempt_started_at: Some(at),
                            },
                            None => Claim::Claimed(existing.id),
                        });
                    }
                    let stale = existing.status == DeliveryStatus::Claimed
                        && existing.lease_until.is_none_or(|lease| lease < now);
                    if !stale {
                        self.forget_pointer(chatbot, delivery_id).await;
                        return Ok(Claim::Taken(Box::new(existing)));
                    }
                    // 3. The holder stopped (its lease ran out): take the claim over, keeping
                    // its id and its attempt mark, if nobody changed it since the read.
                    let mut expr = at_version(version);
                    expr.set(CLAIM_TOKEN, s(delivery_id))
                        .set(LEASE_UNTIL, n(lease_until.as_millis()))
                        .set("updated_at", n(now.as_millis()))
                        .bump(VERSION);
                    match self
                        .write_retrying(Write::update(key.clone(), expr))
                        .await?
                    {
                        Written::Done(_) => {
                            self.forget_pointer(chatbot, delivery_id).await;
                            return Ok(Claim::TakenOver {
                                id: existing.id,
                                attempt_started_at: existing.attempt_started_at,
                            });
                        }
                        Written::ConditionFailed(_) | Written::Conflict => backoff(attempt).await,
                    }
                }
                Written::Conflict => backoff(attempt).await,
            }
        }
        Err(super::contention())
    }

    async fn start_attempt(
        &self,
        chatbot: &ChatbotId,
        delivery_id: &str,
        token: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let Some(key) = self.delivery_key(chatbot, delivery_id).await? else {
            return Ok(false);
        };
        let mut expr = Expr::default();
        let ours = expr.equals(ID, s(delivery_id));
        let claimed = expr.equals(STATUS, s(DeliveryStatus::Claimed.as_str()));
        let holder = expr.equals(CLAIM_TOKEN, s(token));
        expr.require(ours).require(claimed).require(holder);
        expr.set(ATTEMPT_STARTED_AT, n(now.as_millis()))
            .set("updated_at", n(now.as_millis()))
            .bump(VERSION);
        // Not counted in the statistics: no transaction needed.
        Ok(matches!(
            self.write_retrying(Write::update(key, expr)).await?,
            Written::Done(_)
        ))
    }

    async fn release_claim(
        &self,
        chatbot: &ChatbotId,
        delivery_id: &str,
    ) -> Result<(), StoreError> {
        let Some(key) = self.delivery_key(chatbot, delivery_id).await? else {
            return Ok(());
        };
        let mut expr = Expr::default();
        let ours = expr.equals(ID, s(delivery_id));
        let claimed = expr.equals(STATUS, s(DeliveryStatus::Claimed.as_str()));
        expr.require(ours).require(claimed);
        if let Written::Done(_) = self.write_retrying(Write::delete(key, expr)).await? {
            // The next claim brings its own id; this one now names nothing.
            self.forget_pointer(chatbot, delivery_id).await;
        }
        Ok(())
    }

    async fn mark_throttled(
        &self,
        chatbot: &ChatbotId,
        delivery_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let Some(key) = self.delivery_key(chatbot, delivery_id).await? else {
            return Ok(());
        };
        let mut expr = Expr::default();
        let ours = expr.equals(ID, s(delivery_id));
        let claimed = expr.equals(STATUS, s(DeliveryStatus::Claimed.as_str()));
        expr.require(ours).require(claimed);
        expr.set(STATUS, s(DeliveryStatus::Throttled.as_str()))
            .remove(ATTEMPT_STARTED_AT)
            .remove(LEASE_UNTIL)
            .set("updated_at", n(now.as_millis()))
            .bump(VERSION);
        // Neither status counts in the statistics: no transaction needed.
        self.write_retrying(Write::update(key, expr)).await?;
        Ok(())
    }

    async fn finish_delivery(
        &self,
        chatbot: &ChatbotId,
        delivery_id: &str,
        update: DeliveryUpdate,
        log: Vec<LogEntry>,
    ) -> Result<(), StoreError> {
        let pointer = self
            .pointer(chatbot, delivery_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let key = pointer.key(chatbot);
        let conversation = &pointer.conversation;
        for attempt in 0..ATTEMPTS {
            // The delivery, its conversation's state (for the log) and its pending entry:
            // one request.
            let [delivery, state, pending] = <[Option<Item>; 3]>::try_from(
                self.get_many(vec![
                    key.clone(),
                    keys::state(chatbot, conversation),
                    keys::pending(chatbot, conversation, &pointer.follow_up),
                ])
                .await?,
            )
            .map_err(|_| StoreError::Unavailable("BatchGetItem answered off by count".into()))?;
            let Some((before, version)) = delivery
                .map(|item| delivery_from(&item))
                .transpose()?
                .filter(|(d, _)| d.id == delivery_id)
            else {
                return Err(StoreError::NotFound);
            };
            let state = State::read(state.as_ref())?;
            let pending = pending
                .map(|item| super::conversations::pending_from(&item))
                .transpose()?;
            let sent_now = matches!(
                update.status,
                DeliveryStatus::Sent | DeliveryStatus::Unknown
            )
            .then_some(update.at);
            let after = Delivery {
                status: update.status,
                sent_as: update.sent_as.clone(),
                template_name: update.template_name.clone(),
                platform_message_id: update.platform_message_id.clone(),
                detail: update.detail.clone(),
                updated_at: update.at,
                sent_at: before.sent_at.or(sent_now),
                lease_until: None,
                ..before.clone()
            };

            let mut expr = at_version(version);
            expr.set(STATUS, s(after.status.as_str()))
                .set_or_remove("sent_as", after.sent_as.clone().map(s))
                .set_or_remove("template_name", after.template_name.clone().map(s))
                .set_or_remove(
                    "platform_message_id",
                    after.platform_message_id.clone().map(s),
                )
                .set_or_remove("detail", after.detail.clone().map(s))
                .set("updated_at", n(after.updated_at.as_millis()))
                .remove(LEASE_UNTIL)
                .remove(CLAIM_TOKEN)
                .bump(VERSION);
            if let Some(sent_at) = after.sent_at {
                expr.set("sent_at", n(sent_at.as_millis()));
            }
            let mut writes = vec![Write::update(key.clone(), expr)];
            // The pending entry of its period, if it is still that period's.
            if pending.is_some_and(|p| p.silence_period == before.silence_period) {
                writes.push(Write::delete(
                    keys::pending(chatbot, conversation, &before.follow_up_id),
                    pending_for_period(before.silence_period),
                ));
            }
            if let (None, Some(sent_at)) = (before.sent_at, after.sent_at) {
                // From now on the customer's next message within 24 h is its reply.
                writes.push(Write::put(
                    ItemBuilder::new(
                        keys::reply_marker(
                            chatbot,
                            conversation,
                            sent_at,
                            &before.follow_up_id,
                            before.silence_period,
                        )
                        .into_item(),
                    )
                    .with("follow_up_id", s(before.follow_up_id.as_str()))
                    .with(SILENCE_PERIOD, n(before.silence_period))
                    .with("sent_at", n(sent_at.as_millis()))
                    .with(
                        keys::TTL_ATTRIBUTE,
                        keys::expires(sent_at, keys::REPLY_MARKER_TTL_SECS),
                    )
                    .build(),
                    Expr::default(),
                ));
            }
            let mut stats = StatsDelta::default();
            stats.delivery(Some(&before), &after);
            match self
                .transact_with_log(chatbot, conversation, state.log_seq, writes, &log, stats)
                .await?
            {
                Transacted::Committed => return Ok(()),
                // Changed meanwhile (a status webhook, a new period): read again.
                Transacted::ConditionFailed(_) | Transacted::Conflict => backoff(attempt).await,
            }
        }
        Err(super::contention())
    }

    async fn record_delivery_status(
        &self,
        chatbot: &ChatbotId,
        delivery_id: &str,
        status: DeliveryStatus,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let Some(key) = self.delivery_key(chatbot, delivery_id).await? else {
            return Ok(false);
        };
        for attempt in 0..ATTEMPTS {
            let Some((before, version)) = self.delivery_with_id(key.clone(), delivery_id).await?
            else {
                return Ok(false);
            };
            let moves_forward = progress(status) > progress(before.status)
                && !matches!(
                    before.status,
                    DeliveryStatus::Failed | DeliveryStatus::Skipped
                );
            if !moves_forward {
                return Ok(false);
            }
            let after = Delivery {
                status,
                updated_at: at,
                ..before.clone()
            };
            // Forward-only as a condition: still the status (and version) it moves on from.
            let mut expr = at_version(version);
            let from = expr.equals(STATUS, s(before.status.as_str()));
            expr.require(from);
            expr.set(STATUS, s(status.as_str()))
                .set("updated_at", n(at.as_millis()))
                .bump(VERSION);
            let mut stats = StatsDelta::default();
            stats.delivery(Some(&before), &after);
            let mut writes = vec![Write::update(key.clone(), expr)];
            writes.extend(stats.into_writes(chatbot));
            let done = if writes.len() == 1 {
                matches!(
                    self.write_retrying(writes.remove(0)).await?,
                    Written::Done(_)
                )
            } else {
                matches!(self.transact(writes).await?, Transacted::Committed)
            };
            if done {
                return Ok(true);
            }
            backoff(attempt).await;
        }
        Err(super::contention())
    }

    async fn list_deliveries(
        &self,
        chatbot: &ChatbotId,
        follow_up: &FollowUpId,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.query(
            Query::gsi2(keys::deliveries_gsi2pk(chatbot, follow_up))
                .backwards()
                .limit(limit),
        )
        .await?
        .iter()
        .map(|item| delivery_from(item).map(|(delivery, _)| delivery))
        .collect()
    }

    async fn follow_up_stats(
        &self,
        chatbot: &ChatbotId,
        follow_up: &FollowUpId,
    ) -> Result<FollowUpStats, StoreError> {
        self.read_stats(chatbot, follow_up).await
    }

    async fn stop_conversation(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        silence_period: u64,
    ) -> Result<bool, StoreError> {
        let mut expr = Expr::default();
        let current = expr.equals(SILENCE_PERIOD, n(silence_period));
        expr.require(current)
            .set("stopped_period", n(silence_period));
        match self
            .write_retrying(Write::update(keys::state(chatbot, conversation), expr))
            .await?
        {
            Written::Done(_) => Ok(true),
            Written::ConditionFailed(_) => Ok(false),
            Written::Conflict => Err(super::contention()),
        }
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
        for attempt in 0..ATTEMPTS {
            let (state, pending): (State, _) = self
                .state_and_pending(chatbot, conversation, Some(follow_up))
                .await?;
            if !pending
                .iter()
                .any(|p| p.follow_up_id == *follow_up && p.silence_period == silence_period)
            {
                return Ok(false);
            }
            let mut expr = pending_for_period(silence_period);
            expr.set("due_at", n(due_at.as_millis()));
            let update = Write::update(keys::pending(chatbot, conversation, follow_up), expr);
            match self
                .transact_with_log(
                    chatbot,
                    conversation,
                    state.log_seq,
                    vec![update],
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
}

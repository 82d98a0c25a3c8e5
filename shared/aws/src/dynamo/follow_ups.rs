//! Follow-up configuration and the 5-active rule.
//!
//! Each chatbot has a counter item (`BOT#{chatbot}` / `ACTIVE`) that equals the number of
//! its active follow-ups: every write that changes a follow-up's active flag changes the
//! counter in the same transaction, and an activation carries the condition
//! `count < 5`. The follow-up write itself is conditional on the revision that was read,
//! so a concurrent change makes the transaction fail and the whole read-check-write runs
//! again (as SQLite's `BEGIN IMMEDIATE` would have serialised it).

use async_trait::async_trait;
use followup_domain::{
    ChatbotId, FollowUp, FollowUpConfig, FollowUpFilter, FollowUpId, MAX_ACTIVE_FOLLOW_UPS,
    Timestamp,
};
use followup_ports::{FollowUpStore, NewFollowUp, StoreError};

use super::expr::Expr;
use super::item::{Item, ItemBuilder, Read, corrupt, n, s};
use super::keys::{self, FOLLOW_UP_PREFIX};
use super::{ATTEMPTS, DynamoStore, Query, SortKey, Transacted, Write, Written, backoff};

const COUNT: &str = "count";
const CONFIG: &str = "config";
const REVISION: &str = "revision";

fn to_item(follow_up: &FollowUp) -> Result<Item, StoreError> {
    let config = serde_json::to_string(&follow_up.config)
        .map_err(|e| StoreError::Unavailable(format!("follow-up config as JSON: {e}")))?;
    Ok(
        ItemBuilder::new(keys::follow_up(&follow_up.chatbot_id, &follow_up.id).into_item())
            .with("chatbot_id", s(follow_up.chatbot_id.as_str()))
            .with("id", s(follow_up.id.as_str()))
            .with(CONFIG, s(config))
            // Beside the JSON for the console and for repairs: the chatbot's `ACTIVE` counter
            // must equal the number of its follow-ups with `active = true`.
            .with(
                "active",
                aws_sdk_dynamodb::types::AttributeValue::Bool(follow_up.config.active),
            )
            .with_opt("color", follow_up.config.color.map(|c| s(c.as_str())))
            .with(REVISION, n(follow_up.revision))
            .with("created_at", n(follow_up.created_at.as_millis()))
            .with("updated_at", n(follow_up.updated_at.as_millis()))
            .build(),
    )
}

fn from_item(item: &Item) -> Result<FollowUp, StoreError> {
    Ok(FollowUp {
        chatbot_id: ChatbotId::parse(item.str("chatbot_id")?)
            .map_err(|e| corrupt("chatbot_id", e.message))?,
        id: FollowUpId::parse(item.str("id")?).map_err(|e| corrupt("id", e.message))?,
        // Re-validated on the way in: an item edited by hand cannot smuggle in a bad config.
        config: serde_json::from_str(item.str(CONFIG)?).map_err(|e| corrupt(CONFIG, e))?,
        revision: item.u64(REVISION)?,
        created_at: Timestamp::from_millis(item.i64("created_at")?),
        updated_at: Timestamp::from_millis(item.i64("updated_at")?),
    })
}

/// The counter write that goes with a change of the active flag.
fn counter_change(chatbot: &ChatbotId, activating: bool) -> Write {
    let mut expr = Expr::default();
    if activating {
        expr.add(COUNT, 1);
        let absent = expr.absent(COUNT);
        let count = expr.name(COUNT);
        let limit = expr.value(n(MAX_ACTIVE_FOLLOW_UPS));
        expr.require(format!("{absent} OR {count} < {limit}"));
    } else {
        // No condition: the counter only ever counts transitions made in these
        // transactions, so it cannot drop below zero.
        expr.add(COUNT, -1);
    }
    Write::update(keys::active_counter(chatbot), expr)
}

/// The condition of a follow-up write: nobody changed it since `revision` was read.
fn at_revision(revision: u64) -> Expr {
    let mut expr = Expr::default();
    let condition = expr.equals(REVISION, n(revision));
    expr.require(condition);
    expr
}

impl DynamoStore {
    async fn load_follow_up(
        &self,
        chatbot: &ChatbotId,
        id: &FollowUpId,
    ) -> Result<Option<FollowUp>, StoreError> {
        self.get(keys::follow_up(chatbot, id))
            .await?
            .map(|item| from_item(&item))
            .transpose()
    }

    /// Writes `next` over `current` (read at its revision), moving the active counter
    /// along when the flag changes. `Ok(false)`: someone else wrote first; read again.
    async fn write_back(&self, current: &FollowUp, next: &FollowUp) -> Result<bool, StoreError> {
        let put = Write::put(to_item(next)?, at_revision(current.revision));
        if current.config.active == next.config.active {
            return match self.write(put).await? {
                Written::Done(_) => Ok(true),
                Written::ConditionFailed(_) | Written::Conflict => Ok(false),
            };
        }
        let activating = next.config.active;
        match self
            .transact(vec![put, counter_change(&next.chatbot_id, activating)])
            .await?
        {
            Transacted::Committed => Ok(true),
            outcome if activating && outcome.failed(1) => Err(StoreError::ActiveLimitReached {
                limit: MAX_ACTIVE_FOLLOW_UPS,
            }),
            Transacted::ConditionFailed(_) | Transacted::Conflict => Ok(false),
        }
    }

    /// The shared read-check-write loop of replace and set-active.
    async fn change_follow_up(
        &self,
        chatbot: &ChatbotId,
        id: &FollowUpId,
        expected_revision: Option<u64>,
        change: impl Fn(&FollowUp) -> Option<FollowUp> + Send + Sync,
    ) -> Result<FollowUp, StoreError> {
        for attempt in 0..ATTEMPTS {
            let current = self
                .load_follow_up(chatbot, id)
                .await?
                .ok_or(StoreError::NotFound)?;
            if expected_revision.is_some_and(|expected| expected != current.revision) {
                return Err(StoreError::RevisionConflict {
                    current: current.revision,
                });
            }
            let Some(next) = change(&current) else {
                // Nothing changes: no new revision, so a repeated request is idempotent.
                return Ok(current);
            };
            if self.write_back(&current, &next).await? {
                return Ok(next);
            }
            backoff(attempt).await;
        }
        Err(super::contention())
    }
}

#[async_trait]
impl FollowUpStore for DynamoStore {
    async fn create_follow_up(&self, new: NewFollowUp) -> Result<FollowUp, StoreError> {
        let follow_up = FollowUp {
            id: new.id,
            chatbot_id: new.chatbot_id,
            config: new.config,
            revision: 1,
            created_at: new.now,
            updated_at: new.now,
        };
        for attempt in 0..ATTEMPTS {
            let mut expr = Expr::default();
            let absent = expr.absent(keys::PK);
            expr.require(absent);
            let put = Write::put(to_item(&follow_up)?, expr);
            let outcome = if follow_up.config.active {
                match self
                    .transact(vec![put, counter_change(&follow_up.chatbot_id, true)])
                    .await?
                {
                    Transacted::Committed => Written::Done(None),
                    outcome if outcome.failed(1) => {
                        return Err(StoreError::ActiveLimitReached {
                            limit: MAX_ACTIVE_FOLLOW_UPS,
                        });
                    }
                    Transacted::ConditionFailed(_) => Written::ConditionFailed(None),
                    Transacted::Conflict => Written::Conflict,
                }
            } else {
                self.write(put).await?
            };
            match outcome {
                Written::Done(_) => return Ok(follow_up),
                // Ids are chosen by the caller and unique: SQLite fails the insert the same
                // way (a primary-key violation is not a client mistake it could correct).
                Written::ConditionFailed(_) => {
                    return Err(StoreError::Unavailable(format!(
                        "follow-up {} already exists",
                        follow_up.id
                    )));
                }
                Written::Conflict => backoff(attempt).await,
            }
        }
        Err(super::contention())
    }

    async fn get_follow_up(
        &self,
        chatbot: &ChatbotId,
        id: &FollowUpId,
    ) -> Result<Option<FollowUp>, StoreError> {
        self.load_follow_up(chatbot, id).await
    }

    async fn list_follow_ups(
        &self,
        chatbot: &ChatbotId,
        filter: FollowUpFilter,
    ) -> Result<Vec<FollowUp>, StoreError> {
        let items = self
            .query(Query::table(
                keys::chatbot_pk(chatbot),
                SortKey::BeginsWith(FOLLOW_UP_PREFIX.to_owned()),
            ))
            .await?;
        let mut list = items.iter().map(from_item).collect::<Result<Vec<_>, _>>()?;
        // A chatbot has a handful of follow-ups: filtering here reads the same units as a
        // FilterExpression would, and the filter stays the same code as the domain's.
        list.retain(|f| {
            filter.color.is_none_or(|c| f.config.color == Some(c))
                && filter.active.is_none_or(|a| f.config.active == a)
        });
        list.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(list)
    }

    async fn replace_follow_up(
        &self,
        chatbot: &ChatbotId,
        id: &FollowUpId,
        config: FollowUpConfig,
        expected_revision: Option<u64>,
        now: Timestamp,
    ) -> Result<FollowUp, StoreError> {
        self.change_follow_up(chatbot, id, expected_revision, |current| {
            (config != current.config).then(|| FollowUp {
                config: config.clone(),
                revision: current.revision + 1,
                updated_at: now,
                ..current.clone()
            })
        })
        .await
    }

    async fn set_follow_up_active(
        &self,
        chatbot: &ChatbotId,
        id: &FollowUpId,
        active: bool,
        now: Timestamp,
    ) -> Result<FollowUp, StoreError> {
        self.change_follow_up(chatbot, id, None, |current| {
            (current.config.active != active).then(|| {
                let mut next = current.clone();
                next.config.active = active;
                next.revision += 1;
                next.updated_at = now;
                next
            })
        })
        .await
    }

    async fn delete_follow_up(
        &self,
        chatbot: &ChatbotId,
        id: &FollowUpId,
    ) -> Result<FollowUp, StoreError> {
        for attempt in 0..ATTEMPTS {
            let current = self
                .load_follow_up(chatbot, id)
                .await?
                .ok_or(StoreError::NotFound)?;
            let delete = Write::delete(keys::follow_up(chatbot, id), at_revision(current.revision));
            let done = if current.config.active {
                matches!(
                    self.transact(vec![delete, counter_change(chatbot, false)])
                        .await?,
                    Transacted::Committed
                )
            } else {
                matches!(self.write(delete).await?, Written::Done(_))
            };
            if done {
                return Ok(current);
            }
            backoff(attempt).await;
        }
        Err(super::contention())
    }
}

//! The conversation log and per-follow-up statistics.
//!
//! Log: the entries one write appends are one item (`LOG#{first seq}`), numbered from the
//! conversation's `log_seq` (on its `STATE` item), which the same transaction moves on under
//! the condition that it still has the value read. Sequence numbers are therefore dense
//! and in commit order per conversation, and a page is a short backwards query.
//!
//! Statistics: one counter item per follow-up (`STATS#{chatbot}#{follow-up}`), added to in
//! the same transaction as the log entries and delivery changes it counts, so it always
//! agrees with what SQLite computes from its log and deliveries with `GROUP BY`.

use std::collections::BTreeMap;

use followup_domain::{ChatbotId, ConversationId, FollowUpId, LogEntry};
use followup_ports::{Delivery, DeliveryStatus, FollowUpStats, LogPage, StoreError};

use super::expr::Expr;
use super::item::{Item, ItemBuilder, Read, corrupt, n, s};
use super::keys::{self, LOG_PREFIX};
use super::{DynamoStore, Query, SortKey, Write};

/// On the conversation's `STATE` item: the sequence number of its newest log entry.
pub(crate) const LOG_SEQ: &str = "log_seq";
const FIRST_SEQ: &str = "first_seq";
const ENTRIES: &str = "entries";

/// Adds the log append to the `STATE` update in `state` (conditioned on `log_seq` still
/// being `read_seq`) and returns the log item to put in the same transaction.
pub(crate) fn append(
    state: &mut Expr,
    chatbot: &ChatbotId,
    conversation: &ConversationId,
    read_seq: Option<u64>,
    entries: &[LogEntry],
) -> Result<Option<Write>, StoreError> {
    let unchanged = match read_seq {
        Some(seq) => state.equals(LOG_SEQ, n(seq)),
        None => state.absent(LOG_SEQ),
    };
    state.require(unchanged);
    if entries.is_empty() {
        return Ok(None);
    }
    let first = read_seq.unwrap_or(0) + 1;
    let count = u64::try_from(entries.len()).map_err(|e| corrupt(ENTRIES, e))?;
    state.set(LOG_SEQ, n(first + count - 1));
    let json = serde_json::to_string(entries)
        .map_err(|e| StoreError::Unavailable(format!("log entries as JSON: {e}")))?;
    let item = ItemBuilder::new(keys::log_batch(chatbot, conversation, first).into_item())
        .with(FIRST_SEQ, n(first))
        .with(ENTRIES, s(json))
        .build();
    let mut expr = Expr::default();
    let fresh = expr.absent(keys::PK);
    expr.require(fresh);
    Ok(Some(Write::put(item, expr)))
}

/// Counter deltas of one transaction, per follow-up.
#[derive(Debug, Default)]
pub(crate) struct StatsDelta(BTreeMap<FollowUpId, BTreeMap<String, i64>>);

const SENT: &str = "dlv:sent";
const REPLIED: &str = "dlv:replied";

/// A delivery counts as sent while it has a send time and a sent-like status (SQLite:
/// `COUNT(sent_at) … WHERE status IN ('sent', 'delivered', 'read')`).
fn counts_as_sent(delivery: &Delivery) -> bool {
    delivery.sent_at.is_some()
        && matches!(
            delivery.status,
            DeliveryStatus::Sent | DeliveryStatus::Delivered | DeliveryStatus::Read
        )
}

fn counts_as_replied(delivery: &Delivery) -> bool {
    counts_as_sent(delivery) && delivery.replied_at.is_some()
}

impl StatsDelta {
    fn bump(&mut self, follow_up: &FollowUpId, counter: String, delta: i64) {
        if delta != 0 {
            *self
                .0
                .entry(follow_up.clone())
                .or_default()
                .entry(counter)
                .or_default() += delta;
        }
    }

    /// Every entry about a follow-up counts under `log:{kind}` or `log:{kind}:{reason}`.
    pub fn log(&mut self, entries: &[LogEntry]) {
        for entry in entries {
            if let Some(follow_up) = entry.event.follow_up_id() {
                let counter = match entry.event.reason() {
                    Some(reason) => format!("log:{}:{reason}", entry.event.kind()),
                    None => format!("log:{}", entry.event.kind()),
                };
                self.bump(follow_up, counter, 1);
            }
        }
    }

    /// A delivery changing from `before` (absent: new) to `after`.
    pub fn delivery(&mut self, before: Option<&Delivery>, after: &Delivery) {
        let delta = |counts: fn(&Delivery) -> bool| {
            i64::from(counts(after)) - i64::from(before.is_some_and(counts))
        };
        self.bump(&after.follow_up_id, SENT.to_owned(), delta(counts_as_sent));
        self.bump(
            &after.follow_up_id,
            REPLIED.to_owned(),
            delta(counts_as_replied),
        );
    }

    /// One update per follow-up (a transaction may touch each item only once).
    pub fn into_writes(self, chatbot: &ChatbotId) -> Vec<Write> {
        self.0
            .into_iter()
            .filter(|(_, counters)| !counters.is_empty())
            .map(|(follow_up, counters)| {
                let mut expr = Expr::default();
                for (counter, delta) in counters {
                    expr.add(&counter, delta);
                }
                Write::update(keys::stats(chatbot, &follow_up), expr)
            })
            .collect()
    }
}

fn stats_from(item: &Item) -> Result<FollowUpStats, StoreError> {
    let mut stats = FollowUpStats::default();
    for (attribute, value) in item {
        let count = || -> Result<u64, StoreError> {
            match value {
                aws_sdk_dynamodb::types::AttributeValue::N(raw) => raw
                    .parse::<i64>()
                    .map(|v| u64::try_from(v).unwrap_or_default())
                    .map_err(|e| corrupt(attribute, e)),
                _ => Err(corrupt(attribute, "not a number")),
            }
        };
        if attribute == SENT {
            stats.sent = count()?;
        } else if attribute == REPLIED {
            stats.replied = count()?;
        } else if let Some(counter) = attribute.strip_prefix("log:") {
            let (kind, reason) = match counter.split_once(':') {
                Some((kind, reason)) => (kind, reason.to_owned()),
                None => (counter, String::new()),
            };
            let count = count()?;
            match kind {
                "scheduled" => stats.scheduled += count,
                "cancelled" => *stats.cancelled.entry(reason).or_default() += count,
                "dropped" => *stats.dropped.entry(reason).or_default() += count,
                "skipped" => *stats.skipped.entry(reason).or_default() += count,
                "stopped" => stats.stopped += count,
                "failed" => stats.failed += count,
                "outcome_unknown" => stats.outcome_unknown += count,
                // Counted, not reported (like SQLite's log rows of these kinds).
                _ => {}
            }
        }
    }
    Ok(stats)
}

impl DynamoStore {
    pub(crate) async fn read_stats(
        &self,
        chatbot: &ChatbotId,
        follow_up: &FollowUpId,
    ) -> Result<FollowUpStats, StoreError> {
        match self.get(keys::stats(chatbot, follow_up)).await? {
            Some(item) => stats_from(&item),
            None => Ok(FollowUpStats::default()),
        }
    }

    pub(crate) async fn read_log(
        &self,
        chatbot: &ChatbotId,
        conversation: &ConversationId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<LogPage, StoreError> {
        let empty = LogPage {
            entries: Vec::new(),
            next_before: None,
        };
        let sk = match before {
            Some(0) => return Ok(empty),
            // An item starting below `before` holds at least one entry older than it.
            Some(before) => SortKey::Between(LOG_PREFIX.to_owned(), keys::log_sk(before - 1)),
            None => SortKey::BeginsWith(LOG_PREFIX.to_owned()),
        };
        if limit == 0 {
            return Ok(empty);
        }
        // One more entry than asked tells whether another page follows; each item holds
        // at least one entry, so that many items are always enough.
        let wanted = limit.saturating_add(1);
        let items = self
            .query(
                Query::table(keys::conversation_pk(chatbot, conversation), sk)
                    .backwards()
                    .limit(wanted),
            )
            .await?;
        let mut entries = Vec::with_capacity(wanted);
        'items: for item in &items {
            let first = item.u64(FIRST_SEQ)?;
            let batch: Vec<LogEntry> =
                serde_json::from_str(item.str(ENTRIES)?).map_err(|e| corrupt(ENTRIES, e))?;
            let numbered: Vec<(u64, LogEntry)> = (first..).zip(batch).collect();
            for (seq, entry) in numbered.into_iter().rev() {
                if before.is_some_and(|b| seq >= b) {
                    continue;
                }
                entries.push((seq, entry));
                if entries.len() == wanted {
                    break 'items;
                }
            }
        }
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
    }
}

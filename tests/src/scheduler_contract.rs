//! The scheduler contract: behaviour every [`Scheduler`] adapter must show, written once
//! and run against the embedded SQLite scheduler and against EventBridge Scheduler on moto.
//! Each adapter comes with a probe that lists what is pending in its own terms (rows in
//! SQLite, schedules in the group on AWS), so the cases compare the same thing.

use std::sync::Arc;

use async_trait::async_trait;
use followup_domain::{ChatbotId, ConversationId, FollowUpId, Timestamp};
use followup_ports::{DueItem, DueKey, Scheduler};

/// Lists the pending items an adapter holds, sorted by schedule name.
#[async_trait]
pub trait PendingProbe: Send + Sync {
    async fn pending(&self) -> Vec<DueItem>;
}

/// A fresh, empty scheduler with its probe.
pub struct Harness {
    pub scheduler: Arc<dyn Scheduler>,
    pub probe: Arc<dyn PendingProbe>,
    /// A time safely in the future for this adapter (EventBridge sends items due within a
    /// minute straight to SQS instead of scheduling them).
    pub later: Timestamp,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("later", &self.later)
            .finish_non_exhaustive()
    }
}

fn item(conversation: &str, follow_up: &str, period: u64, due_at: Timestamp) -> DueItem {
    DueItem {
        key: DueKey {
            chatbot_id: ChatbotId::parse("clinic").expect("id"),
            conversation_id: ConversationId::parse(conversation).expect("id"),
            follow_up_id: FollowUpId::parse(follow_up).expect("id"),
        },
        silence_period: period,
        due_at,
        judge_attempts: 0,
    }
}

fn sorted(mut items: Vec<DueItem>) -> Vec<DueItem> {
    items.sort_by_key(|i| i.key.schedule_name());
    items
}

pub async fn when_scheduled_then_the_item_is_pending_with_its_time_and_period(h: Harness) {
    let due = item("whatsapp:1:2", "reminder", 1, h.later);
    h.scheduler.schedule(due.clone()).await.expect("schedule");
    assert_eq!(h.probe.pending().await, vec![due]);
}

pub async fn when_the_same_key_is_scheduled_again_then_it_replaces_the_pending_one(h: Harness) {
    h.scheduler
        .schedule(item("whatsapp:1:2", "reminder", 1, h.later))
        .await
        .expect("first");
    let next = item("whatsapp:1:2", "reminder", 2, h.later.plus_minutes(60));
    h.scheduler.schedule(next.clone()).await.expect("again");
    h.scheduler
        .schedule(next.clone())
        .await
        .expect("a retry changes nothing");
    assert_eq!(
        h.probe.pending().await,
        vec![next],
        "one per key, the latest"
    );
}

pub async fn when_cancelled_then_it_is_gone_and_cancelling_again_succeeds(h: Harness) {
    let due = item("whatsapp:1:2", "reminder", 1, h.later);
    h.scheduler.schedule(due.clone()).await.expect("schedule");
    h.scheduler.cancel(&due.key).await.expect("cancel");
    assert!(h.probe.pending().await.is_empty());
    h.scheduler
        .cancel(&due.key)
        .await
        .expect("cancelling a missing item is done");
}

pub async fn when_keys_differ_then_their_items_are_independent(h: Harness) {
    let a = item("whatsapp:1:2", "reminder", 1, h.later);
    let b = item("whatsapp:1:2", "after-sales", 1, h.later.plus_minutes(5));
    let c = item("instagram:9:8", "reminder", 3, h.later.plus_minutes(10));
    for due in [&a, &b, &c] {
        h.scheduler.schedule(due.clone()).await.expect("schedule");
    }
    h.scheduler.cancel(&b.key).await.expect("cancel one");
    assert_eq!(h.probe.pending().await, sorted(vec![a, c]));
}

/// Generates one `#[tokio::test]` per contract case for a harness factory expression.
#[macro_export]
macro_rules! scheduler_contract_tests {
    ($factory:expr) => {
        $crate::scheduler_contract_tests!(@cases $factory;
            when_scheduled_then_the_item_is_pending_with_its_time_and_period,
            when_the_same_key_is_scheduled_again_then_it_replaces_the_pending_one,
            when_cancelled_then_it_is_gone_and_cancelling_again_succeeds,
            when_keys_differ_then_their_items_are_independent,
        );
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let harness: $crate::scheduler_contract::Harness = $factory.await;
                $crate::scheduler_contract::$case(harness).await;
            }
        )*
    };
}

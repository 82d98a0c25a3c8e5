//! The store contract: behaviour every [`FollowUpStore`] adapter must show, written once
//! and run against each adapter family (SQLite now; DynamoDB on moto with the AWS issue).
//! Each case takes a fresh, empty store.

use std::sync::Arc;

use followup_domain::followup::LabelColor;
use followup_domain::{
    ChatbotId, FollowUpConfig, FollowUpDraft, FollowUpFilter, FollowUpId, MAX_ACTIVE_FOLLOW_UPS,
    Timestamp,
};
use followup_ports::{FollowUpStore, NewFollowUp, StoreError};
use serde_json::json;

pub fn chatbot(id: &str) -> ChatbotId {
    ChatbotId::parse(id).expect("valid chatbot id")
}

pub fn follow_up_id(id: &str) -> FollowUpId {
    FollowUpId::parse(id).expect("valid follow-up id")
}

pub fn config(name: &str, color: &str, active: bool) -> FollowUpConfig {
    let draft: FollowUpDraft = serde_json::from_value(json!({
        "name": name,
        "color": color,
        "delay": {"mode": "manual", "hours": 4},
        "description": "customer showed interest in booking but did not confirm",
        "stop_trigger": "customer confirmed, cancelled or is not interested",
        "active": active,
    }))
    .expect("draft");
    draft.validate().expect("valid config")
}

fn new(bot: &str, id: &str, config: FollowUpConfig, at: i64) -> NewFollowUp {
    NewFollowUp {
        id: follow_up_id(id),
        chatbot_id: chatbot(bot),
        config,
        now: Timestamp::from_millis(at),
    }
}

async fn active_count(store: &dyn FollowUpStore, bot: &str) -> usize {
    store
        .list_follow_ups(
            &chatbot(bot),
            FollowUpFilter {
                active: Some(true),
                color: None,
            },
        )
        .await
        .expect("list")
        .len()
}

pub async fn when_created_then_it_reads_back_only_for_its_chatbot(store: Arc<dyn FollowUpStore>) {
    let created = store
        .create_follow_up(new("clinic", "f1", config("Reminder", "blue", true), 1_000))
        .await
        .expect("create");
    assert_eq!(created.revision, 1);
    assert_eq!(created.created_at, Timestamp::from_millis(1_000));
    let read = store
        .get_follow_up(&chatbot("clinic"), &follow_up_id("f1"))
        .await
        .expect("get")
        .expect("present");
    assert_eq!(read, created);
    let foreign = store
        .get_follow_up(&chatbot("other-bot"), &follow_up_id("f1"))
        .await
        .expect("get");
    assert!(
        foreign.is_none(),
        "a chatbot never sees another chatbot's follow-up"
    );
    assert!(
        store
            .list_follow_ups(&chatbot("other-bot"), FollowUpFilter::default())
            .await
            .expect("list")
            .is_empty()
    );
}

pub async fn when_listing_then_filters_apply_and_oldest_comes_first(store: Arc<dyn FollowUpStore>) {
    for (id, color, active, at) in [
        ("b", "green", true, 2_000),
        ("a", "blue", true, 1_000),
        ("c", "blue", false, 3_000),
    ] {
        store
            .create_follow_up(new("clinic", id, config(id, color, active), at))
            .await
            .expect("create");
    }
    let ids = |list: Vec<followup_domain::FollowUp>| -> Vec<String> {
        list.into_iter().map(|f| f.id.to_string()).collect()
    };
    let bot = chatbot("clinic");
    let all = store
        .list_follow_ups(&bot, FollowUpFilter::default())
        .await
        .expect("list");
    assert_eq!(ids(all), ["a", "b", "c"]);
    let blue = FollowUpFilter {
        color: Some(LabelColor::Blue),
        active: None,
    };
    assert_eq!(
        ids(store.list_follow_ups(&bot, blue).await.expect("list")),
        ["a", "c"]
    );
    let blue_active = FollowUpFilter {
        color: Some(LabelColor::Blue),
        active: Some(true),
    };
    assert_eq!(
        ids(store
            .list_follow_ups(&bot, blue_active)
            .await
            .expect("list")),
        ["a"]
    );
    let inactive = FollowUpFilter {
        color: None,
        active: Some(false),
    };
    assert_eq!(
        ids(store.list_follow_ups(&bot, inactive).await.expect("list")),
        ["c"]
    );
}

pub async fn when_a_sixth_active_is_created_then_it_is_refused_and_nothing_changes(
    store: Arc<dyn FollowUpStore>,
) {
    for i in 0..MAX_ACTIVE_FOLLOW_UPS {
        store
            .create_follow_up(new("clinic", &format!("f{i}"), config("x", "red", true), 1))
            .await
            .expect("create within the limit");
    }
    let refused = store
        .create_follow_up(new("clinic", "f6", config("x", "red", true), 1))
        .await;
    assert!(
        matches!(refused, Err(StoreError::ActiveLimitReached { limit: 5 })),
        "{refused:?}"
    );
    assert!(
        store
            .get_follow_up(&chatbot("clinic"), &follow_up_id("f6"))
            .await
            .expect("get")
            .is_none()
    );
    // Inactive ones may still be created, and other chatbots have their own limit.
    store
        .create_follow_up(new("clinic", "f7", config("x", "red", false), 1))
        .await
        .expect("inactive is fine");
    store
        .create_follow_up(new("other-bot", "f6", config("x", "red", true), 1))
        .await
        .expect("another chatbot's limit is separate");
    assert_eq!(
        active_count(store.as_ref(), "clinic").await,
        MAX_ACTIVE_FOLLOW_UPS
    );
}

pub async fn when_activating_past_the_limit_then_refused_until_one_is_deactivated(
    store: Arc<dyn FollowUpStore>,
) {
    let bot = chatbot("clinic");
    for i in 0..=MAX_ACTIVE_FOLLOW_UPS {
        let active = i < MAX_ACTIVE_FOLLOW_UPS;
        store
            .create_follow_up(new(
                "clinic",
                &format!("f{i}"),
                config("x", "red", active),
                1,
            ))
            .await
            .expect("create");
    }
    let sixth = follow_up_id("f5");
    let now = Timestamp::from_millis(5);
    let refused = store.set_follow_up_active(&bot, &sixth, true, now).await;
    assert!(
        matches!(refused, Err(StoreError::ActiveLimitReached { .. })),
        "{refused:?}"
    );
    let unchanged = store
        .get_follow_up(&bot, &sixth)
        .await
        .expect("get")
        .expect("present");
    assert!(!unchanged.config.active);
    assert_eq!(unchanged.revision, 1);

    // Replacing an inactive one with an active config is the same activation.
    let refused = store
        .replace_follow_up(&bot, &sixth, config("x", "red", true), None, now)
        .await;
    assert!(
        matches!(refused, Err(StoreError::ActiveLimitReached { .. })),
        "{refused:?}"
    );

    store
        .set_follow_up_active(&bot, &follow_up_id("f0"), false, now)
        .await
        .expect("deactivate");
    let activated = store
        .set_follow_up_active(&bot, &sixth, true, now)
        .await
        .expect("room now");
    assert!(activated.config.active);
    assert_eq!(activated.revision, 2);
    // Re-activating an active one is a no-op that does not count it twice.
    let again = store
        .set_follow_up_active(&bot, &sixth, true, now)
        .await
        .expect("no-op");
    assert_eq!(again.revision, 2);
    // Editing an active one keeps it active without tripping the limit.
    store
        .replace_follow_up(&bot, &sixth, config("renamed", "red", true), None, now)
        .await
        .expect("edit of an active follow-up at the limit");
    assert_eq!(
        active_count(store.as_ref(), "clinic").await,
        MAX_ACTIVE_FOLLOW_UPS
    );
}

pub async fn when_50_activations_race_then_exactly_5_are_active(store: Arc<dyn FollowUpStore>) {
    let bot = chatbot("clinic");
    for i in 0..50 {
        store
            .create_follow_up(new(
                "clinic",
                &format!("f{i:02}"),
                config("x", "red", false),
                1,
            ))
            .await
            .expect("create");
    }
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let store = Arc::clone(&store);
        let bot = bot.clone();
        tasks.spawn(async move {
            store
                .set_follow_up_active(
                    &bot,
                    &follow_up_id(&format!("f{i:02}")),
                    true,
                    Timestamp::from_millis(2),
                )
                .await
        });
    }
    let mut granted = 0;
    let mut refused = 0;
    while let Some(result) = tasks.join_next().await {
        match result.expect("task") {
            Ok(_) => granted += 1,
            Err(StoreError::ActiveLimitReached { .. }) => refused += 1,
            Err(other) => panic!("unexpected store error: {other}"),
        }
    }
    assert_eq!((granted, refused), (5, 45));
    assert_eq!(active_count(store.as_ref(), "clinic").await, 5);
}

pub async fn when_replacing_with_a_stale_revision_then_it_conflicts(store: Arc<dyn FollowUpStore>) {
    let bot = chatbot("clinic");
    let id = follow_up_id("f1");
    store
        .create_follow_up(new("clinic", "f1", config("v1", "red", true), 1))
        .await
        .expect("create");
    let now = Timestamp::from_millis(7);
    let updated = store
        .replace_follow_up(&bot, &id, config("v2", "blue", true), Some(1), now)
        .await
        .expect("replace at revision 1");
    assert_eq!((updated.revision, updated.config.name.as_str()), (2, "v2"));
    assert_eq!(updated.updated_at, now);
    assert_eq!(updated.created_at, Timestamp::from_millis(1));
    let unchanged = store
        .replace_follow_up(
            &bot,
            &id,
            config("v2", "blue", true),
            None,
            Timestamp::from_millis(9),
        )
        .await
        .expect("identical replace");
    assert_eq!(
        unchanged, updated,
        "an identical config is no change: same revision and time"
    );
    let stale = store
        .replace_follow_up(&bot, &id, config("v3", "blue", true), Some(1), now)
        .await;
    assert!(
        matches!(stale, Err(StoreError::RevisionConflict { current: 2 })),
        "{stale:?}"
    );
    let missing = store
        .replace_follow_up(
            &bot,
            &follow_up_id("nope"),
            config("v3", "blue", true),
            None,
            now,
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    // Colour filters follow the new colour.
    let red = FollowUpFilter {
        color: Some(LabelColor::Red),
        active: None,
    };
    assert!(
        store
            .list_follow_ups(&bot, red)
            .await
            .expect("list")
            .is_empty()
    );
}

pub async fn when_deleted_then_it_is_gone_and_frees_its_active_slot(store: Arc<dyn FollowUpStore>) {
    let bot = chatbot("clinic");
    for i in 0..MAX_ACTIVE_FOLLOW_UPS {
        store
            .create_follow_up(new("clinic", &format!("f{i}"), config("x", "red", true), 1))
            .await
            .expect("create");
    }
    let deleted = store
        .delete_follow_up(&bot, &follow_up_id("f0"))
        .await
        .expect("delete");
    assert_eq!(deleted.id, follow_up_id("f0"));
    assert!(
        store
            .get_follow_up(&bot, &follow_up_id("f0"))
            .await
            .expect("get")
            .is_none()
    );
    let again = store.delete_follow_up(&bot, &follow_up_id("f0")).await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
    let foreign = store
        .delete_follow_up(&chatbot("other-bot"), &follow_up_id("f1"))
        .await;
    assert!(matches!(foreign, Err(StoreError::NotFound)), "{foreign:?}");
    store
        .create_follow_up(new("clinic", "f9", config("x", "red", true), 1))
        .await
        .expect("the freed slot can be used");
}

/// Generates one `#[tokio::test]` per contract case for a store factory expression.
#[macro_export]
macro_rules! store_contract_tests {
    ($factory:expr) => {
        $crate::store_contract_tests!(@cases $factory;
            when_created_then_it_reads_back_only_for_its_chatbot,
            when_listing_then_filters_apply_and_oldest_comes_first,
            when_a_sixth_active_is_created_then_it_is_refused_and_nothing_changes,
            when_activating_past_the_limit_then_refused_until_one_is_deactivated,
            when_50_activations_race_then_exactly_5_are_active,
            when_replacing_with_a_stale_revision_then_it_conflicts,
            when_deleted_then_it_is_gone_and_frees_its_active_slot,
        );
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let store: std::sync::Arc<dyn followup_ports::FollowUpStore> = $factory.await;
                $crate::store_contract::$case(store).await;
            }
        )*
    };
}

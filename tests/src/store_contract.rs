//! The store contract: behaviour every [`Store`] adapter must show, written once against
//! the traits and run against each adapter (SQLite in `store_sqlite.rs`, DynamoDB on moto
//! in `store_dynamo.rs`). Each case takes a fresh, empty store.

use std::collections::BTreeMap;
use std::sync::Arc;

use followup_domain::followup::LabelColor;
use followup_domain::{
    CancelReason, CatalogueEntry, ChatbotId, Conversation, ConversationId, DropReason,
    FollowUpConfig, FollowUpDraft, FollowUpFilter, FollowUpId, LogEntry, LogEvent,
    MAX_ACTIVE_FOLLOW_UPS, MessageTemplate, ParameterFormat, PlannedSend, Platform, Secret,
    SkipReason, TemplateCategory, TemplateCategoryChange, TemplateStatus, TemplateStatusChange,
    Timestamp,
};
use followup_ports::{
    CatalogueAccount, Claim, Delivery, DeliveryStatus, DeliveryUpdate, FollowUpStats,
    FollowUpStore, InboundMessage, Integration, NewFollowUp, PendingFollowUp, Speaker, Store,
    StoreError, Upserted,
};
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

pub async fn when_created_then_it_reads_back_only_for_its_chatbot(store: Arc<dyn Store>) {
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

pub async fn when_listing_then_filters_apply_and_oldest_comes_first(store: Arc<dyn Store>) {
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
    store: Arc<dyn Store>,
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
    store: Arc<dyn Store>,
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

pub async fn when_50_activations_race_then_exactly_5_are_active(store: Arc<dyn Store>) {
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

pub async fn when_replacing_with_a_stale_revision_then_it_conflicts(store: Arc<dyn Store>) {
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

pub async fn when_deleted_then_it_is_gone_and_frees_its_active_slot(store: Arc<dyn Store>) {
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

// ---------------------------------------------------------------------------------------
// Integrations, conversations and deliveries.
// ---------------------------------------------------------------------------------------

/// A WhatsApp conversation of the clinic's number with `customer`.
pub fn conversation(customer: &str) -> ConversationId {
    ConversationId::new(Platform::Whatsapp, "106540352242922", customer).expect("conversation id")
}

/// A customer message sent at `sent_at` ms, arriving half a second later.
pub fn message(id: &str, sent_at: i64) -> InboundMessage {
    InboundMessage {
        message_id: id.to_owned(),
        sent_at: Timestamp::from_millis(sent_at),
        received_at: Timestamp::from_millis(sent_at + 500),
        kind: "text".to_owned(),
        text: Some(format!("text of {id}")),
        profile_name: None,
    }
}

fn integration(bot: &str, platform: Platform, account: &str, token: &str, at: i64) -> Integration {
    Integration {
        chatbot_id: chatbot(bot),
        platform,
        account_id: account.to_owned(),
        waba_id: None,
        access_token: Secret::new(token),
        created_at: Timestamp::from_millis(at),
        updated_at: Timestamp::from_millis(at),
    }
}

fn pending(customer: &str, follow_up: &str, period: u64, due_at: i64) -> PendingFollowUp {
    PendingFollowUp {
        conversation_id: conversation(customer),
        follow_up_id: follow_up_id(follow_up),
        silence_period: period,
        due_at: Timestamp::from_millis(due_at),
    }
}

fn entry(at: i64, event: LogEvent) -> LogEntry {
    LogEntry {
        at: Timestamp::from_millis(at),
        event,
    }
}

fn scheduled(follow_up: &str, period: u64, due_at: i64) -> LogEntry {
    entry(
        due_at,
        LogEvent::Scheduled {
            follow_up_id: follow_up_id(follow_up),
            silence_period: period,
            due_at: Timestamp::from_millis(due_at),
            requested_minutes: Some(240),
            effective_minutes: 240,
            clamped: false,
            send_as: PlannedSend::FreeForm,
        },
    )
}

fn cancelled(follow_up: &str, period: u64, reason: CancelReason) -> LogEntry {
    entry(
        1,
        LogEvent::Cancelled {
            follow_up_id: follow_up_id(follow_up),
            silence_period: period,
            reason,
        },
    )
}

/// Records a first customer message in `customer`'s conversation and plans `follow_ups`
/// for its silence period, due in order one minute apart.
async fn planned(store: &dyn Store, customer: &str, follow_ups: &[&str], at: i64) -> u64 {
    let bot = chatbot("clinic");
    let recorded = store
        .record_customer_message(
            &bot,
            &conversation(customer),
            message(&format!("m-{customer}-{at}"), at),
        )
        .await
        .expect("record");
    let period = recorded.conversation.silence_period;
    let mut due = at;
    let pending_set = follow_ups
        .iter()
        .map(|f| {
            due += 60_000;
            pending(customer, f, period, due)
        })
        .collect::<Vec<_>>();
    let log = pending_set
        .iter()
        .map(|p| scheduled(p.follow_up_id.as_str(), period, p.due_at.as_millis()))
        .collect();
    assert!(
        store
            .commit_plan(&bot, &conversation(customer), period, pending_set, log)
            .await
            .expect("commit")
    );
    period
}

fn update(status: DeliveryStatus, at: i64) -> DeliveryUpdate {
    DeliveryUpdate {
        status,
        sent_as: Some("text".to_owned()),
        template_name: None,
        platform_message_id: Some(format!("wamid.{at}")),
        detail: None,
        at: Timestamp::from_millis(at),
    }
}

/// Claims and settles `follow_up` of `customer`'s conversation (period 1) as `status`.
async fn delivered(
    store: &dyn Store,
    customer: &str,
    follow_up: &str,
    id: &str,
    status: DeliveryStatus,
    at: i64,
) {
    let bot = chatbot("clinic");
    let claim = store
        .claim_delivery(
            &bot,
            &conversation(customer),
            &follow_up_id(follow_up),
            1,
            id,
            Timestamp::from_millis(at - 1_000),
            Timestamp::from_millis(at + 60_000),
        )
        .await
        .expect("claim");
    assert_eq!(claim, Claim::Claimed(id.to_owned()));
    store
        .finish_delivery(&bot, id, update(status, at), Vec::new())
        .await
        .expect("finish");
}

async fn whole_log(store: &dyn Store, bot: &str, customer: &str) -> Vec<(u64, LogEntry)> {
    store
        .conversation_log(&chatbot(bot), &conversation(customer), None, 1_000)
        .await
        .expect("log")
        .entries
}

pub async fn when_an_integration_is_upserted_twice_then_it_is_created_then_updated(
    store: Arc<dyn Store>,
) {
    let first = integration("clinic", Platform::Whatsapp, "111", "token-1", 1_000);
    let (stored, outcome) = store
        .upsert_integration(first.clone())
        .await
        .expect("create");
    assert_eq!((stored, outcome), (first, Upserted::Created));

    let (stored, outcome) = store
        .upsert_integration(integration(
            "clinic",
            Platform::Whatsapp,
            "111",
            "token-2",
            2_000,
        ))
        .await
        .expect("update");
    assert_eq!(outcome, Upserted::Updated);
    assert_eq!(stored.access_token.expose(), "token-2");
    assert_eq!(
        (stored.created_at, stored.updated_at),
        (Timestamp::from_millis(1_000), Timestamp::from_millis(2_000)),
        "an update keeps the creation time"
    );
    let found = store
        .find_integration(Platform::Whatsapp, "111")
        .await
        .expect("find")
        .expect("present");
    assert_eq!(found, stored);
    assert!(
        store
            .find_integration(Platform::Instagram, "111")
            .await
            .expect("find")
            .is_none(),
        "the same account id on another platform is another account"
    );

    for (platform, account) in [(Platform::Messenger, "222"), (Platform::Whatsapp, "099")] {
        store
            .upsert_integration(integration("clinic", platform, account, "t", 3_000))
            .await
            .expect("create");
    }
    let listed: Vec<(Platform, String)> = store
        .list_integrations(&chatbot("clinic"))
        .await
        .expect("list")
        .into_iter()
        .map(|i| (i.platform, i.account_id))
        .collect();
    assert_eq!(
        listed,
        [
            (Platform::Messenger, "222".to_owned()),
            (Platform::Whatsapp, "099".to_owned()),
            (Platform::Whatsapp, "111".to_owned()),
        ],
        "ordered by platform, then account"
    );
    assert!(
        store
            .list_integrations(&chatbot("other-bot"))
            .await
            .expect("list")
            .is_empty()
    );
}

pub async fn when_another_chatbot_has_the_account_then_it_is_taken_and_stays_with_its_owner(
    store: Arc<dyn Store>,
) {
    store
        .upsert_integration(integration(
            "clinic",
            Platform::Whatsapp,
            "111",
            "mine",
            1_000,
        ))
        .await
        .expect("create");
    let taken = store
        .upsert_integration(integration(
            "other-bot",
            Platform::Whatsapp,
            "111",
            "theirs",
            2_000,
        ))
        .await;
    assert!(matches!(taken, Err(StoreError::AccountTaken)), "{taken:?}");
    let found = store
        .find_integration(Platform::Whatsapp, "111")
        .await
        .expect("find")
        .expect("present");
    assert_eq!(
        (found.chatbot_id, found.access_token.expose()),
        (chatbot("clinic"), "mine")
    );

    for (bot, account) in [("other-bot", "111"), ("clinic", "999")] {
        let missing = store
            .delete_integration(&chatbot(bot), Platform::Whatsapp, account)
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    }
    store
        .delete_integration(&chatbot("clinic"), Platform::Whatsapp, "111")
        .await
        .expect("delete");
    assert!(
        store
            .find_integration(Platform::Whatsapp, "111")
            .await
            .expect("find")
            .is_none()
    );
    let again = store
        .delete_integration(&chatbot("clinic"), Platform::Whatsapp, "111")
        .await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
    let (_, outcome) = store
        .upsert_integration(integration(
            "other-bot",
            Platform::Whatsapp,
            "111",
            "theirs",
            3_000,
        ))
        .await
        .expect("a released account can be connected again");
    assert_eq!(outcome, Upserted::Created);
}

pub async fn when_a_customer_message_is_delivered_twice_then_it_is_recorded_once(
    store: Arc<dyn Store>,
) {
    let (bot, conv) = (chatbot("clinic"), conversation("16315551181"));
    let mut first = message("wamid.1", 10_000);
    first.profile_name = Some("Ana".to_owned());
    let recorded = store
        .record_customer_message(&bot, &conv, first.clone())
        .await
        .expect("record");
    assert!(!recorded.duplicate);
    let expected = Conversation {
        chatbot_id: bot.clone(),
        id: conv.clone(),
        last_customer_message_at: Some(Timestamp::from_millis(10_000)),
        silence_period: 1,
        planned_period: 0,
        profile_name: Some("Ana".to_owned()),
        stopped_period: None,
    };
    assert_eq!(recorded.conversation, expected);

    let again = store
        .record_customer_message(&bot, &conv, first)
        .await
        .expect("redelivery");
    assert!(again.duplicate);
    assert_eq!(again.conversation, expected, "a duplicate changes nothing");
    assert_eq!(
        store.get_conversation(&bot, &conv).await.expect("get"),
        Some(expected)
    );
    assert!(
        store
            .get_conversation(&chatbot("other-bot"), &conv)
            .await
            .expect("get")
            .is_none(),
        "conversations belong to their chatbot"
    );
    assert_eq!(
        store
            .transcript(&bot, &conv)
            .await
            .expect("transcript")
            .len(),
        1
    );

    let log = whole_log(store.as_ref(), "clinic", "16315551181").await;
    assert_eq!(log.len(), 1);
    assert_eq!(
        log[0].1,
        entry(
            10_500,
            LogEvent::CustomerMessage {
                message_id: "wamid.1".to_owned(),
                message_kind: "text".to_owned(),
                sent_at: Timestamp::from_millis(10_000),
                silence_period: 1,
            }
        ),
        "logged at arrival, with Meta's time and the period it started"
    );
}

pub async fn when_the_same_message_is_recorded_concurrently_then_exactly_one_is_new(
    store: Arc<dyn Store>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            store
                .record_customer_message(
                    &chatbot("clinic"),
                    &conversation("16315551181"),
                    message("wamid.1", 10_000),
                )
                .await
        });
    }
    let mut new = 0;
    while let Some(result) = tasks.join_next().await {
        if !result.expect("task").expect("record").duplicate {
            new += 1;
        }
    }
    assert_eq!(new, 1);
    let conversation = store
        .get_conversation(&chatbot("clinic"), &conversation("16315551181"))
        .await
        .expect("get")
        .expect("present");
    assert_eq!(conversation.silence_period, 1);
    assert_eq!(
        whole_log(store.as_ref(), "clinic", "16315551181")
            .await
            .len(),
        1
    );
}

pub async fn when_an_older_message_arrives_late_then_it_joins_the_transcript_without_a_new_period(
    store: Arc<dyn Store>,
) {
    let (bot, conv) = (chatbot("clinic"), conversation("16315551181"));
    let newer = store
        .record_customer_message(&bot, &conv, message("m2", 20_000))
        .await
        .expect("record");
    assert_eq!(newer.conversation.silence_period, 1);
    for late in [message("m1", 10_000), message("m1b", 20_000)] {
        let recorded = store
            .record_customer_message(&bot, &conv, late)
            .await
            .expect("record");
        assert!(!recorded.duplicate);
        assert_eq!(recorded.conversation.silence_period, 1, "no new period");
        assert_eq!(
            recorded.conversation.last_customer_message_at,
            Some(Timestamp::from_millis(20_000)),
            "time never moves backwards"
        );
    }
    let times: Vec<i64> = store
        .transcript(&bot, &conv)
        .await
        .expect("transcript")
        .iter()
        .map(|l| l.at.as_millis())
        .collect();
    assert_eq!(
        times,
        [10_000, 20_000, 20_000],
        "oldest first, by Meta's time"
    );
    let log = whole_log(store.as_ref(), "clinic", "16315551181").await;
    assert_eq!(log.len(), 3, "every message is logged");
    assert!(matches!(
        &log[0].1.event,
        LogEvent::CustomerMessage { message_id, silence_period: 1, .. } if message_id == "m1b"
    ));
    let newest = store
        .record_customer_message(&bot, &conv, message("m3", 30_000))
        .await
        .expect("record");
    assert_eq!(newest.conversation.silence_period, 2);
}

pub async fn when_more_than_40_lines_are_written_then_the_transcript_keeps_the_latest_40(
    store: Arc<dyn Store>,
) {
    let (bot, conv) = (chatbot("clinic"), conversation("16315551181"));
    for i in 1..=30 {
        let mut m = message(&format!("c{i}"), i * 1_000);
        if i == 30 {
            m.text = Some("é".repeat(2_500));
        }
        store
            .record_customer_message(&bot, &conv, m)
            .await
            .expect("record");
    }
    for i in 1..=15 {
        let added = store
            .record_business_message(
                &bot,
                &conv,
                &format!("b{i}"),
                Timestamp::from_millis(i * 1_000 + 500),
                Some(format!("reply {i}")),
            )
            .await
            .expect("echo");
        assert!(added);
    }
    let duplicate = store
        .record_business_message(
            &bot,
            &conv,
            "b15",
            Timestamp::from_millis(15_500),
            Some("reply 15".to_owned()),
        )
        .await
        .expect("echo again");
    assert!(!duplicate, "an echo is recorded once per message id");

    let lines = store.transcript(&bot, &conv).await.expect("transcript");
    assert_eq!(lines.len(), 40);
    // 45 lines were written; the 5 oldest (1.0 s, 1.5 s, 2.0 s, 2.5 s, 3.0 s) are gone.
    assert_eq!(lines[0].at, Timestamp::from_millis(3_500));
    assert_eq!(lines[0].speaker, Speaker::Business);
    assert_eq!(lines[0].text, "reply 3");
    let last = lines.last().expect("lines");
    assert_eq!(
        (last.at, last.speaker),
        (Timestamp::from_millis(30_000), Speaker::Customer)
    );
    assert_eq!(
        last.text.chars().count(),
        2_000,
        "a line keeps 2000 characters"
    );
    assert!(lines.windows(2).all(|w| w[0].at <= w[1].at), "oldest first");
}

pub async fn when_listing_conversations_then_the_most_recently_active_come_first(
    store: Arc<dyn Store>,
) {
    let bot = chatbot("clinic");
    for (customer, at) in [
        ("1001", 10_000),
        ("1002", 30_000),
        ("1003", 20_000),
        ("1005", 30_000),
    ] {
        store
            .record_customer_message(
                &bot,
                &conversation(customer),
                message(&format!("m{customer}"), at),
            )
            .await
            .expect("record");
    }
    // Only the business wrote here: the conversation exists, without a silence period.
    assert!(
        store
            .record_business_message(
                &bot,
                &conversation("1004"),
                "b1",
                Timestamp::from_millis(40_000),
                None
            )
            .await
            .expect("echo")
    );
    let echo_only = store
        .get_conversation(&bot, &conversation("1004"))
        .await
        .expect("get")
        .expect("an echo creates the conversation");
    assert_eq!(
        (echo_only.silence_period, echo_only.last_customer_message_at),
        (0, None)
    );
    assert!(!echo_only.needs_planning());

    let ids = |list: Vec<Conversation>| -> Vec<String> {
        list.into_iter()
            .map(|c| c.id.parts().1.to_owned())
            .collect()
    };
    assert_eq!(
        ids(store.list_conversations(&bot, 10).await.expect("list")),
        ["1002", "1005", "1003", "1001", "1004"],
        "newest customer message first, ties by id, never-written last"
    );
    assert_eq!(
        ids(store.list_conversations(&bot, 2).await.expect("list")),
        ["1002", "1005"]
    );
    assert!(
        store
            .list_conversations(&chatbot("other-bot"), 10)
            .await
            .expect("list")
            .is_empty()
    );
}

pub async fn when_a_plan_is_committed_then_it_replaces_the_pending_set_only_for_the_current_period(
    store: Arc<dyn Store>,
) {
    let (bot, conv) = (chatbot("clinic"), conversation("16315551181"));
    store
        .record_customer_message(&bot, &conv, message("m1", 10_000))
        .await
        .expect("record");
    let first_set = vec![
        pending("16315551181", "f1", 1, 20_000),
        pending("16315551181", "f2", 1, 15_000),
    ];
    assert!(
        store
            .commit_plan(
                &bot,
                &conv,
                1,
                first_set.clone(),
                vec![scheduled("f1", 1, 20_000), scheduled("f2", 1, 15_000)],
            )
            .await
            .expect("commit")
    );
    let by_due: Vec<PendingFollowUp> = first_set.iter().rev().cloned().collect();
    assert_eq!(
        store
            .pending_follow_ups(&bot, &conv)
            .await
            .expect("pending"),
        by_due
    );
    let state = store
        .get_conversation(&bot, &conv)
        .await
        .expect("get")
        .expect("present");
    assert_eq!((state.silence_period, state.planned_period), (1, 1));
    assert!(!state.needs_planning());

    store
        .record_customer_message(&bot, &conv, message("m2", 50_000))
        .await
        .expect("record");
    let stale = store
        .commit_plan(
            &bot,
            &conv,
            1,
            vec![pending("16315551181", "f3", 1, 99_000)],
            vec![scheduled("f3", 1, 99_000)],
        )
        .await
        .expect("commit");
    assert!(!stale, "a plan for a period that is over is refused");
    assert_eq!(
        store
            .pending_follow_ups(&bot, &conv)
            .await
            .expect("pending"),
        by_due,
        "and writes nothing"
    );
    assert_eq!(
        whole_log(store.as_ref(), "clinic", "16315551181")
            .await
            .len(),
        4
    );

    assert!(
        store
            .commit_plan(
                &bot,
                &conv,
                2,
                vec![pending("16315551181", "f1", 2, 60_000)],
                vec![
                    cancelled("f1", 1, CancelReason::CustomerReplied),
                    cancelled("f2", 1, CancelReason::CustomerReplied),
                    scheduled("f1", 2, 60_000),
                ],
            )
            .await
            .expect("commit")
    );
    assert_eq!(
        store
            .pending_follow_ups(&bot, &conv)
            .await
            .expect("pending"),
        [pending("16315551181", "f1", 2, 60_000)],
        "the new set replaces the old one"
    );
    let state = store
        .get_conversation(&bot, &conv)
        .await
        .expect("get")
        .expect("present");
    assert_eq!(state.planned_period, 2);
    assert_eq!(
        whole_log(store.as_ref(), "clinic", "16315551181")
            .await
            .len(),
        7
    );
    assert!(
        !store
            .commit_plan(&bot, &conversation("999"), 1, Vec::new(), Vec::new())
            .await
            .expect("commit"),
        "no conversation, no plan"
    );
}

pub async fn when_a_pending_follow_up_is_settled_twice_then_only_the_first_settles(
    store: Arc<dyn Store>,
) {
    let (bot, conv) = (chatbot("clinic"), conversation("16315551181"));
    let period = planned(store.as_ref(), "16315551181", &["f1", "f2"], 10_000).await;
    let dropped = || {
        vec![entry(
            70_000,
            LogEvent::Dropped {
                follow_up_id: follow_up_id("f1"),
                silence_period: period,
                reason: DropReason::Stale,
            },
        )]
    };
    assert!(
        !store
            .settle_pending(&bot, &conv, &follow_up_id("f1"), period + 1, dropped())
            .await
            .expect("settle"),
        "only for the period it is pending in"
    );
    assert!(
        store
            .settle_pending(&bot, &conv, &follow_up_id("f1"), period, dropped())
            .await
            .expect("settle")
    );
    assert!(
        !store
            .settle_pending(&bot, &conv, &follow_up_id("f1"), period, dropped())
            .await
            .expect("settle again"),
        "a redelivery finds nothing"
    );
    let left: Vec<String> = store
        .pending_follow_ups(&bot, &conv)
        .await
        .expect("pending")
        .into_iter()
        .map(|p| p.follow_up_id.to_string())
        .collect();
    assert_eq!(left, ["f2"]);
    let drops = whole_log(store.as_ref(), "clinic", "16315551181")
        .await
        .into_iter()
        .filter(|(_, e)| matches!(e.event, LogEvent::Dropped { .. }))
        .count();
    assert_eq!(drops, 1, "logged once, with the settle");
}

pub async fn when_pending_is_listed_by_follow_up_then_every_conversation_of_the_chatbot_is_found(
    store: Arc<dyn Store>,
) {
    planned(store.as_ref(), "1003", &["f1"], 10_000).await;
    planned(store.as_ref(), "1001", &["f1", "f2"], 10_000).await;
    planned(store.as_ref(), "1002", &["f2"], 10_000).await;
    planned(store.as_ref(), "1004", &["f1"], 10_000).await;
    // Another chatbot's pending follow-up with the same id is not ours.
    let other = chatbot("other-bot");
    store
        .record_customer_message(&other, &conversation("1009"), message("x", 10_000))
        .await
        .expect("record");
    store
        .commit_plan(
            &other,
            &conversation("1009"),
            1,
            vec![pending("1009", "f1", 1, 70_000)],
            Vec::new(),
        )
        .await
        .expect("commit");

    let customers = |list: Vec<PendingFollowUp>| -> Vec<String> {
        list.into_iter()
            .map(|p| p.conversation_id.parts().1.to_owned())
            .collect()
    };
    let bot = chatbot("clinic");
    assert_eq!(
        customers(
            store
                .pending_for_follow_up(&bot, &follow_up_id("f1"))
                .await
                .expect("list")
        ),
        ["1001", "1003", "1004"]
    );
    assert_eq!(
        customers(
            store
                .pending_for_follow_up(&bot, &follow_up_id("f2"))
                .await
                .expect("list")
        ),
        ["1001", "1002"]
    );
    let found = store
        .pending_for_follow_up(&bot, &follow_up_id("f1"))
        .await
        .expect("list");
    assert_eq!(found[0], pending("1001", "f1", 1, 70_000));
}

pub async fn when_the_log_is_paged_then_entries_come_newest_first_without_gaps_or_repeats(
    store: Arc<dyn Store>,
) {
    let (bot, conv) = (chatbot("clinic"), conversation("16315551181"));
    store
        .record_customer_message(&bot, &conv, message("m1", 1_000))
        .await
        .expect("record");
    for batch in [vec![2], vec![3, 4], vec![5, 6, 7]] {
        let entries = batch
            .into_iter()
            .map(|i| cancelled(&format!("f{i}"), 1, CancelReason::CustomerReplied))
            .collect();
        store
            .append_log(&bot, &conv, entries)
            .await
            .expect("append");
    }
    let names = |entries: &[(u64, LogEntry)]| -> Vec<String> {
        entries
            .iter()
            .map(|(_, e)| match e.event.follow_up_id() {
                Some(f) => f.to_string(),
                None => "message".to_owned(),
            })
            .collect()
    };
    let first = store
        .conversation_log(&bot, &conv, None, 4)
        .await
        .expect("page 1");
    assert_eq!(names(&first.entries), ["f7", "f6", "f5", "f4"]);
    let cursor = first.next_before.expect("more pages");
    assert_eq!(Some(cursor), first.entries.last().map(|(seq, _)| *seq));
    let second = store
        .conversation_log(&bot, &conv, Some(cursor), 4)
        .await
        .expect("page 2");
    assert_eq!(names(&second.entries), ["f3", "f2", "message"]);
    assert_eq!(second.next_before, None, "the last page says so");
    let seqs: Vec<u64> = first
        .entries
        .iter()
        .chain(&second.entries)
        .map(|(seq, _)| *seq)
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "strictly newest first: {seqs:?}"
    );

    let exact = store
        .conversation_log(&bot, &conv, None, 7)
        .await
        .expect("all");
    assert_eq!((exact.entries.len(), exact.next_before), (7, None));
    let short = store
        .conversation_log(&bot, &conv, None, 6)
        .await
        .expect("six");
    assert_eq!(short.entries.len(), 6);
    assert!(short.next_before.is_some());
    let from_middle = store
        .conversation_log(&bot, &conv, Some(seqs[2]), 2)
        .await
        .expect("page");
    assert_eq!(names(&from_middle.entries), ["f4", "f3"]);
    assert!(
        store
            .conversation_log(&chatbot("other-bot"), &conv, None, 10)
            .await
            .expect("log")
            .entries
            .is_empty()
    );
}

pub async fn when_logs_are_appended_concurrently_then_every_entry_is_kept_once(
    store: Arc<dyn Store>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            store
                .append_log(
                    &chatbot("clinic"),
                    &conversation("16315551181"),
                    vec![cancelled(
                        &format!("f{i}"),
                        1,
                        CancelReason::CustomerReplied,
                    )],
                )
                .await
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.expect("task").expect("append");
    }
    let log = whole_log(store.as_ref(), "clinic", "16315551181").await;
    let mut seqs: Vec<u64> = log.iter().map(|(seq, _)| *seq).collect();
    let mut follow_ups: Vec<String> = log
        .iter()
        .filter_map(|(_, e)| e.event.follow_up_id().map(ToString::to_string))
        .collect();
    seqs.dedup();
    follow_ups.sort();
    assert_eq!(seqs.len(), 10, "every entry has its own sequence number");
    assert_eq!(
        follow_ups,
        (0..10).map(|i| format!("f{i}")).collect::<Vec<_>>()
    );
}

pub async fn when_20_claims_race_then_exactly_one_wins(store: Arc<dyn Store>) {
    planned(store.as_ref(), "16315551181", &["f1"], 10_000).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            store
                .claim_delivery(
                    &chatbot("clinic"),
                    &conversation("16315551181"),
                    &follow_up_id("f1"),
                    1,
                    &format!("dlv_{i:02}"),
                    Timestamp::from_millis(70_000),
                    Timestamp::from_millis(130_000),
                )
                .await
        });
    }
    let mut winners = Vec::new();
    let mut taken = Vec::new();
    while let Some(result) = tasks.join_next().await {
        match result.expect("task").expect("claim") {
            Claim::Claimed(id) => winners.push(id),
            Claim::Taken(delivery) => taken.push(*delivery),
            other @ Claim::TakenOver { .. } => panic!("no lease ran out: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert_eq!(taken.len(), 19);
    assert!(
        taken
            .iter()
            .all(|d| d.id == winners[0] && d.status == DeliveryStatus::Claimed),
        "the losers see the winner's claim"
    );
    let held = store
        .find_delivery(
            &chatbot("clinic"),
            &conversation("16315551181"),
            &follow_up_id("f1"),
            1,
        )
        .await
        .expect("find")
        .expect("claimed");
    assert_eq!(
        (held.id, held.status, held.silence_period, held.created_at),
        (
            winners[0].clone(),
            DeliveryStatus::Claimed,
            1,
            Timestamp::from_millis(70_000)
        )
    );
}

pub async fn when_a_throttled_delivery_is_claimed_again_then_it_keeps_its_id(
    store: Arc<dyn Store>,
) {
    let (bot, conv, f1) = (
        chatbot("clinic"),
        conversation("16315551181"),
        follow_up_id("f1"),
    );
    planned(store.as_ref(), "16315551181", &["f1"], 10_000).await;
    let claim = |id: &'static str, at: i64| {
        let (store, bot, conv, f1) = (Arc::clone(&store), bot.clone(), conv.clone(), f1.clone());
        async move {
            store
                .claim_delivery(
                    &bot,
                    &conv,
                    &f1,
                    1,
                    id,
                    Timestamp::from_millis(at),
                    Timestamp::from_millis(at + 60_000),
                )
                .await
                .expect("claim")
        }
    };
    assert_eq!(claim("dlv_a", 70_000).await, Claim::Claimed("dlv_a".into()));
    store
        .mark_throttled(
            &chatbot("other-bot"),
            "dlv_a",
            Timestamp::from_millis(70_500),
        )
        .await
        .expect("foreign mark is a no-op");
    assert!(matches!(claim("dlv_x", 70_600).await, Claim::Taken(_)));
    store
        .mark_throttled(&bot, "dlv_a", Timestamp::from_millis(71_000))
        .await
        .expect("throttle");
    let throttled = store
        .find_delivery(&bot, &conv, &f1, 1)
        .await
        .expect("find")
        .expect("present");
    assert_eq!(
        (throttled.status, throttled.updated_at),
        (DeliveryStatus::Throttled, Timestamp::from_millis(71_000))
    );

    assert_eq!(
        claim("dlv_b", 72_000).await,
        Claim::Claimed("dlv_a".into()),
        "the retry goes on under the original id"
    );
    let reclaimed = store
        .find_delivery(&bot, &conv, &f1, 1)
        .await
        .expect("find")
        .expect("present");
    assert_eq!(
        (
            reclaimed.id.as_str(),
            reclaimed.status,
            reclaimed.created_at,
            reclaimed.updated_at
        ),
        (
            "dlv_a",
            DeliveryStatus::Claimed,
            Timestamp::from_millis(70_000),
            Timestamp::from_millis(72_000)
        )
    );
    assert!(matches!(claim("dlv_c", 73_000).await, Claim::Taken(d) if d.id == "dlv_a"));

    // The judge asked to wait: the claim is given back and the next check claims anew.
    store
        .release_claim(&chatbot("other-bot"), "dlv_a")
        .await
        .expect("foreign release");
    assert!(
        store
            .find_delivery(&bot, &conv, &f1, 1)
            .await
            .expect("find")
            .is_some()
    );
    store.release_claim(&bot, "dlv_a").await.expect("release");
    assert!(
        store
            .find_delivery(&bot, &conv, &f1, 1)
            .await
            .expect("find")
            .is_none()
    );
    store
        .release_claim(&bot, "dlv_unknown")
        .await
        .expect("unknown release is a no-op");
    assert_eq!(claim("dlv_d", 74_000).await, Claim::Claimed("dlv_d".into()));

    // Only claims are released or throttled: a settled delivery stays as it is.
    store
        .finish_delivery(
            &bot,
            "dlv_d",
            update(DeliveryStatus::Sent, 75_000),
            Vec::new(),
        )
        .await
        .expect("finish");
    store.release_claim(&bot, "dlv_d").await.expect("release");
    store
        .mark_throttled(&bot, "dlv_d", Timestamp::from_millis(76_000))
        .await
        .expect("throttle");
    let sent = store
        .find_delivery(&bot, &conv, &f1, 1)
        .await
        .expect("find")
        .expect("present");
    assert_eq!(
        (sent.id.as_str(), sent.status),
        ("dlv_d", DeliveryStatus::Sent)
    );
    assert!(
        matches!(claim("dlv_e", 77_000).await, Claim::Taken(d) if d.status == DeliveryStatus::Sent)
    );
}

pub async fn when_a_claims_lease_runs_out_then_one_claim_takes_it_over_and_knows_whether_meta_was_called(
    store: Arc<dyn Store>,
) {
    let (bot, conv, f1) = (
        chatbot("clinic"),
        conversation("16315551181"),
        follow_up_id("f1"),
    );
    planned(store.as_ref(), "16315551181", &["f1"], 10_000).await;
    let claim = |token: String, at: i64| {
        let (store, bot, conv, f1) = (Arc::clone(&store), bot.clone(), conv.clone(), f1.clone());
        async move {
            store
                .claim_delivery(
                    &bot,
                    &conv,
                    &f1,
                    1,
                    &token,
                    Timestamp::from_millis(at),
                    Timestamp::from_millis(at + 60_000),
                )
                .await
                .expect("claim")
        }
    };
    let find = || async {
        store
            .find_delivery(&bot, &conv, &f1, 1)
            .await
            .expect("find")
            .expect("present")
    };
    assert_eq!(
        claim("dlv_a".into(), 70_000).await,
        Claim::Claimed("dlv_a".into())
    );
    // While the lease runs, the claim is its holder's.
    assert!(matches!(
        claim("dlv_b".into(), 129_999).await,
        Claim::Taken(d) if d.id == "dlv_a" && d.lease_until == Some(Timestamp::from_millis(130_000))
    ));

    // The holder stopped: after its lease, exactly one of the racing claims takes it over,
    // under the delivery's id; the others see it held.
    let racers: Vec<_> = (0..10)
        .map(|i| tokio::spawn(claim(format!("dlv_r{i}"), 131_000)))
        .collect();
    let mut taken_over = Vec::new();
    for racer in racers {
        match racer.await.expect("task") {
            Claim::TakenOver {
                id,
                attempt_started_at,
            } => taken_over.push((id, attempt_started_at)),
            Claim::Taken(d) => assert_eq!(d.status, DeliveryStatus::Claimed),
            other @ Claim::Claimed(_) => panic!("a held delivery was claimed anew: {other:?}"),
        }
    }
    assert_eq!(taken_over, vec![("dlv_a".to_owned(), None)]);
    let held = find().await;
    assert_eq!(
        (held.id.as_str(), held.status, held.lease_until),
        (
            "dlv_a",
            DeliveryStatus::Claimed,
            Some(Timestamp::from_millis(191_000))
        )
    );

    // Only the new holder's token can start an attempt; the old holder's is refused.
    let holder = (0..10).map(|i| format!("dlv_r{i}")).collect::<Vec<_>>();
    for stale in ["dlv_a", "dlv_b"] {
        assert!(
            !store
                .start_attempt(&bot, "dlv_a", stale, Timestamp::from_millis(132_000))
                .await
                .expect("start attempt"),
            "{stale} no longer holds the claim"
        );
    }
    let mut started = 0;
    for token in &holder {
        assert!(
            !store
                .start_attempt(
                    &chatbot("other-bot"),
                    "dlv_a",
                    token,
                    Timestamp::from_millis(132_000)
                )
                .await
                .expect("foreign start attempt")
        );
        if store
            .start_attempt(&bot, "dlv_a", token, Timestamp::from_millis(132_000))
            .await
            .expect("start attempt")
        {
            started += 1;
        }
    }
    assert_eq!(started, 1, "exactly the holder starts the attempt");
    assert_eq!(
        find().await.attempt_started_at,
        Some(Timestamp::from_millis(132_000))
    );

    // Its holder stopped too, after it called Meta: the next taker learns that.
    assert!(matches!(
        claim("dlv_c".into(), 190_000).await,
        Claim::Taken(_)
    ));
    assert_eq!(
        claim("dlv_d".into(), 191_001).await,
        Claim::TakenOver {
            id: "dlv_a".into(),
            attempt_started_at: Some(Timestamp::from_millis(132_000)),
        }
    );
    store
        .finish_delivery(
            &bot,
            "dlv_a",
            update(DeliveryStatus::Unknown, 191_500),
            Vec::new(),
        )
        .await
        .expect("finish");
    let settled = find().await;
    assert_eq!(
        (settled.status, settled.lease_until),
        (DeliveryStatus::Unknown, None)
    );
    // A settled delivery is never taken over, however old.
    assert!(matches!(
        claim("dlv_e".into(), 10_000_000).await,
        Claim::Taken(d) if d.status == DeliveryStatus::Unknown
    ));
}

pub async fn when_a_delivery_is_finished_then_its_pending_entry_goes_and_the_outcome_is_logged(
    store: Arc<dyn Store>,
) {
    let (bot, conv) = (chatbot("clinic"), conversation("16315551181"));
    planned(store.as_ref(), "16315551181", &["f1", "f2"], 10_000).await;
    let claim = store
        .claim_delivery(
            &bot,
            &conv,
            &follow_up_id("f1"),
            1,
            "dlv_1",
            Timestamp::from_millis(70_000),
            Timestamp::from_millis(130_000),
        )
        .await
        .expect("claim");
    assert_eq!(claim, Claim::Claimed("dlv_1".into()));
    let sent_log = entry(
        71_000,
        LogEvent::Sent {
            follow_up_id: follow_up_id("f1"),
            silence_period: 1,
            delivery_id: "dlv_1".to_owned(),
            sent_as: "text".to_owned(),
        },
    );
    store
        .finish_delivery(
            &bot,
            "dlv_1",
            update(DeliveryStatus::Sent, 71_000),
            vec![sent_log.clone()],
        )
        .await
        .expect("finish");
    let delivery = store
        .find_delivery(&bot, &conv, &follow_up_id("f1"), 1)
        .await
        .expect("find")
        .expect("present");
    assert_eq!(
        delivery,
        Delivery {
            id: "dlv_1".to_owned(),
            chatbot_id: bot.clone(),
            conversation_id: conv.clone(),
            follow_up_id: follow_up_id("f1"),
            silence_period: 1,
            status: DeliveryStatus::Sent,
            sent_as: Some("text".to_owned()),
            template_name: None,
            platform_message_id: Some("wamid.71000".to_owned()),
            detail: None,
            created_at: Timestamp::from_millis(70_000),
            updated_at: Timestamp::from_millis(71_000),
            sent_at: Some(Timestamp::from_millis(71_000)),
            replied_at: None,
            lease_until: None,
            attempt_started_at: None,
        }
    );
    let left: Vec<String> = store
        .pending_follow_ups(&bot, &conv)
        .await
        .expect("pending")
        .into_iter()
        .map(|p| p.follow_up_id.to_string())
        .collect();
    assert_eq!(left, ["f2"]);
    assert_eq!(
        whole_log(store.as_ref(), "clinic", "16315551181").await[0].1,
        sent_log
    );
    assert_eq!(
        store
            .list_deliveries(&bot, &follow_up_id("f1"), 10)
            .await
            .expect("list"),
        [delivery]
    );

    for (owner, id) in [("clinic", "dlv_unknown"), ("other-bot", "dlv_1")] {
        let missing = store
            .finish_delivery(
                &chatbot(owner),
                id,
                update(DeliveryStatus::Sent, 72_000),
                Vec::new(),
            )
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    }

    // Settling a delivery of an old period leaves the newer period's pending entry alone.
    store
        .claim_delivery(
            &bot,
            &conv,
            &follow_up_id("f2"),
            1,
            "dlv_2",
            Timestamp::from_millis(73_000),
            Timestamp::from_millis(133_000),
        )
        .await
        .expect("claim");
    store
        .record_customer_message(&bot, &conv, message("m2", 80_000))
        .await
        .expect("record");
    assert!(
        store
            .commit_plan(
                &bot,
                &conv,
                2,
                vec![pending("16315551181", "f2", 2, 90_000)],
                Vec::new()
            )
            .await
            .expect("commit")
    );
    let mut skipped = update(DeliveryStatus::Skipped, 81_000);
    skipped.detail = Some("window_closed".to_owned());
    store
        .finish_delivery(&bot, "dlv_2", skipped, Vec::new())
        .await
        .expect("finish");
    assert_eq!(
        store
            .pending_follow_ups(&bot, &conv)
            .await
            .expect("pending"),
        [pending("16315551181", "f2", 2, 90_000)]
    );
    let settled = store
        .find_delivery(&bot, &conv, &follow_up_id("f2"), 1)
        .await
        .expect("find")
        .expect("present");
    assert_eq!(
        (settled.status, settled.sent_at, settled.detail.as_deref()),
        (DeliveryStatus::Skipped, None, Some("window_closed"))
    );
}

pub async fn when_statuses_arrive_then_they_only_move_forward_and_stay_in_their_chatbot(
    store: Arc<dyn Store>,
) {
    let bot = chatbot("clinic");
    planned(store.as_ref(), "16315551181", &["f1"], 10_000).await;
    delivered(
        store.as_ref(),
        "16315551181",
        "f1",
        "dlv_1",
        DeliveryStatus::Sent,
        71_000,
    )
    .await;
    let status = |bot: &str, id: &'static str, status: DeliveryStatus, at: i64| {
        let (store, bot) = (Arc::clone(&store), chatbot(bot));
        async move {
            store
                .record_delivery_status(&bot, id, status, Timestamp::from_millis(at))
                .await
                .expect("status")
        }
    };
    assert!(!status("other-bot", "dlv_1", DeliveryStatus::Delivered, 72_000).await);
    assert!(!status("clinic", "dlv_unknown", DeliveryStatus::Delivered, 72_000).await);
    assert!(status("clinic", "dlv_1", DeliveryStatus::Delivered, 72_000).await);
    assert!(
        !status("clinic", "dlv_1", DeliveryStatus::Sent, 73_000).await,
        "never backwards"
    );
    assert!(
        !status("clinic", "dlv_1", DeliveryStatus::Delivered, 73_000).await,
        "nor sideways"
    );
    assert!(status("clinic", "dlv_1", DeliveryStatus::Read, 74_000).await);
    let read = store
        .find_delivery(&bot, &conversation("16315551181"), &follow_up_id("f1"), 1)
        .await
        .expect("find")
        .expect("present");
    assert_eq!(
        (read.status, read.updated_at, read.sent_at),
        (
            DeliveryStatus::Read,
            Timestamp::from_millis(74_000),
            Some(Timestamp::from_millis(71_000))
        )
    );
    assert!(
        status("clinic", "dlv_1", DeliveryStatus::Failed, 75_000).await,
        "failed from any"
    );
    assert!(
        !status("clinic", "dlv_1", DeliveryStatus::Read, 76_000).await,
        "failed is final"
    );
}

pub async fn when_the_customer_writes_within_24_hours_of_a_send_then_it_counts_as_a_reply(
    store: Arc<dyn Store>,
) {
    const HOUR: i64 = 60 * 60 * 1000;
    let bot = chatbot("clinic");
    let t0 = 1_000 * HOUR;
    planned(store.as_ref(), "1001", &["f1"], t0).await;
    planned(store.as_ref(), "1002", &["f1"], t0).await;
    delivered(
        store.as_ref(),
        "1001",
        "f1",
        "dlv_1",
        DeliveryStatus::Sent,
        t0 + 4 * HOUR,
    )
    .await;
    delivered(
        store.as_ref(),
        "1002",
        "f1",
        "dlv_2",
        DeliveryStatus::Sent,
        t0 + 4 * HOUR,
    )
    .await;

    // Before the send (a late, older message): not a reply.
    store
        .record_customer_message(&bot, &conversation("1001"), message("early", t0 + HOUR))
        .await
        .expect("record");
    store
        .record_customer_message(&bot, &conversation("1001"), message("r1", t0 + 6 * HOUR))
        .await
        .expect("record");
    store
        .record_customer_message(&bot, &conversation("1001"), message("r2", t0 + 7 * HOUR))
        .await
        .expect("record");
    store
        .record_customer_message(&bot, &conversation("1002"), message("late", t0 + 29 * HOUR))
        .await
        .expect("record");

    let find = |customer: &str| {
        let (store, bot, conv) = (Arc::clone(&store), bot.clone(), conversation(customer));
        async move {
            store
                .find_delivery(&bot, &conv, &follow_up_id("f1"), 1)
                .await
                .expect("find")
                .expect("present")
        }
    };
    assert_eq!(
        find("1001").await.replied_at,
        Some(Timestamp::from_millis(t0 + 6 * HOUR)),
        "the first message within 24 h is the reply"
    );
    assert_eq!(
        find("1002").await.replied_at,
        None,
        "25 h later is not a reply"
    );
    let stats = store
        .follow_up_stats(&bot, &follow_up_id("f1"))
        .await
        .expect("stats");
    assert_eq!((stats.sent, stats.replied), (2, 1));
    assert_eq!(stats.reply_rate(), Some(0.5));
}

pub async fn when_events_are_logged_then_follow_up_stats_count_them(store: Arc<dyn Store>) {
    let (bot, conv) = (chatbot("clinic"), conversation("1001"));
    planned(store.as_ref(), "1001", &["f1", "f2"], 10_000).await;
    planned(store.as_ref(), "1002", &["f1"], 10_000).await;
    planned(store.as_ref(), "1003", &["f1"], 10_000).await;
    assert!(
        store
            .settle_pending(
                &bot,
                &conv,
                &follow_up_id("f1"),
                1,
                vec![entry(
                    80_000,
                    LogEvent::Dropped {
                        follow_up_id: follow_up_id("f1"),
                        silence_period: 1,
                        reason: DropReason::Stale,
                    },
                )],
            )
            .await
            .expect("settle")
    );
    let f1 = follow_up_id("f1");
    store
        .append_log(
            &bot,
            &conv,
            vec![
                cancelled("f1", 1, CancelReason::CustomerReplied),
                cancelled("f1", 2, CancelReason::CustomerReplied),
                cancelled("f1", 3, CancelReason::FollowUpDeactivated),
                entry(
                    1,
                    LogEvent::Skipped {
                        follow_up_id: f1.clone(),
                        silence_period: 1,
                        reason: SkipReason::WindowClosed,
                    },
                ),
                entry(
                    1,
                    LogEvent::Stopped {
                        follow_up_id: f1.clone(),
                        silence_period: 1,
                    },
                ),
                entry(
                    1,
                    LogEvent::Failed {
                        follow_up_id: f1.clone(),
                        silence_period: 1,
                        delivery_id: "d".into(),
                        error: "e".into(),
                    },
                ),
                entry(
                    1,
                    LogEvent::OutcomeUnknown {
                        follow_up_id: f1.clone(),
                        silence_period: 1,
                        delivery_id: "d".into(),
                    },
                ),
                // Neither counts: waiting is not an outcome, and sends count from deliveries.
                entry(
                    1,
                    LogEvent::Waiting {
                        follow_up_id: f1.clone(),
                        silence_period: 1,
                        until: Timestamp::from_millis(2),
                        judge_retry: None,
                    },
                ),
                entry(
                    1,
                    LogEvent::Sent {
                        follow_up_id: f1.clone(),
                        silence_period: 1,
                        delivery_id: "d".into(),
                        sent_as: "text".into(),
                    },
                ),
            ],
        )
        .await
        .expect("append");

    // Sent counts deliveries that went out and did not fail afterwards; an unknown
    // outcome that WhatsApp later reports delivered counts too.
    delivered(
        store.as_ref(),
        "1001",
        "f1",
        "dlv_1",
        DeliveryStatus::Sent,
        90_000,
    )
    .await;
    delivered(
        store.as_ref(),
        "1002",
        "f1",
        "dlv_2",
        DeliveryStatus::Sent,
        90_000,
    )
    .await;
    delivered(
        store.as_ref(),
        "1003",
        "f1",
        "dlv_3",
        DeliveryStatus::Unknown,
        90_000,
    )
    .await;
    let interim = store.follow_up_stats(&bot, &f1).await.expect("stats");
    assert_eq!(interim.sent, 2, "an unknown outcome is not (yet) a send");
    for (id, status) in [
        ("dlv_2", DeliveryStatus::Failed),
        ("dlv_3", DeliveryStatus::Delivered),
    ] {
        assert!(
            store
                .record_delivery_status(&bot, id, status, Timestamp::from_millis(91_000))
                .await
                .expect("status")
        );
    }

    let stats = store.follow_up_stats(&bot, &f1).await.expect("stats");
    let by = |pairs: &[(&str, u64)]| -> BTreeMap<String, u64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    };
    assert_eq!(
        stats,
        FollowUpStats {
            scheduled: 3,
            cancelled: by(&[("customer_replied", 2), ("follow_up_deactivated", 1)]),
            dropped: by(&[("stale", 1)]),
            skipped: by(&[("window_closed", 1)]),
            stopped: 1,
            sent: 2,
            failed: 1,
            outcome_unknown: 1,
            replied: 0,
        }
    );
    let f2 = store
        .follow_up_stats(&bot, &follow_up_id("f2"))
        .await
        .expect("stats");
    assert_eq!((f2.scheduled, f2.sent), (1, 0));
    assert_eq!(
        store
            .follow_up_stats(&chatbot("other-bot"), &f1)
            .await
            .expect("stats"),
        FollowUpStats::default()
    );
}

pub async fn when_the_stop_trigger_is_met_then_only_the_current_period_is_stopped(
    store: Arc<dyn Store>,
) {
    let (bot, conv) = (chatbot("clinic"), conversation("16315551181"));
    store
        .record_customer_message(&bot, &conv, message("m1", 10_000))
        .await
        .expect("record");
    assert!(!store.stop_conversation(&bot, &conv, 2).await.expect("stop"));
    assert!(store.stop_conversation(&bot, &conv, 1).await.expect("stop"));
    let stopped = store
        .get_conversation(&bot, &conv)
        .await
        .expect("get")
        .expect("present");
    assert_eq!(stopped.stopped_period, Some(1));
    let next = store
        .record_customer_message(&bot, &conv, message("m2", 20_000))
        .await
        .expect("record");
    assert_eq!(
        (
            next.conversation.silence_period,
            next.conversation.stopped_period
        ),
        (2, Some(1)),
        "a new period is not stopped; the old mark stays with the old period"
    );
    assert!(!store.stop_conversation(&bot, &conv, 1).await.expect("stop"));
    assert!(
        !store
            .stop_conversation(&bot, &conversation("999"), 1)
            .await
            .expect("stop"),
        "no conversation, nothing to stop"
    );
}

pub async fn when_a_pending_follow_up_is_rescheduled_then_it_moves_only_within_its_period(
    store: Arc<dyn Store>,
) {
    let (bot, conv, f1) = (
        chatbot("clinic"),
        conversation("16315551181"),
        follow_up_id("f1"),
    );
    planned(store.as_ref(), "16315551181", &["f1"], 10_000).await;
    let waiting = entry(
        80_000,
        LogEvent::Waiting {
            follow_up_id: f1.clone(),
            silence_period: 1,
            until: Timestamp::from_millis(400_000),
            judge_retry: Some(1),
        },
    );
    assert!(
        store
            .reschedule_pending(
                &bot,
                &conv,
                &f1,
                1,
                Timestamp::from_millis(400_000),
                vec![waiting.clone()]
            )
            .await
            .expect("reschedule")
    );
    assert_eq!(
        store
            .pending_follow_ups(&bot, &conv)
            .await
            .expect("pending"),
        [pending("16315551181", "f1", 1, 400_000)]
    );
    assert_eq!(
        whole_log(store.as_ref(), "clinic", "16315551181").await[0].1,
        waiting
    );
    for (follow_up, period) in [("f1", 2), ("f2", 1)] {
        assert!(
            !store
                .reschedule_pending(
                    &bot,
                    &conv,
                    &follow_up_id(follow_up),
                    period,
                    Timestamp::from_millis(500_000),
                    vec![waiting.clone()],
                )
                .await
                .expect("reschedule"),
            "{follow_up} is not pending in period {period}"
        );
    }
    assert_eq!(
        whole_log(store.as_ref(), "clinic", "16315551181")
            .await
            .len(),
        3,
        "a refused reschedule logs nothing"
    );
    assert_eq!(
        store
            .pending_follow_ups(&bot, &conv)
            .await
            .expect("pending"),
        [pending("16315551181", "f1", 1, 400_000)]
    );
}

// ---------------------------------------------------------------------------------------
// The WhatsApp template catalogue.
// ---------------------------------------------------------------------------------------

/// An approved utility template of account `waba` with one body parameter.
pub fn template(waba: &str, name: &str, language: &str) -> MessageTemplate {
    MessageTemplate {
        waba_id: waba.to_owned(),
        template_id: format!("{waba}{}", name.len() * 1000 + language.len()),
        name: name.to_owned(),
        language: language.to_owned(),
        category: Some(TemplateCategory::Utility),
        status: TemplateStatus::Approved,
        status_reason: None,
        parameter_format: ParameterFormat::Positional,
        body_text: Some(format!("Hi {{{{1}}}}, about {name}")),
        body_parameter_count: 1,
        unsupported: None,
        components_json: json!([{"type": "BODY", "text": format!("Hi {{{{1}}}}, about {name}")}])
            .to_string(),
    }
}

/// A template with every optional field at its other extreme: no category, a reason, named
/// parameters, no body, unsupported, components with a media header.
fn odd_template(waba: &str, name: &str, language: &str) -> MessageTemplate {
    MessageTemplate {
        category: None,
        status: TemplateStatus::Paused,
        status_reason: Some("LOW_QUALITY".to_owned()),
        parameter_format: ParameterFormat::Named,
        body_text: None,
        body_parameter_count: 0,
        unsupported: Some("the header is an image".to_owned()),
        components_json: json!([
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1n"]}},
            {"type": "BUTTONS", "buttons": [{"type": "URL", "url": "https://x.test/{{1}}"}]},
        ])
        .to_string(),
        ..template(waba, name, language)
    }
}

fn at(template: &MessageTemplate, status_at: i64) -> CatalogueEntry {
    CatalogueEntry {
        template: template.clone(),
        status_at: Timestamp::from_millis(status_at),
    }
}

fn account(waba: &str, synced_at: i64) -> CatalogueAccount {
    CatalogueAccount {
        waba_id: waba.to_owned(),
        synced_at: Timestamp::from_millis(synced_at),
    }
}

async fn templates_of(store: &dyn Store, bot: &str) -> Vec<CatalogueEntry> {
    store
        .list_templates(&chatbot(bot))
        .await
        .expect("list templates")
}

async fn accounts_of(store: &dyn Store, bot: &str) -> Vec<CatalogueAccount> {
    store
        .catalogue_accounts(&chatbot(bot))
        .await
        .expect("catalogue accounts")
}

async fn replace(store: &dyn Store, bot: &str, waba: &str, list: Vec<MessageTemplate>, at: i64) {
    store
        .replace_catalogue(&chatbot(bot), waba, list, Timestamp::from_millis(at))
        .await
        .expect("replace catalogue");
}

pub async fn when_a_catalogue_is_replaced_then_only_the_listed_templates_remain(
    store: Arc<dyn Store>,
) {
    let (a, b, c) = (
        template("111", "appointment_reminder", "en_US"),
        template("111", "booking_offer", "en_US"),
        template("111", "booking_offer", "pt_BR"),
    );
    replace(
        &*store,
        "clinic",
        "111",
        vec![c.clone(), a.clone(), b.clone()],
        1_000,
    )
    .await;
    assert_eq!(
        templates_of(&*store, "clinic").await,
        [at(&a, 1_000), at(&b, 1_000), at(&c, 1_000)],
        "by name, then language"
    );

    let other_account = template("222", "appointment_reminder", "en_US");
    replace(&*store, "clinic", "222", vec![other_account.clone()], 1_500).await;

    // Meta now lists a changed `a`, a new `d`, and no longer `b` or `c`.
    let changed_a = odd_template("111", "appointment_reminder", "en_US");
    let d = template("111", "welcome", "es");
    let refreshed = [d.clone(), changed_a.clone()];
    replace(&*store, "clinic", "111", refreshed.to_vec(), 2_000).await;
    let expected = [
        at(&changed_a, 2_000),
        at(&other_account, 1_500),
        at(&d, 2_000),
    ];
    assert_eq!(
        templates_of(&*store, "clinic").await,
        expected,
        "the account holds exactly the new list, every field as given, status as of the \
         refresh; the other account is untouched; same name and language by account"
    );
    assert_eq!(
        accounts_of(&*store, "clinic").await,
        [account("111", 2_000), account("222", 1_500)]
    );

    replace(&*store, "clinic", "111", refreshed.to_vec(), 2_000).await;
    assert_eq!(
        templates_of(&*store, "clinic").await,
        expected,
        "a repeated refresh changes nothing"
    );

    replace(&*store, "clinic", "111", vec![], 3_000).await;
    assert_eq!(
        templates_of(&*store, "clinic").await,
        [at(&other_account, 1_500)],
        "an empty list empties the account"
    );
    assert_eq!(
        accounts_of(&*store, "clinic").await,
        [account("111", 3_000), account("222", 1_500)],
        "an empty account stays linked"
    );
}

pub async fn when_another_chatbot_did_not_link_the_account_then_it_sees_no_templates(
    store: Arc<dyn Store>,
) {
    let mine = template("111", "appointment_reminder", "en_US");
    replace(&*store, "clinic", "111", vec![mine.clone()], 1_000).await;
    assert!(templates_of(&*store, "other-bot").await.is_empty());
    assert!(accounts_of(&*store, "other-bot").await.is_empty());

    let theirs = template("222", "order_update", "en_US");
    replace(&*store, "other-bot", "222", vec![theirs.clone()], 2_000).await;
    assert_eq!(
        templates_of(&*store, "other-bot").await,
        [at(&theirs, 2_000)]
    );
    assert_eq!(templates_of(&*store, "clinic").await, [at(&mine, 1_000)]);
    assert_eq!(
        accounts_of(&*store, "clinic").await,
        [account("111", 1_000)]
    );

    // A refresh of the same account by another chatbot (its token Meta accepted for it):
    // both read the one catalogue, each with its own link.
    let shared = template("111", "booking_offer", "en_US");
    replace(&*store, "other-bot", "111", vec![shared.clone()], 3_000).await;
    assert_eq!(templates_of(&*store, "clinic").await, [at(&shared, 3_000)]);
    assert_eq!(
        templates_of(&*store, "other-bot").await,
        [at(&shared, 3_000), at(&theirs, 2_000)]
    );
    assert_eq!(
        accounts_of(&*store, "clinic").await,
        [account("111", 1_000)],
        "the link records this chatbot's own last refresh"
    );
    assert_eq!(
        accounts_of(&*store, "other-bot").await,
        [account("111", 3_000), account("222", 2_000)]
    );
}

fn status_change(
    waba: &str,
    name: &str,
    language: &str,
    status: TemplateStatus,
    reason: Option<&str>,
    at: i64,
) -> TemplateStatusChange {
    TemplateStatusChange {
        waba_id: waba.to_owned(),
        template_id: Some("999".to_owned()),
        name: name.to_owned(),
        language: language.to_owned(),
        status,
        reason: reason.map(str::to_owned),
        at: Timestamp::from_millis(at),
    }
}

pub async fn when_a_category_change_arrives_then_it_applies_unless_refreshed_later(
    store: Arc<dyn Store>,
) {
    let (name, language) = ("appointment_reminder", "en_US");
    let original = template("111", name, language);
    replace(&*store, "clinic", "111", vec![original.clone()], 10_000).await;
    let change = |category, at_ms| TemplateCategoryChange {
        waba_id: "111".to_owned(),
        name: name.to_owned(),
        language: language.to_owned(),
        category,
        at: Timestamp::from_millis(at_ms),
    };

    assert!(
        store
            .record_template_category(&change(TemplateCategory::Marketing, 20_000))
            .await
            .expect("newer change")
    );
    let marketing = MessageTemplate {
        category: Some(TemplateCategory::Marketing),
        ..original.clone()
    };
    assert_eq!(
        templates_of(&*store, "clinic").await,
        [at(&marketing, 10_000)],
        "the category changes; the status and its time stay"
    );

    // Refreshed at 30 s (Meta's list is the truth then): a change from before is refused.
    replace(&*store, "clinic", "111", vec![marketing.clone()], 30_000).await;
    assert!(
        !store
            .record_template_category(&change(TemplateCategory::Utility, 25_000))
            .await
            .expect("older change")
    );
    assert_eq!(
        templates_of(&*store, "clinic").await,
        [at(&marketing, 30_000)]
    );

    let mut unknown = change(TemplateCategory::Utility, 40_000);
    unknown.name = "no_such_template".to_owned();
    assert!(
        !store
            .record_template_category(&unknown)
            .await
            .expect("unknown template")
    );
    assert_eq!(
        templates_of(&*store, "clinic").await.len(),
        1,
        "a category change never creates a template"
    );
}

pub async fn when_a_status_change_arrives_then_it_applies_only_if_not_older(store: Arc<dyn Store>) {
    let (name, language) = ("appointment_reminder", "en_US");
    let original = template("111", name, language);
    replace(&*store, "clinic", "111", vec![original.clone()], 10_000).await;

    let paused = status_change(
        "111",
        name,
        language,
        TemplateStatus::Paused,
        Some("LOW_QUALITY"),
        20_000,
    );
    assert!(
        store
            .record_template_status(&paused)
            .await
            .expect("newer change")
    );
    let after_pause = MessageTemplate {
        status: TemplateStatus::Paused,
        status_reason: Some("LOW_QUALITY".to_owned()),
        ..original.clone()
    };
    assert_eq!(
        templates_of(&*store, "clinic").await,
        [at(&after_pause, 20_000)],
        "status, reason and time change; everything else (the template id too) stays"
    );

    let late = status_change(
        "111",
        name,
        language,
        TemplateStatus::Approved,
        None,
        15_000,
    );
    assert!(
        !store
            .record_template_status(&late)
            .await
            .expect("older change"),
        "an older change arriving late is refused"
    );
    assert_eq!(
        templates_of(&*store, "clinic").await,
        [at(&after_pause, 20_000)]
    );

    let same_time = status_change(
        "111",
        name,
        language,
        TemplateStatus::Disabled,
        None,
        20_000,
    );
    assert!(
        store
            .record_template_status(&same_time)
            .await
            .expect("same-time change")
    );
    let after_disable = MessageTemplate {
        status: TemplateStatus::Disabled,
        status_reason: None,
        ..original.clone()
    };
    assert_eq!(
        templates_of(&*store, "clinic").await,
        [at(&after_disable, 20_000)],
        "a change at the same time applies and clears the reason"
    );

    for unknown in [
        status_change(
            "111",
            "no_such_template",
            language,
            TemplateStatus::Approved,
            None,
            30_000,
        ),
        status_change("111", name, "pt_BR", TemplateStatus::Approved, None, 30_000),
        status_change(
            "222",
            name,
            language,
            TemplateStatus::Approved,
            None,
            30_000,
        ),
    ] {
        assert!(
            !store
                .record_template_status(&unknown)
                .await
                .expect("unknown template"),
            "{unknown:?}"
        );
    }
    assert_eq!(
        templates_of(&*store, "clinic").await,
        [at(&after_disable, 20_000)],
        "an unknown template is not created"
    );
    replace(&*store, "clinic", "222", vec![], 30_000).await;
    assert!(
        templates_of(&*store, "clinic")
            .await
            .iter()
            .all(|e| e.template.waba_id == "111"),
        "nor is one created in another account"
    );
}

pub async fn when_a_template_is_put_then_it_joins_the_catalogue_and_links_the_chatbot(
    store: Arc<dyn Store>,
) {
    let a = template("111", "appointment_reminder", "en_US");
    replace(&*store, "clinic", "111", vec![a.clone()], 1_000).await;
    let created = MessageTemplate {
        status: TemplateStatus::Pending,
        ..template("111", "booking_offer", "en_US")
    };
    store
        .put_template(
            &chatbot("clinic"),
            created.clone(),
            Timestamp::from_millis(2_000),
        )
        .await
        .expect("put");
    assert_eq!(
        templates_of(&*store, "clinic").await,
        [at(&a, 1_000), at(&created, 2_000)]
    );
    assert_eq!(
        accounts_of(&*store, "clinic").await,
        [account("111", 2_000)]
    );

    let theirs = template("222", "order_update", "en_US");
    store
        .put_template(
            &chatbot("other-bot"),
            theirs.clone(),
            Timestamp::from_millis(3_000),
        )
        .await
        .expect("put into an account not linked before");
    assert_eq!(
        templates_of(&*store, "other-bot").await,
        [at(&theirs, 3_000)]
    );
    assert_eq!(
        accounts_of(&*store, "other-bot").await,
        [account("222", 3_000)]
    );
    assert_eq!(
        templates_of(&*store, "clinic").await.len(),
        2,
        "the clinic did not link account 222"
    );

    let approved = MessageTemplate {
        status: TemplateStatus::Approved,
        ..created.clone()
    };
    store
        .put_template(
            &chatbot("clinic"),
            approved.clone(),
            Timestamp::from_millis(4_000),
        )
        .await
        .expect("put again");
    assert_eq!(
        templates_of(&*store, "clinic").await,
        [at(&a, 1_000), at(&approved, 4_000)],
        "a put replaces the template of the same name and language"
    );

    replace(&*store, "clinic", "111", vec![a.clone()], 5_000).await;
    assert_eq!(
        templates_of(&*store, "clinic").await,
        [at(&a, 5_000)],
        "a later refresh that does not list it removes it"
    );
}

pub async fn when_an_integration_has_a_business_account_then_it_is_kept(store: Arc<dyn Store>) {
    let with_account = Integration {
        waba_id: Some("102290129340398".to_owned()),
        ..integration("clinic", Platform::Whatsapp, "111", "token-1", 1_000)
    };
    let (stored, outcome) = store
        .upsert_integration(with_account.clone())
        .await
        .expect("create");
    assert_eq!((stored, outcome), (with_account.clone(), Upserted::Created));
    assert_eq!(
        store
            .find_integration(Platform::Whatsapp, "111")
            .await
            .expect("find"),
        Some(with_account.clone())
    );
    assert_eq!(
        store
            .list_integrations(&chatbot("clinic"))
            .await
            .expect("list"),
        [with_account]
    );

    let moved = Integration {
        waba_id: Some("987654321".to_owned()),
        ..integration("clinic", Platform::Whatsapp, "111", "token-2", 2_000)
    };
    let (stored, _) = store.upsert_integration(moved).await.expect("update");
    assert_eq!(stored.waba_id.as_deref(), Some("987654321"));
    let found = store
        .find_integration(Platform::Whatsapp, "111")
        .await
        .expect("find")
        .expect("present");
    assert_eq!(found.waba_id.as_deref(), Some("987654321"));

    let (stored, outcome) = store
        .upsert_integration(integration(
            "clinic",
            Platform::Whatsapp,
            "111",
            "token-3",
            3_000,
        ))
        .await
        .expect("update without an account");
    assert_eq!(outcome, Upserted::Updated);
    assert_eq!(stored.waba_id, None);
    let found = store
        .find_integration(Platform::Whatsapp, "111")
        .await
        .expect("find")
        .expect("present");
    assert_eq!(
        (found.waba_id, found.access_token.expose()),
        (None, "token-3"),
        "an upsert without an account clears it"
    );
    let listed = store
        .list_integrations(&chatbot("clinic"))
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].waba_id, None);
}

pub async fn when_a_catalogue_has_more_than_100_templates_then_all_are_listed(
    store: Arc<dyn Store>,
) {
    // About 9 KB of components each: 130 of them are more than one 1 MB query page, and
    // more than five 25-item batch writes.
    let filler = "x".repeat(9_000);
    let many: Vec<MessageTemplate> = (0..130)
        .map(|i| MessageTemplate {
            components_json: json!([{"type": "BODY", "text": format!("{i} {filler}")}]).to_string(),
            ..template("111", &format!("template_{i:03}"), "en_US")
        })
        .collect();
    replace(&*store, "clinic", "111", many.clone(), 1_000).await;
    let listed = templates_of(&*store, "clinic").await;
    assert_eq!(listed.len(), 130);
    assert_eq!(
        listed,
        many.iter().map(|t| at(t, 1_000)).collect::<Vec<_>>(),
        "every template, whole, in order"
    );

    let last = status_change(
        "111",
        "template_129",
        "en_US",
        TemplateStatus::Rejected,
        Some("INVALID_FORMAT"),
        2_000,
    );
    assert!(store.record_template_status(&last).await.expect("status"));

    // Meta now lists every third one: 86 removed in the same refresh.
    let kept: Vec<MessageTemplate> = many.iter().step_by(3).cloned().collect();
    replace(&*store, "clinic", "111", kept.clone(), 3_000).await;
    let listed = templates_of(&*store, "clinic").await;
    assert_eq!(
        listed,
        kept.iter().map(|t| at(t, 3_000)).collect::<Vec<_>>()
    );
    assert_eq!(listed.len(), 44);
}

/// Generates one `#[tokio::test]` per contract case for a store factory expression (an
/// `Arc` of any type that implements every store trait).
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
            when_an_integration_is_upserted_twice_then_it_is_created_then_updated,
            when_another_chatbot_has_the_account_then_it_is_taken_and_stays_with_its_owner,
            when_a_customer_message_is_delivered_twice_then_it_is_recorded_once,
            when_the_same_message_is_recorded_concurrently_then_exactly_one_is_new,
            when_an_older_message_arrives_late_then_it_joins_the_transcript_without_a_new_period,
            when_more_than_40_lines_are_written_then_the_transcript_keeps_the_latest_40,
            when_listing_conversations_then_the_most_recently_active_come_first,
            when_a_plan_is_committed_then_it_replaces_the_pending_set_only_for_the_current_period,
            when_a_pending_follow_up_is_settled_twice_then_only_the_first_settles,
            when_pending_is_listed_by_follow_up_then_every_conversation_of_the_chatbot_is_found,
            when_the_log_is_paged_then_entries_come_newest_first_without_gaps_or_repeats,
            when_logs_are_appended_concurrently_then_every_entry_is_kept_once,
            when_20_claims_race_then_exactly_one_wins,
            when_a_throttled_delivery_is_claimed_again_then_it_keeps_its_id,
            when_a_claims_lease_runs_out_then_one_claim_takes_it_over_and_knows_whether_meta_was_called,
            when_a_delivery_is_finished_then_its_pending_entry_goes_and_the_outcome_is_logged,
            when_statuses_arrive_then_they_only_move_forward_and_stay_in_their_chatbot,
            when_the_customer_writes_within_24_hours_of_a_send_then_it_counts_as_a_reply,
            when_events_are_logged_then_follow_up_stats_count_them,
            when_the_stop_trigger_is_met_then_only_the_current_period_is_stopped,
            when_a_pending_follow_up_is_rescheduled_then_it_moves_only_within_its_period,
            when_a_catalogue_is_replaced_then_only_the_listed_templates_remain,
            when_another_chatbot_did_not_link_the_account_then_it_sees_no_templates,
            when_a_status_change_arrives_then_it_applies_only_if_not_older,
            when_a_category_change_arrives_then_it_applies_unless_refreshed_later,
            when_a_template_is_put_then_it_joins_the_catalogue_and_links_the_chatbot,
            when_an_integration_has_a_business_account_then_it_is_kept,
            when_a_catalogue_has_more_than_100_templates_then_all_are_listed,
        );
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let store: std::sync::Arc<dyn followup_ports::Store> = $factory.await;
                $crate::store_contract::$case(store).await;
            }
        )*
    };
}

//! Meta webhooks end to end against the local engine on simulated time: handshake,
//! signatures, every fixture, idempotent replays, out-of-order delivery, unknown accounts,
//! replies cancelling pending follow-ups, and the embedded scheduler firing due items.

use followup_domain::Timestamp;
use followup_meta::{InboundEvent, parse_webhook, sign};
use followup_tests::engine::{
    APP_SECRET, OTHER_TOKEN, RunningEngine, TEST_WABA, VERIFY_TOKEN, example_templates,
    write_local_templates,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PHONE_NUMBER_ID: &str = "106540352242922";
const PAGE_ID: &str = "1122334455667788";
const INSTAGRAM_ID: &str = "17841400000000001";
const CUSTOMER: &str = "16315551181";
/// 2025-11-24T08:00:00Z, the fixtures' day.
const T0: i64 = 1_763_971_200;

struct Setup {
    engine: RunningEngine,
    _dir: tempfile::TempDir,
}

impl Setup {
    /// An engine at T0 with the three test accounts connected to `clinic` and the two
    /// follow-ups of the walkthrough (4 h reminder, 24 h after-sales check) active.
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        write_local_templates(dir.path(), TEST_WABA, example_templates());
        let engine = RunningEngine::start_simulated(dir.path(), Timestamp::from_secs(T0)).await;
        let setup = Self { engine, _dir: dir };
        for (platform, account) in [
            ("whatsapp", PHONE_NUMBER_ID),
            ("messenger", PAGE_ID),
            ("instagram", INSTAGRAM_ID),
        ] {
            let (status, body) = setup
                .api(
                    reqwest::Method::PUT,
                    &format!("/v1/chatbots/clinic/integrations/{platform}/{account}"),
                    Some(json!({"access_token": format!("EAAG-secret-{platform}")})),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        setup
            .engine
            .connect_catalogue("clinic", PHONE_NUMBER_ID, TEST_WABA)
            .await;
        setup
    }

    async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.engine.api(method, path, body.as_ref()).await
    }

    async fn create_follow_up(&self, name: &str, delay: Value, template: bool) -> String {
        let mut body = json!({
            "name": name,
            "delay": delay,
            "description": "customer showed interest but did not confirm",
            "stop_trigger": "customer confirmed or declined",
        });
        if template {
            body["whatsapp_template"] =
                json!({"name": "purchase_confirmation", "language": "en_US"});
        }
        let (status, created) = self
            .api(
                reqwest::Method::POST,
                "/v1/chatbots/clinic/follow-ups",
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["id"].as_str().expect("id").to_owned()
    }

    async fn post_signed(&self, body: &[u8]) -> (StatusCode, String) {
        self.engine.post_webhook(body, None).await
    }

    async fn post_raw(&self, body: &[u8], signature: Option<&str>) -> (StatusCode, String) {
        self.engine.post_webhook(body, Some(signature)).await
    }

    async fn conversation(&self, id: &str) -> (StatusCode, Value) {
        self.api(
            reqwest::Method::GET,
            &format!("/v1/chatbots/clinic/conversations/{id}"),
            None,
        )
        .await
    }

    /// The conversation's log, oldest first, as (kind, follow_up_id or message id).
    async fn log(&self, id: &str) -> Vec<Value> {
        let (status, page) = self
            .api(
                reqwest::Method::GET,
                &format!("/v1/chatbots/clinic/conversations/{id}/log?limit=200"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let mut entries = page["entries"].as_array().expect("entries").clone();
        entries.reverse();
        entries
    }
}

fn kinds(log: &[Value]) -> Vec<String> {
    log.iter()
        .map(|e| e["kind"].as_str().expect("kind").to_owned())
        .collect()
}

fn whatsapp_text(customer: &str, wamid: &str, at_secs: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": customer}],
            "messages": [{"from": customer, "id": wamid, "timestamp": at_secs.to_string(), "type": "text",
                          "text": {"body": "Do you have a slot on Tuesday?"}}]
        }}]}]
    }))
    .expect("json")
}

fn conversation_id(customer: &str) -> String {
    format!("whatsapp:{PHONE_NUMBER_ID}:{customer}")
}

#[tokio::test]
async fn when_meta_subscribes_with_the_right_token_then_the_challenge_is_echoed_else_403() {
    let setup = Setup::start().await;
    let url = |query: &str| setup.engine.url(&format!("/v1/webhooks/meta?{query}"));
    let ok = setup
        .engine
        .http
        .get(url(&format!(
            "hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
        )))
        .send()
        .await
        .expect("send");
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.text().await.expect("text"), "1158201444");
    for query in [
        "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1".to_owned(),
        format!("hub.mode=unsubscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1"),
        format!("hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}"),
        String::new(),
    ] {
        let refused = setup
            .engine
            .http
            .get(url(&query))
            .send()
            .await
            .expect("send");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{query}");
    }
}

#[tokio::test]
async fn when_the_signature_is_missing_or_wrong_then_401_and_nothing_is_recorded() {
    let setup = Setup::start().await;
    setup
        .create_follow_up("Reminder", json!({"mode": "manual", "hours": 4}), false)
        .await;
    let body = whatsapp_text(CUSTOMER, "wamid.sig1", T0);
    let good = sign(APP_SECRET.as_bytes(), &body);
    let mut tampered = body.clone();
    let last = tampered.len() - 2;
    tampered[last] = b' ';
    let cases: Vec<(&[u8], Option<String>)> = vec![
        (&body, None),
        (&body, Some("sha256=00".into())),
        (&body, Some(sign(b"another-secret", &body))),
        (&body, Some(good.replace("sha256=", "sha1="))),
        (&tampered, Some(good.clone())),
    ];
    for (payload, signature) in cases {
        let (status, _) = setup.post_raw(payload, signature.as_deref()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{signature:?}");
    }
    let (status, _) = setup.conversation(&conversation_id(CUSTOMER)).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "nothing recorded for refused deliveries"
    );
    assert!(
        setup
            .engine
            .scheduler
            .all_items()
            .await
            .expect("items")
            .is_empty()
    );
    let (status, _) = setup.post_raw(&body, Some(&good)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn when_the_same_delivery_arrives_ten_times_then_one_interaction_and_one_set_of_schedules() {
    let setup = Setup::start().await;
    let reminder = setup
        .create_follow_up("Reminder", json!({"mode": "manual", "hours": 4}), false)
        .await;
    let after_sales = setup
        .create_follow_up("After-sales", json!({"mode": "manual", "hours": 24}), true)
        .await;
    let body = whatsapp_text(CUSTOMER, "wamid.replay", T0);
    for _ in 0..10 {
        let (status, text) = setup.post_signed(&body).await;
        assert_eq!((status, text.as_str()), (StatusCode::OK, "EVENT_RECEIVED"));
    }
    let id = conversation_id(CUSTOMER);
    let log = setup.log(&id).await;
    assert_eq!(kinds(&log), ["customer_message", "scheduled", "scheduled"]);
    let items = setup.engine.scheduler.all_items().await.expect("items");
    let due: Vec<(String, i64)> = items
        .iter()
        .map(|i| {
            (
                i.key.follow_up_id.to_string(),
                i.due_at.minutes_since(Timestamp::from_secs(T0)),
            )
        })
        .collect();
    assert_eq!(
        due,
        [(reminder, 240), (after_sales, 1440)],
        "WhatsApp with a template keeps 24 h"
    );
    let (_, conversation) = setup.conversation(&id).await;
    assert_eq!(conversation["silence_period"], 1);
    assert_eq!(
        conversation["pending"].as_array().expect("pending").len(),
        2
    );
}

#[tokio::test]
async fn when_the_customer_replies_then_pending_follow_ups_are_cancelled_and_planned_again() {
    let setup = Setup::start().await;
    let reminder = setup
        .create_follow_up("Reminder", json!({"mode": "manual", "hours": 4}), false)
        .await;
    setup
        .post_signed(&whatsapp_text(CUSTOMER, "wamid.first", T0))
        .await;
    setup.engine.clock().advance_minutes(60);
    setup
        .post_signed(&whatsapp_text(CUSTOMER, "wamid.second", T0 + 3600))
        .await;
    let log = setup.log(&conversation_id(CUSTOMER)).await;
    assert_eq!(
        kinds(&log),
        [
            "customer_message",
            "scheduled",
            "customer_message",
            "cancelled",
            "scheduled"
        ]
    );
    assert_eq!(log[3]["reason"], "customer_replied");
    assert_eq!(log[3]["follow_up_id"], reminder.as_str());
    assert_eq!(log[3]["silence_period"], 1);
    assert_eq!(log[4]["silence_period"], 2);
    let items = setup.engine.scheduler.all_items().await.expect("items");
    assert_eq!(
        items.len(),
        1,
        "the reply replaced the schedule, it did not add one"
    );
    assert_eq!(
        items[0].due_at,
        Timestamp::from_secs(T0 + 3600).plus_minutes(240)
    );
    assert_eq!(items[0].silence_period, 2);

    // At the first message's due time nothing fires; at the second's, one item does.
    setup
        .engine
        .clock()
        .set(Timestamp::from_secs(T0).plus_minutes(241));
    assert_eq!(setup.engine.fire_due().await, 0);
    setup
        .engine
        .clock()
        .set(Timestamp::from_secs(T0 + 3600).plus_minutes(240));
    assert_eq!(setup.engine.fire_due().await, 1);
    let log = setup.log(&conversation_id(CUSTOMER)).await;
    // The offline judge decides whether it goes out; either way the sender settled it.
    let settled = kinds(&log).last().cloned().unwrap_or_default();
    assert!(
        ["sent", "skipped"].contains(&settled.as_str()),
        "settled by the sender: {settled}"
    );
    assert_eq!(setup.engine.fire_due().await, 0, "fired once");
}

#[tokio::test]
async fn when_an_older_message_arrives_late_then_the_newer_timestamp_and_plan_stay() {
    let setup = Setup::start().await;
    setup
        .create_follow_up("Reminder", json!({"mode": "manual", "hours": 4}), false)
        .await;
    setup.engine.clock().advance_minutes(10);
    setup
        .post_signed(&whatsapp_text(CUSTOMER, "wamid.newer", T0 + 600))
        .await;
    setup
        .post_signed(&whatsapp_text(CUSTOMER, "wamid.older", T0))
        .await;
    let id = conversation_id(CUSTOMER);
    let (_, conversation) = setup.conversation(&id).await;
    assert_eq!(
        conversation["last_customer_message_at"],
        "2025-11-24T08:10:00Z"
    );
    assert_eq!(
        conversation["silence_period"], 1,
        "an older message starts no silence period"
    );
    let items = setup.engine.scheduler.all_items().await.expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0].due_at,
        Timestamp::from_secs(T0 + 600).plus_minutes(240)
    );
    assert_eq!(
        kinds(&setup.log(&id).await),
        ["customer_message", "scheduled", "customer_message"]
    );
}

#[tokio::test]
async fn when_metas_timestamp_is_absurd_then_the_receive_time_is_used_and_a_later_message_still_counts()
 {
    let setup = Setup::start().await;
    setup
        .create_follow_up("Reminder", json!({"mode": "manual", "hours": 4}), false)
        .await;
    // Year 9999, i64::MAX and before 1970: each in its own conversation.
    for (customer, stamp) in [
        ("16315550001", 253_402_300_799_i64),
        ("16315550002", i64::MAX),
        ("16315550003", -1),
    ] {
        let (status, _) = setup
            .post_signed(&whatsapp_text(
                customer,
                &format!("wamid.{customer}"),
                stamp,
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (_, conversation) = setup.conversation(&conversation_id(customer)).await;
        assert_eq!(
            conversation["last_customer_message_at"], "2025-11-24T08:00:00Z",
            "{stamp} is replaced by the receive time"
        );
    }
    let items = setup.engine.scheduler.all_items().await.expect("items");
    assert_eq!(items.len(), 3);
    for item in &items {
        assert_eq!(item.due_at, Timestamp::from_secs(T0).plus_minutes(240));
    }
    assert_eq!(setup.engine.fire_due().await, 0, "nothing is due at once");

    // A real message ten minutes later moves the plan on as usual.
    setup.engine.clock().advance_minutes(10);
    setup
        .post_signed(&whatsapp_text("16315550001", "wamid.real", T0 + 600))
        .await;
    let (_, conversation) = setup.conversation(&conversation_id("16315550001")).await;
    assert_eq!(
        conversation["last_customer_message_at"],
        "2025-11-24T08:10:00Z"
    );
    assert_eq!(conversation["silence_period"], 2);
}

#[tokio::test]
async fn when_the_account_is_not_connected_then_the_event_is_acknowledged_and_ignored() {
    let setup = Setup::start().await;
    setup
        .create_follow_up("Reminder", json!({"mode": "manual", "hours": 4}), false)
        .await;
    let body = String::from_utf8(whatsapp_text(CUSTOMER, "wamid.foreign", T0))
        .expect("utf-8")
        .replace(PHONE_NUMBER_ID, "999999999999999");
    let (status, _) = setup.post_signed(body.as_bytes()).await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = setup
        .api(
            reqwest::Method::GET,
            "/v1/chatbots/clinic/conversations",
            None,
        )
        .await;
    assert_eq!(list["items"], json!([]));
    assert!(
        setup
            .engine
            .scheduler
            .all_items()
            .await
            .expect("items")
            .is_empty()
    );
}

#[tokio::test]
async fn when_the_body_is_garbage_unknown_or_too_large_then_400_200_or_413() {
    let setup = Setup::start().await;
    let (status, _) = setup.post_signed(b"{\"object\": ").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = setup
        .post_signed(br#"{"object":"user","entry":[{"id":"1","changes":[]}]}"#)
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an object we do not handle is acknowledged"
    );
    let huge = vec![b' '; 1024 * 1024 + 1];
    let (status, _) = setup.post_signed(&huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn when_a_follow_up_is_deactivated_or_deleted_then_its_pending_instances_are_cancelled() {
    let setup = Setup::start().await;
    let reminder = setup
        .create_follow_up("Reminder", json!({"mode": "manual", "hours": 4}), false)
        .await;
    let check = setup
        .create_follow_up("Check", json!({"mode": "ai"}), false)
        .await;
    setup
        .post_signed(&whatsapp_text(CUSTOMER, "wamid.a", T0))
        .await;
    setup
        .post_signed(&whatsapp_text("16315550000", "wamid.b", T0))
        .await;
    assert_eq!(
        setup
            .engine
            .scheduler
            .all_items()
            .await
            .expect("items")
            .len(),
        4
    );

    let (status, _) = setup
        .api(
            reqwest::Method::POST,
            &format!("/v1/chatbots/clinic/follow-ups/{reminder}/deactivate"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = setup
        .api(
            reqwest::Method::DELETE,
            &format!("/v1/chatbots/clinic/follow-ups/{check}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        setup
            .engine
            .scheduler
            .all_items()
            .await
            .expect("items")
            .is_empty()
    );
    let log = setup.log(&conversation_id(CUSTOMER)).await;
    let reasons: Vec<&str> = log
        .iter()
        .filter(|e| e["kind"] == "cancelled")
        .map(|e| e["reason"].as_str().expect("reason"))
        .collect();
    assert_eq!(reasons, ["follow_up_deactivated", "follow_up_deleted"]);
    setup.engine.clock().advance_minutes(24 * 60);
    assert_eq!(
        setup.engine.fire_due().await,
        0,
        "nothing cancelled ever fires"
    );
}

#[tokio::test]
async fn when_the_engine_restarts_then_pending_schedules_survive_and_fire_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = RunningEngine::start_simulated(dir.path(), Timestamp::from_secs(T0)).await;
    let setup = Setup {
        engine,
        _dir: tempfile::tempdir().expect("unused"),
    };
    let (status, _) = setup
        .api(
            reqwest::Method::PUT,
            &format!("/v1/chatbots/clinic/integrations/whatsapp/{PHONE_NUMBER_ID}"),
            Some(json!({"access_token": "EAAG-x"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    setup
        .create_follow_up("Reminder", json!({"mode": "manual", "hours": 4}), false)
        .await;
    setup
        .post_signed(&whatsapp_text(CUSTOMER, "wamid.restart", T0))
        .await;
    setup.engine.stop().await;

    let restarted =
        RunningEngine::start_simulated(dir.path(), Timestamp::from_secs(T0).plus_minutes(600))
            .await;
    assert_eq!(
        restarted.scheduler.all_items().await.expect("items").len(),
        1
    );
    assert_eq!(
        restarted.fire_due().await,
        1,
        "due while down: fires late, not never"
    );
    assert_eq!(restarted.fire_due().await, 0);
    restarted.stop().await;
}

#[tokio::test]
async fn when_integrations_are_managed_then_tokens_are_never_returned_and_accounts_not_shared() {
    let setup = Setup::start().await;
    let (status, list) = setup
        .api(
            reqwest::Method::GET,
            "/v1/chatbots/clinic/integrations",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().expect("items").len(), 3);
    assert!(
        !list.to_string().contains("EAAG"),
        "tokens are write-only: {list}"
    );
    let (status, updated) = setup
        .api(
            reqwest::Method::PUT,
            &format!("/v1/chatbots/clinic/integrations/whatsapp/{PHONE_NUMBER_ID}"),
            Some(json!({"access_token": "EAAG-rotated"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["has_access_token"], true);
    let (status, problem) = setup
        .api(
            reqwest::Method::PUT,
            &format!("/v1/chatbots/shop/integrations/whatsapp/{PHONE_NUMBER_ID}"),
            Some(json!({"access_token": "EAAG-steal"})),
        )
        .await;
    assert_eq!(
        (status, problem["type"].as_str()),
        (StatusCode::CONFLICT, Some("account-taken"))
    );
    let (status, problem) = setup
        .api(
            reqwest::Method::PUT,
            "/v1/chatbots/clinic/integrations/whatsapp/bad%20id",
            Some(json!({"access_token": "has space"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    assert_eq!(fields, ["account_id", "access_token"]);
    let (status, _) = setup
        .api(
            reqwest::Method::PUT,
            "/v1/chatbots/clinic/integrations/sms/123",
            Some(json!({"access_token": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let foreign = setup
        .engine
        .http
        .get(setup.engine.url("/v1/chatbots/clinic/integrations"))
        .bearer_auth(OTHER_TOKEN)
        .send()
        .await
        .expect("send");
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let (status, _) = setup
        .api(
            reqwest::Method::DELETE,
            &format!("/v1/chatbots/clinic/integrations/instagram/{INSTAGRAM_ID}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = setup
        .api(
            reqwest::Method::DELETE,
            &format!("/v1/chatbots/clinic/integrations/instagram/{INSTAGRAM_ID}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Every fixture in tests/fixtures/meta, signed as its raw bytes: 200, and exactly the
/// customer messages the parser finds become interactions (statuses, echoes, receipts,
/// reads and template updates do not).
#[tokio::test]
async fn when_each_fixture_is_delivered_then_only_customer_messages_become_interactions() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/meta");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "fixtures present");
    for file in files {
        let setup = Setup::start().await;
        setup
            .create_follow_up("Reminder", json!({"mode": "manual", "hours": 4}), false)
            .await;
        let body = std::fs::read(&file).expect("read fixture");
        let expected_customer_messages = parse_webhook(&body)
            .expect("fixture parses")
            .iter()
            .filter(|e| matches!(e, InboundEvent::CustomerMessage(m) if !m.customer_id.is_empty()))
            .count();
        let (status, _) = setup.post_signed(&body).await;
        assert_eq!(status, StatusCode::OK, "{}", file.display());
        let (_, list) = setup
            .api(
                reqwest::Method::GET,
                "/v1/chatbots/clinic/conversations",
                None,
            )
            .await;
        let mut recorded = 0;
        for conversation in list["items"].as_array().expect("items") {
            let log = setup.log(conversation["id"].as_str().expect("id")).await;
            recorded += log
                .iter()
                .filter(|e| e["kind"] == "customer_message")
                .count();
        }
        assert_eq!(recorded, expected_customer_messages, "{}", file.display());
        // Replaying the fixture changes nothing.
        setup.post_signed(&body).await;
        let items_before = setup
            .engine
            .scheduler
            .all_items()
            .await
            .expect("items")
            .len();
        setup.post_signed(&body).await;
        assert_eq!(
            setup
                .engine
                .scheduler
                .all_items()
                .await
                .expect("items")
                .len(),
            items_before,
            "{}",
            file.display()
        );
        setup.engine.stop().await;
    }
}

//! The sender end to end: the local engine on simulated time, a local HTTP server playing
//! the Graph API and one playing the LLM (OpenAI-compatible), signed webhooks in, the
//! embedded scheduler fired by the test.

use std::sync::Arc;

use followup_domain::Timestamp;
use followup_tests::engine::{RunningEngine, TEST_WABA, config};
use followup_tests::fakes::{
    FakeGraph, FakeLlm, GraphReply, LlmReply, meta_template, send_verdict, stop_verdict,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PHONE_NUMBER_ID: &str = "106540352242922";
const INSTAGRAM_ID: &str = "17841400000000001";
const CUSTOMER: &str = "16315551181";
const IG_CUSTOMER: &str = "5566778899001122";
const T0: i64 = 1_763_971_200;

struct Scenario {
    engine: RunningEngine,
    graph: FakeGraph,
    llm: FakeLlm,
    _dir: tempfile::TempDir,
}

impl Scenario {
    async fn start(verdict: LlmReply) -> Self {
        Self::start_with(verdict, |_| {}).await
    }

    async fn start_with(
        verdict: LlmReply,
        tune: impl FnOnce(&mut followup_engine::EngineConfig),
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let graph = FakeGraph::start().await;
        let llm = FakeLlm::start(verdict).await;
        let mut config = config(dir.path());
        config.messenger = "graph".into();
        config.graph_base_url = graph.base_url.clone();
        config.llm_base_url = Some(llm.base_url.clone());
        config.llm_api_key = Some("sk-test-key".into());
        tune(&mut config);
        let engine = RunningEngine::start_simulated_with(config, Timestamp::from_secs(T0)).await;
        let scenario = Self {
            engine,
            graph,
            llm,
            _dir: dir,
        };
        for (platform, account) in [("whatsapp", PHONE_NUMBER_ID), ("instagram", INSTAGRAM_ID)] {
            let (status, body) = scenario
                .api(
                    Method::PUT,
                    &format!("/v1/chatbots/clinic/integrations/{platform}/{account}"),
                    Some(json!({"access_token": format!("EAAG-{platform}")})),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        // The follow-ups' templates, approved in the account's catalogue.
        scenario.graph.set_templates(
            TEST_WABA,
            vec![
                meta_template(
                    "1274983650212345",
                    "appointment_reminder",
                    "en_US",
                    "UTILITY",
                    "APPROVED",
                    "Hi {{1}}, your appointment slot is still free. Reply YES to book it.",
                ),
                meta_template(
                    "1274983650212346",
                    "purchase_confirmation",
                    "en_US",
                    "UTILITY",
                    "APPROVED",
                    "Hi {{1}}, thank you for your purchase! Is everything as expected?",
                ),
            ],
        );
        scenario
            .engine
            .connect_catalogue("clinic", PHONE_NUMBER_ID, TEST_WABA)
            .await;
        scenario
    }

    async fn api(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.engine.api(method, path, body.as_ref()).await
    }

    async fn create(&self, body: Value) -> String {
        let (status, created) = self
            .api(Method::POST, "/v1/chatbots/clinic/follow-ups", Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["id"].as_str().expect("id").to_owned()
    }

    async fn webhook(&self, payload: Value) {
        let body = serde_json::to_vec(&payload).expect("json");
        let (status, _) = self.engine.post_webhook(&body, None).await;
        assert_eq!(status, StatusCode::OK);
    }

    async fn whatsapp_message(&self, wamid: &str, at_secs: i64) {
        self.webhook(json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
                "contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": CUSTOMER}],
                "messages": [{"from": CUSTOMER, "id": wamid, "timestamp": at_secs.to_string(), "type": "text",
                              "text": {"body": "I'd like to book a cleaning, what do you have?"}}]
            }}]}]
        }))
        .await;
    }

    async fn instagram_message(&self, mid: &str, at_secs: i64) {
        self.webhook(json!({
            "object": "instagram",
            "entry": [{"id": INSTAGRAM_ID, "time": at_secs * 1000, "messaging": [{
                "sender": {"id": IG_CUSTOMER}, "recipient": {"id": INSTAGRAM_ID},
                "timestamp": at_secs * 1000,
                "message": {"mid": mid, "text": "How much is a cleaning?"}
            }]}]
        }))
        .await;
    }

    async fn whatsapp_status(&self, delivery_id: &str, status: &str) {
        self.webhook(json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
                "statuses": [{"id": "wamid.FAKE1", "status": status, "timestamp": (T0 + 14_500).to_string(),
                              "recipient_id": CUSTOMER, "biz_opaque_callback_data": delivery_id}]
            }}]}]
        }))
        .await;
    }

    fn at_minutes(&self, minutes: u32) {
        self.engine
            .clock()
            .set(Timestamp::from_secs(T0).plus_minutes(minutes));
    }

    async fn log_kinds(&self, conversation: &str) -> Vec<String> {
        let (status, page) = self
            .api(
                Method::GET,
                &format!("/v1/chatbots/clinic/conversations/{conversation}/log?limit=200"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let mut kinds: Vec<String> = page["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| {
                let kind = e["kind"].as_str().expect("kind");
                match e["reason"].as_str() {
                    Some(reason) => format!("{kind}:{reason}"),
                    None => kind.to_owned(),
                }
            })
            .collect();
        kinds.reverse();
        kinds
    }

    async fn deliveries(&self, follow_up: &str) -> Vec<Value> {
        let (status, list) = self
            .api(
                Method::GET,
                &format!("/v1/chatbots/clinic/follow-ups/{follow_up}/deliveries"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        list["items"].as_array().expect("items").clone()
    }
}

fn wa_conversation() -> String {
    format!("whatsapp:{PHONE_NUMBER_ID}:{CUSTOMER}")
}

fn appointment_reminder() -> Value {
    json!({
        "name": "Appointment reminder - 4 hours",
        "color": "blue",
        "delay": {"mode": "manual", "hours": 4},
        "description": "The customer showed interest in booking but did not confirm date and time.",
        "stop_trigger": "The customer confirmed, cancelled, or is no longer interested.",
        "message": {"mode": "custom", "text": "Shall I book one of these? Tue 10:00 or Wed 15:00."},
        "whatsapp_template": {"name": "appointment_reminder", "language": "en_US", "parameters": [{"type": "profile_name"}]}
    })
}

fn after_sales_check() -> Value {
    json!({
        "name": "After-sales check - 24 hours",
        "color": "green",
        "delay": {"mode": "manual", "hours": 24},
        "description": "After a purchase, to make sure the customer is satisfied.",
        "stop_trigger": "The customer confirms satisfaction, reports a problem or says thanks.",
        "message": {"mode": "ai"},
        "whatsapp_template": {"name": "purchase_confirmation", "language": "en_US", "parameters": [{"type": "profile_name"}]}
    })
}

#[tokio::test]
async fn when_the_appointment_reminder_comes_due_then_its_text_goes_out_once_and_the_reply_counts()
{
    let s = Scenario::start(LlmReply::Verdict(send_verdict("unused for custom text"))).await;
    let reminder = s.create(appointment_reminder()).await;
    s.whatsapp_message("wamid.in1", T0).await;

    s.at_minutes(239);
    assert_eq!(s.engine.fire_due().await, 0, "not before 4 h");
    s.at_minutes(240);
    assert_eq!(s.engine.fire_due().await, 1);

    let requests = s.graph.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.account_id, PHONE_NUMBER_ID);
    assert_eq!(sent.authorization.as_deref(), Some("Bearer EAAG-whatsapp"));
    assert_eq!(sent.body["type"], "text");
    assert_eq!(
        sent.body["text"]["body"],
        "Shall I book one of these? Tue 10:00 or Wed 15:00."
    );
    let deliveries = s.deliveries(&reminder).await;
    assert_eq!(deliveries.len(), 1);
    let delivery_id = deliveries[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(sent.body["biz_opaque_callback_data"], delivery_id.as_str());
    assert_eq!(
        (
            deliveries[0]["status"].as_str(),
            deliveries[0]["sent_as"].as_str()
        ),
        (Some("sent"), Some("text"))
    );
    assert_eq!(deliveries[0]["platform_message_id"], "wamid.FAKE1");
    assert_eq!(deliveries[0]["customer_id"], CUSTOMER);
    assert_eq!(s.llm.calls(), 1, "one judge call per due item");

    // Statuses move the delivery forward, never back.
    s.whatsapp_status(&delivery_id, "read").await;
    s.whatsapp_status(&delivery_id, "delivered").await;
    assert_eq!(s.deliveries(&reminder).await[0]["status"], "read");

    // The customer answers within 24 h: a reply, and a new silence period.
    s.at_minutes(300);
    s.whatsapp_message("wamid.in2", T0 + 300 * 60).await;
    let (_, stats) = s
        .api(
            Method::GET,
            &format!("/v1/chatbots/clinic/follow-ups/{reminder}/stats"),
            None,
        )
        .await;
    assert_eq!(
        (stats["sent"].as_u64(), stats["replied"].as_u64()),
        (Some(1), Some(1)),
        "{stats}"
    );
    assert_eq!(stats["reply_rate"], 1.0);
    assert_eq!(stats["scheduled"], 2);
    assert_eq!(
        s.log_kinds(&wa_conversation()).await,
        [
            "customer_message",
            "scheduled",
            "sent",
            "customer_message",
            "scheduled"
        ]
    );
    // Firing again in the old period sends nothing more.
    assert_eq!(s.graph.requests().len(), 1);
}

#[tokio::test]
async fn when_the_after_sales_check_comes_due_after_24_hours_then_whatsapp_sends_the_template() {
    let s = Scenario::start(LlmReply::Verdict(send_verdict(
        "Is everything fine with your order?",
    )))
    .await;
    let check = s.create(after_sales_check()).await;
    s.whatsapp_message("wamid.buy", T0).await;
    s.at_minutes(24 * 60);
    assert_eq!(s.engine.fire_due().await, 1);
    let requests = s.graph.requests();
    assert_eq!(requests.len(), 1);
    let body = &requests[0].body;
    assert_eq!(body["type"], "template");
    assert_eq!(body["template"]["name"], "purchase_confirmation");
    assert_eq!(body["template"]["language"]["code"], "en_US");
    assert_eq!(
        body["template"]["components"][0]["parameters"][0]["text"], "Kerry Fisher",
        "profile name from the webhook contact"
    );
    assert_eq!(s.deliveries(&check).await[0]["sent_as"], "template");
}

#[tokio::test]
async fn when_the_after_sales_check_runs_on_instagram_then_the_ai_text_goes_out_at_the_clamped_time()
 {
    let s = Scenario::start(LlmReply::Verdict(send_verdict(
        "Hi! Is everything fine with your order?",
    )))
    .await;
    s.create(after_sales_check()).await;
    s.instagram_message("m_ig_1", T0).await;
    s.at_minutes(1424);
    assert_eq!(
        s.engine.fire_due().await,
        0,
        "clamped to 24 h minus the 15-minute margin"
    );
    s.at_minutes(1425);
    assert_eq!(s.engine.fire_due().await, 1);
    let requests = s.graph.requests();
    assert_eq!(requests.len(), 1);
    let body = &requests[0].body;
    assert_eq!(requests[0].account_id, INSTAGRAM_ID);
    assert_eq!(body["recipient"]["id"], IG_CUSTOMER);
    assert_eq!(body["messaging_type"], "RESPONSE");
    assert!(
        body.get("tag").is_none(),
        "never a HUMAN_AGENT or other tag"
    );
    assert_eq!(
        body["message"]["text"],
        "Hi! Is everything fine with your order?"
    );
}

#[tokio::test]
async fn when_an_instagram_follow_up_asks_for_30_hours_then_it_is_sent_at_the_clamped_time() {
    let s = Scenario::start(LlmReply::Verdict(send_verdict("x"))).await;
    let mut body = appointment_reminder();
    body["delay"] = json!({"mode": "manual", "hours": 30});
    let (_, created) = s
        .api(Method::POST, "/v1/chatbots/clinic/follow-ups", Some(body))
        .await;
    assert!(
        created["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w["platform"] == "instagram")
    );
    s.instagram_message("m_ig_30", T0).await;
    s.at_minutes(1425);
    assert_eq!(s.engine.fire_due().await, 1);
    assert_eq!(
        s.graph.requests()[0].body["message"]["text"],
        "Shall I book one of these? Tue 10:00 or Wed 15:00."
    );
}

#[tokio::test]
async fn when_the_customer_replies_before_the_delay_then_only_the_new_period_sends() {
    let s = Scenario::start(LlmReply::Verdict(send_verdict("x"))).await;
    s.create(appointment_reminder()).await;
    s.whatsapp_message("wamid.a", T0).await;
    s.at_minutes(60);
    s.whatsapp_message("wamid.b", T0 + 3600).await;
    s.at_minutes(240);
    assert_eq!(
        s.engine.fire_due().await,
        0,
        "the first period's follow-up was cancelled"
    );
    assert!(s.graph.requests().is_empty());
    s.at_minutes(300);
    assert_eq!(s.engine.fire_due().await, 1);
    assert_eq!(s.graph.requests().len(), 1);
    let kinds = s.log_kinds(&wa_conversation()).await;
    assert_eq!(
        kinds,
        [
            "customer_message",
            "scheduled",
            "customer_message",
            "cancelled:customer_replied",
            "scheduled",
            "sent"
        ]
    );
}

#[tokio::test]
async fn when_a_follow_up_fires_after_the_window_then_whatsapp_sends_the_template_or_skips_without_one()
 {
    let s = Scenario::start(LlmReply::Verdict(send_verdict("x"))).await;
    let with_template = s.create(appointment_reminder()).await;
    let mut plain = appointment_reminder();
    plain["name"] = json!("No template");
    plain
        .as_object_mut()
        .expect("object")
        .remove("whatsapp_template");
    let without_template = s.create(plain).await;
    s.whatsapp_message("wamid.late", T0).await;
    // The engine was down: both 4-hour follow-ups fire 25 hours after the message.
    s.at_minutes(25 * 60);
    assert_eq!(s.engine.fire_due().await, 2);
    let requests = s.graph.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].body["type"], "template");
    assert_eq!(s.deliveries(&with_template).await[0]["sent_as"], "template");
    assert_eq!(
        s.deliveries(&without_template).await[0]["status"],
        "skipped"
    );
    assert!(
        s.log_kinds(&wa_conversation())
            .await
            .contains(&"skipped:window_closed".to_owned())
    );
}

#[tokio::test]
async fn when_the_stop_trigger_is_met_then_every_pending_follow_up_is_cancelled_until_the_customer_writes()
 {
    let s = Scenario::start(LlmReply::Verdict(stop_verdict())).await;
    s.create(appointment_reminder()).await;
    let mut later = appointment_reminder();
    later["name"] = json!("Second nudge - 6 hours");
    later["delay"] = json!({"mode": "manual", "hours": 6});
    s.create(later).await;
    s.whatsapp_message("wamid.no", T0).await;
    s.at_minutes(240);
    assert_eq!(s.engine.fire_due().await, 1);
    assert!(
        s.engine
            .scheduler
            .all_items()
            .await
            .expect("items")
            .is_empty(),
        "the 6-hour one is cancelled"
    );
    s.at_minutes(360);
    assert_eq!(s.engine.fire_due().await, 0);
    assert!(s.graph.requests().is_empty());
    let kinds = s.log_kinds(&wa_conversation()).await;
    assert_eq!(&kinds[3..], ["cancelled:stop_trigger_met", "stopped"]);

    // A new customer message lifts the stop: both are planned again.
    s.whatsapp_message("wamid.again", T0 + 400 * 60).await;
    assert_eq!(
        s.engine.scheduler.all_items().await.expect("items").len(),
        2
    );
}

#[tokio::test]
async fn when_a_due_item_is_delivered_three_times_at_once_then_it_is_judged_and_sent_once() {
    let s = Scenario::start(LlmReply::Verdict(send_verdict("x"))).await;
    let reminder = s.create(appointment_reminder()).await;
    s.whatsapp_message("wamid.dup", T0).await;
    s.at_minutes(240);
    let item = s
        .engine
        .scheduler
        .all_items()
        .await
        .expect("items")
        .pop()
        .expect("one item");
    let services = Arc::clone(&s.engine.services);
    let (a, b, c) = tokio::join!(
        services.send_due(&item),
        services.send_due(&item),
        services.send_due(&item)
    );
    // One sends; the others find the claim held by a live sender and ask to come again
    // (never dropped while the holder could still stop before settling it).
    let outcomes = [a, b, c];
    let sent = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(followup_app::SendOutcome::Sent)))
        .count();
    let held = outcomes
        .iter()
        .filter(|o| matches!(o, Err(followup_app::ServiceError::ClaimHeld)))
        .count();
    assert_eq!((sent, held), (1, 2), "{outcomes:?}");
    assert_eq!(s.graph.requests().len(), 1);
    assert_eq!(s.llm.calls(), 1);
    // And a redelivery after the fact is dropped too.
    assert!(matches!(
        services.send_due(&item).await.expect("again"),
        followup_app::SendOutcome::Dropped(_)
    ));
    assert_eq!(s.deliveries(&reminder).await.len(), 1);
}

#[tokio::test]
async fn when_meta_throttles_then_the_send_is_retried_later_and_goes_out_once() {
    let s = Scenario::start(LlmReply::Verdict(send_verdict("x"))).await;
    let reminder = s.create(appointment_reminder()).await;
    s.whatsapp_message("wamid.busy", T0).await;
    // The client tries 3 times per delivery; all three are throttled the first time.
    s.graph.queue([
        GraphReply::Error {
            status: 400,
            code: 130_429,
            subcode: None,
        },
        GraphReply::Error {
            status: 400,
            code: 130_429,
            subcode: None,
        },
        GraphReply::Error {
            status: 400,
            code: 130_429,
            subcode: None,
        },
    ]);
    s.at_minutes(240);
    assert_eq!(s.engine.fire_due().await, 0, "throttled: left for a retry");
    assert_eq!(s.deliveries(&reminder).await[0]["status"], "throttled");
    assert_eq!(s.graph.requests().len(), 3);
    s.at_minutes(241);
    assert_eq!(s.engine.fire_due().await, 1);
    assert_eq!(s.graph.requests().len(), 4);
    let deliveries = s.deliveries(&reminder).await;
    assert_eq!(
        (deliveries.len(), deliveries[0]["status"].as_str()),
        (1, Some("sent"))
    );
    assert_eq!(
        s.llm.calls(),
        2,
        "the retry asks the judge again: the conversation may have moved on"
    );
}

#[tokio::test]
async fn when_the_judge_keeps_timing_out_then_it_is_asked_again_with_backoff_then_skipped() {
    let s = Scenario::start_with(LlmReply::Hang, |config| config.llm_timeout_ms = 100).await;
    let reminder = s.create(appointment_reminder()).await;
    s.whatsapp_message("wamid.slow", T0).await;
    // Due at 240 min; each failure waits 5, 10, 20, 40 minutes; the fifth is final.
    for (minute, kind) in [
        (240, "waiting"),
        (245, "waiting"),
        (255, "waiting"),
        (275, "waiting"),
        (315, "skipped:judge_failed"),
    ] {
        s.at_minutes(minute - 1);
        assert_eq!(s.engine.fire_due().await, 0, "nothing due before {minute}");
        s.at_minutes(minute);
        assert_eq!(s.engine.fire_due().await, 1, "due at {minute}");
        assert_eq!(
            s.log_kinds(&wa_conversation())
                .await
                .last()
                .map(String::as_str),
            Some(kind),
            "at {minute}"
        );
    }
    assert!(
        s.graph.requests().is_empty(),
        "nothing is sent without a verdict"
    );
    assert_eq!(s.deliveries(&reminder).await[0]["status"], "skipped");
    s.at_minutes(2000);
    assert_eq!(s.engine.fire_due().await, 0, "and nothing is left pending");
}

#[tokio::test]
async fn when_meta_refuses_then_window_opt_out_and_bad_token_each_end_as_logged() {
    let s = Scenario::start(LlmReply::Verdict(send_verdict("x"))).await;
    let reminder = s.create(appointment_reminder()).await;
    for (index, (reply, expected_status, expected_log)) in [
        (
            GraphReply::Error {
                status: 400,
                code: 131_047,
                subcode: None,
            },
            "skipped",
            "skipped:window_closed",
        ),
        (
            GraphReply::Error {
                status: 400,
                code: 131_050,
                subcode: None,
            },
            "skipped",
            "skipped:opted_out",
        ),
        (
            GraphReply::Error {
                status: 401,
                code: 190,
                subcode: None,
            },
            "failed",
            "failed",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let start = u32::try_from(index).expect("small") * 600;
        s.at_minutes(start);
        s.whatsapp_message(&format!("wamid.refused{index}"), T0 + i64::from(start) * 60)
            .await;
        s.graph.queue([reply]);
        s.at_minutes(start + 240);
        assert_eq!(s.engine.fire_due().await, 1);
        assert_eq!(s.deliveries(&reminder).await[0]["status"], expected_status);
        assert_eq!(
            s.log_kinds(&wa_conversation())
                .await
                .last()
                .map(String::as_str),
            Some(expected_log)
        );
    }
    assert_eq!(s.graph.requests().len(), 3, "none of them retried");
}

/// The due item of the appointment reminder, and a claim on it by a sender that then
/// stopped (a crash, a Lambda timeout) at `claimed_at_minutes`, with its lease; with
/// `called_meta`, it had noted that it was about to call Meta.
async fn crashed_sender_claim(
    s: &Scenario,
    claimed_at_minutes: u32,
    called_meta: bool,
) -> followup_ports::DueItem {
    let item = s
        .engine
        .scheduler
        .all_items()
        .await
        .expect("items")
        .pop()
        .expect("one item");
    let store = &s.engine.services.store;
    let claimed_at = Timestamp::from_secs(T0).plus_minutes(claimed_at_minutes);
    let lease_until = Timestamp::from_millis(
        claimed_at.as_millis() + i64::from(s.engine.services.claim_lease_seconds) * 1000,
    );
    let claim = store
        .claim_delivery(
            &item.key.chatbot_id,
            &item.key.conversation_id,
            &item.key.follow_up_id,
            item.silence_period,
            "dlv_crashed",
            claimed_at,
            lease_until,
        )
        .await
        .expect("claim");
    assert_eq!(claim, followup_ports::Claim::Claimed("dlv_crashed".into()));
    if called_meta {
        assert!(
            store
                .start_attempt(
                    &item.key.chatbot_id,
                    "dlv_crashed",
                    "dlv_crashed",
                    claimed_at
                )
                .await
                .expect("start attempt")
        );
    }
    item
}

#[tokio::test]
async fn when_a_sender_stopped_before_calling_meta_then_its_claim_is_taken_over_after_the_lease_and_sent_once()
 {
    let s = Scenario::start(LlmReply::Verdict(send_verdict("x"))).await;
    let reminder = s.create(appointment_reminder()).await;
    s.whatsapp_message("wamid.crash1", T0).await;
    s.at_minutes(240);
    let item = crashed_sender_claim(&s, 240, false).await;

    // While the stopped sender's lease runs, the item is not dropped: it comes again.
    assert!(matches!(
        s.engine.services.send_due(&item).await,
        Err(followup_app::ServiceError::ClaimHeld)
    ));
    assert_eq!(s.engine.fire_due().await, 0, "held: left for a retry");
    assert_eq!(s.deliveries(&reminder).await[0]["status"], "claimed");
    assert!(s.graph.requests().is_empty());

    // After the lease, the next delivery of the item takes the claim over and sends.
    s.at_minutes(242);
    assert_eq!(s.engine.fire_due().await, 1);
    assert_eq!(s.graph.requests().len(), 1);
    let deliveries = s.deliveries(&reminder).await;
    assert_eq!(
        (
            deliveries.len(),
            deliveries[0]["id"].as_str(),
            deliveries[0]["status"].as_str()
        ),
        (1, Some("dlv_crashed"), Some("sent"))
    );
    assert!(
        s.log_kinds(&wa_conversation())
            .await
            .iter()
            .any(|k| k == "sent")
    );
    assert!(
        s.engine
            .scheduler
            .all_items()
            .await
            .expect("items")
            .is_empty()
    );
}

#[tokio::test]
async fn when_a_sender_stopped_after_it_started_calling_meta_then_the_outcome_is_unknown_and_nothing_is_resent()
 {
    let s = Scenario::start(LlmReply::Verdict(send_verdict("x"))).await;
    let reminder = s.create(appointment_reminder()).await;
    s.whatsapp_message("wamid.crash2", T0).await;
    s.at_minutes(240);
    crashed_sender_claim(&s, 240, true).await;

    s.at_minutes(242);
    assert_eq!(s.engine.fire_due().await, 1);
    assert!(
        s.graph.requests().is_empty(),
        "it may have gone out: never sent again"
    );
    assert_eq!(
        s.llm.calls(),
        0,
        "no judging for an item that cannot be sent"
    );
    let deliveries = s.deliveries(&reminder).await;
    assert_eq!(
        (deliveries.len(), deliveries[0]["status"].as_str()),
        (1, Some("unknown"))
    );
    assert_eq!(
        s.log_kinds(&wa_conversation())
            .await
            .last()
            .map(String::as_str),
        Some("outcome_unknown")
    );
    let (status, stats) = s
        .api(
            Method::GET,
            &format!("/v1/chatbots/clinic/follow-ups/{reminder}/stats"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["outcome_unknown"], 1, "{stats}");
    // A later delivery of the same item finds it settled.
    s.at_minutes(250);
    assert_eq!(s.engine.fire_due().await, 0);
    assert!(s.graph.requests().is_empty());
}

#[tokio::test]
async fn when_too_little_time_is_left_in_the_invocation_then_the_item_is_not_claimed_and_comes_again()
 {
    let s = Scenario::start(LlmReply::Verdict(send_verdict("x"))).await;
    let reminder = s.create(appointment_reminder()).await;
    s.whatsapp_message("wamid.late", T0).await;
    s.at_minutes(240);
    let item = s
        .engine
        .scheduler
        .all_items()
        .await
        .expect("items")
        .pop()
        .expect("one item");
    let services = &s.engine.services;
    let now = Timestamp::from_secs(T0).plus_minutes(240);
    let too_soon = Timestamp::from_millis(
        now.as_millis() + i64::try_from(services.budget.item().as_millis()).expect("ms") - 1,
    );
    assert!(matches!(
        services.send_due_by(&item, Some(too_soon)).await,
        Err(followup_app::ServiceError::OutOfTime { .. })
    ));
    assert!(s.deliveries(&reminder).await.is_empty(), "nothing claimed");
    assert_eq!(s.llm.calls(), 0);
    assert!(s.graph.requests().is_empty());

    let enough = Timestamp::from_millis(
        now.as_millis() + i64::try_from(services.budget.item().as_millis()).expect("ms"),
    );
    assert_eq!(
        services
            .send_due_by(&item, Some(enough))
            .await
            .expect("send"),
        followup_app::SendOutcome::Sent
    );
    assert_eq!(s.graph.requests().len(), 1);
}

async fn dry_run(s: &Scenario, conversation: &str, body: Value) -> (StatusCode, Value) {
    s.api(
        Method::POST,
        &format!("/v1/chatbots/clinic/conversations/{conversation}/dry-run"),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn when_a_follow_up_is_dry_run_then_it_says_what_would_go_out_and_sends_and_writes_nothing() {
    let s = Scenario::start(LlmReply::Verdict(send_verdict("unused for custom text"))).await;
    let reminder = s.create(appointment_reminder()).await;
    s.whatsapp_message("wamid.in1", T0).await;
    let log_before = s.log_kinds(&wa_conversation()).await;
    s.at_minutes(60);

    let (status, run) = dry_run(&s, &wa_conversation(), json!({"follow_up_id": reminder})).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["action"], "send", "{run}");
    assert_eq!(run["judge"]["asked"], true);
    assert_eq!(run["judge"]["stop_trigger_met"], false);
    assert_eq!(run["message"]["sent_as"], "text");
    assert_eq!(
        run["message"]["text"],
        "Shall I book one of these? Tue 10:00 or Wed 15:00."
    );
    assert_eq!(run["window"]["state"], "free_form");
    assert_eq!(run["cost"]["meta_fee"], "free");
    assert_eq!(run["cost"]["model_input_tokens"], 100);
    assert_eq!(s.llm.calls(), 1, "the judge is asked once");

    // Nothing sent, claimed, logged or rescheduled: the real send still happens once.
    assert!(s.graph.requests().is_empty());
    assert!(s.deliveries(&reminder).await.is_empty());
    assert_eq!(s.log_kinds(&wa_conversation()).await, log_before);
    s.at_minutes(240);
    assert_eq!(s.engine.fire_due().await, 1);
    assert_eq!(s.graph.requests().len(), 1);

    // Sent in this silence period: a dry run now says it would be skipped, unjudged.
    let (_, again) = dry_run(&s, &wa_conversation(), json!({"follow_up_id": reminder})).await;
    assert_eq!(
        (again["action"].as_str(), again["reason"].as_str()),
        (Some("skip"), Some("already_sent")),
        "{again}"
    );
    assert_eq!(again["judge"]["asked"], false);
    assert_eq!(
        s.llm.calls(),
        2,
        "one judge call for the send, none for this dry run"
    );
}

#[tokio::test]
async fn when_a_dry_run_falls_past_the_window_then_it_previews_the_template_and_its_fee() {
    let s = Scenario::start(LlmReply::Verdict(send_verdict("x"))).await;
    let reminder = s.create(appointment_reminder()).await;
    s.whatsapp_message("wamid.late", T0).await;
    s.at_minutes(25 * 60);
    let (status, run) = dry_run(&s, &wa_conversation(), json!({"follow_up_id": reminder})).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["action"], "send", "{run}");
    assert_eq!(run["window"]["state"], "template");
    assert_eq!(run["message"]["sent_as"], "template");
    assert_eq!(run["message"]["template_name"], "appointment_reminder");
    assert_eq!(run["message"]["parameters"], json!(["Kerry Fisher"]));
    assert_eq!(
        run["message"]["body"],
        "Hi Kerry Fisher, your appointment slot is still free. Reply YES to book it."
    );
    assert_eq!(run["cost"]["meta_fee"], "utility");
    assert!(s.graph.requests().is_empty());
}

#[tokio::test]
async fn when_the_judge_finds_the_stop_trigger_met_in_a_dry_run_then_it_says_stop_and_stops_nothing()
 {
    let s = Scenario::start(LlmReply::Verdict(stop_verdict())).await;
    let reminder = s.create(appointment_reminder()).await;
    s.whatsapp_message("wamid.no", T0).await;
    let (status, run) = dry_run(&s, &wa_conversation(), json!({"follow_up_id": reminder})).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["action"], "stop");
    assert_eq!(run["judge"]["evidence"]["stop"], "no thanks");
    assert_eq!(run["judge"]["stop_reason"], "the customer declined");
    assert!(run["message"].is_null());
    assert!(run["cost"]["meta_fee"].is_null());
    assert_eq!(
        s.engine.scheduler.all_items().await.expect("items").len(),
        1,
        "the pending follow-up is still scheduled"
    );
}

#[tokio::test]
async fn when_a_dry_run_is_asked_wrongly_then_404_or_422_and_the_judge_is_not_asked() {
    let s = Scenario::start(LlmReply::Verdict(send_verdict("x"))).await;
    let reminder = s.create(appointment_reminder()).await;
    s.whatsapp_message("wamid.in1", T0).await;
    let unknown_conversation = format!("whatsapp:{PHONE_NUMBER_ID}:19995550000");
    let cases = [
        (
            wa_conversation(),
            json!({}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            wa_conversation(),
            json!({"follow_up_id": "not an id!"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            wa_conversation(),
            json!({"follow_up_id": 7}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            wa_conversation(),
            json!({"follow_up_id": reminder, "send": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            wa_conversation(),
            json!({"follow_up_id": "fu_0123456789abcdef0123456789abcdef"}),
            StatusCode::NOT_FOUND,
        ),
        (
            unknown_conversation,
            json!({"follow_up_id": reminder}),
            StatusCode::NOT_FOUND,
        ),
        (
            "not-a-conversation".to_owned(),
            json!({"follow_up_id": reminder}),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (conversation, body, expected) in cases {
        let (status, answer) = dry_run(&s, &conversation, body.clone()).await;
        assert_eq!(status, expected, "{conversation} {body}: {answer}");
        if expected == StatusCode::UNPROCESSABLE_ENTITY {
            assert!(
                answer["errors"][0]["field"]
                    .as_str()
                    .is_some_and(|f| f.starts_with("follow_up_id") || f == "send"),
                "{answer}"
            );
        }
    }
    // Another chatbot's token may not dry-run this chatbot's conversations.
    let status = s
        .engine
        .http
        .post(s.engine.url(&format!(
            "/v1/chatbots/clinic/conversations/{}/dry-run",
            wa_conversation()
        )))
        .bearer_auth(followup_tests::engine::OTHER_TOKEN)
        .json(&json!({"follow_up_id": reminder}))
        .send()
        .await
        .expect("request")
        .status();
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(s.llm.calls(), 0);
}

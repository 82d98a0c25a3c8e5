//! The WhatsApp template catalogue end to end: the local engine on simulated time, a local
//! HTTP server speaking the Graph API's template endpoints (paging, Meta's validation
//! errors) and its send endpoint, signed `message_template_status_update` webhooks, and
//! an OpenAI-compatible judge.

use followup_domain::Timestamp;
use followup_tests::engine::{CLINIC_TOKEN, RunningEngine, TEST_WABA, config};
use followup_tests::fakes::{
    FakeGraph, FakeLlm, GraphReply, LlmReply, TEMPLATE_PAGE_SIZE, TemplateRefusal, meta_template,
    send_verdict,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PHONE_NUMBER_ID: &str = "106540352242922";
const CUSTOMER: &str = "16315551181";
const T0: i64 = 1_763_971_200;
const TEMPLATES: &str = "/v1/chatbots/clinic/whatsapp-templates";

struct Scenario {
    engine: RunningEngine,
    graph: FakeGraph,
    _llm: FakeLlm,
    _dir: tempfile::TempDir,
}

/// Five templates: three pages at the fake's page size.
fn catalogue() -> Vec<Value> {
    let mut image_header = meta_template(
        "1274983650212347",
        "spring_offer",
        "en_US",
        "MARKETING",
        "APPROVED",
        "Our spring offer is here. Reply STOP to opt out.",
    );
    image_header["components"]
        .as_array_mut()
        .expect("components")
        .insert(0, json!({"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1hZ2U="]}}));
    let mut rejected = meta_template(
        "1274983650212349",
        "winter_offer",
        "en_US",
        "MARKETING",
        "REJECTED",
        "Winter sale! Everything must go.",
    );
    rejected["rejected_reason"] = json!("PROMOTIONAL");
    vec![
        meta_template(
            "1274983650212345",
            "appointment_reminder",
            "en_US",
            "UTILITY",
            "APPROVED",
            "Hi {{1}}, your slot on {{2}} is still free. Reply YES to book it.",
        ),
        meta_template(
            "1274983650212346",
            "appointment_reminder",
            "pt_BR",
            "UTILITY",
            "APPROVED",
            "Olá {{1}}, o horário de {{2}} ainda está livre. Responda SIM para reservar.",
        ),
        image_header,
        meta_template(
            "1274983650212348",
            "old_offer",
            "en_US",
            "MARKETING",
            "PAUSED",
            "An offer from last year, {{1}}.",
        ),
        rejected,
    ]
}

impl Scenario {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let graph = FakeGraph::start().await;
        let llm = FakeLlm::start(LlmReply::Verdict(send_verdict("Still interested?"))).await;
        let mut config = config(dir.path());
        config.messenger = "graph".into();
        config.graph_base_url = graph.base_url.clone();
        config.llm_base_url = Some(llm.base_url.clone());
        config.llm_api_key = Some("sk-test-key".into());
        let engine = RunningEngine::start_simulated_with(config, Timestamp::from_secs(T0)).await;
        graph.set_templates(TEST_WABA, catalogue());
        let scenario = Self {
            engine,
            graph,
            _llm: llm,
            _dir: dir,
        };
        scenario
            .engine
            .connect_catalogue("clinic", PHONE_NUMBER_ID, TEST_WABA)
            .await;
        scenario
    }

    async fn api(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.engine.api(method, path, body.as_ref()).await
    }

    async fn list(&self, query: &str) -> Value {
        let (status, list) = self
            .api(Method::GET, &format!("{TEMPLATES}{query}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        list
    }

    async fn template(&self, name: &str, language: &str) -> Value {
        self.list("").await["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|t| t["name"] == name && t["language"] == language)
            .cloned()
            .unwrap_or_else(|| panic!("{name} ({language}) listed"))
    }

    /// A signed `message_template_status_update`, dated `at_secs`.
    async fn status_update(
        &self,
        name: &str,
        language: &str,
        event: &str,
        reason: Value,
        at_secs: i64,
    ) {
        let body = serde_json::to_vec(&json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": TEST_WABA, "time": at_secs, "changes": [{
                "field": "message_template_status_update",
                "value": {"event": event, "message_template_id": 1_274_983_650_212_345_i64,
                          "message_template_name": name, "message_template_language": language,
                          "reason": reason}
            }]}]
        }))
        .expect("json");
        let (status, _) = self.engine.post_webhook(&body, None).await;
        assert_eq!(status, StatusCode::OK);
    }

    async fn create_follow_up(&self, body: &Value) -> (StatusCode, Value) {
        self.api(
            Method::POST,
            "/v1/chatbots/clinic/follow-ups",
            Some(body.clone()),
        )
        .await
    }

    async fn customer_writes(&self, wamid: &str, at_secs: i64) {
        let body = serde_json::to_vec(&json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": TEST_WABA, "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
                "contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": CUSTOMER}],
                "messages": [{"from": CUSTOMER, "id": wamid, "timestamp": at_secs.to_string(),
                              "type": "text", "text": {"body": "Do you have a slot next week?"}}]
            }}]}]
        }))
        .expect("json");
        let (status, _) = self.engine.post_webhook(&body, None).await;
        assert_eq!(status, StatusCode::OK);
    }

    fn at_minutes(&self, minutes: u32) {
        self.engine
            .clock()
            .set(Timestamp::from_secs(T0).plus_minutes(minutes));
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

    fn template_posts(&self) -> usize {
        self.graph
            .template_requests()
            .iter()
            .filter(|r| r.method == "POST")
            .count()
    }
}

fn reminder(hours: u32, parameters: Value) -> Value {
    json!({
        "name": format!("Appointment reminder - {hours} hours"),
        "color": "blue",
        "delay": {"mode": "manual", "hours": hours},
        "description": "The customer showed interest in booking but did not confirm date and time.",
        "stop_trigger": "The customer confirmed, cancelled, or is no longer interested.",
        "message": {"mode": "custom", "text": "Shall I book one of these? Tue 10:00 or Wed 15:00."},
        "whatsapp_template": {"name": "appointment_reminder", "language": "en_US", "parameters": parameters}
    })
}

fn two_parameters() -> Value {
    json!([{"type": "profile_name"}, {"type": "text", "text": "Tuesday 10:00"}])
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| {
            format!(
                "{}:{}",
                t["name"].as_str().expect("name"),
                t["language"].as_str().expect("language")
            )
        })
        .collect()
}

fn errors_of(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap_or("").to_owned(),
                        e["rule"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn when_the_catalogue_is_refreshed_then_every_page_is_listed_and_filters_apply() {
    let s = Scenario::start().await;
    let gets: Vec<_> = s
        .graph
        .template_requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect();
    let pages = 5usize.div_ceil(TEMPLATE_PAGE_SIZE);
    assert_eq!(
        gets.len(),
        2 * pages,
        "one request per page, for the link's proof of access and again for the refresh"
    );
    let gets = gets[pages..].to_vec();
    assert!(gets.iter().all(|r| r.waba_id == TEST_WABA));
    assert!(
        gets.iter()
            .all(|r| r.authorization.as_deref() == Some("Bearer EAAG-whatsapp"))
    );
    assert_eq!(gets[0].query.get("after"), None);
    assert_eq!(
        gets[1].query.get("after").map(String::as_str),
        Some("cursor-2")
    );
    assert_eq!(
        gets[2].query.get("after").map(String::as_str),
        Some("cursor-4")
    );

    let all = s.list("").await;
    assert_eq!(
        names(&all),
        [
            "appointment_reminder:en_US",
            "appointment_reminder:pt_BR",
            "old_offer:en_US",
            "spring_offer:en_US",
            "winter_offer:en_US"
        ]
    );
    assert_eq!(all["accounts"][0]["waba_id"], TEST_WABA);
    assert!(all["accounts"][0]["last_refreshed_at"].is_string());
    assert!(
        all["billing_note"]
            .as_str()
            .expect("note")
            .contains("billed")
    );

    let reminder = s.template("appointment_reminder", "en_US").await;
    assert_eq!(reminder["status"], "APPROVED");
    assert_eq!(reminder["category"], "UTILITY");
    assert_eq!(reminder["body_parameter_count"], 2);
    assert_eq!(reminder["usable"], true);
    assert_eq!(reminder["billing"], "outside_customer_service_window");
    assert_eq!(reminder["components"][0]["type"], "BODY");
    let spring = s.template("spring_offer", "en_US").await;
    assert_eq!(
        spring["usable"], false,
        "an image header needs a send-time parameter"
    );
    assert!(
        spring["unsupported"]
            .as_str()
            .expect("why")
            .contains("header")
    );
    assert_eq!(spring["billing"], "always");
    let winter = s.template("winter_offer", "en_US").await;
    assert_eq!(winter["status_reason"], "PROMOTIONAL");

    assert_eq!(
        names(&s.list("?status=APPROVED").await),
        [
            "appointment_reminder:en_US",
            "appointment_reminder:pt_BR",
            "spring_offer:en_US"
        ]
    );
    assert_eq!(names(&s.list("?category=marketing").await).len(), 3);
    assert_eq!(
        names(&s.list("?language=pt_BR").await),
        ["appointment_reminder:pt_BR"]
    );
    assert_eq!(
        names(&s.list("?usable=true").await),
        ["appointment_reminder:en_US", "appointment_reminder:pt_BR"]
    );
    let (status, problem) = s
        .api(
            Method::GET,
            &format!("{TEMPLATES}?status=GREAT&usable=maybe"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        errors_of(&problem),
        [
            ("status".to_owned(), "one_of".to_owned()),
            ("usable".to_owned(), "boolean".to_owned())
        ]
    );
}

#[tokio::test]
async fn when_another_chatbot_names_the_account_without_refreshing_then_it_sees_none_of_its_templates()
 {
    let s = Scenario::start().await;
    let (status, body) = s
        .api(
            Method::PUT,
            "/v1/chatbots/other-bot/integrations/whatsapp/106540352242999",
            Some(json!({"access_token": "EAAG-other", "whatsapp_business_account_id": TEST_WABA})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, list) = s
        .api(
            Method::GET,
            "/v1/chatbots/other-bot/whatsapp-templates",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"], json!([]));
    assert_eq!(list["accounts"][0]["last_refreshed_at"], Value::Null);
    // A token for other chatbots may not read clinic's catalogue.
    let response = s
        .engine
        .http
        .get(s.engine.url("/v1/chatbots/other-bot/whatsapp-templates"))
        .bearer_auth(CLINIC_TOKEN)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn when_a_token_cannot_reach_the_business_account_at_meta_then_it_is_not_linked_and_nothing_is_saved()
 {
    let s = Scenario::start().await;
    // Meta lets only clinic's token read clinic's account.
    s.graph.restrict_waba(TEST_WABA, "EAAG-whatsapp");
    let other_integration = "/v1/chatbots/other-bot/integrations/whatsapp/106540352242999";
    let (status, problem) = s
        .api(
            Method::PUT,
            other_integration,
            Some(json!({"access_token": "EAAG-other", "whatsapp_business_account_id": TEST_WABA})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["type"], "business-account-not-accessible");
    let (_, listed) = s
        .api(Method::GET, "/v1/chatbots/other-bot/integrations", None)
        .await;
    assert_eq!(listed["items"], json!([]), "nothing saved");
    let (_, catalogue) = s
        .api(
            Method::GET,
            "/v1/chatbots/other-bot/whatsapp-templates",
            None,
        )
        .await;
    assert_eq!(catalogue["items"], json!([]));
    // The owner's token still reaches it: rotating it (same account) is fine.
    let (status, body) = s
        .api(
            Method::PUT,
            &format!("/v1/chatbots/clinic/integrations/whatsapp/{PHONE_NUMBER_ID}"),
            Some(json!({"access_token": "EAAG-whatsapp"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A rotated token that Meta does not let read the account is refused; the old one stays.
    let (status, problem) = s
        .api(
            Method::PUT,
            &format!("/v1/chatbots/clinic/integrations/whatsapp/{PHONE_NUMBER_ID}"),
            Some(json!({"access_token": "EAAG-wrong"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
}

#[tokio::test]
async fn when_no_business_account_is_connected_then_refresh_and_create_answer_409() {
    let s = Scenario::start().await;
    let (status, _) = s
        .api(
            Method::PUT,
            "/v1/chatbots/shop/integrations/whatsapp/106540352242000",
            Some(json!({"access_token": "EAAG-shop"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // A follow-up with a template is refused, saying what is missing.
    let (status, problem) = s
        .api(
            Method::POST,
            "/v1/chatbots/shop/follow-ups",
            Some(reminder(4, two_parameters())),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["rule"], "template_not_found");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("whatsapp_business_account_id"),
        "{problem}"
    );
    for (method, path, body) in [
        (
            Method::POST,
            "/v1/chatbots/shop/whatsapp-templates/refresh",
            None,
        ),
        (
            Method::POST,
            "/v1/chatbots/shop/whatsapp-templates",
            Some(
                json!({"name": "x", "language": "en", "category": "UTILITY", "body": {"text": "Hello there"}}),
            ),
        ),
    ] {
        let (status, problem) = s.api(method, path, body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert_eq!(problem["type"], "no-business-account");
    }
    // Only WhatsApp integrations have a business account.
    let (status, problem) = s
        .api(
            Method::PUT,
            "/v1/chatbots/shop/integrations/instagram/17841400000000001",
            Some(json!({"access_token": "EAAG-ig", "whatsapp_business_account_id": TEST_WABA})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        errors_of(&problem),
        [(
            "whatsapp_business_account_id".to_owned(),
            "whatsapp_only".to_owned()
        )]
    );
}

#[tokio::test]
async fn when_a_template_is_created_then_it_waits_for_the_approval_webhook_before_follow_ups_can_use_it()
 {
    let s = Scenario::start().await;
    let (status, created) = s
        .api(
            Method::POST,
            TEMPLATES,
            Some(json!({
                "name": "booking_nudge",
                "language": "en_US",
                "category": "UTILITY",
                "body": {"text": "Hi {{1}}, shall we keep your slot? Reply YES.", "examples": ["Ana"]},
                "footer": {"text": "Dental clinic"},
                "buttons": [{"type": "quick_reply", "text": "Yes"}]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "PENDING");
    assert_eq!(created["body_parameter_count"], 1);
    assert_eq!(created["usable"], false);
    assert_eq!(created["components"][0]["type"], "BODY", "{created}");
    let post = s
        .graph
        .template_requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .expect("Meta was asked");
    let sent = post.body.expect("body");
    assert_eq!(sent["name"], "booking_nudge");
    assert_eq!(sent["category"], "UTILITY");
    let body = sent["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["type"] == "BODY")
        .expect("body component")
        .clone();
    assert_eq!(body["example"]["body_text"], json!([["Ana"]]));

    let mut follow_up = reminder(4, json!([{"type": "profile_name"}]));
    follow_up["whatsapp_template"]["name"] = json!("booking_nudge");
    let (status, problem) = s.create_follow_up(&follow_up).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(
        errors_of(&problem),
        [(
            "whatsapp_template.name".to_owned(),
            "template_not_approved".to_owned()
        )]
    );

    s.status_update("booking_nudge", "en_US", "APPROVED", json!("NONE"), T0 + 60)
        .await;
    let approved = s.template("booking_nudge", "en_US").await;
    assert_eq!(approved["status"], "APPROVED");
    assert_eq!(approved["usable"], true);
    let (status, saved) = s.create_follow_up(&follow_up).await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    assert_eq!(saved["warnings"], json!([]));
    assert_eq!(saved["cost"]["billed_sends"], "whatsapp_template_sends");
    assert_eq!(saved["cost"]["template_category"], "UTILITY");
}

#[tokio::test]
async fn when_meta_refuses_a_template_then_its_errors_come_back_by_field_and_nothing_is_stored() {
    let s = Scenario::start().await;
    let duplicate = json!({
        "name": "appointment_reminder", "language": "en_US", "category": "UTILITY",
        "body": {"text": "Hi {{1}}, your slot is free.", "examples": ["Ana"]}
    });
    let (status, problem) = s.api(Method::POST, TEMPLATES, Some(duplicate)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["type"], "template-rejected");
    assert_eq!(
        errors_of(&problem),
        [("name".to_owned(), "meta_rejected".to_owned())]
    );
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("already")
    );

    s.graph.refuse_templates([TemplateRefusal {
        status: 400,
        code: 100,
        subcode: Some(2_388_047),
        user_msg: "The message body has too many variables for its length.".into(),
    }]);
    let crowded = json!({
        "name": "crowded", "language": "en", "category": "MARKETING",
        "body": {"text": "Hi {{1}} {{2}} {{3}} ok", "examples": ["a", "b", "c"]}
    });
    let (status, problem) = s.api(Method::POST, TEMPLATES, Some(crowded)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(
        errors_of(&problem),
        [("body.text".to_owned(), "meta_rejected".to_owned())]
    );
    let posts = s.template_posts();
    assert_eq!(posts, 2);

    // Broken before Meta: refused here, field by field, and Meta is not asked.
    let broken = json!({
        "name": "Bad Name", "language": "english", "category": "AUTHENTICATION",
        "body": {"text": "Hi {{1}} and {{3}}!"}
    });
    let (status, problem) = s.api(Method::POST, TEMPLATES, Some(broken)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["type"], "validation-failed");
    assert_eq!(
        errors_of(&problem),
        [
            ("name".to_owned(), "template_name".to_owned()),
            ("language".to_owned(), "language_code".to_owned()),
            ("category".to_owned(), "one_of".to_owned()),
            ("body.text".to_owned(), "sequential_placeholders".to_owned()),
        ]
    );
    assert_eq!(s.template_posts(), posts, "Meta was not asked");
    assert_eq!(names(&s.list("?language=en").await), Vec::<String>::new());
}

#[tokio::test]
async fn when_a_template_is_rejected_then_the_list_shows_the_reason_and_an_older_update_does_not_undo_it()
 {
    let s = Scenario::start().await;
    s.status_update(
        "appointment_reminder",
        "pt_BR",
        "REJECTED",
        json!("INVALID_FORMAT"),
        T0 + 100,
    )
    .await;
    let rejected = s.template("appointment_reminder", "pt_BR").await;
    assert_eq!(rejected["status"], "REJECTED");
    assert_eq!(rejected["status_reason"], "INVALID_FORMAT");
    assert_eq!(rejected["usable"], false);
    // Meta delivered an older approval late: it must not override the rejection.
    s.status_update(
        "appointment_reminder",
        "pt_BR",
        "APPROVED",
        json!("NONE"),
        T0 + 50,
    )
    .await;
    assert_eq!(
        s.template("appointment_reminder", "pt_BR").await["status"],
        "REJECTED"
    );
    // An unsigned update changes nothing.
    let forged = serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": TEST_WABA, "time": T0 + 500, "changes": [{"field": "message_template_status_update",
            "value": {"event": "APPROVED", "message_template_name": "appointment_reminder",
                      "message_template_language": "pt_BR", "reason": "NONE"}}]}]
    }))
    .expect("json");
    let (status, _) = s
        .engine
        .post_webhook(&forged, Some(Some("sha256=00")))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        s.template("appointment_reminder", "pt_BR").await["status"],
        "REJECTED"
    );
    // Saving a follow-up with it is refused while it is rejected.
    let mut follow_up = reminder(4, two_parameters());
    follow_up["whatsapp_template"]["language"] = json!("pt_BR");
    let (status, problem) = s.create_follow_up(&follow_up).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("INVALID_FORMAT")
    );
}

#[tokio::test]
async fn when_parameters_do_not_match_the_template_then_422_names_the_field_and_nothing_is_saved() {
    let s = Scenario::start().await;
    let cases = [
        (
            reminder(4, json!([{"type": "profile_name"}])),
            "whatsapp_template.parameters",
            "template_parameter_count",
        ),
        (
            reminder(4, json!([])),
            "whatsapp_template.parameters",
            "template_parameter_count",
        ),
        (
            {
                let mut body = reminder(4, two_parameters());
                body["whatsapp_template"]["language"] = json!("de");
                body
            },
            "whatsapp_template.language",
            "template_language_not_found",
        ),
        (
            {
                let mut body = reminder(4, json!([]));
                body["whatsapp_template"]["name"] = json!("no_such_template");
                body
            },
            "whatsapp_template.name",
            "template_not_found",
        ),
        (
            {
                let mut body = reminder(4, json!([]));
                body["whatsapp_template"]["name"] = json!("spring_offer");
                body
            },
            "whatsapp_template.name",
            "template_unsupported",
        ),
        (
            {
                let mut body = reminder(4, json!([{"type": "profile_name"}]));
                body["whatsapp_template"]["name"] = json!("old_offer");
                body
            },
            "whatsapp_template.name",
            "template_not_approved",
        ),
    ];
    for (body, field, rule) in cases {
        let (status, problem) = s.create_follow_up(&body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(
            errors_of(&problem),
            [(field.to_owned(), rule.to_owned())],
            "{problem}"
        );
    }
    let (_, list) = s
        .api(Method::GET, "/v1/chatbots/clinic/follow-ups", None)
        .await;
    assert_eq!(list["items"], json!([]), "nothing was saved");

    // The right count saves; a PATCH that breaks it is refused and changes nothing.
    let (status, saved) = s.create_follow_up(&reminder(4, two_parameters())).await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    let path = format!(
        "/v1/chatbots/clinic/follow-ups/{}",
        saved["id"].as_str().expect("id")
    );
    let (status, problem) = s
        .api(
            Method::PATCH,
            &path,
            Some(json!({"whatsapp_template": {"name": "appointment_reminder", "language": "en_US", "parameters": []}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        errors_of(&problem),
        [(
            "whatsapp_template.parameters".to_owned(),
            "template_parameter_count".to_owned()
        )]
    );
    let (_, current) = s.api(Method::GET, &path, None).await;
    assert_eq!(current["revision"], saved["revision"]);
}

#[tokio::test]
async fn when_the_template_is_paused_then_sends_past_24_hours_are_skipped_until_it_is_approved_again()
 {
    let s = Scenario::start().await;
    let (status, late) = s.create_follow_up(&reminder(30, two_parameters())).await;
    assert_eq!(status, StatusCode::CREATED, "{late}");
    let late = late["id"].as_str().expect("id").to_owned();
    let (status, early) = s.create_follow_up(&reminder(4, two_parameters())).await;
    assert_eq!(status, StatusCode::CREATED, "{early}");
    let early = early["id"].as_str().expect("id").to_owned();

    s.customer_writes("wamid.first", T0).await;
    s.status_update(
        "appointment_reminder",
        "en_US",
        "PAUSED",
        Value::Null,
        T0 + 60,
    )
    .await;
    let (_, shown) = s
        .api(
            Method::GET,
            &format!("/v1/chatbots/clinic/follow-ups/{late}"),
            None,
        )
        .await;
    let codes: Vec<&str> = shown["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w["code"].as_str())
        .collect();
    assert!(codes.contains(&"template_not_approved"), "{shown}");

    // Inside the window the 4-hour follow-up still goes out as text: no template needed.
    s.at_minutes(4 * 60);
    assert_eq!(s.engine.fire_due().await, 1);
    assert_eq!(s.deliveries(&early).await[0]["sent_as"], "text");
    assert_eq!(s.deliveries(&early).await[0]["billed"], false);

    // Past 24 hours the paused template blocks the send: skipped, with the reason.
    s.at_minutes(30 * 60);
    assert_eq!(s.engine.fire_due().await, 1);
    assert_eq!(s.graph.requests().len(), 1, "only the text went out");
    let skipped = &s.deliveries(&late).await[0];
    assert_eq!(skipped["status"], "skipped");
    assert!(
        skipped["detail"]
            .as_str()
            .expect("detail")
            .contains("PAUSED"),
        "{skipped}"
    );
    let conversation = format!("whatsapp:{PHONE_NUMBER_ID}:{CUSTOMER}");
    let (_, log) = s
        .api(
            Method::GET,
            &format!("/v1/chatbots/clinic/conversations/{conversation}/log"),
            None,
        )
        .await;
    assert!(
        log["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["kind"] == "skipped" && e["reason"] == "template_not_approved"),
        "{log}"
    );

    // Approved again: the warning goes, and the next silence period sends the template.
    s.status_update(
        "appointment_reminder",
        "en_US",
        "REINSTATED",
        Value::Null,
        T0 + 31 * 3600,
    )
    .await;
    let (_, shown) = s
        .api(
            Method::GET,
            &format!("/v1/chatbots/clinic/follow-ups/{late}"),
            None,
        )
        .await;
    assert!(
        shown["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .all(|w| w["field"] != "whatsapp_template"),
        "{shown}"
    );
    s.at_minutes(31 * 60);
    s.customer_writes("wamid.second", T0 + 31 * 3600).await;
    s.at_minutes(61 * 60);
    s.engine.fire_due().await;
    let requests = s.graph.requests();
    let last = &requests.last().expect("a send").body;
    assert_eq!(last["type"], "template");
    assert_eq!(last["template"]["name"], "appointment_reminder");
    let sent = &s.deliveries(&late).await[0];
    assert_eq!(sent["sent_as"], "template");
    assert_eq!(sent["billed"], true);
}

#[tokio::test]
async fn when_meta_paused_the_template_before_the_catalogue_heard_then_the_send_is_skipped_once() {
    let s = Scenario::start().await;
    let (status, late) = s.create_follow_up(&reminder(30, two_parameters())).await;
    assert_eq!(status, StatusCode::CREATED, "{late}");
    let late = late["id"].as_str().expect("id").to_owned();
    s.customer_writes("wamid.first", T0).await;
    // The catalogue still says APPROVED; Meta answers the send with 132015 (paused).
    s.graph.queue([GraphReply::Error {
        status: 400,
        code: 132_015,
        subcode: None,
    }]);
    s.at_minutes(30 * 60);
    assert_eq!(s.engine.fire_due().await, 1);
    assert_eq!(s.graph.requests().len(), 1, "asked once, not retried");
    let delivery = &s.deliveries(&late).await[0];
    assert_eq!(delivery["status"], "skipped");
    assert_eq!(delivery["billed"], false);
    assert!(
        delivery["detail"]
            .as_str()
            .expect("detail")
            .contains("template_not_approved"),
        "{delivery}"
    );
    // Delivered again (at least once), nothing more goes out.
    s.engine.fire_due().await;
    assert_eq!(s.graph.requests().len(), 1);
}

#[tokio::test]
async fn when_meta_recategorises_a_template_then_its_billing_and_the_follow_ups_cost_follow() {
    let s = Scenario::start().await;
    let (status, saved) = s.create_follow_up(&reminder(30, two_parameters())).await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    assert_eq!(saved["cost"]["template_category"], "UTILITY");
    let path = format!(
        "/v1/chatbots/clinic/follow-ups/{}",
        saved["id"].as_str().expect("id")
    );
    let body = serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": TEST_WABA, "time": T0 + 120, "changes": [{
            "field": "template_category_update",
            "value": {"message_template_id": 1_274_983_650_212_345_i64,
                      "message_template_name": "appointment_reminder",
                      "message_template_language": "en_US",
                      "previous_category": "UTILITY", "new_category": "MARKETING"}
        }]}]
    }))
    .expect("json");
    let (status, _) = s.engine.post_webhook(&body, None).await;
    assert_eq!(status, StatusCode::OK);
    let template = s.template("appointment_reminder", "en_US").await;
    assert_eq!(template["category"], "MARKETING");
    assert_eq!(template["billing"], "always");
    let (_, shown) = s.api(Method::GET, &path, None).await;
    assert_eq!(shown["cost"]["template_category"], "MARKETING");
}

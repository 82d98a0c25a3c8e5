//! The config API over real HTTP against the running local engine (router, SQLite file).

use followup_tests::engine::{
    ADMIN_TOKEN, CLINIC_TOKEN, OTHER_TOKEN, RunningEngine, TEST_WABA, example_templates,
    write_local_templates,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn appointment_reminder() -> Value {
    json!({
        "name": "Appointment reminder - 4 hours",
        "color": "blue",
        "delay": {"mode": "manual", "hours": 4},
        "description": "The customer showed interest in booking but did not confirm date and time.",
        "stop_trigger": "The customer confirmed, cancelled, or is no longer interested.",
        "message": {"mode": "custom", "text": "Shall we book one of these slots? Tue 10:00, Wed 15:00"},
        "whatsapp_template": {"name": "appointment_reminder", "language": "en_US",
                              "parameters": [{"type": "profile_name"}]}
    })
}

fn after_sales_check() -> Value {
    json!({
        "name": "After-sales check - 24 hours",
        "color": "green",
        "delay": {"mode": "manual", "hours": 24},
        "description": "After a purchase, to make sure the customer is satisfied.",
        "stop_trigger": "The customer confirms satisfaction, reports a problem (escalate to support) or says thanks.",
        "message": {"mode": "ai"},
        "whatsapp_template": {"name": "purchase_confirmation", "language": "en_US", "parameters": []}
    })
}

fn minimal(name: &str) -> Value {
    json!({
        "name": name,
        "delay": {"mode": "manual", "minutes": 120},
        "description": "customer asked about a product and went quiet",
        "stop_trigger": "customer bought or declined"
    })
}

struct Api {
    engine: RunningEngine,
    _dir: tempfile::TempDir,
}

impl Api {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        write_local_templates(dir.path(), TEST_WABA, example_templates());
        let engine = RunningEngine::start(dir.path()).await;
        // The examples' templates must be in the chatbots' catalogues to be saved.
        for bot in ["clinic", "shop"] {
            engine
                .connect_catalogue(bot, &format!("10654035224292{}", bot.len()), TEST_WABA)
                .await;
        }
        Self { engine, _dir: dir }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut request = self.engine.http.request(method, self.engine.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request reaches the engine");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("JSON body")
        };
        (status, headers, value)
    }

    async fn admin(&self, method: Method, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
        let (status, _, value) = self.call(method, path, Some(ADMIN_TOKEN), body).await;
        (status, value)
    }

    async fn create(&self, bot: &str, body: &Value) -> Value {
        let (status, value) = self
            .admin(
                Method::POST,
                &format!("/v1/chatbots/{bot}/follow-ups"),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{value}");
        value
    }

    async fn list(&self, bot: &str, query: &str) -> Value {
        let (status, value) = self
            .admin(
                Method::GET,
                &format!("/v1/chatbots/{bot}/follow-ups{query}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{value}");
        value
    }
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

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|f| f["name"].as_str().expect("name").to_owned())
        .collect()
}

#[tokio::test]
async fn when_the_two_product_examples_are_created_then_they_read_back_with_effective_delays() {
    let api = Api::start().await;
    let (status, headers, reminder) = api
        .call(
            Method::POST,
            "/v1/chatbots/clinic/follow-ups",
            Some(CLINIC_TOKEN),
            Some(&appointment_reminder()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reminder}");
    let id = reminder["id"].as_str().expect("id");
    assert_eq!(
        headers["location"].to_str().expect("location"),
        format!("/v1/chatbots/clinic/follow-ups/{id}")
    );
    assert_eq!(headers["etag"], "\"1\"");
    assert_eq!(reminder["delay"], json!({"mode": "manual", "minutes": 240}));
    assert_eq!(reminder["active"], true);
    assert_eq!(reminder["revision"], 1);
    assert_eq!(reminder["warnings"], json!([]));
    assert_eq!(
        reminder["effective_delays"]
            .as_array()
            .expect("plans")
            .len(),
        3
    );
    assert!(
        reminder["created_at"]
            .as_str()
            .expect("time")
            .ends_with('Z')
    );

    let after_sales = api.create("clinic", &after_sales_check()).await;
    // 24 h is past the window minus its margin: WhatsApp sends the template, Instagram and
    // Messenger are clamped, and the response says so.
    let plans = &after_sales["effective_delays"];
    assert_eq!(
        plans[0],
        json!({"platform": "whatsapp", "requested_minutes": 1440, "effective_minutes": 1440, "clamped": false, "send_as": "template"})
    );
    assert_eq!(plans[1]["effective_minutes"], 1425);
    assert_eq!(plans[1]["clamped"], true);
    let warned: Vec<&str> = after_sales["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w["platform"].as_str().expect("platform"))
        .collect();
    assert_eq!(warned, ["messenger", "instagram"]);

    let (status, read) = api
        .admin(
            Method::GET,
            &format!("/v1/chatbots/clinic/follow-ups/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, reminder);

    let list = api.list("clinic", "").await;
    assert_eq!(
        ids(&list),
        [
            "Appointment reminder - 4 hours",
            "After-sales check - 24 hours"
        ]
    );
    assert_eq!(
        (list["active_count"].as_u64(), list["active_limit"].as_u64()),
        (Some(2), Some(5))
    );
}

#[tokio::test]
async fn when_listing_with_filters_then_colour_and_active_narrow_the_list() {
    let api = Api::start().await;
    api.create("clinic", &appointment_reminder()).await;
    api.create("clinic", &after_sales_check()).await;
    let mut inactive = minimal("Inactive blue");
    inactive["color"] = json!("blue");
    inactive["active"] = json!(false);
    api.create("clinic", &inactive).await;

    assert_eq!(
        ids(&api.list("clinic", "?color=blue").await),
        ["Appointment reminder - 4 hours", "Inactive blue"]
    );
    assert_eq!(
        ids(&api.list("clinic", "?color=blue&active=false").await),
        ["Inactive blue"]
    );
    assert_eq!(ids(&api.list("clinic", "?active=true").await).len(), 2);
    let filtered = api.list("clinic", "?color=green").await;
    assert_eq!(
        filtered["active_count"], 2,
        "the count covers the chatbot, not the filter"
    );

    let (status, problem) = api
        .admin(
            Method::GET,
            "/v1/chatbots/clinic/follow-ups?color=teal",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        errors_of(&problem),
        [("color".to_owned(), "one_of".to_owned())]
    );
    let (status, problem) = api
        .admin(
            Method::GET,
            "/v1/chatbots/clinic/follow-ups?active=yes",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        errors_of(&problem),
        [("active".to_owned(), "boolean".to_owned())]
    );
}

#[tokio::test]
async fn when_fields_break_rules_then_422_names_each_path_and_nothing_is_created() {
    let api = Api::start().await;
    let cases: Vec<(Value, Vec<(&str, &str)>)> = vec![
        (
            json!({"name": "a".repeat(101)}),
            vec![("name", "max_length")],
        ),
        (
            json!({"name": "ü".repeat(101)}),
            vec![("name", "max_length")],
        ),
        (json!({"name": "   "}), vec![("name", "not_blank")]),
        (json!({"color": "teal"}), vec![("color", "one_of")]),
        (
            json!({"delay": {"mode": "manual", "minutes": 0}}),
            vec![("delay.minutes", "range")],
        ),
        (
            json!({"delay": {"mode": "manual", "minutes": "4"}}),
            vec![("delay.minutes", "type")],
        ),
        (
            json!({"delay": {"mode": "soon"}}),
            vec![("delay.mode", "one_of")],
        ),
        (
            json!({"delay": {"mode": "manual", "minutes": null, "hours": 4}}),
            vec![("delay.minutes", "type")],
        ),
        (
            json!({"delay": {"mode": "manual", "minutes": 60.5}}),
            vec![("delay.minutes", "type")],
        ),
        (
            json!({"message": {"mode": "ai", "text": null}}),
            vec![("message.text", "type")],
        ),
        (
            json!({"description": ""}),
            vec![("description", "not_blank")],
        ),
        (
            json!({"stop_trigger": "x".repeat(1001)}),
            vec![("stop_trigger", "max_length")],
        ),
        (
            json!({"message": {"mode": "custom"}}),
            vec![("message.text", "required")],
        ),
        (
            json!({"whatsapp_template": {"name": "Bad Name", "language": "english"}}),
            vec![
                ("whatsapp_template.name", "template_name"),
                ("whatsapp_template.language", "language_code"),
            ],
        ),
        (
            json!({"whatsapp_template": {"name": "x", "language": "en", "parameters": [{"type": "text", "text": ""}]}}),
            vec![("whatsapp_template.parameters[0].text", "not_blank")],
        ),
        (json!({"colour": "blue"}), vec![("colour", "unknown_field")]),
        (json!({"active": "yes"}), vec![("active", "type")]),
    ];
    for (overrides, expected) in cases {
        let mut body = minimal("Valid name");
        for (key, value) in overrides.as_object().expect("object") {
            body[key] = value.clone();
        }
        let (status, headers, problem) = api
            .call(
                Method::POST,
                "/v1/chatbots/clinic/follow-ups",
                Some(ADMIN_TOKEN),
                Some(&body),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{overrides}: {problem}"
        );
        assert_eq!(headers["content-type"], "application/problem+json");
        assert_eq!(problem["type"], "validation-failed");
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(f, r)| ((*f).to_owned(), (*r).to_owned()))
            .collect();
        assert_eq!(errors_of(&problem), expected, "{overrides}");
    }
    let (status, problem) = api
        .admin(
            Method::POST,
            "/v1/chatbots/clinic/follow-ups",
            Some(&json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = errors_of(&problem).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["name", "delay", "description", "stop_trigger"]);
    assert_eq!(
        api.list("clinic", "").await["items"],
        json!([]),
        "nothing was created"
    );
}

#[tokio::test]
async fn when_the_name_has_exactly_100_multibyte_characters_then_it_is_accepted() {
    let api = Api::start().await;
    let created = api.create("clinic", &minimal(&"🦷".repeat(100))).await;
    assert_eq!(created["name"].as_str().expect("name").chars().count(), 100);
}

#[tokio::test]
async fn when_the_body_is_not_usable_json_then_400_413_or_415_and_nothing_changes() {
    let api = Api::start().await;
    let url = api.engine.url("/v1/chatbots/clinic/follow-ups");
    let http = &api.engine.http;
    let broken = http
        .post(&url)
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .expect("send");
    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
    let not_json = http
        .post(&url)
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let mut huge = minimal("Huge");
    huge["description"] = json!("x".repeat(100 * 1024));
    let too_large = http
        .post(&url)
        .bearer_auth(ADMIN_TOKEN)
        .json(&huge)
        .send()
        .await
        .expect("send");
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let array = http
        .post(&url)
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!([1, 2]))
        .send()
        .await
        .expect("send");
    assert_eq!(array.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(api.list("clinic", "").await["items"], json!([]));
}

#[tokio::test]
async fn when_a_sixth_follow_up_is_activated_then_409_explains_and_nothing_changes() {
    let api = Api::start().await;
    for i in 0..5 {
        api.create("clinic", &minimal(&format!("Active {i}"))).await;
    }
    let (status, problem) = api
        .admin(
            Method::POST,
            "/v1/chatbots/clinic/follow-ups",
            Some(&minimal("Sixth")),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["type"], "active-limit-reached");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("5 active"),
        "{problem}"
    );
    assert_eq!(
        api.list("clinic", "").await["items"]
            .as_array()
            .expect("items")
            .len(),
        5
    );

    let mut inactive = minimal("Sixth, inactive");
    inactive["active"] = json!(false);
    let sixth = api.create("clinic", &inactive).await;
    let id = sixth["id"].as_str().expect("id");
    let (status, problem) = api
        .admin(
            Method::POST,
            &format!("/v1/chatbots/clinic/follow-ups/{id}/activate"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["type"], "active-limit-reached");
    let (status, problem) = api
        .admin(
            Method::PATCH,
            &format!("/v1/chatbots/clinic/follow-ups/{id}"),
            Some(&json!({"active": true})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    let (_, unchanged) = api
        .admin(
            Method::GET,
            &format!("/v1/chatbots/clinic/follow-ups/{id}"),
            None,
        )
        .await;
    assert_eq!(
        (
            unchanged["active"].as_bool(),
            unchanged["revision"].as_u64()
        ),
        (Some(false), Some(1))
    );
}

#[tokio::test]
async fn when_50_activations_arrive_at_once_then_exactly_5_are_active() {
    let api = Api::start().await;
    let mut ids = Vec::new();
    for i in 0..50 {
        let mut body = minimal(&format!("Candidate {i}"));
        body["active"] = json!(false);
        ids.push(
            api.create("clinic", &body).await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let mut tasks = tokio::task::JoinSet::new();
    for id in ids {
        let http = api.engine.http.clone();
        let url = api
            .engine
            .url(&format!("/v1/chatbots/clinic/follow-ups/{id}/activate"));
        tasks.spawn(async move {
            http.post(url)
                .bearer_auth(ADMIN_TOKEN)
                .send()
                .await
                .expect("send")
                .status()
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.expect("task"));
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let conflict = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, conflict), (5, 45), "{statuses:?}");
    let list = api.list("clinic", "?active=true").await;
    assert_eq!(list["items"].as_array().expect("items").len(), 5);
    assert_eq!(list["active_count"], 5);
}

#[tokio::test]
async fn when_credentials_are_missing_wrong_or_foreign_then_401_or_403_on_every_route() {
    let api = Api::start().await;
    let created = api.create("clinic", &minimal("Mine")).await;
    let id = created["id"].as_str().expect("id");
    let body = minimal("Changed");
    let routes: Vec<(Method, String, Option<&Value>)> = vec![
        (Method::GET, "/v1/chatbots/clinic/follow-ups".into(), None),
        (
            Method::POST,
            "/v1/chatbots/clinic/follow-ups".into(),
            Some(&body),
        ),
        (
            Method::GET,
            format!("/v1/chatbots/clinic/follow-ups/{id}"),
            None,
        ),
        (
            Method::PUT,
            format!("/v1/chatbots/clinic/follow-ups/{id}"),
            Some(&body),
        ),
        (
            Method::PATCH,
            format!("/v1/chatbots/clinic/follow-ups/{id}"),
            Some(&body),
        ),
        (
            Method::DELETE,
            format!("/v1/chatbots/clinic/follow-ups/{id}"),
            None,
        ),
        (
            Method::POST,
            format!("/v1/chatbots/clinic/follow-ups/{id}/activate"),
            None,
        ),
        (
            Method::POST,
            format!("/v1/chatbots/clinic/follow-ups/{id}/deactivate"),
            None,
        ),
    ];
    for (method, path, body) in &routes {
        let (status, headers, problem) = api.call(method.clone(), path, None, *body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(headers["www-authenticate"], "Bearer");
        assert_eq!(problem["type"], "unauthenticated");
        let (status, _, _) = api
            .call(
                method.clone(),
                path,
                Some("not-a-configured-token-at-all"),
                *body,
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
        let (status, _, problem) = api
            .call(method.clone(), path, Some(OTHER_TOKEN), *body)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(problem["type"], "forbidden");
    }
    // The grant is checked before the body: a foreign caller learns nothing from validation.
    let (status, _, _) = api
        .call(
            Method::POST,
            "/v1/chatbots/clinic/follow-ups",
            Some(OTHER_TOKEN),
            Some(&json!({"name": 5})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = api
        .call(
            Method::POST,
            "/v1/chatbots/clinic/follow-ups",
            None,
            Some(&json!({"name": 5})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Nothing above changed the follow-up.
    let (_, unchanged) = api
        .admin(
            Method::GET,
            &format!("/v1/chatbots/clinic/follow-ups/{id}"),
            None,
        )
        .await;
    assert_eq!(unchanged, created);
    // A scoped token works on its own chatbots.
    let (status, _, _) = api
        .call(
            Method::GET,
            "/v1/chatbots/shop/follow-ups",
            Some(CLINIC_TOKEN),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // The health check and the API document need no token.
    let (status, _, _) = api.call(Method::GET, "/v1/health", None, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn when_a_follow_up_belongs_to_another_chatbot_then_it_is_not_found() {
    let api = Api::start().await;
    let created = api.create("clinic", &minimal("Clinic's")).await;
    let id = created["id"].as_str().expect("id");
    for (method, path) in [
        (Method::GET, format!("/v1/chatbots/shop/follow-ups/{id}")),
        (Method::DELETE, format!("/v1/chatbots/shop/follow-ups/{id}")),
        (
            Method::POST,
            format!("/v1/chatbots/shop/follow-ups/{id}/activate"),
        ),
        (
            Method::GET,
            "/v1/chatbots/clinic/follow-ups/fu_does_not_exist".to_owned(),
        ),
        (
            Method::GET,
            "/v1/chatbots/clinic/follow-ups/bad%20id".to_owned(),
        ),
        (Method::GET, "/v1/chatbots/bad%20bot/follow-ups".to_owned()),
    ] {
        let (status, problem) = api.admin(method.clone(), &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(problem["type"], "not-found", "{method} {path}");
    }
}

#[tokio::test]
async fn when_replacing_then_the_whole_config_changes_and_if_match_guards_it() {
    let api = Api::start().await;
    let mut body = minimal("Original");
    body["active"] = json!(false);
    let created = api.create("clinic", &body).await;
    let path = format!(
        "/v1/chatbots/clinic/follow-ups/{}",
        created["id"].as_str().expect("id")
    );

    let (status, replaced) = api
        .admin(Method::PUT, &path, Some(&appointment_reminder()))
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["name"], "Appointment reminder - 4 hours");
    assert_eq!(replaced["revision"], 2);
    assert_eq!(
        replaced["active"], false,
        "PUT without `active` keeps the current state"
    );
    assert_eq!(replaced["created_at"], created["created_at"]);

    let stale = api
        .engine
        .http
        .put(api.engine.url(&path))
        .bearer_auth(ADMIN_TOKEN)
        .header("if-match", "\"1\"")
        .json(&appointment_reminder())
        .send()
        .await
        .expect("send");
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    let fresh = api
        .engine
        .http
        .put(api.engine.url(&path))
        .bearer_auth(ADMIN_TOKEN)
        .header("if-match", "\"2\"")
        .json(&after_sales_check())
        .send()
        .await
        .expect("send");
    assert_eq!(fresh.status(), StatusCode::OK);
    assert_eq!(fresh.headers()["etag"], "\"3\"");

    let (status, problem) = api
        .admin(Method::PUT, &path, Some(&json!({"name": "only a name"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(errors_of(&problem).len(), 3);
    let (_, after) = api.admin(Method::GET, &path, None).await;
    assert_eq!(after["revision"], 3, "a refused PUT changes nothing");
}

#[tokio::test]
async fn when_patching_then_only_sent_fields_change_and_null_clears_optional_ones() {
    let api = Api::start().await;
    let created = api.create("clinic", &appointment_reminder()).await;
    let path = format!(
        "/v1/chatbots/clinic/follow-ups/{}",
        created["id"].as_str().expect("id")
    );

    let (status, patched) = api
        .admin(
            Method::PATCH,
            &path,
            Some(&json!({"name": "Renamed", "color": null, "delay": {"mode": "ai"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["name"], "Renamed");
    assert_eq!(patched["color"], Value::Null);
    assert_eq!(patched["delay"], json!({"mode": "ai"}));
    assert_eq!(patched["effective_delays"], json!([]));
    assert_eq!(patched["description"], created["description"]);
    assert_eq!(patched["whatsapp_template"], created["whatsapp_template"]);
    assert_eq!(patched["revision"], 2);

    let (status, problem) = api
        .admin(
            Method::PATCH,
            &path,
            Some(&json!({"name": "x".repeat(101), "message": {"mode": "custom"}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        errors_of(&problem),
        [
            ("name".to_owned(), "max_length".to_owned()),
            ("message.text".to_owned(), "required".to_owned())
        ]
    );
    let (status, problem) = api
        .admin(
            Method::PATCH,
            &path,
            Some(&json!({"active": null, "message": null, "color": null})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        errors_of(&problem),
        [
            ("active".to_owned(), "not_nullable".to_owned()),
            ("message".to_owned(), "not_nullable".to_owned())
        ]
    );
    let (status, same) = api.admin(Method::PATCH, &path, Some(&json!({}))).await;
    assert_eq!(
        (status, same["revision"].as_u64()),
        (StatusCode::OK, Some(2)),
        "an empty patch changes nothing"
    );
    let (status, problem) = api
        .admin(Method::PATCH, &path, Some(&json!({"nmae": "typo"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        errors_of(&problem),
        [("nmae".to_owned(), "unknown_field".to_owned())]
    );
    let (_, after) = api.admin(Method::GET, &path, None).await;
    assert_eq!(after, patched, "refused patches change nothing");

    let stale = api
        .engine
        .http
        .patch(api.engine.url(&path))
        .bearer_auth(ADMIN_TOKEN)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "late"}))
        .send()
        .await
        .expect("send");
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    let weak = api
        .engine
        .http
        .patch(api.engine.url(&path))
        .bearer_auth(ADMIN_TOKEN)
        .header("if-match", "W/\"2\"")
        .json(&json!({"name": "weak"}))
        .send()
        .await
        .expect("send");
    assert_eq!(
        weak.status(),
        StatusCode::BAD_REQUEST,
        "revisions are strong validators"
    );
}

#[tokio::test]
async fn when_deactivated_activated_and_deleted_then_each_step_shows() {
    let api = Api::start().await;
    let created = api.create("clinic", &minimal("Lifecycle")).await;
    let path = format!(
        "/v1/chatbots/clinic/follow-ups/{}",
        created["id"].as_str().expect("id")
    );
    let (status, off) = api
        .admin(Method::POST, &format!("{path}/deactivate"), None)
        .await;
    assert_eq!(
        (status, off["active"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    let (_, again) = api
        .admin(Method::POST, &format!("{path}/deactivate"), None)
        .await;
    assert_eq!(
        again["revision"], off["revision"],
        "deactivating twice is a no-op"
    );
    let (status, on) = api
        .admin(Method::POST, &format!("{path}/activate"), None)
        .await;
    assert_eq!(
        (status, on["active"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let (status, body) = api.admin(Method::DELETE, &path, None).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, _) = api.admin(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api.admin(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn when_the_route_or_method_does_not_exist_then_a_problem_says_so() {
    let api = Api::start().await;
    let (status, problem) = api.admin(Method::GET, "/v1/nothing-here", None).await;
    assert_eq!(
        (status, problem["type"].as_str()),
        (StatusCode::NOT_FOUND, Some("no-such-route"))
    );
    let (status, problem) = api
        .admin(Method::DELETE, "/v1/chatbots/clinic/follow-ups", None)
        .await;
    assert_eq!(
        (status, problem["type"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method-not-allowed"))
    );
}

#[tokio::test]
async fn when_the_engine_restarts_then_follow_ups_are_still_served() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_local_templates(dir.path(), TEST_WABA, example_templates());
    let engine = RunningEngine::start(dir.path()).await;
    engine
        .connect_catalogue("clinic", "106540352242922", TEST_WABA)
        .await;
    let response = engine
        .http
        .post(engine.url("/v1/chatbots/clinic/follow-ups"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&appointment_reminder())
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.expect("json");
    engine.stop().await;

    let restarted = RunningEngine::start(dir.path()).await;
    let read: Value = restarted
        .http
        .get(restarted.url(&format!(
            "/v1/chatbots/clinic/follow-ups/{}",
            created["id"].as_str().expect("id")
        )))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(read, created);
    restarted.stop().await;
}

#[tokio::test]
async fn when_a_query_number_or_revision_has_a_sign_or_spaces_then_it_is_refused_as_the_document_says()
 {
    let api = Api::start().await;
    let created = api.create("clinic", &minimal("Strict inputs")).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let conversations = "/v1/chatbots/clinic/conversations";
    for (path, field) in [
        (format!("{conversations}?limit=%2B5"), "limit"),
        (format!("{conversations}?limit=%205"), "limit"),
        (
            format!("{conversations}/whatsapp:1:2/log?before=%2B5"),
            "before",
        ),
        (
            "/v1/chatbots/clinic/whatsapp-templates?status=%20approved".to_owned(),
            "status",
        ),
        (
            "/v1/chatbots/clinic/whatsapp-templates?category=utility%20".to_owned(),
            "category",
        ),
    ] {
        let (status, problem) = api.admin(Method::GET, &path, None).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {problem}"
        );
        assert_eq!(problem["errors"][0]["field"], field, "{path}");
    }
    for path in [
        "/v1/chatbots/clinic/whatsapp-templates?status=paused",
        "/v1/chatbots/clinic/whatsapp-templates?category=Utility",
    ] {
        let (status, body) = api.admin(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    let response = api
        .engine
        .http
        .patch(
            api.engine
                .url(&format!("/v1/chatbots/clinic/follow-ups/{id}")),
        )
        .bearer_auth(ADMIN_TOKEN)
        .header("if-match", "\"+1\"")
        .json(&json!({"name": "Renamed"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let (_, unchanged) = api
        .admin(
            Method::GET,
            &format!("/v1/chatbots/clinic/follow-ups/{id}"),
            None,
        )
        .await;
    assert_eq!(unchanged["name"], "Strict inputs");

    // JSON Schema's integers include 60.0: a delay written so is taken as 60.
    let mut body = minimal("Float minutes");
    body["delay"] = json!({"mode": "manual", "minutes": 60.0});
    body["active"] = json!(false);
    let created = api.create("clinic", &body).await;
    assert_eq!(created["delay"]["minutes"], 60, "{created}");
}

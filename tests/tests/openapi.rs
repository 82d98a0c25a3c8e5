//! The OpenAPI document in docs/ and the router agree, in both directions, and the
//! document the service serves is that file.

use std::collections::BTreeSet;

use followup_tests::engine::{ADMIN_TOKEN, RunningEngine};
use serde_json::Value;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "options", "head", "trace",
];

fn document() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");
    let text = std::fs::read_to_string(path).expect("docs/openapi.json exists");
    serde_json::from_str(&text).expect("docs/openapi.json is JSON")
}

fn documented_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (key, _) in item.as_object().expect("path item") {
            if METHODS.contains(&key.as_str()) {
                routes.insert((key.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

#[test]
fn when_comparing_the_document_with_the_router_then_every_route_is_in_both() {
    let doc = document();
    assert!(
        doc["openapi"]
            .as_str()
            .expect("version")
            .starts_with("3.1.")
    );
    let served: BTreeSet<(String, String)> = followup_http::route_table()
        .into_iter()
        .map(|(method, path)| (method.to_string(), path.to_owned()))
        .collect();
    let documented = documented_routes(&doc);
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from docs/openapi.json: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "documented routes the router does not serve: {unserved:?}"
    );
}

#[test]
fn when_an_operation_is_documented_then_it_has_an_id_and_its_responses() {
    let doc = document();
    let mut operation_ids = BTreeSet::new();
    for (method, path) in documented_routes(&doc) {
        let operation = &doc["paths"][&path][method.to_lowercase()];
        let id = operation["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(
            operation_ids.insert(id.to_owned()),
            "duplicate operationId {id}"
        );
        let responses = operation["responses"].as_object().expect("responses");
        let secured = operation.get("security") != Some(&Value::Array(vec![]));
        if secured {
            for status in ["401", "403"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} does not document {status}"
                );
            }
        }
    }
}

#[tokio::test]
async fn when_each_documented_route_is_called_then_the_router_dispatches_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = RunningEngine::start(dir.path()).await;
    for (method, path) in documented_routes(&document()) {
        let concrete = path
            .replace("{chatbot_id}", "clinic")
            .replace("{follow_up_id}", "fu_x");
        let response = engine
            .http
            .request(method.parse().expect("method"), engine.url(&concrete))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("send");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_ne!(
            body["type"], "no-such-route",
            "{method} {path} is not routed"
        );
        assert_ne!(
            status,
            reqwest::StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
    }
    let served: Value = engine
        .http
        .get(engine.url("/v1/openapi.json"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(
        served,
        document(),
        "the served document is the file in docs/"
    );
    engine.stop().await;
}

/// What the admin sees of a chatbot: follow-ups, integrations, conversations and one log.
async fn snapshot(engine: &RunningEngine, conversation: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        "/v1/chatbots/clinic/follow-ups".to_owned(),
        "/v1/chatbots/clinic/integrations".to_owned(),
        "/v1/chatbots/clinic/conversations".to_owned(),
        format!("/v1/chatbots/clinic/conversations/{conversation}/log"),
        "/v1/chatbots/clinic/whatsapp-templates".to_owned(),
    ] {
        let (status, body) = engine.api(reqwest::Method::GET, &path, None).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{path}: {body}");
        seen.push(body);
    }
    seen
}

#[tokio::test]
async fn when_another_chatbots_token_calls_every_route_then_each_is_403_and_nothing_changes() {
    use followup_tests::engine::OTHER_TOKEN;
    use serde_json::json;
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = RunningEngine::start(dir.path()).await;
    let phone = "106540352242922";
    let customer = "16315551181";
    let (status, body) = engine
        .api(
            reqwest::Method::PUT,
            &format!("/v1/chatbots/clinic/integrations/whatsapp/{phone}"),
            Some(&json!({"access_token": "EAAG-clinic"})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    let follow_up = json!({
        "name": "Owned by clinic", "delay": {"mode": "manual", "minutes": 120},
        "description": "customer asked about a product and went quiet",
        "stop_trigger": "customer bought or declined"
    });
    let (status, created) = engine
        .api(
            reqwest::Method::POST,
            "/v1/chatbots/clinic/follow-ups",
            Some(&follow_up),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{created}");
    let follow_up_id = created["id"].as_str().expect("id").to_owned();
    let webhook = serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone},
            "contacts": [{"profile": {"name": "Kerry"}, "wa_id": customer}],
            "messages": [{"from": customer, "id": "wamid.tenant", "timestamp": "1763971200",
                          "type": "text", "text": {"body": "Is the blue one in stock?"}}]
        }}]}]
    }))
    .expect("json");
    assert_eq!(
        engine.post_webhook(&webhook, None).await.0,
        reqwest::StatusCode::OK
    );
    let conversation = format!("whatsapp:{phone}:{customer}");
    let before = snapshot(&engine, &conversation).await;

    let doc = document();
    let mut called = 0;
    for (method, path) in documented_routes(&doc) {
        let operation = &doc["paths"][&path][method.to_lowercase()];
        if operation.get("security") == Some(&Value::Array(vec![]))
            || !path.contains("{chatbot_id}")
        {
            continue;
        }
        let concrete = path
            .replace("{chatbot_id}", "clinic")
            .replace("{follow_up_id}", &follow_up_id)
            .replace("{conversation_id}", &conversation)
            .replace("{platform}", "whatsapp")
            .replace("{account_id}", phone);
        // Bodies that would succeed for the owner: only the grant may stop them.
        let body = match (method.as_str(), path.as_str()) {
            (_, p) if p.ends_with("/dry-run") => json!({"follow_up_id": follow_up_id}),
            (_, p) if p.contains("/integrations/") => json!({"access_token": "EAAG-stolen"}),
            ("POST" | "PUT", p) if p.contains("/follow-ups") => follow_up.clone(),
            ("PATCH", _) => json!({"name": "Taken over"}),
            _ => json!({}),
        };
        let response = engine
            .http
            .request(method.parse().expect("method"), engine.url(&concrete))
            .bearer_auth(OTHER_TOKEN)
            .json(&body)
            .send()
            .await
            .expect("send");
        assert_eq!(
            response.status(),
            reqwest::StatusCode::FORBIDDEN,
            "{method} {concrete} with another chatbot's token"
        );
        called += 1;
    }
    assert!(called >= 20, "every chatbot route was tried ({called})");
    assert_eq!(
        snapshot(&engine, &conversation).await,
        before,
        "nothing changed"
    );
    // Nor does the other chatbot see any of it under its own id.
    for path in [
        "/v1/chatbots/other-bot/follow-ups",
        "/v1/chatbots/other-bot/conversations",
        "/v1/chatbots/other-bot/integrations",
    ] {
        let listed: Value = engine
            .http
            .get(engine.url(path))
            .bearer_auth(OTHER_TOKEN)
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        assert_eq!(listed["items"], json!([]), "{path}: {listed}");
    }
    engine.stop().await;
}

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

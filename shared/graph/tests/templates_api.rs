//! The two `TemplateDirectory` adapters: `GraphClient` against a small fake of Meta's
//! template endpoints on 127.0.0.1 (pages, request shapes, Meta's error classes, retries,
//! no token in errors or logs), and `LocalTemplateDirectory` with and without its file.

use std::path::PathBuf;
use std::time::Duration;

use axum::http::Method;
use followup_domain::{
    NewMessageTemplate, NewTemplateDraft, Secret, TemplateCategory, TemplateStatus,
};
use followup_graph::{GraphClient, GraphConfig, LocalTemplateDirectory, MAX_PAGES};
use followup_ports::{CreatedTemplate, DirectoryError, TemplateDirectory};
use serde_json::{Value, json};

mod support;
use support::{FakeGraph, Logs, Reply};

const TOKEN: &str = "EAAG-template-token-never-printed-41c9";
const WABA: &str = "102290129340398";
const FIELDS: &str = "id,name,language,category,status,rejected_reason,parameter_format,components";
const BODY_TEXT: &str = "Hi {{1}}, your order {{2}} is ready for pickup.";

// ---- Meta's answers -------------------------------------------------------------------------

fn ok(body: Value) -> Reply {
    Reply::json(200, body)
}

/// A page of Meta's list; `next` is the absolute URL Meta puts in `paging.next`.
fn page(items: Value, after: &str, next: Option<String>) -> Reply {
    let mut paging = json!({"cursors": {"before": "QVFIUb4", "after": after}});
    if let Some(next) = next {
        paging["next"] = json!(next);
    }
    ok(json!({"data": items, "paging": paging}))
}

fn meta_next(after: &str) -> Option<String> {
    Some(format!(
        "https://graph.facebook.com/v25.0/{WABA}/message_templates?fields={FIELDS}&limit=100&after={after}"
    ))
}

/// Meta's error envelope for the template endpoints.
fn meta_error(status: u16, code: i64, subcode: Option<i64>, extra: Value) -> Reply {
    let mut error = json!({
        "message": "Invalid parameter",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "A7vPq3XyZt0"
    });
    if let Some(subcode) = subcode {
        error["error_subcode"] = json!(subcode);
    }
    if let (Some(error), Some(extra)) = (error.as_object_mut(), extra.as_object()) {
        error.extend(extra.clone());
    }
    Reply::json(status, json!({ "error": error }))
}

fn throttled() -> Reply {
    meta_error(
        400,
        80_007,
        None,
        json!({"message": "(#80007) Rate limit issues"}),
    )
}

fn created() -> Reply {
    ok(json!({"id": "594425479261596", "status": "PENDING", "category": "UTILITY"}))
}

// ---- the clients under test --------------------------------------------------------------------

fn config(base_url: String) -> GraphConfig {
    GraphConfig {
        base_url,
        api_version: "v25.0".to_owned(),
        timeout: Duration::from_secs(2),
        max_attempts: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
    }
}

fn client(fake: &FakeGraph) -> GraphClient {
    GraphClient::new(config(fake.base_url())).expect("valid config")
}

fn token() -> Secret {
    Secret::new(TOKEN)
}

fn new_template(draft: Value) -> NewMessageTemplate {
    serde_json::from_value::<NewTemplateDraft>(draft)
        .expect("draft")
        .validate()
        .expect("valid template")
}

/// Header, body with two placeholders, footer and all three kinds of button.
fn full_template() -> NewMessageTemplate {
    new_template(json!({
        "name": "order_ready",
        "language": "en_US",
        "category": "UTILITY",
        "header": {"text": "Your order"},
        "body": {"text": BODY_TEXT, "examples": ["Ann", "A-1001"]},
        "footer": {"text": "Reply STOP to opt out"},
        "buttons": [
            {"type": "quick_reply", "text": "Stop"},
            {"type": "url", "text": "Track", "url": "https://shop.example/track"},
            {"type": "phone_number", "text": "Call us", "phone_number": "+4930123456"}
        ]
    }))
}

fn body_only(name: &str, language: &str) -> NewMessageTemplate {
    new_template(json!({
        "name": name,
        "language": language,
        "category": "MARKETING",
        "body": {"text": "Hello {{1}}, new arrivals are in.", "examples": ["Ann"]}
    }))
}

/// A short name per outcome, so tables can compare them; checks no token shows.
fn class<T: std::fmt::Debug>(result: &Result<T, DirectoryError>) -> String {
    if let Err(error) = result {
        assert_no_token(&format!("{error:?} {error}"));
    }
    match result {
        Ok(_) => "ok".to_owned(),
        Err(DirectoryError::Invalid(errors)) => format!("invalid:{}", errors.len()),
        Err(DirectoryError::BadToken) => "bad_token".to_owned(),
        Err(DirectoryError::AccountNotAccessible) => "account_not_accessible".to_owned(),
        Err(DirectoryError::Throttled) => "throttled".to_owned(),
        Err(DirectoryError::Unavailable(_)) => "unavailable".to_owned(),
    }
}

fn assert_no_token(printed: &str) {
    assert!(
        !printed.contains(TOKEN) && !printed.contains("EAAG"),
        "token leaked: {printed}"
    );
}

// ---- listing ----------------------------------------------------------------------------------

/// Page 1 is sent byte for byte (keys in Meta's order, with spaces) to check that
/// `components_json` is Meta's JSON, compacted, not re-ordered.
const PAGE_ONE: &str = r#"{"data": [
  {"name": "order_ready", "parameter_format": "POSITIONAL",
   "components": [ {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is ready.",
                    "example": {"body_text": [["Ann", "A-1001"]]}},
                   {"type": "FOOTER", "text": "Reply  STOP"} ],
   "language": "en_US", "status": "APPROVED", "category": "UTILITY", "id": "1000000000000001"},
  {"name": "spring_sale", "language": "en_US", "status": "APPROVED", "category": "MARKETING",
   "id": "1000000000000002", "rejected_reason": "NONE",
   "components": [{"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1h"]}},
                  {"type": "BODY", "text": "Spring sale, {{1}}!"}]}
 ],
 "paging": {"cursors": {"before": "QVFIUb4", "after": "c1"},
            "next": "https://graph.facebook.com/v25.0/102290129340398/message_templates?limit=100&after=c1"}}"#;

const ORDER_READY_COMPONENTS: &str = r#"[{"type":"BODY","text":"Hi {{1}}, your order {{2}} is ready.","example":{"body_text":[["Ann","A-1001"]]}},{"type":"FOOTER","text":"Reply  STOP"}]"#;

fn page_two() -> Reply {
    page(
        json!([
            {"id": "1000000000000003", "name": "win_back", "language": "pt_BR",
             "status": "PAUSED", "category": "MARKETING", "rejected_reason": "LOW_QUALITY",
             "components": [{"type": "BODY", "text": "Oi {{1}}, sentimos sua falta. Cupom {{2}}, até {{3}}."}]},
            {"id": "1000000000000004", "language": "en_US", "status": "APPROVED",
             "components": [{"type": "BODY", "text": "nameless"}]}
        ]),
        "c2",
        meta_next("c2"),
    )
}

fn page_three() -> Reply {
    page(
        json!([
            {"id": "1000000000000005", "name": "login_code", "language": "de",
             "status": "SOMETHING_META_ADDED_LATER", "category": "AUTHENTICATION",
             "components": [{"type": "BODY", "text": "Dein Code ist bereit."}]}
        ]),
        "c3",
        None,
    )
}

#[tokio::test]
async fn when_listing_three_pages_then_cursors_are_followed_on_our_base_url_and_all_templates_return()
 {
    let fake = FakeGraph::start(vec![
        Reply::text(200, "application/json", PAGE_ONE),
        page_two(),
        page_three(),
    ])
    .await;

    let templates = client(&fake)
        .list_templates(WABA, &token())
        .await
        .expect("listed");

    let requests = fake.requests();
    assert_eq!(requests.len(), 3, "one request per page");
    let afters: Vec<Option<&str>> = requests.iter().map(|r| r.param("after")).collect();
    assert_eq!(afters, [None, Some("c1"), Some("c2")]);
    for request in &requests {
        assert_eq!(request.method, Method::GET);
        assert_eq!(request.path, format!("/v25.0/{WABA}/message_templates"));
        assert_eq!(request.param("fields"), Some(FIELDS));
        assert_eq!(request.param("limit"), Some("100"));
        assert_eq!(
            request.authorization.as_deref(),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }

    let names: Vec<&str> = templates.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["order_ready", "spring_sale", "win_back", "login_code"],
        "the item without a name is skipped, the others kept in order"
    );
    assert!(templates.iter().all(|t| t.waba_id == WABA));

    let order = &templates[0];
    assert_eq!(order.template_id, "1000000000000001");
    assert_eq!(order.language, "en_US");
    assert_eq!(order.status, TemplateStatus::Approved);
    assert_eq!(order.category, Some(TemplateCategory::Utility));
    assert_eq!(order.body_parameter_count, 2);
    assert_eq!(
        order.body_text.as_deref(),
        Some("Hi {{1}}, your order {{2}} is ready.")
    );
    assert_eq!(order.unsupported, None);
    assert_eq!(order.status_reason, None);
    assert_eq!(order.components_json, ORDER_READY_COMPONENTS);

    let sale = &templates[1];
    assert_eq!(sale.category, Some(TemplateCategory::Marketing));
    assert_eq!(sale.body_parameter_count, 1);
    assert_eq!(sale.status_reason, None, "NONE is no reason");
    assert!(
        sale.unsupported
            .as_deref()
            .is_some_and(|why| why.contains("media")),
        "an IMAGE header is unsupported: {:?}",
        sale.unsupported
    );

    let paused = &templates[2];
    assert_eq!(paused.status, TemplateStatus::Paused);
    assert_eq!(paused.status_reason.as_deref(), Some("LOW_QUALITY"));
    assert_eq!(paused.body_parameter_count, 3);
    assert_eq!(paused.language, "pt_BR");

    let code = &templates[3];
    assert_eq!(code.status, TemplateStatus::Unknown);
    assert_eq!(code.category, Some(TemplateCategory::Authentication));
    assert_eq!(code.body_parameter_count, 0);
}

#[tokio::test]
async fn when_paging_next_points_at_another_host_then_only_our_base_url_is_asked() {
    let elsewhere = FakeGraph::start(vec![page(json!([]), "x", None)]).await;
    let next = format!(
        "{}/v25.0/{WABA}/message_templates?limit=100&after=c1",
        elsewhere.base_url()
    );
    let fake = FakeGraph::start(vec![
        page(
            json!([{"id": "1", "name": "first", "language": "en", "status": "APPROVED"}]),
            "c1",
            Some(next),
        ),
        page(
            json!([{"id": "2", "name": "second", "language": "en", "status": "APPROVED"}]),
            "c2",
            None,
        ),
    ])
    .await;

    let templates = client(&fake)
        .list_templates(WABA, &token())
        .await
        .expect("listed");

    assert_eq!(elsewhere.requests().len(), 0, "the other host got nothing");
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].param("after"), Some("c1"));
    assert_eq!(requests[1].path, format!("/v25.0/{WABA}/message_templates"));
    let ids: Vec<&str> = templates.iter().map(|t| t.template_id.as_str()).collect();
    assert_eq!(ids, ["1", "2"]);
}

#[tokio::test]
async fn when_a_page_has_a_cursor_but_no_next_then_listing_stops_there() {
    let fake = FakeGraph::start(vec![
        page(
            json!([{"id": "1", "name": "only", "language": "en"}]),
            "c1",
            None,
        ),
        page(
            json!([{"id": "2", "name": "never", "language": "en"}]),
            "c2",
            None,
        ),
    ])
    .await;

    let templates = client(&fake)
        .list_templates(WABA, &token())
        .await
        .expect("listed");

    assert_eq!(fake.requests().len(), 1);
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0].status, TemplateStatus::Unknown, "no status");
}

#[tokio::test]
async fn when_pages_never_end_then_unavailable_after_the_page_cap() {
    let fake = FakeGraph::start(vec![page(
        json!([{"id": "1", "name": "again", "language": "en"}]),
        "same",
        meta_next("same"),
    )])
    .await;

    let result = client(&fake).list_templates(WABA, &token()).await;

    assert_eq!(class(&result), "unavailable");
    assert_eq!(fake.requests().len(), MAX_PAGES as usize);
}

#[tokio::test]
async fn when_a_next_page_has_no_cursor_then_unavailable_rather_than_a_partial_list() {
    let fake = FakeGraph::start(vec![ok(json!({
        "data": [{"id": "1", "name": "first", "language": "en"}],
        "paging": {"next": meta_next("c1")}
    }))])
    .await;

    let result = client(&fake).list_templates(WABA, &token()).await;

    assert_eq!(class(&result), "unavailable");
    assert_eq!(fake.requests().len(), 1);
}

// ---- creating ---------------------------------------------------------------------------------

#[tokio::test]
async fn when_creating_then_meta_gets_its_component_shape_and_the_id_comes_back() {
    let fake = FakeGraph::start(vec![created()]).await;

    let result = client(&fake)
        .create_template(WABA, &token(), &full_template())
        .await;

    let created = result.expect("created");
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    // What was submitted, as a later list would return it.
    let components: Value = serde_json::from_str(&created.components_json).expect("json");
    assert_eq!(components, request.body["components"]);
    assert_eq!(
        created,
        CreatedTemplate {
            template_id: "594425479261596".to_owned(),
            status: TemplateStatus::Pending,
            category: Some(TemplateCategory::Utility),
            components_json: created.components_json.clone(),
        }
    );
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.path, format!("/v25.0/{WABA}/message_templates"));
    assert!(request.query.is_empty());
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(request.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        request.body,
        json!({
            "name": "order_ready",
            "language": "en_US",
            "category": "UTILITY",
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Your order"},
                {"type": "BODY", "text": BODY_TEXT,
                 "example": {"body_text": [["Ann", "A-1001"]]}},
                {"type": "FOOTER", "text": "Reply STOP to opt out"},
                {"type": "BUTTONS", "buttons": [
                    {"type": "QUICK_REPLY", "text": "Stop"},
                    {"type": "URL", "text": "Track", "url": "https://shop.example/track"},
                    {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+4930123456"}
                ]}
            ]
        })
    );
}

#[tokio::test]
async fn when_the_body_has_no_placeholders_then_only_a_body_without_example_is_sent() {
    let fake = FakeGraph::start(vec![ok(
        json!({"id": "77", "status": "APPROVED", "category": "MARKETING"}),
    )])
    .await;
    let template = new_template(json!({
        "name": "plain_note",
        "language": "de",
        "category": "MARKETING",
        "body": {"text": "Neue Woche, neue Angebote."}
    }));

    let created = client(&fake)
        .create_template(WABA, &token(), &template)
        .await
        .expect("created");

    assert_eq!(created.status, TemplateStatus::Approved);
    assert_eq!(created.category, Some(TemplateCategory::Marketing));
    assert_eq!(
        fake.requests()[0].body["components"],
        json!([{"type": "BODY", "text": "Neue Woche, neue Angebote."}])
    );
}

/// The one field error of an `Invalid`, as (field, rule, message).
fn single_field_error(result: Result<CreatedTemplate, DirectoryError>) -> (String, String, String) {
    match result {
        Err(DirectoryError::Invalid(errors)) => {
            assert_eq!(errors.len(), 1, "{errors:?}");
            let error = &errors[0];
            (
                error.field.clone(),
                error.rule.to_owned(),
                error.message.clone(),
            )
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn when_meta_says_the_name_and_language_exist_then_invalid_on_name_with_metas_words() {
    let fake = FakeGraph::start(vec![meta_error(
        400,
        100,
        Some(2_388_024),
        json!({
            "is_transient": false,
            "error_user_title": "Message template already exists",
            "error_user_msg": "There is already English (US) content for this template. You can create a new template and try again."
        }),
    )])
    .await;

    let result = client(&fake)
        .create_template(WABA, &token(), &full_template())
        .await;

    assert_eq!(
        single_field_error(result),
        (
            "name".to_owned(),
            "meta_rejected".to_owned(),
            "There is already English (US) content for this template. You can create a new \
             template and try again."
                .to_owned()
        )
    );
    assert_eq!(fake.requests().len(), 1, "a refusal is not retried");
}

#[tokio::test]
async fn when_meta_blames_a_field_then_invalid_names_our_field_for_it() {
    // Category blamed, and only a user title to show.
    let fake = FakeGraph::start(vec![meta_error(
        400,
        100,
        Some(2_388_040),
        json!({
            "error_user_title": "Category not allowed",
            "error_data": {"blame_field_specs": [["category"]]}
        }),
    )])
    .await;
    let result = client(&fake)
        .create_template(WABA, &token(), &full_template())
        .await;
    assert_eq!(
        single_field_error(result),
        (
            "category".to_owned(),
            "meta_rejected".to_owned(),
            "Category not allowed".to_owned()
        )
    );

    // A component by index: with a header first, component 1 is the body.
    let fake = FakeGraph::start(vec![meta_error(
        400,
        100,
        Some(2_388_042),
        json!({
            "error_user_msg": "The body contains characters that are not allowed.",
            "error_data": {"blame_field_specs": [["components", 1, "text"]]}
        }),
    )])
    .await;
    let result = client(&fake)
        .create_template(WABA, &token(), &full_template())
        .await;
    assert_eq!(single_field_error(result).0, "body.text");
}

#[tokio::test]
async fn when_meta_refuses_with_an_unknown_subcode_and_no_blame_then_the_whole_request_is_named() {
    let fake = FakeGraph::start(vec![meta_error(
        400,
        100,
        Some(2_388_999),
        json!({"message": "Something about this template is not right"}),
    )])
    .await;

    let result = client(&fake)
        .create_template(WABA, &token(), &full_template())
        .await;

    assert_eq!(
        single_field_error(result),
        (
            String::new(),
            "meta_rejected".to_owned(),
            "Something about this template is not right".to_owned()
        )
    );
}

#[tokio::test]
async fn when_meta_refuses_the_body_format_then_invalid_on_body_text() {
    for subcode in [2_388_047, 2_388_072, 2_388_293] {
        let fake = FakeGraph::start(vec![meta_error(
            400,
            100,
            Some(subcode),
            json!({"error_user_msg": "Too many variables for the length of this message."}),
        )])
        .await;
        let result = client(&fake)
            .create_template(WABA, &token(), &full_template())
            .await;
        assert_eq!(
            single_field_error(result).0,
            "body.text",
            "subcode {subcode}"
        );
    }
}

// ---- error classes and retries ----------------------------------------------------------------

/// Runs one scripted list and one scripted create on fresh fakes: (class, requests) each.
async fn run(replies: Vec<Reply>) -> [(String, usize); 2] {
    let fake = FakeGraph::start(replies.clone()).await;
    let listed = client(&fake).list_templates(WABA, &token()).await;
    let list = (class(&listed), fake.requests().len());
    let fake = FakeGraph::start(replies).await;
    let created = client(&fake)
        .create_template(WABA, &token(), &full_template())
        .await;
    [list, (class(&created), fake.requests().len())]
}

#[tokio::test]
async fn when_the_token_is_rejected_then_bad_token_without_retry() {
    let expired = meta_error(
        401,
        190,
        Some(463),
        json!({"message": "Error validating access token: Session has expired"}),
    );
    assert_eq!(
        run(vec![expired]).await,
        [("bad_token".to_owned(), 1), ("bad_token".to_owned(), 1)]
    );
}

#[tokio::test]
async fn when_the_token_may_not_manage_the_account_then_account_not_accessible() {
    let cases = [
        meta_error(
            403,
            200,
            None,
            json!({"message": "(#200) Permissions error"}),
        ),
        meta_error(400, 10, None, json!({})),
        meta_error(
            400,
            100,
            Some(33),
            json!({"message": "Unsupported get request. Object with ID does not exist"}),
        ),
    ];
    for reply in cases {
        assert_eq!(
            run(vec![reply.clone()]).await,
            [
                ("account_not_accessible".to_owned(), 1),
                ("account_not_accessible".to_owned(), 1)
            ],
            "{reply:?}"
        );
    }
}

#[tokio::test]
async fn when_throttled_once_then_the_second_request_succeeds() {
    let fake = FakeGraph::start(vec![
        throttled(),
        page(
            json!([{"id": "1", "name": "a", "language": "en"}]),
            "c1",
            None,
        ),
    ])
    .await;
    let templates = client(&fake)
        .list_templates(WABA, &token())
        .await
        .expect("listed after a retry");
    assert_eq!(templates.len(), 1);
    assert_eq!(fake.requests().len(), 2);

    let plain_429 = Reply::text(429, "text/plain", "Too Many Requests");
    let fake = FakeGraph::start(vec![plain_429, created()]).await;
    let created = client(&fake)
        .create_template(WABA, &token(), &full_template())
        .await
        .expect("created after a retry");
    assert_eq!(created.template_id, "594425479261596");
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn when_always_throttled_then_throttled_after_max_attempts() {
    for code in [4, 17, 32, 613, 80_007, 130_429] {
        let reply = meta_error(400, code, None, json!({}));
        assert_eq!(
            run(vec![reply]).await,
            [("throttled".to_owned(), 3), ("throttled".to_owned(), 3)],
            "code {code}"
        );
    }
}

#[tokio::test]
async fn when_meta_answers_500_with_html_then_unavailable() {
    let html = Reply::text(
        500,
        "text/html",
        "<html><body><h1>500 Internal Server Error</h1></body></html>",
    );
    assert_eq!(
        run(vec![html]).await,
        [("unavailable".to_owned(), 1), ("unavailable".to_owned(), 1)]
    );
}

#[tokio::test]
async fn when_a_list_is_refused_for_another_reason_then_unavailable_not_invalid() {
    let refused = meta_error(
        400,
        100,
        None,
        json!({"message": "(#100) Invalid parameter"}),
    );
    let [list, create] = run(vec![refused]).await;
    assert_eq!(list, ("unavailable".to_owned(), 1));
    assert_eq!(create, ("invalid:1".to_owned(), 1));
}

#[tokio::test]
async fn when_a_create_gets_no_answer_in_time_then_unavailable_and_it_is_not_sent_again() {
    let fake = FakeGraph::start(vec![Reply::Hang]).await;
    let client = GraphClient::new(GraphConfig {
        timeout: Duration::from_millis(300),
        ..config(fake.base_url())
    })
    .expect("valid config");

    let result = client
        .create_template(WABA, &token(), &full_template())
        .await;

    assert_eq!(class(&result), "unavailable");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn when_the_account_id_is_malformed_then_account_not_accessible_without_a_request() {
    let fake = FakeGraph::start(vec![created()]).await;
    let client = client(&fake);
    for waba in ["", "12a", "../me", "1/message_templates", &"9".repeat(33)] {
        let listed = client.list_templates(waba, &token()).await;
        assert_eq!(class(&listed), "account_not_accessible", "{waba:?}");
        let created = client
            .create_template(waba, &token(), &full_template())
            .await;
        assert_eq!(class(&created), "account_not_accessible", "{waba:?}");
    }
    assert_eq!(fake.requests().len(), 0);
}

#[tokio::test]
async fn when_listing_and_creating_then_logs_carry_codes_but_no_token_or_template_text() {
    let (logs, _guard) = Logs::capture();
    let fake = FakeGraph::start(vec![
        throttled(),
        page(
            json!([{"id": "1", "name": "a", "language": "en"}]),
            "c1",
            None,
        ),
        meta_error(
            400,
            100,
            Some(2_388_024),
            json!({"error_user_msg": "There is already content for this template"}),
        ),
    ])
    .await;
    let client = client(&fake);

    client.list_templates(WABA, &token()).await.expect("listed");
    let refused = client
        .create_template(WABA, &token(), &full_template())
        .await;
    assert_eq!(class(&refused), "invalid:1");

    let text = logs.text();
    assert_no_token(&text);
    assert!(text.contains(WABA), "{text}");
    assert!(text.contains("2388024"), "{text}");
    assert!(text.contains("A7vPq3XyZt0"), "{text}");
    assert!(!text.contains("your order"), "template text logged: {text}");
    assert!(
        !text.contains("already content"),
        "Meta's message logged: {text}"
    );
}

// ---- the local directory ------------------------------------------------------------------------

/// A directory under the system's temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "followup-graph-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    fn file(&self) -> PathBuf {
        self.0.join("data").join("templates.json")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn when_a_local_template_is_created_then_it_is_listed_pending_with_its_parameters() {
    let local = LocalTemplateDirectory::new(None);
    assert!(
        local
            .list_templates(WABA, &token())
            .await
            .expect("listed")
            .is_empty()
    );

    let created = local
        .create_template(WABA, &token(), &full_template())
        .await
        .expect("created");

    assert_eq!(created.status, TemplateStatus::Pending);
    assert_eq!(created.category, Some(TemplateCategory::Utility));
    assert!(
        created.template_id.bytes().all(|b| b.is_ascii_digit()),
        "{}",
        created.template_id
    );
    let templates = local.list_templates(WABA, &token()).await.expect("listed");
    assert_eq!(templates.len(), 1);
    let template = &templates[0];
    assert_eq!(template.template_id, created.template_id);
    assert_eq!(template.name, "order_ready");
    assert_eq!(template.language, "en_US");
    assert_eq!(template.status, TemplateStatus::Pending);
    assert_eq!(template.body_parameter_count, 2);
    assert_eq!(template.body_text.as_deref(), Some(BODY_TEXT));
    assert_eq!(template.unsupported, None);
    let components: Value = serde_json::from_str(&template.components_json).expect("JSON");
    assert_eq!(components[1]["type"], json!("BODY"));
    assert_eq!(components[3]["buttons"][2]["type"], json!("PHONE_NUMBER"));
    assert!(
        local
            .list_templates("999", &token())
            .await
            .expect("listed")
            .is_empty(),
        "another account has none"
    );
}

#[tokio::test]
async fn when_a_local_name_and_language_exist_then_invalid_on_name() {
    let local = LocalTemplateDirectory::new(None);
    local
        .create_template(WABA, &token(), &body_only("new_arrivals", "en_US"))
        .await
        .expect("created");

    let again = local
        .create_template(WABA, &token(), &body_only("new_arrivals", "en_US"))
        .await;
    assert_eq!(
        single_field_error(again),
        (
            "name".to_owned(),
            "meta_rejected".to_owned(),
            "a template with this name and language already exists".to_owned()
        )
    );

    // Another language, or the same name in another account, is a new template.
    let second = local
        .create_template(WABA, &token(), &body_only("new_arrivals", "pt_BR"))
        .await
        .expect("created");
    let third = local
        .create_template("555", &token(), &body_only("new_arrivals", "en_US"))
        .await
        .expect("created");
    assert_ne!(second.template_id, third.template_id);
    assert_eq!(
        local
            .list_templates(WABA, &token())
            .await
            .expect("listed")
            .len(),
        2
    );
    assert_eq!(
        class(&local.list_templates("not-a-waba", &token()).await),
        "account_not_accessible"
    );
}

#[tokio::test]
async fn when_the_local_file_is_missing_then_no_templates_and_the_first_create_writes_it() {
    let dir = TempDir::new("local-persist");
    let path = dir.file();
    let first = LocalTemplateDirectory::new(Some(path.clone()));
    assert!(
        first
            .list_templates(WABA, &token())
            .await
            .expect("listed")
            .is_empty()
    );
    assert!(!path.exists(), "listing creates no file");

    let created = first
        .create_template(WABA, &token(), &full_template())
        .await
        .expect("created");

    let written: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("file written")).expect("JSON file");
    let item = &written["accounts"][WABA][0];
    assert_eq!(item["id"], json!(created.template_id));
    assert_eq!(item["status"], json!("PENDING"));
    assert_eq!(item["category"], json!("UTILITY"));
    assert_eq!(item["rejected_reason"], Value::Null);
    assert_eq!(
        item["components"][1]["example"]["body_text"],
        json!([["Ann", "A-1001"]])
    );
    assert!(!path.with_file_name("templates.json.tmp").exists());
    assert!(
        !std::fs::read_to_string(&path)
            .expect("file")
            .contains(TOKEN)
    );

    let reopened = LocalTemplateDirectory::new(Some(path.clone()));
    let templates = reopened
        .list_templates(WABA, &token())
        .await
        .expect("listed");
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0].template_id, created.template_id);
    assert_eq!(templates[0].body_parameter_count, 2);
    let duplicate = reopened
        .create_template(WABA, &token(), &full_template())
        .await;
    assert_eq!(single_field_error(duplicate).0, "name");

    reopened
        .create_template(WABA, &token(), &body_only("new_arrivals", "en_US"))
        .await
        .expect("second created");
    let names: Vec<String> = first
        .list_templates(WABA, &token())
        .await
        .expect("listed")
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(
        names,
        ["order_ready", "new_arrivals"],
        "each call reads the file"
    );
}

#[tokio::test]
async fn when_an_operator_approves_a_local_template_in_the_file_then_list_shows_it_approved() {
    let dir = TempDir::new("local-approve");
    let path = dir.file();
    let local = LocalTemplateDirectory::new(Some(path.clone()));
    local
        .create_template(WABA, &token(), &body_only("new_arrivals", "en_US"))
        .await
        .expect("created");
    local
        .create_template(WABA, &token(), &full_template())
        .await
        .expect("created");

    // The operator's edit: the status of one template, nothing else touched.
    let text = std::fs::read_to_string(&path).expect("file");
    assert_eq!(text.matches("\"status\": \"PENDING\"").count(), 2, "{text}");
    let edited = text.replacen("\"status\": \"PENDING\"", "\"status\": \"APPROVED\"", 1);
    std::fs::write(&path, edited).expect("edit");

    let templates = local.list_templates(WABA, &token()).await.expect("listed");
    let status = |name: &str| {
        templates
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.status)
            .expect("listed")
    };
    assert_eq!(status("new_arrivals"), TemplateStatus::Approved);
    assert_eq!(status("order_ready"), TemplateStatus::Pending);
}

#[tokio::test]
async fn when_the_local_file_is_not_json_then_unavailable_and_it_is_left_alone() {
    let dir = TempDir::new("local-corrupt");
    let path = dir.file();
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    std::fs::write(&path, "{\"accounts\": {").expect("write");
    let local = LocalTemplateDirectory::new(Some(path.clone()));

    assert_eq!(
        class(&local.list_templates(WABA, &token()).await),
        "unavailable"
    );
    assert_eq!(
        class(
            &local
                .create_template(WABA, &token(), &full_template())
                .await
        ),
        "unavailable"
    );
    assert_eq!(
        std::fs::read_to_string(&path).expect("file"),
        "{\"accounts\": {"
    );
}

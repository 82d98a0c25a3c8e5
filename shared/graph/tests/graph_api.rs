//! `GraphClient` against a small fake Graph API on 127.0.0.1: request shapes, Meta's
//! error classes, retries, timeouts, and that the access token never leaks.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::Method;
use followup_domain::{Platform, Secret, WhatsAppTemplate};
use followup_graph::{GraphClient, GraphConfig, GraphConfigError};
use followup_ports::{Messenger, OutboundBody, OutboundMessage, SendError, SendReceipt};
use serde_json::json;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

mod support;
use support::{FakeGraph, Logs, Reply};

const TOKEN: &str = "EAAG-test-token-never-printed-8f3a";
const PHONE_NUMBER_ID: &str = "106540352242922";
const PAGE_ID: &str = "112233445566778";
const IG_ACCOUNT_ID: &str = "17841400000000000";
const WA_ID: &str = "5511999990000";
const BSUID: &str = "BR.1502576394655843";
const PSID: &str = "1254459154682919";
const TEXT: &str = "Still interested in the blue sneakers?";
const WAMID: &str = "wamid.HBgNNTUxMTk5OTk5MDAwMBUCABEYEjQ2QkY4QTM0RTlCMUE2NTg3AA==";
const MID: &str = "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8f";
/// The content type axum gives a bare `&str` body: the non-JSON answers below.
const PLAIN: &str = "text/plain; charset=utf-8";

// ---- Meta's answers -------------------------------------------------------------------------

fn whatsapp_sent() -> Reply {
    Reply::json(
        200,
        json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": WA_ID, "wa_id": WA_ID}],
            "messages": [{"id": WAMID}]
        }),
    )
}

fn page_sent() -> Reply {
    Reply::json(200, json!({"recipient_id": PSID, "message_id": MID}))
}

/// Meta's error envelope, as the Graph API returns it.
fn meta_error(status: u16, code: i64, subcode: Option<i64>, message: &str) -> Reply {
    let mut error = json!({
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEfGhIjKlMnOp"
    });
    if let Some(subcode) = subcode {
        error["error_subcode"] = json!(subcode);
    }
    if code > 100_000 {
        error["error_data"] = json!({
            "messaging_product": "whatsapp",
            "details": format!("{message} (details)")
        });
    }
    Reply::json(status, json!({ "error": error }))
}

fn throttled() -> Reply {
    meta_error(400, 130_429, None, "(#130429) Rate limit hit")
}

// ---- the client under test --------------------------------------------------------------------

fn config(base_url: String) -> GraphConfig {
    GraphConfig {
        base_url,
        api_version: "v25.0".to_owned(),
        timeout: Duration::from_secs(2),
        max_attempts: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(200),
    }
}

fn client(fake: &FakeGraph) -> GraphClient {
    GraphClient::new(config(fake.base_url())).expect("valid config")
}

fn message(platform: Platform, body: OutboundBody) -> OutboundMessage {
    let (account, recipient) = match platform {
        Platform::Whatsapp => (PHONE_NUMBER_ID, WA_ID),
        Platform::Messenger => (PAGE_ID, PSID),
        Platform::Instagram => (IG_ACCOUNT_ID, PSID),
    };
    OutboundMessage {
        platform,
        business_account_id: account.to_owned(),
        recipient_id: recipient.to_owned(),
        body,
        delivery_id: "dlv-01HX7Q".to_owned(),
        access_token: Secret::new(TOKEN),
    }
}

fn text(platform: Platform) -> OutboundMessage {
    message(platform, OutboundBody::Text(TEXT.to_owned()))
}

fn template(parameters: &[&str]) -> OutboundBody {
    let template: WhatsAppTemplate = serde_json::from_value(json!({
        "name": "appointment_reminder",
        "language": "pt_BR",
        "parameters": parameters
            .iter()
            .map(|_| json!({"type": "profile_name"}))
            .collect::<Vec<_>>()
    }))
    .expect("valid template");
    OutboundBody::Template {
        template,
        resolved_parameters: parameters.iter().map(|p| (*p).to_owned()).collect(),
    }
}

/// Sends, and checks that whatever came back shows no token.
async fn send(client: &GraphClient, message: &OutboundMessage) -> Result<SendReceipt, SendError> {
    let result = client.send(message).await;
    if let Err(error) = &result {
        assert_no_token(&format!("{error:?} {error}"));
    }
    result
}

fn assert_no_token(printed: &str) {
    assert!(
        !printed.contains(TOKEN) && !printed.contains("EAAG"),
        "token leaked: {printed}"
    );
}

/// A short name per error class, so tables can compare them.
fn class(result: &Result<SendReceipt, SendError>) -> String {
    match result {
        Ok(receipt) => format!("sent:{}", receipt.platform_message_id),
        Err(SendError::WindowClosed) => "window_closed".to_owned(),
        Err(SendError::Throttled) => "throttled".to_owned(),
        Err(SendError::OptedOut) => "opted_out".to_owned(),
        Err(SendError::TemplateNotSendable { code }) => format!("template_not_sendable:{code}"),
        Err(SendError::BadToken) => "bad_token".to_owned(),
        Err(SendError::Unknown(_)) => "unknown".to_owned(),
        Err(SendError::Rejected { code }) => format!("rejected:{code}"),
    }
}

/// Runs one scripted case on a fresh fake and returns (class, requests made).
async fn run(platform: Platform, replies: Vec<Reply>) -> (String, usize) {
    let fake = FakeGraph::start(replies).await;
    let result = send(&client(&fake), &text(platform)).await;
    (class(&result), fake.requests().len())
}

// ---- request shapes -------------------------------------------------------------------------

#[tokio::test]
async fn when_whatsapp_text_is_sent_then_body_and_bearer_header_match_the_cloud_api() {
    let fake = FakeGraph::start(vec![whatsapp_sent()]).await;

    let receipt = send(&client(&fake), &text(Platform::Whatsapp))
        .await
        .expect("sent");

    assert_eq!(receipt.platform_message_id, WAMID);
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.path, format!("/v25.0/{PHONE_NUMBER_ID}/messages"));
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(request.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        request.body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": WA_ID,
            "type": "text",
            "text": {"body": TEXT, "preview_url": false},
            "biz_opaque_callback_data": "dlv-01HX7Q"
        })
    );
}

#[tokio::test]
async fn when_whatsapp_recipient_is_a_business_scoped_id_then_it_goes_in_recipient_not_to() {
    // A BSUID-only send is answered with `contacts[].user_id` instead of `wa_id`.
    let fake = FakeGraph::start(vec![Reply::json(
        200,
        json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": BSUID, "user_id": BSUID}],
            "messages": [{"id": WAMID}]
        }),
    )])
    .await;
    let mut message = text(Platform::Whatsapp);
    message.recipient_id = BSUID.to_owned();

    let receipt = send(&client(&fake), &message).await.expect("sent");

    assert_eq!(receipt.platform_message_id, WAMID);

    let body = &fake.requests()[0].body;
    assert_eq!(body["recipient"], json!(BSUID));
    assert!(body.get("to").is_none(), "no `to` for a BSUID: {body}");
    assert_eq!(body["type"], json!("text"));
    assert_eq!(body["biz_opaque_callback_data"], json!("dlv-01HX7Q"));
}

#[tokio::test]
async fn when_whatsapp_template_has_parameters_then_they_go_in_one_body_component_in_order() {
    let fake = FakeGraph::start(vec![whatsapp_sent()]).await;
    let message = message(Platform::Whatsapp, template(&["Ana", "Tuesday 10:00"]));

    let receipt = send(&client(&fake), &message).await.expect("sent");

    assert_eq!(receipt.platform_message_id, WAMID);
    let request = &fake.requests()[0];
    assert_eq!(request.path, format!("/v25.0/{PHONE_NUMBER_ID}/messages"));
    assert_eq!(
        request.body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": WA_ID,
            "type": "template",
            "template": {
                "name": "appointment_reminder",
                "language": {"code": "pt_BR"},
                "components": [{
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Ana"},
                        {"type": "text", "text": "Tuesday 10:00"}
                    ]
                }]
            },
            "biz_opaque_callback_data": "dlv-01HX7Q"
        })
    );
}

#[tokio::test]
async fn when_whatsapp_template_has_no_parameters_then_components_are_left_out() {
    let fake = FakeGraph::start(vec![whatsapp_sent()]).await;

    send(&client(&fake), &message(Platform::Whatsapp, template(&[])))
        .await
        .expect("sent");

    assert_eq!(
        fake.requests()[0].body["template"],
        json!({"name": "appointment_reminder", "language": {"code": "pt_BR"}})
    );
}

#[tokio::test]
async fn when_messenger_or_instagram_text_is_sent_then_it_is_a_response_without_tag() {
    for (platform, account) in [
        (Platform::Messenger, PAGE_ID),
        (Platform::Instagram, IG_ACCOUNT_ID),
    ] {
        let fake = FakeGraph::start(vec![page_sent()]).await;

        let receipt = send(&client(&fake), &text(platform)).await.expect("sent");

        assert_eq!(receipt.platform_message_id, MID, "{platform}");
        let requests = fake.requests();
        assert_eq!(requests.len(), 1, "{platform}");
        assert_eq!(requests[0].path, format!("/v25.0/{account}/messages"));
        assert_eq!(
            requests[0].authorization.as_deref(),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(
            requests[0].body,
            json!({
                "recipient": {"id": PSID},
                "messaging_type": "RESPONSE",
                "message": {"text": TEXT}
            }),
            "{platform}: no tag, no biz_opaque_callback_data"
        );
    }
}

#[tokio::test]
async fn when_a_template_goes_to_messenger_or_instagram_then_it_is_rejected_without_a_request() {
    let fake = FakeGraph::start(vec![page_sent()]).await;
    for platform in [Platform::Messenger, Platform::Instagram] {
        let result = send(&client(&fake), &message(platform, template(&["Ana"]))).await;
        assert_eq!(class(&result), "rejected:0", "{platform}");
    }
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn when_the_account_id_is_not_a_plain_id_then_it_is_rejected_without_a_request() {
    let fake = FakeGraph::start(vec![whatsapp_sent()]).await;
    for account in ["", "../me", "123/messages?x=1"] {
        let mut message = text(Platform::Whatsapp);
        message.business_account_id = account.to_owned();
        let result = send(&client(&fake), &message).await;
        assert_eq!(class(&result), "rejected:0", "{account:?}");
    }
    assert!(fake.requests().is_empty());
}

// ---- Meta's error classes -----------------------------------------------------------------

#[tokio::test]
async fn when_meta_says_the_window_is_closed_then_window_closed_without_retry() {
    let cases = [
        (
            Platform::Whatsapp,
            meta_error(400, 131_047, None, "(#131047) Re-engagement message"),
        ),
        (
            Platform::Messenger,
            meta_error(
                400,
                10,
                Some(2_018_278),
                "(#10) This message is sent outside of allowed window.",
            ),
        ),
        (
            Platform::Messenger,
            meta_error(
                400,
                10,
                None,
                "(#10) This message is sent outside of allowed window.",
            ),
        ),
        (
            Platform::Instagram,
            meta_error(
                403,
                10,
                Some(2_534_022),
                "This message is sent outside of allowed window.",
            ),
        ),
    ];
    for (platform, reply) in cases {
        assert_eq!(
            run(platform, vec![reply.clone()]).await,
            ("window_closed".to_owned(), 1),
            "{platform} {reply:?}"
        );
    }
}

#[tokio::test]
async fn when_whatsapp_answers_code_10_then_it_is_a_plain_rejection_not_the_window() {
    let reply = meta_error(403, 10, None, "(#10) Application does not have permission");
    assert_eq!(
        run(Platform::Whatsapp, vec![reply]).await,
        ("rejected:10".to_owned(), 1)
    );
}

#[tokio::test]
async fn when_meta_answers_a_throttling_code_then_each_is_retried_up_to_max_attempts() {
    let cases = [
        (Platform::Whatsapp, 400, 130_429, "(#130429) Rate limit hit"),
        (
            Platform::Whatsapp,
            400,
            131_056,
            "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        ),
        (
            Platform::Whatsapp,
            400,
            80_007,
            "(#80007) Rate limit issues",
        ),
        (
            Platform::Messenger,
            403,
            4,
            "(#4) Application request limit reached",
        ),
        (
            Platform::Messenger,
            400,
            17,
            "(#17) User request limit reached",
        ),
        (
            Platform::Instagram,
            400,
            32,
            "(#32) Page request limit reached",
        ),
        (
            Platform::Instagram,
            400,
            613,
            "(#613) Calls to this api have exceeded the rate limit.",
        ),
    ];
    for (platform, status, code, text) in cases {
        assert_eq!(
            run(platform, vec![meta_error(status, code, None, text)]).await,
            ("throttled".to_owned(), 3),
            "{platform} code {code}"
        );
    }
}

#[tokio::test]
async fn when_the_customer_opted_out_then_opted_out_without_retry() {
    let reply = meta_error(
        400,
        131_050,
        None,
        "(#131050) Unable to deliver the message. This recipient has chosen to stop receiving marketing messages",
    );
    assert_eq!(
        run(Platform::Whatsapp, vec![reply]).await,
        ("opted_out".to_owned(), 1)
    );
}

#[tokio::test]
async fn when_meta_says_the_template_is_missing_paused_or_disabled_then_not_sendable_without_retry()
{
    let cases = [
        (
            132_001,
            "(#132001) Template name does not exist in the translation",
        ),
        (132_015, "(#132015) Template is Paused"),
        (132_016, "(#132016) Template is Disabled"),
    ];
    for (code, text) in cases {
        assert_eq!(
            run(Platform::Whatsapp, vec![meta_error(400, code, None, text)]).await,
            (format!("template_not_sendable:{code}"), 1),
            "code {code}"
        );
    }
}

#[tokio::test]
async fn when_the_token_is_rejected_then_bad_token_without_retry() {
    for platform in Platform::ALL {
        let reply = meta_error(
            401,
            190,
            Some(463),
            "Error validating access token: Session has expired",
        );
        assert_eq!(
            run(platform, vec![reply]).await,
            ("bad_token".to_owned(), 1),
            "{platform}"
        );
    }
}

#[tokio::test]
async fn when_meta_answers_another_code_then_rejected_with_that_code_without_retry() {
    let cases = [
        (
            Platform::Whatsapp,
            meta_error(400, 100, None, "(#100) Invalid parameter"),
            "rejected:100",
        ),
        (
            Platform::Whatsapp,
            meta_error(400, 131_026, None, "(#131026) Message undeliverable"),
            "rejected:131026",
        ),
        (
            Platform::Messenger,
            meta_error(400, 100, Some(2_018_001), "(#100) No matching user found"),
            "rejected:100",
        ),
        (
            Platform::Instagram,
            Reply::text(403, PLAIN, "<html>Forbidden</html>"),
            "rejected:0",
        ),
    ];
    for (platform, reply, expected) in cases {
        assert_eq!(
            run(platform, vec![reply.clone()]).await,
            (expected.to_owned(), 1),
            "{platform} {reply:?}"
        );
    }
}

#[tokio::test]
async fn when_the_answer_is_429_or_5xx_without_a_known_code_then_it_is_retried_as_throttled() {
    let cases = [
        Reply::text(429, PLAIN, ""),
        Reply::text(503, PLAIN, "<html>Service Unavailable</html>"),
        meta_error(500, 1, None, "An unknown error occurred"),
        meta_error(500, 131_000, None, "(#131000) Something went wrong"),
    ];
    for reply in cases {
        assert_eq!(
            run(Platform::Whatsapp, vec![reply.clone()]).await,
            ("throttled".to_owned(), 3),
            "{reply:?}"
        );
    }
}

#[tokio::test]
async fn when_a_gateway_times_out_then_unknown_without_retry() {
    let reply = Reply::text(504, PLAIN, "<html>Gateway Timeout</html>");
    assert_eq!(
        run(Platform::Messenger, vec![reply]).await,
        ("unknown".to_owned(), 1)
    );
}

// ---- retries ------------------------------------------------------------------------------------

#[tokio::test]
async fn when_throttled_twice_then_success_then_it_is_sent_once_after_three_requests() {
    let fake = FakeGraph::start(vec![throttled(), throttled(), whatsapp_sent()]).await;
    let client = GraphClient::new(GraphConfig {
        initial_backoff: Duration::from_millis(40),
        max_backoff: Duration::from_secs(1),
        ..config(fake.base_url())
    })
    .expect("valid config");

    let receipt = send(&client, &text(Platform::Whatsapp))
        .await
        .expect("sent");

    assert_eq!(receipt.platform_message_id, WAMID);
    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| r.body == requests[0].body));
    // initial_backoff × 2^n: 40 ms, then 80 ms.
    assert!(requests[1].at - requests[0].at >= Duration::from_millis(40));
    assert!(requests[2].at - requests[1].at >= Duration::from_millis(80));
}

#[tokio::test]
async fn when_throttled_beyond_max_attempts_then_throttled_after_exactly_max_attempts() {
    let fake = FakeGraph::start(vec![throttled()]).await;
    let client = GraphClient::new(GraphConfig {
        max_attempts: 4,
        ..config(fake.base_url())
    })
    .expect("valid config");

    let result = send(&client, &text(Platform::Whatsapp)).await;

    assert_eq!(class(&result), "throttled");
    assert_eq!(fake.requests().len(), 4);
}

#[tokio::test]
async fn when_meta_sends_retry_after_then_the_client_waits_that_long() {
    let fake = FakeGraph::start(vec![
        Reply::Json {
            status: 429,
            body: json!({"error": {"message": "(#4) Application request limit reached",
                "type": "OAuthException", "code": 4, "fbtrace_id": "AbC"}}),
            retry_after: Some("1"),
        },
        page_sent(),
    ])
    .await;
    let client = GraphClient::new(GraphConfig {
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_secs(5),
        ..config(fake.base_url())
    })
    .expect("valid config");

    send(&client, &text(Platform::Messenger))
        .await
        .expect("sent");

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[1].at - requests[0].at >= Duration::from_secs(1));
}

#[tokio::test]
async fn when_retry_after_is_longer_than_the_cap_then_the_wait_is_capped() {
    let fake = FakeGraph::start(vec![
        Reply::Json {
            status: 429,
            body: json!({"error": {"message": "(#613) Calls to this api have exceeded the rate limit.",
                "type": "OAuthException", "code": 613, "fbtrace_id": "AbC"}}),
            retry_after: Some("120"),
        },
        page_sent(),
    ])
    .await;
    let client = GraphClient::new(GraphConfig {
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(100),
        ..config(fake.base_url())
    })
    .expect("valid config");

    send(&client, &text(Platform::Instagram))
        .await
        .expect("sent");

    let requests = fake.requests();
    let gap = requests[1].at - requests[0].at;
    assert!(gap >= Duration::from_millis(100), "{gap:?}");
    assert!(gap < Duration::from_secs(2), "{gap:?}");
}

// ---- outcomes that may have been sent --------------------------------------------------------

#[tokio::test]
async fn when_the_server_never_answers_then_unknown_after_the_timeout_with_one_request() {
    let fake = FakeGraph::start(vec![Reply::Hang]).await;
    let client = GraphClient::new(GraphConfig {
        timeout: Duration::from_millis(300),
        ..config(fake.base_url())
    })
    .expect("valid config");

    let started = Instant::now();
    let result = send(&client, &text(Platform::Whatsapp)).await;
    let elapsed = started.elapsed();

    assert_eq!(class(&result), "unknown");
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(fake.requests().len(), 1, "never sent a second time");
}

#[tokio::test]
async fn when_the_connection_drops_after_the_request_then_unknown_and_not_retried() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(Mutex::new(0_usize));
    let counter = accepted.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            *counter.lock().expect("counter") += 1;
            // Read the request, then hang up without a word.
            let mut request = Vec::new();
            let mut buf = [0_u8; 4096];
            while let Ok(n @ 1..) = socket.read(&mut buf).await {
                request.extend_from_slice(&buf[..n]);
                if request.ends_with(b"}") {
                    break;
                }
            }
            drop(socket);
        }
    });
    let client = GraphClient::new(config(format!("http://{addr}"))).expect("valid config");

    let result = send(&client, &text(Platform::Whatsapp)).await;

    assert_eq!(class(&result), "unknown");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(*accepted.lock().expect("counter"), 1);
}

#[tokio::test]
async fn when_a_200_body_is_garbage_then_unknown_and_not_retried() {
    let cases = [
        Reply::text(200, PLAIN, "<html>ok</html>"),
        Reply::json(
            200,
            json!({"messaging_product": "whatsapp", "messages": []}),
        ),
        Reply::json(200, json!({"success": true})),
    ];
    for reply in cases {
        assert_eq!(
            run(Platform::Whatsapp, vec![reply.clone()]).await,
            ("unknown".to_owned(), 1),
            "{reply:?}"
        );
    }
}

#[tokio::test]
async fn when_the_connection_is_refused_then_it_is_retried_then_throttled() {
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let client = GraphClient::new(GraphConfig {
        initial_backoff: Duration::from_millis(30),
        ..config(format!("http://{refused}"))
    })
    .expect("valid config");
    let (logs, _guard) = Logs::capture();

    let started = Instant::now();
    let result = send(&client, &text(Platform::Whatsapp)).await;

    assert_eq!(class(&result), "throttled");
    // Three attempts: waits of 30 ms and 60 ms between them.
    assert!(started.elapsed() >= Duration::from_millis(90));
    let logs = logs.text();
    assert_eq!(logs.matches("could not connect").count(), 3, "{logs}");
}

// ---- configuration ------------------------------------------------------------------------------

#[test]
fn when_the_configuration_is_unusable_then_the_client_is_not_built() {
    let base = |url: &str| GraphClient::new(config(url.to_owned())).map(|_| ());
    assert_eq!(
        base("ftp://graph.facebook.com"),
        Err(GraphConfigError::BaseUrl)
    );
    assert_eq!(base("graph.facebook.com"), Err(GraphConfigError::BaseUrl));
    assert_eq!(base("file:///tmp/graph"), Err(GraphConfigError::BaseUrl));
    assert_eq!(
        base("https://user:secret@graph.facebook.com"),
        Err(GraphConfigError::BaseUrl)
    );
    assert_eq!(
        base("https://graph.facebook.com?access_token=x"),
        Err(GraphConfigError::BaseUrl)
    );
    assert_eq!(base("https://graph.facebook.com"), Ok(()));
    assert_eq!(base("http://127.0.0.1:8080/graph/"), Ok(()));

    let with = |change: fn(&mut GraphConfig)| {
        let mut config = GraphConfig::default();
        change(&mut config);
        GraphClient::new(config).map(|_| ())
    };
    assert_eq!(
        with(|c| c.api_version = "25.0".to_owned()),
        Err(GraphConfigError::ApiVersion)
    );
    assert_eq!(
        with(|c| c.max_attempts = 0),
        Err(GraphConfigError::MaxAttempts)
    );
    assert_eq!(
        with(|c| c.timeout = Duration::ZERO),
        Err(GraphConfigError::Timeout)
    );
    assert_eq!(with(|_| ()), Ok(()));
}

#[tokio::test]
async fn when_the_base_url_has_a_path_then_it_is_kept_before_the_version() {
    let fake = FakeGraph::start(vec![page_sent()]).await;
    let client =
        GraphClient::new(config(format!("{}/graph/", fake.base_url()))).expect("valid config");

    send(&client, &text(Platform::Messenger))
        .await
        .expect("sent");

    assert_eq!(
        fake.requests()[0].path,
        format!("/graph/v25.0/{PAGE_ID}/messages")
    );
}

// ---- secrets and personal data ------------------------------------------------------------------

#[tokio::test]
async fn when_debug_printing_the_client_message_and_errors_then_the_token_never_appears() {
    let fake = FakeGraph::start(vec![meta_error(
        401,
        190,
        None,
        "Invalid OAuth access token - Cannot parse access token",
    )])
    .await;
    let client = client(&fake);
    let message = text(Platform::Whatsapp);

    let error = client.send(&message).await.expect_err("bad token");

    let printed = format!("{client:?} {message:?} {error:?} {error}");
    assert!(printed.contains("GraphClient"));
    assert!(printed.contains("Secret(***)"));
    assert_no_token(&printed);
}

#[tokio::test]
async fn when_sending_then_logs_carry_status_and_codes_but_no_token_text_or_recipient() {
    let fake = FakeGraph::start(vec![throttled(), whatsapp_sent()]).await;
    let client = client(&fake);
    let (logs, _guard) = Logs::capture();

    send(&client, &text(Platform::Whatsapp))
        .await
        .expect("sent");

    let logs = logs.text();
    assert!(logs.contains("platform=whatsapp"), "{logs}");
    assert!(logs.contains("attempt=1"), "{logs}");
    assert!(logs.contains("attempt=2"), "{logs}");
    assert!(logs.contains("status=400"), "{logs}");
    assert!(logs.contains("code=130429"), "{logs}");
    assert!(logs.contains("status=200"), "{logs}");
    assert_no_token(&logs);
    assert!(!logs.contains("Bearer"), "{logs}");
    assert!(!logs.contains(TEXT), "{logs}");
    assert!(!logs.contains(WA_ID), "{logs}");
    assert!(
        !logs.contains("Rate limit hit"),
        "Meta's message stays out: {logs}"
    );
}

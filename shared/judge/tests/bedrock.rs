//! The Bedrock judge through the real aws-sdk-bedrockruntime client against a local HTTP
//! server that speaks the Converse wire shape (restJson1: `POST /model/{modelId}/converse`,
//! errors named by `x-amzn-ErrorType`), reached by an endpoint override as with moto.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::Region;
use aws_sdk_bedrockruntime::config::Credentials;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use followup_domain::{FollowUpDraft, Platform, Timestamp};
use followup_judge::contract::VERDICT_NAME;
use followup_judge::{BedrockConfig, BedrockConfigError, BedrockJudge};
use followup_ports::{Judge, JudgeError, JudgeRequest, Speaker, TokenUsage, TranscriptLine};
use serde_json::{Value, json};

const MODEL: &str = "amazon.nova-lite-v1:0";
const NOW: Timestamp = Timestamp::from_secs(1_767_225_600);
const CUSTOMER_LAST: &str = "Let me check my calendar and I will get back to you";

#[derive(Clone)]
enum Reply {
    Converse(Value),
    Error(u16, &'static str, &'static str),
    Hang,
}

struct Peer {
    calls: AtomicUsize,
    seen: Mutex<Vec<(String, HeaderMap, Value)>>,
    script: Box<dyn Fn(usize) -> Reply + Send + Sync>,
}

async fn converse(
    State(peer): State<Arc<Peer>>,
    Path(model): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let call = peer.calls.fetch_add(1, Ordering::SeqCst);
    let parsed = serde_json::from_str(&body).unwrap_or(Value::Null);
    peer.seen
        .lock()
        .expect("lock")
        .push((model, headers, parsed));
    match (peer.script)(call) {
        Reply::Converse(body) => (
            StatusCode::OK,
            [("content-type", "application/json")],
            body.to_string(),
        )
            .into_response(),
        Reply::Error(status, kind, message) => (
            StatusCode::from_u16(status).expect("status"),
            [
                ("content-type", "application/json"),
                ("x-amzn-errortype", kind),
            ],
            json!({ "message": message }).to_string(),
        )
            .into_response(),
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK.into_response()
        }
    }
}

struct Server {
    endpoint: String,
    peer: Arc<Peer>,
}

impl Server {
    async fn start(script: impl Fn(usize) -> Reply + Send + Sync + 'static) -> Self {
        let peer = Arc::new(Peer {
            calls: AtomicUsize::new(0),
            seen: Mutex::new(Vec::new()),
            script: Box::new(script),
        });
        let app = Router::new()
            .route("/model/{model}/converse", post(converse))
            .with_state(Arc::clone(&peer));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        Self { endpoint, peer }
    }

    fn calls(&self) -> usize {
        self.peer.calls.load(Ordering::SeqCst)
    }

    fn judge(&self) -> BedrockJudge {
        self.judge_with(|_| {})
    }

    fn judge_with(&self, tweak: impl FnOnce(&mut BedrockConfig)) -> BedrockJudge {
        let sdk =
            aws_config::SdkConfig::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .endpoint_url(&self.endpoint)
                .credentials_provider(
                    aws_sdk_bedrockruntime::config::SharedCredentialsProvider::new(
                        Credentials::new("AKIDTEST", "secret-test", None, None, "static"),
                    ),
                )
                .build();
        let mut config = BedrockConfig::new(MODEL);
        config.timeout = Duration::from_millis(800);
        config.initial_backoff = Duration::from_millis(10);
        tweak(&mut config);
        BedrockJudge::new(&sdk, config).expect("judge")
    }
}

fn verdict_input(overrides: Value) -> Value {
    let mut base = json!({
        "stop_evidence": "Let me check my calendar",
        "stop_trigger_met": false,
        "stop_reason": "The customer has not decided yet.",
        "applies_evidence": "can I book a cleaning",
        "description_applies": true,
        "applies_reason": "They asked for an appointment.",
        "timing_reason": "Four hours have passed.",
        "send_now": true,
        "wait_minutes": null,
        "language": "en",
        "message_text": "Hi! Did you find a moment to check your calendar?"
    });
    if let (Some(base), Some(overrides)) = (base.as_object_mut(), overrides.as_object()) {
        base.extend(overrides.clone());
    }
    base
}

fn tool_use(input: Value) -> Reply {
    Reply::Converse(json!({
        "output": {"message": {"role": "assistant", "content": [
            {"toolUse": {"toolUseId": "tooluse_1", "name": VERDICT_NAME, "input": input}}
        ]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 812, "outputTokens": 95, "totalTokens": 907},
        "metrics": {"latencyMs": 420}
    }))
}

fn judge_request() -> JudgeRequest {
    let draft: FollowUpDraft = serde_json::from_value(json!({
        "name": "Appointment reminder",
        "delay": {"mode": "manual", "minutes": 240},
        "description": "Customer showed interest in booking but did not confirm date and time",
        "stop_trigger": "Customer confirmed, cancelled, or is no longer interested",
        "message": {"mode": "ai"},
    }))
    .expect("draft");
    let at = |minutes: i64| Timestamp::from_millis(NOW.as_millis() - minutes * 60_000);
    JudgeRequest {
        platform: Platform::Whatsapp,
        follow_up: draft.validate().expect("valid"),
        transcript: vec![
            TranscriptLine {
                speaker: Speaker::Customer,
                at: at(300),
                text: "Hi, can I book a cleaning for next week?".to_owned(),
            },
            TranscriptLine {
                speaker: Speaker::Business,
                at: at(299),
                text: "Sure! Tuesday 10:00 or Thursday 15:00?".to_owned(),
            },
            TranscriptLine {
                speaker: Speaker::Customer,
                at: at(250),
                text: CUSTOMER_LAST.to_owned(),
            },
        ],
        last_customer_message: at(250),
        now: NOW,
        latest_send_at: at(250).plus_minutes(24 * 60 - 15),
        max_text_chars: 4096,
    }
}

#[tokio::test]
async fn when_the_model_calls_the_verdict_tool_then_its_input_is_the_verdict() {
    let server = Server::start(|_| tool_use(verdict_input(json!({})))).await;
    let verdict = server
        .judge()
        .assess(&judge_request())
        .await
        .expect("verdict");
    assert!(!verdict.stop_trigger_met);
    assert!(verdict.description_applies);
    assert_eq!(verdict.evidence.stop, "Let me check my calendar");
    assert_eq!(
        verdict.message_text.as_deref(),
        Some("Hi! Did you find a moment to check your calendar?")
    );
    assert_eq!(
        verdict.usage,
        Some(TokenUsage {
            input_tokens: 812,
            output_tokens: 95
        })
    );
    assert_eq!(server.calls(), 1);
}

#[tokio::test]
async fn when_assessing_then_the_request_forces_the_verdict_tool_and_signs_with_iam() {
    let server = Server::start(|_| tool_use(verdict_input(json!({})))).await;
    server
        .judge()
        .assess(&judge_request())
        .await
        .expect("verdict");
    let (model, headers, body) = server.peer.seen.lock().expect("lock")[0].clone();
    assert_eq!(model, MODEL);
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .expect("signed");
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/"),
        "{authorization}"
    );
    assert!(authorization.contains("/bedrock/aws4_request"));
    let tool = &body["toolConfig"]["tools"][0]["toolSpec"];
    assert_eq!(tool["name"], VERDICT_NAME);
    assert_eq!(tool["inputSchema"]["json"]["required"][0], "stop_evidence");
    assert_eq!(
        body["toolConfig"]["toolChoice"]["tool"]["name"],
        VERDICT_NAME
    );
    let system = body["system"][0]["text"].as_str().expect("system");
    assert!(system.contains("did not confirm date and time"));
    assert!(
        !system.contains(CUSTOMER_LAST),
        "customer text stays out of the system text"
    );
    let user = body["messages"][0]["content"][0]["text"]
        .as_str()
        .expect("user text");
    assert!(user.contains("<transcript>") && user.contains(CUSTOMER_LAST));
    assert_eq!(body["messages"][0]["role"], "user");
    assert_eq!(body["inferenceConfig"]["temperature"], 0.0);
}

#[tokio::test]
async fn when_bedrock_throttles_twice_then_the_third_attempt_gives_the_verdict() {
    let server = Server::start(|call| {
        if call < 2 {
            Reply::Error(
                429,
                "ThrottlingException",
                "Too many requests, please wait.",
            )
        } else {
            tool_use(verdict_input(json!({})))
        }
    })
    .await;
    let verdict = server.judge().assess(&judge_request()).await;
    assert!(verdict.is_ok(), "{verdict:?}");
    assert_eq!(server.calls(), 3);
}

#[tokio::test]
async fn when_bedrock_refuses_the_request_as_invalid_then_it_is_not_retried() {
    let server = Server::start(|_| {
        Reply::Error(
            400,
            "ValidationException",
            "This model doesn't support the toolConfig.toolChoice.tool field.",
        )
    })
    .await;
    let error = server
        .judge()
        .assess(&judge_request())
        .await
        .expect_err("refused");
    assert!(
        matches!(&error, JudgeError::Unavailable(m) if m.contains("ValidationException") && m.contains("toolChoice")),
        "{error:?}"
    );
    assert_eq!(server.calls(), 1);
}

#[tokio::test]
async fn when_the_model_times_out_on_every_attempt_then_the_judge_times_out() {
    let server = Server::start(|_| {
        Reply::Error(
            408,
            "ModelTimeoutException",
            "Model has timed out in processing the request.",
        )
    })
    .await;
    let error = server
        .judge()
        .assess(&judge_request())
        .await
        .expect_err("timeout");
    assert!(matches!(error, JudgeError::Timeout), "{error:?}");
    assert_eq!(server.calls(), 3);
}

#[tokio::test]
async fn when_bedrock_never_answers_then_each_attempt_is_cut_at_the_timeout() {
    let server = Server::start(|_| Reply::Hang).await;
    let judge = server.judge_with(|c| {
        c.timeout = Duration::from_millis(200);
        c.max_attempts = 2;
    });
    let started = std::time::Instant::now();
    let error = judge.assess(&judge_request()).await.expect_err("timeout");
    assert!(matches!(error, JudgeError::Timeout), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(server.calls(), 2);
}

#[tokio::test]
async fn when_the_model_answers_in_text_instead_of_the_tool_then_the_answer_is_invalid() {
    let server = Server::start(|_| {
        Reply::Converse(json!({
            "output": {"message": {"role": "assistant", "content": [
                {"text": "{\"stop_trigger_met\": false}"}
            ]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 800, "outputTokens": 12, "totalTokens": 812},
            "metrics": {"latencyMs": 300}
        }))
    })
    .await;
    let error = server
        .judge()
        .assess(&judge_request())
        .await
        .expect_err("no tool call");
    assert!(
        matches!(&error, JudgeError::InvalidAnswer(m) if m.contains("tool call")),
        "{error:?}"
    );
    assert_eq!(server.calls(), 1, "an invalid answer is not retried here");
}

#[tokio::test]
async fn when_the_tool_input_breaks_the_schema_then_the_answer_is_invalid() {
    for (input, why) in [
        (verdict_input(json!({"stop_trigger_met": "no"})), "schema"),
        (json!({"stop_trigger_met": false}), "lacks"),
        (
            verdict_input(json!({"message_text": "Book now with 30% off: https://x.example"})),
            "links",
        ),
        (verdict_input(json!({"language": "de"})), "language"),
    ] {
        let server = Server::start(move |_| tool_use(input.clone())).await;
        let error = server
            .judge()
            .assess(&judge_request())
            .await
            .expect_err("invalid");
        assert!(
            matches!(&error, JudgeError::InvalidAnswer(m) if m.contains(why)),
            "{why}: {error:?}"
        );
    }
}

#[test]
fn when_the_model_id_is_blank_then_the_judge_is_not_built() {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .build();
    assert_eq!(
        BedrockJudge::new(&sdk, BedrockConfig::new("  ")).err(),
        Some(BedrockConfigError::ModelId)
    );
}

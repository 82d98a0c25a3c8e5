//! Local HTTP peers that speak the real shapes: a Graph API that records what it was sent
//! and answers like Meta (successes, error objects, throttling), and an OpenAI-compatible
//! chat-completions server that answers with a scripted structured verdict.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// One request the fake Graph API received.
#[derive(Debug, Clone)]
pub struct GraphRequest {
    pub account_id: String,
    pub authorization: Option<String>,
    pub body: Value,
}

/// A scripted answer.
#[derive(Debug, Clone)]
pub enum GraphReply {
    Ok,
    Error {
        status: u16,
        code: i64,
        subcode: Option<i64>,
    },
}

#[derive(Debug, Default)]
struct GraphState {
    requests: Mutex<Vec<GraphRequest>>,
    script: Mutex<VecDeque<GraphReply>>,
}

/// A Graph API on 127.0.0.1. Answers `Ok` unless replies were queued.
#[derive(Debug, Clone)]
pub struct FakeGraph {
    pub base_url: String,
    state: Arc<GraphState>,
}

async fn graph_messages(
    State(state): State<Arc<GraphState>>,
    Path((_version, account)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let reply = state
        .script
        .lock()
        .expect("lock")
        .pop_front()
        .unwrap_or(GraphReply::Ok);
    let n = {
        let mut requests = state.requests.lock().expect("lock");
        requests.push(GraphRequest {
            account_id: account,
            authorization: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: body.clone(),
        });
        requests.len()
    };
    match reply {
        GraphReply::Ok if body["messaging_product"] == "whatsapp" => Json(json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": body["to"]}],
            "messages": [{"id": format!("wamid.FAKE{n}")}]
        }))
        .into_response(),
        GraphReply::Ok => Json(
            json!({"recipient_id": body["recipient"]["id"], "message_id": format!("m_FAKE{n}")}),
        )
        .into_response(),
        GraphReply::Error {
            status,
            code,
            subcode,
        } => {
            let mut error = json!({"message": "(#fake) error", "type": "OAuthException", "code": code, "fbtrace_id": "Afake"});
            if let Some(subcode) = subcode {
                error["error_subcode"] = json!(subcode);
            }
            (
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                Json(json!({"error": error})),
            )
                .into_response()
        }
    }
}

impl FakeGraph {
    pub async fn start() -> Self {
        let state = Arc::new(GraphState::default());
        let app = Router::new()
            .route("/{version}/{account}/messages", post(graph_messages))
            .with_state(Arc::clone(&state));
        let base_url = serve(app).await;
        Self { base_url, state }
    }

    /// Answers the next requests with these replies, in order, then `Ok` again.
    pub fn queue(&self, replies: impl IntoIterator<Item = GraphReply>) {
        self.state.script.lock().expect("lock").extend(replies);
    }

    pub fn requests(&self) -> Vec<GraphRequest> {
        self.state.requests.lock().expect("lock").clone()
    }
}

/// What the fake model answers.
#[derive(Debug, Clone)]
pub enum LlmReply {
    /// A structured verdict (the JSON the model would put in `message.content`).
    Verdict(Value),
    /// Never answers (the judge must time out).
    Hang,
}

#[derive(Debug)]
struct LlmState {
    reply: Mutex<LlmReply>,
    calls: Mutex<Vec<Value>>,
}

/// An OpenAI-compatible chat-completions server on 127.0.0.1.
#[derive(Debug, Clone)]
pub struct FakeLlm {
    pub base_url: String,
    state: Arc<LlmState>,
}

/// A verdict that sends now, with `text` for AI-written messages.
pub fn send_verdict(text: &str) -> Value {
    json!({
        "stop_trigger_met": false, "stop_reason": "no stop signal",
        "description_applies": true, "applies_reason": "matches the description",
        "send_now": true, "wait_minutes": null, "message_text": text, "language": "en"
    })
}

/// A verdict that finds the stop trigger met.
pub fn stop_verdict() -> Value {
    json!({
        "stop_trigger_met": true, "stop_reason": "the customer declined",
        "description_applies": true, "applies_reason": "",
        "send_now": false, "wait_minutes": null, "message_text": null, "language": "en"
    })
}

async fn completions(State(state): State<Arc<LlmState>>, Json(body): Json<Value>) -> Response {
    state.calls.lock().expect("lock").push(body);
    let reply = state.reply.lock().expect("lock").clone();
    match reply {
        LlmReply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        LlmReply::Verdict(verdict) => Json(json!({
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 1_763_971_200,
            "model": "fake-model",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": verdict.to_string()}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
        }))
        .into_response(),
    }
}

impl FakeLlm {
    pub async fn start(reply: LlmReply) -> Self {
        let state = Arc::new(LlmState {
            reply: Mutex::new(reply),
            calls: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(Arc::clone(&state));
        let base_url = format!("{}/v1", serve(app).await);
        Self { base_url, state }
    }

    pub fn answer(&self, reply: LlmReply) {
        *self.state.reply.lock().expect("lock") = reply;
    }

    pub fn calls(&self) -> usize {
        self.state.calls.lock().expect("lock").len()
    }
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

//! Local HTTP peers that speak the real shapes: a Graph API that records what it was sent
//! and answers like Meta (successes, error objects, throttling), and an OpenAI-compatible
//! chat-completions server that answers with a scripted structured verdict.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
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

/// One request to the template endpoints (`/{waba}/message_templates`).
#[derive(Debug, Clone)]
pub struct TemplateRequest {
    pub method: &'static str,
    pub waba_id: String,
    pub query: BTreeMap<String, String>,
    pub authorization: Option<String>,
    pub body: Option<Value>,
}

/// A refusal of a template creation, as Meta words one.
#[derive(Debug, Clone)]
pub struct TemplateRefusal {
    pub status: u16,
    pub code: i64,
    pub subcode: Option<i64>,
    pub user_msg: String,
}

/// The fake answers template lists in pages this big (whatever `limit` asks), so every
/// catalogue with more than this many templates exercises paging.
pub const TEMPLATE_PAGE_SIZE: usize = 2;

#[derive(Debug, Default)]
struct GraphState {
    requests: Mutex<Vec<GraphRequest>>,
    script: Mutex<VecDeque<GraphReply>>,
    /// Per WABA, Meta's template objects in list order.
    templates: Mutex<BTreeMap<String, Vec<Value>>>,
    template_requests: Mutex<Vec<TemplateRequest>>,
    template_refusals: Mutex<VecDeque<TemplateRefusal>>,
    /// Per WABA, the only bearer token Meta lets read it (unset: any token).
    waba_tokens: Mutex<BTreeMap<String, String>>,
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

fn authorization(headers: &HeaderMap) -> Option<String> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `GET /{version}/{waba}/message_templates`: Meta's list shape, paged by an `after`
/// cursor (the index of the next template), with `paging.next` while more remain.
async fn list_templates(
    State(state): State<Arc<GraphState>>,
    Path((version, waba)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    state
        .template_requests
        .lock()
        .expect("lock")
        .push(TemplateRequest {
            method: "GET",
            waba_id: waba.clone(),
            query: query.clone(),
            authorization: authorization(&headers),
            body: None,
        });
    let allowed = state.waba_tokens.lock().expect("lock").get(&waba).cloned();
    if let Some(allowed) = allowed
        && authorization(&headers) != Some(format!("Bearer {allowed}"))
    {
        // Meta's answer to a token without access to the account.
        return (
            StatusCode::FORBIDDEN,
            Json(
                json!({"error": {"message": "(#200) Permissions error", "type": "OAuthException",
                                  "code": 200, "fbtrace_id": "AfakeTrace"}}),
            ),
        )
            .into_response();
    }
    let all = state
        .templates
        .lock()
        .expect("lock")
        .get(&waba)
        .cloned()
        .unwrap_or_default();
    let start: usize = query
        .get("after")
        .and_then(|cursor| cursor.strip_prefix("cursor-"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let end = (start + TEMPLATE_PAGE_SIZE).min(all.len());
    let page = all.get(start..end).unwrap_or_default().to_vec();
    let mut paging =
        json!({"cursors": {"before": format!("cursor-{start}"), "after": format!("cursor-{end}")}});
    if end < all.len() {
        paging["next"] = json!(format!(
            "https://graph.facebook.com/{version}/{waba}/message_templates?limit={TEMPLATE_PAGE_SIZE}&after=cursor-{end}"
        ));
    }
    Json(json!({"data": page, "paging": paging})).into_response()
}

/// `POST /{version}/{waba}/message_templates`: refuses a name and language that exists
/// (Meta's subcode 2388024) or what the test queued; otherwise adds it as `PENDING`.
async fn create_template(
    State(state): State<Arc<GraphState>>,
    Path((_version, waba)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    state
        .template_requests
        .lock()
        .expect("lock")
        .push(TemplateRequest {
            method: "POST",
            waba_id: waba.clone(),
            query: BTreeMap::new(),
            authorization: authorization(&headers),
            body: Some(body.clone()),
        });
    let mut templates = state.templates.lock().expect("lock");
    let account = templates.entry(waba).or_default();
    let exists = account
        .iter()
        .any(|t| t["name"] == body["name"] && t["language"] == body["language"]);
    let refusal = state
        .template_refusals
        .lock()
        .expect("lock")
        .pop_front()
        .or_else(|| {
            exists.then(|| TemplateRefusal {
                status: 400,
                code: 100,
                subcode: Some(2_388_024),
                user_msg: "There is already content for this template in this language.".to_owned(),
            })
        });
    if let Some(refusal) = refusal {
        let mut error = json!({
            "message": "Invalid parameter", "type": "OAuthException", "code": refusal.code,
            "error_user_title": "Template not created", "error_user_msg": refusal.user_msg,
            "fbtrace_id": "Afake"
        });
        if let Some(subcode) = refusal.subcode {
            error["error_subcode"] = json!(subcode);
        }
        return (
            StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST),
            Json(json!({"error": error})),
        )
            .into_response();
    }
    let id = format!("{}", 1_300_000_000_000_000u64 + account.len() as u64);
    let mut stored = body.clone();
    stored["id"] = json!(id);
    stored["status"] = json!("PENDING");
    account.push(stored);
    Json(json!({"id": id, "status": "PENDING", "category": body["category"]})).into_response()
}

/// A template object as Meta lists it, with a text body (and nothing else).
pub fn meta_template(
    id: &str,
    name: &str,
    language: &str,
    category: &str,
    status: &str,
    body: &str,
) -> Value {
    json!({
        "id": id, "name": name, "language": language, "category": category, "status": status,
        "parameter_format": "POSITIONAL",
        "components": [{"type": "BODY", "text": body}]
    })
}

impl FakeGraph {
    pub async fn start() -> Self {
        let state = Arc::new(GraphState::default());
        let app = Router::new()
            .route("/{version}/{account}/messages", post(graph_messages))
            .route(
                "/{version}/{account}/message_templates",
                get(list_templates).post(create_template),
            )
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

    /// Makes `templates` (Meta's template objects) the account's catalogue.
    pub fn set_templates(&self, waba_id: &str, templates: Vec<Value>) {
        self.state
            .templates
            .lock()
            .expect("lock")
            .insert(waba_id.to_owned(), templates);
    }

    /// Sets a listed template's status, as Meta's review would.
    /// From now on only `token` may read `waba_id`'s templates; others get Meta's 200.
    pub fn restrict_waba(&self, waba_id: &str, token: &str) {
        self.state
            .waba_tokens
            .lock()
            .expect("lock")
            .insert(waba_id.to_owned(), token.to_owned());
    }

    pub fn set_template_status(&self, waba_id: &str, name: &str, language: &str, status: &str) {
        let mut templates = self.state.templates.lock().expect("lock");
        for template in templates.entry(waba_id.to_owned()).or_default() {
            if template["name"] == name && template["language"] == language {
                template["status"] = json!(status);
            }
        }
    }

    /// Refuses the next template creations with these answers, in order.
    pub fn refuse_templates(&self, refusals: impl IntoIterator<Item = TemplateRefusal>) {
        self.state
            .template_refusals
            .lock()
            .expect("lock")
            .extend(refusals);
    }

    pub fn template_requests(&self) -> Vec<TemplateRequest> {
        self.state.template_requests.lock().expect("lock").clone()
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
        "stop_evidence": "", "stop_trigger_met": false, "stop_reason": "no stop signal",
        "applies_evidence": "", "description_applies": true,
        "applies_reason": "matches the description", "timing_reason": "the delay passed",
        "send_now": true, "wait_minutes": null, "message_text": text, "language": "en"
    })
}

/// A verdict that finds the stop trigger met.
pub fn stop_verdict() -> Value {
    json!({
        "stop_evidence": "no thanks", "stop_trigger_met": true,
        "stop_reason": "the customer declined", "applies_evidence": "",
        "description_applies": true, "applies_reason": "", "timing_reason": "",
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

//! Conversations of a chatbot and their logs: when, to whom and which follow-up was
//! scheduled, cancelled (and why), came due or was sent. Newest first, paginated.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use followup_domain::{Conversation, ConversationId, FieldError, LogEvent, Platform};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::RouteBuilder;
use super::scope::ChatbotScope;
use crate::error::ApiError;
use crate::state::AppState;
use crate::time_format::rfc3339;

const COLLECTION: &str = "/v1/chatbots/{chatbot_id}/conversations";
const ITEM: &str = "/v1/chatbots/{chatbot_id}/conversations/{conversation_id}";
const LOG: &str = "/v1/chatbots/{chatbot_id}/conversations/{conversation_id}/log";

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;

pub(crate) fn routes(builder: RouteBuilder) -> RouteBuilder {
    builder
        .get(COLLECTION, list)
        .get(ITEM, get_one)
        .get(LOG, log)
}

#[derive(Debug, Serialize)]
struct ConversationView {
    id: ConversationId,
    platform: Platform,
    business_account_id: String,
    customer_id: String,
    last_customer_message_at: Option<String>,
    silence_period: u64,
}

impl From<Conversation> for ConversationView {
    fn from(c: Conversation) -> Self {
        let (account, customer) = c.id.parts();
        Self {
            platform: c.id.platform(),
            business_account_id: account.to_owned(),
            customer_id: customer.to_owned(),
            last_customer_message_at: c.last_customer_message_at.map(rfc3339),
            silence_period: c.silence_period,
            id: c.id,
        }
    }
}

#[derive(Debug, Serialize)]
struct PendingView {
    follow_up_id: String,
    silence_period: u64,
    due_at: String,
}

#[derive(Debug, Serialize)]
struct ConversationDetail {
    #[serde(flatten)]
    conversation: ConversationView,
    pending: Vec<PendingView>,
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    limit: Option<String>,
    before: Option<String>,
}

/// `raw` when it is one or more ASCII digits (`from_str` would also take a leading `+`).
fn digits(raw: &str) -> Option<&str> {
    Some(raw).filter(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
}

fn parse_limit(raw: Option<&str>) -> Result<usize, ApiError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(raw) => digits(raw)
            .and_then(|r| r.parse::<usize>().ok())
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                FieldError::new(
                    "limit",
                    "range",
                    format!("must be between 1 and {MAX_LIMIT}"),
                )
                .into()
            }),
    }
}

fn conversation_id(scope: &ChatbotScope) -> Result<ConversationId, ApiError> {
    scope
        .1
        .get("conversation_id")
        .and_then(|raw| ConversationId::parse(raw).ok())
        .ok_or(ApiError::NotFound)
}

#[derive(Debug, Serialize)]
struct ConversationList {
    items: Vec<ConversationView>,
}

async fn list(
    State(state): State<AppState>,
    ChatbotScope(chatbot, _): ChatbotScope,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<ConversationList>, ApiError> {
    let Query(query) = query.map_err(|_| ApiError::BadRequest("malformed query string".into()))?;
    let limit = parse_limit(query.limit.as_deref())?;
    let items = state.store().list_conversations(&chatbot, limit).await?;
    Ok(Json(ConversationList {
        items: items.into_iter().map(ConversationView::from).collect(),
    }))
}

async fn get_one(
    State(state): State<AppState>,
    scope: ChatbotScope,
) -> Result<Json<ConversationDetail>, ApiError> {
    let id = conversation_id(&scope)?;
    let chatbot = &scope.0;
    let conversation = state
        .store()
        .get_conversation(chatbot, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let pending = state.store().pending_follow_ups(chatbot, &id).await?;
    Ok(Json(ConversationDetail {
        conversation: conversation.into(),
        pending: pending
            .into_iter()
            .map(|p| PendingView {
                follow_up_id: p.follow_up_id.to_string(),
                silence_period: p.silence_period,
                due_at: rfc3339(p.due_at),
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize)]
struct LogPageView {
    entries: Vec<Value>,
    /// Pass as `before` to read the next (older) page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_before: Option<u64>,
}

/// A log entry as the API shows it: `seq`, `at` and the event's fields, with times as
/// RFC 3339 strings.
fn entry_view(seq: u64, at: followup_domain::Timestamp, event: &LogEvent) -> Value {
    let mut value = serde_json::to_value(event).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut value {
        for key in ["sent_at", "due_at", "until"] {
            if let Some(millis) = fields.get(key).and_then(Value::as_i64) {
                fields.insert(
                    key.to_owned(),
                    Value::String(rfc3339(followup_domain::Timestamp::from_millis(millis))),
                );
            }
        }
        fields.insert("seq".to_owned(), Value::from(seq));
        fields.insert("at".to_owned(), Value::String(rfc3339(at)));
    }
    value
}

async fn log(
    State(state): State<AppState>,
    scope: ChatbotScope,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<LogPageView>, ApiError> {
    let id = conversation_id(&scope)?;
    let Query(query) = query.map_err(|_| ApiError::BadRequest("malformed query string".into()))?;
    let limit = parse_limit(query.limit.as_deref())?;
    let before =
        match query.before.as_deref() {
            None => None,
            Some(raw) => Some(digits(raw).and_then(|r| r.parse::<u64>().ok()).ok_or_else(
                || {
                    ApiError::from(FieldError::new(
                        "before",
                        "integer",
                        "must be a log sequence number",
                    ))
                },
            )?),
        };
    let chatbot = &scope.0;
    if state
        .store()
        .get_conversation(chatbot, &id)
        .await?
        .is_none()
    {
        return Err(ApiError::NotFound);
    }
    let page = state
        .store()
        .conversation_log(chatbot, &id, before, limit)
        .await?;
    Ok(Json(LogPageView {
        entries: page
            .entries
            .iter()
            .map(|(seq, entry)| entry_view(*seq, entry.at, &entry.event))
            .collect(),
        next_before: page.next_before,
    }))
}

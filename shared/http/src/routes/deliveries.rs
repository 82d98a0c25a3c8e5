//! What a follow-up did: its deliveries (when, to whom, which channel, text or template,
//! status) and its counts, with the reply rate operators tune follow-ups by.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use followup_domain::{ConversationId, FieldError, Platform};
use followup_ports::{Delivery, DeliveryStatus};
use serde::{Deserialize, Serialize};

use super::RouteBuilder;
use super::follow_ups::ItemScope;
use crate::error::ApiError;
use crate::state::AppState;
use crate::time_format::rfc3339;

const DELIVERIES: &str = "/v1/chatbots/{chatbot_id}/follow-ups/{follow_up_id}/deliveries";
const STATS: &str = "/v1/chatbots/{chatbot_id}/follow-ups/{follow_up_id}/stats";

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;

pub(crate) fn routes(builder: RouteBuilder) -> RouteBuilder {
    builder.get(DELIVERIES, deliveries).get(STATS, stats)
}

#[derive(Debug, Serialize)]
struct DeliveryView {
    id: String,
    conversation_id: ConversationId,
    platform: Platform,
    /// The customer it went to (wa_id, business-scoped user id, PSID or IGSID).
    customer_id: String,
    silence_period: u64,
    status: &'static str,
    sent_as: Option<String>,
    template_name: Option<String>,
    /// A template that Meta accepted: billed (follow-ups send templates only past the
    /// 24 h window, where every template send is billed).
    billed: bool,
    platform_message_id: Option<String>,
    detail: Option<String>,
    created_at: String,
    sent_at: Option<String>,
    replied_at: Option<String>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        let (_, customer) = d.conversation_id.parts();
        Self {
            platform: d.conversation_id.platform(),
            customer_id: customer.to_owned(),
            id: d.id,
            silence_period: d.silence_period,
            status: d.status.as_str(),
            billed: d.sent_as.as_deref() == Some("template")
                && matches!(
                    d.status,
                    DeliveryStatus::Sent | DeliveryStatus::Delivered | DeliveryStatus::Read
                ),
            sent_as: d.sent_as,
            template_name: d.template_name,
            platform_message_id: d.platform_message_id,
            detail: d.detail,
            created_at: rfc3339(d.created_at),
            sent_at: d.sent_at.map(rfc3339),
            replied_at: d.replied_at.map(rfc3339),
            conversation_id: d.conversation_id,
        }
    }
}

#[derive(Debug, Serialize)]
struct DeliveryList {
    items: Vec<DeliveryView>,
}

#[derive(Debug, Deserialize)]
struct LimitQuery {
    limit: Option<String>,
}

async fn deliveries(
    State(state): State<AppState>,
    ItemScope(chatbot, id): ItemScope,
    query: Result<Query<LimitQuery>, QueryRejection>,
) -> Result<Json<DeliveryList>, ApiError> {
    let Query(query) = query.map_err(|_| ApiError::BadRequest("malformed query string".into()))?;
    let limit = match query.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::from(FieldError::new(
                    "limit",
                    "range",
                    format!("must be between 1 and {MAX_LIMIT}"),
                ))
            })?,
    };
    if state.store().get_follow_up(&chatbot, &id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    let items = state.store().list_deliveries(&chatbot, &id, limit).await?;
    Ok(Json(DeliveryList {
        items: items.into_iter().map(DeliveryView::from).collect(),
    }))
}

#[derive(Debug, Serialize)]
struct StatsView {
    follow_up_id: String,
    scheduled: u64,
    /// Cancelled pending follow-ups by reason (`customer_replied`, `stop_trigger_met`, …).
    cancelled: BTreeMap<String, u64>,
    /// Dropped at send time before the judge (stale, inactive, …).
    dropped: BTreeMap<String, u64>,
    /// Judged and not sent, by reason (`window_closed`, `description_does_not_apply`, …).
    skipped: BTreeMap<String, u64>,
    stopped: u64,
    sent: u64,
    failed: u64,
    outcome_unknown: u64,
    /// Sent follow-ups the customer answered within 24 h.
    replied: u64,
    /// `replied / sent`; null before the first send.
    reply_rate: Option<f64>,
}

async fn stats(
    State(state): State<AppState>,
    ItemScope(chatbot, id): ItemScope,
) -> Result<Json<StatsView>, ApiError> {
    if state.store().get_follow_up(&chatbot, &id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    let stats = state.store().follow_up_stats(&chatbot, &id).await?;
    Ok(Json(StatsView {
        follow_up_id: id.to_string(),
        scheduled: stats.scheduled,
        reply_rate: stats.reply_rate(),
        cancelled: stats.cancelled,
        dropped: stats.dropped,
        skipped: stats.skipped,
        stopped: stats.stopped,
        sent: stats.sent,
        failed: stats.failed,
        outcome_unknown: stats.outcome_unknown,
        replied: stats.replied,
    }))
}

//! The WhatsApp template catalogue of a chatbot: list (with filters), refresh from Meta,
//! and create a template for Meta's review. Templates belong to the WhatsApp Business
//! Accounts named on the chatbot's WhatsApp integrations.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use followup_app::Catalogue;
use followup_domain::{
    Billing, CatalogueEntry, FieldError, NewTemplateDraft, ParameterFormat, TemplateCategory,
    TemplateStatus, ValidationErrors,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::RouteBuilder;
use super::scope::ChatbotScope;
use crate::error::ApiError;
use crate::json::{JsonBody, parse_json};
use crate::state::AppState;
use crate::time_format::rfc3339;

const COLLECTION: &str = "/v1/chatbots/{chatbot_id}/whatsapp-templates";
const REFRESH: &str = "/v1/chatbots/{chatbot_id}/whatsapp-templates/refresh";

/// Shown with every list: what template sends cost, in one sentence.
pub(crate) const BILLING_NOTE: &str = "Meta bills every template send outside the 24-hour \
    customer service window, and marketing and authentication templates always. Follow-ups \
    send a template only past that window, so every template send of a follow-up is billed; \
    free-form messages inside the window are free.";

pub(crate) fn routes(builder: RouteBuilder) -> RouteBuilder {
    builder
        .get(COLLECTION, list)
        .post(COLLECTION, create)
        .post(REFRESH, refresh)
}

#[derive(Debug, Serialize)]
struct TemplateView {
    waba_id: String,
    template_id: String,
    name: String,
    language: String,
    category: Option<TemplateCategory>,
    status: TemplateStatus,
    status_reason: Option<String>,
    status_updated_at: String,
    parameter_format: ParameterFormat,
    body_text: Option<String>,
    /// The parameters a follow-up using it must configure.
    body_parameter_count: usize,
    /// Approved (or flagged) and fillable by a follow-up.
    usable: bool,
    /// Why a follow-up cannot fill it, if it cannot.
    unsupported: Option<String>,
    /// When Meta bills a send of it; `null` for an unknown category.
    billing: Option<Billing>,
    /// Meta's components, as listed (or, for a template created here, as submitted).
    components: Value,
}

impl From<CatalogueEntry> for TemplateView {
    fn from(entry: CatalogueEntry) -> Self {
        let t = entry.template;
        Self {
            usable: t.status.is_sendable() && t.unsupported.is_none(),
            billing: t.category.map(TemplateCategory::billing),
            components: serde_json::from_str(&t.components_json).unwrap_or(Value::Null),
            waba_id: t.waba_id,
            template_id: t.template_id,
            name: t.name,
            language: t.language,
            category: t.category,
            status: t.status,
            status_reason: t.status_reason,
            status_updated_at: rfc3339(entry.status_at),
            parameter_format: t.parameter_format,
            body_text: t.body_text,
            body_parameter_count: t.body_parameter_count,
            unsupported: t.unsupported,
        }
    }
}

#[derive(Debug, Serialize)]
struct AccountView {
    waba_id: String,
    /// `null` until the catalogue of this account was refreshed (or a template created).
    last_refreshed_at: Option<String>,
}

#[derive(Debug, Serialize)]
struct TemplateList {
    items: Vec<TemplateView>,
    accounts: Vec<AccountView>,
    billing_note: &'static str,
}

#[derive(Debug, Default)]
struct Filter {
    status: Option<TemplateStatus>,
    language: Option<String>,
    category: Option<TemplateCategory>,
    usable: Option<bool>,
}

impl Filter {
    fn matches(&self, view: &TemplateView) -> bool {
        self.status.is_none_or(|s| view.status == s)
            && self.language.as_ref().is_none_or(|l| &view.language == l)
            && self.category.is_none_or(|c| view.category == Some(c))
            && self.usable.is_none_or(|u| view.usable == u)
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    status: Option<String>,
    language: Option<String>,
    category: Option<String>,
    usable: Option<String>,
}

fn parse_filter(query: ListQuery) -> Result<Filter, ApiError> {
    let mut errors = ValidationErrors::default();
    let status = query.status.as_deref().and_then(|raw| {
        // Meta's own values are trimmed when read; a filter must be one exactly (any case).
        let status = TemplateStatus::from_meta(raw);
        if raw.trim() != raw
            || (status == TemplateStatus::Unknown && !raw.eq_ignore_ascii_case("UNKNOWN"))
        {
            errors.push(FieldError::new(
                "status",
                "one_of",
                "must be a template status such as APPROVED, PENDING, REJECTED, PAUSED or DISABLED",
            ));
            None
        } else {
            Some(status)
        }
    });
    let category = query.category.as_deref().and_then(|raw| {
        let category = TemplateCategory::from_meta(raw).filter(|_| raw.trim() == raw);
        if category.is_none() {
            errors.push(FieldError::new(
                "category",
                "one_of",
                "must be MARKETING, UTILITY or AUTHENTICATION",
            ));
        }
        category
    });
    let usable = match query.usable.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            errors.push(FieldError::new(
                "usable",
                "boolean",
                "must be `true` or `false`",
            ));
            None
        }
    };
    let language = query.language;
    Ok(errors.finish(|| {
        Some(Filter {
            status,
            language,
            category,
            usable,
        })
    })?)
}

fn render(catalogue: Catalogue, filter: &Filter) -> TemplateList {
    TemplateList {
        items: catalogue
            .entries
            .into_iter()
            .map(TemplateView::from)
            .filter(|view| filter.matches(view))
            .collect(),
        accounts: catalogue
            .accounts
            .into_iter()
            .map(|(waba_id, synced)| AccountView {
                waba_id,
                last_refreshed_at: synced.map(rfc3339),
            })
            .collect(),
        billing_note: BILLING_NOTE,
    }
}

async fn list(
    State(state): State<AppState>,
    ChatbotScope(chatbot, _): ChatbotScope,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<TemplateList>, ApiError> {
    let Query(query) = query.map_err(|_| ApiError::BadRequest("malformed query string".into()))?;
    let filter = parse_filter(query)?;
    let catalogue = state.services().template_catalogue(&chatbot).await?;
    Ok(Json(render(catalogue, &filter)))
}

async fn refresh(
    State(state): State<AppState>,
    ChatbotScope(chatbot, _): ChatbotScope,
) -> Result<Json<TemplateList>, ApiError> {
    state.services().refresh_templates(&chatbot).await?;
    let catalogue = state.services().template_catalogue(&chatbot).await?;
    Ok(Json(render(catalogue, &Filter::default())))
}

async fn create(
    State(state): State<AppState>,
    ChatbotScope(chatbot, _): ChatbotScope,
    JsonBody(mut body): JsonBody<Map<String, Value>>,
) -> Result<Response, ApiError> {
    // `waba_id` picks the account; the rest is the template, checked before Meta sees it.
    let waba_id = match body.remove("waba_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id),
        Some(_) => {
            return Err(FieldError::new("waba_id", "string", "must be a string").into());
        }
    };
    let bytes = serde_json::to_vec(&body).map_err(|_| ApiError::Internal)?;
    let draft: NewTemplateDraft = parse_json(&bytes)?;
    let template = draft.validate()?;
    let created = state
        .services()
        .create_template(&chatbot, waba_id.as_deref(), &template)
        .await?;
    Ok((StatusCode::CREATED, Json(TemplateView::from(created))).into_response())
}

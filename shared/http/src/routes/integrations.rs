//! Platform accounts connected to a chatbot. Access tokens are write-only: accepted on PUT,
//! never returned, never logged.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use followup_domain::conversation::parse_meta_id;
use followup_domain::{ChatbotId, FieldError, Platform, Secret, ValidationErrors};
use followup_ports::{Integration, Upserted};
use serde::{Deserialize, Serialize};

use super::RouteBuilder;
use super::scope::ChatbotScope;
use crate::error::ApiError;
use crate::json::JsonBody;
use crate::state::AppState;
use crate::time_format::rfc3339;

const COLLECTION: &str = "/v1/chatbots/{chatbot_id}/integrations";
const ITEM: &str = "/v1/chatbots/{chatbot_id}/integrations/{platform}/{account_id}";

const MAX_TOKEN_LEN: usize = 2048;

pub(crate) fn routes(builder: RouteBuilder) -> RouteBuilder {
    builder
        .get(COLLECTION, list)
        .put(ITEM, upsert)
        .delete(ITEM, remove)
}

#[derive(Debug, Serialize)]
struct IntegrationView {
    platform: Platform,
    account_id: String,
    /// WhatsApp only: the business account whose templates follow-ups use.
    whatsapp_business_account_id: Option<String>,
    /// Always true: the token is stored but never shown.
    has_access_token: bool,
    created_at: String,
    updated_at: String,
}

impl From<Integration> for IntegrationView {
    fn from(integration: Integration) -> Self {
        Self {
            platform: integration.platform,
            account_id: integration.account_id,
            whatsapp_business_account_id: integration.waba_id,
            has_access_token: !integration.access_token.expose().is_empty(),
            created_at: rfc3339(integration.created_at),
            updated_at: rfc3339(integration.updated_at),
        }
    }
}

#[derive(Debug, Serialize)]
struct IntegrationList {
    items: Vec<IntegrationView>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IntegrationRequest {
    access_token: Option<String>,
    /// Absent: keep what is stored (rotating a token keeps the account); `null`: clear.
    #[serde(default, deserialize_with = "present")]
    whatsapp_business_account_id: Option<Option<String>>,
}

/// Tells an explicit `null` (`Some(None)`) from an absent field (`None`).
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

impl std::fmt::Debug for IntegrationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntegrationRequest")
            .field("access_token", &"***")
            .field(
                "whatsapp_business_account_id",
                &self.whatsapp_business_account_id,
            )
            .finish()
    }
}

/// What a PUT does to the stored business account id.
enum AccountUpdate {
    Keep,
    Set(Option<String>),
}
use AccountUpdate::{Keep, Set};

/// Parses `{platform}/{account_id}` from the path; an unknown platform is a 404.
fn item_key(scope: &ChatbotScope) -> Result<(ChatbotId, Platform, String), ApiError> {
    let platform = scope
        .1
        .get("platform")
        .and_then(|raw| Platform::ALL.into_iter().find(|p| p.as_str() == raw))
        .ok_or(ApiError::NotFound)?;
    let account = scope.1.get("account_id").map_or("", String::as_str);
    Ok((scope.0.clone(), platform, account.to_owned()))
}

async fn list(
    State(state): State<AppState>,
    ChatbotScope(chatbot, _): ChatbotScope,
) -> Result<Json<IntegrationList>, ApiError> {
    let items = state.store().list_integrations(&chatbot).await?;
    Ok(Json(IntegrationList {
        items: items.into_iter().map(IntegrationView::from).collect(),
    }))
}

async fn upsert(
    State(state): State<AppState>,
    scope: ChatbotScope,
    JsonBody(request): JsonBody<IntegrationRequest>,
) -> Result<Response, ApiError> {
    let (chatbot, platform, account) = item_key(&scope)?;
    let mut errors = ValidationErrors::default();
    errors.collect(parse_meta_id("account_id", &account));
    let token = match request.access_token.as_deref().map(str::trim) {
        None => {
            errors.push(FieldError::required("access_token"));
            None
        }
        Some(token)
            if token.is_empty()
                || token.len() > MAX_TOKEN_LEN
                || token.chars().any(char::is_whitespace) =>
        {
            errors.push(FieldError::new(
                "access_token",
                "token_format",
                format!("must be 1 to {MAX_TOKEN_LEN} characters without whitespace"),
            ));
            None
        }
        Some(token) => Some(Secret::new(token)),
    };
    let waba_id = match (&request.whatsapp_business_account_id, platform) {
        (None, _) => Keep,
        (Some(None), _) => Set(None),
        (Some(Some(id)), Platform::Whatsapp) => {
            let id = id.trim();
            if (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit()) {
                Set(Some(id.to_owned()))
            } else {
                errors.push(FieldError::new(
                    "whatsapp_business_account_id",
                    "waba_id",
                    "must be the numeric WhatsApp Business Account id (1 to 32 digits)",
                ));
                Keep
            }
        }
        (Some(Some(_)), _) => {
            errors.push(FieldError::new(
                "whatsapp_business_account_id",
                "whatsapp_only",
                "only WhatsApp integrations have a business account (templates exist only on WhatsApp)",
            ));
            Keep
        }
    };
    let token = errors.finish(|| token)?;
    let stored_waba = state
        .store()
        .find_integration(platform, &account)
        .await?
        .filter(|existing| existing.chatbot_id == chatbot)
        .and_then(|existing| existing.waba_id);
    let waba_id = match waba_id {
        Set(waba_id) => waba_id,
        Keep => stored_waba.clone(),
    };
    // Proof of access before a business account is named: Meta must list its templates to
    // this token. Without it a chatbot could name another tenant's account and read its
    // templates. Every PUT carries the token, so every PUT that keeps or sets an account
    // proves it again (a rotated token must reach the account too).
    if let Some(waba) = waba_id.as_deref() {
        state
            .services()
            .templates
            .list_templates(waba, &token)
            .await
            .map_err(|error| {
                ApiError::from(followup_app::CatalogueError::Directory {
                    waba_id: waba.to_owned(),
                    error,
                })
            })?;
    }
    let now = state.clock().now();
    let (stored, outcome) = state
        .store()
        .upsert_integration(Integration {
            chatbot_id: chatbot.clone(),
            platform,
            account_id: account,
            waba_id,
            access_token: token,
            created_at: now,
            updated_at: now,
        })
        .await?;
    tracing::info!(chatbot = %chatbot, %platform, account = %stored.account_id, ?outcome, "integration saved");
    let status = match outcome {
        Upserted::Created => StatusCode::CREATED,
        Upserted::Updated => StatusCode::OK,
    };
    Ok((status, Json(IntegrationView::from(stored))).into_response())
}

async fn remove(
    State(state): State<AppState>,
    scope: ChatbotScope,
) -> Result<StatusCode, ApiError> {
    let (chatbot, platform, account) = item_key(&scope)?;
    state
        .store()
        .delete_integration(&chatbot, platform, &account)
        .await?;
    tracing::info!(chatbot = %chatbot, %platform, account = %account, "integration removed");
    Ok(StatusCode::NO_CONTENT)
}

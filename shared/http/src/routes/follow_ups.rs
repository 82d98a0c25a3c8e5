//! Follow-up configuration: create, read, list, replace, patch, delete, (de)activate.
//! Every route is scoped by chatbot and checked against the caller's grant before anything
//! else, the body included.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use followup_domain::followup::LabelColor;
use followup_domain::template::{find_in_catalogue, template_warning};
use followup_domain::{
    CancelReason, ChatbotId, ConfigWarning, DelayPlan, FieldError, FollowUp, FollowUpConfig,
    FollowUpDraft, FollowUpFilter, FollowUpId, MAX_ACTIVE_FOLLOW_UPS, ValidationErrors,
    WindowPolicy,
};
use followup_domain::{MessageTemplate, TemplateCategory};
use followup_ports::{NewFollowUp, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::RouteBuilder;
use super::scope::ChatbotScope;
use crate::error::ApiError;
use crate::json::{JsonBody, parse_json};
use crate::state::AppState;
use crate::time_format::rfc3339;

const COLLECTION: &str = "/v1/chatbots/{chatbot_id}/follow-ups";
const ITEM: &str = "/v1/chatbots/{chatbot_id}/follow-ups/{follow_up_id}";
const ACTIVATE: &str = "/v1/chatbots/{chatbot_id}/follow-ups/{follow_up_id}/activate";
const DEACTIVATE: &str = "/v1/chatbots/{chatbot_id}/follow-ups/{follow_up_id}/deactivate";

/// How often PATCH re-reads and re-applies itself when another write got in between.
const PATCH_ATTEMPTS: usize = 3;

pub(crate) fn routes(builder: RouteBuilder) -> RouteBuilder {
    builder
        .get(COLLECTION, list)
        .post(COLLECTION, create)
        .get(ITEM, get_one)
        .put(ITEM, replace)
        .patch(ITEM, patch)
        .delete(ITEM, delete)
        .post(ACTIVATE, activate)
        .post(DEACTIVATE, deactivate)
}

/// A follow-up as the API shows it: its configuration plus what the platforms make of it.
#[derive(Debug, Serialize)]
pub struct FollowUpView {
    id: FollowUpId,
    chatbot_id: ChatbotId,
    #[serde(flatten)]
    config: FollowUpConfig,
    revision: u64,
    created_at: String,
    updated_at: String,
    /// Per platform, for a manual delay: when it really goes out, and as what.
    effective_delays: Vec<DelayPlan>,
    warnings: Vec<ConfigWarning>,
    /// Which of its sends Meta bills.
    cost: CostView,
}

/// What a follow-up's sends cost: free-form messages inside the window are free; every
/// template send (only ever past the window) is billed.
#[derive(Debug, Serialize)]
struct CostView {
    /// `none` or `whatsapp_template_sends`.
    billed_sends: &'static str,
    /// The template's category as the catalogue knows it.
    template_category: Option<TemplateCategory>,
    note: &'static str,
}

impl CostView {
    fn new(config: &FollowUpConfig, catalogue: &[MessageTemplate]) -> Self {
        match &config.whatsapp_template {
            None => Self {
                billed_sends: "none",
                template_category: None,
                note: "Sends only free-form messages inside the 24-hour window, which Meta \
                       does not bill.",
            },
            Some(template) => Self {
                billed_sends: "whatsapp_template_sends",
                template_category: find_in_catalogue(template, catalogue).and_then(|t| t.category),
                note: "Free-form messages inside the 24-hour window are free; every WhatsApp \
                       template send (past the window) is billed by Meta at the rate of the \
                       template's category.",
            },
        }
    }
}

impl FollowUpView {
    /// `catalogue`: the chatbot's templates, for the template's warnings and cost (may be
    /// empty when the follow-up has no template).
    fn new(follow_up: FollowUp, policy: WindowPolicy, catalogue: &[MessageTemplate]) -> Self {
        let mut warnings = follow_up.config.warnings(policy);
        if let Some(template) = &follow_up.config.whatsapp_template {
            warnings.extend(template_warning(template, catalogue));
        }
        Self {
            effective_delays: follow_up.config.delay_plans(policy),
            cost: CostView::new(&follow_up.config, catalogue),
            warnings,
            id: follow_up.id,
            chatbot_id: follow_up.chatbot_id,
            revision: follow_up.revision,
            created_at: rfc3339(follow_up.created_at),
            updated_at: rfc3339(follow_up.updated_at),
            config: follow_up.config,
        }
    }

    fn into_response_with(self, status: StatusCode) -> Response {
        let etag = HeaderValue::from_str(&format!("\"{}\"", self.revision));
        let mut response = (status, Json(self)).into_response();
        if let Ok(etag) = etag {
            response.headers_mut().insert(header::ETAG, etag);
        }
        response
    }
}

#[derive(Debug, Serialize)]
struct FollowUpList {
    items: Vec<FollowUpView>,
    /// Active follow-ups of the chatbot, whatever the filter.
    active_count: usize,
    active_limit: usize,
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    color: Option<String>,
    active: Option<String>,
}

/// A follow-up of a chatbot, after authentication and the grant check.
#[derive(Debug)]
pub(crate) struct ItemScope(pub ChatbotId, pub FollowUpId);

impl FromRequestParts<AppState> for ItemScope {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ChatbotScope(chatbot, params) = ChatbotScope::from_request_parts(parts, state).await?;
        let id = params.get("follow_up_id").ok_or(ApiError::NotFound)?;
        Ok(Self(
            chatbot,
            FollowUpId::parse(id).map_err(|_| ApiError::NotFound)?,
        ))
    }
}

fn parse_filter(query: &ListQuery) -> Result<FollowUpFilter, ApiError> {
    let color = query
        .color
        .as_deref()
        .map(|c| LabelColor::parse("color", c))
        .transpose()?;
    let active = match query.active.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            return Err(FieldError::new("active", "boolean", "must be `true` or `false`").into());
        }
    };
    Ok(FollowUpFilter { color, active })
}

async fn list(
    State(state): State<AppState>,
    ChatbotScope(chatbot, _): ChatbotScope,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<FollowUpList>, ApiError> {
    let Query(query) = query.map_err(|_| ApiError::BadRequest("malformed query string".into()))?;
    let filter = parse_filter(&query)?;
    // One read serves both the count of active ones (for "3 of 5 active") and the list.
    let all = state
        .store()
        .list_follow_ups(&chatbot, FollowUpFilter::default())
        .await?;
    let active_count = all.iter().filter(|f| f.config.active).count();
    let catalogue = catalogue_for(&state, &chatbot, all.iter().map(|f| &f.config)).await?;
    let items = all
        .into_iter()
        .filter(|f| filter.matches(f))
        .map(|f| FollowUpView::new(f, state.policy(), &catalogue))
        .collect();
    Ok(Json(FollowUpList {
        items,
        active_count,
        active_limit: MAX_ACTIVE_FOLLOW_UPS,
    }))
}

fn new_follow_up_id() -> FollowUpId {
    // UUID v7: unique without coordination and sortable by creation time.
    let id = format!("fu_{}", uuid::Uuid::now_v7().simple());
    FollowUpId::parse(&id).unwrap_or_else(|_| unreachable!("fu_ + 32 hex digits is a valid id"))
}

/// The chatbot's template catalogue, read only when one of `configs` has a template.
async fn catalogue_for<'a>(
    state: &AppState,
    chatbot: &ChatbotId,
    mut configs: impl Iterator<Item = &'a FollowUpConfig>,
) -> Result<Vec<MessageTemplate>, ApiError> {
    if configs.any(|c| c.whatsapp_template.is_some()) {
        Ok(state.services().usable_catalogue(chatbot).await?.templates)
    } else {
        Ok(Vec::new())
    }
}

/// A template set or changed by this write must exist in the catalogue, be approved and
/// match its placeholders; an unchanged one is not re-checked (a template Meta paused
/// since must not block renaming or deactivating the follow-up). Returns the catalogue
/// when it was read, so the response's warnings and cost need not read it again.
async fn check_new_template(
    state: &AppState,
    chatbot: &ChatbotId,
    config: &FollowUpConfig,
    current: Option<&FollowUpConfig>,
) -> Result<Option<Vec<MessageTemplate>>, ApiError> {
    let Some(template) = &config.whatsapp_template else {
        return Ok(None);
    };
    if current.is_some_and(|c| c.whatsapp_template.as_ref() == Some(template)) {
        return Ok(None);
    }
    let catalogue = state.services().usable_catalogue(chatbot).await?;
    if let Err(errors) = catalogue.check(template) {
        tracing::info!(chatbot = %chatbot, template = template.name.as_str(), "refused: template does not match the catalogue");
        return Err(errors.into());
    }
    Ok(Some(catalogue.templates))
}

/// A view of a follow-up just read or written; `catalogue` when this request already read
/// it, else it is read here (only if the follow-up has a template).
async fn view(
    state: &AppState,
    follow_up: FollowUp,
    catalogue: Option<Vec<MessageTemplate>>,
) -> Result<FollowUpView, ApiError> {
    let catalogue = match catalogue {
        Some(catalogue) => catalogue,
        None => {
            catalogue_for(
                state,
                &follow_up.chatbot_id,
                std::iter::once(&follow_up.config),
            )
            .await?
        }
    };
    Ok(FollowUpView::new(follow_up, state.policy(), &catalogue))
}

async fn create(
    State(state): State<AppState>,
    ChatbotScope(chatbot, _): ChatbotScope,
    JsonBody(draft): JsonBody<FollowUpDraft>,
) -> Result<Response, ApiError> {
    let config = draft.validate()?;
    let catalogue = check_new_template(&state, &chatbot, &config, None).await?;
    let created = state
        .store()
        .create_follow_up(NewFollowUp {
            id: new_follow_up_id(),
            chatbot_id: chatbot,
            config,
            now: state.clock().now(),
        })
        .await
        .inspect_err(|e| log_refusal("create", e))?;
    tracing::info!(
        chatbot = %created.chatbot_id,
        follow_up = %created.id,
        active = created.config.active,
        "follow-up created"
    );
    let location = format!(
        "/v1/chatbots/{}/follow-ups/{}",
        created.chatbot_id, created.id
    );
    let mut response = view(&state, created, catalogue)
        .await?
        .into_response_with(StatusCode::CREATED);
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Deactivating cancels what the follow-up still had pending. Runs on every write that
/// leaves it inactive, also a no-op one, so a retry finishes a cancellation that failed.
async fn cancel_pending_if_inactive(
    state: &AppState,
    follow_up: &FollowUp,
) -> Result<(), ApiError> {
    if !follow_up.config.active {
        state
            .services()
            .cancel_follow_up(
                &follow_up.chatbot_id,
                &follow_up.id,
                CancelReason::FollowUpDeactivated,
            )
            .await?;
    }
    Ok(())
}

fn log_refusal(action: &str, error: &StoreError) {
    if let StoreError::ActiveLimitReached { limit } = error {
        tracing::info!(action, limit, "refused: active follow-up limit reached");
    }
}

async fn load(
    state: &AppState,
    chatbot: &ChatbotId,
    id: &FollowUpId,
) -> Result<FollowUp, ApiError> {
    state
        .store()
        .get_follow_up(chatbot, id)
        .await?
        .ok_or(ApiError::NotFound)
}

async fn get_one(
    State(state): State<AppState>,
    ItemScope(chatbot, id): ItemScope,
) -> Result<Response, ApiError> {
    let follow_up = load(&state, &chatbot, &id).await?;
    Ok(view(&state, follow_up, None)
        .await?
        .into_response_with(StatusCode::OK))
}

/// `If-Match: "3"` → `Some(3)`; absent or `*` → `None`.
fn if_match_revision(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let raw = value.to_str().unwrap_or("").trim();
    if raw == "*" {
        return Ok(None);
    }
    // Revisions are strong validators; a weak tag (`W/"3"`) cannot match them.
    raw.strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .filter(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|r| r.parse().ok())
        .map(Some)
        .ok_or_else(|| ApiError::BadRequest("If-Match must be a strong ETag such as \"3\"".into()))
}

async fn replace(
    State(state): State<AppState>,
    ItemScope(chatbot, id): ItemScope,
    headers: HeaderMap,
    JsonBody(mut draft): JsonBody<FollowUpDraft>,
) -> Result<Response, ApiError> {
    let expected = if_match_revision(&headers)?;
    let current = if draft.active.is_none() || draft.whatsapp_template.is_some() {
        Some(load(&state, &chatbot, &id).await?)
    } else {
        None
    };
    if draft.active.is_none() {
        // A full replace that does not mention `active` keeps the current state rather
        // than silently (re)activating the follow-up.
        draft.active = current.as_ref().map(|c| c.config.active);
    }
    let config = draft.validate()?;
    let catalogue = check_new_template(
        &state,
        &chatbot,
        &config,
        current.as_ref().map(|c| &c.config),
    )
    .await?;
    let updated = state
        .store()
        .replace_follow_up(&chatbot, &id, config, expected, state.clock().now())
        .await
        .map_err(|e| match e {
            StoreError::RevisionConflict { current } => ApiError::PreconditionFailed { current },
            other => {
                log_refusal("replace", &other);
                other.into()
            }
        })?;
    tracing::info!(chatbot = %chatbot, follow_up = %id, revision = updated.revision, "follow-up replaced");
    cancel_pending_if_inactive(&state, &updated).await?;
    Ok(view(&state, updated, catalogue)
        .await?
        .into_response_with(StatusCode::OK))
}

/// Fields a PATCH may clear with `null`; the others have no "unset" state.
const CLEARABLE_FIELDS: [&str; 2] = ["color", "whatsapp_template"];

/// Applies a top-level partial update: each field present replaces that field whole
/// (`null` clears `color` or `whatsapp_template`); fields not sent stay as they are.
fn apply_patch(
    current: &FollowUpConfig,
    patch: &Map<String, Value>,
) -> Result<FollowUpConfig, ApiError> {
    let not_nullable: Vec<FieldError> = patch
        .iter()
        .filter(|(field, value)| value.is_null() && !CLEARABLE_FIELDS.contains(&field.as_str()))
        .map(|(field, _)| {
            FieldError::new(
                field.clone(),
                "not_nullable",
                "only `color` and `whatsapp_template` can be cleared with null",
            )
        })
        .collect();
    if !not_nullable.is_empty() {
        return Err(ValidationErrors(not_nullable).into());
    }
    let Value::Object(mut merged) =
        serde_json::to_value(current).map_err(|_| ApiError::Internal)?
    else {
        return Err(ApiError::Internal);
    };
    for (field, value) in patch {
        if value.is_null() {
            merged.remove(field);
        } else {
            merged.insert(field.clone(), value.clone());
        }
    }
    let bytes = serde_json::to_vec(&merged).map_err(|_| ApiError::Internal)?;
    let draft: FollowUpDraft = parse_json(&bytes)?;
    Ok(draft.validate()?)
}

async fn patch(
    State(state): State<AppState>,
    ItemScope(chatbot, id): ItemScope,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<Map<String, Value>>,
) -> Result<Response, ApiError> {
    let expected = if_match_revision(&headers)?;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let current = load(&state, &chatbot, &id).await?;
        if let Some(expected) = expected
            && expected != current.revision
        {
            return Err(ApiError::PreconditionFailed {
                current: current.revision,
            });
        }
        let config = apply_patch(&current.config, &patch)?;
        let catalogue =
            check_new_template(&state, &chatbot, &config, Some(&current.config)).await?;
        match state
            .store()
            .replace_follow_up(
                &chatbot,
                &id,
                config,
                Some(current.revision),
                state.clock().now(),
            )
            .await
        {
            Ok(updated) => {
                tracing::info!(chatbot = %chatbot, follow_up = %id, revision = updated.revision, "follow-up patched");
                cancel_pending_if_inactive(&state, &updated).await?;
                return Ok(view(&state, updated, catalogue)
                    .await?
                    .into_response_with(StatusCode::OK));
            }
            Err(StoreError::RevisionConflict { current }) if attempts < PATCH_ATTEMPTS => {
                tracing::debug!(current, "patch raced another write; re-applying");
            }
            Err(StoreError::RevisionConflict { current }) if expected.is_some() => {
                return Err(ApiError::PreconditionFailed { current });
            }
            Err(error) => {
                log_refusal("patch", &error);
                return Err(error.into());
            }
        }
    }
}

async fn delete(
    State(state): State<AppState>,
    ItemScope(chatbot, id): ItemScope,
) -> Result<StatusCode, ApiError> {
    let deleted = match state.store().delete_follow_up(&chatbot, &id).await {
        Ok(deleted) => Some(deleted),
        // Deleted before, maybe by a request whose cancellation failed: finish that, then
        // answer 404 as for any follow-up that is not there.
        Err(StoreError::NotFound) => None,
        Err(other) => return Err(other.into()),
    };
    state
        .services()
        .cancel_follow_up(&chatbot, &id, CancelReason::FollowUpDeleted)
        .await?;
    let deleted = deleted.ok_or(ApiError::NotFound)?;
    tracing::info!(chatbot = %chatbot, follow_up = %id, was_active = deleted.config.active, "follow-up deleted");
    Ok(StatusCode::NO_CONTENT)
}

async fn set_active(
    state: &AppState,
    chatbot: &ChatbotId,
    id: &FollowUpId,
    active: bool,
) -> Result<Response, ApiError> {
    let updated = state
        .store()
        .set_follow_up_active(chatbot, id, active, state.clock().now())
        .await
        .inspect_err(|e| log_refusal(if active { "activate" } else { "deactivate" }, e))?;
    tracing::info!(chatbot = %chatbot, follow_up = %id, active, "follow-up activity set");
    cancel_pending_if_inactive(state, &updated).await?;
    Ok(view(state, updated, None)
        .await?
        .into_response_with(StatusCode::OK))
}

async fn activate(
    State(state): State<AppState>,
    ItemScope(chatbot, id): ItemScope,
) -> Result<Response, ApiError> {
    set_active(&state, &chatbot, &id, true).await
}

async fn deactivate(
    State(state): State<AppState>,
    ItemScope(chatbot, id): ItemScope,
) -> Result<Response, ApiError> {
    set_active(&state, &chatbot, &id, false).await
}

//! Dry run of one follow-up in one conversation: what the sender would do right now, with
//! the judge's reasons and evidence, the message, the window and the cost. Sends and
//! writes nothing.

use axum::Json;
use axum::extract::State;
use followup_app::{DryRun, DryRunError, JudgeOutcome, MessagePreview, MetaFee};
use followup_domain::{ConversationId, FieldError, FollowUpId, SendMode};
use serde::{Deserialize, Serialize};

use super::RouteBuilder;
use super::scope::ChatbotScope;
use crate::error::ApiError;
use crate::json::JsonBody;
use crate::state::AppState;
use crate::time_format::rfc3339;

const DRY_RUN: &str = "/v1/chatbots/{chatbot_id}/conversations/{conversation_id}/dry-run";

pub(crate) fn routes(builder: RouteBuilder) -> RouteBuilder {
    builder.post(DRY_RUN, dry_run)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DryRunRequest {
    follow_up_id: Option<String>,
}

#[derive(Debug, Serialize)]
struct EvidenceView {
    stop: String,
    applies: String,
}

#[derive(Debug, Serialize)]
struct JudgeView {
    asked: bool,
    /// `timeout`, `unavailable` or `invalid_answer` when the judge could not answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_trigger_met: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description_applies: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    applies_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<EvidenceView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unsure: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "sent_as", rename_all = "snake_case")]
enum MessageView {
    Text {
        text: String,
    },
    Template {
        template_name: String,
        language: String,
        parameters: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        body: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        category: Option<&'static str>,
    },
}

#[derive(Debug, Serialize)]
struct WindowView {
    last_customer_message_at: Option<String>,
    free_form_until: Option<String>,
    /// `free_form`, `template` (only an approved template may go out) or `closed`.
    state: Option<&'static str>,
}

#[derive(Debug, Serialize)]
struct CostView {
    /// `free`, or the template's pricing category (`marketing`, `utility`,
    /// `authentication`, `unknown`); `null` when nothing would be sent.
    meta_fee: Option<&'static str>,
    model_input_tokens: u64,
    model_output_tokens: u64,
}

#[derive(Debug, Serialize)]
struct DryRunView {
    at: String,
    platform: &'static str,
    silence_period: u64,
    action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wait_until: Option<String>,
    judge: JudgeView,
    message: Option<MessageView>,
    window: WindowView,
    cost: CostView,
}

fn judge_view(outcome: &JudgeOutcome) -> JudgeView {
    let mut view = JudgeView {
        asked: !matches!(outcome, JudgeOutcome::NotAsked),
        error: None,
        stop_trigger_met: None,
        stop_reason: None,
        description_applies: None,
        applies_reason: None,
        evidence: None,
        unsure: None,
    };
    match outcome {
        JudgeOutcome::NotAsked => {}
        JudgeOutcome::Failed(kind) => view.error = Some(kind),
        JudgeOutcome::Verdict(verdict) => {
            view.stop_trigger_met = Some(verdict.stop_trigger_met);
            view.stop_reason = Some(verdict.stop_reason.clone());
            view.description_applies = Some(verdict.description_applies);
            view.applies_reason = Some(verdict.applies_reason.clone());
            view.evidence = Some(EvidenceView {
                stop: verdict.evidence.stop.clone(),
                applies: verdict.evidence.applies.clone(),
            });
            view.unsure = verdict.unsure.clone();
        }
    }
    view
}

fn category_name(category: Option<followup_domain::TemplateCategory>) -> &'static str {
    use followup_domain::TemplateCategory;
    match category {
        Some(TemplateCategory::Marketing) => "marketing",
        Some(TemplateCategory::Utility) => "utility",
        Some(TemplateCategory::Authentication) => "authentication",
        None => "unknown",
    }
}

impl From<DryRun> for DryRunView {
    fn from(run: DryRun) -> Self {
        let usage = match &run.judge {
            JudgeOutcome::Verdict(verdict) => verdict.usage.unwrap_or_default(),
            _ => Default::default(),
        };
        Self {
            at: rfc3339(run.at),
            platform: run.platform.as_str(),
            silence_period: run.silence_period,
            action: run.action.as_str(),
            reason: run.reason,
            detail: run.detail,
            wait_until: run.wait_until.map(rfc3339),
            judge: judge_view(&run.judge),
            message: run.message.map(|message| match message {
                MessagePreview::Text(text) => MessageView::Text { text },
                MessagePreview::Template {
                    name,
                    language,
                    parameters,
                    body,
                    category,
                } => MessageView::Template {
                    template_name: name,
                    language,
                    parameters,
                    body,
                    category: category.map(|c| category_name(Some(c))),
                },
            }),
            window: WindowView {
                last_customer_message_at: run.window.last_customer_message_at.map(rfc3339),
                free_form_until: run.window.free_form_until.map(rfc3339),
                state: run.window.mode.map(|mode| match mode {
                    SendMode::FreeForm => "free_form",
                    SendMode::Template => "template",
                    SendMode::WindowClosed => "closed",
                }),
            },
            cost: CostView {
                meta_fee: run.meta_fee.map(|fee| match fee {
                    MetaFee::Free => "free",
                    MetaFee::Template(category) => category_name(category),
                }),
                model_input_tokens: usage.input_tokens,
                model_output_tokens: usage.output_tokens,
            },
        }
    }
}

async fn dry_run(
    State(state): State<AppState>,
    scope: ChatbotScope,
    JsonBody(request): JsonBody<DryRunRequest>,
) -> Result<Json<DryRunView>, ApiError> {
    let conversation = scope
        .1
        .get("conversation_id")
        .and_then(|raw| ConversationId::parse(raw).ok())
        .ok_or(ApiError::NotFound)?;
    let raw = request
        .follow_up_id
        .ok_or_else(|| FieldError::new("follow_up_id", "required", "is required"))?;
    let follow_up = FollowUpId::parse(&raw)?;
    let run = state
        .services()
        .dry_run(&scope.0, &conversation, &follow_up)
        .await
        .map_err(|error| match error {
            DryRunError::ConversationNotFound | DryRunError::FollowUpNotFound => ApiError::NotFound,
            DryRunError::Store(error) => error.into(),
        })?;
    Ok(Json(run.into()))
}

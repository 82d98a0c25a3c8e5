//! Dry run: what the sender would do with one follow-up in one conversation if it came
//! due right now, by the same checks, judge and decision as a real send, with nothing
//! claimed, scheduled, logged or sent. The judge is asked (and, with a model, billed) once.

use followup_domain::template::{find_in_catalogue, sendable_now};
use followup_domain::{
    Assessment, ChatbotId, ConversationId, DueFacts, FollowUpId, Outgoing, Platform, PreCheck,
    SendDecision, SendMode, SkipReason, TemplateCategory, Timestamp, decide, pre_check,
};
use followup_ports::{JudgeError, JudgeRequest, JudgeVerdict, StoreError};

use std::time::Duration;

use crate::Services;

/// The longest a dry run waits for the judge: an API call must answer well inside API
/// Gateway's 29 s, whatever the judge's own timeouts and retries add up to.
pub const DRY_RUN_JUDGE_LIMIT: Duration = Duration::from_secs(20);
use crate::sender::{JUDGE_MAX_ATTEMPTS, JUDGE_RETRY_FIRST_MINUTES, resolve_parameters};

/// What the sender would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DryRunAction {
    Send,
    /// Check again later in the same silence period (an `ai` delay's wait, or a retry
    /// after a judge failure).
    Wait,
    /// The stop trigger is met: nothing more goes out until the customer writes again.
    Stop,
    /// Not sent in this silence period; `reason` says why.
    Skip,
}

impl DryRunAction {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::Wait => "wait",
            Self::Stop => "stop",
            Self::Skip => "skip",
        }
    }
}

/// The message that would go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessagePreview {
    Text(String),
    Template {
        name: String,
        language: String,
        /// Parameters as they would be sent to this customer.
        parameters: Vec<String>,
        /// The template's body with the parameters filled in, when the catalogue has it.
        body: Option<String>,
        category: Option<TemplateCategory>,
    },
}

/// The platform's free-form window at the time of the dry run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowState {
    pub last_customer_message_at: Option<Timestamp>,
    /// The last moment a free-form message may go out (Meta's window less the margin).
    pub free_form_until: Option<Timestamp>,
    /// `None` before the customer's first message.
    pub mode: Option<SendMode>,
}

/// What the judge said, without its cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JudgeOutcome {
    /// Not asked: a check before it decided.
    NotAsked,
    Verdict(Box<JudgeVerdict>),
    /// The judge could not answer (kind only: `timeout`, `unavailable`, `invalid_answer`).
    Failed(&'static str),
}

/// Meta's fee for the message, by Meta's pricing category: free-form replies inside the
/// customer service window and every Instagram/Messenger message are free; a WhatsApp
/// template is billed by its category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaFee {
    Free,
    Template(Option<TemplateCategory>),
}

/// The answer of a dry run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DryRun {
    pub at: Timestamp,
    pub platform: Platform,
    pub silence_period: u64,
    pub action: DryRunAction,
    /// Why it is skipped or waits (`judge_unsure`, `window_closed`, `follow_up_inactive`,
    /// `judge_failed`, …); `None` for a send, a stop or an `ai` delay's wait.
    pub reason: Option<&'static str>,
    /// A log-safe detail for the reason (the judge's unsure kind, the template's state).
    pub detail: Option<String>,
    pub wait_until: Option<Timestamp>,
    pub judge: JudgeOutcome,
    pub message: Option<MessagePreview>,
    pub window: WindowState,
    /// `None` when nothing would be sent.
    pub meta_fee: Option<MetaFee>,
}

/// Why a dry run has no answer.
#[derive(Debug, thiserror::Error)]
pub enum DryRunError {
    #[error("no such conversation")]
    ConversationNotFound,
    #[error("no such follow-up")]
    FollowUpNotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn judge_failure_kind(error: &JudgeError) -> &'static str {
    match error {
        JudgeError::Timeout => "timeout",
        JudgeError::Unavailable(_) => "unavailable",
        JudgeError::InvalidAnswer(_) => "invalid_answer",
    }
}

/// Fills `{{1}}`, `{{2}}`, … with the parameters in order.
fn fill_body(body: &str, parameters: &[String]) -> String {
    parameters
        .iter()
        .enumerate()
        .fold(body.to_owned(), |text, (index, value)| {
            text.replace(&format!("{{{{{}}}}}", index + 1), value)
        })
}

impl Services {
    /// What would happen if `follow_up` came due in `conversation` now. Writes nothing.
    pub async fn dry_run(
        &self,
        chatbot: &ChatbotId,
        conversation_id: &ConversationId,
        follow_up_id: &FollowUpId,
    ) -> Result<DryRun, DryRunError> {
        let conversation = self
            .store
            .get_conversation(chatbot, conversation_id)
            .await?
            .ok_or(DryRunError::ConversationNotFound)?;
        let follow_up = self
            .store
            .get_follow_up(chatbot, follow_up_id)
            .await?
            .ok_or(DryRunError::FollowUpNotFound)?;
        let now = self.clock.now();
        let platform = conversation.id.platform();
        let (account, _) = conversation.id.parts();
        let period = conversation.silence_period;
        let with_template =
            follow_up.config.whatsapp_template.is_some() && platform.supports_templates();
        let last_message = conversation.last_customer_message_at;
        let window = WindowState {
            last_customer_message_at: last_message,
            free_form_until: last_message
                .map(|at| at.plus_minutes(self.policy.latest_free_form_minutes())),
            mode: last_message.map(|at| self.policy.send_mode(platform, at, now, with_template)),
        };
        let mut answer = DryRun {
            at: now,
            platform,
            silence_period: period,
            action: DryRunAction::Skip,
            reason: None,
            detail: None,
            wait_until: None,
            judge: JudgeOutcome::NotAsked,
            message: None,
            window,
            meta_fee: None,
        };
        let has_integration = self
            .store
            .find_integration(platform, account)
            .await?
            .is_some_and(|i| i.chatbot_id == *chatbot);
        let settled = self
            .store
            .find_delivery(chatbot, conversation_id, follow_up_id, period)
            .await?
            .is_some_and(|d| d.status.is_final());
        let facts = DueFacts {
            due_period: period,
            conversation: &conversation,
            follow_up: Some(&follow_up),
            already_settled: settled,
            has_integration,
        };
        if let PreCheck::Drop(reason) = pre_check(&facts) {
            answer.reason = Some(reason.as_str());
            return Ok(answer);
        }
        let Some(last_message) = last_message else {
            answer.reason = Some("no_customer_message");
            return Ok(answer);
        };
        let request = JudgeRequest {
            platform,
            follow_up: follow_up.config.clone(),
            transcript: self.store.transcript(chatbot, conversation_id).await?,
            last_customer_message: last_message,
            now,
            latest_send_at: last_message.plus_minutes(self.policy.latest_free_form_minutes()),
            max_text_chars: platform.max_text_chars(),
        };
        let judged = tokio::time::timeout(DRY_RUN_JUDGE_LIMIT, self.judge.assess(&request))
            .await
            .unwrap_or(Err(JudgeError::Timeout));
        let verdict = match judged {
            Ok(verdict) => verdict,
            Err(error) => {
                // The sender asks again after its first backoff while the window allows it.
                let retry_at = now.plus_minutes(JUDGE_RETRY_FIRST_MINUTES);
                let retry_allowed = JUDGE_MAX_ATTEMPTS > 1
                    && self
                        .policy
                        .send_mode(platform, last_message, retry_at, with_template)
                        != SendMode::WindowClosed;
                answer.judge = JudgeOutcome::Failed(judge_failure_kind(&error));
                answer.reason = Some(SkipReason::JudgeFailed.as_str());
                if retry_allowed {
                    answer.action = DryRunAction::Wait;
                    answer.wait_until = Some(retry_at);
                }
                return Ok(answer);
            }
        };
        let assessment = Assessment {
            stop_trigger_met: verdict.stop_trigger_met,
            description_applies: verdict.description_applies,
            wait_until: verdict.wait_until.filter(|_| request.decides_timing()),
            message_text: verdict
                .message_text
                .clone()
                .filter(|_| request.writes_text()),
            unsure: verdict.unsure.is_some(),
        };
        answer.detail = verdict.unsure.clone();
        answer.judge = JudgeOutcome::Verdict(Box::new(verdict));
        match decide(
            &follow_up,
            platform,
            last_message,
            now,
            self.policy,
            &assessment,
        ) {
            SendDecision::StopConversation => answer.action = DryRunAction::Stop,
            SendDecision::Skip(reason) => answer.reason = Some(reason.as_str()),
            SendDecision::WaitUntil(until) => {
                answer.action = DryRunAction::Wait;
                answer.wait_until = Some(until);
            }
            SendDecision::Send(Outgoing::Text(text)) => {
                answer.action = DryRunAction::Send;
                answer.message = Some(MessagePreview::Text(text));
                answer.meta_fee = Some(MetaFee::Free);
            }
            SendDecision::Send(Outgoing::Template(template)) => {
                let catalogue = self.usable_catalogue(chatbot).await?;
                let found = find_in_catalogue(&template, &catalogue.templates);
                let parameters = resolve_parameters(&template, &conversation);
                let category = found.and_then(|t| t.category);
                let preview = MessagePreview::Template {
                    name: template.name.as_str().to_owned(),
                    language: template.language.as_str().to_owned(),
                    body: found
                        .and_then(|t| t.body_text.as_deref())
                        .map(|body| fill_body(body, &parameters)),
                    parameters,
                    category,
                };
                answer.message = Some(preview);
                match sendable_now(&template, &catalogue.templates) {
                    Ok(()) => {
                        answer.action = DryRunAction::Send;
                        answer.meta_fee = Some(MetaFee::Template(category));
                    }
                    Err(problem) => {
                        answer.reason = Some(SkipReason::TemplateNotApproved.as_str());
                        answer.detail = Some(problem.detail());
                    }
                }
            }
        }
        tracing::info!(chatbot = %chatbot, follow_up = %follow_up_id, action = answer.action.as_str(), reason = answer.reason.unwrap_or(""), "dry run");
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::fill_body;

    #[test]
    fn when_a_body_has_placeholders_then_each_is_filled_in_order() {
        let filled = fill_body(
            "Hi {{1}}, your {{2}} is waiting. {{1}}!",
            &["Ana".into(), "cart".into()],
        );
        assert_eq!(filled, "Hi Ana, your cart is waiting. Ana!");
    }
}

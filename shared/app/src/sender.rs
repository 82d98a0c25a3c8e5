//! The sender: what happens when a follow-up comes due. Cheap checks first, then a claim
//! (so concurrent or repeated deliveries of the same item judge and send at most once),
//! then one judge call, then the window, then one send. Every outcome is logged in the
//! conversation with its reason.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use followup_domain::{
    Assessment, CancelReason, Conversation, DropReason, DueFacts, FollowUp, LogEntry, LogEvent,
    Outgoing, PreCheck, SendDecision, SkipReason, TemplateParameter, Timestamp, decide, pre_check,
};
use followup_ports::{
    Claim, DeliveryStatus, DeliveryUpdate, DueHandler, DueItem, DueKey, Integration, JudgeRequest,
    OutboundBody, OutboundMessage, SendError,
};

use crate::{ServiceError, Services};

/// The first wait after a failed judge call; each further failure doubles it.
pub const JUDGE_RETRY_FIRST_MINUTES: u32 = 5;
/// The longest wait between two judge attempts.
pub const JUDGE_RETRY_MAX_MINUTES: u32 = 120;
/// Judge attempts per due item (each one already retried inside the adapter) before the
/// follow-up is skipped as `judge_failed`.
pub const JUDGE_MAX_ATTEMPTS: u32 = 5;

/// Stands in for a customer's profile name that Meta did not send, so a template with a
/// `profile_name` parameter can still go out.
pub const PROFILE_NAME_FALLBACK: &str = "there";

/// What became of one due item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Dropped(DropReason),
    /// Another delivery of the same item holds or settled the claim.
    Duplicate,
    Skipped(SkipReason),
    Stopped,
    Waiting(Timestamp),
    Sent,
    Failed,
    OutcomeUnknown,
}

/// The due handler that sends (used by the embedded scheduler and the sender Lambda).
#[derive(Debug, Clone)]
pub struct SendDue(pub Arc<Services>);

#[async_trait]
impl DueHandler for SendDue {
    async fn on_due(&self, item: DueItem) -> Result<(), String> {
        self.0
            .send_due(&item)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// A template's parameters as they are sent to this conversation's customer.
pub(crate) fn resolve_parameters(
    template: &followup_domain::WhatsAppTemplate,
    conversation: &Conversation,
) -> Vec<String> {
    template
        .parameters
        .iter()
        .map(|p| match p {
            TemplateParameter::Text { text } => text.as_str().to_owned(),
            TemplateParameter::ProfileName => conversation
                .profile_name
                .clone()
                .unwrap_or_else(|| PROFILE_NAME_FALLBACK.to_owned()),
        })
        .collect()
}

fn new_delivery_id() -> String {
    format!("dlv_{}", uuid::Uuid::now_v7().simple())
}

impl Services {
    fn entry(&self, event: LogEvent) -> Vec<LogEntry> {
        vec![LogEntry {
            at: self.clock.now(),
            event,
        }]
    }

    /// Handles one due item with no deadline but the claim's lease (the local engine).
    pub async fn send_due(&self, item: &DueItem) -> Result<SendOutcome, ServiceError> {
        self.send_due_by(item, None).await
    }

    /// What is left of the time until `deadline`.
    fn time_left(&self, deadline: Timestamp) -> Duration {
        let left = deadline
            .as_millis()
            .saturating_sub(self.clock.now().as_millis());
        Duration::from_millis(u64::try_from(left).unwrap_or(0))
    }

    /// Handles one due item. `Err` means "deliver it again later" (store or scheduler
    /// unavailable, Meta throttled us, another sender holds the claim, or too little time
    /// is left); everything else is settled and logged. `deadline` is when the caller's
    /// invocation ends (a Lambda's deadline): an item whose worst case does not fit before
    /// it is not claimed, and no Graph call starts that could not finish before it or the
    /// claim's lease, whichever ends first.
    pub async fn send_due_by(
        &self,
        item: &DueItem,
        deadline: Option<Timestamp>,
    ) -> Result<SendOutcome, ServiceError> {
        let key = &item.key;
        let chatbot = &key.chatbot_id;
        let period = item.silence_period;
        let Some(conversation) = self
            .store
            .get_conversation(chatbot, &key.conversation_id)
            .await?
        else {
            tracing::warn!(chatbot = %chatbot, "due item for an unknown conversation dropped");
            return Ok(SendOutcome::Dropped(DropReason::Stale));
        };
        let follow_up = self.store.get_follow_up(chatbot, &key.follow_up_id).await?;
        let (account, customer) = conversation.id.parts();
        let platform = conversation.id.platform();
        let integration = self
            .store
            .find_integration(platform, account)
            .await?
            .filter(|i| i.chatbot_id == *chatbot);
        let existing = self
            .store
            .find_delivery(chatbot, &key.conversation_id, &key.follow_up_id, period)
            .await?;
        let facts = DueFacts {
            due_period: period,
            conversation: &conversation,
            follow_up: follow_up.as_ref(),
            already_settled: existing.as_ref().is_some_and(|d| d.status.is_final()),
            has_integration: integration.is_some(),
        };
        if let PreCheck::Drop(reason) = pre_check(&facts) {
            return self.drop_item(item, reason).await;
        }
        let (Some(follow_up), Some(integration), Some(last_message)) = (
            follow_up,
            integration,
            conversation.last_customer_message_at,
        ) else {
            return self.drop_item(item, DropReason::Stale).await;
        };

        if let Some(deadline) = deadline
            && self.time_left(deadline) < self.budget.item()
        {
            tracing::info!(chatbot = %chatbot, follow_up = %key.follow_up_id, left_ms = self.time_left(deadline).as_millis() as u64, "too little time left in this invocation for the item; not claimed, delivering it again later");
            return Err(ServiceError::OutOfTime {
                stage: "judge and send the item",
            });
        }
        let token = new_delivery_id();
        let claimed_at = self.clock.now();
        let lease_until = Timestamp::from_millis(
            claimed_at
                .as_millis()
                .saturating_add(i64::from(self.claim_lease_seconds) * 1000),
        );
        // The later stages finish before the invocation ends and before the lease does.
        let stages_end = deadline.map_or(lease_until, |d| d.min(lease_until));
        let delivery_id = match self
            .store
            .claim_delivery(
                chatbot,
                &key.conversation_id,
                &key.follow_up_id,
                period,
                &token,
                claimed_at,
                lease_until,
            )
            .await?
        {
            Claim::Claimed(id) => id,
            Claim::TakenOver {
                id,
                attempt_started_at: Some(started),
            } => return self.unknown_after_takeover(item, &id, started).await,
            Claim::TakenOver {
                id,
                attempt_started_at: None,
            } => {
                // Its holder stopped before calling Meta: nothing went out, check again.
                tracing::warn!(chatbot = %chatbot, follow_up = %key.follow_up_id, delivery = %id, "stale claim taken over; its sender stopped before sending");
                id
            }
            Claim::Taken(existing) if existing.status.is_final() => {
                tracing::info!(chatbot = %chatbot, follow_up = %key.follow_up_id, "due item already settled; duplicate delivery ignored");
                return Ok(SendOutcome::Duplicate);
            }
            Claim::Taken(existing) => {
                // Held by a sender that may still be working: never dropped silently,
                // the item comes back and finds it settled, or the lease run out.
                tracing::info!(chatbot = %chatbot, follow_up = %key.follow_up_id, delivery = %existing.id, "due item claimed by another sender; delivering it again later");
                return Err(ServiceError::ClaimHeld);
            }
        };

        let now = self.clock.now();
        let request = JudgeRequest {
            platform,
            follow_up: follow_up.config.clone(),
            transcript: self.store.transcript(chatbot, &key.conversation_id).await?,
            last_customer_message: last_message,
            now,
            latest_send_at: last_message.plus_minutes(self.policy.latest_free_form_minutes()),
            max_text_chars: platform.max_text_chars(),
        };
        let verdict = match self.judge.assess(&request).await {
            Ok(verdict) => verdict,
            Err(error) => {
                return self
                    .judge_failed(item, &delivery_id, &follow_up, &request, &error)
                    .await;
            }
        };
        if let Some(reason) = &verdict.unsure {
            // Only the reason's kind is logged: it names no customer text.
            tracing::info!(chatbot = %chatbot, follow_up = %key.follow_up_id, reason = %reason, "judge unsure; follow-up held");
        }
        let assessment = Assessment {
            stop_trigger_met: verdict.stop_trigger_met,
            description_applies: verdict.description_applies,
            wait_until: verdict.wait_until.filter(|_| request.decides_timing()),
            message_text: verdict.message_text.filter(|_| request.writes_text()),
            unsure: verdict.unsure.is_some(),
        };
        let unsure_detail = verdict.unsure.clone();

        match decide(
            &follow_up,
            platform,
            last_message,
            now,
            self.policy,
            &assessment,
        ) {
            SendDecision::StopConversation => self.stop(item, &delivery_id).await,
            SendDecision::Skip(reason) => self
                .settle(
                    item,
                    &delivery_id,
                    DeliveryStatus::Skipped,
                    Some(match (reason, &unsure_detail) {
                        (SkipReason::JudgeUnsure, Some(why)) => {
                            format!("{}: {why}", reason.as_str())
                        }
                        _ => reason.as_str().to_owned(),
                    }),
                    LogEvent::Skipped {
                        follow_up_id: key.follow_up_id.clone(),
                        silence_period: period,
                        reason,
                    },
                )
                .await
                .map(|()| SendOutcome::Skipped(reason)),
            SendDecision::WaitUntil(until) => self.wait(item, &delivery_id, until, None).await,
            SendDecision::Send(Outgoing::Template(template))
                if let Some(problem) = self.template_problem(chatbot, &template).await? =>
            {
                // Meta would refuse it (or bill a send of a template it may disable): skipped
                // for this silence period, with the template's state in the log.
                let reason = SkipReason::TemplateNotApproved;
                tracing::info!(chatbot = %chatbot, follow_up = %key.follow_up_id, template = template.name.as_str(), problem = %problem.detail(), "template not sendable; follow-up skipped");
                self.settle(
                    item,
                    &delivery_id,
                    DeliveryStatus::Skipped,
                    Some(format!("{}: {}", reason.as_str(), problem.detail())),
                    LogEvent::Skipped {
                        follow_up_id: key.follow_up_id.clone(),
                        silence_period: period,
                        reason,
                    },
                )
                .await
                .map(|()| SendOutcome::Skipped(reason))
            }
            SendDecision::Send(outgoing) => {
                self.deliver(
                    item,
                    &delivery_id,
                    &token,
                    stages_end,
                    &conversation,
                    &follow_up,
                    integration,
                    customer,
                    outgoing,
                )
                .await
            }
        }
    }

    /// A taken-over claim whose sender had started calling Meta: it may have gone out, so
    /// it is never sent again; it ends as outcome unknown, in the log and the statistics.
    async fn unknown_after_takeover(
        &self,
        item: &DueItem,
        delivery_id: &str,
        started: Timestamp,
    ) -> Result<SendOutcome, ServiceError> {
        let key = &item.key;
        tracing::warn!(chatbot = %key.chatbot_id, follow_up = %key.follow_up_id, delivery = delivery_id, started_ms = started.as_millis(), "stale claim taken over after its sender started sending; outcome unknown, not resent");
        self.settle_with(
            item,
            delivery_id,
            DeliveryUpdate {
                status: DeliveryStatus::Unknown,
                sent_as: None,
                template_name: None,
                platform_message_id: None,
                detail: Some(
                    "the sender stopped after it started sending (its claim ran out); \
                     Meta may or may not have the message, so it is not sent again"
                        .into(),
                ),
                at: self.clock.now(),
            },
            LogEvent::OutcomeUnknown {
                follow_up_id: key.follow_up_id.clone(),
                silence_period: item.silence_period,
                delivery_id: delivery_id.to_owned(),
            },
        )
        .await?;
        Ok(SendOutcome::OutcomeUnknown)
    }

    async fn drop_item(
        &self,
        item: &DueItem,
        reason: DropReason,
    ) -> Result<SendOutcome, ServiceError> {
        let key = &item.key;
        let log = self.entry(LogEvent::Dropped {
            follow_up_id: key.follow_up_id.clone(),
            silence_period: item.silence_period,
            reason,
        });
        let settled = self
            .store
            .settle_pending(
                &key.chatbot_id,
                &key.conversation_id,
                &key.follow_up_id,
                item.silence_period,
                log.clone(),
            )
            .await?;
        if !settled && reason != DropReason::Stale {
            self.store
                .append_log(&key.chatbot_id, &key.conversation_id, log)
                .await?;
        }
        tracing::info!(chatbot = %key.chatbot_id, follow_up = %key.follow_up_id, ?reason, "due follow-up dropped");
        Ok(SendOutcome::Dropped(reason))
    }

    async fn settle(
        &self,
        item: &DueItem,
        delivery_id: &str,
        status: DeliveryStatus,
        detail: Option<String>,
        event: LogEvent,
    ) -> Result<(), ServiceError> {
        self.settle_with(
            item,
            delivery_id,
            DeliveryUpdate {
                status,
                sent_as: None,
                template_name: None,
                platform_message_id: None,
                detail,
                at: self.clock.now(),
            },
            event,
        )
        .await
    }

    async fn settle_with(
        &self,
        item: &DueItem,
        delivery_id: &str,
        update: DeliveryUpdate,
        event: LogEvent,
    ) -> Result<(), ServiceError> {
        let kind = event.kind();
        self.store
            .finish_delivery(&item.key.chatbot_id, delivery_id, update, self.entry(event))
            .await?;
        tracing::info!(chatbot = %item.key.chatbot_id, follow_up = %item.key.follow_up_id, delivery = delivery_id, outcome = kind, "due follow-up settled");
        Ok(())
    }

    /// The stop trigger is met: nothing more goes out in this silence period.
    async fn stop(&self, item: &DueItem, delivery_id: &str) -> Result<SendOutcome, ServiceError> {
        let key = &item.key;
        let period = item.silence_period;
        self.store
            .stop_conversation(&key.chatbot_id, &key.conversation_id, period)
            .await?;
        for other in self
            .store
            .pending_follow_ups(&key.chatbot_id, &key.conversation_id)
            .await?
        {
            if other.follow_up_id == key.follow_up_id {
                continue;
            }
            self.scheduler
                .cancel(&DueKey {
                    chatbot_id: key.chatbot_id.clone(),
                    conversation_id: key.conversation_id.clone(),
                    follow_up_id: other.follow_up_id.clone(),
                })
                .await?;
            let log = self.entry(LogEvent::Cancelled {
                follow_up_id: other.follow_up_id.clone(),
                silence_period: other.silence_period,
                reason: CancelReason::StopTriggerMet,
            });
            self.store
                .settle_pending(
                    &key.chatbot_id,
                    &key.conversation_id,
                    &other.follow_up_id,
                    other.silence_period,
                    log,
                )
                .await?;
        }
        self.settle(
            item,
            delivery_id,
            DeliveryStatus::Skipped,
            Some("stop trigger met".into()),
            LogEvent::Stopped {
                follow_up_id: key.follow_up_id.clone(),
                silence_period: period,
            },
        )
        .await?;
        Ok(SendOutcome::Stopped)
    }

    /// The judge could not be asked or its answer failed the contract: nothing is sent on
    /// that. While a later attempt could still send (the window, or a WhatsApp template,
    /// allows it at the retry time) and attempts are left, the item is asked again after
    /// a doubling backoff ([`JUDGE_RETRY_FIRST_MINUTES`], at most
    /// [`JUDGE_MAX_ATTEMPTS`] attempts); then it is skipped as `judge_failed`.
    async fn judge_failed(
        &self,
        item: &DueItem,
        delivery_id: &str,
        follow_up: &FollowUp,
        request: &JudgeRequest,
        error: &followup_ports::JudgeError,
    ) -> Result<SendOutcome, ServiceError> {
        let key = &item.key;
        let failed_attempts = item.judge_attempts.saturating_add(1);
        let backoff = JUDGE_RETRY_FIRST_MINUTES
            .saturating_mul(1 << (failed_attempts - 1).min(6))
            .min(JUDGE_RETRY_MAX_MINUTES);
        let retry_at = request.now.plus_minutes(backoff);
        let with_template =
            follow_up.config.whatsapp_template.is_some() && request.platform.supports_templates();
        let window_allows = self.policy.send_mode(
            request.platform,
            request.last_customer_message,
            retry_at,
            with_template,
        ) != followup_domain::SendMode::WindowClosed;
        if failed_attempts < JUDGE_MAX_ATTEMPTS && window_allows {
            tracing::warn!(chatbot = %key.chatbot_id, follow_up = %key.follow_up_id, %error, failed_attempts, retry_in_minutes = backoff, "judge failed; asking again later");
            return self
                .wait(item, delivery_id, retry_at, Some(failed_attempts))
                .await;
        }
        tracing::warn!(chatbot = %key.chatbot_id, follow_up = %key.follow_up_id, %error, failed_attempts, "judge failed; follow-up skipped");
        self.settle(
            item,
            delivery_id,
            DeliveryStatus::Skipped,
            Some(format!(
                "{}: {error} (after {failed_attempts} attempts)",
                SkipReason::JudgeFailed.as_str()
            )),
            LogEvent::Skipped {
                follow_up_id: key.follow_up_id.clone(),
                silence_period: item.silence_period,
                reason: SkipReason::JudgeFailed,
            },
        )
        .await
        .map(|()| SendOutcome::Skipped(SkipReason::JudgeFailed))
    }

    /// Check again later in the same silence period: an `ai` delay's wait, or a retry
    /// after a judge failure (`judge_retry`: the failed attempts so far).
    async fn wait(
        &self,
        item: &DueItem,
        delivery_id: &str,
        until: Timestamp,
        judge_retry: Option<u32>,
    ) -> Result<SendOutcome, ServiceError> {
        let key = &item.key;
        self.store
            .release_claim(&key.chatbot_id, delivery_id)
            .await?;
        self.scheduler
            .schedule(DueItem {
                key: key.clone(),
                silence_period: item.silence_period,
                due_at: until,
                judge_attempts: judge_retry.unwrap_or(0),
            })
            .await?;
        let log = self.entry(LogEvent::Waiting {
            follow_up_id: key.follow_up_id.clone(),
            silence_period: item.silence_period,
            until,
            judge_retry,
        });
        self.store
            .reschedule_pending(
                &key.chatbot_id,
                &key.conversation_id,
                &key.follow_up_id,
                item.silence_period,
                until,
                log,
            )
            .await?;
        if judge_retry.is_none() {
            tracing::info!(chatbot = %key.chatbot_id, follow_up = %key.follow_up_id, "judge asked to wait");
        }
        Ok(SendOutcome::Waiting(until))
    }

    #[allow(clippy::too_many_arguments)]
    async fn deliver(
        &self,
        item: &DueItem,
        delivery_id: &str,
        token: &str,
        stages_end: Timestamp,
        conversation: &Conversation,
        follow_up: &FollowUp,
        integration: Integration,
        customer: &str,
        outgoing: Outgoing,
    ) -> Result<SendOutcome, ServiceError> {
        let key = &item.key;
        let period = item.silence_period;
        let (body, sent_as, template_name) = match outgoing {
            Outgoing::Text(text) => (OutboundBody::Text(text), "text", None),
            Outgoing::Template(template) => {
                let name = template.name.as_str().to_owned();
                let resolved_parameters = resolve_parameters(&template, conversation);
                (
                    OutboundBody::Template {
                        template,
                        resolved_parameters,
                    },
                    "template",
                    Some(name),
                )
            }
        };
        let message = OutboundMessage {
            platform: integration.platform,
            business_account_id: integration.account_id,
            recipient_id: customer.to_owned(),
            body,
            delivery_id: delivery_id.to_owned(),
            access_token: integration.access_token,
        };
        let update = |status, platform_message_id, detail| DeliveryUpdate {
            status,
            sent_as: Some(sent_as.to_owned()),
            template_name: template_name.clone(),
            platform_message_id,
            detail,
            at: self.clock.now(),
        };
        let follow_up_id = follow_up.id.clone();
        // A Graph call that could outlive the invocation or the lease is not started: a
        // killed call leaves its outcome unknown, a call past the lease could race a
        // sender that took the claim over.
        if self.time_left(stages_end) < self.budget.send_and_settle() {
            self.store
                .release_claim(&key.chatbot_id, delivery_id)
                .await?;
            tracing::warn!(chatbot = %key.chatbot_id, follow_up = %key.follow_up_id, delivery = delivery_id, left_ms = self.time_left(stages_end).as_millis() as u64, "too little time left to call Meta; claim given back, delivering the item again later");
            return Err(ServiceError::OutOfTime { stage: "call Meta" });
        }
        // Durably "about to call Meta" first: if this sender stops from here on, whoever
        // takes the claim over settles it as outcome unknown instead of sending again.
        if !self
            .store
            .start_attempt(&key.chatbot_id, delivery_id, token, self.clock.now())
            .await?
        {
            tracing::warn!(chatbot = %key.chatbot_id, follow_up = %key.follow_up_id, delivery = delivery_id, "claim lost to another sender before sending; not sent by this one");
            return Ok(SendOutcome::Duplicate);
        }
        match self.messenger.send(&message).await {
            Ok(receipt) => {
                self.settle_with(
                    item,
                    delivery_id,
                    update(
                        DeliveryStatus::Sent,
                        Some(receipt.platform_message_id),
                        None,
                    ),
                    LogEvent::Sent {
                        follow_up_id,
                        silence_period: period,
                        delivery_id: delivery_id.to_owned(),
                        sent_as: sent_as.to_owned(),
                    },
                )
                .await?;
                Ok(SendOutcome::Sent)
            }
            Err(
                error @ (SendError::WindowClosed
                | SendError::OptedOut
                | SendError::TemplateNotSendable { .. }),
            ) => {
                // Meta's verdict is final for this silence period: skipped, not retried.
                let reason = match error {
                    SendError::WindowClosed => SkipReason::WindowClosed,
                    SendError::OptedOut => SkipReason::OptedOut,
                    _ => SkipReason::TemplateNotApproved,
                };
                if let SendError::TemplateNotSendable { code } = error {
                    // The catalogue missed a pause or deletion: refresh it to see why.
                    tracing::warn!(chatbot = %key.chatbot_id, follow_up = %key.follow_up_id, code, "Meta refused the template; follow-up skipped");
                }
                self.settle_with(
                    item,
                    delivery_id,
                    update(
                        DeliveryStatus::Skipped,
                        None,
                        Some(format!("{} (Meta)", reason.as_str())),
                    ),
                    LogEvent::Skipped {
                        follow_up_id,
                        silence_period: period,
                        reason,
                    },
                )
                .await?;
                Ok(SendOutcome::Skipped(reason))
            }
            Err(SendError::Throttled) => {
                // Released for the retry: the scheduler (or SQS) delivers the item again.
                self.store
                    .mark_throttled(&key.chatbot_id, delivery_id, self.clock.now())
                    .await?;
                tracing::warn!(chatbot = %key.chatbot_id, follow_up = %key.follow_up_id, "throttled by Meta; will retry");
                Err(ServiceError::Throttled)
            }
            Err(SendError::Unknown(detail)) => {
                self.settle_with(
                    item,
                    delivery_id,
                    update(DeliveryStatus::Unknown, None, Some(detail)),
                    LogEvent::OutcomeUnknown {
                        follow_up_id,
                        silence_period: period,
                        delivery_id: delivery_id.to_owned(),
                    },
                )
                .await?;
                Ok(SendOutcome::OutcomeUnknown)
            }
            Err(error @ (SendError::BadToken | SendError::Rejected { .. })) => {
                if matches!(error, SendError::BadToken) {
                    tracing::error!(chatbot = %key.chatbot_id, platform = %message.platform, "access token rejected by Meta; update the integration");
                }
                let detail = error.to_string();
                self.settle_with(
                    item,
                    delivery_id,
                    update(DeliveryStatus::Failed, None, Some(detail.clone())),
                    LogEvent::Failed {
                        follow_up_id,
                        silence_period: period,
                        delivery_id: delivery_id.to_owned(),
                        error: detail,
                    },
                )
                .await?;
                Ok(SendOutcome::Failed)
            }
        }
    }
}

//! Planning a silence period: cancel what the previous one left pending, schedule every
//! active follow-up from the customer's latest message, log each decision.

use followup_domain::{
    CancelReason, ChatbotId, Conversation, ConversationId, FollowUpFilter, LogEntry, LogEvent,
    plan_silence_period,
};
use followup_ports::{DueItem, DueKey, PendingFollowUp};

use crate::{ServiceError, Services};

/// Planning races a newer customer message at most this often before giving up; the newer
/// message's own planning then covers the conversation.
const PLAN_ATTEMPTS: usize = 3;

impl Services {
    /// Brings the conversation's schedules in line with its current silence period.
    /// Idempotent: schedules have deterministic names, so a retry after a crash replaces
    /// rather than duplicates, and the store commit happens once per period.
    pub(crate) async fn plan_conversation(
        &self,
        chatbot: &ChatbotId,
        mut conversation: Conversation,
    ) -> Result<(), ServiceError> {
        for _ in 0..PLAN_ATTEMPTS {
            if !conversation.needs_planning() {
                return Ok(());
            }
            if self.plan_once(chatbot, &conversation).await? {
                return Ok(());
            }
            // A newer message moved the period while we scheduled: re-plan from the latest
            // state, so our (now stale) schedules are replaced by the current ones.
            match self
                .store
                .get_conversation(chatbot, &conversation.id)
                .await?
            {
                Some(latest) => conversation = latest,
                None => return Ok(()),
            }
        }
        tracing::warn!(chatbot = %chatbot, "planning kept racing newer messages; left to the newest");
        Ok(())
    }

    async fn plan_once(
        &self,
        chatbot: &ChatbotId,
        conversation: &Conversation,
    ) -> Result<bool, ServiceError> {
        let Some(last_message) = conversation.last_customer_message_at else {
            return Ok(true);
        };
        let period = conversation.silence_period;
        let id: &ConversationId = &conversation.id;
        let platform = id.platform();
        let now = self.clock.now();

        let previous = self.store.pending_follow_ups(chatbot, id).await?;
        let active = self
            .store
            .list_follow_ups(
                chatbot,
                FollowUpFilter {
                    active: Some(true),
                    color: None,
                },
            )
            .await?;
        let planned = plan_silence_period(
            &active,
            platform,
            last_message,
            self.policy,
            self.ai_first_check_minutes,
        );

        let key = |follow_up_id| DueKey {
            chatbot_id: chatbot.clone(),
            conversation_id: id.clone(),
            follow_up_id,
        };
        let mut log = Vec::with_capacity(previous.len() + planned.len());
        for old in previous.iter().filter(|p| p.silence_period < period) {
            let replaced = planned.iter().any(|p| p.follow_up_id == old.follow_up_id);
            if !replaced {
                // Replaced ones are overwritten by the schedule below (same name): one call.
                self.scheduler
                    .cancel(&key(old.follow_up_id.clone()))
                    .await?;
            }
            log.push(LogEntry {
                at: now,
                event: LogEvent::Cancelled {
                    follow_up_id: old.follow_up_id.clone(),
                    silence_period: old.silence_period,
                    reason: CancelReason::CustomerReplied,
                },
            });
        }
        let mut pending = Vec::with_capacity(planned.len());
        for item in &planned {
            self.scheduler
                .schedule(DueItem {
                    key: key(item.follow_up_id.clone()),
                    silence_period: period,
                    due_at: item.due_at,
                    judge_attempts: 0,
                })
                .await?;
            tracing::info!(
                chatbot = %chatbot,
                follow_up = %item.follow_up_id,
                platform = %platform,
                silence_period = period,
                effective_minutes = item.effective_minutes,
                clamped = item.clamped,
                "follow-up scheduled"
            );
            pending.push(PendingFollowUp {
                conversation_id: id.clone(),
                follow_up_id: item.follow_up_id.clone(),
                silence_period: period,
                due_at: item.due_at,
            });
            log.push(LogEntry {
                at: now,
                event: LogEvent::Scheduled {
                    follow_up_id: item.follow_up_id.clone(),
                    silence_period: period,
                    due_at: item.due_at,
                    requested_minutes: item.requested_minutes,
                    effective_minutes: item.effective_minutes,
                    clamped: item.clamped,
                    send_as: item.send_as,
                },
            });
        }
        Ok(self
            .store
            .commit_plan(chatbot, id, period, pending, log)
            .await?)
    }
}

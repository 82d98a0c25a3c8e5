//! Deactivating or deleting a follow-up cancels what it still had pending.

use followup_domain::{CancelReason, ChatbotId, FollowUpId, LogEntry, LogEvent};
use followup_ports::DueKey;

use crate::{ServiceError, Services};

impl Services {
    /// Cancels every pending instance of `follow_up`, logging `reason` in each
    /// conversation. Returns how many were cancelled.
    pub async fn cancel_follow_up(
        &self,
        chatbot: &ChatbotId,
        follow_up: &FollowUpId,
        reason: CancelReason,
    ) -> Result<usize, ServiceError> {
        let pending = self.store.pending_for_follow_up(chatbot, follow_up).await?;
        let now = self.clock.now();
        let mut cancelled = 0;
        for item in pending {
            self.scheduler
                .cancel(&DueKey {
                    chatbot_id: chatbot.clone(),
                    conversation_id: item.conversation_id.clone(),
                    follow_up_id: follow_up.clone(),
                })
                .await?;
            let log = vec![LogEntry {
                at: now,
                event: LogEvent::Cancelled {
                    follow_up_id: follow_up.clone(),
                    silence_period: item.silence_period,
                    reason,
                },
            }];
            if self
                .store
                .settle_pending(
                    chatbot,
                    &item.conversation_id,
                    follow_up,
                    item.silence_period,
                    log,
                )
                .await?
            {
                cancelled += 1;
            }
        }
        if cancelled > 0 {
            tracing::info!(chatbot = %chatbot, follow_up = %follow_up, cancelled, ?reason, "pending follow-ups cancelled");
        }
        Ok(cancelled)
    }
}

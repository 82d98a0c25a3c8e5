//! What happens when a scheduled follow-up comes due, until the sender exists: the item is
//! checked for staleness and recorded as due in the conversation log.

use std::sync::Arc;

use async_trait::async_trait;
use followup_domain::{LogEntry, LogEvent};
use followup_ports::{DueHandler, DueItem};

use crate::{ServiceError, Services};

/// Records due items in the conversation log (the sender issue replaces this with sending).
#[derive(Debug, Clone)]
pub struct RecordDue(pub Arc<Services>);

impl Services {
    /// Settles a due item: a stale one (the customer wrote since, or it was cancelled) is
    /// dropped; a current one is logged as due. Idempotent: a redelivery finds nothing
    /// pending and does nothing.
    pub async fn record_due(&self, item: &DueItem) -> Result<bool, ServiceError> {
        let key = &item.key;
        let log = vec![LogEntry {
            at: self.clock.now(),
            event: LogEvent::Due {
                follow_up_id: key.follow_up_id.clone(),
                silence_period: item.silence_period,
            },
        }];
        let settled = self
            .store
            .settle_pending(
                &key.chatbot_id,
                &key.conversation_id,
                &key.follow_up_id,
                item.silence_period,
                log,
            )
            .await?;
        if settled {
            tracing::info!(chatbot = %key.chatbot_id, follow_up = %key.follow_up_id, "follow-up due");
        } else {
            tracing::info!(chatbot = %key.chatbot_id, follow_up = %key.follow_up_id, "stale due item dropped");
        }
        Ok(settled)
    }
}

#[async_trait]
impl DueHandler for RecordDue {
    async fn on_due(&self, item: DueItem) -> Result<(), String> {
        self.0
            .record_due(&item)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

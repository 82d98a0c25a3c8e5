//! Webhook ingestion: parsed Meta events in, durable state and schedules out. Runs on the
//! webhook path, so it makes no LLM call and as few store and scheduler calls as it can:
//! per new customer message one store write to record it, two reads to plan, one
//! schedule call per active follow-up (a replaced schedule needs no separate cancel), and
//! one store write to commit the plan.

use followup_domain::{ConversationId, Platform, Timestamp};
use followup_meta::{
    BusinessEcho, CustomerMessage, DeliveryStatus, InboundEvent, MessageKind, StatusKind,
};
use followup_ports::{DeliveryStatus as Status, InboundMessage};

use crate::{ServiceError, Services};

/// What one webhook delivery contained, for the log line and the tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestSummary {
    /// Customer messages recorded for the first time.
    pub recorded: usize,
    /// Customer messages already recorded (Meta retries and duplicates).
    pub duplicates: usize,
    /// Business messages (echoes) added to transcripts.
    pub echoes: usize,
    /// WhatsApp statuses that moved one of our deliveries forward.
    pub statuses: usize,
    /// Template status and category updates that changed the catalogue.
    pub template_statuses: usize,
    /// Receipts, unreacts, template updates, errors and other events that change nothing.
    pub ignored: usize,
    /// Events for an account no chatbot has connected.
    pub unknown_account: usize,
}

impl IngestSummary {
    /// A template update either changed the catalogue or was ignored (unknown template,
    /// or older than what the catalogue knows).
    fn count_template_update(&mut self, applied: bool) {
        if applied {
            self.template_statuses += 1;
        } else {
            self.ignored += 1;
        }
    }
}

fn kind_name(kind: &MessageKind) -> String {
    match kind {
        MessageKind::Text => "text".to_owned(),
        MessageKind::Media => "media".to_owned(),
        MessageKind::Location => "location".to_owned(),
        MessageKind::Interactive => "interactive".to_owned(),
        MessageKind::QuickReply => "quick_reply".to_owned(),
        MessageKind::Postback => "postback".to_owned(),
        MessageKind::Reaction => "reaction".to_owned(),
        MessageKind::StoryReply => "story_reply".to_owned(),
        MessageKind::Other(other) => {
            format!("other:{}", other.chars().take(40).collect::<String>())
        }
    }
}

impl Services {
    /// Meta's stamp of an event, or the receive time when the stamp cannot be true (see
    /// [`Timestamp::believable`]): a forged or broken stamp must not make due times
    /// unrepresentable, fire follow-ups at once, or hold a conversation's clock for ever.
    fn believed(&self, stamp: Timestamp, platform: Platform, what: &'static str) -> Timestamp {
        let now = self.clock.now();
        stamp.believable(now).unwrap_or_else(|why| {
            tracing::warn!(%platform, event = what, reason = why.as_str(), stamp_ms = stamp.as_millis(), "implausible timestamp from Meta; the receive time is used instead");
            now
        })
    }

    /// Handles every event of one webhook delivery. Returns only after everything is
    /// durable; on an error the caller answers 5xx and Meta redelivers the whole batch,
    /// which is safe because every step is idempotent.
    pub async fn ingest(&self, events: Vec<InboundEvent>) -> Result<IngestSummary, ServiceError> {
        let mut summary = IngestSummary::default();
        for event in events {
            match event {
                InboundEvent::CustomerMessage(message) => {
                    self.customer_message(message, &mut summary).await?
                }
                InboundEvent::BusinessEcho(echo) => self.business_echo(echo, &mut summary).await?,
                InboundEvent::DeliveryStatus(status) => {
                    self.delivery_status(status, &mut summary).await?
                }
                InboundEvent::TemplateStatus(change) => {
                    let applied = self.template_status(&change).await?;
                    summary.count_template_update(applied);
                }
                InboundEvent::TemplateCategory(change) => {
                    let applied = self.template_category(&change).await?;
                    summary.count_template_update(applied);
                }
                InboundEvent::Ignored { .. } => summary.ignored += 1,
            }
        }
        Ok(summary)
    }

    async fn owner(
        &self,
        platform: Platform,
        account_id: &str,
        summary: &mut IngestSummary,
    ) -> Result<Option<followup_domain::ChatbotId>, ServiceError> {
        let integration = self.store.find_integration(platform, account_id).await?;
        if integration.is_none() {
            summary.unknown_account += 1;
            // The account id is the business's, not the customer's: safe to log.
            tracing::info!(%platform, account = account_id, "event for an account no chatbot has connected; ignored");
        }
        Ok(integration.map(|i| i.chatbot_id))
    }

    async fn customer_message(
        &self,
        message: CustomerMessage,
        summary: &mut IngestSummary,
    ) -> Result<(), ServiceError> {
        let Some(chatbot) = self
            .owner(message.platform, &message.business_account_id, summary)
            .await?
        else {
            return Ok(());
        };
        let Ok(conversation) = ConversationId::new(
            message.platform,
            &message.business_account_id,
            &message.customer_id,
        ) else {
            summary.ignored += 1;
            tracing::warn!(platform = %message.platform, "customer message with an unusable id ignored");
            return Ok(());
        };
        let recorded = self
            .store
            .record_customer_message(
                &chatbot,
                &conversation,
                InboundMessage {
                    message_id: message.message_id,
                    sent_at: self.believed(message.sent_at, message.platform, "customer_message"),
                    received_at: self.clock.now(),
                    kind: kind_name(&message.kind),
                    text: message.text,
                    profile_name: message.profile_name,
                },
            )
            .await?;
        if recorded.duplicate {
            summary.duplicates += 1;
        } else {
            summary.recorded += 1;
        }
        // Also after a duplicate: a crash between recording and planning leaves the period
        // unplanned, and Meta's retry must finish the job.
        self.plan_conversation(&chatbot, recorded.conversation)
            .await
    }

    async fn business_echo(
        &self,
        echo: BusinessEcho,
        summary: &mut IngestSummary,
    ) -> Result<(), ServiceError> {
        let Some(chatbot) = self
            .owner(echo.platform, &echo.business_account_id, summary)
            .await?
        else {
            return Ok(());
        };
        let Ok(conversation) =
            ConversationId::new(echo.platform, &echo.business_account_id, &echo.customer_id)
        else {
            summary.ignored += 1;
            return Ok(());
        };
        if self
            .store
            .record_business_message(
                &chatbot,
                &conversation,
                &echo.message_id,
                self.believed(echo.sent_at, echo.platform, "business_echo"),
                echo.text,
            )
            .await?
        {
            summary.echoes += 1;
        }
        Ok(())
    }
}

impl Services {
    /// A WhatsApp status for a message we sent: `biz_opaque_callback_data` carries our
    /// delivery id. Statuses of the business's other messages are ignored.
    async fn delivery_status(
        &self,
        status: DeliveryStatus,
        summary: &mut IngestSummary,
    ) -> Result<(), ServiceError> {
        let Some(delivery_id) = status
            .callback_data
            .as_deref()
            .filter(|d| d.starts_with("dlv_"))
        else {
            summary.ignored += 1;
            return Ok(());
        };
        let mapped = match status.status {
            StatusKind::Sent => Status::Sent,
            StatusKind::Delivered => Status::Delivered,
            StatusKind::Read => Status::Read,
            StatusKind::Failed => Status::Failed,
            StatusKind::Other(_) => {
                summary.ignored += 1;
                return Ok(());
            }
        };
        let Some(chatbot) = self
            .owner(Platform::Whatsapp, &status.business_account_id, summary)
            .await?
        else {
            return Ok(());
        };
        if self
            .store
            .record_delivery_status(
                &chatbot,
                delivery_id,
                mapped,
                self.believed(status.at, Platform::Whatsapp, "delivery_status"),
            )
            .await?
        {
            summary.statuses += 1;
            if mapped == Status::Failed {
                tracing::warn!(chatbot = %chatbot, delivery = delivery_id, codes = ?status.error_codes, "WhatsApp reports a sent follow-up failed");
            }
        } else {
            summary.ignored += 1;
        }
        Ok(())
    }
}

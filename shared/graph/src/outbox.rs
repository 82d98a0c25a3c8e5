//! [`Outbox`]: a [`Messenger`] that sends nothing.
//!
//! It is for running the service without Meta credentials (the local engine) and for
//! tests: every message is recorded in memory and answered with success and a made-up
//! message id `outbox.<n>`. Nothing reaches a customer, nothing is persisted, and the
//! records are lost when the process ends. Like the Graph API client, it refuses a
//! template on Messenger or Instagram, so a bug of that kind shows up locally too.

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use followup_domain::Platform;
use followup_ports::{Messenger, OutboundBody, OutboundMessage, SendError, SendReceipt};

use crate::graph::NOT_SENDABLE;

/// What an [`Outbox`] would have sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxBody {
    Text(String),
    Template {
        name: String,
        language: String,
        parameters: Vec<String>,
    },
}

/// One recorded message. The access token is not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    pub platform: Platform,
    pub business_account_id: String,
    pub recipient_id: String,
    pub body: OutboxBody,
    pub delivery_id: String,
    /// `outbox.1`, `outbox.2`, … in the order of sending.
    pub platform_message_id: String,
}

/// Records messages in memory instead of sending them. See the module docs.
#[derive(Default)]
pub struct Outbox {
    sent: Mutex<Vec<OutboxRecord>>,
}

impl Outbox {
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything recorded so far, oldest first.
    pub fn sent(&self) -> Vec<OutboxRecord> {
        self.records().clone()
    }

    fn records(&self) -> MutexGuard<'_, Vec<OutboxRecord>> {
        // A panic elsewhere while holding the lock cannot leave a half-written record:
        // the only write is one `push`.
        self.sent.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Shows how many messages were recorded, not their text or recipients.
impl fmt::Debug for Outbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("sent", &self.records().len())
            .finish()
    }
}

#[async_trait]
impl Messenger for Outbox {
    async fn send(&self, message: &OutboundMessage) -> Result<SendReceipt, SendError> {
        let platform = message.platform;
        let body = match &message.body {
            OutboundBody::Text(text) => OutboxBody::Text(text.clone()),
            OutboundBody::Template { .. } if !platform.supports_templates() => {
                tracing::error!(%platform, "outbox: refused a template, templates exist only on WhatsApp");
                return Err(SendError::Rejected { code: NOT_SENDABLE });
            }
            OutboundBody::Template {
                template,
                resolved_parameters,
            } => OutboxBody::Template {
                name: template.name.as_str().to_owned(),
                language: template.language.as_str().to_owned(),
                parameters: resolved_parameters.clone(),
            },
        };
        let mut records = self.records();
        let platform_message_id = format!("outbox.{}", records.len() + 1);
        records.push(OutboxRecord {
            platform,
            business_account_id: message.business_account_id.clone(),
            recipient_id: message.recipient_id.clone(),
            body,
            delivery_id: message.delivery_id.clone(),
            platform_message_id: platform_message_id.clone(),
        });
        drop(records);
        tracing::info!(%platform, delivery_id = %message.delivery_id, "outbox: recorded, not sent");
        Ok(SendReceipt {
            platform_message_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use followup_domain::{Secret, WhatsAppTemplate};

    use super::*;

    fn template() -> WhatsAppTemplate {
        serde_json::from_value(serde_json::json!({
            "name": "appointment_reminder",
            "language": "pt_BR",
            "parameters": [{"type": "text", "text": "Tuesday"}]
        }))
        .expect("valid template")
    }

    fn message(platform: Platform, body: OutboundBody) -> OutboundMessage {
        OutboundMessage {
            platform,
            business_account_id: "106540352242922".to_owned(),
            recipient_id: "5511999990000".to_owned(),
            body,
            delivery_id: "dlv-1".to_owned(),
            access_token: Secret::new("EAAG-outbox-secret"),
        }
    }

    #[tokio::test]
    async fn when_messages_are_sent_then_each_is_recorded_with_a_synthetic_id() {
        let outbox = Outbox::new();
        let first = outbox
            .send(&message(
                Platform::Messenger,
                OutboundBody::Text("hello".to_owned()),
            ))
            .await
            .expect("recorded");
        let second = outbox
            .send(&message(
                Platform::Whatsapp,
                OutboundBody::Template {
                    template: template(),
                    resolved_parameters: vec!["Tuesday".to_owned()],
                },
            ))
            .await
            .expect("recorded");
        assert_eq!(first.platform_message_id, "outbox.1");
        assert_eq!(second.platform_message_id, "outbox.2");
        let sent = outbox.sent();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].body, OutboxBody::Text("hello".to_owned()));
        assert_eq!(sent[0].platform, Platform::Messenger);
        assert_eq!(sent[0].delivery_id, "dlv-1");
        assert_eq!(sent[0].recipient_id, "5511999990000");
        assert_eq!(sent[0].business_account_id, "106540352242922");
        assert_eq!(
            sent[1].body,
            OutboxBody::Template {
                name: "appointment_reminder".to_owned(),
                language: "pt_BR".to_owned(),
                parameters: vec!["Tuesday".to_owned()],
            }
        );
    }

    #[tokio::test]
    async fn when_a_template_goes_to_instagram_then_it_is_rejected_and_not_recorded() {
        let outbox = Outbox::new();
        let result = outbox
            .send(&message(
                Platform::Instagram,
                OutboundBody::Template {
                    template: template(),
                    resolved_parameters: vec![],
                },
            ))
            .await;
        assert!(matches!(result, Err(SendError::Rejected { code: 0 })));
        assert!(outbox.sent().is_empty());
    }

    #[tokio::test]
    async fn when_debug_printed_then_only_the_count_shows_and_records_hold_no_token() {
        let outbox = Outbox::new();
        outbox
            .send(&message(
                Platform::Whatsapp,
                OutboundBody::Text("private words".to_owned()),
            ))
            .await
            .expect("recorded");
        assert_eq!(format!("{outbox:?}"), "Outbox { sent: 1 }");
        assert!(!format!("{:?}", outbox.sent()).contains("EAAG-outbox-secret"));
    }
}

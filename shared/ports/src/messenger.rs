use async_trait::async_trait;
use followup_domain::{Platform, Secret, WhatsAppTemplate};

/// What to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboundBody {
    /// Free-form text; only inside the 24 h window.
    Text(String),
    /// A WhatsApp template, with placeholders already resolved to text.
    Template {
        template: WhatsAppTemplate,
        resolved_parameters: Vec<String>,
    },
}

/// One message to one customer through one business account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMessage {
    pub platform: Platform,
    /// WhatsApp phone number id, or the Facebook page / Instagram account id.
    pub business_account_id: String,
    /// WhatsApp `wa_id`/business-scoped user id, or the PSID/IGSID.
    pub recipient_id: String,
    pub body: OutboundBody,
    /// Our delivery id; on WhatsApp it travels as `biz_opaque_callback_data`.
    pub delivery_id: String,
    /// The integration's access token (sent as a bearer token, never logged).
    pub access_token: Secret,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendReceipt {
    /// Meta's message id (wamid, mid).
    pub platform_message_id: String,
}

/// Meta's error classes, each with its own handling in the sender.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// 131047, 10/2018278: outside the window. Skipped, never retried.
    #[error("outside the messaging window")]
    WindowClosed,
    /// 130429, 131056, 4, 17, 80007, 613: back off and retry.
    #[error("throttled by Meta")]
    Throttled,
    /// 131050: the customer opted out of marketing messages. Skipped.
    #[error("the customer opted out")]
    OptedOut,
    /// 132001, 132015, 132016: the WhatsApp template does not exist (in that language), or
    /// Meta paused or disabled it since the catalogue last heard. Skipped, never retried.
    #[error("the template is not sendable (code {code})")]
    TemplateNotSendable { code: i64 },
    /// 190: the access token is invalid or expired. Surfaced to operators.
    #[error("the access token was rejected")]
    BadToken,
    /// The request left but no answer came back: it may or may not have been sent, so it
    /// is never retried (a customer must not get it twice).
    #[error("outcome unknown: {0}")]
    Unknown(String),
    /// Any other error Meta reported, with its code, for the log.
    #[error("rejected by Meta (code {code})")]
    Rejected { code: i64 },
}

/// Sends through the Graph API, or records into the outbox when running locally.
#[async_trait]
pub trait Messenger: Send + Sync + std::fmt::Debug {
    async fn send(&self, message: &OutboundMessage) -> Result<SendReceipt, SendError>;
}

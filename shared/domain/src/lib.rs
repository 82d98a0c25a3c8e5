//! The pure domain of the follow-up service.
//!
//! Nothing in this crate performs I/O or reads a clock: time is always passed in as a
//! [`Timestamp`]. Every type that leaves a constructor is valid ("parse, don't validate"):
//! a [`FollowUpConfig`] cannot hold a 101-character name or a blank stop trigger.

pub mod conversation;
pub mod followup;
pub mod ids;
pub mod log;
pub mod platform;
pub mod secret;
pub mod send;
pub mod template;
pub mod template_request;
mod text;
pub mod time;
pub mod validation;

pub use conversation::{Conversation, ConversationId, PlannedFollowUp, plan_silence_period};
pub use followup::{
    ConfigWarning, Delay, DelayMinutes, FollowUp, FollowUpConfig, FollowUpDraft, FollowUpFilter,
    LabelColor, MAX_ACTIVE_FOLLOW_UPS, MessageMode, TemplateParameter, WhatsAppTemplate,
};
pub use ids::{ChatbotId, FollowUpId};
pub use log::{CancelReason, LogEntry, LogEvent};
pub use platform::{DelayPlan, PlannedSend, Platform, SendMode, WindowPolicy};
pub use secret::Secret;
pub use send::{
    Assessment, DropReason, DueFacts, Outgoing, PreCheck, SendDecision, SkipReason, decide,
    pre_check,
};
pub use template::{
    Billing, CatalogueEntry, MessageTemplate, ParameterFormat, TemplateCategory,
    TemplateCategoryChange, TemplateProblem, TemplateStatus, TemplateStatusChange,
};
pub use template_request::{NewButton, NewMessageTemplate, NewTemplateDraft};
pub use time::{Implausible, MAX_CLOCK_SKEW_MINUTES, MAX_WEBHOOK_AGE_MINUTES, Timestamp};
pub use validation::{FieldError, ValidationErrors};

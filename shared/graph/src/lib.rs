//! Outbound adapters to Meta: the two implementations of the [`Messenger`] port and the
//! two of the [`TemplateDirectory`] port.
//!
//! - [`GraphClient`] talks to Meta's Graph API.
//!   - As the [`Messenger`] it sends WhatsApp Cloud API text and template messages, and
//!     Messenger and Instagram text messages inside the 24 h window. It maps Meta's error
//!     codes to [`SendError`] classes, retries only what Meta certainly did not send
//!     (throttling, connections that never opened) and reports anything that may have gone
//!     out as [`SendError::Unknown`], never repeating it.
//!   - As the [`TemplateDirectory`] it lists a WhatsApp Business Account's message
//!     templates (every page, asked from the configured base URL only) and submits new
//!     ones, turning Meta's refusals into field errors of the create request.
//! - [`Outbox`] sends nothing: it records every message in memory and answers success,
//!   for running without Meta credentials (the local engine) and for tests.
//! - [`LocalTemplateDirectory`] is the offline stand-in for Meta's template endpoints the
//!   local engine uses: templates in a JSON file operators may edit (or in memory), created
//!   as `PENDING` and approved by editing the file.
//!
//! None keeps the access token, and none logs message text, template text or recipients.
//!
//! [`Messenger`]: followup_ports::Messenger
//! [`TemplateDirectory`]: followup_ports::TemplateDirectory
//! [`SendError`]: followup_ports::SendError
//! [`SendError::Unknown`]: followup_ports::SendError::Unknown

mod graph;
mod local_templates;
mod outbox;
mod templates;

pub use graph::{GraphClient, GraphConfig, GraphConfigError, NOT_SENDABLE};
pub use local_templates::LocalTemplateDirectory;
pub use outbox::{Outbox, OutboxBody, OutboxRecord};
pub use templates::MAX_PAGES;

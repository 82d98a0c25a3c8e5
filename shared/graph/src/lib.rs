//! Outbound messaging adapters: the two implementations of the [`Messenger`] port.
//!
//! - [`GraphClient`] sends through Meta's Graph API: WhatsApp Cloud API text and
//!   template messages, Messenger and Instagram text messages inside the 24 h window.
//!   It maps Meta's error codes to [`SendError`] classes, retries only what Meta certainly
//!   did not send (throttling, connections that never opened) and reports anything that
//!   may have gone out as [`SendError::Unknown`], never repeating it.
//! - [`Outbox`] sends nothing: it records every message in memory and answers success,
//!   for running without Meta credentials (the local engine) and for tests.
//!
//! Neither keeps the access token, and neither logs message text or recipients.
//!
//! [`Messenger`]: followup_ports::Messenger
//! [`SendError`]: followup_ports::SendError
//! [`SendError::Unknown`]: followup_ports::SendError::Unknown

mod graph;
mod outbox;

pub use graph::{GraphClient, GraphConfig, GraphConfigError, NOT_SENDABLE};
pub use outbox::{Outbox, OutboxBody, OutboxRecord};

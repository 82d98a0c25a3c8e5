//! Meta's webhook at the edge of the follow-up service: WhatsApp Cloud API, Messenger and
//! Instagram Messaging.
//!
//! Pure, like the domain: no I/O, no clock, no logging. The HTTP layer hands in the raw
//! body bytes and the `X-Hub-Signature-256` header; this crate answers whether the body is
//! Meta's ([`verify_signature`]) and what happened in it ([`parse_webhook`]).
//!
//! Texts in the parsed events are what customers wrote: personal data. They are kept for
//! the judge's transcript only; nothing here logs them, and errors never carry them.

pub mod parse;
pub mod signature;

pub use parse::{
    BusinessEcho, CustomerMessage, DeliveryStatus, IgnoreReason, InboundEvent, MessageKind,
    ParseError, StatusKind, parse_webhook,
};
pub use signature::{MalformedSignature, SignatureError, sign, verify_signature};

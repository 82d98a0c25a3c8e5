//! Judge adapters: at send time they decide whether a follow-up still makes sense.
//!
//! Two implementations of [`followup_ports::Judge`]:
//! - [`OpenAiJudge`] ([`openai`]): any OpenAI-compatible chat-completions server (OpenAI,
//!   Azure OpenAI, Ollama, vLLM, llama.cpp) with structured JSON-schema output, per-attempt
//!   timeouts, bounded retries, the transcript delimited as untrusted data and every answer
//!   validated before it becomes a verdict.
//! - [`OfflineJudge`] ([`offline`]): the deterministic default when no model is configured.
//!   It is a multilingual **keyword heuristic, not an LLM** ([`offline::DESCRIPTION`]).
//!
//! [`eval`] measures a judge against the labelled conversations in
//! `tests/fixtures/judge/conversations.json`; the `judge-eval` binary prints the report.
//! [`language`] holds the small text helpers both judges share.
//!
//! Neither judge is given, nor can return, a recipient or a channel: a verdict only says
//! stop or not, applies or not, when, and (for an `ai` message) what.

pub mod bedrock;
pub mod contract;
pub mod eval;
pub mod language;
pub mod model;
pub mod offline;
pub mod openai;

pub use bedrock::{BedrockConfig, BedrockConfigError, BedrockJudge};
pub use offline::OfflineJudge;
pub use openai::{OpenAiConfig, OpenAiConfigError, OpenAiJudge, OutputMode};

#[cfg(test)]
pub(crate) mod test_support;

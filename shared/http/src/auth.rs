//! Who is calling, and which chatbots they may touch.
//!
//! Locally, callers present bearer tokens configured as `token=chatbot1,chatbot2` (or
//! `token=*` for every chatbot). Only SHA-256 digests of the tokens are kept in memory, so
//! a heap dump or a debug print never shows one. On AWS, API Gateway's JWT authorizer
//! verifies the token and the Lambda adapter inserts a [`Caller`] built from its claims
//! into the request extensions; the same [`Caller::authorize`] check then applies.

use std::collections::{HashMap, HashSet};

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use followup_domain::ChatbotId;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// Which chatbots a caller may manage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    AllChatbots,
    Chatbots(HashSet<ChatbotId>),
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub grant: Grant,
}

impl Caller {
    /// 403 unless the caller may manage `chatbot`.
    pub fn authorize(&self, chatbot: &str) -> Result<(), ApiError> {
        let allowed = match &self.grant {
            Grant::AllChatbots => true,
            Grant::Chatbots(set) => ChatbotId::parse(chatbot).is_ok_and(|id| set.contains(&id)),
        };
        if allowed {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                chatbot: chatbot.chars().take(64).collect(),
            })
        }
    }
}

/// The configured bearer tokens, by digest.
#[derive(Clone, Default)]
pub struct ApiTokens {
    by_digest: HashMap<[u8; 32], Grant>,
}

impl std::fmt::Debug for ApiTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiTokens")
            .field("count", &self.by_digest.len())
            .finish()
    }
}

/// Tokens shorter than this are refused at start-up: they could be guessed.
pub const MIN_TOKEN_LEN: usize = 16;

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl ApiTokens {
    /// Parses `token=bot1,bot2;token2=*` (entries separated by `;` or whitespace).
    /// Errors never echo a token.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut tokens = Self::default();
        for (position, entry) in spec
            .split(|c: char| c == ';' || c.is_whitespace())
            .filter(|e| !e.is_empty())
            .enumerate()
        {
            let entry_no = position + 1;
            let (token, chatbots) = entry
                .split_once('=')
                .ok_or_else(|| format!("API token entry {entry_no} is not `token=chatbot,…`"))?;
            if token.len() < MIN_TOKEN_LEN {
                return Err(format!(
                    "API token entry {entry_no} is shorter than {MIN_TOKEN_LEN} characters"
                ));
            }
            let grant = if chatbots == "*" {
                Grant::AllChatbots
            } else {
                let ids = chatbots
                    .split(',')
                    .map(|c| {
                        ChatbotId::parse(c).map_err(|e| {
                            format!("API token entry {entry_no}: chatbot id {}", e.message)
                        })
                    })
                    .collect::<Result<HashSet<_>, _>>()?;
                Grant::Chatbots(ids)
            };
            tokens.insert(token, grant);
        }
        Ok(tokens)
    }

    pub fn insert(&mut self, token: &str, grant: Grant) {
        self.by_digest.insert(digest(token), grant);
    }

    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }

    /// Looks a presented token up by its digest. The map lookup compares digests, not the
    /// secret itself, so its timing reveals nothing useful about any configured token.
    pub fn caller(&self, token: &str) -> Option<Caller> {
        self.by_digest.get(&digest(token)).map(|grant| Caller {
            grant: grant.clone(),
        })
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or(ApiError::Unauthenticated)?;
        state
            .tokens()
            .caller(token)
            .ok_or(ApiError::Unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_tokens_are_configured_then_each_grants_its_chatbots() {
        let tokens =
            ApiTokens::parse("aaaaaaaaaaaaaaaa=bot-a,bot-b; bbbbbbbbbbbbbbbb=*").expect("valid");
        let a = tokens.caller("aaaaaaaaaaaaaaaa").expect("known");
        assert!(a.authorize("bot-a").is_ok());
        assert!(a.authorize("bot-c").is_err());
        assert!(a.authorize("not a valid id").is_err());
        let all = tokens.caller("bbbbbbbbbbbbbbbb").expect("known");
        assert!(all.authorize("anything").is_ok());
        assert!(tokens.caller("cccccccccccccccc").is_none());
    }

    #[test]
    fn when_token_spec_is_bad_then_the_error_names_the_entry_not_the_token() {
        let error = ApiTokens::parse("tiny=bot").unwrap_err();
        assert!(
            error.contains("entry 1") && !error.contains("tiny"),
            "{error}"
        );
        let error = ApiTokens::parse("aaaaaaaaaaaaaaaa=bad/id").unwrap_err();
        assert!(error.contains("entry 1"), "{error}");
        assert!(ApiTokens::parse("aaaaaaaaaaaaaaaa").is_err());
        let debug = format!(
            "{:?}",
            ApiTokens::parse("aaaaaaaaaaaaaaaa=*").expect("valid")
        );
        assert!(!debug.contains("aaaa"), "{debug}");
    }
}

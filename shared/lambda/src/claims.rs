//! The api function's caller comes from API Gateway's JWT authorizer, which has already
//! verified the token: its claims name the chatbots the caller may manage. This layer turns
//! them into the same [`Caller`] the local engine builds from bearer tokens, so the one
//! grant check in the router applies unchanged.

use std::collections::HashSet;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use followup_domain::ChatbotId;
use followup_http::{Caller, Grant};
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

/// Parses a claim value: `*`, a space- or comma-separated list, or a JSON array (API
/// Gateway flattens array claims to `[a b]` or a JSON string depending on the issuer).
pub fn grant_from_claim(raw: &str) -> Option<Grant> {
    let trimmed = raw.trim();
    if trimmed == "*" {
        return Some(Grant::AllChatbots);
    }
    let items: Vec<String> = match serde_json::from_str::<Vec<String>>(trimmed) {
        Ok(list) => list,
        Err(_) => trimmed
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    if items.iter().any(|i| i == "*") {
        return Some(Grant::AllChatbots);
    }
    let ids: HashSet<ChatbotId> = items
        .iter()
        .filter_map(|i| ChatbotId::parse(i).ok())
        .collect();
    (!ids.is_empty()).then_some(Grant::Chatbots(ids))
}

/// The claim to read, set once from `FOLLOWUP_CHATBOTS_CLAIM`.
#[derive(Debug, Clone)]
pub struct ChatbotsClaim(pub String);

/// Axum middleware: inserts a [`Caller`] when the JWT authorizer's claims grant chatbots.
/// Without one the router answers 401 (there are no bearer tokens on Lambda).
pub async fn caller_from_jwt_claims(
    claim: axum::extract::State<ChatbotsClaim>,
    mut request: Request,
    next: Next,
) -> Response {
    let grant = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .and_then(|jwt| jwt.claims.get(&claim.0.0))
            .and_then(|value| grant_from_claim(value)),
        _ => None,
    };
    if let Some(grant) = grant {
        request.extensions_mut().insert(Caller { grant });
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(grant: Option<Grant>) -> Vec<String> {
        match grant {
            Some(Grant::Chatbots(set)) => {
                let mut v: Vec<String> = set.into_iter().map(|c| c.to_string()).collect();
                v.sort();
                v
            }
            Some(Grant::AllChatbots) => vec!["*".into()],
            None => Vec::new(),
        }
    }

    #[test]
    fn when_claims_list_chatbots_in_any_shape_then_the_grant_names_them() {
        assert_eq!(ids(grant_from_claim("clinic shop")), ["clinic", "shop"]);
        assert_eq!(ids(grant_from_claim("clinic,shop")), ["clinic", "shop"]);
        assert_eq!(ids(grant_from_claim("[clinic shop]")), ["clinic", "shop"]);
        assert_eq!(
            ids(grant_from_claim(r#"["clinic","shop"]"#)),
            ["clinic", "shop"]
        );
        assert_eq!(ids(grant_from_claim("*")), ["*"]);
        assert!(grant_from_claim("").is_none());
        assert!(
            grant_from_claim("bad/id").is_none(),
            "invalid ids grant nothing"
        );
    }
}

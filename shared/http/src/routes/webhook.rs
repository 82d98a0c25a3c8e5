//! Meta's webhook: the subscribe handshake and signed event deliveries for WhatsApp,
//! Messenger and Instagram. No bearer token here: Meta proves itself with the app
//! secret's signature over the raw body, checked before anything is parsed.

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use followup_meta::{parse_webhook, verify_signature};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::RouteBuilder;
use crate::error::ApiError;
use crate::state::AppState;

pub const WEBHOOK_PATH: &str = "/v1/webhooks/meta";

/// Meta batches up to 1000 events in one delivery; 1 MiB holds that with room to spare.
pub const WEBHOOK_BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// Meta's challenge is a short number; anything longer is not echoed.
const MAX_CHALLENGE_LEN: usize = 256;

pub(crate) fn routes(builder: RouteBuilder) -> RouteBuilder {
    builder
        .get(WEBHOOK_PATH, verify)
        .post(WEBHOOK_PATH, receive)
}

#[derive(Debug, Deserialize)]
struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` → the challenge, as text.
async fn verify(
    State(state): State<AppState>,
    query: Result<Query<Handshake>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Ok(Query(handshake)) = query else {
        return Err(ApiError::VerificationFailed);
    };
    let expected = state.webhook().verify_token.expose().as_bytes();
    let token_matches = handshake
        .verify_token
        .as_deref()
        .is_some_and(|token| bool::from(token.as_bytes().ct_eq(expected)));
    match (handshake.mode.as_deref(), handshake.challenge) {
        (Some("subscribe"), Some(challenge))
            if token_matches && challenge.len() <= MAX_CHALLENGE_LEN =>
        {
            tracing::info!("Meta webhook subscription verified");
            Ok(([(header::CONTENT_TYPE, "text/plain")], challenge).into_response())
        }
        _ => {
            tracing::warn!("Meta webhook verification refused");
            Err(ApiError::VerificationFailed)
        }
    }
}

/// A signed delivery. 200 only once everything in it is durable, so that Meta redelivers
/// on our failure (5xx) and never sees an error for our success; replays change nothing.
async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let raw = axum::body::to_bytes(body, WEBHOOK_BODY_LIMIT_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)?;
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    verify_signature(
        state.webhook().app_secret.expose().as_bytes(),
        &raw,
        signature,
    )
    .map_err(|error| {
        tracing::warn!(%error, bytes = raw.len(), "webhook refused: bad signature");
        ApiError::BadSignature
    })?;
    // Signed but unparseable means a broken sender; Meta would only redeliver the same
    // bytes, so this is a 400 rather than a retryable error.
    let events = parse_webhook(&raw).map_err(|error| {
        tracing::warn!(%error, "signed webhook body is not a Meta payload");
        ApiError::BadRequest("the body is not a Meta webhook payload".into())
    })?;
    let event_count = events.len();
    let summary = state.services().ingest(events).await?;
    tracing::info!(
        events = event_count,
        recorded = summary.recorded,
        duplicates = summary.duplicates,
        echoes = summary.echoes,
        statuses = summary.statuses,
        ignored = summary.ignored,
        unknown_account = summary.unknown_account,
        "webhook processed"
    );
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain")],
        "EVENT_RECEIVED",
    )
        .into_response())
}

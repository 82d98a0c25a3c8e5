//! Every `/v1/chatbots/{chatbot_id}/…` route starts here: authenticate, check the grant,
//! parse the chatbot id. As an extractor it runs before the body is read, so a caller
//! without access learns nothing from body validation.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use followup_domain::ChatbotId;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The chatbot a request is about, and the other path parameters (still unparsed).
#[derive(Debug)]
pub(crate) struct ChatbotScope(pub ChatbotId, pub HashMap<String, String>);

impl FromRequestParts<AppState> for ChatbotScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| {
                ApiError::BadRequest("the path is not valid UTF-8 after decoding".into())
            })?;
        let raw_chatbot = params.get("chatbot_id").map_or("", String::as_str);
        caller.authorize(raw_chatbot)?;
        // An id that cannot exist is simply not found.
        let chatbot = ChatbotId::parse(raw_chatbot).map_err(|_| ApiError::NotFound)?;
        Ok(Self(chatbot, params))
    }
}

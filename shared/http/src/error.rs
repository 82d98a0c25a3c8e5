//! Every error the HTTP API can return, mapped to a status and an RFC 9457 problem body in
//! this one place. Bodies never carry internal details: store and scheduler failures are
//! logged here and answered with a generic 503.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use followup_domain::{FieldError, ValidationErrors};
use followup_ports::StoreError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("malformed request: {0}")]
    BadRequest(String),
    #[error("missing or invalid bearer token")]
    Unauthenticated,
    #[error("no access to chatbot")]
    Forbidden { chatbot: String },
    #[error("not found")]
    NotFound,
    #[error("no such route")]
    NoSuchRoute,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("webhook signature missing or invalid")]
    BadSignature,
    #[error("webhook verification failed")]
    VerificationFailed,
    #[error("account connected to another chatbot")]
    AccountTaken,
    #[error("active follow-up limit reached")]
    ActiveLimitReached { limit: usize },
    #[error("revision conflict")]
    RevisionConflict { current: u64 },
    #[error("precondition failed")]
    PreconditionFailed { current: u64 },
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("validation failed")]
    Validation(ValidationErrors),
    #[error("no WhatsApp business account connected")]
    NoBusinessAccount,
    #[error("Meta rejected the integration's access token")]
    IntegrationTokenRejected,
    #[error("business account not accessible with the integration's token")]
    BusinessAccountNotAccessible,
    #[error("Meta refused the template")]
    TemplateRejected(Vec<FieldError>),
    #[error("dependency unavailable: {0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal,
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        Self::Validation(ValidationErrors::single(error))
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound,
            StoreError::ActiveLimitReached { limit } => Self::ActiveLimitReached { limit },
            StoreError::RevisionConflict { current } => Self::RevisionConflict { current },
            StoreError::AccountTaken => Self::AccountTaken,
            StoreError::Unavailable(detail) => Self::Unavailable(detail),
        }
    }
}

impl From<followup_app::ServiceError> for ApiError {
    fn from(error: followup_app::ServiceError) -> Self {
        match error {
            followup_app::ServiceError::Store(store) => store.into(),
            followup_app::ServiceError::Scheduler(scheduler) => {
                Self::Unavailable(scheduler.to_string())
            }
            followup_app::ServiceError::Throttled => Self::Unavailable("throttled by Meta".into()),
            followup_app::ServiceError::ClaimHeld => {
                Self::Unavailable("the due item is being sent".into())
            }
            followup_app::ServiceError::OutOfTime { .. } => {
                Self::Unavailable("out of time for this request".into())
            }
        }
    }
}

impl From<followup_app::CatalogueError> for ApiError {
    fn from(error: followup_app::CatalogueError) -> Self {
        use followup_app::CatalogueError;
        use followup_ports::DirectoryError;
        match error {
            CatalogueError::NoBusinessAccount => Self::NoBusinessAccount,
            CatalogueError::AccountAmbiguous(accounts) => FieldError::new(
                "waba_id",
                "required",
                format!(
                    "this chatbot has several WhatsApp Business Accounts; name one of: {}",
                    accounts.join(", ")
                ),
            )
            .into(),
            CatalogueError::UnknownAccount => FieldError::new(
                "waba_id",
                "unknown_account",
                "no WhatsApp integration of this chatbot names this business account",
            )
            .into(),
            CatalogueError::Store(store) => store.into(),
            CatalogueError::Directory { waba_id, error } => match error {
                DirectoryError::Invalid(errors) => Self::TemplateRejected(errors),
                DirectoryError::BadToken => {
                    tracing::warn!(waba = %waba_id, "Meta rejected the integration's token for templates");
                    Self::IntegrationTokenRejected
                }
                DirectoryError::AccountNotAccessible => {
                    tracing::warn!(waba = %waba_id, "business account not accessible with the integration's token");
                    Self::BusinessAccountNotAccessible
                }
                DirectoryError::Throttled => {
                    Self::Unavailable(format!("template directory throttled for {waba_id}"))
                }
                DirectoryError::Unavailable(detail) => {
                    Self::Unavailable(format!("template directory for {waba_id}: {detail}"))
                }
            },
        }
    }
}

/// RFC 9457 problem details. `type` is a relative URI naming the problem kind.
#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl ApiError {
    fn problem(&self) -> Problem {
        let (status, kind, title, detail) = match self {
            Self::BadRequest(detail) => (
                StatusCode::BAD_REQUEST,
                "bad-request",
                "Malformed request",
                detail.clone(),
            ),
            Self::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
                "Send `Authorization: Bearer <token>` with a token configured for this service."
                    .to_owned(),
            ),
            Self::Forbidden { chatbot } => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "No access to this chatbot",
                format!("Your token does not grant access to chatbot `{chatbot}`."),
            ),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                "No such resource for this chatbot.".to_owned(),
            ),
            Self::NoSuchRoute => (
                StatusCode::NOT_FOUND,
                "no-such-route",
                "No such route",
                "See /v1/openapi.json for the routes this API serves.".to_owned(),
            ),
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "See /v1/openapi.json for the methods this route accepts.".to_owned(),
            ),
            Self::BadSignature => (
                StatusCode::UNAUTHORIZED,
                "invalid-signature",
                "Invalid signature",
                "X-Hub-Signature-256 is missing or does not match the body; nothing was recorded."
                    .to_owned(),
            ),
            Self::VerificationFailed => (
                StatusCode::FORBIDDEN,
                "verification-failed",
                "Verification failed",
                "hub.mode must be `subscribe` and hub.verify_token must match.".to_owned(),
            ),
            Self::AccountTaken => (
                StatusCode::CONFLICT,
                "account-taken",
                "Account connected to another chatbot",
                "This platform account is already connected to another chatbot; remove it there first."
                    .to_owned(),
            ),
            Self::ActiveLimitReached { limit } => (
                StatusCode::CONFLICT,
                "active-limit-reached",
                "Active follow-up limit reached",
                format!(
                    "This chatbot already has {limit} active follow-ups, the most allowed. \
                     Deactivate one before activating another; nothing was changed."
                ),
            ),
            Self::RevisionConflict { current } => (
                StatusCode::CONFLICT,
                "revision-conflict",
                "Changed concurrently",
                format!(
                    "The follow-up was changed by another request (now revision {current}); \
                     read it again and retry."
                ),
            ),
            Self::PreconditionFailed { current } => (
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "Revision mismatch",
                format!(
                    "If-Match does not match the current revision ({current}); nothing was changed."
                ),
            ),
            Self::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
                "The request body exceeds the size limit.".to_owned(),
            ),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "Send the body as `Content-Type: application/json`.".to_owned(),
            ),
            Self::Validation(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation-failed",
                "Validation failed",
                format!(
                    "{} field(s) broke a rule; nothing was changed.",
                    errors.0.len()
                ),
            ),
            Self::NoBusinessAccount => (
                StatusCode::CONFLICT,
                "no-business-account",
                "No WhatsApp Business Account connected",
                "Connect a WhatsApp integration with `whatsapp_business_account_id` first; \
                 templates belong to that account."
                    .to_owned(),
            ),
            Self::IntegrationTokenRejected => (
                StatusCode::CONFLICT,
                "integration-token-rejected",
                "Integration token rejected",
                "Meta rejected the access token of the WhatsApp integration; update the \
                 integration's token and retry."
                    .to_owned(),
            ),
            Self::BusinessAccountNotAccessible => (
                StatusCode::CONFLICT,
                "business-account-not-accessible",
                "Business account not accessible",
                "Meta refused access to the WhatsApp Business Account with the integration's \
                 token: check the account id and that the token has \
                 whatsapp_business_management permission."
                    .to_owned(),
            ),
            Self::TemplateRejected(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "template-rejected",
                "Meta refused the template",
                format!(
                    "Meta refused the template ({} error(s)); nothing was created.",
                    errors.len()
                ),
            ),
            Self::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Temporarily unavailable",
                "The service could not complete the request; retry later.".to_owned(),
            ),
            Self::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "Something went wrong on our side; it has been logged.".to_owned(),
            ),
        };
        Problem {
            kind,
            title,
            status: status.as_u16(),
            detail,
            errors: match self {
                Self::Validation(errors) => errors.0.clone(),
                Self::TemplateRejected(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }
}

/// A problem+json response.
pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Unavailable(detail) = &self {
            // The detail (an SDK or SQLite error) is for operators' logs, not for clients.
            tracing::error!(error = %detail, "request failed: dependency unavailable");
        }
        let mut response = problem_response(&self.problem());
        if matches!(self, Self::Unauthenticated) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

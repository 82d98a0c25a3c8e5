//! The one HTTP router of the follow-up service. Handlers are written once and served by
//! `lambda_http` on AWS and by a plain Tokio server in the local engine.

pub mod auth;
mod console;
pub mod error;
pub mod json;
mod routes;
pub mod state;
mod time_format;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::response::Response;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use auth::{ApiTokens, Caller, Grant};
pub use error::ApiError;
pub use routes::meta::OPENAPI_JSON;
pub use state::{AppDeps, AppState, WebhookSecrets};

/// Request bodies of the config API are small; anything bigger is refused with 413.
pub const API_BODY_LIMIT_BYTES: usize = 64 * 1024;

/// The whole service's router.
pub fn router(state: AppState) -> Router {
    let (routes, _) = routes::all_routes().build();
    routes
        // The operators' web console (static files under /console), outside the API's
        // route table and so outside the OpenAPI document.
        .merge(console::router())
        .fallback(|| async { ApiError::NoSuchRoute })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT_BYTES))
        .layer(CatchPanicLayer::custom(|_panic| -> Response {
            // The panic message may contain data; it is logged by the panic hook, not sent.
            tracing::error!("request handler panicked");
            axum::response::IntoResponse::into_response(ApiError::Internal)
        }))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Every (method, path template) the router serves, for the OpenAPI check.
pub fn route_table() -> Vec<(Method, &'static str)> {
    routes::all_routes().build().1
}

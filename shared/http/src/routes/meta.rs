//! Service-level routes: health and the API document.

use axum::Json;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::json;

use super::RouteBuilder;

/// The OpenAPI 3.1 document, kept in the repo at `docs/openapi.json` and compiled in.
pub const OPENAPI_JSON: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/openapi.json"
));

pub(crate) fn routes(builder: RouteBuilder) -> RouteBuilder {
    builder
        .get("/v1/health", health)
        .get("/v1/openapi.json", openapi)
}

async fn health() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}

//! The operators' web console: a small single-page app served under `/console`, its
//! files embedded in the binary (nothing is read from disk or fetched from the internet
//! at run time). It talks to the public `/v1` API with the operator's bearer token, like
//! any other client, so it needs no routes of its own besides its files. The routes are
//! kept out of the API's route table on purpose: they are not part of the OpenAPI document.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::ApiError;

/// One embedded file of the console.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_bytes!(concat!("../../console/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("i18n.js", JS),
    asset!("format.js", JS),
    asset!("views-list.js", JS),
    asset!("views-form.js", JS),
    asset!("views-details.js", JS),
    asset!("views-conversations.js", JS),
    asset!("icon.svg", "image/svg+xml"),
];

/// Only our own files and the API on the same origin; no inline code, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The console's routes, merged into the service's router beside the API.
pub(crate) fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/console", get(redirect_to_slash))
        .route("/console/", get(|| async { serve("index.html") }))
        .route("/console/{file}", get(asset))
}

/// `/console` → `console/`, relative, so it also works behind a path prefix (an API
/// Gateway stage): the page's relative asset and API URLs then resolve under it.
async fn redirect_to_slash() -> Response {
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, HeaderValue::from_static("console/"))],
    )
        .into_response()
}

async fn asset(Path(file): Path<String>) -> Response {
    serve(&file)
}

fn serve(name: &str) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return ApiError::NoSuchRoute.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            // Small files; revalidating each load keeps an upgraded binary's console fresh.
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        ],
        asset.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_listing_the_assets_then_each_name_is_unique_and_not_empty() {
        for (i, asset) in ASSETS.iter().enumerate() {
            assert!(!asset.body.is_empty(), "{} is empty", asset.name);
            assert!(
                ASSETS[i + 1..].iter().all(|other| other.name != asset.name),
                "{} twice",
                asset.name
            );
        }
    }

    #[test]
    fn when_the_index_names_a_script_then_it_is_embedded() {
        let index = std::str::from_utf8(ASSETS[0].body).expect("utf-8");
        assert!(index.contains("src=\"app.js\""));
        for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            let text = std::str::from_utf8(asset.body).expect("utf-8");
            for import in text
                .lines()
                .filter_map(|l| l.split("from './").nth(1))
                .filter_map(|rest| rest.split('\'').next())
            {
                assert!(
                    ASSETS.iter().any(|a| a.name == import),
                    "{} imports {import}, which is not embedded",
                    asset.name
                );
            }
        }
    }
}

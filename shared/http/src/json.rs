//! JSON request bodies with errors a client can act on: 415 without a JSON content type,
//! 413 past the size limit, 400 for broken JSON, 422 with the field's path for JSON of the
//! wrong shape (`delay.minutes: invalid type: string "4", expected i64`).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use followup_domain::FieldError;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A request body that is valid JSON of shape `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Deserializes `bytes` as `T`, turning a shape error into a field error with its path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(&mut deserializer) {
        Ok(value) => Ok(value),
        Err(error) => {
            let path = error.path().to_string();
            let inner = error.into_inner();
            if inner.classify() != serde_json::error::Category::Data {
                return Err(ApiError::BadRequest(format!(
                    "body is not valid JSON: {inner}"
                )));
            }
            Err(field_error_from_serde(&path, &inner.to_string()).into())
        }
    }
}

fn field_error_from_serde(path: &str, message: &str) -> FieldError {
    let base = if path == "." { "" } else { path };
    // serde_path_to_error already ends the path with the unknown key; the message names
    // it too. Use the path, and fall back to the message's name if the path lacks it.
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((name, _)) = rest.split_once('`')
    {
        let field = if base == name || base.ends_with(&format!(".{name}")) {
            base.to_owned()
        } else if base.is_empty() {
            name.to_owned()
        } else {
            format!("{base}.{name}")
        };
        return FieldError::new(field, "unknown_field", "this field is not part of the API");
    }
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned();
    FieldError::new(base, "type", message)
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !is_json(content_type) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::BadRequest("could not read the request body".to_owned())
                }
            })?;
        parse_json(&bytes).map(JsonBody)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_content_type_has_parameters_then_it_still_counts_as_json() {
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json(""));
    }

    #[test]
    fn when_serde_reports_an_unknown_field_then_the_path_names_it() {
        let e = field_error_from_serde("colour", "unknown field `colour`, expected one of `name`");
        assert_eq!((e.field.as_str(), e.rule), ("colour", "unknown_field"));
        let e = field_error_from_serde("delay.days", "unknown field `days`, expected `mode`");
        assert_eq!(e.field, "delay.days");
        let e = field_error_from_serde(".", "unknown field `x`, expected `mode`");
        assert_eq!(e.field, "x");
        let e = field_error_from_serde(
            "delay.minutes",
            "invalid type: string \"4\", expected i64 at line 1 column 9",
        );
        assert_eq!((e.field.as_str(), e.rule), ("delay.minutes", "type"));
        assert!(!e.message.contains("line 1"));
    }
}

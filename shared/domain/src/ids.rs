//! Identifiers. Both are short ASCII tokens, safe in URLs, SQL keys, DynamoDB keys and
//! EventBridge schedule names.

use serde::{Deserialize, Serialize};

use crate::validation::FieldError;

const MAX_ID_LEN: usize = 64;

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

fn parse_id(field: &str, raw: &str) -> Result<String, FieldError> {
    if raw.is_empty() || raw.len() > MAX_ID_LEN || !raw.chars().all(is_id_char) {
        return Err(FieldError::new(
            field,
            "id_format",
            format!("must be 1 to {MAX_ID_LEN} characters of A-Z, a-z, 0-9, '-' or '_'"),
        ));
    }
    Ok(raw.to_owned())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, FieldError> {
                parse_id($field, raw).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(raw: String) -> Result<Self, String> {
                Self::parse(&raw).map_err(|e| e.message)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A chatbot (tenant). Every follow-up, conversation and integration belongs to one.
    ChatbotId,
    "chatbot_id"
);
id_type!(
    /// A follow-up's id, assigned by the service when it is created.
    FollowUpId,
    "follow_up_id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_id_has_url_unsafe_characters_then_it_is_rejected() {
        for bad in ["", "a b", "a/b", "ä", &"x".repeat(65)] {
            assert!(ChatbotId::parse(bad).is_err(), "{bad:?} must be rejected");
        }
        assert!(ChatbotId::parse("dental-clinic_01").is_ok());
        assert!(ChatbotId::parse(&"x".repeat(64)).is_ok());
    }
}

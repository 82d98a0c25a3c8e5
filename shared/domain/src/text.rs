//! Bounded, trimmed text fields. Lengths count Unicode scalar values (characters), never
//! bytes: "Zahnarzttermin – Erinnerung" is as long for the rule as it looks.

use crate::validation::FieldError;

/// Trims `raw` and checks it is non-blank, at most `max_chars` characters and free of
/// control characters (newlines allowed only where `allow_newlines`).
pub(crate) fn bounded_text(
    field: &str,
    raw: &str,
    max_chars: usize,
    allow_newlines: bool,
) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(
            field,
            "not_blank",
            "must contain at least one non-whitespace character",
        ));
    }
    let length = trimmed.chars().count();
    if length > max_chars {
        return Err(FieldError::new(
            field,
            "max_length",
            format!("must be at most {max_chars} characters (got {length})"),
        ));
    }
    let forbidden = |c: char| c.is_control() && !(allow_newlines && (c == '\n' || c == '\t'));
    if trimmed.chars().any(forbidden) {
        return Err(FieldError::new(
            field,
            "no_control_characters",
            if allow_newlines {
                "must not contain control characters other than newlines and tabs"
            } else {
                "must not contain control characters such as newlines"
            },
        ));
    }
    Ok(trimmed.to_owned())
}

/// Declares a validated text newtype that (de)serializes as a plain string and can only
/// be built through its rule.
macro_rules! bounded_text_type {
    ($(#[$doc:meta])* $name:ident, field = $field:literal, max = $max:expr, newlines = $newlines:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, $crate::validation::FieldError> {
                $crate::text::bounded_text($field, raw, $max, $newlines).map(Self)
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

pub(crate) use bounded_text_type;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_text_is_surrounded_by_spaces_then_it_is_trimmed() {
        assert_eq!(bounded_text("f", "  hi  ", 10, false), Ok("hi".to_owned()));
    }

    #[test]
    fn when_text_is_only_whitespace_then_not_blank_is_broken() {
        let error = bounded_text("f", " \t ", 10, false).unwrap_err();
        assert_eq!(error.rule, "not_blank");
    }

    #[test]
    fn when_multibyte_text_is_at_the_limit_then_it_is_accepted() {
        let ten_umlauts = "ü".repeat(10);
        assert_eq!(
            ten_umlauts.len(),
            20,
            "bytes exceed the limit, characters do not"
        );
        assert!(bounded_text("f", &ten_umlauts, 10, false).is_ok());
        assert_eq!(
            bounded_text("f", &"ü".repeat(11), 10, false)
                .unwrap_err()
                .rule,
            "max_length"
        );
    }

    #[test]
    fn when_newline_is_not_allowed_then_control_characters_are_rejected() {
        assert_eq!(
            bounded_text("f", "a\nb", 10, false).unwrap_err().rule,
            "no_control_characters"
        );
        assert!(bounded_text("f", "a\nb", 10, true).is_ok());
        assert!(bounded_text("f", "a\u{7}b", 10, true).is_err());
    }
}

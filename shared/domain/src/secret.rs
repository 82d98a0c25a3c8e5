//! Secrets (access tokens, app secrets): never printed, never serialized.

/// An access token or other secret string. `Debug` shows only that it is set, and it has
/// no `Serialize`, so it cannot end up in a log line or an API response by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that must send it (an Authorization header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_a_secret_is_debug_printed_then_its_value_does_not_appear() {
        let secret = Secret::new("EAAG-very-secret");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(secret.expose(), "EAAG-very-secret");
    }
}

//! Validation errors that name the field (as a JSON path) and the rule it broke.

use serde::Serialize;

/// One broken rule on one field, e.g. `{"field": "name", "rule": "max_length", ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON path of the field in the request, e.g. `whatsapp_template.parameters[1].text`.
    pub field: String,
    /// Stable, machine-readable name of the rule, e.g. `required`, `max_length`.
    pub rule: &'static str,
    /// Human-readable explanation, safe to show to an operator.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, rule: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule,
            message: message.into(),
        }
    }

    pub fn required(field: impl Into<String>) -> Self {
        Self::new(field, "required", "this field is required")
    }

    /// The same error, moved under a parent path (`name` → `whatsapp_template.name`).
    #[must_use]
    pub fn under(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_owned()
        } else if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

/// Every rule a request broke, not just the first one, so a form can mark all fields.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
#[error("{} field(s) failed validation", .0.len())]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn single(error: FieldError) -> Self {
        Self(vec![error])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Keeps the value if valid, records the error otherwise; lets a parser go on
    /// collecting errors from the other fields.
    pub fn collect<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }

    /// `Ok(value)` when nothing was recorded.
    pub fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, Self> {
        if self.0.is_empty() {
            // All parts were collected successfully, so the builder has everything.
            value().ok_or(self)
        } else {
            Err(self)
        }
    }
}

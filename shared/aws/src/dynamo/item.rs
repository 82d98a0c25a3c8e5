//! Explicit conversions between items and values. A malformed item is reported as
//! `Unavailable` (corruption), never read as something else.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use followup_ports::StoreError;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn corrupt(attribute: &str, problem: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!(
        "DynamoDB item with a malformed `{attribute}`: {problem}"
    ))
}

/// Typed reads of an item's attributes.
pub(crate) trait Read {
    fn opt_str(&self, attribute: &str) -> Result<Option<&str>, StoreError>;
    fn opt_i64(&self, attribute: &str) -> Result<Option<i64>, StoreError>;

    fn str(&self, attribute: &str) -> Result<&str, StoreError> {
        self.opt_str(attribute)?
            .ok_or_else(|| corrupt(attribute, "missing"))
    }

    fn i64(&self, attribute: &str) -> Result<i64, StoreError> {
        self.opt_i64(attribute)?
            .ok_or_else(|| corrupt(attribute, "missing"))
    }

    fn opt_u64(&self, attribute: &str) -> Result<Option<u64>, StoreError> {
        self.opt_i64(attribute)?
            .map(|v| u64::try_from(v).map_err(|e| corrupt(attribute, e)))
            .transpose()
    }

    fn u64(&self, attribute: &str) -> Result<u64, StoreError> {
        self.opt_u64(attribute)?
            .ok_or_else(|| corrupt(attribute, "missing"))
    }
}

impl Read for Item {
    fn opt_str(&self, attribute: &str) -> Result<Option<&str>, StoreError> {
        match self.get(attribute) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(value)) => Ok(Some(value)),
            Some(_) => Err(corrupt(attribute, "not a string")),
        }
    }

    fn opt_i64(&self, attribute: &str) -> Result<Option<i64>, StoreError> {
        match self.get(attribute) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::N(value)) => {
                value.parse().map(Some).map_err(|e| corrupt(attribute, e))
            }
            Some(_) => Err(corrupt(attribute, "not a number")),
        }
    }
}

/// Builds an item attribute by attribute; `None` values are left out (absent, not NULL).
#[derive(Debug, Default)]
pub(crate) struct ItemBuilder(Item);

impl ItemBuilder {
    pub fn new(item: Item) -> Self {
        Self(item)
    }

    pub fn with(mut self, attribute: &str, value: AttributeValue) -> Self {
        self.0.insert(attribute.to_owned(), value);
        self
    }

    pub fn with_opt(self, attribute: &str, value: Option<AttributeValue>) -> Self {
        match value {
            Some(value) => self.with(attribute, value),
            None => self,
        }
    }

    pub fn build(self) -> Item {
        self.0
    }
}

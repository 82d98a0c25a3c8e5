//! Condition and update expressions with generated placeholders. Every attribute name goes
//! through a `#n…` placeholder, so reserved words (`status`, `count`, …) and the counter
//! names with `:` in them need no special care, and values never appear in expression text.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

#[derive(Debug, Clone, Default)]
pub(crate) struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    set: Vec<String>,
    remove: Vec<String>,
    add: Vec<String>,
    conditions: Vec<String>,
}

/// What a request needs; empty maps become `None` because DynamoDB refuses empty ones.
pub(crate) struct Parts {
    pub update: Option<String>,
    pub condition: Option<String>,
    pub names: Option<HashMap<String, String>>,
    pub values: Option<HashMap<String, AttributeValue>>,
}

impl Expr {
    /// The placeholder for an attribute name (the same one each time it is asked for).
    pub fn name(&mut self, attribute: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, a)| *a == attribute) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), attribute.to_owned());
        placeholder
    }

    pub fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// `attribute = value`, for a condition.
    pub fn equals(&mut self, attribute: &str, value: AttributeValue) -> String {
        let name = self.name(attribute);
        let value = self.value(value);
        format!("{name} = {value}")
    }

    pub fn absent(&mut self, attribute: &str) -> String {
        format!("attribute_not_exists({})", self.name(attribute))
    }

    /// Adds a condition; all conditions must hold.
    pub fn require(&mut self, condition: String) -> &mut Self {
        self.conditions.push(condition);
        self
    }

    pub fn set(&mut self, attribute: &str, value: AttributeValue) -> &mut Self {
        let clause = format!("{} = {}", self.name(attribute), self.value(value));
        self.set.push(clause);
        self
    }

    /// Sets the attribute only when the item does not have it yet.
    pub fn set_if_absent(&mut self, attribute: &str, value: AttributeValue) -> &mut Self {
        let name = self.name(attribute);
        let clause = format!("{name} = if_not_exists({name}, {})", self.value(value));
        self.set.push(clause);
        self
    }

    /// Sets the attribute, or removes it for `None` (a NULL column in SQLite).
    pub fn set_or_remove(&mut self, attribute: &str, value: Option<AttributeValue>) -> &mut Self {
        match value {
            Some(value) => self.set(attribute, value),
            None => self.remove(attribute),
        }
    }

    pub fn remove(&mut self, attribute: &str) -> &mut Self {
        let name = self.name(attribute);
        self.remove.push(name);
        self
    }

    /// Counts a version attribute up by one (from 1 when absent).
    pub fn bump(&mut self, attribute: &str) -> &mut Self {
        let name = self.name(attribute);
        let zero = self.value(AttributeValue::N("0".to_owned()));
        let one = self.value(AttributeValue::N("1".to_owned()));
        self.set
            .push(format!("{name} = if_not_exists({name}, {zero}) + {one}"));
        self
    }

    /// Adds `delta` to a number attribute (created at `delta` when absent).
    pub fn add(&mut self, attribute: &str, delta: i64) -> &mut Self {
        let clause = format!(
            "{} {}",
            self.name(attribute),
            self.value(AttributeValue::N(delta.to_string()))
        );
        self.add.push(clause);
        self
    }

    pub fn into_parts(self) -> Parts {
        let mut update = Vec::new();
        if !self.set.is_empty() {
            update.push(format!("SET {}", self.set.join(", ")));
        }
        if !self.remove.is_empty() {
            update.push(format!("REMOVE {}", self.remove.join(", ")));
        }
        if !self.add.is_empty() {
            update.push(format!("ADD {}", self.add.join(", ")));
        }
        let condition = match self.conditions.len() {
            0 => None,
            1 => self.conditions.into_iter().next(),
            _ => Some(
                self.conditions
                    .iter()
                    .map(|c| format!("({c})"))
                    .collect::<Vec<_>>()
                    .join(" AND "),
            ),
        };
        Parts {
            update: (!update.is_empty()).then(|| update.join(" ")),
            condition,
            names: (!self.names.is_empty()).then_some(self.names),
            values: (!self.values.is_empty()).then_some(self.values),
        }
    }
}

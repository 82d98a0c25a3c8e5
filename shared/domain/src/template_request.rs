//! A request to create a WhatsApp message template, checked here against Meta's rules
//! before it is submitted, so most mistakes get a field-level answer without a round trip.
//! Meta still reviews the content; its own refusals are passed back by the adapter.

use serde::{Deserialize, Serialize};

use crate::followup::{LanguageCode, TemplateName};
use crate::template::{TemplateCategory, placeholders};
use crate::text::bounded_text;
use crate::validation::{FieldError, ValidationErrors};

/// Meta's limits for the parts of a template.
pub const MAX_BODY_CHARS: usize = 1024;
pub const MAX_HEADER_CHARS: usize = 60;
pub const MAX_FOOTER_CHARS: usize = 60;
pub const MAX_BUTTONS: usize = 10;
pub const MAX_BUTTON_TEXT_CHARS: usize = 25;
pub const MAX_URL_CHARS: usize = 2000;
pub const MAX_EXAMPLE_CHARS: usize = 200;

/// A button of a new template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NewButton {
    QuickReply { text: String },
    Url { text: String, url: String },
    PhoneNumber { text: String, phone_number: String },
}

/// A valid template to submit to Meta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewMessageTemplate {
    pub name: TemplateName,
    pub language: LanguageCode,
    pub category: TemplateCategory,
    pub body_text: String,
    /// One example per body placeholder, in order (Meta requires them for review).
    pub body_examples: Vec<String>,
    pub header_text: Option<String>,
    pub footer_text: Option<String>,
    pub buttons: Vec<NewButton>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTemplateDraft {
    pub name: Option<String>,
    pub language: Option<String>,
    pub category: Option<String>,
    pub body: Option<BodyDraft>,
    pub header: Option<TextPartDraft>,
    pub footer: Option<TextPartDraft>,
    pub buttons: Option<Vec<ButtonDraft>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyDraft {
    pub text: Option<String>,
    pub examples: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextPartDraft {
    pub text: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ButtonDraft {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub text: Option<String>,
    pub url: Option<String>,
    pub phone_number: Option<String>,
}

fn required<'a>(field: &str, value: Option<&'a String>) -> Result<&'a str, FieldError> {
    value
        .map(String::as_str)
        .ok_or_else(|| FieldError::required(field))
}

fn no_placeholders(field: &str, text: &str, part: &str) -> Result<(), FieldError> {
    if text.contains("{{") {
        return Err(FieldError::new(
            field,
            "no_placeholders",
            format!("follow-ups fill body placeholders only; the {part} cannot have one"),
        ));
    }
    Ok(())
}

impl NewTemplateDraft {
    /// Checks every rule; all broken ones are reported, by path.
    pub fn validate(&self) -> Result<NewMessageTemplate, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name =
            errors.collect(required("name", self.name.as_ref()).and_then(TemplateName::parse));
        let language = errors
            .collect(required("language", self.language.as_ref()).and_then(LanguageCode::parse));
        let category = errors.collect(required("category", self.category.as_ref()).and_then(
            |raw| match TemplateCategory::from_meta(raw) {
                Some(c @ (TemplateCategory::Marketing | TemplateCategory::Utility)) => Ok(c),
                _ => Err(FieldError::new(
                    "category",
                    "one_of",
                    "must be MARKETING or UTILITY (authentication templates are not follow-ups)",
                )),
            },
        ));
        let body = match &self.body {
            None => {
                errors.push(FieldError::required("body"));
                None
            }
            Some(body) => body.validate(&mut errors),
        };
        let header_text = self.header.as_ref().and_then(|header| {
            errors.collect(
                required("header.text", header.text.as_ref())
                    .and_then(|t| bounded_text("header.text", t, MAX_HEADER_CHARS, false))
                    .and_then(|t| no_placeholders("header.text", &t, "header").map(|()| t)),
            )
        });
        let footer_text = self.footer.as_ref().and_then(|footer| {
            errors.collect(
                required("footer.text", footer.text.as_ref())
                    .and_then(|t| bounded_text("footer.text", t, MAX_FOOTER_CHARS, false))
                    .and_then(|t| no_placeholders("footer.text", &t, "footer").map(|()| t)),
            )
        });
        let drafts = self.buttons.as_deref().unwrap_or_default();
        if drafts.len() > MAX_BUTTONS {
            errors.push(FieldError::new(
                "buttons",
                "max_items",
                format!("at most {MAX_BUTTONS} buttons"),
            ));
        }
        let buttons: Vec<Option<NewButton>> = drafts
            .iter()
            .enumerate()
            .map(|(i, draft)| {
                errors.collect(
                    draft
                        .validate()
                        .map_err(|e| e.under(&format!("buttons[{i}]"))),
                )
            })
            .collect();
        let (header_present, footer_present) = (self.header.is_some(), self.footer.is_some());
        errors.finish(|| {
            let (body_text, body_examples) = body?;
            Some(NewMessageTemplate {
                name: name?,
                language: language?,
                category: category?,
                body_text,
                body_examples,
                header_text: if header_present {
                    Some(header_text?)
                } else {
                    None
                },
                footer_text: if footer_present {
                    Some(footer_text?)
                } else {
                    None
                },
                buttons: buttons.into_iter().collect::<Option<Vec<_>>>()?,
            })
        })
    }
}

impl BodyDraft {
    fn validate(&self, errors: &mut ValidationErrors) -> Option<(String, Vec<String>)> {
        let text = errors.collect(
            required("body.text", self.text.as_ref())
                .and_then(|t| bounded_text("body.text", t, MAX_BODY_CHARS, true)),
        )?;
        let found = placeholders(&text);
        if !found.named.is_empty() {
            errors.push(FieldError::new(
                "body.text",
                "positional_placeholders",
                "use numbered placeholders ({{1}}, {{2}}, …); follow-ups cannot fill named ones",
            ));
            return None;
        }
        let expected: Vec<u32> = (1..=u32::try_from(found.positional.len()).ok()?).collect();
        if found.positional != expected {
            errors.push(FieldError::new(
                "body.text",
                "sequential_placeholders",
                "placeholders must be numbered from {{1}} without gaps",
            ));
            return None;
        }
        let trimmed = text.trim();
        if !expected.is_empty() && (trimmed.starts_with("{{") || trimmed.ends_with("}}")) {
            errors.push(FieldError::new(
                "body.text",
                "placeholder_at_edge",
                "Meta refuses a body that starts or ends with a placeholder",
            ));
            return None;
        }
        let examples = self.examples.as_deref().unwrap_or_default();
        if examples.len() != expected.len() {
            errors.push(FieldError::new(
                "body.examples",
                "example_count",
                format!(
                    "give one example per placeholder: {} placeholder(s), {} example(s)",
                    expected.len(),
                    examples.len()
                ),
            ));
            return None;
        }
        let mut checked = Vec::with_capacity(examples.len());
        for (i, example) in examples.iter().enumerate() {
            let field = format!("body.examples[{i}]");
            checked.push(errors.collect(bounded_text(
                &field,
                example,
                MAX_EXAMPLE_CHARS,
                false,
            ))?);
        }
        Some((text, checked))
    }
}

impl ButtonDraft {
    fn validate(&self) -> Result<NewButton, FieldError> {
        let text = bounded_text(
            "text",
            required("text", self.text.as_ref())?,
            MAX_BUTTON_TEXT_CHARS,
            false,
        )?;
        match required("type", self.kind.as_ref())? {
            "quick_reply" => Ok(NewButton::QuickReply { text }),
            "url" => {
                let url = required("url", self.url.as_ref())?.trim();
                let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
                if !scheme_ok || url.len() > MAX_URL_CHARS || url.chars().any(char::is_whitespace) {
                    return Err(FieldError::new(
                        "url",
                        "url",
                        format!("must be an http(s) URL of at most {MAX_URL_CHARS} characters"),
                    ));
                }
                no_placeholders("url", url, "button URL")?;
                Ok(NewButton::Url {
                    text,
                    url: url.to_owned(),
                })
            }
            "phone_number" => {
                let phone = required("phone_number", self.phone_number.as_ref())?.trim();
                let digits = phone.strip_prefix('+').unwrap_or("");
                if !(7..=20).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit())
                {
                    return Err(FieldError::new(
                        "phone_number",
                        "phone_number",
                        "must be + and 7 to 20 digits, e.g. +4930123456",
                    ));
                }
                Ok(NewButton::PhoneNumber {
                    text,
                    phone_number: phone.to_owned(),
                })
            }
            _ => Err(FieldError::new(
                "type",
                "one_of",
                "must be quick_reply, url or phone_number",
            )),
        }
    }
}

#[cfg(test)]
#[path = "template_request_tests.rs"]
mod tests;

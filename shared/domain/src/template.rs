//! The WhatsApp template catalogue: Meta's message templates as this service knows them,
//! the rules a follow-up's template must meet against it, what a template send costs, and
//! the request to create a new template.
//!
//! A follow-up names its template by name and language (see [`WhatsAppTemplate`]); the
//! catalogue says whether Meta approved it and how many body placeholders it has. Both are
//! checked when the follow-up is saved and again, for the status, at send time: a template
//! Meta paused or disabled after the save blocks sends past 24 h until it is approved again.

use serde::{Deserialize, Serialize};

use crate::followup::{ConfigWarning, WhatsAppTemplate};
use crate::platform::Platform;
use crate::validation::{FieldError, ValidationErrors};

/// A template's review state, as Meta names it (`APPROVED`, `PAUSED`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TemplateStatus {
    Approved,
    Pending,
    Rejected,
    /// Meta paused it for low quality; it cannot be sent until Meta or the owner unpauses it.
    Paused,
    Disabled,
    InAppeal,
    PendingDeletion,
    Deleted,
    LimitExceeded,
    Archived,
    /// Approved but flagged for low quality: still sendable, Meta disables it if the
    /// quality does not improve.
    Flagged,
    /// A status Meta introduced after this code was written; treated as not sendable.
    Unknown,
}

impl TemplateStatus {
    pub const ALL: [Self; 12] = [
        Self::Approved,
        Self::Pending,
        Self::Rejected,
        Self::Paused,
        Self::Disabled,
        Self::InAppeal,
        Self::PendingDeletion,
        Self::Deleted,
        Self::LimitExceeded,
        Self::Archived,
        Self::Flagged,
        Self::Unknown,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "APPROVED",
            Self::Pending => "PENDING",
            Self::Rejected => "REJECTED",
            Self::Paused => "PAUSED",
            Self::Disabled => "DISABLED",
            Self::InAppeal => "IN_APPEAL",
            Self::PendingDeletion => "PENDING_DELETION",
            Self::Deleted => "DELETED",
            Self::LimitExceeded => "LIMIT_EXCEEDED",
            Self::Archived => "ARCHIVED",
            Self::Flagged => "FLAGGED",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// Meta's status (any case) or status-update event; `REINSTATED` (a paused template
    /// back in use) means approved. Anything unknown is [`Self::Unknown`].
    pub fn from_meta(raw: &str) -> Self {
        let upper = raw.trim().to_ascii_uppercase();
        if upper == "REINSTATED" {
            return Self::Approved;
        }
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == upper)
            .unwrap_or(Self::Unknown)
    }

    /// Whether Meta accepts sends of a template in this state.
    pub const fn is_sendable(self) -> bool {
        matches!(self, Self::Approved | Self::Flagged)
    }
}

impl std::fmt::Display for TemplateStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What Meta bills a template as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TemplateCategory {
    Marketing,
    Utility,
    Authentication,
}

impl TemplateCategory {
    pub const ALL: [Self; 3] = [Self::Marketing, Self::Utility, Self::Authentication];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Marketing => "MARKETING",
            Self::Utility => "UTILITY",
            Self::Authentication => "AUTHENTICATION",
        }
    }

    pub fn from_meta(raw: &str) -> Option<Self> {
        let upper = raw.trim().to_ascii_uppercase();
        Self::ALL.into_iter().find(|c| c.as_str() == upper)
    }

    /// When Meta bills a send of a template of this category (per-message pricing).
    pub const fn billing(self) -> Billing {
        match self {
            Self::Utility => Billing::OutsideCustomerServiceWindow,
            Self::Marketing | Self::Authentication => Billing::Always,
        }
    }
}

impl std::fmt::Display for TemplateCategory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a template send is billed. Free-form messages inside the 24 h customer service
/// window are never billed; this service sends a template only past that window, so every
/// template send a follow-up makes is billed, whatever the category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Billing {
    /// Marketing and authentication templates: every send.
    Always,
    /// Utility templates: sends outside the customer service window (all of a
    /// follow-up's template sends).
    OutsideCustomerServiceWindow,
}

/// How the body's placeholders are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParameterFormat {
    /// `{{1}}`, `{{2}}`, …: the only format follow-ups fill.
    Positional,
    /// `{{first_name}}`: not supported by follow-ups (parameters have no names).
    Named,
}

/// One template of a WhatsApp Business Account, as Meta lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageTemplate {
    /// The WhatsApp Business Account (WABA) it belongs to.
    pub waba_id: String,
    /// Meta's template id.
    pub template_id: String,
    pub name: String,
    pub language: String,
    /// `None` when Meta sent a category this code does not know.
    pub category: Option<TemplateCategory>,
    pub status: TemplateStatus,
    /// Meta's rejection or pause reason (`INVALID_FORMAT`, …), when it gave one.
    pub status_reason: Option<String>,
    pub parameter_format: ParameterFormat,
    /// The body text with its placeholders, for previews.
    pub body_text: Option<String>,
    /// Distinct body placeholders: the parameters a follow-up must configure.
    pub body_parameter_count: usize,
    /// Why a follow-up cannot send it (a media header, header or button placeholders,
    /// named parameters), or `None` when it can.
    pub unsupported: Option<String>,
    /// The components exactly as Meta returned them (JSON), for the API and console.
    pub components_json: String,
}

impl MessageTemplate {
    pub fn matches(&self, name: &str, language: &str) -> bool {
        self.name == name && self.language == language
    }
}

/// A catalogue entry with the time its status was last set (by a refresh or a
/// status-update webhook); older updates never overwrite newer ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueEntry {
    pub template: MessageTemplate,
    pub status_at: crate::time::Timestamp,
}

/// A status change from the `message_template_status_update` webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateStatusChange {
    pub waba_id: String,
    pub template_id: Option<String>,
    pub name: String,
    pub language: String,
    pub status: TemplateStatus,
    /// Meta's reason; `NONE` is stored as no reason.
    pub reason: Option<String>,
    /// When Meta reported it (the entry's `time`).
    pub at: crate::time::Timestamp,
}

/// A completed category change from the `template_category_update` webhook (Meta
/// recategorised the template, which changes what its sends cost).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateCategoryChange {
    pub waba_id: String,
    pub name: String,
    pub language: String,
    pub category: TemplateCategory,
    /// When Meta reported it (the entry's `time`).
    pub at: crate::time::Timestamp,
}

/// What a component of a template looks like, as far as the rules here need it. The Graph
/// adapter reads Meta's JSON into these.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentSummary {
    /// `HEADER`, `BODY`, `FOOTER`, `BUTTONS` (upper case).
    pub kind: String,
    /// Header format: `TEXT`, `IMAGE`, `VIDEO`, `DOCUMENT`, `LOCATION`.
    pub format: Option<String>,
    pub text: Option<String>,
    /// For `BUTTONS`: each button's type and URL (if any).
    pub buttons: Vec<(String, Option<String>)>,
}

/// Placeholders in a text: positional numbers and whether any is named.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placeholders {
    /// Distinct positional placeholder numbers, ascending.
    pub positional: Vec<u32>,
    pub named: Vec<String>,
}

impl Placeholders {
    pub fn count(&self) -> usize {
        self.positional.len() + self.named.len()
    }
}

/// The `{{…}}` placeholders of a template text.
pub fn placeholders(text: &str) -> Placeholders {
    let mut found = Placeholders::default();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let inner = after[..end].trim();
        if let Ok(number) = inner.parse::<u32>() {
            if !found.positional.contains(&number) {
                found.positional.push(number);
            }
        } else if !inner.is_empty()
            && inner
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !found.named.iter().any(|n| n == inner)
        {
            found.named.push(inner.to_owned());
        }
        rest = &after[end + 2..];
    }
    found.positional.sort_unstable();
    found
}

/// What the catalogue records of a template's components: its body text, the number of
/// body parameters, its placeholder format and whether a follow-up can send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentAnalysis {
    pub body_text: Option<String>,
    pub body_parameter_count: usize,
    pub parameter_format: ParameterFormat,
    pub unsupported: Option<String>,
}

/// Follow-ups fill body placeholders only; a template that needs anything else at send
/// time (a media header, a header placeholder, a URL button with a placeholder, named
/// placeholders) is listed but marked unsupported, so saving a follow-up with it is refused
/// instead of every send failing at Meta.
pub fn analyse_components(components: &[ComponentSummary]) -> ComponentAnalysis {
    let mut analysis = ComponentAnalysis {
        body_text: None,
        body_parameter_count: 0,
        parameter_format: ParameterFormat::Positional,
        unsupported: None,
    };
    let mut problems: Vec<&str> = Vec::new();
    for component in components {
        match component.kind.as_str() {
            "BODY" => {
                let text = component.text.clone().unwrap_or_default();
                let found = placeholders(&text);
                if !found.named.is_empty() {
                    analysis.parameter_format = ParameterFormat::Named;
                    problems.push("named body placeholders");
                }
                analysis.body_parameter_count = found.count();
                analysis.body_text = Some(text);
            }
            "HEADER" => match component.format.as_deref().unwrap_or("TEXT") {
                "TEXT" => {
                    if component
                        .text
                        .as_deref()
                        .is_some_and(|t| placeholders(t).count() > 0)
                    {
                        problems.push("a header placeholder");
                    }
                }
                _ => problems.push("a media or location header"),
            },
            "BUTTONS" => {
                if component.buttons.iter().any(|(kind, url)| {
                    kind == "URL" && url.as_deref().is_some_and(|u| placeholders(u).count() > 0)
                }) {
                    problems.push("a URL button with a placeholder");
                }
                if component
                    .buttons
                    .iter()
                    .any(|(kind, _)| matches!(kind.as_str(), "OTP" | "COPY_CODE" | "FLOW"))
                {
                    problems.push("a button that needs a value at send time");
                }
            }
            _ => {}
        }
    }
    if !problems.is_empty() {
        analysis.unsupported = Some(format!(
            "follow-ups fill body placeholders only; this template needs {}",
            problems.join(", ")
        ));
    }
    analysis
}

/// Why a follow-up's template cannot be sent now, for warnings and the send log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateProblem {
    /// No template of that name and language in the chatbot's catalogue.
    NotInCatalogue,
    /// It exists but Meta does not accept sends of it in this state.
    NotApproved {
        status: TemplateStatus,
        reason: Option<String>,
    },
}

impl TemplateProblem {
    /// A short, log-safe detail: `status PAUSED (LOW_QUALITY)`.
    pub fn detail(&self) -> String {
        match self {
            Self::NotInCatalogue => "not in the template catalogue".to_owned(),
            Self::NotApproved {
                status,
                reason: Some(reason),
            } => format!("status {status} ({reason})"),
            Self::NotApproved {
                status,
                reason: None,
            } => format!("status {status}"),
        }
    }
}

/// The catalogue entry a follow-up's template refers to: one with its name and language
/// in any of the chatbot's accounts, preferring a sendable one.
pub fn find_in_catalogue<'a>(
    template: &WhatsAppTemplate,
    catalogue: &'a [MessageTemplate],
) -> Option<&'a MessageTemplate> {
    let mut matching = catalogue
        .iter()
        .filter(|t| t.matches(template.name.as_str(), template.language.as_str()));
    let first = matching.clone().next();
    matching.find(|t| t.status.is_sendable()).or(first)
}

/// Whether the follow-up's template may be sent now, according to the catalogue.
pub fn sendable_now(
    template: &WhatsAppTemplate,
    catalogue: &[MessageTemplate],
) -> Result<(), TemplateProblem> {
    match find_in_catalogue(template, catalogue) {
        None => Err(TemplateProblem::NotInCatalogue),
        Some(found) if found.status.is_sendable() => Ok(()),
        Some(found) => Err(TemplateProblem::NotApproved {
            status: found.status,
            reason: found.status_reason.clone(),
        }),
    }
}

/// The warning a follow-up shows while its template cannot be sent.
pub fn template_warning(
    template: &WhatsAppTemplate,
    catalogue: &[MessageTemplate],
) -> Option<ConfigWarning> {
    let problem = sendable_now(template, catalogue).err()?;
    let (code, what) = match &problem {
        TemplateProblem::NotInCatalogue => (
            "template_not_in_catalogue",
            format!(
                "Template {} ({}) is no longer in the catalogue",
                template.name.as_str(),
                template.language.as_str()
            ),
        ),
        TemplateProblem::NotApproved { .. } => (
            "template_not_approved",
            format!(
                "Template {} ({}) is not approved: {}",
                template.name.as_str(),
                template.language.as_str(),
                problem.detail()
            ),
        ),
    };
    Some(ConfigWarning {
        code,
        field: "whatsapp_template",
        platform: Platform::Whatsapp,
        message: format!(
            "{what}. WhatsApp sends past 24 hours are skipped until Meta approves it again."
        ),
    })
}

/// The checks when a follow-up is saved with a template: it exists in the chatbot's
/// catalogue in that language, Meta approved it, follow-ups can fill it, and the configured
/// parameters match its body placeholders. Paths are under `whatsapp_template`.
pub fn check_against_catalogue(
    template: &WhatsAppTemplate,
    catalogue: &[MessageTemplate],
) -> Result<(), ValidationErrors> {
    let name = template.name.as_str();
    let language = template.language.as_str();
    let same_name: Vec<&MessageTemplate> = catalogue.iter().filter(|t| t.name == name).collect();
    let fail = |field: &str, rule: &'static str, message: String| {
        Err(ValidationErrors::single(
            FieldError::new(field, rule, message).under("whatsapp_template"),
        ))
    };
    if same_name.is_empty() {
        return fail(
            "name",
            "template_not_found",
            format!(
                "no template named `{name}` in the catalogue of this chatbot's WhatsApp \
                 Business Accounts; refresh the catalogue or create the template first"
            ),
        );
    }
    let Some(found) = find_in_catalogue(template, catalogue) else {
        let mut languages: Vec<&str> = same_name.iter().map(|t| t.language.as_str()).collect();
        languages.sort_unstable();
        languages.dedup();
        return fail(
            "language",
            "template_language_not_found",
            format!(
                "template `{name}` has no `{language}` version; it exists in: {}",
                languages.join(", ")
            ),
        );
    };
    if !found.status.is_sendable() {
        let reason = found
            .status_reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        return fail(
            "name",
            "template_not_approved",
            format!(
                "template `{name}` ({language}) is {}{reason}; only approved templates can be \
                 used",
                found.status
            ),
        );
    }
    if let Some(why) = &found.unsupported {
        return fail("name", "template_unsupported", why.clone());
    }
    let configured = template.parameters.len();
    if configured != found.body_parameter_count {
        return fail(
            "parameters",
            "template_parameter_count",
            format!(
                "template `{name}` ({language}) has {} body placeholder(s); {configured} \
                 parameter(s) configured",
                found.body_parameter_count
            ),
        );
    }
    Ok(())
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;

//! The WhatsApp template catalogue: where it is kept ([`TemplateStore`]) and where it comes
//! from ([`TemplateDirectory`]: Meta's Graph API, or a local file when running offline).

use async_trait::async_trait;
use followup_domain::{
    CatalogueEntry, ChatbotId, FieldError, MessageTemplate, NewMessageTemplate, Secret,
    TemplateCategory, TemplateCategoryChange, TemplateStatus, TemplateStatusChange, Timestamp,
};

use crate::store::StoreError;

/// A WhatsApp Business Account whose catalogue a chatbot refreshed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueAccount {
    pub waba_id: String,
    pub synced_at: Timestamp,
}

/// The template catalogue, per WhatsApp Business Account (WABA).
///
/// Templates belong to an account, not to a chatbot; a chatbot reads the catalogues of the
/// accounts it *linked* by a successful refresh or create, that is, with an access token
/// Meta accepted for that account. Naming an account id on an integration alone shows
/// nothing of another tenant's catalogue.
#[async_trait]
pub trait TemplateStore: Send + Sync {
    /// Makes `templates` (Meta's whole list at `synced_at`) the account's catalogue: listed
    /// templates are added or replaced (their status as of `synced_at`), unlisted ones
    /// removed; and links the chatbot to the account.
    async fn replace_catalogue(
        &self,
        chatbot: &ChatbotId,
        waba_id: &str,
        templates: Vec<MessageTemplate>,
        synced_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Adds or replaces one template (one just created) and links the chatbot to its
    /// account.
    async fn put_template(
        &self,
        chatbot: &ChatbotId,
        template: MessageTemplate,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// The accounts the chatbot linked, by id.
    async fn catalogue_accounts(
        &self,
        chatbot: &ChatbotId,
    ) -> Result<Vec<CatalogueAccount>, StoreError>;

    /// Every template of every account the chatbot linked, by name, then language, then
    /// account.
    async fn list_templates(&self, chatbot: &ChatbotId) -> Result<Vec<CatalogueEntry>, StoreError>;

    /// Applies a status change to the template of that account, name and language, unless
    /// its status was set later than `change.at`. False when nothing changed (unknown
    /// template, or an older change).
    async fn record_template_status(
        &self,
        change: &TemplateStatusChange,
    ) -> Result<bool, StoreError>;

    /// Sets the category of the template of that account, name and language, unless the
    /// entry was refreshed or its status set later than `change.at` (the status time is
    /// not moved). False when nothing changed.
    async fn record_template_category(
        &self,
        change: &TemplateCategoryChange,
    ) -> Result<bool, StoreError>;
}

/// What Meta answered to a template creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedTemplate {
    pub template_id: String,
    pub status: TemplateStatus,
    pub category: Option<TemplateCategory>,
    /// The components as submitted, in Meta's JSON shape (what a later list returns).
    pub components_json: String,
}

/// Why the directory could not list or create.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// Meta refused the template; each error names the request field it is about (the
    /// whole request when Meta did not say), with Meta's user-facing message.
    #[error("Meta refused the template")]
    Invalid(Vec<FieldError>),
    /// 190: the integration's access token is invalid or expired.
    #[error("the access token was rejected")]
    BadToken,
    /// 10, 200, 100 on the account itself: the token may not manage this account's
    /// templates, or the account id is wrong.
    #[error("the account is not accessible with this token")]
    AccountNotAccessible,
    #[error("throttled by Meta")]
    Throttled,
    /// No usable answer (network, timeout, 5xx, unreadable body). Log-only detail.
    #[error("template directory unavailable: {0}")]
    Unavailable(String),
}

/// Meta's template endpoints of a WhatsApp Business Account.
#[async_trait]
pub trait TemplateDirectory: Send + Sync + std::fmt::Debug {
    /// Every template of the account, all pages.
    async fn list_templates(
        &self,
        waba_id: &str,
        access_token: &Secret,
    ) -> Result<Vec<MessageTemplate>, DirectoryError>;

    /// Submits a new template for review.
    async fn create_template(
        &self,
        waba_id: &str,
        access_token: &Secret,
        template: &NewMessageTemplate,
    ) -> Result<CreatedTemplate, DirectoryError>;
}

//! The WhatsApp template catalogue: refreshed from Meta on demand, extended by templates
//! created here, kept current by status-update webhooks, and consulted when a follow-up is
//! saved with a template and when a template send is due.
//!
//! A chatbot sees the templates of the WhatsApp Business Accounts (WABAs) named on its
//! current WhatsApp integrations, and only once it has linked them by a refresh or a create
//! made with that integration's token (see [`followup_ports::TemplateStore`]).

use std::collections::BTreeSet;

use followup_domain::template::{check_against_catalogue, sendable_now};
use followup_domain::{
    CatalogueEntry, ChatbotId, MessageTemplate, NewMessageTemplate, Platform,
    TemplateCategoryChange, TemplateProblem, TemplateStatusChange, ValidationErrors,
    WhatsAppTemplate,
};
use followup_ports::{CatalogueAccount, DirectoryError, Integration, StoreError};

use crate::Services;

/// Why a catalogue operation could not be done.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The chatbot has no WhatsApp integration with a business account id.
    #[error("no WhatsApp integration with a business account id")]
    NoBusinessAccount,
    /// Several accounts are connected and the request did not say which one.
    #[error("several business accounts; name one")]
    AccountAmbiguous(Vec<String>),
    /// The named account is not on any of the chatbot's WhatsApp integrations.
    #[error("the business account is not connected to this chatbot")]
    UnknownAccount,
    /// What Meta (or the local directory) answered, for the account it was asked about.
    #[error("template directory: {error}")]
    Directory {
        waba_id: String,
        error: DirectoryError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The catalogue a chatbot sees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalogue {
    pub entries: Vec<CatalogueEntry>,
    /// The connected accounts, with when each was last refreshed (`None`: never).
    pub accounts: Vec<(String, Option<followup_domain::Timestamp>)>,
}

/// The templates a chatbot may use now (of its connected, linked accounts), for the
/// save-time check, a follow-up's warnings and cost, and the send-time check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsableCatalogue {
    pub templates: Vec<MessageTemplate>,
    /// Whether any WhatsApp integration of the chatbot names a business account.
    pub has_business_account: bool,
}

impl UsableCatalogue {
    /// The save-time checks of a follow-up's template: the field errors for a 422.
    pub fn check(&self, template: &WhatsAppTemplate) -> Result<(), ValidationErrors> {
        let mut checked = check_against_catalogue(template, &self.templates);
        if let Err(errors) = &mut checked
            && !self.has_business_account
        {
            // Not a wrong name: there is no catalogue to find it in yet. Say what to do.
            for error in &mut errors.0 {
                error.message = "this chatbot has no WhatsApp integration with a \
                                 `whatsapp_business_account_id` yet: connect one and refresh \
                                 its template catalogue first"
                    .to_owned();
            }
        }
        checked
    }
}

impl Services {
    /// The chatbot's WhatsApp integrations that name a business account, one per account
    /// (the first one's token is used for it).
    async fn business_accounts(
        &self,
        chatbot: &ChatbotId,
    ) -> Result<Vec<(String, Integration)>, StoreError> {
        let mut seen = BTreeSet::new();
        Ok(self
            .store
            .list_integrations(chatbot)
            .await?
            .into_iter()
            .filter(|i| i.platform == Platform::Whatsapp)
            .filter_map(|i| i.waba_id.clone().map(|waba| (waba, i)))
            .filter(|(waba, _)| seen.insert(waba.clone()))
            .collect())
    }

    /// The business accounts named on the chatbot's WhatsApp integrations.
    async fn connected_accounts(&self, chatbot: &ChatbotId) -> Result<Vec<String>, StoreError> {
        Ok(self
            .business_accounts(chatbot)
            .await?
            .into_iter()
            .map(|(waba, _)| waba)
            .collect())
    }

    /// The templates of the `connected` accounts that the chatbot linked.
    async fn linked_entries(
        &self,
        chatbot: &ChatbotId,
        connected: &[String],
    ) -> Result<Vec<CatalogueEntry>, StoreError> {
        if connected.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self
            .store
            .list_templates(chatbot)
            .await?
            .into_iter()
            .filter(|e| connected.contains(&e.template.waba_id))
            .collect())
    }

    /// What the chatbot may read: templates of its connected accounts that it linked, and
    /// when each account was last refreshed.
    pub async fn template_catalogue(&self, chatbot: &ChatbotId) -> Result<Catalogue, StoreError> {
        let connected = self.connected_accounts(chatbot).await?;
        if connected.is_empty() {
            return Ok(Catalogue::default());
        }
        let linked: Vec<CatalogueAccount> = self.store.catalogue_accounts(chatbot).await?;
        let entries = self.linked_entries(chatbot, &connected).await?;
        let accounts = connected
            .into_iter()
            .map(|waba| {
                let synced = linked
                    .iter()
                    .find(|a| a.waba_id == waba)
                    .map(|a| a.synced_at);
                (waba, synced)
            })
            .collect();
        Ok(Catalogue { entries, accounts })
    }

    /// Lists every connected account's templates from the directory and stores them.
    pub async fn refresh_templates(&self, chatbot: &ChatbotId) -> Result<(), CatalogueError> {
        let accounts = self.business_accounts(chatbot).await?;
        if accounts.is_empty() {
            return Err(CatalogueError::NoBusinessAccount);
        }
        for (waba_id, integration) in accounts {
            let templates = self
                .templates
                .list_templates(&waba_id, &integration.access_token)
                .await
                .map_err(|error| CatalogueError::Directory {
                    waba_id: waba_id.clone(),
                    error,
                })?;
            let count = templates.len();
            self.store
                .replace_catalogue(chatbot, &waba_id, templates, self.clock.now())
                .await?;
            tracing::info!(chatbot = %chatbot, waba = %waba_id, templates = count, "template catalogue refreshed");
        }
        Ok(())
    }

    /// Submits a new template for Meta's review and adds it to the catalogue as Meta
    /// answered (usually `PENDING`); the status-update webhook tells when it is approved.
    pub async fn create_template(
        &self,
        chatbot: &ChatbotId,
        waba_id: Option<&str>,
        template: &NewMessageTemplate,
    ) -> Result<CatalogueEntry, CatalogueError> {
        let accounts = self.business_accounts(chatbot).await?;
        let (waba_id, integration) = match waba_id {
            Some(wanted) => accounts
                .into_iter()
                .find(|(waba, _)| waba == wanted)
                .ok_or(CatalogueError::UnknownAccount)?,
            None => {
                let mut accounts = accounts;
                match accounts.len() {
                    0 => return Err(CatalogueError::NoBusinessAccount),
                    1 => accounts.remove(0),
                    _ => {
                        return Err(CatalogueError::AccountAmbiguous(
                            accounts.into_iter().map(|(waba, _)| waba).collect(),
                        ));
                    }
                }
            }
        };
        let created = self
            .templates
            .create_template(&waba_id, &integration.access_token, template)
            .await
            .map_err(|error| CatalogueError::Directory {
                waba_id: waba_id.clone(),
                error,
            })?;
        let stored = MessageTemplate {
            waba_id: waba_id.clone(),
            template_id: created.template_id,
            name: template.name.as_str().to_owned(),
            language: template.language.as_str().to_owned(),
            category: created.category.or(Some(template.category)),
            status: created.status,
            status_reason: None,
            parameter_format: followup_domain::ParameterFormat::Positional,
            body_text: Some(template.body_text.clone()),
            body_parameter_count: template.body_examples.len(),
            // The create request only allows what follow-ups can fill.
            unsupported: None,
            components_json: created.components_json,
        };
        let now = self.clock.now();
        self.store
            .put_template(chatbot, stored.clone(), now)
            .await?;
        tracing::info!(chatbot = %chatbot, waba = %waba_id, status = %stored.status, "template submitted for review");
        Ok(CatalogueEntry {
            template: stored,
            status_at: now,
        })
    }

    /// The templates the chatbot may use, without the per-account refresh times: two store
    /// reads (integrations, catalogue) instead of three, for the save check, a follow-up's
    /// warnings and the send path.
    pub async fn usable_catalogue(
        &self,
        chatbot: &ChatbotId,
    ) -> Result<UsableCatalogue, StoreError> {
        let connected = self.connected_accounts(chatbot).await?;
        Ok(UsableCatalogue {
            has_business_account: !connected.is_empty(),
            templates: self
                .linked_entries(chatbot, &connected)
                .await?
                .into_iter()
                .map(|e| e.template)
                .collect(),
        })
    }

    /// Whether a template send may go out now (checked right before each template send).
    pub(crate) async fn template_problem(
        &self,
        chatbot: &ChatbotId,
        template: &WhatsAppTemplate,
    ) -> Result<Option<TemplateProblem>, StoreError> {
        let catalogue = self.usable_catalogue(chatbot).await?;
        Ok(sendable_now(template, &catalogue.templates).err())
    }

    /// A `message_template_status_update` webhook: applies it unless it is older than what
    /// the catalogue knows. Returns whether anything changed.
    pub(crate) async fn template_status(
        &self,
        change: &TemplateStatusChange,
    ) -> Result<bool, StoreError> {
        let applied = self.store.record_template_status(change).await?;
        // Template names and account ids are the business's, not personal data.
        tracing::info!(
            waba = %change.waba_id,
            template = %change.name,
            language = %change.language,
            status = %change.status,
            reason = change.reason.as_deref().unwrap_or(""),
            applied,
            "template status update"
        );
        Ok(applied)
    }

    /// A completed `template_category_update`: what the template's sends cost changed.
    pub(crate) async fn template_category(
        &self,
        change: &TemplateCategoryChange,
    ) -> Result<bool, StoreError> {
        let applied = self.store.record_template_category(change).await?;
        tracing::info!(
            waba = %change.waba_id,
            template = %change.name,
            language = %change.language,
            category = %change.category,
            applied,
            "template category update"
        );
        Ok(applied)
    }
}

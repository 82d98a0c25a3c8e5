//! The WhatsApp template catalogue: one partition per WhatsApp Business Account
//! (`WABA#{waba}`), one item per template (`TPL#{name}#{language}`), and one link item per
//! account a chatbot linked, in the chatbot's partition (`BOT#{chatbot}` / `WABA#{waba}`).
//!
//! A refresh reads the account's template keys, then writes the new list and deletes the
//! templates Meta no longer lists with BatchWriteItem (25 requests per call), then puts the
//! link. A status webhook is one UpdateItem conditional on the stored status being no newer
//! than the change, so a late, older change never overwrites a newer one.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, WriteRequest};
use followup_domain::{
    CatalogueEntry, ChatbotId, MessageTemplate, ParameterFormat, TemplateCategory,
    TemplateCategoryChange, TemplateStatus, TemplateStatusChange, Timestamp,
};
use followup_ports::{CatalogueAccount, StoreError, TemplateStore};

use super::expr::Expr;
use super::item::{Item, ItemBuilder, Read, corrupt, n, s};
use super::keys::{self, Key, TEMPLATE_LINK_PREFIX, TEMPLATE_PREFIX};
use super::{
    ATTEMPTS, DynamoStore, Query, SortKey, Write, Written, backoff, build_error, contention,
    unavailable,
};

const WABA_ID: &str = "waba_id";
const TEMPLATE_ID: &str = "template_id";
const NAME: &str = "name";
const LANGUAGE: &str = "language";
const CATEGORY: &str = "category";
const STATUS: &str = "status";
const STATUS_REASON: &str = "status_reason";
const PARAMETER_FORMAT: &str = "parameter_format";
const BODY_TEXT: &str = "body_text";
const BODY_PARAMETER_COUNT: &str = "body_parameter_count";
const UNSUPPORTED: &str = "unsupported";
const COMPONENTS_JSON: &str = "components_json";
const STATUS_AT: &str = "status_at";
const SYNCED_AT: &str = "synced_at";

/// BatchWriteItem takes at most 25 requests.
const BATCH_WRITE_LIMIT: usize = 25;

const fn format_str(format: ParameterFormat) -> &'static str {
    match format {
        ParameterFormat::Positional => "positional",
        ParameterFormat::Named => "named",
    }
}

/// The item of `template`, filed under `waba_id`, its status as of `status_at`.
fn to_item(waba_id: &str, template: &MessageTemplate, status_at: Timestamp) -> Item {
    ItemBuilder::new(keys::template(waba_id, &template.name, &template.language).into_item())
        .with(WABA_ID, s(waba_id))
        .with(TEMPLATE_ID, s(&template.template_id))
        .with(NAME, s(&template.name))
        .with(LANGUAGE, s(&template.language))
        .with_opt(CATEGORY, template.category.map(|c| s(c.as_str())))
        .with(STATUS, s(template.status.as_str()))
        .with_opt(STATUS_REASON, template.status_reason.as_deref().map(s))
        .with(PARAMETER_FORMAT, s(format_str(template.parameter_format)))
        .with_opt(BODY_TEXT, template.body_text.as_deref().map(s))
        .with(BODY_PARAMETER_COUNT, n(template.body_parameter_count))
        .with_opt(UNSUPPORTED, template.unsupported.as_deref().map(s))
        .with(COMPONENTS_JSON, s(&template.components_json))
        .with(STATUS_AT, n(status_at.as_millis()))
        .build()
}

fn from_item(item: &Item) -> Result<CatalogueEntry, StoreError> {
    let format = item.str(PARAMETER_FORMAT)?;
    let count = item.u64(BODY_PARAMETER_COUNT)?;
    Ok(CatalogueEntry {
        template: MessageTemplate {
            waba_id: item.str(WABA_ID)?.to_owned(),
            template_id: item.str(TEMPLATE_ID)?.to_owned(),
            name: item.str(NAME)?.to_owned(),
            language: item.str(LANGUAGE)?.to_owned(),
            category: item
                .opt_str(CATEGORY)?
                .and_then(TemplateCategory::from_meta),
            status: TemplateStatus::from_meta(item.str(STATUS)?),
            status_reason: item.opt_str(STATUS_REASON)?.map(str::to_owned),
            parameter_format: match format {
                "positional" => ParameterFormat::Positional,
                "named" => ParameterFormat::Named,
                other => return Err(corrupt(PARAMETER_FORMAT, other)),
            },
            body_text: item.opt_str(BODY_TEXT)?.map(str::to_owned),
            body_parameter_count: usize::try_from(count)
                .map_err(|e| corrupt(BODY_PARAMETER_COUNT, e))?,
            unsupported: item.opt_str(UNSUPPORTED)?.map(str::to_owned),
            components_json: item.str(COMPONENTS_JSON)?.to_owned(),
        },
        status_at: Timestamp::from_millis(item.i64(STATUS_AT)?),
    })
}

fn account_from_item(item: &Item) -> Result<CatalogueAccount, StoreError> {
    Ok(CatalogueAccount {
        waba_id: item.str(WABA_ID)?.to_owned(),
        synced_at: Timestamp::from_millis(item.i64(SYNCED_AT)?),
    })
}

fn put_request(item: Item) -> Result<WriteRequest, StoreError> {
    let put = PutRequest::builder()
        .set_item(Some(item))
        .build()
        .map_err(build_error)?;
    Ok(WriteRequest::builder().put_request(put).build())
}

fn delete_request(key: Key) -> Result<WriteRequest, StoreError> {
    let delete = DeleteRequest::builder()
        .set_key(Some(key.into_item()))
        .build()
        .map_err(build_error)?;
    Ok(WriteRequest::builder().delete_request(delete).build())
}

impl DynamoStore {
    /// Every linked account's item, in the chatbot's partition.
    async fn links(&self, chatbot: &ChatbotId) -> Result<Vec<Item>, StoreError> {
        self.query(Query::table(
            keys::chatbot_pk(chatbot),
            SortKey::BeginsWith(TEMPLATE_LINK_PREFIX.to_owned()),
        ))
        .await
    }

    /// Every template item of the account, all pages.
    async fn account_templates(&self, waba_id: &str) -> Result<Vec<Item>, StoreError> {
        self.query(Query::table(
            keys::waba_pk(waba_id),
            SortKey::BeginsWith(TEMPLATE_PREFIX.to_owned()),
        ))
        .await
    }

    async fn put_link(
        &self,
        chatbot: &ChatbotId,
        waba_id: &str,
        synced_at: Timestamp,
    ) -> Result<(), StoreError> {
        let item = ItemBuilder::new(keys::template_link(chatbot, waba_id).into_item())
            .with("chatbot_id", s(chatbot.as_str()))
            .with(WABA_ID, s(waba_id))
            .with(SYNCED_AT, n(synced_at.as_millis()))
            .build();
        self.put_unconditionally(item).await
    }

    /// Applies `expr` to the template at `key` if it exists and its status was not set
    /// after `at` (a refresh or a later webhook); false otherwise, and nothing changes.
    async fn update_unless_newer(
        &self,
        key: Key,
        mut expr: Expr,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let exists = format!("attribute_exists({})", expr.name(keys::PK));
        let status_at = expr.name(STATUS_AT);
        let at = expr.value(n(at.as_millis()));
        expr.require(format!("{exists} AND {status_at} <= {at}"));
        match self.write_retrying(Write::update(key, expr)).await? {
            Written::Done(_) => Ok(true),
            // Unknown template, or its status set later than the change.
            Written::ConditionFailed(_) => Ok(false),
            Written::Conflict => Err(contention()),
        }
    }

    async fn put_unconditionally(&self, item: Item) -> Result<(), StoreError> {
        match self
            .write_retrying(Write::put(item, Expr::default()))
            .await?
        {
            Written::Done(_) => Ok(()),
            // No condition was given: DynamoDB cannot answer this.
            Written::ConditionFailed(_) => Err(StoreError::Unavailable(
                "DynamoDB PutItem: a condition failed on an unconditional put".into(),
            )),
            Written::Conflict => Err(contention()),
        }
    }

    /// Applies `requests` (no two for the same key) with BatchWriteItem, 25 at a time; what
    /// DynamoDB leaves unprocessed (throttling) is sent again after a pause, up to
    /// [`ATTEMPTS`] times in a row before the store reports itself unavailable.
    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        let mut queue = requests.into_iter();
        let mut pending: Vec<WriteRequest> = Vec::new();
        let mut attempt = 0;
        loop {
            if pending.is_empty() {
                pending = queue.by_ref().take(BATCH_WRITE_LIMIT).collect();
                attempt = 0;
            }
            if pending.is_empty() {
                return Ok(());
            }
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, std::mem::take(&mut pending))
                .send()
                .await
                .map_err(|e| unavailable("BatchWriteItem", e))?;
            pending = out
                .unprocessed_items
                .and_then(|mut u| u.remove(&self.table))
                .unwrap_or_default();
            if !pending.is_empty() {
                attempt += 1;
                if attempt >= ATTEMPTS {
                    return Err(contention());
                }
                backoff(attempt).await;
            }
        }
    }
}

#[async_trait]
impl TemplateStore for DynamoStore {
    async fn replace_catalogue(
        &self,
        chatbot: &ChatbotId,
        waba_id: &str,
        templates: Vec<MessageTemplate>,
        synced_at: Timestamp,
    ) -> Result<(), StoreError> {
        let existing = self.account_templates(waba_id).await?;
        // By sort key: BatchWriteItem refuses two requests for one key, and a list naming
        // a template twice keeps the last, as SQLite's INSERT OR REPLACE does.
        let mut listed: BTreeMap<String, Item> = BTreeMap::new();
        for template in &templates {
            let key = keys::template(waba_id, &template.name, &template.language);
            listed.insert(key.sk, to_item(waba_id, template, synced_at));
        }
        let mut requests = Vec::with_capacity(listed.len() + existing.len());
        for item in existing {
            let key = Key::of(&item)?;
            if !listed.contains_key(&key.sk) {
                requests.push(delete_request(key)?);
            }
        }
        for item in listed.into_values() {
            requests.push(put_request(item)?);
        }
        self.batch_write(requests).await?;
        self.put_link(chatbot, waba_id, synced_at).await
    }

    async fn put_template(
        &self,
        chatbot: &ChatbotId,
        template: MessageTemplate,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.put_unconditionally(to_item(&template.waba_id, &template, at))
            .await?;
        self.put_link(chatbot, &template.waba_id, at).await
    }

    async fn catalogue_accounts(
        &self,
        chatbot: &ChatbotId,
    ) -> Result<Vec<CatalogueAccount>, StoreError> {
        let mut accounts = self
            .links(chatbot)
            .await?
            .iter()
            .map(account_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        accounts.sort_by(|a, b| a.waba_id.cmp(&b.waba_id));
        Ok(accounts)
    }

    async fn list_templates(&self, chatbot: &ChatbotId) -> Result<Vec<CatalogueEntry>, StoreError> {
        let mut entries = Vec::new();
        for account in self.catalogue_accounts(chatbot).await? {
            for item in self.account_templates(&account.waba_id).await? {
                entries.push(from_item(&item)?);
            }
        }
        // SQLite: ORDER BY name, language, waba_id.
        entries.sort_by(|a, b| {
            let (a, b) = (&a.template, &b.template);
            (&a.name, &a.language, &a.waba_id).cmp(&(&b.name, &b.language, &b.waba_id))
        });
        Ok(entries)
    }

    async fn record_template_status(
        &self,
        change: &TemplateStatusChange,
    ) -> Result<bool, StoreError> {
        let mut expr = Expr::default();
        expr.set(STATUS, s(change.status.as_str()))
            .set(STATUS_AT, n(change.at.as_millis()))
            .set_or_remove(STATUS_REASON, change.reason.as_deref().map(s));
        let key = keys::template(&change.waba_id, &change.name, &change.language);
        self.update_unless_newer(key, expr, change.at).await
    }

    async fn record_template_category(
        &self,
        change: &TemplateCategoryChange,
    ) -> Result<bool, StoreError> {
        let mut expr = Expr::default();
        expr.set(CATEGORY, s(change.category.as_str()));
        let key = keys::template(&change.waba_id, &change.name, &change.language);
        self.update_unless_newer(key, expr, change.at).await
    }
}

//! The WhatsApp template catalogue in SQLite: one row per template of a WhatsApp Business
//! Account (`message_templates`, keyed by account, name and language) and one row per
//! account a chatbot linked (`template_links`). Category and status are stored as Meta
//! spells them, the parameter format as `positional` / `named`.

use async_trait::async_trait;
use followup_domain::{
    CatalogueEntry, ChatbotId, MessageTemplate, ParameterFormat, TemplateCategory,
    TemplateCategoryChange, TemplateStatus, TemplateStatusChange, Timestamp,
};
use followup_ports::{CatalogueAccount, StoreError, TemplateStore};
use rusqlite::{Connection, Row, TransactionBehavior, params};

use crate::sqlite::{SqliteStore, unavailable};

const SELECT: &str = "SELECT t.waba_id, t.template_id, t.name, t.language, t.category, t.status, \
     t.status_reason, t.parameter_format, t.body_text, t.body_parameter_count, t.unsupported, \
     t.components_json, t.status_at FROM message_templates t";

const fn format_str(format: ParameterFormat) -> &'static str {
    match format {
        ParameterFormat::Positional => "positional",
        ParameterFormat::Named => "named",
    }
}

fn conversion(column: usize, message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, message.into())
}

fn read_entry(row: &Row<'_>) -> rusqlite::Result<CatalogueEntry> {
    let category: Option<String> = row.get(4)?;
    let status: String = row.get(5)?;
    let format: String = row.get(7)?;
    let count: i64 = row.get(9)?;
    Ok(CatalogueEntry {
        template: MessageTemplate {
            waba_id: row.get(0)?,
            template_id: row.get(1)?,
            name: row.get(2)?,
            language: row.get(3)?,
            category: category.as_deref().and_then(TemplateCategory::from_meta),
            status: TemplateStatus::from_meta(&status),
            status_reason: row.get(6)?,
            parameter_format: match format.as_str() {
                "positional" => ParameterFormat::Positional,
                "named" => ParameterFormat::Named,
                other => return Err(conversion(7, format!("unknown parameter format {other}"))),
            },
            body_text: row.get(8)?,
            body_parameter_count: usize::try_from(count)
                .map_err(|e| conversion(9, e.to_string()))?,
            unsupported: row.get(10)?,
            components_json: row.get(11)?,
        },
        status_at: Timestamp::from_millis(row.get(12)?),
    })
}

/// Inserts or replaces one template, filed under `waba_id` (a refresh files every listed
/// template under the account refreshed), its status as of `status_at`.
fn write_template(
    conn: &Connection,
    waba_id: &str,
    template: &MessageTemplate,
    status_at: Timestamp,
) -> Result<(), StoreError> {
    let count = i64::try_from(template.body_parameter_count).map_err(unavailable)?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO message_templates
           (waba_id, name, language, template_id, category, status, status_reason,
            parameter_format, body_text, body_parameter_count, unsupported, components_json,
            status_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )
    .and_then(|mut statement| {
        statement.execute(params![
            waba_id,
            template.name,
            template.language,
            template.template_id,
            template.category.map(TemplateCategory::as_str),
            template.status.as_str(),
            template.status_reason,
            format_str(template.parameter_format),
            template.body_text,
            count,
            template.unsupported,
            template.components_json,
            status_at.as_millis(),
        ])
    })
    .map_err(unavailable)?;
    Ok(())
}

fn link(
    conn: &Connection,
    chatbot: &ChatbotId,
    waba_id: &str,
    synced_at: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO template_links (chatbot_id, waba_id, synced_at) VALUES (?1, ?2, ?3)",
        params![chatbot.as_str(), waba_id, synced_at.as_millis()],
    )
    .map_err(unavailable)?;
    Ok(())
}

#[async_trait]
impl TemplateStore for SqliteStore {
    async fn replace_catalogue(
        &self,
        chatbot: &ChatbotId,
        waba_id: &str,
        templates: Vec<MessageTemplate>,
        synced_at: Timestamp,
    ) -> Result<(), StoreError> {
        let (chatbot, waba_id) = (chatbot.clone(), waba_id.to_owned());
        self.with_conn(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            // The whole list replaces the account's catalogue in one transaction: readers
            // see the old catalogue or the new one, never a mix.
            tx.execute(
                "DELETE FROM message_templates WHERE waba_id = ?1",
                params![waba_id],
            )
            .map_err(unavailable)?;
            for template in &templates {
                write_template(&tx, &waba_id, template, synced_at)?;
            }
            link(&tx, &chatbot, &waba_id, synced_at)?;
            tx.commit().map_err(unavailable)
        })
        .await
    }

    async fn put_template(
        &self,
        chatbot: &ChatbotId,
        template: MessageTemplate,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let chatbot = chatbot.clone();
        self.with_conn(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            write_template(&tx, &template.waba_id, &template, at)?;
            link(&tx, &chatbot, &template.waba_id, at)?;
            tx.commit().map_err(unavailable)
        })
        .await
    }

    async fn catalogue_accounts(
        &self,
        chatbot: &ChatbotId,
    ) -> Result<Vec<CatalogueAccount>, StoreError> {
        let chatbot = chatbot.clone();
        self.with_conn(move |conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT waba_id, synced_at FROM template_links WHERE chatbot_id = ?1
                     ORDER BY waba_id",
                )
                .map_err(unavailable)?;
            let rows = statement
                .query_map(params![chatbot.as_str()], |row| {
                    Ok(CatalogueAccount {
                        waba_id: row.get(0)?,
                        synced_at: Timestamp::from_millis(row.get(1)?),
                    })
                })
                .map_err(unavailable)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(unavailable)
        })
        .await
    }

    async fn list_templates(&self, chatbot: &ChatbotId) -> Result<Vec<CatalogueEntry>, StoreError> {
        let chatbot = chatbot.clone();
        self.with_conn(move |conn| {
            let mut statement = conn
                .prepare_cached(&format!(
                    "{SELECT} JOIN template_links l ON l.waba_id = t.waba_id
                     WHERE l.chatbot_id = ?1
                     ORDER BY t.name, t.language, t.waba_id"
                ))
                .map_err(unavailable)?;
            let rows = statement
                .query_map(params![chatbot.as_str()], read_entry)
                .map_err(unavailable)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(unavailable)
        })
        .await
    }

    async fn record_template_status(
        &self,
        change: &TemplateStatusChange,
    ) -> Result<bool, StoreError> {
        let change = change.clone();
        self.with_conn(move |conn| {
            // One conditional statement: a change older than the stored status never
            // overwrites it, whatever order the webhooks arrive in.
            let changed = conn
                .execute(
                    "UPDATE message_templates SET status = ?4, status_reason = ?5, status_at = ?6
                     WHERE waba_id = ?1 AND name = ?2 AND language = ?3 AND status_at <= ?6",
                    params![
                        change.waba_id,
                        change.name,
                        change.language,
                        change.status.as_str(),
                        change.reason,
                        change.at.as_millis(),
                    ],
                )
                .map_err(unavailable)?;
            Ok(changed > 0)
        })
        .await
    }

    async fn record_template_category(
        &self,
        change: &TemplateCategoryChange,
    ) -> Result<bool, StoreError> {
        let change = change.clone();
        self.with_conn(move |conn| {
            let changed = conn
                .execute(
                    "UPDATE message_templates SET category = ?4
                     WHERE waba_id = ?1 AND name = ?2 AND language = ?3 AND status_at <= ?5",
                    params![
                        change.waba_id,
                        change.name,
                        change.language,
                        change.category.as_str(),
                        change.at.as_millis(),
                    ],
                )
                .map_err(unavailable)?;
            Ok(changed > 0)
        })
        .await
    }
}

//! Integrations in SQLite. Access tokens are stored as given in the local engine's file,
//! whose data directory the engine creates readable by its own user only.

use async_trait::async_trait;
use followup_domain::{ChatbotId, Platform, Secret, Timestamp};
use followup_ports::{Integration, IntegrationStore, StoreError, Upserted};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

use crate::sqlite::{SqliteStore, unavailable};

fn platform_from(raw: &str) -> rusqlite::Result<Platform> {
    Platform::ALL
        .into_iter()
        .find(|p| p.as_str() == raw)
        .ok_or_else(|| {
            rusqlite::Error::InvalidColumnType(0, raw.to_owned(), rusqlite::types::Type::Text)
        })
}

fn read_integration(row: &Row<'_>) -> rusqlite::Result<Integration> {
    let chatbot: String = row.get(2)?;
    Ok(Integration {
        platform: platform_from(&row.get::<_, String>(0)?)?,
        account_id: row.get(1)?,
        chatbot_id: ChatbotId::parse(&chatbot).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                e.message.into(),
            )
        })?,
        waba_id: row.get(6)?,
        access_token: Secret::new(row.get::<_, String>(3)?),
        created_at: Timestamp::from_millis(row.get(4)?),
        updated_at: Timestamp::from_millis(row.get(5)?),
    })
}

const SELECT: &str = "SELECT platform, account_id, chatbot_id, access_token, created_at, updated_at, waba_id \
     FROM integrations";

#[async_trait]
impl IntegrationStore for SqliteStore {
    async fn upsert_integration(
        &self,
        integration: Integration,
    ) -> Result<(Integration, Upserted), StoreError> {
        self.with_conn(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let existing = tx
                .query_row(
                    &format!("{SELECT} WHERE platform = ?1 AND account_id = ?2"),
                    params![integration.platform.as_str(), integration.account_id],
                    read_integration,
                )
                .optional()
                .map_err(unavailable)?;
            let (stored, outcome) = match existing {
                Some(current) if current.chatbot_id != integration.chatbot_id => {
                    return Err(StoreError::AccountTaken);
                }
                Some(current) => (
                    Integration {
                        created_at: current.created_at,
                        ..integration
                    },
                    Upserted::Updated,
                ),
                None => (integration, Upserted::Created),
            };
            tx.execute(
                "INSERT OR REPLACE INTO integrations
                   (platform, account_id, chatbot_id, access_token, created_at, updated_at, waba_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    stored.platform.as_str(),
                    stored.account_id,
                    stored.chatbot_id.as_str(),
                    stored.access_token.expose(),
                    stored.created_at.as_millis(),
                    stored.updated_at.as_millis(),
                    stored.waba_id,
                ],
            )
            .map_err(unavailable)?;
            tx.commit().map_err(unavailable)?;
            Ok((stored, outcome))
        })
        .await
    }

    async fn list_integrations(&self, chatbot: &ChatbotId) -> Result<Vec<Integration>, StoreError> {
        let chatbot = chatbot.clone();
        self.with_conn(move |conn| {
            let mut statement = conn
                .prepare_cached(&format!(
                    "{SELECT} WHERE chatbot_id = ?1 ORDER BY platform, account_id"
                ))
                .map_err(unavailable)?;
            let rows = statement
                .query_map(params![chatbot.as_str()], read_integration)
                .map_err(unavailable)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(unavailable)
        })
        .await
    }

    async fn delete_integration(
        &self,
        chatbot: &ChatbotId,
        platform: Platform,
        account_id: &str,
    ) -> Result<(), StoreError> {
        let (chatbot, account_id) = (chatbot.clone(), account_id.to_owned());
        self.with_conn(move |conn| {
            let deleted = conn
                .execute(
                    "DELETE FROM integrations WHERE platform = ?1 AND account_id = ?2 AND chatbot_id = ?3",
                    params![platform.as_str(), account_id, chatbot.as_str()],
                )
                .map_err(unavailable)?;
            if deleted == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn find_integration(
        &self,
        platform: Platform,
        account_id: &str,
    ) -> Result<Option<Integration>, StoreError> {
        let account_id = account_id.to_owned();
        self.with_conn(move |conn| {
            conn.prepare_cached(&format!("{SELECT} WHERE platform = ?1 AND account_id = ?2"))
                .and_then(|mut s| {
                    s.query_row(params![platform.as_str(), account_id], read_integration)
                        .optional()
                })
                .map_err(unavailable)
        })
        .await
    }
}

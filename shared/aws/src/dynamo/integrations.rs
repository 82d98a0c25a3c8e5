//! Integrations: one item per platform account (`ACCOUNT#{platform}#{account}`), so that
//! "an account belongs to at most one chatbot" is a condition on a single item, and a
//! webhook is routed with one strongly consistent read. Listed per chatbot on `gsi1`.
//!
//! Access tokens are stored as given, like the SQLite file does: the table is encrypted at
//! rest, and only the sender and the config API's functions may read it (IAM).

use async_trait::async_trait;
use followup_domain::{ChatbotId, Platform, Secret, Timestamp};
use followup_ports::{Integration, IntegrationStore, StoreError, Upserted};

use aws_sdk_dynamodb::types::ReturnValue;

use super::expr::Expr;
use super::item::{Item, Read, corrupt, n, s};
use super::keys::{self, GSI1_PK, GSI1_SK};
use super::{DynamoStore, Query, Write, Written};

const CHATBOT_ID: &str = "chatbot_id";
const WABA_ID: &str = "waba_id";

fn from_item(item: &Item) -> Result<Integration, StoreError> {
    let platform = item.str("platform")?;
    Ok(Integration {
        chatbot_id: ChatbotId::parse(item.str(CHATBOT_ID)?)
            .map_err(|e| corrupt(CHATBOT_ID, e.message))?,
        platform: Platform::ALL
            .into_iter()
            .find(|p| p.as_str() == platform)
            .ok_or_else(|| corrupt("platform", platform))?,
        account_id: item.str("account_id")?.to_owned(),
        waba_id: item.opt_str(WABA_ID)?.map(str::to_owned),
        access_token: Secret::new(item.str("access_token")?),
        created_at: Timestamp::from_millis(item.i64("created_at")?),
        updated_at: Timestamp::from_millis(item.i64("updated_at")?),
    })
}

#[async_trait]
impl IntegrationStore for DynamoStore {
    async fn upsert_integration(
        &self,
        integration: Integration,
    ) -> Result<(Integration, Upserted), StoreError> {
        // One conditional update: created when absent, token replaced when this chatbot
        // owns it, refused when another does. The old image tells created from updated.
        let mut expr = Expr::default();
        expr.set(CHATBOT_ID, s(integration.chatbot_id.as_str()))
            .set("platform", s(integration.platform.as_str()))
            .set("account_id", s(&integration.account_id))
            .set("access_token", s(integration.access_token.expose()))
            .set_or_remove(WABA_ID, integration.waba_id.as_deref().map(s))
            .set("updated_at", n(integration.updated_at.as_millis()))
            .set_if_absent("created_at", n(integration.created_at.as_millis()))
            .set(
                GSI1_PK,
                s(keys::integrations_gsi1pk(&integration.chatbot_id)),
            )
            .set(
                GSI1_SK,
                s(keys::integrations_gsi1sk(
                    integration.platform,
                    &integration.account_id,
                )),
            );
        let absent = expr.absent(keys::PK);
        let owner = expr.equals(CHATBOT_ID, s(integration.chatbot_id.as_str()));
        expr.require(format!("{absent} OR {owner}"));
        let key = keys::integration(integration.platform, &integration.account_id);
        match self
            .write_retrying(Write::update(key, expr).returning(ReturnValue::AllOld))
            .await?
        {
            Written::Done(Some(old)) if !old.is_empty() => {
                let created_at = Timestamp::from_millis(old.i64("created_at")?);
                Ok((
                    Integration {
                        created_at,
                        ..integration
                    },
                    Upserted::Updated,
                ))
            }
            Written::Done(_) => Ok((integration, Upserted::Created)),
            Written::ConditionFailed(_) => Err(StoreError::AccountTaken),
            Written::Conflict => Err(super::contention()),
        }
    }

    async fn list_integrations(&self, chatbot: &ChatbotId) -> Result<Vec<Integration>, StoreError> {
        self.query(Query::gsi1(keys::integrations_gsi1pk(chatbot)))
            .await?
            .iter()
            .map(from_item)
            .collect()
    }

    async fn delete_integration(
        &self,
        chatbot: &ChatbotId,
        platform: Platform,
        account_id: &str,
    ) -> Result<(), StoreError> {
        // Absent and "another chatbot's" fail the same condition: both are NotFound.
        let mut expr = Expr::default();
        let owner = expr.equals(CHATBOT_ID, s(chatbot.as_str()));
        expr.require(owner);
        match self
            .write_retrying(Write::delete(keys::integration(platform, account_id), expr))
            .await?
        {
            Written::Done(_) => Ok(()),
            Written::ConditionFailed(_) => Err(StoreError::NotFound),
            Written::Conflict => Err(super::contention()),
        }
    }

    async fn find_integration(
        &self,
        platform: Platform,
        account_id: &str,
    ) -> Result<Option<Integration>, StoreError> {
        self.get(keys::integration(platform, account_id))
            .await?
            .map(|item| from_item(&item))
            .transpose()
    }
}

//! The DynamoDB store: every port of the SQLite store, on one table with the fixed schema
//! of `docs/aws.md` (pk/sk, `gsi1`, `gsi2`, TTL on `expires_at`).
//!
//! The item layout and every access pattern, with its cost, are written down in
//! `docs/aws.md` ("Access patterns"); [`keys`] is the one place that builds keys. The rules
//! SQLite keeps with `BEGIN IMMEDIATE` are kept here by conditional writes:
//!
//! - the 5-active rule: a per-chatbot counter item, changed in the same transaction as the
//!   follow-up, with the condition `count < 5`;
//! - revisions, the claim, forward-only statuses, message-id idempotency: conditions on the
//!   item written;
//! - everything that appends to a conversation's log also moves the conversation's
//!   `log_seq` under the condition that it still has the value read, so the log's sequence
//!   numbers are dense per conversation and those writers are serialised per conversation.
//!
//! A write that loses a race (a failed condition that only says "someone else wrote first",
//! or a transaction conflict) re-reads and tries again with jittered backoff; a write whose
//! condition states a rule (the limit, a stale period, a duplicate) answers with the rule.
//! No operation scans the table.

mod conversations;
mod deliveries;
mod expr;
mod follow_ups;
mod integrations;
mod item;
mod keys;
mod log;
mod templates;

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    KeysAndAttributes, PointInTimeRecoverySpecification, Projection, ProjectionType, ReturnValue,
    ScalarAttributeType, TableStatus, TimeToLiveSpecification, TransactWriteItem,
};
use followup_ports::StoreError;

use expr::Expr;
use item::Item;
use keys::Key;

pub use keys::{GSI1, GSI1_PK, GSI1_SK, GSI2, GSI2_PK, GSI2_SK, PK, SK, TTL_ATTRIBUTE};

/// The store on one DynamoDB table. Cheap to clone (the client is shared).
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// A store on an existing table with the documented schema (see [`create_table`]).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

/// Creates the table exactly as `docs/aws.md` states it: on-demand, `pk`/`sk`, the indexes
/// `gsi1` and `gsi2` (projection ALL), TTL on `expires_at`, point-in-time recovery. For
/// tests and local set-up; deployments create it from the template. Waits until the table
/// is usable.
pub async fn create_table(client: &Client, name: &str) -> Result<(), StoreError> {
    let string_attribute = |attribute: &str| {
        AttributeDefinition::builder()
            .attribute_name(attribute)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(build_error)
    };
    let key = |attribute: &str, key_type: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(attribute)
            .key_type(key_type)
            .build()
            .map_err(build_error)
    };
    let index = |index: &str, pk: &str, sk: &str| -> Result<GlobalSecondaryIndex, StoreError> {
        GlobalSecondaryIndex::builder()
            .index_name(index)
            .key_schema(key(pk, KeyType::Hash)?)
            .key_schema(key(sk, KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(build_error)
    };
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .global_secondary_indexes(index(GSI1, GSI1_PK, GSI1_SK)?)
        .global_secondary_indexes(index(GSI2, GSI2_PK, GSI2_SK)?);
    for attribute in [PK, SK, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK] {
        request = request.attribute_definitions(string_attribute(attribute)?);
    }
    request
        .send()
        .await
        .map_err(|e| unavailable("CreateTable", e))?;
    wait_until_active(client, name).await?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(TTL_ATTRIBUTE)
                .build()
                .map_err(build_error)?,
        )
        .send()
        .await
        .map_err(|e| unavailable("UpdateTimeToLive", e))?;
    // Right after creation AWS may still answer ContinuousBackupsUnavailable: retry briefly.
    for attempt in 0.. {
        let result = client
            .update_continuous_backups()
            .table_name(name)
            .point_in_time_recovery_specification(
                PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(true)
                    .build()
                    .map_err(build_error)?,
            )
            .send()
            .await;
        match result {
            Ok(_) => break,
            Err(error)
                if attempt < 30
                    && error
                        .as_service_error()
                        .and_then(ProvideErrorMetadata::code)
                        == Some("ContinuousBackupsUnavailableException") =>
            {
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(error) => return Err(unavailable("UpdateContinuousBackups", error)),
        }
    }
    Ok(())
}

async fn wait_until_active(client: &Client, name: &str) -> Result<(), StoreError> {
    // Table and indexes are created asynchronously on AWS (seconds to minutes).
    for _ in 0..600 {
        let described = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| unavailable("DescribeTable", e))?;
        let table = described.table();
        let active = table.and_then(|t| t.table_status()) == Some(&TableStatus::Active)
            && table.is_some_and(|t| {
                t.global_secondary_indexes().iter().all(|i| {
                    i.index_status() == Some(&aws_sdk_dynamodb::types::IndexStatus::Active)
                })
            });
        if active {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(StoreError::Unavailable(format!(
        "DynamoDB table {name} did not become active"
    )))
}

/// Any SDK failure that is not a rule of the store: the message names the operation and
/// DynamoDB's error code and message, which refer to attributes by placeholder and never
/// carry item values (tokens, texts).
pub(crate) fn unavailable<E, R>(operation: &str, error: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let detail = match error.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("unknown error"),
            service.message().unwrap_or_default()
        ),
        None => DisplayErrorContext(&error).to_string(),
    };
    StoreError::Unavailable(format!("DynamoDB {operation}: {detail}"))
}

fn build_error(error: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Unavailable(format!("DynamoDB request: {error}"))
}

/// How often a write that lost a race is tried again before the store reports itself
/// unavailable. With the backoff below that is about 4 s of trying.
const ATTEMPTS: u32 = 12;

fn contention() -> StoreError {
    StoreError::Unavailable(format!(
        "DynamoDB: still conflicting with concurrent writes after {ATTEMPTS} attempts"
    ))
}

/// Full jitter, capped exponential: concurrent losers spread out instead of colliding again.
async fn backoff(attempt: u32) {
    use std::hash::{BuildHasher, Hasher};
    let cap_ms = 5u64 << attempt.min(7);
    // A fresh RandomState has fresh keys: a cheap random number without a dependency.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    tokio::time::sleep(Duration::from_millis(random % (cap_ms + 1))).await;
}

/// What a single conditional write did.
pub(crate) enum Written {
    /// Done; the attributes asked for with `returning`, if any.
    Done(Option<Item>),
    /// The condition did not hold; the item as it is, when DynamoDB returned it.
    ConditionFailed(Option<Item>),
    /// The item is part of a transaction in progress: try again.
    Conflict,
}

/// What a transaction did.
pub(crate) enum Transacted {
    Committed,
    /// Cancelled because these items' conditions did not hold (positions in the request).
    ConditionFailed(Vec<usize>),
    /// Cancelled by a concurrent transaction or throttling: try again.
    Conflict,
}

impl Transacted {
    pub(crate) fn failed(&self, index: usize) -> bool {
        matches!(self, Self::ConditionFailed(failed) if failed.contains(&index))
    }
}

/// One write: a put, an update or a delete, with its condition and update expressions.
#[derive(Debug, Clone)]
pub(crate) struct Write {
    kind: WriteKind,
    expr: Expr,
    returning: Option<ReturnValue>,
}

#[derive(Debug, Clone)]
enum WriteKind {
    Put(Item),
    Update(Key),
    Delete(Key),
}

impl Write {
    pub(crate) fn put(item: Item, expr: Expr) -> Self {
        Self {
            kind: WriteKind::Put(item),
            expr,
            returning: None,
        }
    }

    pub(crate) fn update(key: Key, expr: Expr) -> Self {
        Self {
            kind: WriteKind::Update(key),
            expr,
            returning: None,
        }
    }

    pub(crate) fn delete(key: Key, expr: Expr) -> Self {
        Self {
            kind: WriteKind::Delete(key),
            expr,
            returning: None,
        }
    }

    pub(crate) fn returning(mut self, value: ReturnValue) -> Self {
        self.returning = Some(value);
        self
    }

    fn into_transact(self, table: &str) -> Result<TransactWriteItem, StoreError> {
        let parts = self.expr.into_parts();
        let item = match self.kind {
            WriteKind::Put(item) => TransactWriteItem::builder().put(
                aws_sdk_dynamodb::types::Put::builder()
                    .table_name(table)
                    .set_item(Some(item))
                    .set_condition_expression(parts.condition)
                    .set_expression_attribute_names(parts.names)
                    .set_expression_attribute_values(parts.values)
                    .build()
                    .map_err(build_error)?,
            ),
            WriteKind::Update(key) => TransactWriteItem::builder().update(
                aws_sdk_dynamodb::types::Update::builder()
                    .table_name(table)
                    .set_key(Some(key.into_item()))
                    .update_expression(parts.update.unwrap_or_default())
                    .set_condition_expression(parts.condition)
                    .set_expression_attribute_names(parts.names)
                    .set_expression_attribute_values(parts.values)
                    .build()
                    .map_err(build_error)?,
            ),
            WriteKind::Delete(key) => TransactWriteItem::builder().delete(
                aws_sdk_dynamodb::types::Delete::builder()
                    .table_name(table)
                    .set_key(Some(key.into_item()))
                    .set_condition_expression(parts.condition)
                    .set_expression_attribute_names(parts.names)
                    .set_expression_attribute_values(parts.values)
                    .build()
                    .map_err(build_error)?,
            ),
        };
        Ok(item.build())
    }
}

const CONDITION_FAILED: &str = "ConditionalCheckFailedException";
const TRANSACTION_CONFLICT: &str = "TransactionConflictException";

/// Splits an SDK error of a single write into the outcomes the callers act on.
fn written_error<E, R>(operation: &str, error: SdkError<E, R>) -> Result<Written, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match error
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
    {
        Some(CONDITION_FAILED) => Ok(Written::ConditionFailed(None)),
        Some(TRANSACTION_CONFLICT) => Ok(Written::Conflict),
        _ => Err(unavailable(operation, error)),
    }
}

impl DynamoStore {
    /// Strongly consistent read of one item.
    pub(crate) async fn get(&self, key: Key) -> Result<Option<Item>, StoreError> {
        self.get_with(key, true).await
    }

    /// Eventually consistent read (half the units): only where a stale answer is harmless.
    pub(crate) async fn get_with(
        &self,
        key: Key,
        consistent: bool,
    ) -> Result<Option<Item>, StoreError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.into_item()))
            .consistent_read(consistent)
            .send()
            .await
            .map(|out| out.item)
            .map_err(|e| unavailable("GetItem", e))
    }

    /// Strongly consistent read of several items in one request, in the order of `keys`.
    pub(crate) async fn get_many(&self, keys: Vec<Key>) -> Result<Vec<Option<Item>>, StoreError> {
        let mut found: HashMap<(String, String), Item> = HashMap::new();
        // BatchGetItem refuses duplicate keys and takes at most 100 per request.
        let mut unique = std::collections::HashSet::new();
        let mut queue: Vec<Item> = keys
            .iter()
            .filter(|k| unique.insert((k.pk.clone(), k.sk.clone())))
            .map(|k| k.clone().into_item())
            .collect();
        let mut pending: Vec<Item> = Vec::new();
        let mut attempt = 0;
        loop {
            if pending.is_empty() {
                let take = queue.len().min(100);
                pending = queue.drain(..take).collect();
            }
            if pending.is_empty() {
                break;
            }
            let out = self
                .client
                .batch_get_item()
                .request_items(
                    &self.table,
                    KeysAndAttributes::builder()
                        .set_keys(Some(std::mem::take(&mut pending)))
                        .consistent_read(true)
                        .build()
                        .map_err(build_error)?,
                )
                .send()
                .await
                .map_err(|e| unavailable("BatchGetItem", e))?;
            for item in out
                .responses
                .and_then(|mut r| r.remove(&self.table))
                .unwrap_or_default()
            {
                let key = Key::of(&item)?;
                found.insert((key.pk, key.sk), item);
            }
            // Keys DynamoDB did not get to (throttling, size): ask again after a pause.
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
            if !pending.is_empty() {
                attempt += 1;
                if attempt >= ATTEMPTS {
                    return Err(contention());
                }
                backoff(attempt).await;
            }
        }
        Ok(keys
            .into_iter()
            .map(|k| found.get(&(k.pk, k.sk)).cloned())
            .collect())
    }

    /// Every item of a query, following pages; at most `limit` when given.
    pub(crate) async fn query(&self, query: Query) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        if query.limit == Some(0) {
            return Ok(items);
        }
        let mut expr = Expr::default();
        let mut condition = expr.equals(query.pk_attribute, item::s(query.pk));
        match query.sk {
            SortKey::Any => {}
            SortKey::BeginsWith(prefix) => {
                let sk = expr.name(query.sk_attribute);
                let prefix = expr.value(item::s(prefix));
                condition = format!("{condition} AND begins_with({sk}, {prefix})");
            }
            SortKey::Between(low, high) => {
                let sk = expr.name(query.sk_attribute);
                let low = expr.value(item::s(low));
                let high = expr.value(item::s(high));
                condition = format!("{condition} AND {sk} BETWEEN {low} AND {high}");
            }
        }
        let parts = expr.into_parts();
        let mut start: Option<Item> = None;
        loop {
            let remaining = query.limit.map(|l| l.saturating_sub(items.len()));
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(query.index.map(str::to_owned))
                .key_condition_expression(&condition)
                .set_expression_attribute_names(parts.names.clone())
                .set_expression_attribute_values(parts.values.clone())
                .scan_index_forward(query.forward)
                // Index reads can only be eventually consistent; table reads are strong.
                .consistent_read(query.index.is_none())
                .set_limit(remaining.map(|r| i32::try_from(r).unwrap_or(i32::MAX)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| unavailable("Query", e))?;
            items.extend(out.items.unwrap_or_default());
            if query.limit.is_some_and(|l| items.len() >= l) {
                break;
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(items)
    }

    /// One conditional write outside a transaction.
    pub(crate) async fn write(&self, write: Write) -> Result<Written, StoreError> {
        let parts = write.expr.into_parts();
        match write.kind {
            WriteKind::Put(item) => {
                match self
                    .client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .set_condition_expression(parts.condition)
                    .set_expression_attribute_names(parts.names)
                    .set_expression_attribute_values(parts.values)
                    .set_return_values(write.returning)
                    .send()
                    .await
                {
                    Ok(out) => Ok(Written::Done(out.attributes)),
                    Err(error) => written_error("PutItem", error),
                }
            }
            WriteKind::Update(key) => {
                match self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key.into_item()))
                    .set_update_expression(parts.update)
                    .set_condition_expression(parts.condition)
                    .set_expression_attribute_names(parts.names)
                    .set_expression_attribute_values(parts.values)
                    .set_return_values(write.returning)
                    .return_values_on_condition_check_failure(
                        aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .send()
                    .await
                {
                    Ok(out) => Ok(Written::Done(out.attributes)),
                    Err(error) => {
                        if let Some(
                            aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(failed),
                        ) = error.as_service_error()
                        {
                            return Ok(Written::ConditionFailed(failed.item.clone()));
                        }
                        written_error("UpdateItem", error)
                    }
                }
            }
            WriteKind::Delete(key) => {
                match self
                    .client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key.into_item()))
                    .set_condition_expression(parts.condition)
                    .set_expression_attribute_names(parts.names)
                    .set_expression_attribute_values(parts.values)
                    .set_return_values(write.returning)
                    .send()
                    .await
                {
                    Ok(out) => Ok(Written::Done(out.attributes)),
                    Err(error) => written_error("DeleteItem", error),
                }
            }
        }
    }

    /// [`Self::write`], again while the item is locked by a transaction in progress.
    pub(crate) async fn write_retrying(&self, write: Write) -> Result<Written, StoreError> {
        for attempt in 0..ATTEMPTS {
            match self.write(write.clone()).await? {
                Written::Conflict => backoff(attempt).await,
                other => return Ok(other),
            }
        }
        Err(contention())
    }

    /// All writes or none (TransactWriteItems, at most 100 items).
    pub(crate) async fn transact(&self, writes: Vec<Write>) -> Result<Transacted, StoreError> {
        let items = writes
            .into_iter()
            .map(|w| w.into_transact(&self.table))
            .collect::<Result<Vec<_>, _>>()?;
        let error = match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => return Ok(Transacted::Committed),
            Err(error) => error,
        };
        let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            error.as_service_error()
        else {
            return match error
                .as_service_error()
                .and_then(ProvideErrorMetadata::code)
            {
                Some(TRANSACTION_CONFLICT) => Ok(Transacted::Conflict),
                _ => Err(unavailable("TransactWriteItems", error)),
            };
        };
        let reasons = cancelled.cancellation_reasons();
        let failed: Vec<usize> = reasons
            .iter()
            .enumerate()
            .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
            .map(|(i, _)| i)
            .collect();
        if !failed.is_empty() {
            return Ok(Transacted::ConditionFailed(failed));
        }
        let retryable = reasons.iter().all(|r| {
            matches!(
                r.code(),
                None | Some(
                    "None"
                        | "TransactionConflict"
                        | "ThrottlingError"
                        | "ProvisionedThroughputExceeded"
                        | "RequestLimitExceeded"
                )
            )
        });
        if retryable {
            Ok(Transacted::Conflict)
        } else {
            Err(unavailable("TransactWriteItems", error))
        }
    }
}

/// A key condition: partition key, optional sort-key range, direction and limit.
pub(crate) struct Query {
    index: Option<&'static str>,
    pk_attribute: &'static str,
    sk_attribute: &'static str,
    pk: String,
    sk: SortKey,
    forward: bool,
    limit: Option<usize>,
}

pub(crate) enum SortKey {
    Any,
    BeginsWith(String),
    Between(String, String),
}

impl Query {
    /// On the table (strongly consistent).
    pub(crate) fn table(pk: String, sk: SortKey) -> Self {
        Self {
            index: None,
            pk_attribute: PK,
            sk_attribute: SK,
            pk,
            sk,
            forward: true,
            limit: None,
        }
    }

    pub(crate) fn gsi1(pk: String) -> Self {
        Self {
            index: Some(GSI1),
            pk_attribute: GSI1_PK,
            sk_attribute: GSI1_SK,
            pk,
            sk: SortKey::Any,
            forward: true,
            limit: None,
        }
    }

    pub(crate) fn gsi2(pk: String) -> Self {
        Self {
            index: Some(GSI2),
            pk_attribute: GSI2_PK,
            sk_attribute: GSI2_SK,
            pk,
            sk: SortKey::Any,
            forward: true,
            limit: None,
        }
    }

    pub(crate) fn backwards(mut self) -> Self {
        self.forward = false;
        self
    }

    pub(crate) fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }
}

//! The store contract on the DynamoDB adapter, against a moto server through the real
//! aws-sdk-dynamodb client, plus what only DynamoDB has: the table's schema, TTLs on the
//! items that may expire (and on no other), no Scan, and the requests each path costs.
//!
//! Needs `FOLLOWUP_TEST_MOTO_URL` (tests/run.sh starts moto); without it every test fails
//! with instructions. Each test creates its own table on the shared server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, KeyType, PointInTimeRecoveryStatus, ProjectionType,
    ScalarAttributeType, TimeToLiveStatus,
};
use followup_aws::dynamo::{self, DynamoStore, create_table};
use followup_domain::{
    FollowUpFilter, MessageTemplate, Platform, Secret, TemplateStatus, TemplateStatusChange,
    Timestamp,
};
use followup_ports::{
    Claim, ConversationStore, DeliveryStatus, DeliveryStore, DeliveryUpdate, FollowUpStore,
    Integration, IntegrationStore, NewFollowUp, PendingFollowUp, TemplateStore,
};
use followup_tests::moto;
use followup_tests::store_contract::{
    chatbot, config, conversation, follow_up_id, message, template,
};
use followup_tests::store_contract_tests;

/// Records the DynamoDB operation of every request the store sends, and refuses Scan: the
/// adapter must answer every access pattern from keys and indexes. Installed on every
/// client these tests build, so the whole contract suite runs under it.
#[derive(Debug, Clone, Default)]
struct Operations(Arc<Mutex<Vec<String>>>);

impl Operations {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().expect("operations lock"))
    }
}

impl Intercept for Operations {
    fn name(&self) -> &'static str {
        "RecordOperationsRefuseScan"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The JSON protocol names the operation in `X-Amz-Target: DynamoDB_20120810.Query`.
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
        if operation == "Scan" {
            return Err("the store must never Scan the table".into());
        }
        self.0.lock().expect("operations lock").push(operation);
        Ok(())
    }
}

/// The way to moto for one test. moto serves requests on parallel threads and evaluates a
/// request's conditions and writes without a lock; a cancelled transaction is even rolled
/// back by restoring a copy of the whole table taken when it started, undoing what other
/// requests committed meanwhile. DynamoDB applies each request atomically. So the tests
/// reach moto through this gate, which lets one request through at a time: every request
/// is atomic, as on AWS, while the store's operations (several requests each) still
/// interleave and race freely.
///
/// It can also answer transactions with a `TransactionConflict` cancellation without
/// forwarding them, as DynamoDB does when transactions on the same item overlap (moto
/// never does), and batch writes with every item unprocessed, as DynamoDB does when
/// throttled, to test the store's retries.
#[derive(Debug, Clone)]
struct Gate {
    url: String,
    conflicts: Arc<AtomicUsize>,
    unprocessed: Arc<AtomicUsize>,
}

async fn gate() -> Gate {
    let upstream = moto::moto_url();
    let turn = Arc::new(tokio::sync::Mutex::new(()));
    let conflicts = Arc::new(AtomicUsize::new(0));
    let unprocessed = Arc::new(AtomicUsize::new(0));
    let http = reqwest::Client::new();
    let handler = {
        let (conflicts, unprocessed) = (Arc::clone(&conflicts), Arc::clone(&unprocessed));
        move |request: axum::extract::Request| {
            let (upstream, turn, conflicts, unprocessed, http) = (
                upstream.clone(),
                Arc::clone(&turn),
                Arc::clone(&conflicts),
                Arc::clone(&unprocessed),
                http.clone(),
            );
            async move { forward(&upstream, &turn, (&conflicts, &unprocessed), &http, request).await }
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the gate");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        axum::serve(listener, axum::Router::new().fallback(handler))
            .await
            .expect("gate");
    });
    Gate {
        url,
        conflicts,
        unprocessed,
    }
}

async fn forward(
    upstream: &str,
    turn: &tokio::sync::Mutex<()>,
    (conflicts, unprocessed): (&AtomicUsize, &AtomicUsize),
    http: &reqwest::Client,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::http::header;
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("request body");
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if target.ends_with(".TransactWriteItems")
        && conflicts
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    {
        let cancelled = serde_json::json!({
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]",
            "CancellationReasons": [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}],
        });
        return axum::response::Response::builder()
            .status(400)
            .header(header::CONTENT_TYPE, "application/x-amz-json-1.0")
            .body(axum::body::Body::from(cancelled.to_string()))
            .expect("response");
    }
    if target.ends_with(".BatchWriteItem")
        && unprocessed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    {
        let request: serde_json::Value = serde_json::from_slice(&body).expect("JSON request");
        let nothing_done = serde_json::json!({"UnprocessedItems": request["RequestItems"]});
        return axum::response::Response::builder()
            .status(200)
            .header(header::CONTENT_TYPE, "application/x-amz-json-1.0")
            .body(axum::body::Body::from(nothing_done.to_string()))
            .expect("response");
    }
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", axum::http::uri::PathAndQuery::as_str);
    let mut outgoing = http
        .request(parts.method, format!("{upstream}{path}"))
        .body(body);
    for (name, value) in &parts.headers {
        if name != header::HOST && name != header::CONTENT_LENGTH {
            outgoing = outgoing.header(name, value);
        }
    }
    let _one_at_a_time = turn.lock().await;
    let answer = outgoing.send().await.expect("moto answers");
    let mut response = axum::response::Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != header::CONTENT_LENGTH && name != header::TRANSFER_ENCODING {
            response = response.header(name, value);
        }
    }
    let bytes = answer.bytes().await.expect("moto's answer");
    response
        .body(axum::body::Body::from(bytes))
        .expect("response")
}

async fn client(operations: Operations, gate: &Gate) -> Client {
    // moto::sdk_config panics with instructions when FOLLOWUP_TEST_MOTO_URL is missing.
    let config = moto::sdk_config().await;
    Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&config)
            .endpoint_url(&gate.url)
            .interceptor(operations)
            .build(),
    )
}

/// A store on a fresh table, its raw client, the recorder of its requests, and its gate.
async fn fresh_store() -> (Arc<DynamoStore>, Client, Operations, Gate) {
    let operations = Operations::default();
    let gate = gate().await;
    let client = client(operations.clone(), &gate).await;
    let table = moto::unique_name("followup");
    create_table(&client, &table).await.expect("create table");
    operations.take();
    (
        Arc::new(DynamoStore::new(client.clone(), table)),
        client,
        operations,
        gate,
    )
}

async fn fresh_table_store() -> Arc<DynamoStore> {
    fresh_store().await.0
}

store_contract_tests!(fresh_table_store());

/// An index as described: name, key schema, projection.
type IndexShape = (String, Vec<(String, KeyType)>, Option<ProjectionType>);

#[tokio::test]
async fn when_the_table_is_created_then_it_has_the_documented_schema() {
    let (store, client, _, _) = fresh_store().await;
    let described = client
        .describe_table()
        .table_name(store.table())
        .send()
        .await
        .expect("describe");
    let table = described.table().expect("table");
    let keys = |schema: &[aws_sdk_dynamodb::types::KeySchemaElement]| -> Vec<(String, KeyType)> {
        schema
            .iter()
            .map(|k| (k.attribute_name().to_owned(), k.key_type().clone()))
            .collect()
    };
    assert_eq!(
        keys(table.key_schema()),
        [
            ("pk".to_owned(), KeyType::Hash),
            ("sk".to_owned(), KeyType::Range)
        ]
    );
    let mut attributes: Vec<(String, ScalarAttributeType)> = table
        .attribute_definitions()
        .iter()
        .map(|a| (a.attribute_name().to_owned(), a.attribute_type().clone()))
        .collect();
    attributes.sort_by(|a, b| a.0.cmp(&b.0));
    let expected: Vec<(String, ScalarAttributeType)> =
        ["gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "pk", "sk"]
            .into_iter()
            .map(|a| (a.to_owned(), ScalarAttributeType::S))
            .collect();
    assert_eq!(
        attributes, expected,
        "only key attributes are declared, all strings"
    );
    assert_eq!(
        table.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    let mut indexes: Vec<IndexShape> = table
        .global_secondary_indexes()
        .iter()
        .map(|i| {
            (
                i.index_name().unwrap_or_default().to_owned(),
                keys(i.key_schema()),
                i.projection().and_then(|p| p.projection_type()).cloned(),
            )
        })
        .collect();
    indexes.sort_by(|a, b| a.0.cmp(&b.0));
    let index = |n: &str| {
        (
            format!("gsi{n}"),
            vec![
                (format!("gsi{n}pk"), KeyType::Hash),
                (format!("gsi{n}sk"), KeyType::Range),
            ],
            Some(ProjectionType::All),
        )
    };
    assert_eq!(indexes, [index("1"), index("2")]);
    assert!(table.local_secondary_indexes().is_empty());

    let ttl = client
        .describe_time_to_live()
        .table_name(store.table())
        .send()
        .await
        .expect("describe TTL");
    let ttl = ttl.time_to_live_description().expect("TTL");
    assert_eq!(
        (ttl.time_to_live_status(), ttl.attribute_name()),
        (Some(&TimeToLiveStatus::Enabled), Some("expires_at"))
    );
    let backups = client
        .describe_continuous_backups()
        .table_name(store.table())
        .send()
        .await
        .expect("describe backups");
    let recovery = backups
        .continuous_backups_description()
        .and_then(|d| d.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status());
    assert_eq!(recovery, Some(&PointInTimeRecoveryStatus::Enabled));
    assert_eq!(
        (
            dynamo::PK,
            dynamo::GSI1,
            dynamo::GSI2,
            dynamo::TTL_ATTRIBUTE
        ),
        ("pk", "gsi1", "gsi2", "expires_at")
    );
}

fn number(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

#[tokio::test]
async fn when_a_conversation_is_written_then_only_message_ids_transcript_lines_and_reply_markers_expire()
 {
    const DAY_SECS: i64 = 24 * 60 * 60;
    let (store, client, _, _) = fresh_store().await;
    let (bot, conv) = (chatbot("clinic"), conversation("16315551181"));
    let sent_at = 1_700_000_000_000;
    store
        .record_customer_message(&bot, &conv, message("wamid.1", sent_at))
        .await
        .expect("record");
    store
        .record_business_message(
            &bot,
            &conv,
            "wamid.echo",
            Timestamp::from_millis(sent_at + 1_000),
            Some("hi".into()),
        )
        .await
        .expect("echo");
    store
        .commit_plan(
            &bot,
            &conv,
            1,
            vec![PendingFollowUp {
                conversation_id: conv.clone(),
                follow_up_id: follow_up_id("f1"),
                silence_period: 1,
                due_at: Timestamp::from_millis(sent_at + 60_000),
            }],
            Vec::new(),
        )
        .await
        .expect("commit");
    let claim = store
        .claim_delivery(
            &bot,
            &conv,
            &follow_up_id("f1"),
            1,
            "dlv_1",
            Timestamp::from_millis(sent_at + 60_000),
            Timestamp::from_millis(sent_at + 120_000),
        )
        .await
        .expect("claim");
    assert_eq!(claim, Claim::Claimed("dlv_1".into()));
    store
        .finish_delivery(
            &bot,
            "dlv_1",
            DeliveryUpdate {
                status: DeliveryStatus::Sent,
                sent_as: Some("text".into()),
                template_name: None,
                platform_message_id: None,
                detail: None,
                at: Timestamp::from_millis(sent_at + 61_000),
            },
            Vec::new(),
        )
        .await
        .expect("finish");

    let message_id = client
        .get_item()
        .table_name(store.table())
        .key("pk", AttributeValue::S("MSG#clinic#wamid.1".into()))
        .key("sk", AttributeValue::S("MSG".into()))
        .send()
        .await
        .expect("get")
        .item
        .expect("the message id is an item of its own");
    let received_secs = (sent_at + 500) / 1000;
    assert_eq!(
        number(&message_id, "expires_at"),
        Some(received_secs + 14 * DAY_SECS),
        "message ids are kept 14 days after arrival"
    );

    let partition = client
        .query()
        .table_name(store.table())
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("CONV#clinic#{conv}")))
        .send()
        .await
        .expect("query")
        .items
        .unwrap_or_default();
    let mut expiring = Vec::new();
    for item in &partition {
        let sk = item
            .get("sk")
            .and_then(|v| v.as_s().ok())
            .expect("sk")
            .clone();
        match number(item, "expires_at") {
            Some(expires) => expiring.push((sk, expires)),
            None => assert!(
                !sk.starts_with("TX#") && !sk.starts_with("STATE#REPLY#"),
                "{sk} must expire"
            ),
        }
    }
    expiring.sort();
    let kinds: Vec<(&str, i64)> = expiring
        .iter()
        .map(|(sk, expires)| (sk.split('#').next().unwrap_or_default(), *expires))
        .collect();
    assert_eq!(
        kinds,
        [
            ("STATE", (sent_at + 61_000) / 1000 + 8 * DAY_SECS),
            ("TX", sent_at / 1000 + 45 * DAY_SECS),
            ("TX", (sent_at + 1_000) / 1000 + 45 * DAY_SECS),
        ],
        "reply markers 8 days after the send, transcript lines 45 days after they were \
         written; state, pending entries, log and deliveries never expire"
    );
}

#[tokio::test]
async fn when_anything_scans_then_the_test_client_refuses_it() {
    let (store, client, _, _) = fresh_store().await;
    let scan = client.scan().table_name(store.table()).send().await;
    assert!(
        scan.is_err(),
        "the guard every test client carries must refuse Scan"
    );
}

#[tokio::test]
async fn when_dynamodb_cancels_transactions_for_conflicts_then_the_store_tries_again() {
    let (store, _, operations, gate) = fresh_store().await;
    let (bot, conv) = (chatbot("clinic"), conversation("16315551181"));
    gate.conflicts.store(3, Ordering::SeqCst);
    let recorded = store
        .record_customer_message(&bot, &conv, message("m1", 10_000))
        .await
        .expect("recorded despite three conflicts");
    assert!(!recorded.duplicate, "a conflict is not a duplicate");
    assert_eq!(recorded.conversation.silence_period, 1);
    let transactions = operations
        .take()
        .into_iter()
        .filter(|o| o == "TransactWriteItems")
        .count();
    assert_eq!(transactions, 4, "three cancelled, the fourth committed");

    gate.conflicts.store(2, Ordering::SeqCst);
    let created = store
        .create_follow_up(NewFollowUp {
            id: follow_up_id("f1"),
            chatbot_id: bot.clone(),
            config: config("f1", "blue", true),
            now: Timestamp::from_millis(1),
        })
        .await
        .expect("created despite two conflicts");
    assert!(created.config.active);
    assert_eq!(
        store
            .conversation_log(&bot, &conv, None, 10)
            .await
            .expect("log")
            .entries
            .len(),
        1,
        "the retried message was logged once"
    );
    assert_eq!(gate.conflicts.load(Ordering::SeqCst), 0);
}

/// The store calls of the webhook path for one new customer message (followup-app's
/// `ingest` and `plan_conversation`), on a conversation whose previous silence period has
/// both active follow-ups pending: the requests DynamoDB sees.
#[tokio::test]
async fn when_a_customer_message_is_ingested_with_two_active_follow_ups_then_it_takes_seven_requests()
 {
    let (store, _, operations, _) = fresh_store().await;
    let (bot, conv) = (chatbot("clinic"), conversation("16315551181"));
    store
        .upsert_integration(Integration {
            chatbot_id: bot.clone(),
            platform: Platform::Whatsapp,
            account_id: "106540352242922".into(),
            waba_id: None,
            access_token: Secret::new("token"),
            created_at: Timestamp::from_millis(1),
            updated_at: Timestamp::from_millis(1),
        })
        .await
        .expect("integration");
    for id in ["f1", "f2"] {
        store
            .create_follow_up(NewFollowUp {
                id: follow_up_id(id),
                chatbot_id: bot.clone(),
                config: config(id, "blue", true),
                now: Timestamp::from_millis(1),
            })
            .await
            .expect("follow-up");
    }
    let pending = |period: u64, due: i64| -> Vec<PendingFollowUp> {
        ["f1", "f2"]
            .into_iter()
            .map(|f| PendingFollowUp {
                conversation_id: conv.clone(),
                follow_up_id: follow_up_id(f),
                silence_period: period,
                due_at: Timestamp::from_millis(due),
            })
            .collect()
    };
    store
        .record_customer_message(&bot, &conv, message("m1", 10_000))
        .await
        .expect("record");
    store
        .commit_plan(&bot, &conv, 1, pending(1, 20_000), Vec::new())
        .await
        .expect("commit");
    operations.take();

    // The webhook path, call by call.
    store
        .find_integration(Platform::Whatsapp, "106540352242922")
        .await
        .expect("route")
        .expect("owner");
    let recorded = store
        .record_customer_message(&bot, &conv, message("m2", 30_000))
        .await
        .expect("record");
    let previous = store
        .pending_follow_ups(&bot, &conv)
        .await
        .expect("pending");
    let active = store
        .list_follow_ups(
            &bot,
            FollowUpFilter {
                active: Some(true),
                color: None,
            },
        )
        .await
        .expect("active");
    assert_eq!((previous.len(), active.len()), (2, 2));
    let log = previous
        .iter()
        .map(|p| followup_domain::LogEntry {
            at: Timestamp::from_millis(30_500),
            event: followup_domain::LogEvent::Cancelled {
                follow_up_id: p.follow_up_id.clone(),
                silence_period: p.silence_period,
                reason: followup_domain::CancelReason::CustomerReplied,
            },
        })
        .collect();
    assert!(
        store
            .commit_plan(
                &bot,
                &conv,
                recorded.conversation.silence_period,
                pending(2, 40_000),
                log
            )
            .await
            .expect("commit")
    );
    assert_eq!(
        operations.take(),
        [
            "GetItem",            // the integration: which chatbot
            "Query",              // state + reply markers
            "TransactWriteItems", // message id, state, transcript line, log
            "Query",              // pending follow-ups
            "Query",              // active follow-ups
            "Query",              // commit: state + pending set
            "TransactWriteItems", // commit: state, 2 pending, log, 2 stats counters
        ]
    );
}

/// The store calls of the sender for one follow-up that is sent (followup-app's
/// `send_due`): the requests DynamoDB sees.
#[tokio::test]
async fn when_a_follow_up_is_sent_then_it_takes_ten_requests() {
    let (store, _, operations, _) = fresh_store().await;
    let (bot, conv, f1) = (
        chatbot("clinic"),
        conversation("16315551181"),
        follow_up_id("f1"),
    );
    store
        .create_follow_up(NewFollowUp {
            id: f1.clone(),
            chatbot_id: bot.clone(),
            config: config("f1", "blue", true),
            now: Timestamp::from_millis(1),
        })
        .await
        .expect("follow-up");
    store
        .record_customer_message(&bot, &conv, message("m1", 10_000))
        .await
        .expect("record");
    store
        .commit_plan(
            &bot,
            &conv,
            1,
            vec![PendingFollowUp {
                conversation_id: conv.clone(),
                follow_up_id: f1.clone(),
                silence_period: 1,
                due_at: Timestamp::from_millis(20_000),
            }],
            Vec::new(),
        )
        .await
        .expect("commit");
    operations.take();

    store
        .get_conversation(&bot, &conv)
        .await
        .expect("conversation");
    store.get_follow_up(&bot, &f1).await.expect("follow-up");
    store
        .find_integration(Platform::Whatsapp, "106540352242922")
        .await
        .expect("integration");
    store
        .find_delivery(&bot, &conv, &f1, 1)
        .await
        .expect("delivery");
    let claim = store
        .claim_delivery(
            &bot,
            &conv,
            &f1,
            1,
            "dlv_1",
            Timestamp::from_millis(20_000),
            Timestamp::from_millis(80_000),
        )
        .await
        .expect("claim");
    assert_eq!(claim, Claim::Claimed("dlv_1".into()));
    store.transcript(&bot, &conv).await.expect("transcript");
    store
        .finish_delivery(
            &bot,
            "dlv_1",
            DeliveryUpdate {
                status: DeliveryStatus::Sent,
                sent_as: Some("text".into()),
                template_name: None,
                platform_message_id: Some("wamid.out".into()),
                detail: None,
                at: Timestamp::from_millis(21_000),
            },
            vec![followup_domain::LogEntry {
                at: Timestamp::from_millis(21_000),
                event: followup_domain::LogEvent::Sent {
                    follow_up_id: f1.clone(),
                    silence_period: 1,
                    delivery_id: "dlv_1".into(),
                    sent_as: "text".into(),
                },
            }],
        )
        .await
        .expect("finish");
    assert_eq!(
        operations.take(),
        [
            "GetItem",            // conversation state
            "GetItem",            // follow-up
            "GetItem",            // integration
            "GetItem",            // delivery of this period, if any
            "PutItem",            // claim: the delivery-id pointer
            "UpdateItem",         // claim: the conditional claim
            "Query",              // transcript, latest 40 lines
            "GetItem",            // finish: the pointer
            "BatchGetItem",       // finish: delivery, state, pending entry
            "TransactWriteItems", // finish: delivery, pending, state, log, stats, marker
        ]
    );
    assert!(
        store
            .pending_follow_ups(&bot, &conv)
            .await
            .expect("pending")
            .is_empty()
    );
}

/// A catalogue refresh, the catalogue list and a status webhook for an account of 130
/// templates of about 9 KB each (more than 1 MB: two query pages): the requests DynamoDB
/// sees.
#[tokio::test]
async fn when_a_catalogue_of_130_templates_is_refreshed_listed_and_updated_then_requests_are_batched()
 {
    let (store, _, operations, _) = fresh_store().await;
    let bot = chatbot("clinic");
    let filler = "x".repeat(9_000);
    let many: Vec<MessageTemplate> = (0..130)
        .map(|i| MessageTemplate {
            components_json: serde_json::json!([{"type": "BODY", "text": format!("{i} {filler}")}])
                .to_string(),
            ..template("111", &format!("template_{i:03}"), "en_US")
        })
        .collect();
    let batch_writes = |n: usize| vec!["BatchWriteItem"; n];

    store
        .replace_catalogue(&bot, "111", many.clone(), Timestamp::from_millis(1_000))
        .await
        .expect("refresh");
    let mut expected = vec!["Query"]; // the account's current templates (none)
    expected.extend(batch_writes(6)); // 130 puts, 25 per request
    expected.push("PutItem"); // the chatbot's link
    assert_eq!(operations.take(), expected);

    let listed = store.list_templates(&bot).await.expect("list");
    assert_eq!(listed.len(), 130);
    assert_eq!(
        operations.take(),
        [
            "Query", // the chatbot's linked accounts
            "Query", // the account's templates, first 1 MB
            "Query", // the rest
        ]
    );

    let changed = store
        .record_template_status(&TemplateStatusChange {
            waba_id: "111".into(),
            template_id: None,
            name: "template_007".into(),
            language: "en_US".into(),
            status: TemplateStatus::Paused,
            reason: None,
            at: Timestamp::from_millis(2_000),
        })
        .await
        .expect("status");
    assert!(changed);
    assert_eq!(operations.take(), ["UpdateItem"]);

    // Meta now lists every third one: 44 puts and 86 deletes, 130 requests again.
    let kept: Vec<MessageTemplate> = many.iter().step_by(3).cloned().collect();
    store
        .replace_catalogue(&bot, "111", kept, Timestamp::from_millis(3_000))
        .await
        .expect("refresh");
    let mut expected = vec!["Query", "Query"]; // the current 130 templates, two pages
    expected.extend(batch_writes(6));
    expected.push("PutItem");
    assert_eq!(operations.take(), expected);
    assert_eq!(store.list_templates(&bot).await.expect("list").len(), 44);
}

#[tokio::test]
async fn when_dynamodb_leaves_batch_writes_unprocessed_then_the_store_sends_them_again() {
    let (store, _, operations, gate) = fresh_store().await;
    let bot = chatbot("clinic");
    let list: Vec<MessageTemplate> = (0..30)
        .map(|i| template("111", &format!("template_{i:02}"), "en_US"))
        .collect();
    gate.unprocessed.store(3, Ordering::SeqCst);
    store
        .replace_catalogue(&bot, "111", list, Timestamp::from_millis(1_000))
        .await
        .expect("refreshed despite three unprocessed answers");
    let batch_writes = operations
        .take()
        .into_iter()
        .filter(|o| o == "BatchWriteItem")
        .count();
    assert_eq!(batch_writes, 5, "two batches, three of them sent again");
    assert_eq!(store.list_templates(&bot).await.expect("list").len(), 30);

    gate.unprocessed.store(usize::MAX, Ordering::SeqCst);
    let refused = store
        .replace_catalogue(&bot, "111", Vec::new(), Timestamp::from_millis(2_000))
        .await;
    assert!(
        matches!(refused, Err(followup_ports::StoreError::Unavailable(_))),
        "a batch DynamoDB never processes makes the store unavailable: {refused:?}"
    );
    gate.unprocessed.store(0, Ordering::SeqCst);
    assert_eq!(
        store.catalogue_accounts(&bot).await.expect("accounts")[0].synced_at,
        Timestamp::from_millis(1_000),
        "a failed refresh does not move the link's time"
    );
}

//! The three Lambda functions as release binaries under a local Runtime API, with moto
//! behind them (DynamoDB, EventBridge Scheduler, SQS, SSM) and a local Graph API:
//! a signed webhook in → a schedule in moto → its payload delivered to the sender as an
//! SQS event → the message posted to the Graph API → the delivery visible through the api
//! function; and the template catalogue: refreshed from the Graph API by the api function,
//! paused by a status webhook through the webhook function.

use base64::Engine as _;
use followup_meta::sign;
use followup_tests::fakes::{FakeGraph, meta_template};
use followup_tests::moto::{moto_url, sdk_config, unique_name};
use followup_tests::runtime_api::{Outcome, RuntimeApi, spawn_function};
use serde_json::{Value, json};

const APP_SECRET: &str = "e2e-app-secret";
const VERIFY_TOKEN: &str = "e2e-verify-token";
const PHONE_NUMBER_ID: &str = "106540352242922";
const CUSTOMER: &str = "16315551181";

/// An API Gateway HTTP API (payload 2.0) event, with JWT claims when `chatbots` is set.
fn http_event(
    method: &str,
    path: &str,
    query: &str,
    body: Option<&[u8]>,
    base64: bool,
    headers: Value,
    chatbots: Option<&str>,
) -> Value {
    let mut context = json!({
        "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com", "domainPrefix": "api",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.1", "userAgent": "e2e"},
        "requestId": "req", "routeKey": "$default", "stage": "$default",
        "time": "24/Nov/2026:06:00:00 +0000", "timeEpoch": 1_795_500_000_000_i64
    });
    if let Some(chatbots) = chatbots {
        context["authorizer"] = json!({"jwt": {"claims": {"sub": "operator-1", "followup_chatbots": chatbots}, "scopes": null}});
    }
    let mut event = json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": headers, "requestContext": context, "isBase64Encoded": base64
    });
    if let Some(body) = body {
        event["body"] = if base64 {
            Value::String(base64::engine::general_purpose::STANDARD.encode(body))
        } else {
            Value::String(String::from_utf8(body.to_vec()).expect("utf-8"))
        };
    }
    event
}

fn response(outcome: Outcome) -> (u64, Value) {
    let Outcome::Response(response) = outcome else {
        panic!("function error: {outcome:?}");
    };
    let status = response["statusCode"].as_u64().expect("statusCode");
    let body = response["body"].as_str().unwrap_or("");
    let body = if response["isBase64Encoded"] == true {
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .expect("base64"),
        )
        .expect("utf-8")
    } else {
        body.to_owned()
    };
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

/// A fresh standard queue on moto: its URL and ARN.
async fn create_queue(sqs: &aws_sdk_sqs::Client, prefix: &str) -> (String, String) {
    let queue_url = sqs
        .create_queue()
        .queue_name(unique_name(prefix))
        .send()
        .await
        .expect("queue")
        .queue_url()
        .expect("queue url")
        .to_owned();
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes")
        .attributes()
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .expect("queue arn");
    (queue_url, queue_arn)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_a_signed_webhook_arrives_then_the_schedule_fires_into_the_sender_and_the_delivery_shows_in_the_api()
 {
    let sdk = sdk_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let scheduler = aws_sdk_scheduler::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let ssm = aws_sdk_ssm::Client::new(&sdk);

    let table = unique_name("followups");
    followup_aws::dynamo::create_table(&dynamo, &table)
        .await
        .expect("create table");
    let group = unique_name("followups");
    scheduler
        .create_schedule_group()
        .name(&group)
        .send()
        .await
        .expect("schedule group");
    // The due queue, and the schedules' dead-letter queue (the templates create both).
    let (queue_url, queue_arn) = create_queue(&sqs, "due").await;
    let (_, scheduler_dlq_arn) = create_queue(&sqs, "scheduler-dlq").await;
    let prefix = format!("/{}/", unique_name("followup"));
    for (name, value) in [
        ("meta-app-secret", APP_SECRET),
        ("meta-verify-token", VERIFY_TOKEN),
    ] {
        ssm.put_parameter()
            .name(format!("{prefix}{name}"))
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .expect("put parameter");
    }
    let graph = FakeGraph::start().await;

    let env: Vec<(String, String)> = [
        ("AWS_ENDPOINT_URL", moto_url()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("FOLLOWUP_TABLE", table.clone()),
        ("FOLLOWUP_SCHEDULE_GROUP", group.clone()),
        ("FOLLOWUP_DUE_QUEUE_ARN", queue_arn.clone()),
        ("FOLLOWUP_DUE_QUEUE_URL", queue_url.clone()),
        (
            "FOLLOWUP_SCHEDULER_ROLE_ARN",
            "arn:aws:iam::123456789012:role/followup-scheduler".into(),
        ),
        ("FOLLOWUP_SCHEDULER_DLQ_ARN", scheduler_dlq_arn.clone()),
        ("FOLLOWUP_SECRETS_PREFIX", prefix.clone()),
        ("FOLLOWUP_GRAPH_BASE_URL", graph.base_url.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();

    let api_runtime = RuntimeApi::start().await;
    let webhook_runtime = RuntimeApi::start().await;
    let sender_runtime = RuntimeApi::start().await;
    let _api = spawn_function("followup-api-fn", &api_runtime, &env);
    let _webhook = spawn_function("followup-webhook-fn", &webhook_runtime, &env);
    let _sender = spawn_function("followup-sender-fn", &sender_runtime, &env);
    let json_headers = json!({"content-type": "application/json"});

    // Operators, through the api function: the caller's chatbots come from JWT claims.
    let integration =
        br#"{"access_token": "EAAG-e2e-token", "whatsapp_business_account_id": "102290129340398"}"#;
    let path = format!("/v1/chatbots/clinic/integrations/whatsapp/{PHONE_NUMBER_ID}");
    let (status, body) = response(
        api_runtime
            .invoke(http_event(
                "PUT",
                &path,
                "",
                Some(integration),
                false,
                json_headers.clone(),
                None,
            ))
            .await,
    );
    assert_eq!(status, 401, "no claims, no access: {body}");
    let (status, _) = response(
        api_runtime
            .invoke(http_event(
                "PUT",
                &path,
                "",
                Some(integration),
                false,
                json_headers.clone(),
                Some("other-bot"),
            ))
            .await,
    );
    assert_eq!(status, 403);
    let (status, body) = response(
        api_runtime
            .invoke(http_event(
                "PUT",
                &path,
                "",
                Some(integration),
                false,
                json_headers.clone(),
                Some("clinic"),
            ))
            .await,
    );
    assert_eq!(status, 201, "{body}");
    // The template catalogue, refreshed from the Graph API into DynamoDB by the api function.
    graph.set_templates(
        "102290129340398",
        vec![meta_template(
            "1274983650212345",
            "appointment_reminder",
            "en_US",
            "UTILITY",
            "APPROVED",
            "Hi {{1}}, your slot is still free. Reply YES to book it.",
        )],
    );
    let (status, catalogue) = response(
        api_runtime
            .invoke(http_event(
                "POST",
                "/v1/chatbots/clinic/whatsapp-templates/refresh",
                "",
                None,
                false,
                json!({}),
                Some("clinic"),
            ))
            .await,
    );
    assert_eq!(status, 200, "{catalogue}");
    assert_eq!(catalogue["items"][0]["status"], "APPROVED");
    let follow_up = serde_json::to_vec(&json!({
        "name": "Appointment reminder - 4 hours",
        "delay": {"mode": "manual", "hours": 4},
        "description": "The customer asked about booking a cleaning appointment but did not confirm.",
        "stop_trigger": "The customer confirmed, cancelled, or is no longer interested.",
        "message": {"mode": "custom", "text": "Shall I book Tuesday 10:00 for your cleaning?"}
    }))
    .expect("json");
    let (status, created) = response(
        api_runtime
            .invoke(http_event(
                "POST",
                "/v1/chatbots/clinic/follow-ups",
                "",
                Some(&follow_up),
                false,
                json_headers.clone(),
                Some("clinic"),
            ))
            .await,
    );
    assert_eq!(status, 201, "{created}");
    let follow_up_id = created["id"].as_str().expect("id").to_owned();

    // Meta, through the webhook function: the handshake, then a signed (base64) delivery.
    let query = format!("hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=4242");
    let (status, challenge) = response(
        webhook_runtime
            .invoke(http_event(
                "GET",
                "/v1/webhooks/meta",
                &query,
                None,
                false,
                json!({}),
                None,
            ))
            .await,
    );
    assert_eq!((status, challenge), (200, json!(4242)));
    let now_secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    let payload = serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": CUSTOMER}],
            "messages": [{"from": CUSTOMER, "id": "wamid.e2e", "timestamp": now_secs.to_string(), "type": "text",
                          "text": {"body": "Do you have a cleaning appointment on Tuesday?"}}]
        }}]}]
    }))
    .expect("json");
    let signed = json!({"content-type": "application/json", "x-hub-signature-256": sign(APP_SECRET.as_bytes(), &payload)});
    let (status, _) = response(
        webhook_runtime
            .invoke(http_event(
                "POST",
                "/v1/webhooks/meta",
                "",
                Some(&payload),
                true,
                json!({"content-type": "application/json", "x-hub-signature-256": "sha256=00"}),
                None,
            ))
            .await,
    );
    assert_eq!(status, 401, "a bad signature is refused");
    let (status, body) = response(
        webhook_runtime
            .invoke(http_event(
                "POST",
                "/v1/webhooks/meta",
                "",
                Some(&payload),
                true,
                signed,
                None,
            ))
            .await,
    );
    assert_eq!((status, body), (200, json!("EVENT_RECEIVED")));

    // The schedule exists in moto, named deterministically, with the due item as input.
    let schedules = scheduler
        .list_schedules()
        .group_name(&group)
        .send()
        .await
        .expect("list schedules");
    assert_eq!(schedules.schedules().len(), 1);
    let name = schedules.schedules()[0].name().expect("name").to_owned();
    let schedule = scheduler
        .get_schedule()
        .group_name(&group)
        .name(&name)
        .send()
        .await
        .expect("get schedule");
    let target = schedule.target().expect("target");
    assert_eq!(target.arn(), queue_arn);
    assert_eq!(
        target.dead_letter_config().and_then(|d| d.arn()),
        Some(scheduler_dlq_arn.as_str()),
        "undeliverable fires go to the scheduler DLQ"
    );
    let input = target.input().expect("input").to_owned();

    // EventBridge Scheduler → SQS → the sender: the schedule's payload as an SQS event.
    let sqs_event = json!({"Records": [{
        "messageId": "msg-1", "receiptHandle": "rh", "body": input, "md5OfBody": "",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795500000000", "SenderId": "scheduler", "ApproximateFirstReceiveTimestamp": "1795500000000"},
        "messageAttributes": {}, "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": "us-east-1"
    }]});
    let Outcome::Response(batch) = sender_runtime.invoke(sqs_event.clone()).await else {
        panic!("the sender failed");
    };
    assert_eq!(batch["batchItemFailures"], json!([]));
    let requests = graph.requests();
    assert_eq!(requests.len(), 1, "sent to the Graph API once");
    assert_eq!(
        requests[0].body["text"]["body"],
        "Shall I book Tuesday 10:00 for your cleaning?"
    );
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some("Bearer EAAG-e2e-token")
    );

    // SQS delivers at least once: the same message again sends nothing.
    let Outcome::Response(batch) = sender_runtime.invoke(sqs_event).await else {
        panic!("the sender failed");
    };
    assert_eq!(batch["batchItemFailures"], json!([]));
    assert_eq!(graph.requests().len(), 1);

    // The delivery, through the api function.
    let path = format!("/v1/chatbots/clinic/follow-ups/{follow_up_id}/deliveries");
    let (status, deliveries) = response(
        api_runtime
            .invoke(http_event(
                "GET",
                &path,
                "",
                None,
                false,
                json!({}),
                Some("clinic"),
            ))
            .await,
    );
    assert_eq!(status, 200, "{deliveries}");
    assert_eq!(deliveries["items"][0]["status"], "sent");
    assert_eq!(deliveries["items"][0]["customer_id"], CUSTOMER);

    // Meta pauses the template: the webhook function updates the catalogue in DynamoDB.
    let paused = serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        // Entry times are whole seconds; one later than the refresh, as a pause after it is.
        "entry": [{"id": "102290129340398", "time": now_secs + 1, "changes": [{
            "field": "message_template_status_update",
            "value": {"event": "PAUSED", "message_template_id": 1_274_983_650_212_345_i64,
                      "message_template_name": "appointment_reminder",
                      "message_template_language": "en_US", "reason": null,
                      "other_info": {"title": "FIRST_PAUSE", "description": "paused for 3 hours"}}
        }]}]
    }))
    .expect("json");
    let signed = json!({"content-type": "application/json", "x-hub-signature-256": sign(APP_SECRET.as_bytes(), &paused)});
    let (status, _) = response(
        webhook_runtime
            .invoke(http_event(
                "POST",
                "/v1/webhooks/meta",
                "",
                Some(&paused),
                false,
                signed,
                None,
            ))
            .await,
    );
    assert_eq!(status, 200);
    let (status, catalogue) = response(
        api_runtime
            .invoke(http_event(
                "GET",
                "/v1/chatbots/clinic/whatsapp-templates",
                "status=PAUSED",
                None,
                false,
                json!({}),
                Some("clinic"),
            ))
            .await,
    );
    assert_eq!(status, 200, "{catalogue}");
    assert_eq!(catalogue["items"][0]["name"], "appointment_reminder");
    assert_eq!(catalogue["items"][0]["status_reason"], "FIRST_PAUSE");

    // The console's static files, through the api function without claims (API Gateway
    // routes /console without the JWT authorizer); its /v1 calls need a JWT as above.
    for (path, content_type) in [
        ("/console/", "text/html"),
        ("/console/app.js", "text/javascript"),
    ] {
        let Outcome::Response(page) = api_runtime
            .invoke(http_event("GET", path, "", None, false, json!({}), None))
            .await
        else {
            panic!("the api function failed on {path}");
        };
        assert_eq!(page["statusCode"], 200, "{path}");
        let served = page["headers"]["content-type"].as_str().unwrap_or("");
        assert!(served.starts_with(content_type), "{path}: {served}");
        assert_eq!(
            page["isBase64Encoded"], false,
            "{path}: text goes out as text"
        );
    }
    assert!(
        api_runtime.init_error().is_none()
            && webhook_runtime.init_error().is_none()
            && sender_runtime.init_error().is_none()
    );
}

//! The EventBridge Scheduler adapter and the SSM secrets loader against the moto emulator,
//! through the real aws-sdk clients. Needs `FOLLOWUP_TEST_MOTO_URL` (see `moto.rs`);
//! without it every test fails with instructions.
//!
//! moto never fires schedules: what a fired schedule would deliver is its target input,
//! which these tests parse back into the `DueItem` the sender expects.

use std::sync::{Arc, Mutex};

use aws_sdk_scheduler::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_scheduler::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_scheduler::error::BoxError;
use aws_sdk_scheduler::types::{ActionAfterCompletion, FlexibleTimeWindowMode, Target};
use aws_sdk_sqs::types::QueueAttributeName;
use followup_aws::scheduler::{
    EventBridgeConfig, EventBridgeScheduler, MIN_SCHEDULE_LEAD_MS, RETRY_MAXIMUM_ATTEMPTS,
    RETRY_MAXIMUM_EVENT_AGE_SECONDS, at_expression, is_valid_at_expression, schedule_name,
};
use followup_aws::secrets::{SecretsError, SsmClient, load_secrets};
use followup_domain::{ChatbotId, ConversationId, FollowUpId, Timestamp};
use followup_ports::{DueItem, DueKey, FixedClock, Scheduler, SchedulerError};
use followup_tests::moto;

/// 2030-03-04T05:06:07.250Z: a fixed "now", so expressions are known in advance.
const NOW_MS: i64 = 1_898_831_167_250;
const HOUR_MS: i64 = 3_600_000;
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/followup-scheduler";
const DLQ_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:followup-scheduler-dlq";

/// The target's failure handling as GetSchedule shows it: the deployment's dead-letter
/// queue and AWS's default retry policy, written out (pinned: 24 h, 185 attempts).
fn assert_failure_handling(target: &Target) {
    assert_eq!(
        target.dead_letter_config().and_then(|d| d.arn()),
        Some(DLQ_ARN),
        "the schedule names the scheduler DLQ"
    );
    let retry = target.retry_policy().expect("retry policy");
    assert_eq!(retry.maximum_event_age_in_seconds(), Some(86_400));
    assert_eq!(retry.maximum_retry_attempts(), Some(185));
    assert_eq!(
        (RETRY_MAXIMUM_EVENT_AGE_SECONDS, RETRY_MAXIMUM_ATTEMPTS),
        (86_400, 185)
    );
}

/// The same on the wire: moto fills in a default retry policy when a request has none, so
/// only the request body shows that the adapter sent it (AWS would reset an UpdateSchedule
/// that leaves it out).
fn assert_failure_handling_sent(body: &str) {
    let request: serde_json::Value = serde_json::from_str(body).expect("request body is JSON");
    let target = &request["Target"];
    assert_eq!(target["DeadLetterConfig"]["Arn"], DLQ_ARN, "{request}");
    assert_eq!(
        target["RetryPolicy"]["MaximumEventAgeInSeconds"], 86_400,
        "{request}"
    );
    assert_eq!(
        target["RetryPolicy"]["MaximumRetryAttempts"], 185,
        "{request}"
    );
}

/// Records the operation (and body) of every request the adapter's clients send.
#[derive(Debug, Clone, Default)]
struct CallLog(Arc<Mutex<Vec<(String, String)>>>);

impl CallLog {
    fn take(&self) -> Vec<String> {
        self.take_with_bodies()
            .into_iter()
            .map(|(operation, _)| operation)
            .collect()
    }

    fn take_with_bodies(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.0.lock().expect("call log lock"))
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "CallLog"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let operation = match request.headers().get("x-amz-target") {
            // SQS (JSON protocol): `AmazonSQS.SendMessage`.
            Some(target) => target.rsplit('.').next().unwrap_or(target).to_owned(),
            // Scheduler (REST): the verb on /schedules/{name} is the operation.
            None => match request.method() {
                "POST" => "CreateSchedule".to_owned(),
                "PUT" => "UpdateSchedule".to_owned(),
                "DELETE" => "DeleteSchedule".to_owned(),
                "GET" => "GetSchedule".to_owned(),
                other => other.to_owned(),
            },
        };
        let body = request
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        self.0
            .lock()
            .expect("call log lock")
            .push((operation, body));
        Ok(())
    }
}

/// One test's group and queue, the adapter over them (with counted calls) and plain
/// clients to look at the result.
struct Fixture {
    adapter: EventBridgeScheduler,
    calls: CallLog,
    clock: Arc<FixedClock>,
    scheduler: aws_sdk_scheduler::Client,
    sqs: aws_sdk_sqs::Client,
    group: String,
    queue_url: String,
    queue_arn: String,
}

impl Fixture {
    async fn new() -> Self {
        let config = moto::sdk_config().await;
        let scheduler = aws_sdk_scheduler::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);

        let group = moto::unique_name("fu-group");
        scheduler
            .create_schedule_group()
            .name(&group)
            .send()
            .await
            .expect("create schedule group");
        let queue_url = sqs
            .create_queue()
            .queue_name(moto::unique_name("fu-due"))
            .send()
            .await
            .expect("create queue")
            .queue_url()
            .expect("queue url")
            .to_owned();
        let queue_arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes")
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn))
            .expect("queue arn")
            .clone();

        let calls = CallLog::default();
        let counted_scheduler = aws_sdk_scheduler::Client::from_conf(
            aws_sdk_scheduler::config::Builder::from(&config)
                .interceptor(calls.clone())
                .build(),
        );
        let counted_sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::config::Builder::from(&config)
                .interceptor(calls.clone())
                .build(),
        );
        let clock = Arc::new(FixedClock::new(Timestamp::from_millis(NOW_MS)));
        let adapter = EventBridgeScheduler::new(
            EventBridgeConfig {
                group: group.clone(),
                target_queue_arn: queue_arn.clone(),
                target_queue_url: queue_url.clone(),
                role_arn: ROLE_ARN.to_owned(),
                dead_letter_arn: DLQ_ARN.to_owned(),
            },
            counted_scheduler,
            counted_sqs,
            clock.clone(),
        );
        Self {
            adapter,
            calls,
            clock,
            scheduler,
            sqs,
            group,
            queue_url,
            queue_arn,
        }
    }

    async fn schedule_names(&self) -> Vec<String> {
        let output = self
            .scheduler
            .list_schedules()
            .group_name(&self.group)
            .send()
            .await
            .expect("list schedules");
        output
            .schedules()
            .iter()
            .filter_map(|s| s.name().map(str::to_owned))
            .collect()
    }

    async fn get(
        &self,
        key: &DueKey,
    ) -> aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput {
        self.scheduler
            .get_schedule()
            .group_name(&self.group)
            .name(schedule_name(key))
            .send()
            .await
            .expect("get schedule")
    }

    async fn receive(&self) -> Vec<DueItem> {
        let output = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive message");
        output
            .messages()
            .iter()
            .map(|m| {
                serde_json::from_str(m.body().expect("message body")).expect("body is a DueItem")
            })
            .collect()
    }

    async fn queue_counts(&self) -> (String, String) {
        let output = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .expect("queue attributes");
        let attributes = output.attributes().expect("attributes");
        let get = |name| attributes.get(&name).cloned().unwrap_or_default();
        (
            get(QueueAttributeName::ApproximateNumberOfMessages),
            get(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
        )
    }
}

fn key(follow_up: &str) -> DueKey {
    DueKey {
        chatbot_id: ChatbotId::parse("dental-clinic").expect("chatbot id"),
        conversation_id: ConversationId::parse("whatsapp:106540352242922:16315551181")
            .expect("conversation id"),
        follow_up_id: FollowUpId::parse(follow_up).expect("follow-up id"),
    }
}

fn item(key: &DueKey, silence_period: u64, due_ms: i64) -> DueItem {
    DueItem {
        key: key.clone(),
        silence_period,
        due_at: Timestamp::from_millis(due_ms),
        judge_attempts: 0,
    }
}

#[tokio::test]
async fn when_an_item_is_scheduled_then_the_schedule_is_a_one_shot_at_due_time_targeting_the_queue()
{
    let f = Fixture::new().await;
    let key = key("fu_1");
    let due = item(&key, 3, NOW_MS + 2 * HOUR_MS + 750);

    f.adapter.schedule(due.clone()).await.expect("schedule");
    let calls = f.calls.take_with_bodies();
    let operations: Vec<&str> = calls.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(
        operations,
        ["CreateSchedule"],
        "a fresh schedule costs one call"
    );
    assert_failure_handling_sent(&calls[0].1);

    let schedule = f.get(&key).await;
    assert_eq!(schedule.name(), Some(schedule_name(&key).as_str()));
    assert_eq!(schedule.group_name(), Some(f.group.as_str()));
    // 07:06:08.000 is 2 h and 0.75 s after 05:06:07.250; no fraction to round.
    assert_eq!(
        schedule.schedule_expression(),
        Some("at(2030-03-04T07:06:08)")
    );
    assert_eq!(
        schedule.flexible_time_window().map(|w| w.mode()),
        Some(&FlexibleTimeWindowMode::Off)
    );
    assert_eq!(
        schedule.action_after_completion(),
        Some(&ActionAfterCompletion::Delete)
    );
    let target = schedule.target().expect("target");
    assert_eq!(target.arn(), f.queue_arn);
    assert_eq!(target.role_arn(), ROLE_ARN);
    assert_failure_handling(target);
    let input: DueItem =
        serde_json::from_str(target.input().expect("target input")).expect("input is a DueItem");
    assert_eq!(input, due);
    assert!(f.receive().await.is_empty(), "nothing is sent directly");
}

#[tokio::test]
async fn when_the_same_key_is_scheduled_again_then_the_schedule_is_updated_not_duplicated() {
    let f = Fixture::new().await;
    let key = key("fu_1");
    f.adapter
        .schedule(item(&key, 1, NOW_MS + HOUR_MS))
        .await
        .expect("first schedule");
    f.calls.take();

    let next = item(&key, 2, NOW_MS + 5 * HOUR_MS);
    f.adapter.schedule(next.clone()).await.expect("reschedule");
    let calls = f.calls.take_with_bodies();
    let operations: Vec<&str> = calls.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(
        operations,
        ["CreateSchedule", "UpdateSchedule"],
        "an existing schedule costs a create that conflicts and an update"
    );
    assert_failure_handling_sent(&calls[1].1);

    assert_eq!(f.schedule_names().await, [schedule_name(&key)]);
    let schedule = f.get(&key).await;
    assert_eq!(
        schedule.schedule_expression(),
        Some("at(2030-03-04T10:06:08)")
    );
    assert_eq!(
        schedule.action_after_completion(),
        Some(&ActionAfterCompletion::Delete),
        "still DELETE after the update"
    );
    assert_eq!(
        schedule.flexible_time_window().map(|w| w.mode()),
        Some(&FlexibleTimeWindowMode::Off)
    );
    let target = schedule.target().expect("target");
    assert_failure_handling(target);
    let input: DueItem =
        serde_json::from_str(target.input().expect("target input")).expect("input is a DueItem");
    assert_eq!(input, next);
}

#[tokio::test]
async fn when_a_schedule_of_that_name_has_other_settings_then_the_update_sets_every_field() {
    // AWS resets every field an UpdateSchedule leaves out; moto keeps the old value. Start
    // from a schedule whose every setting differs, so a field the adapter forgot to send
    // would show here.
    let f = Fixture::new().await;
    let key = key("fu_1");
    f.scheduler
        .create_schedule()
        .name(schedule_name(&key))
        .group_name(&f.group)
        .schedule_expression("at(2030-01-01T00:00:00)")
        .schedule_expression_timezone("Europe/Berlin")
        .flexible_time_window(
            aws_sdk_scheduler::types::FlexibleTimeWindow::builder()
                .mode(FlexibleTimeWindowMode::Flexible)
                .maximum_window_in_minutes(15)
                .build()
                .expect("window"),
        )
        .action_after_completion(ActionAfterCompletion::None)
        .target(
            aws_sdk_scheduler::types::Target::builder()
                .arn("arn:aws:sqs:us-east-1:123456789012:elsewhere")
                .role_arn("arn:aws:iam::123456789012:role/other")
                .input("{}")
                .dead_letter_config(
                    aws_sdk_scheduler::types::DeadLetterConfig::builder()
                        .arn("arn:aws:sqs:us-east-1:123456789012:other-dlq")
                        .build(),
                )
                .retry_policy(
                    aws_sdk_scheduler::types::RetryPolicy::builder()
                        .maximum_event_age_in_seconds(60)
                        .maximum_retry_attempts(0)
                        .build(),
                )
                .build()
                .expect("target"),
        )
        .send()
        .await
        .expect("foreign schedule");

    let due = item(&key, 4, NOW_MS + HOUR_MS);
    f.adapter.schedule(due.clone()).await.expect("schedule");
    let calls = f.calls.take_with_bodies();
    let operations: Vec<&str> = calls.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(operations, ["CreateSchedule", "UpdateSchedule"]);
    // moto's UpdateSchedule ignores ActionAfterCompletion (it keeps the old value), so
    // that field is checked on the wire.
    let update: serde_json::Value =
        serde_json::from_str(&calls[1].1).expect("UpdateSchedule body is JSON");
    assert_eq!(update["ActionAfterCompletion"], "DELETE", "{update}");
    assert_eq!(update["ScheduleExpressionTimezone"], "UTC", "{update}");
    assert_eq!(update["GroupName"], f.group.as_str(), "{update}");
    assert_failure_handling_sent(&calls[1].1);

    let schedule = f.get(&key).await;
    assert_eq!(
        schedule.schedule_expression(),
        Some("at(2030-03-04T06:06:08)")
    );
    assert_eq!(schedule.schedule_expression_timezone(), Some("UTC"));
    assert_eq!(
        schedule.flexible_time_window().map(|w| w.mode()),
        Some(&FlexibleTimeWindowMode::Off)
    );
    assert_eq!(
        schedule
            .flexible_time_window()
            .and_then(|w| w.maximum_window_in_minutes()),
        None
    );
    let target = schedule.target().expect("target");
    assert_eq!(target.arn(), f.queue_arn);
    assert_eq!(target.role_arn(), ROLE_ARN);
    assert_failure_handling(target);
    let input: DueItem =
        serde_json::from_str(target.input().expect("input")).expect("input is a DueItem");
    assert_eq!(input, due);
}

/// Deletes the schedule right before the adapter's first UpdateSchedule is sent, as
/// EventBridge does when the schedule fires (and deletes itself) between our conflicting
/// create and the update. A raw HTTP call: an interceptor cannot await the SDK.
#[derive(Debug)]
struct DeleteBeforeFirstUpdate {
    group: String,
    done: std::sync::atomic::AtomicBool,
}

impl Intercept for DeleteBeforeFirstUpdate {
    fn name(&self) -> &'static str {
        "DeleteBeforeFirstUpdate"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use std::io::{Read, Write};
        let request = context.request();
        if request.method() != "PUT" || self.done.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        let url = moto::moto_url();
        let host = url.trim_start_matches("http://").trim_end_matches('/');
        let path = request
            .uri()
            .split_once("/schedules/")
            .map(|(_, name)| format!("/schedules/{name}"))
            .ok_or("no schedule in the update's URI")?;
        let mut stream = std::net::TcpStream::connect(host)?;
        write!(
            stream,
            "DELETE {path}?groupName={group} HTTP/1.1\r\nHost: {host}\r\n\
             Authorization: AWS4-HMAC-SHA256 \
             Credential=test/20300101/us-east-1/scheduler/aws4_request, \
             SignedHeaders=host, Signature=0\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n",
            group = self.group
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        if !response.starts_with("HTTP/1.1 200") {
            return Err(format!("out-of-band delete failed: {response}").into());
        }
        Ok(())
    }
}

#[tokio::test]
async fn when_the_schedule_vanishes_between_conflict_and_update_then_it_is_created_again() {
    let f = Fixture::new().await;
    let key = key("fu_1");
    f.adapter
        .schedule(item(&key, 1, NOW_MS + HOUR_MS))
        .await
        .expect("first schedule");

    let config = moto::sdk_config().await;
    let calls = CallLog::default();
    let racing = EventBridgeScheduler::new(
        f.adapter.config().clone(),
        aws_sdk_scheduler::Client::from_conf(
            aws_sdk_scheduler::config::Builder::from(&config)
                .interceptor(DeleteBeforeFirstUpdate {
                    group: f.group.clone(),
                    done: std::sync::atomic::AtomicBool::new(false),
                })
                .interceptor(calls.clone())
                .build(),
        ),
        aws_sdk_sqs::Client::new(&config),
        f.clock.clone(),
    );
    let next = item(&key, 2, NOW_MS + 3 * HOUR_MS);
    racing.schedule(next.clone()).await.expect("reschedule");
    assert_eq!(
        calls.take(),
        ["CreateSchedule", "UpdateSchedule", "CreateSchedule"]
    );
    assert_eq!(f.schedule_names().await, [schedule_name(&key)]);
    let schedule = f.get(&key).await;
    let target = schedule.target().expect("target");
    assert_failure_handling(target);
    let input: DueItem =
        serde_json::from_str(target.input().expect("input")).expect("input is a DueItem");
    assert_eq!(input, next);
}

#[tokio::test]
async fn when_two_follow_ups_of_one_conversation_are_scheduled_then_both_exist() {
    let f = Fixture::new().await;
    f.adapter
        .schedule(item(&key("fu_1"), 1, NOW_MS + HOUR_MS))
        .await
        .expect("first");
    f.adapter
        .schedule(item(&key("fu_2"), 1, NOW_MS + HOUR_MS))
        .await
        .expect("second");
    let mut names = f.schedule_names().await;
    names.sort();
    let mut expected = vec![schedule_name(&key("fu_1")), schedule_name(&key("fu_2"))];
    expected.sort();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn when_a_schedule_is_cancelled_then_it_is_gone() {
    let f = Fixture::new().await;
    let key = key("fu_1");
    f.adapter
        .schedule(item(&key, 1, NOW_MS + HOUR_MS))
        .await
        .expect("schedule");
    f.calls.take();

    f.adapter.cancel(&key).await.expect("cancel");
    assert_eq!(f.calls.take(), ["DeleteSchedule"]);
    assert!(f.schedule_names().await.is_empty());
    let error = f
        .scheduler
        .get_schedule()
        .group_name(&f.group)
        .name(schedule_name(&key))
        .send()
        .await
        .expect_err("the schedule is gone");
    assert!(
        error
            .as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception())
    );
}

#[tokio::test]
async fn when_a_missing_schedule_is_cancelled_then_it_succeeds() {
    let f = Fixture::new().await;
    f.adapter
        .cancel(&key("never-scheduled"))
        .await
        .expect("cancelling a missing schedule is not an error");
    assert_eq!(f.calls.take(), ["DeleteSchedule"]);
}

#[tokio::test]
async fn when_the_due_time_has_passed_then_the_item_goes_to_the_queue_and_no_schedule_remains() {
    let f = Fixture::new().await;
    let key = key("fu_1");
    // A schedule of an earlier period is waiting under the same name.
    f.adapter
        .schedule(item(&key, 1, NOW_MS + HOUR_MS))
        .await
        .expect("earlier schedule");
    f.calls.take();

    let overdue = item(&key, 2, NOW_MS - 5_000);
    f.adapter.schedule(overdue.clone()).await.expect("schedule");
    assert_eq!(f.calls.take(), ["SendMessage", "DeleteSchedule"]);

    assert_eq!(f.receive().await, [overdue]);
    assert!(
        f.schedule_names().await.is_empty(),
        "the earlier schedule was deleted, none created"
    );
}

#[tokio::test]
async fn when_the_due_time_is_under_a_minute_away_then_the_item_is_delayed_in_the_queue() {
    let f = Fixture::new().await;
    let key = key("fu_1");
    let soon = item(&key, 1, NOW_MS + MIN_SCHEDULE_LEAD_MS - 1);

    f.adapter.schedule(soon).await.expect("schedule");
    assert_eq!(f.calls.take(), ["SendMessage", "DeleteSchedule"]);

    assert!(f.schedule_names().await.is_empty());
    assert_eq!(
        f.queue_counts().await,
        ("0".to_owned(), "1".to_owned()),
        "one message, delayed (59.999 s rounds up to 60 s)"
    );
}

#[tokio::test]
async fn when_the_due_time_is_a_minute_away_then_a_schedule_is_created() {
    let f = Fixture::new().await;
    let key = key("fu_1");
    f.adapter
        .schedule(item(&key, 1, NOW_MS + MIN_SCHEDULE_LEAD_MS))
        .await
        .expect("schedule");
    assert_eq!(f.calls.take(), ["CreateSchedule"]);
    assert_eq!(
        f.get(&key).await.schedule_expression(),
        Some("at(2030-03-04T05:07:08)"),
        "05:07:07.250 rounds up to the next whole second"
    );
    assert_eq!(f.queue_counts().await, ("0".to_owned(), "0".to_owned()));
}

#[tokio::test]
async fn when_the_clock_moves_on_then_the_already_due_decision_follows_it() {
    let f = Fixture::new().await;
    let key = key("fu_1");
    let due_ms = NOW_MS + 10 * 60_000;
    f.clock.advance_minutes(10);
    f.adapter
        .schedule(item(&key, 1, due_ms))
        .await
        .expect("schedule");
    assert_eq!(f.calls.take(), ["SendMessage", "DeleteSchedule"]);
    assert_eq!(f.receive().await.len(), 1);
}

#[tokio::test]
async fn when_the_group_does_not_exist_then_scheduling_is_unavailable_with_a_message() {
    let f = Fixture::new().await;
    let config = moto::sdk_config().await;
    let adapter = EventBridgeScheduler::new(
        EventBridgeConfig {
            group: moto::unique_name("fu-missing-group"),
            target_queue_arn: f.queue_arn.clone(),
            target_queue_url: f.queue_url.clone(),
            role_arn: ROLE_ARN.to_owned(),
            dead_letter_arn: DLQ_ARN.to_owned(),
        },
        aws_sdk_scheduler::Client::new(&config),
        aws_sdk_sqs::Client::new(&config),
        f.clock.clone(),
    );
    let error = adapter
        .schedule(item(&key("fu_1"), 1, NOW_MS + HOUR_MS))
        .await
        .expect_err("no such group");
    let SchedulerError::Unavailable(message) = error;
    assert!(message.contains("CreateSchedule"), "{message}");
    assert!(
        !message.contains("16315551181"),
        "no customer id in the message: {message}"
    );
}

#[test]
fn when_ids_have_maximal_length_then_schedule_names_fit_and_use_only_allowed_characters() {
    let longest = DueKey {
        chatbot_id: ChatbotId::parse(&"c".repeat(64)).expect("chatbot id"),
        conversation_id: ConversationId::parse(&format!(
            "instagram:{}:{}",
            "9".repeat(128),
            "Z.-_".repeat(32)
        ))
        .expect("conversation id"),
        follow_up_id: FollowUpId::parse(&"F".repeat(64)).expect("follow-up id"),
    };
    for key in [longest, key("fu_1"), key("fu_2")] {
        let name = schedule_name(&key);
        assert!(name.len() <= 64, "{name} is too long");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
            "{name} has a character EventBridge refuses"
        );
        assert!(name.starts_with("fu-"));
    }
    // Pinned: a changed naming scheme would orphan every schedule already in AWS (cancel
    // and reschedule would no longer find them).
    assert_eq!(
        schedule_name(&key("fu_1")),
        "fu-cc540e35bfee4f7634254645b7ce1ef5ce6cac58"
    );
    assert_ne!(schedule_name(&key("fu_1")), schedule_name(&key("fu_2")));
}

#[test]
fn when_due_times_are_formatted_then_at_expressions_are_utc_seconds_rounded_up() {
    let cases = [
        (0, "at(1970-01-01T00:00:00)"),
        (1, "at(1970-01-01T00:00:01)"),
        (1_000, "at(1970-01-01T00:00:01)"),
        (NOW_MS, "at(2030-03-04T05:06:08)"),
        (NOW_MS - 250, "at(2030-03-04T05:06:07)"),
        // 2028-02-29T23:59:59.500Z: a leap day, rounding into the next day.
        (1_835_481_599_500, "at(2028-03-01T00:00:00)"),
    ];
    for (millis, expected) in cases {
        assert_eq!(
            at_expression(Timestamp::from_millis(millis)).as_deref(),
            Ok(expected),
            "{millis}"
        );
    }
    assert!(at_expression(Timestamp::from_millis(i64::MAX)).is_err());
    assert!(at_expression(Timestamp::from_millis(-1_000)).is_err());
}

#[test]
fn when_an_at_expression_is_malformed_then_validation_refuses_it() {
    assert!(is_valid_at_expression("at(2030-03-04T05:06:07)"));
    assert!(is_valid_at_expression("at(2028-02-29T23:59:59)"));
    for bad in [
        "",
        "at()",
        "at(2030-03-04 05:06:07)",
        "at(2030-03-04T05:06:07Z)",
        "at(2030-3-4T05:06:07)",
        "at(2030-13-04T05:06:07)",
        "at(2030-02-29T05:06:07)",
        "at(2030-03-04T24:00:00)",
        "at(2030-03-04T05:60:07)",
        "at(1969-12-31T23:59:59)",
        "at(+030-03-04T05:06:07)",
        "rate(5 minutes)",
        "AT(2030-03-04T05:06:07)",
    ] {
        assert!(!is_valid_at_expression(bad), "{bad:?} must be refused");
    }
}

// --- SSM secrets -------------------------------------------------------------------------

async fn ssm_with(parameters: &[(&str, &str)]) -> (SsmClient, String) {
    let ssm = SsmClient::new(&moto::sdk_config().await);
    let prefix = format!("/{}/", moto::unique_name("followup"));
    for (name, value) in parameters {
        ssm.put_parameter()
            .name(format!("{prefix}{name}"))
            .value(*value)
            .r#type("SecureString".into())
            .send()
            .await
            .expect("put parameter");
    }
    (ssm, prefix)
}

#[tokio::test]
async fn when_all_secrets_exist_then_they_load_decrypted() {
    let (ssm, prefix) = ssm_with(&[
        ("meta-app-secret", "app-secret-value"),
        ("meta-verify-token", "verify-token-value"),
        ("llm-api-key", "sk-llm-value"),
    ])
    .await;
    let secrets = load_secrets(&ssm, &prefix).await.expect("secrets");
    assert_eq!(secrets.meta_app_secret.expose(), "app-secret-value");
    assert_eq!(secrets.meta_verify_token.expose(), "verify-token-value");
    assert_eq!(
        secrets.llm_api_key.as_ref().map(|k| k.expose()),
        Some("sk-llm-value")
    );
    let printed = format!("{secrets:?}");
    assert!(!printed.contains("value"), "{printed}");
}

#[tokio::test]
async fn when_the_llm_key_is_absent_then_secrets_load_without_it() {
    let (ssm, prefix) = ssm_with(&[
        ("meta-app-secret", "app-secret-value"),
        ("meta-verify-token", "verify-token-value"),
    ])
    .await;
    let secrets = load_secrets(&ssm, &prefix).await.expect("secrets");
    assert!(secrets.llm_api_key.is_none());
    assert_eq!(secrets.meta_verify_token.expose(), "verify-token-value");
}

#[tokio::test]
async fn when_a_required_secret_is_missing_then_the_error_names_it_and_no_value() {
    let (ssm, prefix) = ssm_with(&[
        ("meta-app-secret", "app-secret-value"),
        ("llm-api-key", "sk-llm-value"),
    ])
    .await;
    let error = load_secrets(&ssm, &prefix)
        .await
        .expect_err("verify token missing");
    let expected = [format!("{prefix}meta-verify-token")];
    assert!(
        matches!(&error, SecretsError::Missing(names) if names == &expected),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&format!("{prefix}meta-verify-token")),
        "{message}"
    );
    assert!(!message.contains("value"), "{message}");
}

#[tokio::test]
async fn when_no_secret_exists_then_both_required_names_are_reported() {
    let (ssm, prefix) = ssm_with(&[]).await;
    let error = load_secrets(&ssm, &prefix)
        .await
        .expect_err("nothing there");
    assert!(
        matches!(&error, SecretsError::Missing(names) if names.len() == 2),
        "{error:?}"
    );
}

#[tokio::test]
async fn when_a_path_prefix_lacks_its_trailing_slash_then_loading_is_refused() {
    let (ssm, prefix) = ssm_with(&[
        ("meta-app-secret", "app-secret-value"),
        ("meta-verify-token", "verify-token-value"),
    ])
    .await;
    let error = load_secrets(&ssm, prefix.trim_end_matches('/'))
        .await
        .expect_err("prefix without '/'");
    assert!(matches!(error, SecretsError::InvalidPrefix(_)), "{error:?}");
}

//! The EventBridge Scheduler adapter: one one-shot `at()` schedule per pending follow-up,
//! targeting the SQS due queue that the sender function consumes.
//!
//! - **Names** are derived from the [`DueKey`] ([`schedule_name`]), so scheduling the same
//!   key again overwrites the pending schedule instead of adding a second one.
//! - **Create first, update on conflict**: a fresh schedule costs one call, an existing one
//!   two. Every call sends the complete definition (UpdateSchedule replaces the whole
//!   schedule; an omitted field would fall back to its default).
//! - **Already due**: EventBridge Scheduler fires with 60 s precision, so an item due in less
//!   than [`MIN_SCHEDULE_LEAD_MS`] is sent straight to the due queue (SQS `DelaySeconds`
//!   for the rest of the wait), and a schedule left under its name is deleted.
//! - **Payload**: the target input, and the SQS body on the direct path, is the [`DueItem`]
//!   as JSON; the sender parses exactly that.
//! - **Undeliverable fires**: every target names the deployment's scheduler DLQ and an
//!   explicit retry policy ([`RETRY_MAXIMUM_EVENT_AGE_SECONDS`],
//!   [`RETRY_MAXIMUM_ATTEMPTS`]), so a fire EventBridge cannot hand to the due queue lands
//!   in that queue instead of being dropped.
//!
//! Logs carry schedule names and due times only: the item holds a conversation id, which
//! contains the customer's platform id.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_scheduler::error::{DisplayErrorContext, SdkError};
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode,
    RetryPolicy, Target,
};
use followup_domain::Timestamp;
use followup_ports::{Clock, DueItem, DueKey, Scheduler, SchedulerError};
use sha2::{Digest, Sha256};

/// Items due sooner than this go to the queue directly: EventBridge Scheduler invokes
/// targets with 60 s precision, so a schedule this close could fire late by a full minute
/// or, at worst, never be created in time to fire "at" its moment.
pub const MIN_SCHEDULE_LEAD_MS: i64 = 60_000;

/// SQS accepts `DelaySeconds` from 0 to 900.
const MAX_SQS_DELAY_SECONDS: i64 = 900;

/// How long EventBridge Scheduler keeps retrying a fire it could not deliver to the due
/// queue before handing it to the dead-letter queue: 24 h, AWS's default and maximum.
/// Written out on every create and update so that an UpdateSchedule never resets it.
pub const RETRY_MAXIMUM_EVENT_AGE_SECONDS: i32 = 86_400;

/// How many times EventBridge Scheduler retries such a fire: 185, AWS's default and maximum
/// (whichever of the two limits is reached first ends the retries).
pub const RETRY_MAXIMUM_ATTEMPTS: i32 = 185;

/// How often create/update is attempted when the schedule disappears in between (it fired
/// and was deleted after completion, or a concurrent cancel removed it).
const MAX_UPSERT_ATTEMPTS: usize = 3;

/// Where schedules live and what they target: one deployment's group, due queue, the
/// role EventBridge Scheduler assumes to send to that queue, and the dead-letter queue for
/// fires it could not deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventBridgeConfig {
    /// The schedule group of this deployment (`FOLLOWUP_SCHEDULE_GROUP`).
    pub group: String,
    /// The schedules' target (`FOLLOWUP_DUE_QUEUE_ARN`).
    pub target_queue_arn: String,
    /// The same queue, for items already due (`FOLLOWUP_DUE_QUEUE_URL`).
    pub target_queue_url: String,
    /// The role EventBridge Scheduler assumes (`FOLLOWUP_SCHEDULER_ROLE_ARN`).
    pub role_arn: String,
    /// The schedules' dead-letter queue (`FOLLOWUP_SCHEDULER_DLQ_ARN`): where EventBridge
    /// Scheduler puts a fire it could not deliver to the due queue after its retries. The
    /// role above must be allowed to send to it as well.
    pub dead_letter_arn: String,
}

/// [`Scheduler`] on EventBridge Scheduler, with SQS for items already due.
#[derive(Debug, Clone)]
pub struct EventBridgeScheduler {
    config: EventBridgeConfig,
    scheduler: aws_sdk_scheduler::Client,
    sqs: aws_sdk_sqs::Client,
    clock: Arc<dyn Clock>,
}

/// The schedule's name for `key`: `fu-` and the first 40 hex digits (160 bits) of the
/// SHA-256 of [`DueKey::schedule_name`]. 43 characters of `[0-9a-z-]`, whatever the ids,
/// inside EventBridge's limit of 64 characters of `[0-9a-zA-Z-_.]`.
pub fn schedule_name(key: &DueKey) -> String {
    let digest = Sha256::digest(key.schedule_name().as_bytes());
    let mut name = String::with_capacity(43);
    name.push_str("fu-");
    name.push_str(&hex::encode(&digest[..20]));
    name
}

/// Why a due time cannot be written as an `at()` expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("due time {millis} ms cannot be scheduled: {reason}")]
pub struct AtExpressionError {
    millis: i64,
    reason: &'static str,
}

/// The one-time schedule expression for `due`, in UTC: `at(yyyy-mm-ddThh:mm:ss)`. A
/// fraction of a second is rounded up, so the expression is never earlier than `due`.
/// The result is validated ([`is_valid_at_expression`]) before it is returned: moto accepts
/// anything here, AWS would refuse a malformed expression only at run time.
pub fn at_expression(due: Timestamp) -> Result<String, AtExpressionError> {
    let error = |reason| AtExpressionError {
        millis: due.as_millis(),
        reason,
    };
    let seconds =
        due.as_millis().div_euclid(1000) + i64::from(due.as_millis().rem_euclid(1000) != 0);
    let at = time::OffsetDateTime::from_unix_timestamp(seconds)
        .map_err(|_| error("outside the representable range"))?;
    let expression = format!(
        "at({:04}-{:02}-{:02}T{:02}:{:02}:{:02})",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    );
    if is_valid_at_expression(&expression) {
        Ok(expression)
    } else {
        Err(error("not a year between 1970 and 9999"))
    }
}

/// Whether `expression` is exactly `at(yyyy-mm-ddThh:mm:ss)` with a real calendar date and
/// time of day, year 1970 to 9999.
pub fn is_valid_at_expression(expression: &str) -> bool {
    let Some(inner) = expression
        .strip_prefix("at(")
        .and_then(|rest| rest.strip_suffix(')'))
    else {
        return false;
    };
    let bytes = inner.as_bytes();
    let shape_ok = bytes.len() == 19
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return false;
    }
    let number = |range: std::ops::Range<usize>| inner[range].parse::<u16>().ok();
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        number(0..4),
        number(5..7),
        number(8..10),
        number(11..13),
        number(14..16),
        number(17..19),
    ) else {
        return false;
    };
    let date_ok = u8::try_from(month)
        .ok()
        .and_then(|m| time::Month::try_from(m).ok())
        .zip(u8::try_from(day).ok())
        .is_some_and(|(month, day)| {
            (1970..=9999).contains(&year)
                && time::Date::from_calendar_date(i32::from(year), month, day).is_ok()
        });
    let time_ok = match (
        u8::try_from(hour),
        u8::try_from(minute),
        u8::try_from(second),
    ) {
        (Ok(h), Ok(m), Ok(s)) => time::Time::from_hms(h, m, s).is_ok(),
        _ => false,
    };
    date_ok && time_ok
}

fn unavailable(message: String) -> SchedulerError {
    SchedulerError::Unavailable(message)
}

/// An SDK error as a log message: the operation, the service's error code and message or
/// the transport failure. Requests are not part of it, so no payload or credential is.
fn sdk_failure<E, R>(operation: &str, name: &str, error: &SdkError<E, R>) -> SchedulerError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    unavailable(format!(
        "{operation} {name}: {}",
        DisplayErrorContext(error)
    ))
}

/// How the create-or-update loop ended one attempt.
enum Upsert {
    Done,
    /// The schedule exists: update it.
    Exists,
    /// The schedule vanished before it could be updated: create it.
    Missing,
}

impl EventBridgeScheduler {
    pub fn new(
        config: EventBridgeConfig,
        scheduler: aws_sdk_scheduler::Client,
        sqs: aws_sdk_sqs::Client,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            config,
            scheduler,
            sqs,
            clock,
        }
    }

    pub fn config(&self) -> &EventBridgeConfig {
        &self.config
    }

    /// The complete target: queue, role, input, dead-letter queue and retry policy (all of
    /// them on every call: UpdateSchedule would reset an omitted one).
    fn target(&self, input: String) -> Result<Target, SchedulerError> {
        Target::builder()
            .arn(&self.config.target_queue_arn)
            .role_arn(&self.config.role_arn)
            .input(input)
            .dead_letter_config(
                DeadLetterConfig::builder()
                    .arn(&self.config.dead_letter_arn)
                    .build(),
            )
            .retry_policy(
                RetryPolicy::builder()
                    .maximum_event_age_in_seconds(RETRY_MAXIMUM_EVENT_AGE_SECONDS)
                    .maximum_retry_attempts(RETRY_MAXIMUM_ATTEMPTS)
                    .build(),
            )
            .build()
            .map_err(|e| unavailable(format!("schedule target: {e}")))
    }

    fn window() -> Result<FlexibleTimeWindow, SchedulerError> {
        FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|e| unavailable(format!("flexible time window: {e}")))
    }

    async fn create(
        &self,
        name: &str,
        expression: &str,
        target: Target,
    ) -> Result<Upsert, SchedulerError> {
        let result = self
            .scheduler
            .create_schedule()
            .name(name)
            .group_name(&self.config.group)
            .schedule_expression(expression)
            .schedule_expression_timezone("UTC")
            .flexible_time_window(Self::window()?)
            .action_after_completion(ActionAfterCompletion::Delete)
            .target(target)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Upsert::Done),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conflict_exception()) =>
            {
                Ok(Upsert::Exists)
            }
            Err(error) => Err(sdk_failure("CreateSchedule", name, &error)),
        }
    }

    async fn update(
        &self,
        name: &str,
        expression: &str,
        target: Target,
    ) -> Result<Upsert, SchedulerError> {
        let result = self
            .scheduler
            .update_schedule()
            .name(name)
            .group_name(&self.config.group)
            .schedule_expression(expression)
            .schedule_expression_timezone("UTC")
            .flexible_time_window(Self::window()?)
            .action_after_completion(ActionAfterCompletion::Delete)
            .target(target)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Upsert::Done),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(Upsert::Missing)
            }
            Err(error) => Err(sdk_failure("UpdateSchedule", name, &error)),
        }
    }

    /// Creates the schedule, or replaces the one of the same name: 1 call when new, 2 when
    /// it existed, 3 in the rare race where it fired (and deleted itself) in between.
    async fn upsert(
        &self,
        name: &str,
        expression: &str,
        input: &str,
    ) -> Result<(), SchedulerError> {
        let mut exists = false;
        for _ in 0..MAX_UPSERT_ATTEMPTS {
            let target = self.target(input.to_owned())?;
            let outcome = if exists {
                self.update(name, expression, target).await?
            } else {
                self.create(name, expression, target).await?
            };
            match outcome {
                Upsert::Done => return Ok(()),
                Upsert::Exists => exists = true,
                Upsert::Missing => exists = false,
            }
        }
        Err(unavailable(format!(
            "schedule {name}: vanished between create and update \
             {MAX_UPSERT_ATTEMPTS} times; giving up"
        )))
    }

    /// Deletes the schedule called `name`; a missing one is not an error.
    async fn delete(&self, name: &str) -> Result<(), SchedulerError> {
        let result = self
            .scheduler
            .delete_schedule()
            .name(name)
            .group_name(&self.config.group)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(error) => Err(sdk_failure("DeleteSchedule", name, &error)),
        }
    }

    /// The direct path for items due within a minute: the due queue, delayed by what is
    /// left of the wait (rounded up, so it never arrives early by a fraction of a second).
    async fn send_now(
        &self,
        name: &str,
        body: String,
        remaining_ms: i64,
    ) -> Result<(), SchedulerError> {
        let delay = (remaining_ms.max(0) + 999) / 1000;
        let delay = i32::try_from(delay.min(MAX_SQS_DELAY_SECONDS)).unwrap_or(0);
        self.sqs
            .send_message()
            .queue_url(&self.config.target_queue_url)
            .message_body(body)
            .delay_seconds(delay)
            .send()
            .await
            .map_err(|error| {
                unavailable(format!(
                    "SendMessage {name}: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(&error)
                ))
            })?;
        tracing::debug!(
            schedule = name,
            delay_seconds = delay,
            "due item sent to the due queue"
        );
        Ok(())
    }
}

#[async_trait]
impl Scheduler for EventBridgeScheduler {
    /// 1 call for a new schedule, 2 to replace an existing one; 2 (SendMessage and
    /// DeleteSchedule) for an item due within a minute.
    async fn schedule(&self, item: DueItem) -> Result<(), SchedulerError> {
        let name = schedule_name(&item.key);
        let body = serde_json::to_string(&item)
            .map_err(|e| unavailable(format!("due item {name} as JSON: {e}")))?;
        let remaining_ms = item
            .due_at
            .as_millis()
            .saturating_sub(self.clock.now().as_millis());
        if remaining_ms < MIN_SCHEDULE_LEAD_MS {
            // Send first: if the delete then fails, the caller retries and the sender sees
            // at most a duplicate, which it ignores; the other order could lose the item.
            self.send_now(&name, body, remaining_ms).await?;
            return self.delete(&name).await;
        }
        let expression =
            at_expression(item.due_at).map_err(|e| unavailable(format!("schedule {name}: {e}")))?;
        self.upsert(&name, &expression, &body).await?;
        tracing::debug!(schedule = %name, %expression, "schedule set");
        Ok(())
    }

    /// 1 call. An item already handed to the due queue cannot be recalled; the sender's
    /// checks (pending item settled, stale period) drop it.
    async fn cancel(&self, key: &DueKey) -> Result<(), SchedulerError> {
        let name = schedule_name(key);
        self.delete(&name).await?;
        tracing::debug!(schedule = %name, "schedule cancelled");
        Ok(())
    }
}

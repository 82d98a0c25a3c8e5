//! The sender function's batch: SQS messages whose bodies are due items (put there by
//! EventBridge Scheduler or, for items already due, by the scheduler adapter). Handled
//! concurrently; only retryable failures are reported back, so SQS redelivers just those
//! (and, after the redrive limit, moves them to the DLQ).

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use followup_app::Services;
use followup_domain::Timestamp;
use followup_ports::DueItem;

/// The invocation's deadline: Lambda stops the function there, so every item is bounded by it.
pub fn deadline(context: &lambda_runtime::Context) -> Option<Timestamp> {
    i64::try_from(context.deadline)
        .ok()
        .filter(|&ms| ms > 0)
        .map(Timestamp::from_millis)
}

/// Handles one batch; returns the message ids to retry. `deadline` is the invocation's
/// (the Lambda context's `deadline`, ms since the epoch): an item that cannot be judged and
/// sent before it is reported back untouched, to come again after its visibility timeout.
pub async fn handle_batch(
    services: Arc<Services>,
    event: SqsEvent,
    deadline: Option<Timestamp>,
) -> SqsBatchResponse {
    let mut tasks = Vec::with_capacity(event.records.len());
    for record in event.records {
        let services = Arc::clone(&services);
        let id = record.message_id.clone().unwrap_or_default();
        let task = tokio::spawn(async move {
            handle_one(
                &services,
                record.message_id.unwrap_or_default(),
                record.body,
                deadline,
            )
            .await
        });
        tasks.push((id, task));
    }
    let mut response = SqsBatchResponse::default();
    for (id, task) in tasks {
        let retry = match task.await {
            Ok(retry) => retry,
            Err(error) => {
                // A panic must not lose the item: report it so SQS redelivers it.
                tracing::error!(message = %id, %error, "due item task panicked; SQS will redeliver it");
                true
            }
        };
        if retry {
            response.batch_item_failures.push(failure(id));
        }
    }
    response
}

/// Returns whether the message should be delivered again.
async fn handle_one(
    services: &Services,
    id: String,
    body: Option<String>,
    deadline: Option<Timestamp>,
) -> bool {
    let Some(body) = body else {
        tracing::error!(message = %id, "SQS message without a body dropped");
        return false;
    };
    let item: DueItem = match serde_json::from_str(&body) {
        Ok(item) => item,
        Err(error) => {
            // Not retryable: the same bytes would fail again. Logged, not redelivered.
            tracing::error!(message = %id, %error, "SQS message is not a due item; dropped");
            return false;
        }
    };
    match services.send_due_by(&item, deadline).await {
        Ok(outcome) => {
            tracing::debug!(message = %id, ?outcome, "due item handled");
            false
        }
        Err(error) => {
            tracing::warn!(message = %id, %error, "due item failed; SQS will redeliver it");
            true
        }
    }
}

fn failure(id: String) -> BatchItemFailure {
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = id;
    failure
}

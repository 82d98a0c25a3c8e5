//! The sender function: SQS due queue → the sender, a batch at a time, reporting only
//! retryable failures (ReportBatchItemFailures).

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use followup_lambda::{Deployment, LambdaConfig, init_logging, sqs};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_logging();
    let deployment = Deployment::init(LambdaConfig::from_env()?).await?;
    let services = Arc::clone(&deployment.services);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let services = Arc::clone(&services);
        let deadline = sqs::deadline(&event.context);
        async move {
            Ok::<SqsBatchResponse, lambda_runtime::Error>(
                sqs::handle_batch(services, event.payload, deadline).await,
            )
        }
    }))
    .await
}

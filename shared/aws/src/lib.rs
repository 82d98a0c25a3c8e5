//! AWS adapters behind the same ports as the embedded ones: DynamoDB for the store,
//! EventBridge Scheduler (one one-shot schedule per pending follow-up, targeting the SQS
//! due queue) for the scheduler, SSM Parameter Store for secrets.

pub mod dynamo;
pub mod scheduler;
pub mod secrets;

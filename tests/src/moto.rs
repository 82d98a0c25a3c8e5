//! The local AWS emulator for adapter tests: a moto server speaking the real DynamoDB,
//! EventBridge Scheduler and SQS wire protocols, reached through the real aws-sdk clients.
//!
//! `tests/run.sh` installs moto into `.venv-moto`, starts one server and exports its URL as
//! `FOLLOWUP_TEST_MOTO_URL`. Without it these tests fail with instructions; they never skip.

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// The emulator's URL; panics with instructions when none is configured.
pub fn moto_url() -> String {
    match std::env::var("FOLLOWUP_TEST_MOTO_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "FOLLOWUP_TEST_MOTO_URL is not set: the AWS adapter tests need the moto emulator. \
             Run ./tests/run.sh (it installs and starts moto), or start one yourself: \
             python3 -m venv .venv-moto && .venv-moto/bin/pip install 'moto[server]' && \
             .venv-moto/bin/moto_server -H 127.0.0.1 -p 5005 & \
             export FOLLOWUP_TEST_MOTO_URL=http://127.0.0.1:5005"
        ),
    }
}

/// SDK configuration for the emulator: its endpoint, a fixed region, test credentials.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(moto_url())
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "moto",
        ))
        .load()
        .await
}

/// A name no other test uses, for tables, queues and schedule groups on the shared server.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

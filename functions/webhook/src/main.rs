//! The webhook function: API Gateway → `GET`/`POST /v1/webhooks/meta` on the shared router.

use followup_lambda::{Deployment, LambdaConfig, init_logging};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_logging();
    let deployment = Deployment::init(LambdaConfig::from_env()?).await?;
    lambda_http::run(followup_http::router(deployment.app_state())).await
}

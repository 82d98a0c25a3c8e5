//! The api function: API Gateway (JWT authorizer) → the config, conversation and delivery
//! routes of the shared router; the caller's chatbots come from the token's claims.

use followup_lambda::claims::{ChatbotsClaim, caller_from_jwt_claims};
use followup_lambda::{Deployment, LambdaConfig, init_logging};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_logging();
    let deployment = Deployment::init(LambdaConfig::from_env()?).await?;
    let claim = ChatbotsClaim(deployment.config.chatbots_claim.clone());
    let app = followup_http::router(deployment.app_state()).layer(
        axum::middleware::from_fn_with_state(claim, caller_from_jwt_claims),
    );
    lambda_http::run(app).await
}

//! Builds the deployment once per execution environment: SDK clients (one HTTPS stack for
//! all), secrets from SSM, the DynamoDB store, the EventBridge scheduler, the judge, the
//! Graph API client, and the application services on top.

use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use followup_app::Services;
use followup_aws::dynamo::DynamoStore;
use followup_aws::scheduler::{EventBridgeConfig, EventBridgeScheduler};
use followup_aws::secrets::{DeploymentSecrets, load_secrets};
use followup_domain::WindowPolicy;
use followup_graph::{GraphClient, GraphConfig};
use followup_http::{ApiTokens, AppDeps, AppState, WebhookSecrets};
use followup_judge::{
    BedrockConfig, BedrockJudge, OfflineJudge, OpenAiConfig, OpenAiJudge, OutputMode,
};
use followup_ports::{Clock, Judge, SystemClock};

use crate::config::LambdaConfig;

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot read secrets: {0}")]
    Secrets(String),
    #[error("invalid setting: {0}")]
    Setting(String),
}

/// JSON logs to stdout (CloudWatch), level from `RUST_LOG` (default info).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .without_time()
        .init();
}

/// Bedrock when a model id is set (IAM only), else an OpenAI-compatible server when a
/// base URL is set, else the offline judge.
fn judge(
    sdk: &aws_config::SdkConfig,
    config: &LambdaConfig,
    secrets: &DeploymentSecrets,
) -> Result<Arc<dyn Judge>, InitError> {
    if config.bedrock_model_id.is_some() && config.llm_base_url.is_some() {
        return Err(InitError::Setting(
            "set FOLLOWUP_BEDROCK_MODEL_ID or FOLLOWUP_LLM_BASE_URL, not both".to_owned(),
        ));
    }
    if let Some(model_id) = &config.bedrock_model_id {
        let judge = BedrockJudge::new(sdk, BedrockConfig::new(model_id.clone()))
            .map_err(|e| InitError::Setting(format!("Bedrock judge: {e}")))?;
        return Ok(Arc::new(judge));
    }
    let Some(base_url) = &config.llm_base_url else {
        return Ok(Arc::new(OfflineJudge::new()));
    };
    let mut settings = OpenAiConfig::new(base_url.clone(), config.llm_model.clone());
    settings.api_key = secrets.llm_api_key.clone();
    settings.output_mode = OutputMode::parse(&config.llm_output_mode)
        .map_err(|e| InitError::Setting(e.to_string()))?;
    Ok(Arc::new(
        OpenAiJudge::new(settings).map_err(|e| InitError::Setting(e.to_string()))?,
    ))
}

/// A function's adapters and services, built once at cold start.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub config: LambdaConfig,
    pub services: Arc<Services>,
    secrets: Arc<DeploymentSecrets>,
}

impl Deployment {
    pub async fn init(config: LambdaConfig) -> Result<Self, InitError> {
        let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
        let ssm = aws_sdk_ssm::Client::new(&sdk);
        let secrets = load_secrets(&ssm, &config.secrets_prefix)
            .await
            .map_err(|e| InitError::Secrets(e.to_string()))?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), config.table.clone());
        let scheduler = EventBridgeScheduler::new(
            EventBridgeConfig {
                group: config.schedule_group.clone(),
                target_queue_arn: config.due_queue_arn.clone(),
                target_queue_url: config.due_queue_url.clone(),
                role_arn: config.scheduler_role_arn.clone(),
                dead_letter_arn: config.scheduler_dlq_arn.clone(),
            },
            aws_sdk_scheduler::Client::new(&sdk),
            aws_sdk_sqs::Client::new(&sdk),
            Arc::clone(&clock),
        );
        let judge = judge(&sdk, &config, &secrets)?;
        let messenger = GraphClient::new(GraphConfig {
            base_url: config.graph_base_url.clone(),
            api_version: config.graph_api_version.clone(),
            timeout: Duration::from_secs(10),
            ..GraphConfig::default()
        })
        .map_err(|e| InitError::Setting(e.to_string()))?;
        let policy = WindowPolicy::new(config.window_margin_minutes)
            .map_err(|e| InitError::Setting(e.message))?;
        let services = Arc::new(Services {
            store: Arc::new(store),
            scheduler: Arc::new(scheduler),
            judge,
            messenger: Arc::new(messenger.clone()),
            templates: Arc::new(messenger),
            clock,
            policy,
            ai_first_check_minutes: config.ai_first_check_minutes,
        });
        Ok(Self {
            config,
            services,
            secrets: Arc::new(secrets),
        })
    }

    /// The shared router's state: no bearer tokens on Lambda (the api function's callers
    /// come from JWT claims), the Meta secrets from SSM.
    pub fn app_state(&self) -> AppState {
        AppState::new(AppDeps {
            services: Arc::clone(&self.services),
            tokens: ApiTokens::default(),
            webhook: WebhookSecrets {
                app_secret: self.secrets.meta_app_secret.clone(),
                verify_token: self.secrets.meta_verify_token.clone(),
            },
        })
    }
}

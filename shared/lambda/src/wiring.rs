//! Builds the deployment once per execution environment: SDK clients (one HTTPS stack for
//! all), secrets from SSM, the DynamoDB store, the EventBridge scheduler, the judge, the
//! Graph API client, and the application services on top.

use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use followup_app::{SendBudget, Services};
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
) -> Result<(Arc<dyn Judge>, Duration), InitError> {
    if config.bedrock_model_id.is_some() && config.llm_base_url.is_some() {
        return Err(InitError::Setting(
            "set FOLLOWUP_BEDROCK_MODEL_ID or FOLLOWUP_LLM_BASE_URL, not both".to_owned(),
        ));
    }
    if let Some(model_id) = &config.bedrock_model_id {
        let settings = BedrockConfig::new(model_id.clone());
        let worst_case = settings.worst_case();
        let judge = BedrockJudge::new(sdk, settings)
            .map_err(|e| InitError::Setting(format!("Bedrock judge: {e}")))?;
        return Ok((Arc::new(judge), worst_case));
    }
    let Some(base_url) = &config.llm_base_url else {
        return Ok((Arc::new(OfflineJudge::new()), Duration::ZERO));
    };
    let mut settings = OpenAiConfig::new(base_url.clone(), config.llm_model.clone());
    settings.api_key = secrets.llm_api_key.clone();
    settings.output_mode = OutputMode::parse(&config.llm_output_mode)
        .map_err(|e| InitError::Setting(e.to_string()))?;
    let worst_case = settings.worst_case();
    Ok((
        Arc::new(OpenAiJudge::new(settings).map_err(|e| InitError::Setting(e.to_string()))?),
        worst_case,
    ))
}

/// A function's adapters and services, built once at cold start.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub config: LambdaConfig,
    pub services: Arc<Services>,
    secrets: Arc<DeploymentSecrets>,
}

/// Refuses, at cold start, time limits that would leave items stuck or sent twice: a lease
/// shorter than one item's worst case (a live sender's claim taken over), a sender timeout
/// shorter than it (no item could ever start), a visibility timeout that redelivers a
/// stopped invocation's items before their lease has run out.
fn check_time_limits(budget: &SendBudget, config: &LambdaConfig) -> Result<(), InitError> {
    let lease = config.claim_lease_seconds;
    budget
        .check_lease(lease)
        .map_err(|e| InitError::Setting(format!("FOLLOWUP_CLAIM_LEASE_SECONDS: {e}")))?;
    let worst = followup_app::whole_seconds(budget.item());
    if let Some(timeout) = config.sender_timeout_seconds {
        if u64::from(timeout) < worst {
            return Err(InitError::Setting(format!(
                "FOLLOWUP_SENDER_TIMEOUT_SECONDS: the sender's timeout ({timeout} s) is shorter \
                 than one due item's worst case ({worst} s); no item could be sent"
            )));
        }
        if lease < timeout {
            return Err(InitError::Setting(format!(
                "FOLLOWUP_CLAIM_LEASE_SECONDS: the claim lease ({lease} s) must be at least the \
                 sender's timeout ({timeout} s)"
            )));
        }
    }
    if let Some(visibility) = config.due_visibility_timeout_seconds
        && visibility <= lease
    {
        return Err(InitError::Setting(format!(
            "FOLLOWUP_DUE_VISIBILITY_TIMEOUT_SECONDS: the due queue's visibility timeout \
             ({visibility} s) must be longer than the claim lease ({lease} s), or a stopped \
             sender's items come back while their claims still hold"
        )));
    }
    Ok(())
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
        let (judge, judge_worst_case) = judge(&sdk, &config, &secrets)?;
        let graph = GraphConfig {
            base_url: config.graph_base_url.clone(),
            api_version: config.graph_api_version.clone(),
            timeout: Duration::from_secs(10),
            ..GraphConfig::default()
        };
        // Refused at cold start, not discovered as stuck items: a lease shorter than one
        // item's worst case lets a live sender's claim be taken over.
        let budget = SendBudget {
            judge: judge_worst_case,
            send: graph.worst_case(),
        };
        check_time_limits(&budget, &config)?;
        let messenger = GraphClient::new(graph).map_err(|e| InitError::Setting(e.to_string()))?;
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
            claim_lease_seconds: config.claim_lease_seconds,
            budget,
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

#[cfg(test)]
mod tests {
    use super::*;

    const REQUIRED: [(&str, &str); 7] = [
        ("FOLLOWUP_TABLE", "followups"),
        ("FOLLOWUP_SCHEDULE_GROUP", "followups-prod"),
        ("FOLLOWUP_DUE_QUEUE_ARN", "arn:aws:sqs:us-east-1:1:due"),
        (
            "FOLLOWUP_DUE_QUEUE_URL",
            "https://sqs.us-east-1.amazonaws.com/1/due",
        ),
        (
            "FOLLOWUP_SCHEDULER_ROLE_ARN",
            "arn:aws:iam::1:role/scheduler",
        ),
        ("FOLLOWUP_SCHEDULER_DLQ_ARN", "arn:aws:sqs:us-east-1:1:dlq"),
        ("FOLLOWUP_SECRETS_PREFIX", "/followup/prod/"),
    ];

    fn config(extra: &[(&str, &str)]) -> LambdaConfig {
        let pairs: Vec<(String, String)> = REQUIRED
            .iter()
            .chain(extra)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        LambdaConfig::from_lookup(|name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
        .expect("valid")
    }

    /// The template's sender: the default OpenAI-compatible judge and Graph client.
    fn template_budget() -> SendBudget {
        SendBudget {
            judge: OpenAiConfig::new("http://llm", "m").worst_case(),
            send: GraphConfig {
                timeout: Duration::from_secs(10),
                ..GraphConfig::default()
            }
            .worst_case(),
        }
    }

    fn refusal(extra: &[(&str, &str)]) -> String {
        match check_time_limits(&template_budget(), &config(extra)) {
            Err(InitError::Setting(message)) => message,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn when_the_templates_time_limits_are_used_then_they_are_accepted() {
        let limits = [
            ("FOLLOWUP_SENDER_TIMEOUT_SECONDS", "180"),
            ("FOLLOWUP_CLAIM_LEASE_SECONDS", "210"),
            ("FOLLOWUP_DUE_VISIBILITY_TIMEOUT_SECONDS", "1080"),
        ];
        assert!(check_time_limits(&template_budget(), &config(&limits)).is_ok());
        assert!(check_time_limits(&template_budget(), &config(&[])).is_ok());
    }

    #[test]
    fn when_a_time_limit_is_inconsistent_then_the_function_refuses_to_start_and_names_it() {
        assert!(
            refusal(&[("FOLLOWUP_CLAIM_LEASE_SECONDS", "100")])
                .starts_with("FOLLOWUP_CLAIM_LEASE_SECONDS: the claim lease (100 s) is shorter")
        );
        assert!(
            refusal(&[("FOLLOWUP_SENDER_TIMEOUT_SECONDS", "60")]).starts_with(
                "FOLLOWUP_SENDER_TIMEOUT_SECONDS: the sender's timeout (60 s) is shorter than one \
             due item's worst case (145 s)"
            )
        );
        assert!(
            refusal(&[
                ("FOLLOWUP_SENDER_TIMEOUT_SECONDS", "300"),
                ("FOLLOWUP_CLAIM_LEASE_SECONDS", "210"),
            ])
            .contains("must be at least the sender's timeout (300 s)")
        );
        assert!(
            refusal(&[("FOLLOWUP_DUE_VISIBILITY_TIMEOUT_SECONDS", "210")])
                .contains("visibility timeout (210 s) must be longer than the claim lease (210 s)")
        );
    }
}

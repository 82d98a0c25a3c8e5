//! Typed configuration from the function's environment. Required values fail the cold
//! start with a message naming the variable; there are no silent defaults for them.

use followup_domain::WindowPolicy;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
}

/// The sender's claim lease when the template does not set one: the sender function's
/// timeout in `template.yaml` (180 s) plus 30 s.
pub const DEFAULT_CLAIM_LEASE_SECONDS: u32 = 210;

/// Everything a function needs to know about its deployment (docs/aws.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaConfig {
    pub table: String,
    pub schedule_group: String,
    pub due_queue_arn: String,
    pub due_queue_url: String,
    pub scheduler_role_arn: String,
    pub scheduler_dlq_arn: String,
    pub secrets_prefix: String,
    pub chatbots_claim: String,
    pub window_margin_minutes: u32,
    pub ai_first_check_minutes: u32,
    /// How long the sender's claim on a due item lasts: longer than the sender function's
    /// timeout, shorter than the due queue's visibility timeout.
    pub claim_lease_seconds: u32,
    /// The sender function's own timeout, as the template set it (checked at start against
    /// one item's worst case and the lease); unset outside the sender.
    pub sender_timeout_seconds: Option<u32>,
    /// The due queue's visibility timeout, as the template set it: a redelivery after a
    /// stopped invocation must find its claim's lease run out.
    pub due_visibility_timeout_seconds: Option<u32>,
    pub llm_base_url: Option<String>,
    pub llm_model: String,
    pub llm_output_mode: String,
    /// A Bedrock model or inference-profile id: when set, Bedrock is the judge.
    pub bedrock_model_id: Option<String>,
    pub graph_base_url: String,
    pub graph_api_version: String,
}

impl LambdaConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let optional = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let number = |name: &'static str,
                      default: u32,
                      range: std::ops::RangeInclusive<u32>|
         -> Result<u32, ConfigError> {
            match optional(name) {
                None => Ok(default),
                Some(raw) => raw
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| range.contains(n))
                    .ok_or_else(|| ConfigError::Invalid {
                        var: name,
                        reason: format!(
                            "must be a whole number in {}..={}",
                            range.start(),
                            range.end()
                        ),
                    }),
            }
        };
        Ok(Self {
            table: required("FOLLOWUP_TABLE")?,
            schedule_group: required("FOLLOWUP_SCHEDULE_GROUP")?,
            due_queue_arn: required("FOLLOWUP_DUE_QUEUE_ARN")?,
            due_queue_url: required("FOLLOWUP_DUE_QUEUE_URL")?,
            scheduler_role_arn: required("FOLLOWUP_SCHEDULER_ROLE_ARN")?,
            scheduler_dlq_arn: required("FOLLOWUP_SCHEDULER_DLQ_ARN")?,
            secrets_prefix: required("FOLLOWUP_SECRETS_PREFIX")?,
            chatbots_claim: optional("FOLLOWUP_CHATBOTS_CLAIM")
                .unwrap_or_else(|| "followup_chatbots".to_owned()),
            window_margin_minutes: number(
                "FOLLOWUP_WINDOW_MARGIN_MINUTES",
                WindowPolicy::DEFAULT_SAFETY_MARGIN_MINUTES,
                1..=WindowPolicy::MAX_SAFETY_MARGIN_MINUTES,
            )?,
            ai_first_check_minutes: number(
                "FOLLOWUP_AI_FIRST_CHECK_MINUTES",
                followup_app::DEFAULT_AI_FIRST_CHECK_MINUTES,
                1..=1440,
            )?,
            claim_lease_seconds: number(
                "FOLLOWUP_CLAIM_LEASE_SECONDS",
                DEFAULT_CLAIM_LEASE_SECONDS,
                30..=43_200,
            )?,
            sender_timeout_seconds: Some(number("FOLLOWUP_SENDER_TIMEOUT_SECONDS", 0, 1..=900)?)
                .filter(|&t| t > 0),
            due_visibility_timeout_seconds: Some(number(
                "FOLLOWUP_DUE_VISIBILITY_TIMEOUT_SECONDS",
                0,
                1..=43_200,
            )?)
            .filter(|&t| t > 0),
            llm_base_url: optional("FOLLOWUP_LLM_BASE_URL"),
            llm_model: optional("FOLLOWUP_LLM_MODEL").unwrap_or_else(|| "gpt-4.1-mini".to_owned()),
            llm_output_mode: optional("FOLLOWUP_LLM_OUTPUT_MODE")
                .unwrap_or_else(|| "json_schema".to_owned()),
            bedrock_model_id: optional("FOLLOWUP_BEDROCK_MODEL_ID"),
            graph_base_url: optional("FOLLOWUP_GRAPH_BASE_URL")
                .unwrap_or_else(|| followup_graph::GraphConfig::DEFAULT_BASE_URL.to_owned()),
            graph_api_version: optional("FOLLOWUP_GRAPH_API_VERSION")
                .unwrap_or_else(|| followup_graph::GraphConfig::DEFAULT_API_VERSION.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

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
        (
            "FOLLOWUP_SCHEDULER_DLQ_ARN",
            "arn:aws:sqs:us-east-1:1:scheduler-dlq",
        ),
        ("FOLLOWUP_SECRETS_PREFIX", "/followup/prod/"),
    ];

    #[test]
    fn when_required_variables_are_set_then_defaults_fill_the_rest() {
        let config = LambdaConfig::from_lookup(env(&REQUIRED)).expect("valid");
        assert_eq!(config.table, "followups");
        assert_eq!(
            config.scheduler_dlq_arn,
            "arn:aws:sqs:us-east-1:1:scheduler-dlq"
        );
        assert_eq!(config.window_margin_minutes, 15);
        assert_eq!(config.chatbots_claim, "followup_chatbots");
        assert_eq!(config.llm_base_url, None);
        assert_eq!(config.bedrock_model_id, None);
        assert_eq!(config.llm_output_mode, "json_schema");
    }

    #[test]
    fn when_a_required_variable_is_missing_or_a_number_is_bad_then_the_error_names_it() {
        for (index, (name, _)) in REQUIRED.iter().enumerate() {
            let mut pairs = REQUIRED.to_vec();
            pairs.remove(index);
            assert_eq!(
                LambdaConfig::from_lookup(env(&pairs)),
                Err(ConfigError::Missing(name))
            );
        }
        let mut pairs = REQUIRED.to_vec();
        pairs.push(("FOLLOWUP_WINDOW_MARGIN_MINUTES", "0"));
        assert!(matches!(
            LambdaConfig::from_lookup(env(&pairs)),
            Err(ConfigError::Invalid {
                var: "FOLLOWUP_WINDOW_MARGIN_MINUTES",
                ..
            })
        ));
    }

    #[test]
    fn when_the_scheduler_dlq_arn_is_blank_then_it_counts_as_missing() {
        // Schedules without a dead-letter queue would drop undeliverable fires: a
        // deployment must name one, an empty value is no exception.
        let mut pairs = REQUIRED.to_vec();
        pairs.retain(|(name, _)| *name != "FOLLOWUP_SCHEDULER_DLQ_ARN");
        pairs.push(("FOLLOWUP_SCHEDULER_DLQ_ARN", "  "));
        assert_eq!(
            LambdaConfig::from_lookup(env(&pairs)),
            Err(ConfigError::Missing("FOLLOWUP_SCHEDULER_DLQ_ARN"))
        );
    }
}

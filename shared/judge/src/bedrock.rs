//! [`BedrockJudge`]: the judge backed by Amazon Bedrock's Converse API, with IAM only
//! (the function's role signs the request; there is no key to keep).
//!
//! One assessment is one `Converse` call (`POST /model/{modelId}/converse`) with the
//! verdict contract of [`crate::contract`]: the system text, the delimited transcript as
//! the user message, and one tool, `record_verdict`, whose input schema *is* the verdict
//! schema, forced with `toolChoice: {tool: {name}}`. The verdict is that tool call's
//! input; an answer in text instead, or a tool input that breaks the schema, is
//! [`JudgeError::InvalidAnswer`]. Forcing a specific tool is supported by Anthropic
//! Claude (3 and later) and Amazon Nova models on Bedrock; pick one of those (a model id
//! such as `amazon.nova-lite-v1:0` or an inference profile such as
//! `eu.anthropic.claude-haiku-4-5-20251001-v1:0`).
//!
//! # Retries and time
//! The SDK's own retries are off, so every attempt is visible in the log and bounded the
//! same way as for the OpenAI-compatible judge: `ThrottlingException`,
//! `ModelTimeoutException`, `ModelNotReadyException`, `ServiceUnavailableException`,
//! `InternalServerException`, `ModelErrorException`, timeouts and connection failures are
//! retried up to `max_attempts` in total with doubling backoff from `initial_backoff`
//! (capped at 10 s). `ValidationException`, `AccessDeniedException`,
//! `ResourceNotFoundException` and anything else fail at once: retrying cannot fix them.
//! Each attempt is bounded by `timeout` (the SDK's operation-attempt timeout).
//!
//! # Logs
//! Each verdict logs the model id, input and output tokens and latency; never the
//! transcript, the prompt or the generated text.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseOutput as Output, InferenceConfiguration, Message,
    SpecificToolChoice, SystemContentBlock, Tool, ToolChoice, ToolConfiguration, ToolInputSchema,
    ToolSpecification,
};
use aws_smithy_types::{Document, Number};
use followup_ports::{Judge, JudgeError, JudgeRequest, JudgeVerdict, TokenUsage};
use serde_json::Value;

use crate::contract::{self, VERDICT_NAME};

/// Default per-attempt timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// Default attempts in total.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// Default wait before the first retry; doubles each retry.
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(500);
/// Enough for the verdict with an `ai` message of up to a few hundred words.
pub const DEFAULT_MAX_TOKENS: i32 = 1024;

const MAX_BACKOFF: Duration = Duration::from_secs(10);
const RETRIED_CODES: &[&str] = &[
    "ThrottlingException",
    "ModelTimeoutException",
    "ModelNotReadyException",
    "ServiceUnavailableException",
    "InternalServerException",
    "ModelErrorException",
];

/// Which model and how patiently.
#[derive(Debug, Clone)]
pub struct BedrockConfig {
    /// A model id or an inference profile id / ARN.
    pub model_id: String,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_tokens: i32,
}

impl BedrockConfig {
    /// The longest one verdict can take: every attempt timing out, the longest backoff
    /// between them.
    pub fn worst_case(&self) -> Duration {
        self.timeout.saturating_mul(self.max_attempts)
            + MAX_BACKOFF.saturating_mul(self.max_attempts.saturating_sub(1))
    }

    pub fn new(model_id: impl Into<String>) -> Self {
        Self {
            model_id: model_id.into(),
            timeout: DEFAULT_TIMEOUT,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            max_tokens: DEFAULT_MAX_TOKENS,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BedrockConfigError {
    #[error("the Bedrock model id must not be blank")]
    ModelId,
    #[error("max_attempts must be at least 1")]
    MaxAttempts,
    #[error("the timeout must be greater than zero")]
    Timeout,
}

/// The Converse judge. Build once per execution environment.
#[derive(Debug, Clone)]
pub struct BedrockJudge {
    client: aws_sdk_bedrockruntime::Client,
    model_id: String,
    max_attempts: u32,
    initial_backoff: Duration,
    max_tokens: i32,
}

impl BedrockJudge {
    /// A judge on the given SDK configuration (region, credentials, an endpoint override in
    /// tests). The SDK's retries are replaced by this judge's own; see the module docs.
    pub fn new(
        sdk: &aws_config::SdkConfig,
        config: BedrockConfig,
    ) -> Result<Self, BedrockConfigError> {
        let model_id = config.model_id.trim();
        if model_id.is_empty() {
            return Err(BedrockConfigError::ModelId);
        }
        if config.max_attempts == 0 {
            return Err(BedrockConfigError::MaxAttempts);
        }
        if config.timeout.is_zero() {
            return Err(BedrockConfigError::Timeout);
        }
        let client_config = aws_sdk_bedrockruntime::config::Builder::from(sdk)
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(config.timeout)
                    .connect_timeout(config.timeout)
                    .build(),
            )
            .build();
        Ok(Self {
            client: aws_sdk_bedrockruntime::Client::from_conf(client_config),
            model_id: model_id.to_owned(),
            max_attempts: config.max_attempts,
            initial_backoff: config.initial_backoff,
            max_tokens: config.max_tokens,
        })
    }

    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    fn tool_config() -> Result<ToolConfiguration, JudgeError> {
        let build = |e: aws_sdk_bedrockruntime::error::BuildError| {
            JudgeError::Unavailable(format!("cannot build the Converse request: {e}"))
        };
        let spec = ToolSpecification::builder()
            .name(VERDICT_NAME)
            .description("Record the verdict on the follow-up.")
            .input_schema(ToolInputSchema::Json(to_document(
                &contract::verdict_schema(),
            )))
            .build()
            .map_err(build)?;
        ToolConfiguration::builder()
            .tools(Tool::ToolSpec(spec))
            .tool_choice(ToolChoice::Tool(
                SpecificToolChoice::builder()
                    .name(VERDICT_NAME)
                    .build()
                    .map_err(build)?,
            ))
            .build()
            .map_err(build)
    }

    async fn converse(&self, request: &JudgeRequest) -> Result<ConverseOutput, JudgeError> {
        let message = Message::builder()
            .role(ConversationRole::User)
            .content(ContentBlock::Text(contract::transcript_message(request)))
            .build()
            .map_err(|e| JudgeError::Unavailable(format!("cannot build the message: {e}")))?;
        let tools = Self::tool_config()?;
        let mut last_error = JudgeError::Unavailable("no attempt was made".to_owned());
        let mut backoff = self.initial_backoff;
        for attempt in 1..=self.max_attempts {
            let result = self
                .client
                .converse()
                .model_id(&self.model_id)
                .system(SystemContentBlock::Text(contract::system_prompt(request)))
                .messages(message.clone())
                .tool_config(tools.clone())
                .inference_config(
                    InferenceConfiguration::builder()
                        .max_tokens(self.max_tokens)
                        .temperature(0.0)
                        .build(),
                )
                .send()
                .await;
            let (error, retry) = match result {
                Ok(output) => return Ok(output),
                Err(error) => classify(&error),
            };
            tracing::warn!(judge = "bedrock", model = %self.model_id, attempt, max_attempts = self.max_attempts, error = %error, retry, "judge call failed");
            if !retry {
                return Err(error);
            }
            last_error = error;
            if attempt < self.max_attempts {
                tokio::time::sleep(backoff.min(MAX_BACKOFF)).await;
                backoff = backoff.saturating_mul(2).min(MAX_BACKOFF);
            }
        }
        Err(last_error)
    }
}

/// What a failed call means: the error to report and whether another attempt may help.
fn classify<R>(
    error: &SdkError<aws_sdk_bedrockruntime::operation::converse::ConverseError, R>,
) -> (JudgeError, bool)
where
    R: std::fmt::Debug,
{
    match error {
        SdkError::TimeoutError(_) => (JudgeError::Timeout, true),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => (JudgeError::Timeout, true),
        SdkError::DispatchFailure(_) => (
            JudgeError::Unavailable("cannot reach Amazon Bedrock".to_owned()),
            true,
        ),
        SdkError::ServiceError(service) => {
            let err = service.err();
            let code = err.code().unwrap_or("UnknownError");
            let message = err
                .message()
                .map(|m| contract::truncate_chars(m, 200))
                .unwrap_or_default();
            let retry = RETRIED_CODES.contains(&code);
            let error = if code == "ModelTimeoutException" {
                JudgeError::Timeout
            } else {
                JudgeError::Unavailable(format!("Bedrock {code}: {message}"))
            };
            (error, retry)
        }
        SdkError::ResponseError(_) => (
            JudgeError::Unavailable(
                "Bedrock answered something that is not a Converse response".to_owned(),
            ),
            true,
        ),
        other => (
            JudgeError::Unavailable(format!("the Converse request failed: {other}")),
            false,
        ),
    }
}

fn invalid(message: impl Into<String>) -> JudgeError {
    JudgeError::InvalidAnswer(message.into())
}

/// The forced tool call's input, as JSON.
fn tool_input(output: &ConverseOutput) -> Result<Value, JudgeError> {
    let Some(Output::Message(message)) = output.output() else {
        return Err(invalid("the Converse response has no message"));
    };
    message
        .content()
        .iter()
        .find_map(|block| match block {
            ContentBlock::ToolUse(call) if call.name() == VERDICT_NAME => {
                Some(to_json(call.input()))
            }
            _ => None,
        })
        .ok_or_else(|| invalid("the model answered without the verdict tool call"))
}

#[async_trait]
impl Judge for BedrockJudge {
    async fn assess(&self, request: &JudgeRequest) -> Result<JudgeVerdict, JudgeError> {
        let started = Instant::now();
        let output = self.converse(request).await?;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let usage = output.usage().map(|u| TokenUsage {
            input_tokens: u64::try_from(u.input_tokens()).unwrap_or(0),
            output_tokens: u64::try_from(u.output_tokens()).unwrap_or(0),
        });
        let (input_tokens, output_tokens) =
            usage.map_or((0, 0), |u| (u.input_tokens, u.output_tokens));
        let verdict = tool_input(&output)
            .and_then(|input| contract::validate_verdict(input, request))
            .map(|mut v| {
                v.usage = usage;
                v
            });
        match &verdict {
            Ok(v) => tracing::info!(
                judge = "bedrock",
                model = %self.model_id,
                input_tokens,
                output_tokens,
                latency_ms,
                stop_trigger_met = v.stop_trigger_met,
                description_applies = v.description_applies,
                "judge verdict"
            ),
            Err(error) => tracing::warn!(
                judge = "bedrock",
                model = %self.model_id,
                input_tokens,
                output_tokens,
                latency_ms,
                error = %error,
                "judge answer rejected"
            ),
        }
        verdict
    }
}

/// JSON to a Smithy document (the tool's input schema).
pub fn to_document(value: &Value) -> Document {
    match value {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(*b),
        Value::Number(n) => Document::Number(if let Some(u) = n.as_u64() {
            Number::PosInt(u)
        } else if let Some(i) = n.as_i64() {
            Number::NegInt(i)
        } else {
            Number::Float(n.as_f64().unwrap_or(0.0))
        }),
        Value::String(s) => Document::String(s.clone()),
        Value::Array(items) => Document::Array(items.iter().map(to_document).collect()),
        Value::Object(map) => Document::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), to_document(v)))
                .collect::<HashMap<_, _>>(),
        ),
    }
}

/// A Smithy document (the tool call's input) to JSON. A float that is a whole number
/// stays a float, so the contract's integer check still sees it as one it must refuse.
pub fn to_json(document: &Document) -> Value {
    match document {
        Document::Null => Value::Null,
        Document::Bool(b) => Value::Bool(*b),
        Document::Number(Number::PosInt(u)) => Value::from(*u),
        Document::Number(Number::NegInt(i)) => Value::from(*i),
        Document::Number(Number::Float(f)) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        Document::String(s) => Value::String(s.clone()),
        Document::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Document::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

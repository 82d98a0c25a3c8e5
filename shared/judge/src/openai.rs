//! [`OpenAiJudge`]: the judge backed by any OpenAI-compatible chat-completions server.
//!
//! Works with OpenAI (`https://api.openai.com/v1`), Azure OpenAI through its v1 endpoint
//! (`https://<resource>.openai.azure.com/openai/v1`, API key as bearer token), Ollama
//! (`http://localhost:11434/v1`), vLLM and the llama.cpp server (`http://host:8080/v1`).
//! One assessment is one `POST {base_url}/chat/completions` carrying the verdict contract
//! of [`crate::contract`] (system text, delimited transcript, verdict schema). Servers take
//! structured output in different ways, so the way is configuration ([`OutputMode`]):
//! - `json_schema` (default; OpenAI, Azure OpenAI, vLLM, Ollama):
//!   `response_format: {type: "json_schema", json_schema: {name, strict: true, schema}}`;
//! - `json_object` (llama.cpp's Python server, which refuses `json_schema`):
//!   `response_format: {type: "json_object", schema}`, grammar-constrained there;
//! - `tools` (servers that constrain tool calls but not content): one function tool whose
//!   parameters are the verdict schema, forced with `tool_choice`; the verdict is the
//!   call's `arguments`.
//!
//! # Retries and time
//! Each attempt is bounded by `timeout` (whole request: connect, send, answer). 429, 408,
//! 5xx, connection failures and timeouts are retried up to `max_attempts` in total, with
//! exponential backoff from `initial_backoff` (doubling, capped at 10 s, at least the
//! server's `Retry-After` seconds within that cap). Retrying a timeout is safe because an
//! assessment has no side effect. Worst case one `assess` takes
//! `max_attempts × timeout + backoffs`; the sender should budget for that. Other 4xx
//! (bad key, unknown model, a server without `json_schema` support) fail at once with
//! [`JudgeError::Unavailable`]. When attempts run out, the last failure is returned:
//! [`JudgeError::Timeout`] if it was a timeout, else [`JudgeError::Unavailable`].
//!
//! # Validating the answer
//! Every answer goes through [`crate::contract::validate_verdict`]: evidence quoted from
//! the transcript, the wait inside its bounds, the text's length, language, links, phone
//! numbers, prices, discounts and promises. A failed check is
//! [`JudgeError::InvalidAnswer`] and is not retried here (the sender decides). Token
//! usage (`usage.prompt_tokens`, `usage.completion_tokens`) is kept on the verdict and
//! logged with the latency; no message text is logged.
//!
//! # Secrets
//! The API key is a [`Secret`]; the `Authorization` header value is marked sensitive.
//! Neither `Debug`, tracing, nor any error carries the key: error bodies of 401/403 are
//! not quoted at all (OpenAI echoes part of the key there) and other error messages have
//! the key scrubbed out before they are quoted.

use std::time::Duration;

use async_trait::async_trait;
use followup_domain::Secret;
use followup_ports::{Judge, JudgeError, JudgeRequest, JudgeVerdict, TokenUsage};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::contract::{self, VERDICT_NAME, truncate_chars};

/// Default per-attempt timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// Default number of attempts (the first call plus retries).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// Default wait before the first retry; doubles each retry.
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(500);
/// The name of the structured-output schema (or tool) sent to the model.
pub const SCHEMA_NAME: &str = VERDICT_NAME;

const MAX_BACKOFF: Duration = Duration::from_secs(10);
const MAX_QUOTED_ERROR_CHARS: usize = 200;

/// How the server is asked for structured output (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputMode {
    #[default]
    JsonSchema,
    JsonObject,
    Tools,
}

impl OutputMode {
    pub const ALL: [Self; 3] = [Self::JsonSchema, Self::JsonObject, Self::Tools];

    /// The configuration value (`FOLLOWUP_LLM_OUTPUT_MODE`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::JsonSchema => "json_schema",
            Self::JsonObject => "json_object",
            Self::Tools => "tools",
        }
    }

    /// Parses a configuration value; the error lists the accepted ones.
    pub fn parse(raw: &str) -> Result<Self, OpenAiConfigError> {
        let wanted = raw.trim().to_ascii_lowercase().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|mode| mode.as_str() == wanted)
            .ok_or_else(|| OpenAiConfigError::OutputMode(raw.to_owned()))
    }
}

/// How to reach the model.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// The API root without `/chat/completions`, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    pub model: String,
    /// Sent as `Authorization: Bearer …`; `None` for local servers without auth.
    pub api_key: Option<Secret>,
    /// Per attempt, the whole request.
    pub timeout: Duration,
    /// Attempts in total (at least 1).
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    /// Sampling temperature. `None` sends none: some reasoning models refuse any value
    /// other than their default.
    pub temperature: Option<f32>,
    /// How structured output is requested.
    pub output_mode: OutputMode,
}

impl OpenAiConfig {
    /// The longest one verdict can take: every attempt timing out, the longest backoff
    /// between them.
    pub fn worst_case(&self) -> Duration {
        self.timeout.saturating_mul(self.max_attempts)
            + MAX_BACKOFF.saturating_mul(self.max_attempts.saturating_sub(1))
    }

    /// A configuration with the default timeout, attempts and backoff, and no key.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            timeout: DEFAULT_TIMEOUT,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            temperature: None,
            output_mode: OutputMode::default(),
        }
    }

    #[must_use]
    pub fn with_api_key(mut self, key: Secret) -> Self {
        self.api_key = Some(key);
        self
    }
}

/// A configuration that cannot work. Never contains the API key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenAiConfigError {
    #[error("the model base URL must start with http:// or https:// (got {0:?})")]
    BaseUrl(String),
    #[error("the model name must not be blank")]
    Model,
    #[error("max_attempts must be at least 1")]
    MaxAttempts,
    #[error("the timeout must be greater than zero")]
    Timeout,
    #[error("the API key contains characters not allowed in an HTTP header")]
    ApiKey,
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
    #[error("the structured-output mode must be json_schema, json_object or tools (got {0:?})")]
    OutputMode(String),
}

/// The chat-completions judge. Build once; cheap to clone (the HTTP client is shared).
#[derive(Debug, Clone)]
pub struct OpenAiJudge {
    endpoint: String,
    model: String,
    api_key: Option<Secret>,
    authorization: Option<HeaderValue>,
    max_attempts: u32,
    initial_backoff: Duration,
    temperature: Option<f32>,
    output_mode: OutputMode,
    client: reqwest::Client,
}

impl OpenAiJudge {
    pub fn new(config: OpenAiConfig) -> Result<Self, OpenAiConfigError> {
        let base = config.base_url.trim().trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(OpenAiConfigError::BaseUrl(config.base_url.clone()));
        }
        let model = config.model.trim();
        if model.is_empty() {
            return Err(OpenAiConfigError::Model);
        }
        if config.max_attempts == 0 {
            return Err(OpenAiConfigError::MaxAttempts);
        }
        if config.timeout.is_zero() {
            return Err(OpenAiConfigError::Timeout);
        }
        let authorization = match &config.api_key {
            None => None,
            Some(key) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
                    .map_err(|_| OpenAiConfigError::ApiKey)?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| OpenAiConfigError::Client(e.to_string()))?;
        Ok(Self {
            endpoint: format!("{base}/chat/completions"),
            model: model.to_owned(),
            api_key: config.api_key,
            authorization,
            max_attempts: config.max_attempts,
            initial_backoff: config.initial_backoff,
            temperature: config.temperature,
            output_mode: config.output_mode,
            client,
        })
    }

    /// The URL every assessment is posted to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The structured-output mode this judge uses.
    pub const fn output_mode(&self) -> OutputMode {
        self.output_mode
    }

    /// The request body for one assessment (public so the prompt can be inspected).
    pub fn request_body(&self, request: &JudgeRequest) -> Value {
        let mut body = json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": contract::system_prompt(request)},
                {"role": "user", "content": contract::transcript_message(request)},
            ],
        });
        let schema = contract::verdict_schema();
        let structured = match self.output_mode {
            OutputMode::JsonSchema => json!({
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": SCHEMA_NAME, "strict": true, "schema": schema},
                },
            }),
            OutputMode::JsonObject => json!({
                "response_format": {"type": "json_object", "schema": schema},
            }),
            OutputMode::Tools => json!({
                "tools": [{
                    "type": "function",
                    "function": {
                        "name": SCHEMA_NAME,
                        "description": "Record the verdict on the follow-up.",
                        "parameters": schema,
                    },
                }],
                "tool_choice": {"type": "function", "function": {"name": SCHEMA_NAME}},
            }),
        };
        if let (Some(map), Value::Object(extra)) = (body.as_object_mut(), structured) {
            map.extend(extra);
            if let Some(t) = self.temperature {
                map.insert("temperature".to_owned(), json!(t));
            }
        }
        body
    }

    async fn call_with_retries(&self, body: &Value) -> Result<Completion, JudgeError> {
        let mut last_error = JudgeError::Unavailable("no attempt was made".to_owned());
        let mut backoff = self.initial_backoff;
        for attempt in 1..=self.max_attempts {
            match self.call_once(body).await {
                Attempt::Answer(result) => return result,
                Attempt::Fatal(error) => {
                    tracing::warn!(attempt, error = %error, "judge call failed, not retrying");
                    return Err(error);
                }
                Attempt::Retry { error, retry_after } => {
                    tracing::warn!(
                        attempt,
                        max_attempts = self.max_attempts,
                        error = %error,
                        "judge call failed"
                    );
                    last_error = error;
                    if attempt < self.max_attempts {
                        let wait = retry_after.map_or(backoff, |r| r.max(backoff));
                        tokio::time::sleep(wait.min(MAX_BACKOFF)).await;
                        backoff = backoff.saturating_mul(2).min(MAX_BACKOFF);
                    }
                }
            }
        }
        Err(last_error)
    }

    async fn call_once(&self, body: &Value) -> Attempt {
        let mut builder = self.client.post(&self.endpoint).json(body);
        if let Some(authorization) = &self.authorization {
            builder = builder.header(AUTHORIZATION, authorization.clone());
        }
        let response = match builder.send().await {
            Ok(response) => response,
            Err(error) => return self.transport_failure(&error),
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = match response.text().await {
            Ok(text) => text,
            Err(error) => return self.transport_failure(&error),
        };
        if status.is_success() {
            return Attempt::Answer(completion(&text, self.output_mode));
        }
        let error = JudgeError::Unavailable(self.describe_status(status, &text));
        // llama-cpp-python's server answers a request it cannot take (e.g. a
        // `json_schema` response format) with 500 and a pydantic "validation error":
        // repeating the same request cannot help.
        let refused_request =
            status == StatusCode::INTERNAL_SERVER_ERROR && text.contains("validation error");
        if !refused_request
            && (status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::REQUEST_TIMEOUT
                || status.is_server_error())
        {
            Attempt::Retry { error, retry_after }
        } else {
            Attempt::Fatal(error)
        }
    }

    fn transport_failure(&self, error: &reqwest::Error) -> Attempt {
        let error = if error.is_timeout() {
            JudgeError::Timeout
        } else {
            // The message names the endpoint URL, which holds no secret (the key travels in
            // a header); the key is scrubbed anyway, as for every quoted message.
            let mut message = format!("cannot reach the model server: {error}");
            if let Some(source) = std::error::Error::source(error) {
                message = format!("{message} ({source})");
            }
            JudgeError::Unavailable(self.scrub(&message))
        };
        Attempt::Retry {
            error,
            retry_after: None,
        }
    }

    fn describe_status(&self, status: StatusCode, body: &str) -> String {
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            // OpenAI quotes part of the key in this body: do not repeat it.
            return format!(
                "HTTP {}: the model server refused the credentials",
                status.as_u16()
            );
        }
        #[derive(Deserialize)]
        struct ErrorBody {
            error: ErrorDetail,
        }
        #[derive(Deserialize)]
        struct ErrorDetail {
            message: Option<String>,
            #[serde(rename = "type")]
            kind: Option<String>,
            code: Option<Value>,
        }
        let detail = serde_json::from_str::<ErrorBody>(body)
            .ok()
            .map(|b| b.error);
        let mut out = format!("HTTP {}", status.as_u16());
        if let Some(detail) = detail {
            let code = detail.code.as_ref().and_then(|c| match c {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
            if let Some(label) = code.or(detail.kind) {
                out.push_str(&format!(" ({label})"));
            }
            if let Some(message) = detail.message {
                out.push_str(": ");
                out.push_str(&truncate_chars(&message, MAX_QUOTED_ERROR_CHARS));
            }
        }
        self.scrub(&out)
    }

    /// Removes the API key from a message that quotes something the server said.
    fn scrub(&self, message: &str) -> String {
        match &self.api_key {
            Some(key) if !key.expose().is_empty() => message.replace(key.expose(), "***"),
            _ => message.to_owned(),
        }
    }
}

enum Attempt {
    /// The server answered 2xx: the content, or why it is unusable (not retried).
    Answer(Result<Completion, JudgeError>),
    Retry {
        error: JudgeError,
        retry_after: Option<Duration>,
    },
    Fatal(JudgeError),
}

#[async_trait]
impl Judge for OpenAiJudge {
    async fn assess(&self, request: &JudgeRequest) -> Result<JudgeVerdict, JudgeError> {
        let body = self.request_body(request);
        let started = std::time::Instant::now();
        let completion = self.call_with_retries(&body).await?;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let verdict = contract::validate_content(&completion.content, request).map(|mut v| {
            v.usage = completion.usage;
            v
        });
        let (input_tokens, output_tokens) = completion
            .usage
            .map_or((0, 0), |u| (u.input_tokens, u.output_tokens));
        match &verdict {
            Ok(v) => tracing::info!(
                judge = "openai",
                input_tokens,
                output_tokens,
                latency_ms,
                stop_trigger_met = v.stop_trigger_met,
                description_applies = v.description_applies,
                "judge verdict"
            ),
            Err(error) => tracing::warn!(
                judge = "openai",
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

// ---------------------------------------------------------------------------------------
// The answer.

fn invalid(message: impl Into<String>) -> JudgeError {
    JudgeError::InvalidAnswer(message.into())
}

/// What a 2xx chat completion carried: the verdict's JSON text and the token usage.
#[derive(Debug)]
struct Completion {
    content: String,
    usage: Option<TokenUsage>,
}

/// The verdict's JSON text from a chat-completions response body: the message content,
/// or for [`OutputMode::Tools`] the forced call's arguments.
fn completion(body: &str, mode: OutputMode) -> Result<Completion, JudgeError> {
    #[derive(Deserialize)]
    struct Body {
        choices: Vec<Choice>,
        usage: Option<Usage>,
    }
    #[derive(Deserialize)]
    struct Usage {
        prompt_tokens: Option<u64>,
        completion_tokens: Option<u64>,
    }
    #[derive(Deserialize)]
    struct Choice {
        message: ChoiceMessage,
        finish_reason: Option<String>,
    }
    #[derive(Deserialize)]
    struct ChoiceMessage {
        content: Option<String>,
        refusal: Option<String>,
        #[serde(default)]
        tool_calls: Vec<ToolCall>,
    }
    #[derive(Deserialize)]
    struct ToolCall {
        function: ToolFunction,
    }
    #[derive(Deserialize)]
    struct ToolFunction {
        name: Option<String>,
        arguments: Option<String>,
    }
    let parsed: Body = serde_json::from_str(body)
        .map_err(|_| invalid("the server's response is not a chat completion"))?;
    let usage = parsed.usage.map(|u| TokenUsage {
        input_tokens: u.prompt_tokens.unwrap_or(0),
        output_tokens: u.completion_tokens.unwrap_or(0),
    });
    let choice = parsed
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| invalid("the chat completion has no choices"))?;
    if choice
        .message
        .refusal
        .as_deref()
        .is_some_and(|r| !r.trim().is_empty())
    {
        return Err(invalid("the model refused to answer"));
    }
    if choice.finish_reason.as_deref() == Some("length") {
        return Err(invalid("the answer was cut off at the token limit"));
    }
    let content = match mode {
        OutputMode::Tools => {
            let call = choice
                .message
                .tool_calls
                .into_iter()
                .find(|c| c.function.name.as_deref() == Some(SCHEMA_NAME))
                .ok_or_else(|| invalid("the model answered without the verdict tool call"))?;
            call.function.arguments
        }
        OutputMode::JsonSchema | OutputMode::JsonObject => choice.message.content,
    };
    let content = content
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| invalid("the answer is empty"))?;
    Ok(Completion { content, usage })
}

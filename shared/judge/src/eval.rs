//! Measuring a judge against labelled conversations.
//!
//! The labelled set is two files at the workspace root, split once ([`Part`]):
//! `tests/fixtures/judge/tuning.json` and `tests/fixtures/judge/frozen.json`. Each is a
//! JSON array of cases, each a follow-up (as an API draft), a platform, a transcript with
//! `minutes_ago` per line (oldest first) and the two decisions a human would make:
//!
//! ```json
//! {"id": "de-appointment-stop-01", "language": "de", "platform": "whatsapp",
//!  "follow_up": {"name": "…", "delay": {"mode": "manual", "minutes": 240},
//!                "description": "…", "stop_trigger": "…", "message": {"mode": "ai"}},
//!  "transcript": [{"speaker": "customer", "minutes_ago": 300, "text": "…"}],
//!  "expected": {"stop_trigger_met": true, "description_applies": true}}
//! ```
//!
//! An optional `note` explains a label a reader might question.
//!
//! Labelling convention: `description_applies` says whether the conversation is the
//! situation the follow-up was written for (an after-sales check needs a purchase; an
//! appointment reminder needs interest in an appointment), judged independently of
//! whether the stop trigger has been met since: a cart that was then bought is still a
//! cart conversation, and the stop trigger is what ends it. When the description does not
//! apply, `stop_trigger_met` is false.
//!
//! [`evaluate`] runs a judge over every case at the fixed [`EVAL_NOW`] and returns a
//! [`Report`]: accuracy per decision kind and per language, confusion counts, the send
//! decision (the sender sends only when the stop trigger is not met, the description
//! applies and the judge is not unsure; a judge error never sends), the share of stop-met
//! cases that would still be sent, tokens, latency and, given prices, the cost. A judge
//! error counts as wrong on both kinds.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use followup_domain::{FollowUpDraft, Platform, Timestamp, WindowPolicy};
use followup_ports::{Judge, JudgeRequest, Speaker, TokenUsage, TranscriptLine};
use serde::Deserialize;

/// "Now" for every evaluated case: 2026-01-01T00:00:00Z. Fixed, so runs are comparable.
pub const EVAL_NOW: Timestamp = Timestamp::from_secs(1_767_225_600);

/// The two parts of the labelled set, split once (stratified by language and label):
/// the tuning part, which the offline judge's model is trained on and its rules are read
/// against, and the frozen part (at least 30%), which is only ever scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Tuning,
    Frozen,
}

impl Part {
    pub const ALL: [Self; 2] = [Self::Tuning, Self::Frozen];

    pub const fn name(self) -> &'static str {
        match self {
            Self::Tuning => "tuning",
            Self::Frozen => "frozen",
        }
    }

    /// The file relative to the workspace root.
    pub const fn relative_path(self) -> &'static str {
        match self {
            Self::Tuning => "tests/fixtures/judge/tuning.json",
            Self::Frozen => "tests/fixtures/judge/frozen.json",
        }
    }

    /// The file under this workspace's root.
    pub fn path(self) -> PathBuf {
        workspace_root().join(self.relative_path())
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The most characters one text message may have on a platform (Meta's limits).
pub const fn max_text_chars(platform: Platform) -> usize {
    match platform {
        Platform::Instagram => 1000,
        Platform::Messenger => 2000,
        Platform::Whatsapp => 4096,
    }
}

/// One labelled conversation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    /// ISO 639-1 code of the conversation.
    pub language: String,
    pub platform: Platform,
    pub follow_up: FollowUpDraft,
    pub transcript: Vec<CaseLine>,
    pub expected: Expected,
    /// Why a label is what it is, for cases a reader might question.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseSpeaker {
    Customer,
    Business,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseLine {
    pub speaker: CaseSpeaker,
    pub minutes_ago: u32,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub stop_trigger_met: bool,
    pub description_applies: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid fixtures file: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error("case {id}: {message}")]
    Case { id: String, message: String },
}

fn case_error(case: &Case, message: impl Into<String>) -> EvalError {
    EvalError::Case {
        id: case.id.clone(),
        message: message.into(),
    }
}

/// Reads and checks the fixtures: unique ids, at least one customer line per case,
/// lines oldest first, a follow-up that validates.
pub fn load_cases(path: &Path) -> Result<Vec<Case>, EvalError> {
    let display = path.display().to_string();
    let raw = std::fs::read_to_string(path).map_err(|source| EvalError::Read {
        path: display.clone(),
        source,
    })?;
    let cases: Vec<Case> = serde_json::from_str(&raw).map_err(|source| EvalError::Parse {
        path: display,
        source,
    })?;
    let mut ids = BTreeSet::new();
    for case in &cases {
        if !ids.insert(case.id.as_str()) {
            return Err(case_error(case, "duplicate id"));
        }
        if !case
            .transcript
            .windows(2)
            .all(|w| w[0].minutes_ago >= w[1].minutes_ago)
        {
            return Err(case_error(case, "transcript lines must be oldest first"));
        }
        build_request(case, EVAL_NOW)?;
    }
    Ok(cases)
}

/// The judge request for a case at `now`: the follow-up validated like an API request,
/// line times from `minutes_ago`, the window end (24 h minus the default safety margin
/// after the customer's last message) as `latest_send_at`, the platform's text limit.
pub fn build_request(case: &Case, now: Timestamp) -> Result<JudgeRequest, EvalError> {
    let follow_up = case.follow_up.validate().map_err(|errors| {
        let fields: Vec<String> = errors
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        case_error(case, format!("invalid follow-up ({})", fields.join("; ")))
    })?;
    let at = |minutes_ago: u32| {
        Timestamp::from_millis(now.as_millis() - i64::from(minutes_ago) * 60_000)
    };
    let transcript: Vec<TranscriptLine> = case
        .transcript
        .iter()
        .map(|line| TranscriptLine {
            speaker: match line.speaker {
                CaseSpeaker::Customer => Speaker::Customer,
                CaseSpeaker::Business => Speaker::Business,
            },
            at: at(line.minutes_ago),
            text: line.text.clone(),
        })
        .collect();
    let last_customer_message = transcript
        .iter()
        .filter(|l| l.speaker == Speaker::Customer)
        .map(|l| l.at)
        .max()
        .ok_or_else(|| case_error(case, "the transcript has no customer line"))?;
    let latest_send_at =
        last_customer_message.plus_minutes(WindowPolicy::default().latest_free_form_minutes());
    Ok(JudgeRequest {
        platform: case.platform,
        follow_up,
        transcript,
        last_customer_message,
        now,
        latest_send_at,
        max_text_chars: max_text_chars(case.platform),
    })
}

/// The two decisions the fixtures label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    StopTriggerMet,
    DescriptionApplies,
}

impl Kind {
    pub const ALL: [Self; 2] = [Self::StopTriggerMet, Self::DescriptionApplies];

    pub const fn name(self) -> &'static str {
        match self {
            Self::StopTriggerMet => "stop_trigger_met",
            Self::DescriptionApplies => "description_applies",
        }
    }

    const fn of(self, expected: Expected) -> bool {
        match self {
            Self::StopTriggerMet => expected.stop_trigger_met,
            Self::DescriptionApplies => expected.description_applies,
        }
    }
}

/// What the judge said about one case.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub id: String,
    pub language: String,
    pub expected: Expected,
    /// The judge's two decisions, or its error.
    pub got: Result<Expected, String>,
    /// The judge held the follow-up as unsure.
    pub unsure: bool,
    pub usage: TokenUsage,
    pub latency: Duration,
}

impl Outcome {
    /// Whether the judge got `kind` right (an error is never right).
    pub fn correct(&self, kind: Kind) -> bool {
        self.got
            .as_ref()
            .is_ok_and(|got| kind.of(*got) == kind.of(self.expected))
    }

    /// Whether the follow-up should go out: stop not met and the description applies.
    pub const fn should_send(&self) -> bool {
        !self.expected.stop_trigger_met && self.expected.description_applies
    }

    /// Whether the sender would send on this verdict: no error, stop not met, the
    /// description applies, and the judge is not unsure.
    pub fn sends(&self) -> bool {
        self.got
            .as_ref()
            .is_ok_and(|got| !got.stop_trigger_met && got.description_applies && !self.unsure)
    }
}

/// Correct answers out of all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Score {
    pub correct: usize,
    pub total: usize,
}

impl Score {
    /// `correct / total`, 0 when there is nothing to score.
    pub fn accuracy(self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:.2} ({}/{})",
            self.accuracy(),
            self.correct,
            self.total
        )
    }
}

/// Counts for one decision kind, "positive" meaning `true`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Confusion {
    pub true_positive: usize,
    pub false_positive: usize,
    pub true_negative: usize,
    pub false_negative: usize,
    pub errors: usize,
}

/// What a model costs per million tokens, for the report's estimate.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Prices {
    pub input_per_million: f64,
    pub output_per_million: f64,
}

/// The result of one evaluation run.
#[derive(Debug, Clone)]
pub struct Report {
    /// Names the judge in the output, e.g. "offline judge".
    pub judge: String,
    /// Names the labelled set, e.g. "frozen".
    pub part: String,
    pub outcomes: Vec<Outcome>,
    pub prices: Option<Prices>,
}

impl Report {
    /// Right send decisions (send vs. no send) out of all cases.
    pub fn send_score(&self) -> Score {
        Score {
            correct: self
                .outcomes
                .iter()
                .filter(|o| o.sends() == o.should_send())
                .count(),
            total: self.outcomes.len(),
        }
    }

    /// Cases whose stop trigger was met that the sender would still send: the error that
    /// costs most.
    pub fn stop_met_sends(&self) -> Score {
        let stop_met: Vec<&Outcome> = self
            .outcomes
            .iter()
            .filter(|o| o.expected.stop_trigger_met)
            .collect();
        Score {
            correct: stop_met.iter().filter(|o| o.sends()).count(),
            total: stop_met.len(),
        }
    }

    /// Follow-ups the judge held as unsure.
    pub fn unsure(&self) -> usize {
        self.outcomes.iter().filter(|o| o.unsure).count()
    }

    /// Tokens over all cases.
    pub fn tokens(&self) -> TokenUsage {
        self.outcomes
            .iter()
            .fold(TokenUsage::default(), |sum, o| TokenUsage {
                input_tokens: sum.input_tokens + o.usage.input_tokens,
                output_tokens: sum.output_tokens + o.usage.output_tokens,
            })
    }

    /// The estimated cost of all verdicts, when prices were given.
    pub fn cost(&self) -> Option<f64> {
        let prices = self.prices?;
        let tokens = self.tokens();
        Some(
            tokens.input_tokens as f64 * prices.input_per_million / 1e6
                + tokens.output_tokens as f64 * prices.output_per_million / 1e6,
        )
    }

    /// The latency at quantile `q` (0 to 1), nearest rank.
    pub fn latency(&self, q: f64) -> Duration {
        let mut all: Vec<Duration> = self.outcomes.iter().map(|o| o.latency).collect();
        all.sort();
        if all.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((q * all.len() as f64).ceil() as usize).clamp(1, all.len());
        all[rank - 1]
    }

    pub fn score(&self, kind: Kind) -> Score {
        Score {
            correct: self.outcomes.iter().filter(|o| o.correct(kind)).count(),
            total: self.outcomes.len(),
        }
    }

    pub fn score_by_language(&self, kind: Kind) -> BTreeMap<String, Score> {
        let mut out: BTreeMap<String, Score> = BTreeMap::new();
        for outcome in &self.outcomes {
            let score = out.entry(outcome.language.clone()).or_default();
            score.total += 1;
            score.correct += usize::from(outcome.correct(kind));
        }
        out
    }

    pub fn confusion(&self, kind: Kind) -> Confusion {
        let mut c = Confusion::default();
        for outcome in &self.outcomes {
            match &outcome.got {
                Err(_) => c.errors += 1,
                Ok(got) => match (kind.of(outcome.expected), kind.of(*got)) {
                    (true, true) => c.true_positive += 1,
                    (false, true) => c.false_positive += 1,
                    (false, false) => c.true_negative += 1,
                    (true, false) => c.false_negative += 1,
                },
            }
        }
        c
    }

    /// Ids the judge got wrong, with the kinds it got wrong (or its error).
    pub fn misclassified(&self) -> Vec<(String, String)> {
        self.outcomes
            .iter()
            .filter_map(|o| match &o.got {
                Err(error) => Some((o.id.clone(), format!("error: {error}"))),
                Ok(_) => {
                    let wrong: Vec<String> = Kind::ALL
                        .into_iter()
                        .filter(|k| !o.correct(*k))
                        .map(|k| format!("{} expected {}", k.name(), k.of(o.expected)))
                        .collect();
                    (!wrong.is_empty()).then(|| (o.id.clone(), wrong.join(", ")))
                }
            })
            .collect()
    }

    /// The lower of the two accuracies.
    pub fn min_accuracy(&self) -> f64 {
        Kind::ALL
            .into_iter()
            .map(|k| self.score(k).accuracy())
            .fold(f64::INFINITY, f64::min)
    }

    /// `judge-eval: offline judge: stop 0.90 (45/50), applies 0.82 (41/50), send 0.88
    /// (44/50), stop-met sends 0.04 (1/25), unsure 3 [frozen]`
    pub fn summary_line(&self) -> String {
        format!(
            "judge-eval: {}: stop {}, applies {}, send {}, stop-met sends {}, unsure {} [{}]",
            self.judge,
            self.score(Kind::StopTriggerMet),
            self.score(Kind::DescriptionApplies),
            self.send_score(),
            self.stop_met_sends(),
            self.unsure(),
            self.part
        )
    }
}

impl Report {
    /// The report as text; `with_ids` lists the misclassified cases (left out for a part
    /// that must not be read while tuning).
    pub fn render(&self, with_ids: bool) -> String {
        let mut out = String::new();
        let _ = self.write(&mut out, with_ids);
        out
    }

    fn write(&self, f: &mut impl fmt::Write, with_ids: bool) -> fmt::Result {
        writeln!(
            f,
            "{}: {} cases, judged by the {}",
            self.part,
            self.outcomes.len(),
            self.judge
        )?;
        writeln!(
            f,
            "send decision: {}  stop-met sends: {}  held as unsure: {}",
            self.send_score(),
            self.stop_met_sends(),
            self.unsure()
        )?;
        let tokens = self.tokens();
        writeln!(
            f,
            "tokens: {} in, {} out  latency p50 {} ms, p95 {} ms{}",
            tokens.input_tokens,
            tokens.output_tokens,
            self.latency(0.5).as_millis(),
            self.latency(0.95).as_millis(),
            self.cost()
                .map(|c| format!(
                    "  estimated cost {c:.4} USD ({:.6} per verdict)",
                    c / self.outcomes.len().max(1) as f64
                ))
                .unwrap_or_default()
        )?;
        for kind in Kind::ALL {
            let c = self.confusion(kind);
            writeln!(f, "\n{}: {}", kind.name(), self.score(kind))?;
            writeln!(
                f,
                "  confusion: true+ {}  false+ {}  true- {}  false- {}  errors {}",
                c.true_positive, c.false_positive, c.true_negative, c.false_negative, c.errors
            )?;
            for (language, score) in self.score_by_language(kind) {
                writeln!(f, "  {language}: {score}")?;
            }
        }
        let wrong = self.misclassified();
        writeln!(f, "\nmisclassified: {}", wrong.len())?;
        if with_ids {
            for (id, what) in &wrong {
                writeln!(f, "  {id}: {what}")?;
            }
        } else {
            writeln!(f, "  (ids not shown for this part)")?;
        }
        write!(f, "{}", self.summary_line())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, true)
    }
}

/// Runs `judge` over every case at `now`, one case at a time.
pub async fn evaluate(
    judge: &dyn Judge,
    judge_name: &str,
    cases: &[Case],
    now: Timestamp,
) -> Result<Report, EvalError> {
    let mut outcomes = Vec::with_capacity(cases.len());
    for case in cases {
        let request = build_request(case, now)?;
        let started = Instant::now();
        let verdict = judge.assess(&request).await;
        let latency = started.elapsed();
        let (unsure, usage) = verdict
            .as_ref()
            .map_or((false, TokenUsage::default()), |v| {
                (v.unsure.is_some(), v.usage.unwrap_or_default())
            });
        let got = verdict
            .map(|verdict| Expected {
                stop_trigger_met: verdict.stop_trigger_met,
                description_applies: verdict.description_applies,
            })
            .map_err(|e| e.to_string());
        outcomes.push(Outcome {
            id: case.id.clone(),
            language: case.language.clone(),
            expected: case.expected,
            got,
            unsure,
            usage,
            latency,
        });
    }
    Ok(Report {
        judge: judge_name.to_owned(),
        part: "cases".to_owned(),
        outcomes,
        prices: None,
    })
}

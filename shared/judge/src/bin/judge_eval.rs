//! `judge-eval`: measures a judge against the labelled conversations.
//!
//! ```text
//! cargo run -p followup-judge --bin judge-eval                       # offline judge
//! cargo run -p followup-judge --bin judge-eval -- --min-send-accuracy 0.85 --max-stop-met-sends 0.03
//! cargo run -p followup-judge --bin judge-eval -- --fixtures my-cases.json
//! FOLLOWUP_LLM_API_KEY=… cargo run -p followup-judge --bin judge-eval -- \
//!     --judge openai --base-url https://api.openai.com/v1 --model gpt-4.1-mini \
//!     --input-price 0.40 --output-price 1.60
//! AWS_REGION=eu-central-1 cargo run -p followup-judge --bin judge-eval -- \
//!     --judge bedrock --model eu.amazon.nova-lite-v1:0
//! ```
//!
//! Without `--fixtures` it scores both parts of the labelled set, the tuning part and then
//! the frozen part, and the gates apply to the frozen part; the frozen part's
//! misclassified ids are not printed unless `--show-frozen-ids` is given, so that nobody
//! tunes against them by accident. With `--fixtures FILE` it scores that one file (same
//! format) and the gates apply to it. Each part's report gives accuracy per decision kind
//! and per language, confusion counts, the send decision, the stop-met sends, cases held
//! as unsure, tokens, p50/p95 latency and (with prices per million tokens) the estimated
//! cost; each ends with a line such as
//! `judge-eval: offline judge: stop 0.90 (45/50), applies 0.82 (41/50), send 0.88 (44/50),
//! stop-met sends 0.04 (1/25), unsure 3 [frozen]`. A gate that is missed exits with 1.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use followup_domain::Secret;
use followup_judge::eval::{self, EVAL_NOW, Part, Prices, Report};
use followup_judge::{
    BedrockConfig, BedrockJudge, OfflineJudge, OpenAiConfig, OpenAiJudge, OutputMode,
};
use followup_ports::Judge;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum JudgeKind {
    /// The offline judge: the checked-in classifier over the keyword rules.
    Offline,
    /// The keyword rules alone, without the classifier.
    Rules,
    /// An OpenAI-compatible chat-completions server.
    Openai,
    /// Amazon Bedrock's Converse API (credentials and region from the AWS environment).
    Bedrock,
}

#[derive(Debug, Parser)]
#[command(
    name = "judge-eval",
    about = "Measure a follow-up judge against labelled conversations"
)]
struct Args {
    /// One fixtures file to score (default: the tuning and the frozen part of the
    /// labelled set in tests/fixtures/judge/).
    #[arg(long)]
    fixtures: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = JudgeKind::Offline)]
    judge: JudgeKind,
    /// For --judge openai: the API root, e.g. https://api.openai.com/v1.
    #[arg(long, env = "FOLLOWUP_LLM_BASE_URL")]
    base_url: Option<String>,
    /// For --judge openai: the model name; for --judge bedrock: the model or
    /// inference-profile id.
    #[arg(long, env = "FOLLOWUP_LLM_MODEL")]
    model: Option<String>,
    /// For --judge openai: json_schema, json_object or tools.
    #[arg(long, env = "FOLLOWUP_LLM_OUTPUT_MODE", default_value = "json_schema")]
    output_mode: String,
    /// Price per million input tokens (USD), for the cost estimate.
    #[arg(long)]
    input_price: Option<f64>,
    /// Price per million output tokens (USD), for the cost estimate.
    #[arg(long)]
    output_price: Option<f64>,
    /// Exit non-zero when the send decision's accuracy is below this (0 to 1).
    #[arg(long)]
    min_send_accuracy: Option<f64>,
    /// Exit non-zero when more than this share of stop-met cases would be sent (0 to 1).
    #[arg(long)]
    max_stop_met_sends: Option<f64>,
    /// Also list the frozen part's misclassified ids.
    #[arg(long)]
    show_frozen_ids: bool,
    /// For --judge openai: seconds per attempt.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
    /// Exit non-zero when either decision's accuracy is below this (0 to 1).
    #[arg(long)]
    min_accuracy: Option<f64>,
    /// Print the chat-completions request body the openai judge would send for the case
    /// with this id (no call is made), then exit.
    #[arg(long, value_name = "CASE_ID")]
    print_request: Option<String>,
}

async fn build_judge(args: &Args) -> Result<(Box<dyn Judge>, String), String> {
    match args.judge {
        JudgeKind::Offline => Ok((Box::new(OfflineJudge::new()), "offline judge".to_owned())),
        JudgeKind::Rules => Ok((
            Box::new(OfflineJudge::rules_only()),
            "keyword rules".to_owned(),
        )),
        JudgeKind::Openai => {
            let base_url = args
                .base_url
                .clone()
                .ok_or("--judge openai needs --base-url (or FOLLOWUP_LLM_BASE_URL)")?;
            let model = args
                .model
                .clone()
                .ok_or("--judge openai needs --model (or FOLLOWUP_LLM_MODEL)")?;
            let mut config = OpenAiConfig::new(base_url, model.clone());
            config.timeout = Duration::from_secs(args.timeout_secs.max(1));
            config.output_mode = OutputMode::parse(&args.output_mode).map_err(|e| e.to_string())?;
            config.api_key = std::env::var("FOLLOWUP_LLM_API_KEY")
                .ok()
                .filter(|k| !k.trim().is_empty())
                .map(Secret::new);
            let judge = OpenAiJudge::new(config).map_err(|e| e.to_string())?;
            Ok((Box::new(judge), format!("openai judge ({model})")))
        }
        JudgeKind::Bedrock => {
            let model = args
                .model
                .clone()
                .ok_or("--judge bedrock needs --model (a model or inference-profile id)")?;
            let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            let mut config = BedrockConfig::new(model.clone());
            config.timeout = Duration::from_secs(args.timeout_secs.max(1));
            let judge = BedrockJudge::new(&sdk, config).map_err(|e| e.to_string())?;
            Ok((Box::new(judge), format!("bedrock judge ({model})")))
        }
    }
}

fn print_request(args: &Args, cases: &[eval::Case], id: &str) -> ExitCode {
    let Some(case) = cases.iter().find(|c| c.id == id) else {
        eprintln!("judge-eval: no case with id {id:?}");
        return ExitCode::from(2);
    };
    let config = OpenAiConfig::new(
        args.base_url
            .clone()
            .unwrap_or_else(|| "http://127.0.0.1:11434/v1".to_owned()),
        args.model.clone().unwrap_or_else(|| "model".to_owned()),
    );
    let built = OpenAiJudge::new(config)
        .map_err(|e| e.to_string())
        .and_then(|judge| {
            let request = eval::build_request(case, EVAL_NOW).map_err(|e| e.to_string())?;
            serde_json::to_string_pretty(&judge.request_body(&request)).map_err(|e| e.to_string())
        });
    match built {
        Ok(body) => {
            println!("{body}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("judge-eval: {error}");
            ExitCode::from(2)
        }
    }
}

/// The gates a report must pass; the reasons it does not.
fn missed_gates(args: &Args, report: &Report) -> Vec<String> {
    let mut missed = Vec::new();
    if let Some(min) = args.min_accuracy
        && report.min_accuracy() < min
    {
        missed.push(format!(
            "decision accuracy {:.2} is below the minimum {min:.2}",
            report.min_accuracy()
        ));
    }
    if let Some(min) = args.min_send_accuracy
        && report.send_score().accuracy() < min
    {
        missed.push(format!(
            "send accuracy {:.2} is below the minimum {min:.2}",
            report.send_score().accuracy()
        ));
    }
    if let Some(max) = args.max_stop_met_sends
        && report.stop_met_sends().accuracy() > max
    {
        missed.push(format!(
            "stop-met sends {:.3} are above the maximum {max:.3}",
            report.stop_met_sends().accuracy()
        ));
    }
    missed
}

fn check_share(name: &str, value: Option<f64>) -> Result<(), String> {
    match value {
        Some(v) if !(0.0..=1.0).contains(&v) => Err(format!("{name} must be between 0 and 1")),
        _ => Ok(()),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    for (name, value) in [
        ("--min-accuracy", args.min_accuracy),
        ("--min-send-accuracy", args.min_send_accuracy),
        ("--max-stop-met-sends", args.max_stop_met_sends),
    ] {
        if let Err(error) = check_share(name, value) {
            eprintln!("judge-eval: {error}");
            return ExitCode::from(2);
        }
    }
    // (name, path, whether ids may be shown); the last one is gated.
    let parts: Vec<(String, PathBuf, bool)> = match &args.fixtures {
        Some(path) => vec![(
            path.file_stem()
                .map_or_else(|| "cases".to_owned(), |s| s.to_string_lossy().into_owned()),
            path.clone(),
            true,
        )],
        None => Part::ALL
            .into_iter()
            .map(|part| {
                (
                    part.name().to_owned(),
                    part.path(),
                    part == Part::Tuning || args.show_frozen_ids,
                )
            })
            .collect(),
    };
    let mut loaded = Vec::new();
    for (name, path, show_ids) in parts {
        match eval::load_cases(&path) {
            Ok(cases) => loaded.push((name, path, show_ids, cases)),
            Err(error) => {
                eprintln!("judge-eval: {error}");
                return ExitCode::from(2);
            }
        }
    }
    if let Some(id) = &args.print_request {
        let all: Vec<eval::Case> = loaded.iter().flat_map(|l| l.3.clone()).collect();
        return print_request(&args, &all, id);
    }
    let (judge, name) = match build_judge(&args).await {
        Ok(judge) => judge,
        Err(error) => {
            eprintln!("judge-eval: {error}");
            return ExitCode::from(2);
        }
    };
    let prices = match (args.input_price, args.output_price) {
        (None, None) => None,
        (input, output) => Some(Prices {
            input_per_million: input.unwrap_or(0.0),
            output_per_million: output.unwrap_or(0.0),
        }),
    };
    let mut last = None;
    for (part, path, show_ids, cases) in &loaded {
        let mut report = match eval::evaluate(judge.as_ref(), &name, cases, EVAL_NOW).await {
            Ok(report) => report,
            Err(error) => {
                eprintln!("judge-eval: {error}");
                return ExitCode::from(2);
            }
        };
        report.part.clone_from(part);
        report.prices = prices;
        if last.is_some() {
            println!();
        }
        println!("fixtures: {}", path.display());
        println!("{}", report.render(*show_ids));
        last = Some(report);
    }
    let Some(gated) = last else {
        return ExitCode::from(2);
    };
    let missed = missed_gates(&args, &gated);
    for reason in &missed {
        eprintln!("judge-eval: {} part: {reason}", gated.part);
    }
    if missed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

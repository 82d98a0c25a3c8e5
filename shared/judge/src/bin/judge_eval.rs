//! `judge-eval`: measures a judge against the labelled conversations.
//!
//! ```text
//! cargo run -p followup-judge --bin judge-eval                       # offline judge
//! cargo run -p followup-judge --bin judge-eval -- --min-accuracy 0.7
//! FOLLOWUP_LLM_API_KEY=… cargo run -p followup-judge --bin judge-eval -- \
//!     --judge openai --base-url https://api.openai.com/v1 --model gpt-4o-mini
//! ```
//!
//! Prints accuracy per decision kind and per language, confusion counts and the
//! misclassified ids; the last line reads
//! `judge-eval: offline judge: stop 0.90 (45/50), applies 0.82 (41/50)`. With
//! `--min-accuracy X` it exits with status 1 when either accuracy is below X.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use followup_domain::Secret;
use followup_judge::eval::{self, EVAL_NOW};
use followup_judge::{OfflineJudge, OpenAiConfig, OpenAiJudge};
use followup_ports::Judge;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum JudgeKind {
    /// The deterministic keyword heuristic (no model).
    Offline,
    /// An OpenAI-compatible chat-completions server.
    Openai,
}

#[derive(Debug, Parser)]
#[command(
    name = "judge-eval",
    about = "Measure a follow-up judge against labelled conversations"
)]
struct Args {
    /// The fixtures file (default: tests/fixtures/judge/conversations.json in the workspace).
    #[arg(long)]
    fixtures: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = JudgeKind::Offline)]
    judge: JudgeKind,
    /// For --judge openai: the API root, e.g. https://api.openai.com/v1.
    #[arg(long, env = "FOLLOWUP_LLM_BASE_URL")]
    base_url: Option<String>,
    /// For --judge openai: the model name.
    #[arg(long, env = "FOLLOWUP_LLM_MODEL")]
    model: Option<String>,
    /// For --judge openai: seconds per attempt.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
    /// Exit non-zero when either accuracy is below this (0 to 1).
    #[arg(long)]
    min_accuracy: Option<f64>,
    /// Print the chat-completions request body the openai judge would send for the case
    /// with this id (no call is made), then exit.
    #[arg(long, value_name = "CASE_ID")]
    print_request: Option<String>,
}

fn build_judge(args: &Args) -> Result<(Box<dyn Judge>, String), String> {
    match args.judge {
        JudgeKind::Offline => Ok((Box::new(OfflineJudge::new()), "offline judge".to_owned())),
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
            config.api_key = std::env::var("FOLLOWUP_LLM_API_KEY")
                .ok()
                .filter(|k| !k.trim().is_empty())
                .map(Secret::new);
            let judge = OpenAiJudge::new(config).map_err(|e| e.to_string())?;
            Ok((Box::new(judge), format!("openai judge ({model})")))
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

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(min) = args.min_accuracy
        && !(0.0..=1.0).contains(&min)
    {
        eprintln!("judge-eval: --min-accuracy must be between 0 and 1");
        return ExitCode::from(2);
    }
    let path = args
        .fixtures
        .clone()
        .unwrap_or_else(eval::default_fixtures_path);
    let cases = match eval::load_cases(&path) {
        Ok(cases) => cases,
        Err(error) => {
            eprintln!("judge-eval: {error}");
            return ExitCode::from(2);
        }
    };
    if let Some(id) = &args.print_request {
        return print_request(&args, &cases, id);
    }
    let (judge, name) = match build_judge(&args) {
        Ok(judge) => judge,
        Err(error) => {
            eprintln!("judge-eval: {error}");
            return ExitCode::from(2);
        }
    };
    let report = match eval::evaluate(judge.as_ref(), &name, &cases, EVAL_NOW).await {
        Ok(report) => report,
        Err(error) => {
            eprintln!("judge-eval: {error}");
            return ExitCode::from(2);
        }
    };
    println!("fixtures: {}", path.display());
    println!("{report}");
    match args.min_accuracy {
        Some(min) if report.min_accuracy() < min => {
            eprintln!(
                "judge-eval: accuracy {:.2} is below the minimum {min:.2}",
                report.min_accuracy()
            );
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
}

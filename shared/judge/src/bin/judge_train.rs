//! `judge-train`: trains the offline judge's classifiers from the **tuning** part of the
//! labelled set and writes `shared/judge/model/offline-model.json`.
//!
//! ```text
//! cargo run -p followup-judge --bin judge-train            # writes the model file
//! cargo run -p followup-judge --bin judge-train -- --check # fails if the file is stale
//! ```
//!
//! It never opens the frozen part. The thresholds come from 5-fold out-of-fold
//! probabilities on the tuning part: the applies threshold and the "unsure" threshold that
//! give the best send decision while at most `MAX_STOP_MET_SENDS` of the stop-met cases
//! would still be sent. Deterministic: the same tuning file gives the same model.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use followup_judge::eval::{self, EVAL_NOW, Part};
use followup_judge::model::{
    self, Features, Logistic, MAX_STOP_MET_SENDS, Model, Thresholds, Training,
};

#[derive(Debug, Parser)]
#[command(
    name = "judge-train",
    about = "Train the offline judge from the tuning part"
)]
struct Args {
    /// Where to write the model (default: the checked-in file).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Do not write; exit 1 when the checked-in model differs from a fresh training.
    #[arg(long)]
    check: bool,
}

const FOLDS: u64 = 5;

struct Example {
    id: String,
    stop_features: Features,
    applies_features: Features,
    stop: bool,
    applies: bool,
}

fn fold_of(id: &str) -> u64 {
    // FNV-1a of the id: a fixed fold per case.
    id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    }) % FOLDS
}

fn fit(examples: &[&Example]) -> (Logistic, Logistic) {
    // Only conversations the description fits teach the stop model: by the labelling
    // convention the others carry stop = false whatever the customer said.
    let stop: Vec<(Features, bool)> = examples
        .iter()
        .filter(|e| e.applies)
        .map(|e| (e.stop_features.clone(), e.stop))
        .collect();
    let applies: Vec<(Features, bool)> = examples
        .iter()
        .map(|e| (e.applies_features.clone(), e.applies))
        .collect();
    let settings = Training::default();
    (
        model::train(&stop, settings),
        model::train(&applies, settings),
    )
}

/// (send accuracy, stop-met sends share) of out-of-fold probabilities at thresholds.
fn score(oof: &[(f64, f64, bool, bool)], unsure: f64, applies: f64) -> (f64, f64) {
    let mut right = 0;
    let mut stop_met = 0;
    let mut stop_met_sent = 0;
    for &(p_stop, p_applies, stop, fits) in oof {
        let sends = p_stop < unsure && p_applies >= applies;
        let should = !stop && fits;
        right += usize::from(sends == should);
        if stop {
            stop_met += 1;
            stop_met_sent += usize::from(sends);
        }
    }
    (
        right as f64 / oof.len().max(1) as f64,
        stop_met_sent as f64 / f64::from(stop_met.max(1)),
    )
}

fn main() -> ExitCode {
    let args = Args::parse();
    let cases = match eval::load_cases(&Part::Tuning.path()) {
        Ok(cases) => cases,
        Err(error) => {
            eprintln!("judge-train: {error}");
            return ExitCode::from(2);
        }
    };
    let mut examples = Vec::with_capacity(cases.len());
    for case in &cases {
        let request = match eval::build_request(case, EVAL_NOW) {
            Ok(request) => request,
            Err(error) => {
                eprintln!("judge-train: {error}");
                return ExitCode::from(2);
            }
        };
        examples.push(Example {
            id: case.id.clone(),
            stop_features: model::stop_features(&request),
            applies_features: model::applies_features(&request),
            stop: case.expected.stop_trigger_met,
            applies: case.expected.description_applies,
        });
    }

    // Out-of-fold probabilities.
    let mut oof = vec![(0.0, 0.0, false, false); examples.len()];
    for fold in 0..FOLDS {
        let train: Vec<&Example> = examples.iter().filter(|e| fold_of(&e.id) != fold).collect();
        let (stop, applies) = fit(&train);
        for (i, e) in examples.iter().enumerate() {
            if fold_of(&e.id) == fold {
                oof[i] = (
                    stop.probability(&e.stop_features),
                    applies.probability(&e.applies_features),
                    e.stop,
                    e.applies,
                );
            }
        }
    }
    let mut best: Option<(f64, f64, f64, f64)> = None; // (accuracy, stop-met sends, unsure, applies)
    for u in 1..100 {
        let unsure = f64::from(u) / 100.0;
        for a in 10..=90 {
            let applies = f64::from(a) / 100.0;
            let (accuracy, leaked) = score(&oof, unsure, applies);
            if leaked > MAX_STOP_MET_SENDS {
                continue;
            }
            let better = best.is_none_or(|(acc, _, bu, ba)| {
                accuracy > acc + 1e-9
                    || ((accuracy - acc).abs() < 1e-9
                        && (unsure - 0.5).abs() + (applies - 0.5).abs()
                            < (bu - 0.5).abs() + (ba - 0.5).abs())
            });
            if better {
                best = Some((accuracy, leaked, unsure, applies));
            }
        }
    }
    let Some((accuracy, leaked, unsure, applies)) = best else {
        eprintln!("judge-train: no thresholds keep the stop-met sends within bounds");
        return ExitCode::FAILURE;
    };
    let stop_threshold = unsure.max(0.5);
    let stop_accuracy = oof
        .iter()
        .filter(|(p, _, stop, _)| (*p >= stop_threshold) == *stop)
        .count() as f64
        / oof.len() as f64;
    let applies_accuracy = oof
        .iter()
        .filter(|(_, p, _, fits)| (*p >= applies) == *fits)
        .count() as f64
        / oof.len() as f64;
    println!(
        "judge-train: {} tuning cases, {FOLDS}-fold out of fold: send {accuracy:.3}, \
         stop-met sends {leaked:.3}, stop {stop_accuracy:.3}, applies {applies_accuracy:.3}; \
         thresholds unsure {unsure:.2}, stop {stop_threshold:.2}, applies {applies:.2}",
        examples.len()
    );

    let all: Vec<&Example> = examples.iter().collect();
    let (stop, applies_model) = fit(&all);
    let model = Model {
        version: 1,
        trained_on: format!(
            "{} cases of {}; {FOLDS}-fold out of fold on them: send {accuracy:.3}, stop-met \
             sends {leaked:.3}, stop {stop_accuracy:.3}, applies {applies_accuracy:.3}",
            examples.len(),
            Part::Tuning.relative_path()
        ),
        thresholds: Thresholds {
            stop: stop_threshold,
            unsure,
            applies,
        },
        stop,
        applies: applies_model,
    };
    println!(
        "judge-train: {} stop weights, {} applies weights",
        model.stop.size(),
        model.applies.size()
    );
    let text = match serde_json::to_string(&model) {
        Ok(text) => text + "\n",
        Err(error) => {
            eprintln!("judge-train: {error}");
            return ExitCode::from(2);
        }
    };
    let path = args
        .out
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(model::MODEL_PATH));
    if args.check {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == text {
            println!("judge-train: {} is up to date", path.display());
            return ExitCode::SUCCESS;
        }
        eprintln!(
            "judge-train: {} differs from a fresh training of the tuning part; run judge-train",
            path.display()
        );
        return ExitCode::FAILURE;
    }
    if let Err(error) = std::fs::write(&path, text) {
        eprintln!("judge-train: cannot write {}: {error}", path.display());
        return ExitCode::from(2);
    }
    println!("judge-train: wrote {}", path.display());
    ExitCode::SUCCESS
}

//! The labelled fixtures and the `judge-eval` tool, run with the offline judge.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use followup_judge::OfflineJudge;
use followup_judge::eval::{self, EVAL_NOW, Kind, Part};

/// Accuracy below this on either decision is a regression worth a look. Not the
/// measured value: the eval prints that.
const FLOOR: f64 = 0.7;

#[test]
fn when_the_labelled_set_is_loaded_then_it_has_400_cases_and_a_frozen_third() {
    let tuning = eval::load_cases(&Part::Tuning.path()).expect("tuning part");
    let frozen = eval::load_cases(&Part::Frozen.path()).expect("frozen part");
    let all = tuning.len() + frozen.len();
    assert!(all >= 400, "{all} cases");
    assert!(
        frozen.len() * 10 >= all * 3,
        "frozen {} of {all}",
        frozen.len()
    );
    let tuning_ids: BTreeSet<&str> = tuning.iter().map(|c| c.id.as_str()).collect();
    assert!(
        frozen.iter().all(|c| !tuning_ids.contains(c.id.as_str())),
        "no case is in both parts"
    );
    for cases in [&tuning, &frozen] {
        assert_covers_languages_platforms_and_labels(
            cases,
            &["en", "de", "es", "pt", "fr", "it", "nl", "tr"],
        );
    }
}

fn assert_covers_languages_platforms_and_labels(cases: &[eval::Case], languages: &[&str]) {
    let mut per_language: BTreeMap<&str, usize> = BTreeMap::new();
    for case in cases {
        *per_language.entry(case.language.as_str()).or_default() += 1;
        assert!(
            case.id.starts_with(&format!("{}-", case.language)),
            "{}: id starts with its language",
            case.id
        );
    }
    for language in languages {
        let count = per_language.get(language).copied().unwrap_or(0);
        assert!(count >= 6, "{language}: {count} cases");
    }
    let platforms: BTreeSet<_> = cases.iter().map(|c| c.platform).collect();
    assert_eq!(platforms.len(), 3);
    for value in [true, false] {
        assert!(cases.iter().any(|c| c.expected.stop_trigger_met == value));
        assert!(
            cases
                .iter()
                .any(|c| c.expected.description_applies == value)
        );
    }
}

#[tokio::test]
async fn when_the_offline_judge_runs_over_the_tuning_part_then_accuracy_is_computed_per_kind_and_language()
 {
    let cases = eval::load_cases(&Part::Tuning.path()).expect("fixtures");
    let report = eval::evaluate(&OfflineJudge::new(), "offline judge", &cases, EVAL_NOW)
        .await
        .expect("report");

    assert_eq!(report.outcomes.len(), cases.len());
    for kind in Kind::ALL {
        let score = report.score(kind);
        assert_eq!(score.total, cases.len());
        let confusion = report.confusion(kind);
        assert_eq!(
            confusion.true_positive
                + confusion.false_positive
                + confusion.true_negative
                + confusion.false_negative
                + confusion.errors,
            cases.len()
        );
        assert_eq!(confusion.errors, 0, "the offline judge never fails");
        let by_language = report.score_by_language(kind);
        assert_eq!(by_language.len(), 8);
        assert_eq!(
            by_language.values().map(|s| s.total).sum::<usize>(),
            cases.len()
        );
        assert!(
            score.accuracy() >= FLOOR,
            "{}: {score} is below {FLOOR}\n{report}",
            kind.name()
        );
    }
    let wrong = report.misclassified().len();
    let all_right = Kind::ALL
        .into_iter()
        .all(|k| report.score(k).correct == cases.len());
    assert_eq!(wrong == 0, all_right);
    let send = report.send_score();
    assert_eq!(send.total, cases.len());
    let stop_met = report.stop_met_sends();
    assert_eq!(
        stop_met.total,
        cases.iter().filter(|c| c.expected.stop_trigger_met).count()
    );
    let summary = report.summary_line();
    assert!(
        summary.starts_with("judge-eval: offline judge: stop "),
        "{summary}"
    );
    assert!(summary.contains(", applies "), "{summary}");
    assert!(summary.contains(", send "), "{summary}");
    assert!(summary.contains(", stop-met sends "), "{summary}");
    assert!(report.to_string().ends_with(&summary));
    assert!(!report.render(false).contains(&cases[0].id) || wrong == 0);
}

#[test]
fn when_judge_eval_runs_with_gates_it_meets_then_it_exits_zero_and_ends_with_the_frozen_summary() {
    let output = Command::new(env!("CARGO_BIN_EXE_judge-eval"))
        .args(["--min-accuracy", "0.5", "--max-stop-met-sends", "0.5"])
        .output()
        .expect("run judge-eval");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("judge-eval: offline judge: stop ") && last.ends_with("[frozen]"),
        "{last}"
    );
    assert!(stdout.contains("[tuning]"), "both parts are reported");
    assert!(stdout.contains("(ids not shown for this part)"));
    assert!(stdout.contains("confusion:"));
}

#[test]
fn when_accuracy_is_below_the_minimum_then_judge_eval_exits_non_zero() {
    // One case labelled against what any judge would say: accuracy 0 on stop.
    let fixture = serde_json::json!([{
        "id": "en-mislabelled-01",
        "language": "en",
        "platform": "messenger",
        "follow_up": {
            "name": "Appointment reminder",
            "delay": {"mode": "manual", "minutes": 240},
            "description": "Customer showed interest in booking but did not confirm",
            "stop_trigger": "Customer confirmed, cancelled, or is no longer interested",
            "message": {"mode": "ai"}
        },
        "transcript": [
            {"speaker": "customer", "minutes_ago": 300, "text": "Can I book for Friday?"},
            {"speaker": "customer", "minutes_ago": 250, "text": "STOP, not interested"}
        ],
        "expected": {"stop_trigger_met": false, "description_applies": true}
    }]);
    let path = std::env::temp_dir().join(format!(
        "judge-eval-mislabelled-{}.json",
        std::process::id()
    ));
    std::fs::write(&path, fixture.to_string()).expect("write fixture");
    let output = Command::new(env!("CARGO_BIN_EXE_judge-eval"))
        .arg("--fixtures")
        .arg(&path)
        .args(["--min-accuracy", "0.5"])
        .output()
        .expect("run judge-eval");
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(stdout.contains("en-mislabelled-01"), "{stdout}");
    assert!(
        stdout
            .lines()
            .last()
            .is_some_and(|l| l.contains("stop 0.00 (0/1), applies 1.00 (1/1), send 0.00 (0/1)")),
        "{stdout}"
    );
}

#[test]
fn when_a_fixtures_file_is_broken_then_loading_names_the_problem() {
    let path = std::env::temp_dir().join(format!("judge-eval-broken-{}.json", std::process::id()));
    std::fs::write(&path, r#"[{"id": "x"}]"#).expect("write");
    let error = eval::load_cases(&path).expect_err("broken");
    let _ = std::fs::remove_file(&path);
    assert!(
        error.to_string().contains("not a valid fixtures file"),
        "{error}"
    );
}

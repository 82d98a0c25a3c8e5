//! The offline judge's learned part: two logistic-regression classifiers over hashed
//! character n-grams and words, trained from the tuning part of the labelled set by
//! `judge-train` (`cargo run -p followup-judge --bin judge-train`) and checked in as
//! `shared/judge/model/offline-model.json`.
//!
//! - **stop**: the probability that the stop trigger is met. Features come from the
//!   customer's last turn (character 3- and 4-grams and words, accent-folded, so they hold
//!   across spellings, inflections and the eight languages), from the business's lines after
//!   it (a booking confirmation, a hand-over) and just before it (what the customer
//!   answered), and from the keyword rules of [`crate::offline`] (which category fired and
//!   whether the stop trigger enables it).
//! - **applies**: the probability that the description fits. Features: the keyword rule's
//!   answer, how much of the description's content the conversation shares (words and
//!   character trigrams), after-purchase and generic descriptions, and the words of both.
//!
//! Each example's features are binary and L2-normalised; training is deterministic
//! (AdaGrad over a fixed pseudo-random order, L2 penalty), so the same tuning file gives
//! the same weights. `judge-train` also picks the decision thresholds from 5-fold
//! out-of-fold probabilities on the tuning part only: the "unsure" threshold is the
//! highest at which at most [`MAX_STOP_MET_SENDS`] of the stop-met cases would be sent.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use followup_ports::{JudgeRequest, Speaker, TranscriptLine};
use serde::{Deserialize, Serialize};

use crate::language;
use crate::offline;

/// Hashed feature space.
pub const DIMS: u32 = 1 << 18;
/// The share of stop-met tuning cases (out of fold) the thresholds may still send.
pub const MAX_STOP_MET_SENDS: f64 = 0.02;
/// The model file, relative to the judge crate.
pub const MODEL_PATH: &str = "model/offline-model.json";

const EMBEDDED: &str = include_str!("../model/offline-model.json");

/// One example's features: (hashed index, value), sorted, unique.
pub type Features = Vec<(u32, f32)>;

/// A trained classifier: bias and sparse weights.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Logistic {
    pub bias: f32,
    /// (index, weight), sorted by index.
    pub weights: Vec<(u32, f32)>,
}

impl Logistic {
    /// The probability of the positive class.
    pub fn probability(&self, features: &Features) -> f64 {
        let mut z = f64::from(self.bias);
        for (index, value) in features {
            if let Ok(at) = self.weights.binary_search_by_key(index, |(i, _)| *i) {
                z += f64::from(self.weights[at].1) * f64::from(*value);
            }
        }
        1.0 / (1.0 + (-z).exp())
    }
}

/// The decision thresholds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Thresholds {
    /// At or above: the stop trigger is met.
    pub stop: f64,
    /// At or above (and below `stop`): unsure, hold the follow-up.
    pub unsure: f64,
    /// At or above: the description applies.
    pub applies: f64,
}

/// The whole model file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    pub version: u32,
    /// What it was trained on and how it scored out of fold, for people.
    pub trained_on: String,
    pub thresholds: Thresholds,
    pub stop: Logistic,
    pub applies: Logistic,
}

/// The checked-in model, parsed once.
pub fn embedded() -> Option<&'static Model> {
    static MODEL: OnceLock<Option<Model>> = OnceLock::new();
    MODEL
        .get_or_init(|| serde_json::from_str(EMBEDDED).ok())
        .as_ref()
}

// ---------------------------------------------------------------------------------------
// Features.

fn hash(prefix: &str, token: &str) -> u32 {
    // FNV-1a: stable across platforms and releases, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in prefix.bytes().chain([0xff]).chain(token.bytes()) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    u32::try_from(h % u64::from(DIMS)).unwrap_or(0)
}

struct Builder(BTreeMap<u32, f32>);

impl Builder {
    fn new() -> Self {
        Self(BTreeMap::new())
    }
    fn add(&mut self, prefix: &str, token: &str) {
        self.0.insert(hash(prefix, token), 1.0);
    }
    fn words(&mut self, prefix: &str, text: &str) {
        let words = language::words(&language::fold(text));
        for word in &words {
            self.add(prefix, word);
        }
        for pair in words.windows(2) {
            self.add(&format!("{prefix}2"), &format!("{} {}", pair[0], pair[1]));
        }
    }
    fn grams(&mut self, prefix: &str, text: &str, sizes: &[usize]) {
        let words = language::words(&language::fold(text));
        let padded: Vec<char> = format!(" {} ", words.join(" ")).chars().collect();
        for &n in sizes {
            for window in padded.windows(n) {
                let gram: String = window.iter().collect();
                self.add(&format!("{prefix}{n}"), &gram);
            }
        }
    }
    fn finish(self) -> Features {
        let norm = (self.0.len().max(1) as f32).sqrt();
        self.0.into_iter().map(|(i, v)| (i, v / norm)).collect()
    }
}

/// The customer's last turn (up to three consecutive customer lines ending at their last
/// message), the business line just before it, and the business lines after it.
fn parts(transcript: &[TranscriptLine]) -> (String, String, String) {
    let Some(last) = transcript
        .iter()
        .rposition(|l| l.speaker == Speaker::Customer)
    else {
        return (String::new(), String::new(), String::new());
    };
    let mut start = last;
    while start > 0 && last - start < 2 && transcript[start - 1].speaker == Speaker::Customer {
        start -= 1;
    }
    let join = |lines: &[TranscriptLine]| {
        lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let turn = join(&transcript[start..=last]);
    let before = transcript[..start]
        .iter()
        .rev()
        .find(|l| l.speaker == Speaker::Business)
        .map(|l| l.text.clone())
        .unwrap_or_default();
    let after = join(&transcript[last + 1..]);
    (turn, before, after)
}

fn length_bucket(words: usize) -> &'static str {
    match words {
        0 => "0",
        1 => "1",
        2 => "2",
        3..=5 => "3-5",
        6..=12 => "6-12",
        _ => "13+",
    }
}

/// The stop model's features for a request.
pub fn stop_features(request: &JudgeRequest) -> Features {
    let (turn, before, after) = parts(&request.transcript);
    let mut f = Builder::new();
    f.words("w", &turn);
    f.grams("c", &turn, &[3, 4]);
    let words = language::words(&turn).len();
    f.add("len", length_bucket(words));
    if turn.contains('?') {
        f.add("q", "");
    }
    if !turn.chars().any(char::is_alphabetic) {
        f.add("noletters", "");
    }
    if !after.is_empty() {
        f.add("after", "");
        f.words("a", &after);
        f.grams("ac", &after, &[4]);
    }
    f.words("b", &before);
    let rule = offline::stop_rule(request);
    match rule {
        Some(category) => {
            f.add("rule", "stop");
            f.add("rule", category);
        }
        None => f.add("rule", "none"),
    }
    for category in offline::enabled_categories(request) {
        f.add("enabled", category);
    }
    f.finish()
}

/// The applies model's features for a request.
pub fn applies_features(request: &JudgeRequest) -> Features {
    let description = request.follow_up.description.as_str();
    let conversation: String = request
        .transcript
        .iter()
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let mut f = Builder::new();
    let facts = offline::applies_facts(request);
    f.add("rule", if facts.applies { "applies" } else { "not" });
    if facts.generic {
        f.add("generic", "");
    }
    if facts.after_purchase {
        f.add(
            "after_purchase",
            if facts.purchase_shown {
                "shown"
            } else {
                "missing"
            },
        );
    }
    f.add("shared_units", length_bucket(facts.shared_units));
    let overlap = trigram_overlap(description, &conversation);
    let bucket = match overlap {
        x if x < 0.05 => "0",
        x if x < 0.10 => "1",
        x if x < 0.15 => "2",
        x if x < 0.25 => "3",
        _ => "4",
    };
    f.add("overlap", bucket);
    f.add("rule_overlap", &format!("{}-{bucket}", facts.applies));
    f.finish()
}

/// The share of the description's character trigrams that occur in the conversation.
fn trigram_overlap(description: &str, conversation: &str) -> f64 {
    let grams = |text: &str| -> std::collections::BTreeSet<String> {
        let words = language::words(&language::fold(text));
        let padded: Vec<char> = format!(" {} ", words.join(" ")).chars().collect();
        padded.windows(3).map(|w| w.iter().collect()).collect()
    };
    let d = grams(description);
    if d.is_empty() {
        return 0.0;
    }
    let c = grams(conversation);
    d.intersection(&c).count() as f64 / d.len() as f64
}

// ---------------------------------------------------------------------------------------
// Training (used by `judge-train`; deterministic).

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct Training {
    pub epochs: usize,
    pub learning_rate: f64,
    pub l2: f64,
    /// Weights smaller than this are dropped from the saved model.
    pub prune_below: f32,
}

impl Default for Training {
    fn default() -> Self {
        Self {
            epochs: 20,
            learning_rate: 0.5,
            l2: 1e-3,
            prune_below: 0.002,
        }
    }
}

/// Trains one classifier on (features, label) pairs.
pub fn train(examples: &[(Features, bool)], settings: Training) -> Logistic {
    let mut weights: BTreeMap<u32, (f64, f64)> = BTreeMap::new(); // (weight, squared grads)
    let mut bias = (0.0_f64, 0.0_f64);
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..settings.epochs {
        for i in (1..order.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let j = usize::try_from(seed % (i as u64 + 1)).unwrap_or(0);
            order.swap(i, j);
        }
        for &index in &order {
            let (features, label) = &examples[index];
            let mut z = bias.0;
            for (i, v) in features {
                z += weights.get(i).map_or(0.0, |w| w.0) * f64::from(*v);
            }
            let p = 1.0 / (1.0 + (-z).exp());
            let error = p - if *label { 1.0 } else { 0.0 };
            bias.1 += error * error;
            bias.0 -= settings.learning_rate * error / (bias.1.sqrt() + 1e-8);
            for (i, v) in features {
                let entry = weights.entry(*i).or_insert((0.0, 0.0));
                let gradient = error * f64::from(*v) + settings.l2 * entry.0;
                entry.1 += gradient * gradient;
                entry.0 -= settings.learning_rate * gradient / (entry.1.sqrt() + 1e-8);
            }
        }
    }
    Logistic {
        bias: bias.0 as f32,
        weights: weights
            .into_iter()
            .map(|(i, (w, _))| (i, w as f32))
            .filter(|(_, w)| w.abs() >= settings.prune_below)
            .map(|(i, w)| (i, (w * 10_000.0).round() / 10_000.0))
            .collect(),
    }
}

impl Logistic {
    /// How many weights are kept.
    pub fn size(&self) -> usize {
        self.weights.len()
    }
}

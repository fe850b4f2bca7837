//! Measures attribution on labelled data: per-category recall, false
//! attributions, and a threshold sweep so analysts can calibrate on their
//! own data.
//!
//! Truth is a CSV `id,category,truth_series,source` (devbench's format):
//! `id` is the frame's file name, an empty `truth_series` marks a frame
//! from a series that is not indexed (a distractor: the right answer is
//! `unknown`).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;

use crate::attribute::{self, Thresholds};
use crate::query::{FrameResult, Stage, Verdict};

/// The label of one frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truth {
    /// Leak category (exact, crop, sheet, ...).
    pub category: String,
    /// The series it came from, `None` for a distractor.
    pub series: Option<String>,
}

/// Reads a truth CSV, keyed by frame file name.
pub fn read_truth(path: &Path) -> Result<HashMap<String, Truth>, String> {
    let mut reader =
        csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = HashMap::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| format!("{}: line {}: {e}", path.display(), i + 2))?;
        let field = |k: usize| rec.get(k).unwrap_or("").trim().to_string();
        let series = Some(field(2)).filter(|s| !s.is_empty());
        out.insert(
            field(0),
            Truth {
                category: field(1),
                series,
            },
        );
    }
    Ok(out)
}

/// What evaluation keeps of a frame's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// File name of the frame.
    pub id: String,
    /// The verdict given.
    pub verdict: Verdict,
    /// The stage that decided a match.
    pub stage: Option<Stage>,
    /// Series of the best candidate, if any.
    pub best_series: Option<String>,
    /// Confidence of the best candidate as if it were a match (0 when
    /// there is none): the sweep moves the match threshold over it.
    pub best_confidence: f32,
}

impl Outcome {
    /// Keeps what evaluation needs of `r`, judged with thresholds `t`.
    /// For a frame left unknown, the more confident of the global and the
    /// local stage's best candidates is kept for the sweep.
    pub fn of(r: &FrameResult, t: &Thresholds) -> Outcome {
        let global = r.candidates.first().map(|c| {
            (
                attribute::confidence(c.candidate.score),
                c.record.meta.series.clone(),
            )
        });
        let local = r.local.as_ref().map(|l| {
            (
                attribute::local_confidence(l.evidence.score, t),
                l.record.meta.series.clone(),
            )
        });
        let (best_confidence, best_series) = match r.verdict {
            Verdict::Match => (r.confidence, global.map(|g| g.1)),
            Verdict::Unknown => match (global, local) {
                (Some(g), Some(l)) => Some(if l.0 > g.0 { l } else { g }),
                (g, l) => g.or(l),
            }
            .map_or((0.0, None), |(c, s)| (c, Some(s))),
            Verdict::LowQuality | Verdict::Error => (0.0, None),
        };
        Outcome {
            id: r
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            verdict: r.verdict,
            stage: r.stage,
            best_series,
            best_confidence,
        }
    }
}

/// Scores of one category.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CategoryScore {
    /// Category name.
    pub category: String,
    /// Frames from indexed series.
    pub positives: usize,
    /// Of those, attributed to the right series.
    pub correct: usize,
    /// Of the correct ones, how many the local stage attributed.
    pub correct_local: usize,
    /// Frames from series not indexed.
    pub distractors: usize,
    /// Wrong attributions: a distractor matched, or the wrong series.
    pub false_attributions: usize,
    /// Frames judged `low_quality`.
    pub low_quality: usize,
    /// Frames that failed.
    pub errors: usize,
    /// correct / positives.
    pub recall: f64,
}

/// One point of the threshold sweep.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepPoint {
    /// Minimum confidence for a match.
    pub min_confidence: f32,
    /// Recall over all positives.
    pub recall: f64,
    /// False attributions (count).
    pub false_attributions: usize,
    /// False attributions per distractor frame.
    pub false_rate: f64,
    /// Share of the frames matched at this threshold whose series is right.
    pub precision: f64,
}

/// The whole evaluation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    /// Per category, sorted by name.
    pub categories: Vec<CategoryScore>,
    /// All frames together.
    pub overall: CategoryScore,
    /// Frames with no truth row (ignored).
    pub unlabelled: usize,
    /// Recall and false attributions as the confidence threshold moves.
    pub sweep: Vec<SweepPoint>,
}

/// Scores `outcomes` against `truth`.
pub fn evaluate(outcomes: &[Outcome], truth: &HashMap<String, Truth>) -> Evaluation {
    let mut cats: BTreeMap<String, CategoryScore> = BTreeMap::new();
    let mut overall = CategoryScore {
        category: "overall".into(),
        ..Default::default()
    };
    let mut unlabelled = 0;
    let mut labelled = Vec::new();
    for o in outcomes {
        let Some(t) = truth.get(&o.id) else {
            unlabelled += 1;
            continue;
        };
        labelled.push((o, t));
        let c = cats
            .entry(t.category.clone())
            .or_insert_with(|| CategoryScore {
                category: t.category.clone(),
                ..Default::default()
            });
        for s in [&mut *c, &mut overall] {
            tally(s, o, t);
        }
    }
    let mut categories: Vec<CategoryScore> = cats.into_values().collect();
    for c in categories.iter_mut().chain(std::iter::once(&mut overall)) {
        c.recall = ratio(c.correct, c.positives);
    }
    let sweep = (0..=20)
        .map(|i| {
            let min_confidence = i as f32 * 0.05;
            let (mut correct, mut wrong, mut pos, mut neg) = (0, 0, 0, 0);
            for (o, t) in &labelled {
                let matched = o.best_confidence >= min_confidence
                    && o.best_confidence > 0.0
                    && o.verdict != Verdict::LowQuality
                    && o.verdict != Verdict::Error;
                match &t.series {
                    Some(s) => {
                        pos += 1;
                        if matched && o.best_series.as_ref() == Some(s) {
                            correct += 1;
                        } else if matched {
                            wrong += 1;
                        }
                    }
                    None => {
                        neg += 1;
                        wrong += usize::from(matched);
                    }
                }
            }
            SweepPoint {
                min_confidence,
                recall: ratio(correct, pos),
                false_attributions: wrong,
                false_rate: ratio(wrong, neg),
                precision: if correct + wrong == 0 {
                    1.0
                } else {
                    ratio(correct, correct + wrong)
                },
            }
        })
        .collect();
    Evaluation {
        categories,
        overall,
        unlabelled,
        sweep,
    }
}

fn tally(s: &mut CategoryScore, o: &Outcome, t: &Truth) {
    let matched = o.verdict == Verdict::Match;
    match &t.series {
        Some(series) => {
            s.positives += 1;
            if matched && o.best_series.as_ref() == Some(series) {
                s.correct += 1;
                s.correct_local += usize::from(o.stage == Some(Stage::Local));
            } else if matched {
                s.false_attributions += 1;
            }
        }
        None => {
            s.distractors += 1;
            s.false_attributions += usize::from(matched);
        }
    }
    s.low_quality += usize::from(o.verdict == Verdict::LowQuality);
    s.errors += usize::from(o.verdict == Verdict::Error);
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

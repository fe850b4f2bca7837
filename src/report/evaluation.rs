//! The table `frametrace eval` prints.

use std::io::{self, Write};

use crate::eval::{CategoryScore, Evaluation};

/// Writes per-category recall and false attributions, then the sweep.
pub fn write_evaluation(out: &mut dyn Write, e: &Evaluation, elapsed_s: f64) -> io::Result<()> {
    writeln!(
        out,
        "{:<12} {:>9} {:>8} {:>6} {:>7} {:>11} {:>6} {:>11}",
        "CATEGORY",
        "POSITIVES",
        "CORRECT",
        "LOCAL",
        "RECALL",
        "DISTRACTORS",
        "FALSE",
        "LOW_QUALITY"
    )?;
    for c in e.categories.iter().chain(std::iter::once(&e.overall)) {
        row(out, c)?;
    }
    let rate = if e.overall.distractors == 0 {
        0.0
    } else {
        100.0 * e.overall.false_attributions as f64 / e.overall.distractors as f64
    };
    writeln!(
        out,
        "\nfalse attributions: {} ({rate:.2}% of {} distractor frames); {} unlabelled; {:.1} s",
        e.overall.false_attributions, e.overall.distractors, e.unlabelled, elapsed_s
    )?;
    writeln!(out, "\nsweep (match when confidence >= threshold):")?;
    writeln!(
        out,
        "{:>10} {:>7} {:>6} {:>8} {:>10}",
        "CONFIDENCE", "RECALL", "FALSE", "FALSE%", "PRECISION"
    )?;
    for p in &e.sweep {
        writeln!(
            out,
            "{:>10.2} {:>6.1}% {:>6} {:>7.2}% {:>9.1}%",
            p.min_confidence,
            100.0 * p.recall,
            p.false_attributions,
            100.0 * p.false_rate,
            100.0 * p.precision
        )?;
    }
    Ok(())
}

fn row(out: &mut dyn Write, c: &CategoryScore) -> io::Result<()> {
    writeln!(
        out,
        "{:<12} {:>9} {:>8} {:>6} {:>6.1}% {:>11} {:>6} {:>11}",
        c.category,
        c.positives,
        c.correct,
        c.correct_local,
        100.0 * c.recall,
        c.distractors,
        c.false_attributions,
        c.low_quality
    )
}

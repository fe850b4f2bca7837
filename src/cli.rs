//! Command-line flags (clap derive). Only the binary sees these types: they
//! are turned into the library's plain options before any work starts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use frametrace::attribute::Thresholds;
use frametrace::fingerprint::Algorithms;
use frametrace::query::DEFAULT_LOCAL_CANDIDATES;
use frametrace::report::Format;

/// Link leaked animation frames to the productions they came from.
#[derive(Debug, Parser)]
#[command(name = "frametrace", version, about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print phash, dhash, ahash (imagehash format) and PDQ (ThreatExchange format) of images.
    Hash(HashArgs),
    /// Build or refresh the reference index from <root>/<series>/<episode>/<file> stills.
    Index(IndexArgs),
    /// Attribute each frame to a series, or say unknown / low_quality.
    Query(QueryArgs),
    /// Measure attribution on labelled frames: per-category recall, false attributions, sweep.
    Eval(EvalArgs),
}

/// Output format flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Aligned columns for people.
    Table,
    /// JSON Lines, one object per file, for machines.
    Json,
    /// CSV with a header row, for spreadsheets.
    Csv,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Csv => Format::Csv,
        }
    }
}

/// Hash algorithm flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AlgArg {
    /// imagehash phash (64 bits).
    Phash,
    /// imagehash dhash (64 bits).
    Dhash,
    /// imagehash average_hash (64 bits).
    Ahash,
    /// PDQ (256 bits) and its quality.
    Pdq,
}

/// `frametrace hash`.
#[derive(Debug, Args)]
pub struct HashArgs {
    /// Image files or folders (walked recursively, sorted).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Algorithms to compute (default: all). Repeat or separate with commas.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub alg: Vec<AlgArg>,
    /// Decode fully and ignore EXIF orientation, as imagehash and pdqhash do,
    /// for bit-identical hashes. The default decodes JPEG at reduced scale.
    #[arg(long)]
    pub exact: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,
}

impl HashArgs {
    /// The algorithms selected.
    pub fn algorithms(&self) -> Algorithms {
        if self.alg.is_empty() {
            return Algorithms::ALL;
        }
        let on = |a| self.alg.contains(&a);
        Algorithms {
            phash: on(AlgArg::Phash),
            dhash: on(AlgArg::Dhash),
            ahash: on(AlgArg::Ahash),
            pdq: on(AlgArg::Pdq),
        }
    }
}

/// `frametrace index`.
#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Reference roots laid out as <root>/<series>/<episode>/<file>.
    #[arg(required = true)]
    pub refs: Vec<PathBuf>,
    /// Index folder.
    #[arg(long, default_value = "index")]
    pub index: PathBuf,
    /// A manifest.csv (path,series,episode,timecode,...) overriding the layout;
    /// by default <root>/manifest.csv is used when present.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// Commit a checkpoint after this many changed stills.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
    pub checkpoint: u64,
}

/// Thresholds shared by `query` and `eval`.
#[derive(Debug, Args)]
pub struct ThresholdArgs {
    /// Largest phash distance (of 64) accepted as a match.
    #[arg(long, default_value_t = Thresholds::default().phash)]
    pub phash_threshold: u32,
    /// Largest PDQ distance (of 256) accepted as a match.
    #[arg(long, default_value_t = Thresholds::default().pdq)]
    pub pdq_threshold: u32,
    /// Frames with a PDQ quality below this are reported as low_quality.
    #[arg(long, default_value_t = Thresholds::default().min_quality)]
    pub min_quality: u8,
    /// Smallest local-stage score (log-odds) accepted as a match.
    #[arg(long, default_value_t = Thresholds::default().local_score, allow_negative_numbers = true)]
    pub local_score: f32,
    /// Reference stills verified by the local stage for a frame the global
    /// stage leaves unknown; 0 turns the local stage off.
    #[arg(long, default_value_t = DEFAULT_LOCAL_CANDIDATES)]
    pub local_candidates: usize,
    /// Local stage: also look each visual word up with up to N of its
    /// least reliable bits flipped (0-4; the README's "Word probes" has
    /// what 1-3 gain and cost).
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=4))]
    pub word_probes: u8,
}

impl ThresholdArgs {
    /// The thresholds as the library takes them.
    pub fn thresholds(&self) -> Thresholds {
        let d = Thresholds::default();
        Thresholds {
            phash: self.phash_threshold,
            pdq: self.pdq_threshold,
            min_quality: self.min_quality,
            list_phash: d.list_phash.max(self.phash_threshold),
            list_pdq: d.list_pdq.max(self.pdq_threshold),
            local_score: self.local_score,
        }
    }
}

/// `frametrace query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Frame files or folders (walked recursively, sorted).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Index folder.
    #[arg(long, default_value = "index")]
    pub index: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,
    /// Candidate stills listed per frame.
    #[arg(long, default_value_t = 3)]
    pub top: usize,
    #[command(flatten)]
    pub thresholds: ThresholdArgs,
}

/// `frametrace eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Reference roots to index (ignored with --index).
    #[arg(long, required_unless_present = "index")]
    pub refs: Vec<PathBuf>,
    /// Folder of labelled frames.
    #[arg(long)]
    pub queries: PathBuf,
    /// Truth CSV: id,category,truth_series,source (empty series = not indexed).
    #[arg(long)]
    pub truth: PathBuf,
    /// Use this existing index instead of building a temporary one.
    #[arg(long)]
    pub index: Option<PathBuf>,
    /// Output format (table or json).
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,
    /// Write per-frame results (JSON Lines) to this file as well.
    #[arg(long)]
    pub frames: Option<PathBuf>,
    #[command(flatten)]
    pub thresholds: ThresholdArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_app() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn alg_subset_parses_commas_and_repeats() {
        let cli =
            Cli::try_parse_from(["frametrace", "hash", "x.png", "--alg", "phash,pdq"]).unwrap();
        let Command::Hash(h) = cli.command else {
            panic!("not hash")
        };
        let a = h.algorithms();
        assert!(a.phash && a.pdq && !a.dhash && !a.ahash);
    }
}

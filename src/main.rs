//! The `frametrace` command line: parses flags, runs one subcommand of the
//! library, prints results on stdout and problems on stderr.
//!
//! Exit codes follow grep: 0 something matched (or the work succeeded),
//! 1 ran fine but nothing matched, 2 some input failed, 130 interrupted.

mod bar;
mod cli;

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;

use anyhow::{Context, Result};
use clap::Parser;
use rayon::prelude::*;

use frametrace::decode::{self, DecodeMode};
use frametrace::discover::{self, Problem};
use frametrace::eval::{self, Outcome};
use frametrace::fingerprint::Fingerprinter;
use frametrace::index::catalog::Catalog;
use frametrace::index::{self, RefreshOptions};
use frametrace::progress::{INTERRUPTED, interrupted};
use frametrace::query::{self, QueryOptions};
use frametrace::report::{self, Format, HashReport, HashRow, QueryReport};
use frametrace::source;

use crate::bar::Bar;
use crate::cli::{Cli, Command, EvalArgs, FormatArg, HashArgs, IndexArgs, QueryArgs};

const EXIT_MATCH: u8 = 0;
const EXIT_NO_MATCH: u8 = 1;
const EXIT_ERROR: u8 = 2;
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // First Ctrl-C: finish the current batch and stop cleanly (an index
    // keeps its completed checkpoints). Second: leave at once.
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
    });
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            let broken_pipe = err.chain().any(|e| {
                e.downcast_ref::<io::Error>()
                    .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("frametrace: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Hash(args) => hash(&args),
        Command::Index(args) => index(&args),
        Command::Query(args) => query(&args),
        Command::Eval(args) => evaluate(&args),
    }
}

fn report_problem(p: &Problem) {
    eprintln!("{}: {}", report::display_path(&p.path), p.message);
}

fn hash(args: &HashArgs) -> Result<u8> {
    let (files, problems) = discover::find_images(&args.paths);
    problems.iter().for_each(report_problem);
    let mut failed = !problems.is_empty();
    let algs = args.algorithms();
    let mode = if args.exact {
        DecodeMode::Exact
    } else {
        decode::HASH_DECODE
    };
    let stdout = io::stdout().lock();
    let columns = [algs.phash, algs.dhash, algs.ahash, algs.pdq];
    let mut out = HashReport::new(args.format.into(), BufWriter::new(stdout), columns);
    for batch in files.chunks(64) {
        if interrupted() {
            return Ok(EXIT_INTERRUPTED);
        }
        let rows: Vec<HashRow> = batch
            .par_iter()
            .map_init(Fingerprinter::new, |fp, path| {
                match source::load(path, mode) {
                    Ok(l) => {
                        let d = &l.decoded;
                        let fingerprint = fp.fingerprint_reduced(&d.image, d.width, d.height, algs);
                        HashRow::ok(path, &fingerprint)
                    }
                    Err(e) => HashRow::failed(path, e.to_string()),
                }
            })
            .collect();
        for row in &rows {
            if let Some(e) = &row.error {
                eprintln!("{}: {e}", report::display_path(Path::new(&row.path)));
                failed = true;
                if args.format == FormatArg::Table {
                    continue;
                }
            }
            out.row(row)?;
        }
    }
    out.finish()?;
    Ok(if failed { EXIT_ERROR } else { EXIT_MATCH })
}

fn index(args: &IndexArgs) -> Result<u8> {
    let mut opts = RefreshOptions::new(args.index.clone(), args.refs.clone());
    opts.manifest = args.manifest.clone();
    opts.checkpoint_docs = args.checkpoint as usize;
    let bar = Bar::for_stderr();
    let stats = index::refresh(&opts, &bar, &mut report_problem)?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{} added, {} updated, {} removed, {} unchanged, {} failed ({} commits) in {}",
        stats.added,
        stats.updated,
        stats.removed,
        stats.unchanged,
        stats.failed,
        stats.commits,
        args.index.display()
    )?;
    if stats.interrupted {
        eprintln!("frametrace: interrupted; the index holds the last checkpoint, re-run to finish");
        return Ok(EXIT_INTERRUPTED);
    }
    Ok(if stats.failed > 0 {
        EXIT_ERROR
    } else {
        EXIT_MATCH
    })
}

fn query(args: &QueryArgs) -> Result<u8> {
    let catalog = Catalog::open(&args.index)?;
    let (files, problems) = discover::find_images(&args.paths);
    problems.iter().for_each(report_problem);
    let opts = QueryOptions {
        thresholds: args.thresholds.thresholds(),
        top: args.top,
        local_candidates: args.thresholds.local_candidates,
        word_probes: args.thresholds.word_probes.into(),
    };
    let mut out = QueryReport::new(args.format.into(), BufWriter::new(io::stdout().lock()));
    let bar = Bar::for_stderr();
    let summary = query::run(&catalog, &files, &opts, &bar, &mut |r| {
        if let Some(e) = &r.error {
            eprintln!("{}: {e}", report::display_path(&r.path));
        }
        out.frame(r)
    })?;
    out.summary(&summary)?;
    Ok(if summary.interrupted {
        EXIT_INTERRUPTED
    } else if summary.errors > 0 || !problems.is_empty() {
        EXIT_ERROR
    } else if summary.matched > 0 {
        EXIT_MATCH
    } else {
        EXIT_NO_MATCH
    })
}

fn evaluate(args: &EvalArgs) -> Result<u8> {
    let truth = eval::read_truth(&args.truth).map_err(anyhow::Error::msg)?;
    let temp;
    let index_dir: PathBuf = match &args.index {
        Some(dir) => dir.clone(),
        None => {
            temp = tempfile::tempdir().context("creating a temporary index folder")?;
            let opts = RefreshOptions::new(temp.path().to_path_buf(), args.refs.clone());
            let stats = index::refresh(&opts, &Bar::for_stderr(), &mut report_problem)?;
            eprintln!("indexed {} stills ({} failed)", stats.added, stats.failed);
            temp.path().to_path_buf()
        }
    };
    let catalog = Catalog::open(&index_dir)?;
    let (files, problems) = discover::find_images(std::slice::from_ref(&args.queries));
    problems.iter().for_each(report_problem);
    let opts = QueryOptions {
        thresholds: args.thresholds.thresholds(),
        top: 3,
        local_candidates: args.thresholds.local_candidates,
        word_probes: args.thresholds.word_probes.into(),
    };
    let mut frames_out = match &args.frames {
        Some(p) => Some(QueryReport::new(
            Format::Json,
            BufWriter::new(std::fs::File::create(p).with_context(|| p.display().to_string())?),
        )),
        None => None,
    };
    let mut outcomes = Vec::with_capacity(files.len());
    let summary = query::run(&catalog, &files, &opts, &Bar::for_stderr(), &mut |r| {
        outcomes.push(Outcome::of(r, &opts.thresholds));
        frames_out.as_mut().map_or(Ok(()), |o| o.frame(r))
    })?;
    if let Some(o) = frames_out.as_mut() {
        o.summary(&summary)?;
    }
    let evaluation = eval::evaluate(&outcomes, &truth);
    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        FormatArg::Json => writeln!(out, "{}", serde_json::to_string(&evaluation)?)?,
        _ => report::write_evaluation(&mut out, &evaluation, summary.elapsed_s)?,
    }
    out.flush()?;
    Ok(if summary.interrupted {
        EXIT_INTERRUPTED
    } else {
        EXIT_MATCH
    })
}

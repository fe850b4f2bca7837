//! Cost of the local stage, one core, side by side with the global stage.
//!
//! Builds an index of reference stills (with local features) on one
//! thread, timing it (process CPU time), then attributes every query frame
//! on this thread, timed per frame by the wall clock (the kernel's
//! per-thread CPU clock here ticks in 4 ms steps): global stage only
//! (`local_candidates = 0`) and with the default local stage, alternately,
//! three times (`$FRAMETRACE_BENCH_REPS`), keeping each frame's fastest run
//! of each: other load only ever adds time. Each frame's cost includes decoding and hashing. Prints the
//! median and 90th percentile per frame of the global-only cost and of the
//! extra cost of the local stage over the frames that reach it (those the
//! global stage leaves unknown), and indexing throughput.
//!
//! Reads `../shared/devbench` (or `$FRAMETRACE_DEVBENCH`) when present, as
//! the issue asks (devbench frame sizes); otherwise generates 20 series of
//! 640x360 stills and 260 leaked frames with `frametrace::synth`.
//! `$FRAMETRACE_BENCH_PROBES` sets [`QueryOptions::word_probes`] (default
//! 0, as `frametrace query`).
//! `$FRAMETRACE_BENCH_INDEX` names a prebuilt index to query instead (the
//! README's catalogue-scale row: devbench's stills plus
//! `examples/synthetic_refs.rs`).
//!
//! `cargo bench --bench local`

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use frametrace::discover;
use frametrace::fingerprint::Fingerprinter;
use frametrace::index::catalog::Catalog;
use frametrace::index::{self, RefreshOptions};
use frametrace::local::{FeatureExtractor, reference};
use frametrace::progress::Silent;
use frametrace::query::{self, DEFAULT_LOCAL_CANDIDATES, QueryOptions, Verdict};
use frametrace::synth::{Category, Series, apply, jpeg_bytes, random_leak};

/// CPU time of the whole process, in clock ticks of 10 ms.
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |r| r.1);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// Writes a synthetic reference set and query folder under `dir`.
fn generate(dir: &Path) -> (PathBuf, PathBuf) {
    let (refs, queries) = (dir.join("refs"), dir.join("queries"));
    std::fs::create_dir_all(&queries).expect("queries folder");
    for s in 0..20u64 {
        let series = Series::new(5000 + s);
        let ep = refs.join(format!("series{s:02}")).join("ep01");
        std::fs::create_dir_all(&ep).expect("refs folder");
        for k in 0..10 {
            let img = series.frame(k as f32 * 4.0, 640, 360);
            img.save(ep.join(format!("{k:03}.png")))
                .expect("write still");
        }
    }
    for (i, category) in Category::ALL.iter().enumerate() {
        for j in 0..20u64 {
            // Half from indexed series between two stills, half not indexed.
            let seed = if j % 2 == 0 { 5000 + j % 20 } else { 9000 + j };
            let frame = Series::new(seed).frame(6.0 + j as f32, 640, 360);
            let leak = random_leak(*category, j * 131 + i as u64);
            let img = apply(&frame, &leak, j);
            let name = format!("{}_{j:02}.jpg", category.name());
            std::fs::write(queries.join(name), jpeg_bytes(&img, 85)).expect("write frame");
        }
    }
    (refs, queries)
}

/// Runs of each frame and stage; a frame's cost is its fastest run, which
/// other load on a shared machine can only lengthen.
const REPS: usize = 3;

fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(((v.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

fn main() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let devbench = std::env::var_os("FRAMETRACE_DEVBENCH")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/devbench"));
    let (refs, queries, source) = if devbench.join("refs").is_dir() {
        (devbench.join("refs"), devbench.join("queries"), "devbench")
    } else {
        let (r, q) = generate(tmp.path());
        (r, q, "generated (no devbench)")
    };
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("thread pool");

    // A prebuilt index (say, devbench's stills plus a larger synthetic
    // catalogue) replaces the one built here; indexing is then not timed.
    let given = std::env::var_os("FRAMETRACE_BENCH_INDEX").map(PathBuf::from);
    let idx = given.clone().unwrap_or_else(|| tmp.path().join("index"));
    let started = process_cpu();
    let added = match given {
        Some(_) => 0,
        None => {
            one.install(|| {
                index::refresh(
                    &RefreshOptions::new(idx.clone(), vec![refs]),
                    &Silent,
                    &mut |_| {},
                )
            })
            .expect("index")
            .added
        }
    };
    let index_s = (process_cpu() - started).as_secs_f64();
    let catalog = Catalog::open(&idx).expect("open index");
    let (files, _) = discover::find_images(&[queries]);

    let mut fp = Fingerprinter::new();
    let mut fx = FeatureExtractor::new(reference::query_params());
    let probes: usize = std::env::var("FRAMETRACE_BENCH_PROBES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let run = |fp: &mut Fingerprinter, fx: &mut FeatureExtractor, path: &PathBuf, k: usize| {
        let opts = QueryOptions {
            thresholds: Default::default(),
            top: 3,
            local_candidates: k,
            word_probes: probes,
        };
        let t = Instant::now();
        let hashed = query::hash_frame(fp, path);
        let r = query::attribute_frame(&catalog, path.clone(), hashed, &opts, fx);
        (t.elapsed().as_secs_f64() * 1e3, r.verdict)
    };
    let reps: usize = std::env::var("FRAMETRACE_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(REPS)
        .max(1);
    let (mut global, mut extra) = (Vec::new(), Vec::new());
    for path in &files {
        let (mut g, mut l) = (f64::INFINITY, f64::INFINITY);
        let mut verdict = Verdict::Unknown;
        for _ in 0..reps {
            let (t, v) = run(&mut fp, &mut fx, path, 0);
            g = g.min(t);
            verdict = v;
            l = l.min(run(&mut fp, &mut fx, path, DEFAULT_LOCAL_CANDIDATES).0);
        }
        global.push(g);
        if verdict == Verdict::Unknown {
            extra.push(l - g);
        }
    }
    println!(
        "\nlocal stage cost, one core, {source}: {} stills indexed, {} frames, {} reach the local stage, fastest of {reps} runs each, {probes} word probes",
        catalog.len(),
        files.len(),
        extra.len()
    );
    println!("| what | median | p90 |");
    println!("|---|---|---|");
    println!(
        "| global stage per frame (decode + hash + search) | {:.2} ms | {:.2} ms |",
        quantile(&mut global, 0.5),
        quantile(&mut global, 0.9)
    );
    println!(
        "| extra cost of the local stage per frame that reaches it | {:.2} ms | {:.2} ms |",
        quantile(&mut extra, 0.5),
        quantile(&mut extra, 0.9)
    );
    if added > 0 && index_s > 0.0 {
        println!(
            "indexing with local features: {:.0} stills per CPU second on one thread",
            added as f64 / index_s
        );
    }
}

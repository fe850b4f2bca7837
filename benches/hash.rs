//! Hashing throughput on 1920x1080 JPEG stills, one core, side by side:
//! the bare reduced-scale JPEG decode (the floor no JPEG hasher can beat),
//! `hash` in the default fast mode and in `--exact` mode, and, when
//! `FRAMETRACE_ORACLE_PYTHON` names a Python with imagehash and pdqhash,
//! Python imagehash.phash and pdqhash on the same files
//! (`benches/oracle_speed.py`).
//!
//! `cargo bench --bench hash` (set `FRAMETRACE_BENCH_STILLS` to change the
//! number of stills, 200 by default). Prints a table at the end, in images
//! per wall second and per CPU second of the measuring thread.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use frametrace::decode::{self, DecodeMode, HASH_DECODE};
use frametrace::fingerprint::{Algorithms, Fingerprinter};
use frametrace::synth::{Series, jpeg_bytes};

fn stills_dir(n: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/bench-stills-1080p-{n}"));
    if !dir.join(format!("{:04}.jpg", n - 1)).is_file() {
        std::fs::create_dir_all(&dir).expect("create bench folder");
        for i in 0..n {
            let series = Series::new(1000 + (i % 10) as u64);
            let frame = series.frame((i / 10) as f32 * 7.0, 1920, 1080);
            std::fs::write(dir.join(format!("{i:04}.jpg")), jpeg_bytes(&frame, 90))
                .expect("write still");
        }
    }
    dir
}

fn bare_decode(bytes: &[u8]) -> usize {
    // The same IDCT scale fast mode picks, RGB out, nothing else.
    let min_side = match HASH_DECODE {
        DecodeMode::Fast { min_side } => min_side,
        DecodeMode::Exact => u32::MAX,
    };
    decode::decode_scaled_rgb(bytes, min_side)
        .expect("decode")
        .len()
}

/// What `frametrace hash` does per file (in `--exact` mode the image is
/// full size, so `fingerprint_reduced` is the plain pipeline).
fn hash(fp: &mut Fingerprinter, bytes: &[u8], mode: DecodeMode) -> u64 {
    let d = decode::decode_bytes(bytes, mode).expect("decode");
    fp.fingerprint_reduced(&d.image, d.width, d.height, Algorithms::ALL)
        .phash
        .unwrap_or(0)
}

/// CPU time of the calling thread (Linux): the machine may be shared, and
/// per-core throughput is images per CPU-second.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Images per wall-second and per CPU-second (0 when unknown).
fn per_second(files: &[Vec<u8>], mut f: impl FnMut(&[u8])) -> [f64; 2] {
    let (start, cpu_start) = (Instant::now(), thread_cpu());
    for b in files {
        f(b);
    }
    let n = files.len() as f64;
    let cpu = cpu_start
        .zip(thread_cpu())
        .map(|(a, b)| n / (b - a).as_secs_f64());
    [n / start.elapsed().as_secs_f64(), cpu.unwrap_or(0.0)]
}

fn main() {
    let n: usize = std::env::var("FRAMETRACE_BENCH_STILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let dir = stills_dir(n);
    let files: Vec<Vec<u8>> = (0..n)
        .map(|i| std::fs::read(dir.join(format!("{i:04}.jpg"))).expect("read still"))
        .collect();
    let mut fp = Fingerprinter::new();

    let mut c = Criterion::default().sample_size(10).configure_from_args();
    let mut g = c.benchmark_group("hash_1080p_jpeg");
    g.throughput(Throughput::Elements(files.len() as u64));
    g.bench_function("bare_reduced_decode", |b| {
        b.iter(|| files.iter().map(|f| bare_decode(f)).sum::<usize>())
    });
    g.bench_function("hash_fast", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|f| hash(&mut fp, f, HASH_DECODE))
                .sum::<u64>()
        })
    });
    g.bench_function("hash_exact", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|f| hash(&mut fp, f, DecodeMode::Exact))
                .sum::<u64>()
        })
    });
    g.finish();

    // The summary table: the three measured back to back, twice, best kept
    // (wall and CPU separately).
    let mut best = [[0f64; 2]; 3];
    let keep = |b: &mut [f64; 2], r: [f64; 2]| *b = [b[0].max(r[0]), b[1].max(r[1])];
    for _ in 0..2 {
        keep(
            &mut best[0],
            per_second(&files, |f| {
                bare_decode(f);
            }),
        );
        keep(
            &mut best[1],
            per_second(&files, |f| {
                hash(&mut fp, f, HASH_DECODE);
            }),
        );
        keep(
            &mut best[2],
            per_second(&files, |f| {
                hash(&mut fp, f, DecodeMode::Exact);
            }),
        );
    }
    println!(
        "\n{n} stills 1920x1080 JPEG q90, one core, images/s (per wall second, per CPU second):"
    );
    println!(
        "{:<38} {:>9} {:>9} {:>10} {:>10}",
        "what", "wall/s", "cpu/s", "fast wall", "fast cpu"
    );
    let fast = best[1];
    let row = |name: &str, v: [f64; 2]| {
        println!(
            "{name:<38} {:>9.1} {:>9.1} {:>9.2}x {:>9.2}x",
            v[0],
            v[1],
            fast[0] / v[0],
            fast[1] / v[1]
        );
    };
    row("bare reduced-scale decode (floor)", best[0]);
    row("frametrace hash (fast, 4 hashes)", best[1]);
    row("frametrace hash --exact (4 hashes)", best[2]);
    println!(
        "fast mode costs {:.2}x (wall) / {:.2}x (cpu) the bare reduced-scale decode",
        best[0][0] / best[1][0],
        best[0][1] / best[1][1]
    );
    if let Ok(python) = std::env::var("FRAMETRACE_ORACLE_PYTHON") {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/oracle_speed.py");
        match std::process::Command::new(python)
            .arg(script)
            .arg(&dir)
            .output()
        {
            Ok(out) if out.status.success() => {
                for line in String::from_utf8_lossy(&out.stdout).lines() {
                    let mut parts = line.split_whitespace();
                    let name = parts.next().unwrap_or_default();
                    let rates: Vec<f64> = parts.filter_map(|v| v.parse().ok()).collect();
                    if let [wall, cpu] = rates[..] {
                        row(&format!("python {name}"), [wall, cpu]);
                    }
                }
            }
            Ok(out) => eprintln!(
                "oracle script failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => eprintln!("cannot run the oracle python: {e}"),
        }
    } else {
        println!(
            "(set FRAMETRACE_ORACLE_PYTHON to a python with imagehash and pdqhash for their rows)"
        );
    }
}

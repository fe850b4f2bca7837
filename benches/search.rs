//! Hamming search throughput on synthetic references: multi-index hashing
//! against the linear scan it replaces, for phash (64-bit, radius 8) and PDQ
//! (256-bit, radius 31), plus the index build time.
//!
//! References are uniformly random (seeded) with ~1% planted near-duplicates;
//! half the queries are references with a few bits flipped, so hits exist.
//! `FRAMETRACE_BENCH_REFS` shrinks the reference count (default 1,000,000).
//! Criterion reports throughput per group; a summary table of queries per
//! second (single thread) is printed at the end.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use frametrace::search::{HammingIndex, Hit, Method};

const QUERIES: usize = 1024;
/// The scan is ~100x slower: fewer queries keep its samples short.
const SCAN_QUERIES: usize = 16;

/// splitmix64: a seeded generator, so every run sees the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn hash<const W: usize>(&mut self) -> [u64; W] {
        std::array::from_fn(|_| self.next())
    }

    /// `h` with up to `max_flips` random bits flipped.
    fn near<const W: usize>(&mut self, h: &[u64; W], max_flips: u32) -> [u64; W] {
        let mut out = *h;
        for _ in 0..self.below(max_flips as usize + 1) {
            let bit = self.below(W * 64);
            out[bit / 64] ^= 1 << (bit % 64);
        }
        out
    }
}

/// References (1% near-duplicates of others) and queries (half near a reference).
fn dataset<const W: usize>(n: usize, radius: u32, seed: u64) -> (Vec<[u64; W]>, Vec<[u64; W]>) {
    let mut rng = Rng(seed);
    let mut refs: Vec<[u64; W]> = (0..n).map(|_| rng.hash()).collect();
    for _ in 0..n / 100 {
        let (from, to) = (rng.below(n), rng.below(n));
        refs[to] = rng.near(&refs[from], radius);
    }
    let queries = (0..QUERIES)
        .map(|i| match i % 2 {
            0 => {
                let from = refs[rng.below(n)];
                rng.near(&from, radius)
            }
            _ => rng.hash(),
        })
        .collect();
    (refs, queries)
}

/// One measured configuration, for the summary table.
struct Row {
    name: String,
    mih_qps: (f64, Option<f64>),
    scan_qps: (f64, Option<f64>),
    hits_per_query: f64,
    build: Duration,
    bytes_per_ref: f64,
}

/// CPU time of the calling thread (Linux), to report queries per CPU-second
/// next to wall-clock figures on a shared machine.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Queries per wall-second and per CPU-second (when known), and mean hits per
/// query, of `method` over `queries`, repeated for at least `min`.
fn qps<const W: usize>(
    index: &HammingIndex<W>,
    queries: &[[u64; W]],
    radius: u32,
    method: Method,
    min: Duration,
) -> (f64, Option<f64>, f64) {
    let mut out: Vec<Hit> = Vec::new();
    let (mut done, mut hits) = (0usize, 0usize);
    let (start, cpu_start) = (Instant::now(), thread_cpu());
    while start.elapsed() < min {
        for q in queries {
            index.search_with(q, radius, method, &mut out);
            hits += out.len();
        }
        done += queries.len();
    }
    let wall = done as f64 / start.elapsed().as_secs_f64();
    let cpu = (cpu_start.zip(thread_cpu())).map(|(a, b)| done as f64 / (b - a).as_secs_f64());
    (wall, cpu, hits as f64 / done.max(1) as f64)
}

fn bench_one<const W: usize>(c: &mut Criterion, name: &str, n: usize, radius: u32) -> Row {
    let (refs, queries) = dataset::<W>(n, radius, 0x5EED + W as u64);
    let start = Instant::now();
    let index = HammingIndex::build(refs.clone());
    let build = start.elapsed();

    let mut group = c.benchmark_group(format!("{name}_r{radius}_n{n}"));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("build", n), |b| {
        b.iter(|| HammingIndex::build(black_box(refs.clone())))
    });
    for (label, method, count) in [
        ("mih", Method::Mih, QUERIES),
        ("scan", Method::Scan, SCAN_QUERIES),
    ] {
        group.throughput(Throughput::Elements(count as u64));
        let mut out = Vec::new();
        group.bench_function(label, |b| {
            b.iter(|| {
                for q in &queries[..count] {
                    index.search_with(black_box(q), radius, method, &mut out);
                }
            })
        });
    }
    group.finish();

    let second = Duration::from_secs(1);
    let (mih_wall, mih_cpu, hits) = qps(&index, &queries, radius, Method::Mih, second);
    let scan = &queries[..SCAN_QUERIES];
    let (scan_wall, scan_cpu, _) = qps(&index, scan, radius, Method::Scan, second);
    Row {
        name: format!("{name} r={radius}"),
        mih_qps: (mih_wall, mih_cpu),
        scan_qps: (scan_wall, scan_cpu),
        hits_per_query: hits,
        build,
        bytes_per_ref: index.memory_bytes() as f64 / n.max(1) as f64,
    }
}

fn main() {
    let n = std::env::var("FRAMETRACE_BENCH_REFS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let mut c = Criterion::default().configure_from_args();
    let rows = [
        bench_one::<1>(&mut c, "phash", n, 8),
        bench_one::<4>(&mut c, "pdq", n, 31),
    ];
    c.final_summary();

    println!("\nHamming search, {n} references, one thread (build: rayon)");
    println!("q/s per wall-second, then per CPU-second of the searching thread (Linux)");
    println!(
        "{:<10} {:>9} {:>9} {:>9} {:>9} {:>8} {:>7} {:>9} {:>9}",
        "config",
        "mih",
        "mih cpu",
        "scan",
        "scan cpu",
        "speedup",
        "hits/q",
        "build ms",
        "bytes/ref"
    );
    let cpu = |q: Option<f64>| q.map_or("-".to_string(), |q| format!("{q:.0}"));
    for r in &rows {
        println!(
            "{:<10} {:>9.0} {:>9} {:>9.0} {:>9} {:>7.1}x {:>7.2} {:>9.1} {:>9.1}",
            r.name,
            r.mih_qps.0,
            cpu(r.mih_qps.1),
            r.scan_qps.0,
            cpu(r.scan_qps.1),
            r.mih_qps.0 / r.scan_qps.0,
            r.hits_per_query,
            r.build.as_secs_f64() * 1e3,
            r.bytes_per_ref
        );
    }
}

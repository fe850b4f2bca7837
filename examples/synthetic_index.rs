//! Builds an index of N synthetic reference stills (random hashes, no
//! images) to measure opening and search at catalogue scale:
//!
//! ```sh
//! cargo run --release --example synthetic_index -- target/index-1m 1000000
//! /usr/bin/time -v target/release/frametrace query data/frames --index target/index-1m
//! ```

use std::path::PathBuf;

use frametrace::discover::RefMeta;
use frametrace::fingerprint::Fingerprint;
use frametrace::fingerprint::pdq::PdqHash;
use frametrace::index::bulk;
use frametrace::index::schema::RefRecord;
use frametrace::synth::Rng;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "target/index-1m".into()));
    let n: usize = args.next().map_or(Ok(1_000_000), |s| s.parse())?;
    let mut rng = Rng::new(2024);
    let records = (0..n).map(move |i| {
        let mut r = || rng.next_u64();
        RefRecord {
            path: format!("/catalogue/series{:03}/ep{:02}/{i:07}.png", i % 500, i % 40),
            sha256: format!("{:016x}{:016x}{:016x}{:016x}", r(), r(), r(), r()),
            size: 100_000,
            mtime_ns: 0,
            meta: RefMeta {
                series: format!("series{:03}", i % 500),
                episode: format!("ep{:02}", i % 40),
                timecode: format!("{i}"),
                extra: Default::default(),
            },
            fingerprint: Fingerprint {
                phash: Some(r()),
                dhash: Some(r()),
                ahash: Some(r()),
                pdq: Some(PdqHash([r(), r(), r(), r()])),
                pdq_quality: Some(100),
                width: 1920,
                height: 1080,
            },
            local: None,
        }
    });
    let started = std::time::Instant::now();
    let added = bulk::import(&dir, records, 200_000)?;
    println!(
        "{added} records in {} ({:.1} s)",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

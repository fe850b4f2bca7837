//! Where the local stage loses a frame: for frames of a truth CSV, the
//! retrieval rank of the first still of the right series, the stills of
//! that series on the default shortlist, and the best score any still of
//! the series reaches when verified directly (as it is and mirrored).
//! A frame with a good best score but a poor rank is a retrieval miss; a
//! frame whose best score is under the threshold is a verification or
//! scoring miss.
//!
//! ```text
//! cargo run --release --example local_diag -- INDEX QUERIES TRUTH.csv [ID_PREFIX...]
//! ```

use std::path::PathBuf;

use frametrace::attribute::LocalEvidence;
use frametrace::fingerprint::Fingerprinter;
use frametrace::index::catalog::Catalog;
use frametrace::local::{FeatureExtractor, LocalFeatures, QueryFeatures, agreement, reference};
use frametrace::query::{DEFAULT_LOCAL_CANDIDATES, hash_frame};

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: local_diag INDEX QUERIES TRUTH.csv [ID_PREFIX...]";
    let index = PathBuf::from(args.next().expect(usage));
    let queries = PathBuf::from(args.next().expect(usage));
    let truth = std::fs::read_to_string(args.next().expect(usage)).expect("read truth");
    let wanted: Vec<String> = args.collect();
    let catalog = Catalog::open(&index).expect("open index");
    let records: Vec<_> = (0..catalog.len() as u32)
        .map(|id| catalog.record(id).expect("record"))
        .collect();
    let mut fp = Fingerprinter::new();
    let mut fx = FeatureExtractor::new(reference::query_params());
    for line in truth.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (id, category, series) = (f[0], f[1], f[2]);
        if series.is_empty() || !(wanted.is_empty() || wanted.iter().any(|w| id.starts_with(w))) {
            continue;
        }
        let Ok(hashed) = hash_frame(&mut fp, &queries.join(id)) else {
            println!("{id} {category}: unreadable");
            continue;
        };
        let views = std::iter::once(&hashed.view).chain(hashed.insets.iter().map(|(_, v)| v));
        for (v, view) in views.enumerate() {
            let q = QueryFeatures::of_query(&mut fx, &view.grey);
            let ranked = catalog
                .similar([&q.words, &q.mirrored_words], 256)
                .expect("retrieve");
            let name = |id: u32| records[id as usize].path.rsplit('/').next().unwrap_or("");
            let of_series = |id: u32| records[id as usize].meta.series == series;
            let rank = ranked.iter().position(|s| of_series(s.id));
            let listed: Vec<String> = ranked
                .iter()
                .take(DEFAULT_LOCAL_CANDIDATES)
                .enumerate()
                .filter(|(_, s)| of_series(s.id))
                .map(|(i, s)| format!("{i}:{}", name(s.id)))
                .collect();
            let mut best: Option<(f32, String)> = None;
            for (rid, r) in records
                .iter()
                .enumerate()
                .filter(|(_, r)| r.meta.series == series)
            {
                let Some(lf) = r
                    .local
                    .as_deref()
                    .and_then(|b| LocalFeatures::from_bytes(b).ok())
                else {
                    continue;
                };
                for mirrored in [false, true] {
                    let Some(ver) = q.verify(&lf, mirrored) else {
                        continue;
                    };
                    let e = LocalEvidence::new(
                        &ver,
                        &agreement(&q.working, &lf.thumb, lf.size, &ver),
                        lf.size,
                    );
                    if best.as_ref().is_none_or(|b| e.score > b.0) {
                        let still = name(rid as u32);
                        let at = ranked.iter().position(|s| s.id == rid as u32);
                        let text = format!(
                            "{still} (rank {at:?}) score {:.2} inliers {} edge_recall {:.2} photometric {:.2}",
                            e.score, e.inliers, e.edge_recall, e.photometric
                        );
                        best = Some((e.score, text));
                    }
                }
            }
            println!(
                "{id} {category} view {v}: first {series} still at rank {rank:?}, on the shortlist {listed:?}, best {}",
                best.map_or("none verifies".to_string(), |b| b.1)
            );
        }
    }
}

//! Measures the local-feature stage on ../shared/devbench: per-category
//! recall, false matches on distractors and timings, for a sweep of inlier
//! thresholds. Candidates come from visual-word overlap (top K, as tantivy
//! will give) or, with `LOCAL_BRUTE=1`, from every reference.
//!
//! `cargo run --release --example local_probe [-- DEVBENCH_DIR]`

use frametrace::local::{self, ExtractorParams, FeatureExtractor, Keypoint};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn env(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU seconds used by this thread (tick-sampled, so average over many calls);
/// the machine is shared, so wall time would overstate our cost.
fn cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map(|r| r.1).unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    f.get(11)
        .zip(f.get(12))
        .map(|(u, s)| (u + s) / 100.0)
        .unwrap_or(0.0)
}

fn grey(path: &Path) -> image::GrayImage {
    image::open(path)
        .map(|i| i.to_luma8())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct Still {
    series: String,
    size: (u32, u32),
    kps: Vec<Keypoint>,
    thumb: image::GrayImage,
}

fn main() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    let bench = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| shared.join("devbench"));
    let oriented = env("LOCAL_ORIENTED", 1.0) != 0.0;
    let ref_params = ExtractorParams {
        max_keypoints: env("LOCAL_REF_KP", 600.0) as usize,
        oriented,
        ..Default::default()
    };
    let query_params = ExtractorParams {
        max_keypoints: env("LOCAL_QUERY_KP", 1000.0) as usize,
        levels: 8,
        oriented,
        ..Default::default()
    };
    let (qlong, qup) = (
        env("LOCAL_QUERY_LONG", local::QUERY_LONG_SIDE as f64) as u32,
        env("LOCAL_QUERY_UP", 3.0) as f32,
    );
    let top_k = env("LOCAL_TOPK", 20.0) as usize;
    let brute = env("LOCAL_BRUTE", 0.0) != 0.0;

    let mut ref_paths: Vec<PathBuf> = std::fs::read_dir(bench.join("refs"))
        .expect("refs/")
        .flatten()
        .flat_map(|s| {
            std::fs::read_dir(s.path().join("ep01"))
                .into_iter()
                .flatten()
                .flatten()
                .map(|f| f.path())
        })
        .collect();
    ref_paths.sort();
    let t = Instant::now();
    let stills: Vec<(Still, f64, f64)> = ref_paths
        .par_iter()
        .map_init(
            || FeatureExtractor::new(ref_params.clone()),
            |fx, p| {
                let t0 = cpu();
                let g = local::working_image(&grey(p), local::REF_LONG_SIDE, 1.0);
                let t1 = cpu();
                let kps = fx.extract(&g);
                let series = p
                    .parent()
                    .and_then(|e| e.parent())
                    .and_then(|s| s.file_name())
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (
                    Still {
                        series,
                        size: g.dimensions(),
                        kps,
                        thumb: local::thumbnail(&g),
                    },
                    t1 - t0,
                    cpu() - t1,
                )
            },
        )
        .collect();
    let wall = t.elapsed().as_secs_f64();
    let (dec, ext): (f64, f64) = stills
        .iter()
        .fold((0.0, 0.0), |a, s| (a.0 + s.1, a.1 + s.2));
    let n = stills.len() as f64;
    let kp_mean = stills.iter().map(|s| s.0.kps.len()).sum::<usize>() as f64 / n;
    let bytes = stills
        .iter()
        .map(|s| local::to_bytes(&s.0.kps).len())
        .sum::<usize>() as f64
        / n;
    println!(
        "refs: {} stills, decode {:.2} ms + extract {:.2} ms per still (one core) = {:.0} stills/s/core; wall {:.1}s",
        stills.len(),
        dec / n * 1e3,
        ext / n * 1e3,
        n / (dec + ext),
        wall
    );
    println!("refs: {kp_mean:.0} keypoints, {bytes:.0} bytes per still");
    let stills: Vec<Still> = stills.into_iter().map(|s| s.0).collect();

    // Inverted file over visual words, idf-weighted, as tantivy will score.
    let mut postings: HashMap<u32, Vec<u32>> = HashMap::new();
    for (i, s) in stills.iter().enumerate() {
        let mut words: Vec<u32> = s.kps.iter().flat_map(local::visual_words).collect();
        words.sort_unstable();
        words.dedup();
        for w in words {
            postings.entry(w).or_default().push(i as u32);
        }
    }
    let idf = |df: usize| (stills.len() as f32 / df as f32).ln();
    let score = |kps: &[Keypoint]| {
        let mut words: Vec<u32> = kps.iter().flat_map(local::visual_words).collect();
        words.sort_unstable();
        words.dedup();
        let mut acc = vec![0f32; stills.len()];
        for w in words {
            if let Some(p) = postings.get(&w) {
                p.iter().for_each(|&i| acc[i as usize] += idf(p.len()));
            }
        }
        acc
    };

    let truth = std::fs::read_to_string(bench.join("truth.csv")).expect("truth.csv");
    let stride = env("LOCAL_STRIDE", 1.0) as usize;
    let rows: Vec<Vec<String>> = truth
        .lines()
        .skip(1)
        .step_by(stride)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    struct Outcome {
        cat: String,
        truth: String,
        best: Option<(String, local::Verification)>,
        retrieved: bool,
        t_extract: f64,
        t_verify: f64,
        verifies: usize,
        all: Vec<String>,
    }
    let outcomes: Vec<Outcome> = rows
        .par_iter()
        .map_init(
            || FeatureExtractor::new(query_params.clone()),
            |fx, row| {
                let g =
                    local::working_image(&grey(&bench.join("queries").join(&row[0])), qlong, qup);
                let t0 = cpu();
                let kps = fx.extract(&g);
                let t_extract = cpu() - t0;
                let cands: Vec<usize> = if brute {
                    (0..stills.len()).collect()
                } else {
                    let (a, b) = (score(&kps), score(&local::mirror(&kps, g.width())));
                    let mut order: Vec<(f32, usize)> =
                        a.iter().zip(&b).map(|(x, y)| x.max(*y)).zip(0..).collect();
                    order.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
                    order.iter().take(top_k).map(|o| o.1).collect()
                };
                let retrieved = cands.iter().any(|&c| stills[c].series == row[2]);
                let t1 = cpu();
                let mut best: Option<(String, local::Verification)> = None;
                let mut all = Vec::new();
                for (rank, &c) in cands.iter().enumerate() {
                    let s = &stills[c];
                    if let Some(v) = local::verify(&kps, g.dimensions(), &s.kps, s.size) {
                        if v.inliers >= 6 {
                            let a = local::agreement(&g, &s.thumb, s.size, &v);
                            all.push(format!(
                                "{},{},{},{rank},{},{},{:.3},{:.1},{},{},{:.3},{:.3},{:.3},{:.3},{}",
                                row[0], row[1], row[2], s.series, v.inliers, v.scale, v.rotation_deg,
                                v.mirrored, v.covisible, v.containment, v.cells, a.recall, a.precision, a.ref_edges
                            ));
                        }
                        if best.as_ref().is_none_or(|b| v.inliers > b.1.inliers) {
                            best = Some((s.series.clone(), v));
                        }
                    }
                }
                let t_verify = cpu() - t1;
                Outcome {
                    cat: row[1].clone(),
                    truth: row[2].clone(),
                    best,
                    retrieved,
                    t_extract,
                    t_verify,
                    verifies: cands.len(),
                    all,
                }
            },
        )
        .collect();
    let nq = outcomes.len() as f64;
    let ext: f64 = outcomes.iter().map(|o| o.t_extract).sum::<f64>() / nq;
    let ver: f64 = outcomes.iter().map(|o| o.t_verify).sum::<f64>()
        / outcomes.iter().map(|o| o.verifies).sum::<usize>() as f64;
    println!(
        "queries: extract {:.2} ms/query, verify {:.3} ms/candidate (both orientations), top_k {}",
        ext * 1e3,
        ver * 1e3,
        if brute { stills.len() } else { top_k }
    );

    let mut cats: Vec<&str> = outcomes.iter().map(|o| o.cat.as_str()).collect();
    cats.dedup();
    let retrieval: usize = outcomes
        .iter()
        .filter(|o| !o.truth.is_empty() && o.retrieved)
        .count();
    println!(
        "retrieval: right series among candidates for {retrieval}/{} positives",
        520 / stride
    );
    let mut head = format!("{:>11}", "min inliers");
    cats.iter()
        .for_each(|c| head += &format!(" {:>7}", &c[..c.len().min(7)]));
    println!("{head} {:>7} {:>6} {:>6}", "all", "wrong", "distr");
    for th in [6, 7, 8, 9, 10, 12, 15, 20] {
        let hit = |o: &Outcome| o.best.as_ref().is_some_and(|b| b.1.inliers >= th);
        let mut line = format!("{th:>11}");
        let mut ok_all = 0;
        for c in &cats {
            let ok = outcomes
                .iter()
                .filter(|o| {
                    o.cat == *c
                        && !o.truth.is_empty()
                        && hit(o)
                        && o.best.as_ref().is_some_and(|b| b.0 == o.truth)
                })
                .count();
            ok_all += ok;
            line += &format!(" {:>6.1}%", 100.0 * ok as f64 * stride as f64 / 40.0);
        }
        let wrong = outcomes
            .iter()
            .filter(|o| {
                !o.truth.is_empty() && hit(o) && o.best.as_ref().is_some_and(|b| b.0 != o.truth)
            })
            .count();
        let distr = outcomes
            .iter()
            .filter(|o| o.truth.is_empty() && hit(o))
            .count();
        println!(
            "{line} {:>6.1}% {wrong:>6} {distr:>6}",
            100.0 * ok_all as f64 * stride as f64 / 520.0
        );
    }
    if let Ok(path) = std::env::var("LOCAL_DUMP_ALL") {
        let mut out = String::from(
            "id,category,truth,rank,series,inliers,scale,rot,mirrored,covisible,containment,cells,recall,precision,ref_edges\n",
        );
        for o in &outcomes {
            for l in &o.all {
                out += l;
                out.push('\n');
            }
        }
        std::fs::write(path, out).expect("dump");
    }
    if let Ok(path) = std::env::var("LOCAL_DUMP") {
        let mut out = String::from(
            "id,category,truth,best,inliers,matches,scale,rot,mirrored,covisible,containment,cells\n",
        );
        for (o, r) in outcomes.iter().zip(&rows) {
            let (s, v) = o
                .best
                .as_ref()
                .map(|b| (b.0.as_str(), Some(b.1)))
                .unwrap_or(("", None));
            let v = v
                .map(|v| {
                    format!(
                        "{},{},{:.3},{:.1},{},{},{:.3},{:.3}",
                        v.inliers,
                        v.matches,
                        v.scale,
                        v.rotation_deg,
                        v.mirrored,
                        v.covisible,
                        v.containment,
                        v.cells
                    )
                })
                .unwrap_or(",,,,,,,".into());
            out += &format!("{},{},{},{s},{v}\n", r[0], o.cat, o.truth);
        }
        std::fs::write(path, out).expect("dump");
    }
}

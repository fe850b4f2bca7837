//! Blocked linear scan: the exact fallback when multi-index hashing would
//! probe more buckets than there are references, and the brute-force baseline
//! that tests and benches compare against.

use std::collections::BinaryHeap;

use super::{Hit, distance, sort_hits};

/// References per block: distances of a block are computed in one branch-free
/// loop (which the compiler vectorises), then the hits are gathered.
const BLOCK: usize = 128;

/// Finds every hash within `radius` of `query`, by scanning them all.
///
/// `out` is cleared, then filled with hits sorted by (distance, id), where an
/// id is the position in `hashes`.
pub fn scan_within<const W: usize>(
    hashes: &[[u64; W]],
    query: &[u64; W],
    radius: u32,
    out: &mut Vec<Hit>,
) {
    out.clear();
    let mut dist = [0u32; BLOCK];
    let mut found = [Hit { id: 0, distance: 0 }; BLOCK];
    for (block, chunk) in hashes.chunks(BLOCK).enumerate() {
        for (d, h) in dist.iter_mut().zip(chunk) {
            *d = distance(h, query);
        }
        // Branch-free gather: always write, advance only on a hit.
        let base = (block * BLOCK) as u32;
        let mut n = 0;
        for (i, &d) in dist[..chunk.len()].iter().enumerate() {
            found[n] = Hit {
                id: base + i as u32,
                distance: d,
            };
            n += usize::from(d <= radius);
        }
        out.extend_from_slice(&found[..n]);
    }
    sort_hits(out);
}

/// Finds the `k` hashes nearest to `query` within `max_radius`, by scanning
/// them all; ties are broken by id. Sorted by (distance, id).
pub fn scan_nearest<const W: usize>(
    hashes: &[[u64; W]],
    query: &[u64; W],
    k: usize,
    max_radius: u32,
) -> Vec<Hit> {
    if k == 0 {
        return Vec::new();
    }
    // Max-heap of the best k so far, keyed by (distance, id): the root is the
    // worst kept hit, and a later reference (larger id) only replaces it when
    // strictly closer, which keeps ties by id.
    let mut best: BinaryHeap<(u32, u32)> = BinaryHeap::with_capacity(k + 1);
    let mut bound = max_radius;
    let mut dist = [0u32; BLOCK];
    for (block, chunk) in hashes.chunks(BLOCK).enumerate() {
        for (d, h) in dist.iter_mut().zip(chunk) {
            *d = distance(h, query);
        }
        let base = (block * BLOCK) as u32;
        for (i, &d) in dist[..chunk.len()].iter().enumerate() {
            if d > bound {
                continue;
            }
            let id = base + i as u32;
            if best.len() < k {
                best.push((d, id));
            } else if best.peek().is_some_and(|&(worst, _)| d < worst) {
                best.pop();
                best.push((d, id));
            }
            if best.len() == k {
                bound = best.peek().map_or(bound, |&(worst, _)| worst);
            }
        }
    }
    let mut hits: Vec<Hit> = best
        .into_iter()
        .map(|(distance, id)| Hit { id, distance })
        .collect();
    sort_hits(&mut hits);
    hits
}

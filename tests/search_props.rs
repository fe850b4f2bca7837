//! The Hamming index against brute force: multi-index hashing, the scan and
//! the automatic choice must all return exactly the references a full
//! comparison finds, in (distance, id) order, for random and clustered data.

use frametrace::search::{HammingIndex, Hit, Method, scan_nearest, scan_within};
use proptest::prelude::*;

/// splitmix64, so a proptest seed expands into a whole data set.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn random_hash<const W: usize>(state: &mut u64) -> [u64; W] {
    std::array::from_fn(|_| next(state))
}

/// `h` with up to `max_flips` random bits flipped.
fn flip<const W: usize>(state: &mut u64, h: [u64; W], max_flips: u32) -> [u64; W] {
    let mut out = h;
    for _ in 0..next(state) % (u64::from(max_flips) + 1) {
        let bit = (next(state) % (W as u64 * 64)) as usize;
        out[bit / 64] ^= 1 << (bit % 64);
    }
    out
}

/// References and queries: uniformly random, or clusters of near-duplicates
/// around a few centres (queries near the same centres, so hits exist).
fn dataset<const W: usize>(
    seed: u64,
    n: usize,
    clusters: usize,
    spread: u32,
) -> (Vec<[u64; W]>, Vec<[u64; W]>) {
    let mut state = seed;
    if clusters == 0 {
        let refs = (0..n).map(|_| random_hash(&mut state)).collect();
        let queries = (0..8).map(|_| random_hash(&mut state)).collect();
        return (refs, queries);
    }
    let centres: Vec<[u64; W]> = (0..clusters).map(|_| random_hash(&mut state)).collect();
    let near = |state: &mut u64| {
        let centre = centres[(next(state) % clusters as u64) as usize];
        flip(state, centre, spread)
    };
    let refs = (0..n).map(|_| near(&mut state)).collect();
    let queries = (0..8).map(|_| near(&mut state)).collect();
    (refs, queries)
}

/// Every reference within `radius`, by comparing all, sorted by (distance, id).
fn brute<const W: usize>(refs: &[[u64; W]], query: &[u64; W], radius: u32) -> Vec<Hit> {
    let mut hits: Vec<Hit> = (refs.iter().enumerate())
        .map(|(id, h)| {
            let distance = h.iter().zip(query).map(|(a, b)| (a ^ b).count_ones()).sum();
            Hit {
                id: id as u32,
                distance,
            }
        })
        .filter(|h| h.distance <= radius)
        .collect();
    hits.sort_by_key(|h| (h.distance, h.id));
    hits
}

fn check_search<const W: usize>(refs: Vec<[u64; W]>, queries: &[[u64; W]], radius: u32) {
    let index = HammingIndex::build(refs.clone());
    let mut out = Vec::new();
    for query in queries {
        let expected = brute(&refs, query, radius);
        for method in [Method::Auto, Method::Mih, Method::Scan] {
            index.search_with(query, radius, method, &mut out);
            assert_eq!(out, expected, "{method:?}, radius {radius}");
        }
        scan_within(&refs, query, radius, &mut out);
        assert_eq!(out, expected, "scan_within, radius {radius}");
    }
    let batch = index.search_batch(queries, radius);
    let single: Vec<Vec<Hit>> = (queries.iter()).map(|q| brute(&refs, q, radius)).collect();
    assert_eq!(batch, single, "search_batch, radius {radius}");
}

fn check_nearest<const W: usize>(refs: Vec<[u64; W]>, queries: &[[u64; W]], k: usize, max: u32) {
    let index = HammingIndex::build(refs.clone());
    for query in queries {
        let mut expected = brute(&refs, query, max);
        expected.truncate(k);
        assert_eq!(
            index.nearest(query, k, max),
            expected,
            "nearest k {k} max {max}"
        );
        assert_eq!(scan_nearest(&refs, query, k, max), expected, "scan_nearest");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn phash_search_matches_brute_force(
        seed in any::<u64>(), n in 0usize..600, clusters in 0usize..6,
        spread in 0u32..=24, radius in 0u32..=20,
    ) {
        let (refs, queries) = dataset::<1>(seed, n, clusters, spread);
        check_search(refs, &queries, radius);
    }

    #[test]
    fn pdq_search_matches_brute_force(
        seed in any::<u64>(), n in 0usize..400, clusters in 0usize..6,
        spread in 0u32..=48, radius in 0u32..=40,
    ) {
        let (refs, queries) = dataset::<4>(seed, n, clusters, spread);
        check_search(refs, &queries, radius);
    }

    #[test]
    fn phash_nearest_matches_brute_force(
        seed in any::<u64>(), n in 0usize..600, clusters in 0usize..6,
        spread in 0u32..=24, k in 0usize..12, max in 0u32..=64,
    ) {
        let (refs, queries) = dataset::<1>(seed, n, clusters, spread);
        check_nearest(refs, &queries, k, max);
    }

    #[test]
    fn pdq_nearest_matches_brute_force(
        seed in any::<u64>(), n in 0usize..400, clusters in 0usize..6,
        spread in 0u32..=48, k in 0usize..12, max in 0u32..=256,
    ) {
        let (refs, queries) = dataset::<4>(seed, n, clusters, spread);
        check_nearest(refs, &queries, k, max);
    }
}

/// Every way of spreading `r <= 16` flipped bits over the four 16-bit
/// substrings of a phash: MIH must find each at radius r and not at r - 1,
/// which exercises the pigeonhole bound at its edges.
#[test]
fn every_split_of_flips_over_substrings_is_found() {
    let mut refs: Vec<[u64; 1]> = Vec::new();
    for r in 0..=16u32 {
        for a in 0..=r {
            for b in 0..=r - a {
                for c in 0..=r - a - b {
                    let d = r - a - b - c;
                    let low = |bits: u32| (1u64 << bits) - 1;
                    refs.push([low(a) | low(b) << 16 | low(c) << 32 | low(d) << 48]);
                }
            }
        }
    }
    let index = HammingIndex::build(refs.clone());
    let mut out = Vec::new();
    for radius in 0..=17 {
        index.search_with(&[0], radius, Method::Mih, &mut out);
        assert_eq!(out, brute(&refs, &[0], radius), "radius {radius}");
    }
}

#[test]
fn empty_index_finds_nothing() {
    let index = HammingIndex::<4>::build(Vec::new());
    let mut out = vec![Hit { id: 7, distance: 7 }];
    for method in [Method::Auto, Method::Mih, Method::Scan] {
        index.search_with(&[1, 2, 3, 4], 256, method, &mut out);
        assert!(out.is_empty());
    }
    assert!(index.is_empty());
    assert_eq!(index.hash(0), None);
    assert!(index.nearest(&[0; 4], 5, 256).is_empty());
    assert_eq!(index.search_batch(&[[0; 4]; 3], 10), vec![Vec::new(); 3]);
}

#[test]
fn radius_zero_returns_exact_duplicates_by_id() {
    let refs = vec![[5u64], [6], [5], [5 ^ 1 << 40], [5]];
    let index = HammingIndex::build(refs);
    let mut out = Vec::new();
    index.search(&[5], 0, &mut out);
    let ids: Vec<u32> = out.iter().map(|h| h.id).collect();
    assert_eq!(ids, [0, 2, 4]);
    assert!(out.iter().all(|h| h.distance == 0));
    index.search(&[5], 1, &mut out);
    let ids: Vec<u32> = out.iter().map(|h| h.id).collect();
    assert_eq!(ids, [0, 2, 4, 3]);
    assert_eq!(index.nearest(&[5], 2, 0), out[..2]);
    assert_eq!(index.hash(3), Some(&[5 ^ 1 << 40]));
    assert_eq!(index.len(), 5);
}

#[test]
fn full_radius_returns_everything() {
    let mut state = 3;
    let refs: Vec<[u64; 4]> = (0..50).map(|_| random_hash(&mut state)).collect();
    let index = HammingIndex::build(refs.clone());
    let mut out = Vec::new();
    for radius in [256, 300, u32::MAX] {
        index.search_with(&[0; 4], radius, Method::Mih, &mut out);
        assert_eq!(out.len(), 50);
        assert_eq!(out, brute(&refs, &[0; 4], 256));
    }
    assert_eq!(index.nearest(&[0; 4], 100, u32::MAX).len(), 50);
}

//! Descriptor matching between a query and one reference still.
//!
//! Brute-force Hamming matching of ~1000 x ~550 descriptors costs ~3 ms, six
//! times the verification budget. Instead each reference keypoint is bucketed
//! by a few short keys (disjoint sets of descriptor bits, multi-probe LSH) and
//! a query descriptor is only compared with keypoints sharing a key; the
//! Lowe ratio test then runs on that shortlist, and only the best query match
//! of each reference keypoint is kept.

use super::{Keypoint, SplitMix};

/// Lowe ratio: best distance must be below this fraction of the second best.
const RATIO: f32 = 0.8;
/// Absolute ceiling on a match's Hamming distance (of 256 bits).
const MAX_DISTANCE: u32 = 80;
/// One putative correspondence, query point -> reference point.
#[derive(Clone, Copy)]
pub(crate) struct Pair {
    pub(crate) q: (f32, f32),
    pub(crate) r: (f32, f32),
    /// Reference angle minus query angle, radians.
    pub(crate) turn: f32,
    /// Reference scale over query scale.
    pub(crate) zoom: f32,
}

/// Candidate lookup: each table keys keypoints by a fixed set of
/// `PROBE_BITS` even descriptor bits (disjoint between tables), so only
/// keypoints sharing a key in some table are compared.
pub(crate) const PROBE_TABLES: usize = 12;
const PROBE_BITS: usize = 7;
/// Cartoon descriptors are far from uniform (flat paint makes many tests
/// agree), so a few keys collect most keypoints: in a bucket holding more
/// than [`CROWDED`] keypoints, only those that also agree on
/// `SPLIT_BITS` more bits are compared. Buckets are sorted by the longer
/// key, so a bucket's sub-bucket is a contiguous slice of it.
const SPLIT_BITS: usize = 4;
const CROWDED: usize = 24;
const KEY_BITS: usize = PROBE_BITS + SPLIT_BITS;

fn probe_bits() -> &'static [[u8; KEY_BITS]; PROBE_TABLES] {
    static BITS: std::sync::OnceLock<[[u8; KEY_BITS]; PROBE_TABLES]> = std::sync::OnceLock::new();
    BITS.get_or_init(|| {
        let mut rng = SplitMix(0x7072_6f62_6573_0001);
        let mut even: Vec<u8> = (0..128).map(|b| 2 * b).collect();
        for i in (1..even.len()).rev() {
            even.swap(i, rng.next() as usize % (i + 1));
        }
        // The first PROBE_BITS of each table are disjoint between tables;
        // the split bits are drawn from the even bits left over.
        let split = &even[PROBE_TABLES * PROBE_BITS..];
        std::array::from_fn(|t| {
            std::array::from_fn(|b| {
                if b < PROBE_BITS {
                    even[t * PROBE_BITS + b]
                } else {
                    split[(t * SPLIT_BITS + b - PROBE_BITS) % split.len()]
                }
            })
        })
    })
}

/// The table's long key: the `PROBE_BITS` bucket bits high, the split
/// bits low.
#[inline(always)]
fn key(desc: &[u64; 4], bits: &[u8; KEY_BITS]) -> usize {
    bits.iter().fold(0, |acc, &b| {
        (acc << 1) | (((desc[b as usize / 64] >> (b % 64)) & 1) as usize)
    })
}

/// Every probe table's long key of each keypoint.
pub(crate) type ProbeKeys = Vec<[u16; PROBE_TABLES]>;

/// The probe keys of `kps`: computed once per query frame, reused against
/// every still it is matched with.
pub(crate) fn probe_keys(kps: &[Keypoint]) -> ProbeKeys {
    let bits = probe_bits();
    kps.iter()
        .map(|k| std::array::from_fn(|t| key(&k.desc, &bits[t]) as u16))
        .collect()
}

/// Approximate ratio-test nearest neighbours of a query's keypoints among
/// one reference still's, one probe table at a time, so that a first,
/// screening match through a few tables ([`Matcher::pairs`]) is continued
/// by the full match rather than started again: a query keypoint's best
/// and second-best distances after tables `0..n` do not depend on how
/// many more tables are probed afterwards.
pub(crate) struct Matcher<'a> {
    query: &'a [Keypoint],
    keys: &'a [[u16; PROBE_TABLES]],
    reference: &'a [Keypoint],
    /// Per query keypoint: best distance, second-best distance, best
    /// reference keypoint.
    nearest: Vec<(u32, u32, u32)>,
    /// Tables probed so far.
    probed: usize,
}

impl<'a> Matcher<'a> {
    /// A matcher that has probed no table yet; `keys` are [`probe_keys`]
    /// of `query`.
    pub(crate) fn new(
        query: &'a [Keypoint],
        keys: &'a [[u16; PROBE_TABLES]],
        reference: &'a [Keypoint],
    ) -> Matcher<'a> {
        Matcher {
            query,
            keys,
            reference,
            nearest: vec![(u32::MAX, u32::MAX, u32::MAX); query.len()],
            probed: 0,
        }
    }

    /// Probes the tables up to `tables` (of [`PROBE_TABLES`]) not probed
    /// yet and returns the matches that pass the ratio test, one per
    /// reference keypoint (its best query match).
    pub(crate) fn pairs(&mut self, tables: usize) -> Vec<Pair> {
        let tables = tables.clamp(1, PROBE_TABLES);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU was just checked to support popcnt.
            unsafe { self.probe_popcnt(tables) };
            return self.ratio_pairs();
        }
        self.probe_portable(tables);
        self.ratio_pairs()
    }

    /// [`Matcher::probe_portable`] compiled with the hardware popcount.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt")]
    fn probe_popcnt(&mut self, tables: usize) {
        self.probe_portable(tables)
    }

    #[inline(always)]
    fn probe_portable(&mut self, tables: usize) {
        const KEYS: usize = 1 << KEY_BITS;
        const SUB: usize = 1 << SPLIT_BITS;
        let (reference, n) = (self.reference, self.reference.len());
        let mut start = vec![0u32; KEYS + 1];
        let mut fill = vec![0u32; KEYS];
        let mut slots = vec![0u32; n];
        // The descriptors in bucket order: a bucket is scanned as one
        // contiguous run rather than gathered from the keypoints.
        let mut descs = vec![[0u64; 4]; n];
        let mut ref_keys = vec![0u16; n];
        for tb in &probe_bits()[self.probed..tables] {
            // Counting sort of the reference keypoints by this table's
            // long key.
            start.fill(0);
            for (k, r) in ref_keys.iter_mut().zip(reference) {
                *k = key(&r.desc, tb) as u16;
                start[*k as usize + 1] += 1;
            }
            (1..=KEYS).for_each(|k| start[k] += start[k - 1]);
            fill.copy_from_slice(&start[..KEYS]);
            for (ri, &k) in ref_keys.iter().enumerate() {
                slots[fill[k as usize] as usize] = ri as u32;
                descs[fill[k as usize] as usize] = reference[ri].desc;
                fill[k as usize] += 1;
            }
            let t = self.probed;
            self.probed += 1;
            let rows = self.query.iter().zip(self.keys).zip(&mut self.nearest);
            for ((q, qk), near) in rows {
                let k = qk[t] as usize;
                let bucket = k & !(SUB - 1);
                let (mut a, mut b) = (start[bucket] as usize, start[bucket + SUB] as usize);
                if b - a > CROWDED {
                    (a, b) = (start[k] as usize, start[k + 1] as usize);
                }
                let (mut d1, mut d2, mut r1) = *near;
                for (&ri, r) in slots[a..b].iter().zip(&descs[a..b]) {
                    // Compared in an earlier table already: a pair seen
                    // again cannot change the nearest distances, except
                    // that the best one must not count as second best.
                    if ri == r1 {
                        continue;
                    }
                    let d = (q.desc[0] ^ r[0]).count_ones()
                        + (q.desc[1] ^ r[1]).count_ones()
                        + (q.desc[2] ^ r[2]).count_ones()
                        + (q.desc[3] ^ r[3]).count_ones();
                    if d < d1 {
                        (d2, d1, r1) = (d1, d, ri);
                    } else if d < d2 {
                        d2 = d;
                    }
                }
                *near = (d1, d2, r1);
            }
        }
    }

    /// The ratio test on the nearest distances so far, keeping the best
    /// query match of each reference keypoint.
    fn ratio_pairs(&self) -> Vec<Pair> {
        let mut best_for_ref: Vec<(u32, u32)> = vec![(u32::MAX, 0); self.reference.len()];
        for (qi, &(d1, d2, r1)) in self.nearest.iter().enumerate() {
            let d2 = d2.min(MAX_DISTANCE + 16);
            if d1 <= MAX_DISTANCE
                && (d1 as f32) < RATIO * d2 as f32
                && d1 < best_for_ref[r1 as usize].0
            {
                best_for_ref[r1 as usize] = (d1, qi as u32);
            }
        }
        best_for_ref
            .iter()
            .enumerate()
            .filter(|(_, b)| b.0 != u32::MAX)
            .map(|(ri, &(_, qi))| {
                let (q, r) = (&self.query[qi as usize], &self.reference[ri]);
                Pair {
                    q: (q.x, q.y),
                    r: (r.x, r.y),
                    turn: r.angle - q.angle,
                    zoom: r.scale / q.scale,
                }
            })
            .collect()
    }
}

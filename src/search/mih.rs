//! Multi-index hashing (Norouzi, Punjani & Fleet 2012): each hash is cut into
//! 16-bit substrings, one table per substring position. A reference within
//! radius `r` of the query differs from it in few bits of at least one
//! substring (pigeonhole), so probing every key near the query's substrings
//! and verifying the full distance finds all neighbours, exactly, while
//! touching a tiny fraction of the references.

use std::sync::LazyLock;

use rayon::prelude::*;

use super::{Hit, distance, prefetch, scan_nearest, scan_within, sort_hits};

/// Bits per substring; every table has `2^16` buckets.
const SUB_BITS: usize = 16;
const BUCKETS: usize = 1 << SUB_BITS;

/// All 16-bit masks ordered by popcount: the first `KEYS_WITHIN[q]` are the
/// masks of at most `q` bits, so `key ^ mask` enumerates a Hamming ball.
static MASKS: LazyLock<Vec<u16>> = LazyLock::new(|| {
    let mut masks: Vec<u16> = (0..=u16::MAX).collect();
    masks.sort_by_key(|m| (m.count_ones(), *m));
    masks
});

/// Number of 16-bit keys within Hamming distance `q` (sum of binomials).
const KEYS_WITHIN: [usize; SUB_BITS + 1] = {
    let mut out = [0; SUB_BITS + 1];
    let mut binom = 1; // C(16, q)
    let mut sum = 0;
    let mut q = 0;
    while q <= SUB_BITS {
        sum += binom;
        out[q] = sum;
        binom = binom * (SUB_BITS - q) / (q + 1);
        q += 1;
    }
    out
};

/// How a search finds its hits; [`Method::Auto`] is right outside benches and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Multi-index hashing while its estimated cost beats a scan, else a scan.
    Auto,
    /// Always multi-index hashing.
    Mih,
    /// Always the blocked linear scan.
    Scan,
}

/// One substring position: references bucketed by their 16-bit value (CSR).
struct Table<const W: usize> {
    /// `offsets[key]..offsets[key + 1]` is the bucket of `key` in `ids`.
    offsets: Vec<u32>,
    /// Reference ids, grouped by substring value, ascending within a bucket.
    ids: Vec<u32>,
    /// The full hashes in the same order as `ids` (only when `COPY`), so
    /// verifying a bucket reads memory sequentially.
    copies: Vec<[u64; W]>,
}

/// Exact Hamming-radius index over `W`-word hashes (ids are positions, `u32`).
pub struct HammingIndex<const W: usize> {
    hashes: Vec<[u64; W]>,
    tables: Vec<Table<W>>,
}

/// The 16-bit substring number `t` of `hash`.
#[inline(always)]
fn substring<const W: usize>(hash: &[u64; W], t: usize) -> usize {
    ((hash[t / 4] >> ((t % 4) * SUB_BITS)) & 0xFFFF) as usize
}

impl<const W: usize> HammingIndex<W> {
    /// Substrings (and tables) per hash.
    const TABLES: usize = W * 64 / SUB_BITS;
    /// Store hash copies in the tables: pays for one word, too big for more.
    const COPY: bool = W == 1;

    /// Builds the index; the id of a hash is its position in `hashes`.
    ///
    /// # Panics
    /// With more than `u32::MAX` hashes (over 32 GiB of phashes).
    pub fn build(hashes: Vec<[u64; W]>) -> Self {
        const { assert!(W > 0, "a hash has at least one word") };
        assert!(u32::try_from(hashes.len()).is_ok(), "too many hashes");
        let _ = &*MASKS; // built here, not on the first query

        let tables = (0..Self::TABLES)
            .into_par_iter()
            .map(|t| build_table(&hashes, t, Self::COPY))
            .collect();
        Self { hashes, tables }
    }

    /// Number of references.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// True when there are no references.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The hash of reference `id`.
    pub fn hash(&self, id: u32) -> Option<&[u64; W]> {
        self.hashes.get(id as usize)
    }

    /// All hashes, indexed by id.
    pub fn hashes(&self) -> &[[u64; W]] {
        &self.hashes
    }

    /// Heap bytes held by the index.
    pub fn memory_bytes(&self) -> usize {
        let tables: usize = (self.tables.iter())
            .map(|t| t.offsets.len() * 4 + t.ids.len() * 4 + t.copies.len() * W * 8)
            .sum();
        self.hashes.len() * W * 8 + tables
    }

    /// Finds every reference within `radius` of `query`, exactly.
    ///
    /// `out` is cleared, then filled sorted by (distance, id).
    pub fn search(&self, query: &[u64; W], radius: u32, out: &mut Vec<Hit>) {
        self.search_with(query, radius, Method::Auto, out);
    }

    /// [`Self::search`] with the method chosen by the caller (benches, tests).
    pub fn search_with(&self, query: &[u64; W], radius: u32, method: Method, out: &mut Vec<Hit>) {
        let radius = radius.min(64 * W as u32);
        let mih = match method {
            Method::Auto => self.mih_pays(radius),
            Method::Mih => true,
            Method::Scan => false,
        };
        if mih {
            self.search_mih(query, radius, out);
        } else {
            scan_within(&self.hashes, query, radius, out);
        }
    }

    /// [`Self::search`] for many queries in parallel; results in query order.
    pub fn search_batch(&self, queries: &[[u64; W]], radius: u32) -> Vec<Vec<Hit>> {
        queries
            .par_iter()
            .map_init(Vec::new, |scratch, query| {
                self.search(query, radius, scratch);
                scratch.to_vec()
            })
            .collect()
    }

    /// The `k` references nearest to `query` within `max_radius`, sorted by
    /// (distance, id): fewer than `k` when fewer are that close.
    pub fn nearest(&self, query: &[u64; W], k: usize, max_radius: u32) -> Vec<Hit> {
        let max_radius = max_radius.min(64 * W as u32);
        if k == 0 || self.is_empty() {
            return Vec::new();
        }
        // Grow the radius to the largest one each substring radius allows
        // (`q * TABLES + TABLES - 1`), while multi-index hashing pays; a
        // search at radius r is exact, so k hits there are the true top k.
        let mut out = Vec::new();
        let mut radius = 0;
        loop {
            if !self.mih_pays(radius) {
                return scan_nearest(&self.hashes, query, k, max_radius);
            }
            self.search_mih(query, radius, &mut out);
            if out.len() >= k || radius == max_radius {
                out.truncate(k);
                return out;
            }
            radius = (((radius as usize + 1) / Self::TABLES + 1) * Self::TABLES - 1) as u32;
            radius = radius.min(max_radius);
        }
    }

    /// Substring radius of every table for a search at `radius`, `None` for
    /// a table that needs no probe. With `radius = q * m + a` (`a < m`), a
    /// reference within `radius` has a substring within `q` among the first
    /// `a + 1`, or within `q - 1` among the rest: otherwise its distance is at
    /// least `(a + 1)(q + 1) + (m - a - 1) q = radius + 1`.
    fn sub_radius(radius: u32, table: usize) -> Option<usize> {
        let (q, a) = (
            radius as usize / Self::TABLES,
            radius as usize % Self::TABLES,
        );
        let q = if table <= a {
            Some(q)
        } else {
            q.checked_sub(1)
        };
        q.map(|q| q.min(SUB_BITS))
    }

    /// Buckets a multi-index search at `radius` probes.
    fn probes(radius: u32) -> usize {
        (0..Self::TABLES)
            .filter_map(|t| Self::sub_radius(radius, t))
            .map(|q| KEYS_WITHIN[q])
            .sum()
    }

    /// Whether multi-index hashing is expected to beat a scan at `radius`.
    ///
    /// Cost model, in nanoseconds, fitted on a 2-core AMD EPYC (shared, under
    /// load) at 10^3..10^6 random references, W = 1 and W = 4: a probe costs
    /// ~6, verifying a candidate ~10 from the bucket's own copies (W = 1) or
    /// ~35 from a random hash (W = 4), a scan ~1 + 1.25 W per reference. The
    /// measured crossovers (MIH slower beyond): W = 1, radius ~20 at 10^6,
    /// ~17 at 10^5, ~15 at 10^4, ~12 at 10^3; W = 4, radius ~60 at 10^6,
    /// ~57 at 10^5, ~50 at 10^4, ~30 at 10^3. The model picks within 1.5x
    /// of the better method at every point measured.
    fn mih_pays(&self, radius: u32) -> bool {
        let probes = Self::probes(radius.min(64 * W as u32)) as f64;
        let n = self.hashes.len() as f64;
        let candidates = probes * n / BUCKETS as f64;
        let verify = if Self::COPY { 10.0 } else { 35.0 };
        let mih = probes * 6.0 + candidates * verify;
        mih < n * (1.0 + 1.25 * W as f64)
    }

    /// Multi-index search: probe the buckets, verify the candidates, sort.
    fn search_mih(&self, query: &[u64; W], radius: u32, out: &mut Vec<Hit>) {
        out.clear();
        // 1. Bounds of every non-empty probed bucket: independent loads.
        let mut buckets: Vec<(u32, u32, u32)> = Vec::with_capacity(Self::probes(radius));
        for (t, table) in self.tables.iter().enumerate() {
            let Some(q) = Self::sub_radius(radius, t) else {
                continue;
            };
            let key = substring(query, t);
            for &mask in &MASKS[..KEYS_WITHIN[q]] {
                let bucket = key ^ usize::from(mask);
                let (lo, hi) = (table.offsets[bucket], table.offsets[bucket + 1]);
                if lo < hi {
                    buckets.push((t as u32, lo, hi));
                }
            }
        }
        // 2. W = 1: verify each bucket's own hash copies (the id is read only
        // for a hit). W > 1: gather the candidate ids. Buckets lie at random
        // places, so the one AHEAD_BUCKETS later is prefetched meanwhile.
        for (i, &(t, lo, hi)) in buckets.iter().enumerate() {
            if let Some(&(t, lo, hi)) = buckets.get(i + AHEAD_BUCKETS) {
                let table = &self.tables[t as usize];
                if Self::COPY {
                    prefetch(&table.copies[lo as usize]);
                    prefetch(&table.copies[hi as usize - 1]);
                } else {
                    prefetch(&table.ids[lo as usize]);
                }
            }
            let table = &self.tables[t as usize];
            let (lo, hi) = (lo as usize, hi as usize);
            if Self::COPY {
                for (pos, h) in (lo..hi).zip(&table.copies[lo..hi]) {
                    let d = distance(h, query);
                    if d <= radius {
                        out.push(Hit {
                            id: table.ids[pos],
                            distance: d,
                        });
                    }
                }
            } else {
                out.extend(table.ids[lo..hi].iter().map(|&id| Hit { id, distance: 0 }));
            }
        }
        if !Self::COPY {
            // 3. Verify in place (keep = advance the write index), with the
            // hash AHEAD_HASHES candidates later prefetched.
            let mut kept = 0;
            for i in 0..out.len() {
                if let Some(ahead) = out.get(i + AHEAD_HASHES) {
                    prefetch(&self.hashes[ahead.id as usize]);
                }
                let id = out[i].id;
                let d = distance(&self.hashes[id as usize], query);
                out[kept] = Hit { id, distance: d };
                kept += usize::from(d <= radius);
            }
            out.truncate(kept);
        }
        sort_hits(out);
    }
}

/// Prefetch distances, in buckets and in candidates (a few hundred cycles of work ahead).
const AHEAD_BUCKETS: usize = 4;
const AHEAD_HASHES: usize = 16;

/// Counting sort of all ids by substring `t`. The keys are extracted once
/// (2 bytes per reference) so the scatter pass does not reread the hashes.
fn build_table<const W: usize>(hashes: &[[u64; W]], t: usize, copy: bool) -> Table<W> {
    let keys: Vec<u16> = hashes.iter().map(|h| substring(h, t) as u16).collect();
    let mut offsets = vec![0u32; BUCKETS + 1];
    for &k in &keys {
        offsets[usize::from(k) + 1] += 1;
    }
    for k in 0..BUCKETS {
        offsets[k + 1] += offsets[k];
    }
    let mut cursor = offsets[..BUCKETS].to_vec();
    let mut ids = vec![0u32; hashes.len()];
    for (id, &k) in keys.iter().enumerate() {
        let slot = &mut cursor[usize::from(k)];
        ids[*slot as usize] = id as u32;
        *slot += 1;
    }
    let copies = if copy {
        ids.iter().map(|&id| hashes[id as usize]).collect()
    } else {
        Vec::new()
    };
    Table {
        offsets,
        ids,
        copies,
    }
}

//! In-memory Hamming search over reference hashes.
//!
//! tantivy term lookups cost microseconds each, far too slow to probe the
//! thousands of neighbouring keys a Hamming radius implies, so the hash words
//! read from the index's fast fields are copied into the structures here:
//! [`HammingIndex`] (multi-index hashing over 16-bit substrings, exact for the
//! radius asked) and the blocked popcount scan it falls back to
//! ([`scan_within`], [`scan_nearest`]). Both work on any number of 64-bit
//! words: `W = 1` for the 64-bit phash, `W = 4` for the 256-bit PDQ hash.

mod mih;
mod scan;

pub use mih::{HammingIndex, Method};
pub use scan::{scan_nearest, scan_within};

/// One reference found by a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hit {
    /// Position of the reference in the hashes the index was built from.
    pub id: u32,
    /// Hamming distance between the query and the reference.
    pub distance: u32,
}

/// Hamming distance between two hashes of `W` words.
#[inline(always)]
pub fn distance<const W: usize>(a: &[u64; W], b: &[u64; W]) -> u32 {
    let mut d = 0;
    for i in 0..W {
        d += (a[i] ^ b[i]).count_ones();
    }
    d
}

/// Puts hits in result order: by distance, ties by id, each id once.
fn sort_hits(hits: &mut Vec<Hit>) {
    hits.sort_unstable_by_key(|h| (h.distance, h.id));
    hits.dedup_by_key(|h| h.id);
}

/// Asks the CPU to start loading `x` into cache. Multi-index hashing reads
/// buckets and hashes at random places in memory; issuing those loads ahead
/// overlaps their latency (measured: searches about twice as fast at 10^6
/// references), which is worth the one `unsafe` of this module.
#[inline(always)]
fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` is only a hint: it never faults nor changes
    // memory, and needs only SSE, which every x86_64 CPU has.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(x).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

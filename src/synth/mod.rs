//! Synthetic frames for tests, benchmarks and the bundled sample.
//!
//! frametrace must be testable without the shared development set, and its
//! bundled `data/` sample must be ours to ship. This module draws cartoon-like
//! animation frames ([`Series`]) and simulates how frames leak ([`Leak`]):
//! rescaled, re-encoded, recoloured, mirrored, rotated, cropped, padded,
//! covered by retake notes or pasted on a retake sheet.
//!
//! Everything is a pure function of a `u64` seed. Randomness comes from the
//! small [`Rng`] below and drawing from our own raster helpers, so outputs do
//! not change when a dependency is upgraded (only `image`'s resize and JPEG
//! codec are borrowed, for the leak simulations that need them).

mod backdrop;
mod cast;
mod category;
pub mod leak;
mod notes;
mod raster;
pub mod scene;
mod sheet;
mod transform;

pub use category::{Category, random_leak};
pub use leak::{Leak, apply, jpeg_bytes};
pub use scene::Series;

/// SplitMix64: a tiny, fast, well-mixed PRNG whose output is fixed forever.
///
/// Not cryptographic; only meant to make synthetic data reproducible.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator whose whole output sequence is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in `[0, 1)`.
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// A uniform float in `[lo, hi)`.
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    /// A uniform integer in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * u64::from(n)) >> 32) as u32
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f32) -> bool {
        self.unit() < p
    }

    /// An independent generator derived from this one and a label, so that
    /// adding draws in one place does not shift every other random choice.
    pub fn fork(&self, label: u64) -> Rng {
        let mut r = Rng(self.0 ^ label.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        r.next_u64();
        r
    }
}

/// A colour from hue (degrees), saturation and value in `[0, 1]`.
pub(crate) fn hsv(h: f32, s: f32, v: f32) -> [u8; 3] {
    let h = h.rem_euclid(360.0) / 60.0;
    let c = v * s;
    let x = c * (1.0 - ((h % 2.0) - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    let q = |u: f32| ((u + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [q(r), q(g), q(b)]
}

/// Linear interpolation between two colours, `k` in `[0, 1]`.
pub(crate) fn mix(a: [u8; 3], b: [u8; 3], k: f32) -> [u8; 3] {
    let k = k.clamp(0.0, 1.0);
    let f = |i: usize| (f32::from(a[i]) + (f32::from(b[i]) - f32::from(a[i])) * k).round() as u8;
    [f(0), f(1), f(2)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_reproducible_and_seed_dependent() {
        let a: Vec<u64> = (0..8)
            .map({
                let mut r = Rng::new(7);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..8)
            .map({
                let mut r = Rng::new(7);
                move |_| r.next_u64()
            })
            .collect();
        let c: Vec<u64> = (0..8)
            .map({
                let mut r = Rng::new(8);
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn splitmix_matches_published_reference() {
        // First outputs of SplitMix64 seeded with 1234567, from the reference C
        // implementation by Sebastiano Vigna (prng.di.unimi.it/splitmix64.c), as
        // printed by a line-by-line Python transcription of that C code.
        let mut r = Rng::new(1_234_567);
        assert_eq!(r.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(r.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn draws_stay_in_range_and_cover_it() {
        let mut r = Rng::new(3);
        let xs: Vec<f32> = (0..10_000).map(|_| r.range(-2.0, 5.0)).collect();
        assert!(xs.iter().all(|x| (-2.0..5.0).contains(x)));
        let mean = xs.iter().sum::<f32>() / xs.len() as f32;
        assert!((mean - 1.5).abs() < 0.1, "mean {mean}");
        let mut hits = [0u32; 6];
        (0..6000).for_each(|_| hits[r.below(6) as usize] += 1);
        assert!(hits.iter().all(|&h| (850..1150).contains(&h)), "{hits:?}");
    }

    #[test]
    fn hsv_primaries() {
        assert_eq!(hsv(0.0, 1.0, 1.0), [255, 0, 0]);
        assert_eq!(hsv(120.0, 1.0, 1.0), [0, 255, 0]);
        assert_eq!(hsv(240.0, 1.0, 0.5), [0, 0, 128]);
        assert_eq!(mix([0, 0, 0], [200, 100, 50], 0.5), [100, 50, 25]);
    }
}

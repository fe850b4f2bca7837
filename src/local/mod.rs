//! Local features: the second search stage for partial matches.
//!
//! Global hashes (phash, PDQ) see the whole frame, so a crop, a letterbox,
//! retake notes or a frame pasted on a retake sheet move them too far. Here a
//! frame becomes a few hundred keypoints with 256-bit binary descriptors
//! ([`features`]); each descriptor yields a few training-free visual words
//! (LSH over descriptor bits) that the index stores as terms, and candidates
//! are matched (`matcher`) and confirmed by fitting a similarity transform with RANSAC ([`mod@verify`]).

pub mod agreement;
pub mod features;
mod matcher;
pub mod reference;
mod sampling;
mod similarity;
#[cfg(test)]
mod tests;
pub mod verify;

pub use agreement::{Agreement, QueryImage, agreement, thumbnail};
pub use features::{ExtractorParams, FeatureExtractor};
pub use reference::{LocalFeatures, QueryFeatures};
pub use verify::{Verification, verify, verify_view};

use image::GrayImage;
use thiserror::Error;

/// One oriented keypoint with its binary descriptor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Keypoint {
    /// Column in pixels of the extracted image.
    pub x: f32,
    /// Row in pixels of the extracted image.
    pub y: f32,
    /// Pyramid scale (1.0 = full resolution, larger = coarser).
    pub scale: f32,
    /// Orientation in radians, 0..2pi (0 for upright descriptors).
    pub angle: f32,
    /// 256-bit descriptor; bits `2k` and `2k+1` are mirror twins.
    pub desc: [u64; 4],
}

/// Why stored keypoint bytes could not be read back.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum LocalError {
    /// The blob does not start with our magic and version.
    #[error("keypoint blob has an unknown header")]
    BadHeader,
    /// The blob length disagrees with its keypoint count.
    #[error("keypoint blob is truncated or has trailing bytes ({0} bytes)")]
    BadLength(usize),
}

/// Bumped whenever stored keypoints, visual words or thumbnails would
/// change for the same input: indexes record it in their settings.
pub const LOCAL_VERSION: u32 = 1;

/// Number of visual words per keypoint (one per LSH table).
pub const WORDS_PER_KEYPOINT: usize = 4;
/// Descriptor bits hashed into each visual word.
pub const BITS_PER_WORD: usize = 18;
/// Bytes per stored keypoint.
pub const KEYPOINT_BYTES: usize = 38;
const MAGIC: [u8; 2] = *b"K1";
/// Positions are stored in 1/16 pixel, so up to 4095 px.
const XY_UNIT: f32 = 16.0;

/// Long side in pixels of the grey working image: references are only
/// downscaled to `REF_LONG_SIDE`; queries are scaled towards
/// `QUERY_LONG_SIDE` (up to 3x up), since a frame pasted on a sheet or shrunk
/// is smaller than the still it came from and the pyramid only goes down.
pub const REF_LONG_SIDE: u32 = 640;
/// See [`REF_LONG_SIDE`].
pub const QUERY_LONG_SIDE: u32 = 640;

/// Resizes `grey` for extraction: scale `min(max_up, target / long side)`.
pub fn working_image(grey: &GrayImage, target: u32, max_up: f32) -> GrayImage {
    let long = grey.width().max(grey.height()).max(1);
    let f = (target as f32 / long as f32).min(max_up);
    let (nw, nh) = (
        ((grey.width() as f32 * f).round() as u32).max(1),
        ((grey.height() as f32 * f).round() as u32).max(1),
    );
    if (nw, nh) == grey.dimensions() {
        return grey.clone();
    }
    let mut buf = Vec::new();
    sampling::resize_bilinear(
        grey.as_raw(),
        grey.width() as usize,
        grey.height() as usize,
        &mut buf,
        nw as usize,
        nh as usize,
    );
    GrayImage::from_raw(nw, nh, buf).unwrap_or_else(|| grey.clone())
}

/// Keypoints of the horizontally mirrored image of width `width`: position
/// reflected, angle `pi - a`, descriptor twin bits swapped.
pub fn mirror(kps: &[Keypoint], width: u32) -> Vec<Keypoint> {
    const EVEN: u64 = 0x5555_5555_5555_5555;
    kps.iter()
        .map(|k| Keypoint {
            x: width as f32 - 1.0 - k.x,
            angle: (std::f32::consts::PI - k.angle).rem_euclid(std::f32::consts::TAU),
            desc: k.desc.map(|d| ((d & EVEN) << 1) | ((d >> 1) & EVEN)),
            ..*k
        })
        .collect()
}

/// Orientation bins a keypoint's angle is quantised to for retrieval's
/// rotation vote (22.5 degrees each).
pub const ORIENTATION_BINS: u8 = 16;

/// The orientation bin of `kp` (0..[`ORIENTATION_BINS`]).
pub fn orientation(kp: &Keypoint) -> u8 {
    let turns = kp.angle.rem_euclid(std::f32::consts::TAU) / std::f32::consts::TAU;
    ((turns * ORIENTATION_BINS as f32) as u8).min(ORIENTATION_BINS - 1)
}

/// Per descriptor test, the margin between its two box sums (see
/// [`features::FeatureExtractor::extract_with_margins`]), saturated at 255.
pub type Margins = [u8; 256];

/// Most probes per query word that [`probed_words`] makes.
pub const MAX_PROBES_PER_WORD: usize = 4;
/// A test whose box sums differ by less than this (4 grey levels on
/// average over the 25 pixels) is one that re-encoding noise can flip.
pub const UNRELIABLE_MARGIN: u8 = 100;

/// Training-free visual words: LSH table `t` reads a fixed random subset of
/// [`BITS_PER_WORD`] descriptor bits; the word is `t << 24 | bits`.
pub fn visual_words(kp: &Keypoint) -> [u32; WORDS_PER_KEYPOINT] {
    let tables = word_tables();
    std::array::from_fn(|t| {
        let bits = tables[t].iter().enumerate().fold(0u32, |acc, (j, &b)| {
            acc | ((((kp.desc[b as usize / 64] >> (b % 64)) & 1) as u32) << j)
        });
        ((t as u32) << 24) | bits
    })
}

/// The descriptor bits each LSH table reads (disjoint).
fn word_tables() -> &'static [[u8; BITS_PER_WORD]; WORDS_PER_KEYPOINT] {
    static TABLES: std::sync::OnceLock<[[u8; BITS_PER_WORD]; WORDS_PER_KEYPOINT]> =
        std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let mut rng = SplitMix(0x7761_7264_735f_0001);
        let mut perm: Vec<u8> = (0..=255).collect();
        for i in (1..perm.len()).rev() {
            perm.swap(i, rng.next() as usize % (i + 1));
        }
        std::array::from_fn(|t| std::array::from_fn(|b| perm[t * BITS_PER_WORD + b]))
    })
}

/// Multi-probe query words: [`visual_words`] of `kp`, and each word again
/// with one of its `probes` least reliable bits flipped (at most
/// [`MAX_PROBES_PER_WORD`]), among bits whose test margin is under
/// [`UNRELIABLE_MARGIN`]. Re-encoding, rescaling and upscaling noise flips
/// exactly those tests, and then the exact word misses the still it came
/// from; flipping reliable bits would only add noise to the ranking.
/// `margins` are the keypoint's as extracted; `mirrored` says `kp` is its
/// [`mirror`] (whose bit `b` is the extracted bit `b ^ 1`).
pub fn probed_words(
    kp: &Keypoint,
    margins: &Margins,
    mirrored: bool,
    probes: usize,
    out: &mut Vec<u32>,
) {
    let tables = word_tables();
    let twin = mirrored as usize;
    let probes = probes.min(MAX_PROBES_PER_WORD);
    for (word, bits) in visual_words(kp).into_iter().zip(tables) {
        out.push(word);
        // The smallest margins first, ties by bit position.
        let mut all = [(UNRELIABLE_MARGIN, usize::MAX); MAX_PROBES_PER_WORD];
        let weakest = &mut all[..probes];
        for (j, &b) in bits.iter().enumerate() {
            let m = margins[b as usize ^ twin];
            if let Some(slot) = weakest.iter().position(|w| m < w.0) {
                weakest[slot..].rotate_right(1);
                weakest[slot] = (m, j);
            }
        }
        out.extend(
            weakest
                .iter()
                .filter(|w| w.1 != usize::MAX)
                .map(|w| word ^ (1 << w.1)),
        );
    }
}

/// Compact storage: header `K1` + u32 count, then per keypoint x, y (u16,
/// 1/16 px), scale (u8, 1/16 octave steps of log2), angle (u8, 2pi/256) and
/// the 32 descriptor bytes: [`KEYPOINT_BYTES`] each.
pub fn to_bytes(kps: &[Keypoint]) -> Vec<u8> {
    let mut out = Vec::with_capacity(6 + kps.len() * KEYPOINT_BYTES);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&(kps.len() as u32).to_le_bytes());
    for k in kps {
        let q = |v: f32| ((v * XY_UNIT).round().clamp(0.0, 65535.0) as u16).to_le_bytes();
        out.extend_from_slice(&q(k.x));
        out.extend_from_slice(&q(k.y));
        out.push((k.scale.max(1.0).log2() * 16.0).round().clamp(0.0, 255.0) as u8);
        out.push(
            (k.angle / std::f32::consts::TAU * 256.0)
                .round()
                .rem_euclid(256.0) as u8,
        );
        for d in k.desc {
            out.extend_from_slice(&d.to_le_bytes());
        }
    }
    out
}

/// Reads [`to_bytes`] output back; never panics on malformed input.
pub fn from_bytes(bytes: &[u8]) -> Result<Vec<Keypoint>, LocalError> {
    let (head, body) = bytes
        .split_at_checked(6)
        .ok_or(LocalError::BadLength(bytes.len()))?;
    if head[..2] != MAGIC {
        return Err(LocalError::BadHeader);
    }
    let count = u32::from_le_bytes([head[2], head[3], head[4], head[5]]) as usize;
    if count.checked_mul(KEYPOINT_BYTES) != Some(body.len()) {
        return Err(LocalError::BadLength(bytes.len()));
    }
    Ok(body
        .chunks_exact(KEYPOINT_BYTES)
        .map(|c| {
            let u = |i: usize| u16::from_le_bytes([c[i], c[i + 1]]) as f32 / XY_UNIT;
            let word = |i: usize| u64::from_le_bytes(std::array::from_fn(|j| c[6 + 8 * i + j]));
            Keypoint {
                x: u(0),
                y: u(2),
                scale: (c[4] as f32 / 16.0).exp2(),
                angle: c[5] as f32 / 256.0 * std::f32::consts::TAU,
                desc: std::array::from_fn(word),
            }
        })
        .collect())
}

/// Tiny deterministic PRNG (SplitMix64) for patterns, LSH tables and RANSAC.
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

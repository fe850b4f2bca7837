//! PDQ, Meta's 256-bit perceptual hash (ThreatExchange), bit-compatible with
//! the `pdqhash` PyPI package 0.2.8 (the C++ reference core behind
//! python-threatexchange), plus its eight DCT-domain dihedral variants so a
//! mirrored or rotated query can be matched without re-hashing.
//!
//! Pipeline, as in the reference: luma (`f32`), two passes of Jarosz box
//! filters along rows then columns, nearest decimation to 64x64, quality
//! from the 64x64 gradients, 16x16 DCT, threshold at the Torben median.
//! Images under 5 pixels on a side hash to zero with quality 0; a 64x64
//! input skips the filter in [`PdqHasher::hash_luma`] but not in the
//! dihedral path (both as in the reference).

mod dihedral;
mod dsp;
mod pytx;
mod reduced;

pub use pytx::pytx_rgb8;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A 256-bit PDQ hash. Word 0 holds the first 16 hex digits of
/// ThreatExchange's 64-digit text form, so bit `k` of the reference
/// `Hash256` is bit `k % 64` of word `3 - k / 64`. Serialized as hex text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PdqHash(pub [u64; 4]);

/// Why a string is not a PDQ hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseHashError {
    /// The text is not exactly the expected number of hex digits.
    #[error("expected {expected} hex digits, got {got} characters")]
    Length {
        /// Digits a hash of this kind has.
        expected: usize,
        /// Characters received.
        got: usize,
    },
    /// A character is not a hex digit.
    #[error("invalid hex digit in hash {0:?}")]
    Digit(String),
}

impl PdqHash {
    /// ThreatExchange's text form: 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        self.to_string()
    }

    /// Parses ThreatExchange's 64-hex-digit form (either case).
    pub fn from_hex(text: &str) -> Result<Self, ParseHashError> {
        if text.len() != 64 {
            return Err(ParseHashError::Length {
                expected: 64,
                got: text.len(),
            });
        }
        let mut words = [0_u64; 4];
        for (word, chunk) in words.iter_mut().zip(text.as_bytes().chunks_exact(16)) {
            let digits = std::str::from_utf8(chunk)
                .ok()
                .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
            *word = digits
                .and_then(|d| u64::from_str_radix(d, 16).ok())
                .ok_or_else(|| ParseHashError::Digit(text.to_owned()))?;
        }
        Ok(Self(words))
    }

    /// Number of differing bits, 0..=256.
    pub fn hamming(&self, other: &Self) -> u32 {
        self.0
            .iter()
            .zip(other.0)
            .map(|(a, b)| (a ^ b).count_ones())
            .sum()
    }
}

impl fmt::Display for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|w| write!(f, "{w:016x}"))
    }
}

impl FromStr for PdqHash {
    type Err = ParseHashError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_hex(s)
    }
}

impl Serialize for PdqHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PdqHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

/// A PDQ hash with the reference's quality score (0..=100; the reference
/// suggests ignoring hashes under 50 for matching).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PdqOutput {
    /// The 256-bit hash.
    pub hash: PdqHash,
    /// Gradient-based quality, 0 for flat or tiny images.
    pub quality: u8,
}

/// Smallest side the reference hashes; smaller images get a zero hash.
const MIN_SIDE: usize = 5;

/// Reusable PDQ state: the DCT basis and every scratch buffer, so one hasher
/// per worker thread hashes without allocating (the two full-size buffers
/// only grow to the largest image seen).
#[derive(Clone, Debug)]
pub struct PdqHasher {
    dct: Vec<f32>,
    full1: Vec<f32>,
    full2: Vec<f32>,
    col_sums: Vec<f32>,
    narrow: Vec<f32>,
    b64: Vec<f32>,
    t16x64: Vec<f32>,
    b16: Vec<f32>,
    aux: Vec<f32>,
    /// Filters of the last reduced-scale size seen (columns, rows).
    reduced: Option<(reduced::AxisWeights, reduced::AxisWeights)>,
}

impl Default for PdqHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl PdqHasher {
    /// A hasher with its DCT basis computed and small buffers allocated.
    pub fn new() -> Self {
        Self {
            dct: dsp::dct_matrix(),
            full1: Vec::new(),
            full2: Vec::new(),
            col_sums: Vec::new(),
            narrow: Vec::new(),
            b64: vec![0.0; dsp::SIDE * dsp::SIDE],
            t16x64: vec![0.0; dsp::DCT_SIDE * dsp::SIDE],
            b16: vec![0.0; dsp::DCT_SIDE * dsp::DCT_SIDE],
            aux: vec![0.0; dsp::DCT_SIDE * dsp::DCT_SIDE],
            reduced: None,
        }
    }

    /// Hashes a reduced-scale decode (`width` x `height` RGB) of an image
    /// that is `full_width` x `full_height`, approximating
    /// [`Self::hash_rgb8`] of the full image: the 64x64 decimation is
    /// filtered as at full size, each reduced pixel standing for the
    /// full-size pixels it covers (see `reduced.rs`). Not bit-compatible
    /// with the reference; an image that is not reduced takes
    /// [`Self::hash_rgb8`].
    ///
    /// # Panics
    /// If `rgb.len() != width * height * 3`.
    pub fn hash_rgb8_reduced(
        &mut self,
        rgb: &[u8],
        (width, height): (usize, usize),
        (full_width, full_height): (usize, usize),
    ) -> PdqOutput {
        let smaller = width < full_width || height < full_height;
        let tiny = full_width < MIN_SIDE || full_height < MIN_SIDE;
        if !smaller || tiny || width == 0 || height == 0 {
            return self.hash_rgb8(rgb, width, height);
        }
        self.load_rgb8(rgb, width, height);
        let wanted = ((full_width, width), (full_height, height));
        let (cols, rows) = match self.reduced.take() {
            Some((c, r)) if (c.key, r.key) == wanted => (c, r),
            _ => (
                reduced::AxisWeights::new(full_width, width),
                reduced::AxisWeights::new(full_height, height),
            ),
        };
        reduced::decimate(
            &self.full1,
            width,
            &cols,
            &rows,
            &mut self.narrow,
            &mut self.b64,
        );
        self.reduced = Some((cols, rows));
        let quality = dsp::quality(&self.b64);
        dsp::dct64_to_16(&self.dct, &self.b64, &mut self.t16x64, &mut self.b16);
        PdqOutput {
            hash: PdqHash(dsp::to_bits(&self.b16)),
            quality,
        }
    }

    /// Hashes interleaved 8-bit RGB, `width * height * 3` bytes, with
    /// pdqhash-python's luma (`0.299 R + 0.587 G + 0.114 B` in `f64`,
    /// rounded to `f32`).
    ///
    /// # Panics
    /// If `rgb.len() != width * height * 3` (a caller bug, not bad data).
    pub fn hash_rgb8(&mut self, rgb: &[u8], width: usize, height: usize) -> PdqOutput {
        self.load_rgb8(rgb, width, height);
        self.hash_loaded(width, height, true)
    }

    /// Hashes a row-major `f32` luma plane of `width * height` samples.
    ///
    /// # Panics
    /// If `luma.len() != width * height`.
    pub fn hash_luma(&mut self, luma: &[f32], width: usize, height: usize) -> PdqOutput {
        assert_eq!(luma.len(), width * height, "luma plane size");
        self.full1.clear();
        self.full1.extend_from_slice(luma);
        self.hash_loaded(width, height, true)
    }

    /// The eight dihedral variants from one DCT, in the reference's order:
    /// original, rotate 90, rotate 180, rotate 270, flip x, flip y,
    /// flip plus 1 (transpose), flip minus 1 (anti-transpose); and the
    /// quality. Variant 0 equals [`Self::hash_rgb8`]'s hash except, rarely,
    /// for exactly 64x64 inputs, which the reference filters here but not
    /// there.
    ///
    /// # Panics
    /// If `rgb.len() != width * height * 3`.
    pub fn hash_rgb8_dihedral(
        &mut self,
        rgb: &[u8],
        width: usize,
        height: usize,
    ) -> ([PdqHash; 8], u8) {
        self.load_rgb8(rgb, width, height);
        let quality = self.hash_loaded(width, height, false).quality;
        let mut hashes = [PdqHash::default(); 8];
        if width >= MIN_SIDE && height >= MIN_SIDE {
            for (v, hash) in hashes.iter_mut().enumerate() {
                dihedral::transform(v, &self.b16, &mut self.aux);
                *hash = PdqHash(dsp::to_bits(&self.aux));
            }
        }
        (hashes, quality)
    }

    fn load_rgb8(&mut self, rgb: &[u8], width: usize, height: usize) {
        assert_eq!(rgb.len(), width * height * 3, "RGB buffer size");
        self.full1.clear();
        self.full1.extend(rgb.chunks_exact(3).map(|p| {
            let [r, g, b] = [p[0], p[1], p[2]].map(f64::from);
            (r * 0.299 + g * 0.587 + b * 0.114) as f32
        }));
    }

    /// Runs the pipeline on `full1` up to `b16`; `shortcut_64` copies a
    /// 64x64 input unfiltered like `pdqFloat256FromFloatLuma`.
    fn hash_loaded(&mut self, width: usize, height: usize, shortcut_64: bool) -> PdqOutput {
        if width < MIN_SIDE || height < MIN_SIDE {
            return PdqOutput {
                hash: PdqHash::default(),
                quality: 0,
            };
        }
        if shortcut_64 && width == dsp::SIDE && height == dsp::SIDE {
            self.b64.copy_from_slice(&self.full1);
        } else {
            // Two row+column passes; the second pair only computes what
            // the 64x64 decimation reads (sampled columns, then rows).
            use dsp::Keep;
            self.full2.resize(self.full1.len(), 0.0);
            let along_rows = dsp::window_size(width, dsp::SIDE);
            let along_cols = dsp::window_size(height, dsp::SIDE);
            let (cols, rows) = (dsp::samples(width), dsp::samples(height));
            dsp::box_rows(&self.full1, &mut self.full2, width, along_rows, Keep::All);
            dsp::box_cols(
                &self.full2,
                &mut self.full1,
                width,
                along_cols,
                &mut self.col_sums,
                Keep::All,
            );
            self.narrow.resize(height * dsp::SIDE, 0.0);
            dsp::box_rows(
                &self.full1,
                &mut self.narrow,
                width,
                along_rows,
                Keep::Samples(&cols),
            );
            dsp::box_cols(
                &self.narrow,
                &mut self.b64,
                dsp::SIDE,
                along_cols,
                &mut self.col_sums,
                Keep::Samples(&rows),
            );
        }
        let quality = dsp::quality(&self.b64);
        dsp::dct64_to_16(&self.dct, &self.b64, &mut self.t16x64, &mut self.b16);
        PdqOutput {
            hash: PdqHash(dsp::to_bits(&self.b16)),
            quality,
        }
    }
}

#[cfg(test)]
mod tests;

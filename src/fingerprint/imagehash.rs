//! `phash`, `dhash` and `ahash` with the same bits as Python imagehash 4.3.2.
//!
//! Reference catalogues are often hashed with Python's `imagehash`, so our
//! 64-bit hashes must match its hex strings exactly. Each function takes the
//! full-size grey image from [`pillow::to_luma8`](super::pillow::to_luma8) and
//! resizes it with Pillow's Lanczos arithmetic, as imagehash does:
//!
//! * `average_hash`: 8x8, bit = pixel > mean (the mean of 64 bytes is exact).
//! * `phash`: 32x32, `scipy.fftpack.dct` along axis 0 then axis 1, the low
//!   8x8 block, bit = coefficient > `numpy.median` (mean of the two middle
//!   values).
//! * `dhash`: 9 wide x 8 high, bit = right neighbour > left.
//!
//! Bits are row-major with bit (0, 0) as the most significant bit of the
//! `u64`, which makes [`hex64`] equal imagehash's `_binary_array_to_hex`.
//!
//! Why not the `image_hasher` crate: it cannot produce these bits. Its
//! resize is the `image` crate's (f32 Lanczos, without Pillow's 22-bit fixed
//! point, per-pass byte rounding and pass order), its grey conversion uses
//! other weights, and its DCT mode takes a mean (or its own median) over a
//! differently scaled block. On the 107 images of `imagehash_computed.tsv`,
//! image_hasher 3.1.1 with Lanczos3, 8x8 and `BitOrder::MsbFirst` matched
//! average_hash on 75, dhash (`Gradient`) on 62 and phash (`preproc_dct` +
//! `Median`) on 38; this module matches all of the lossless ones.
//!
//! Float noise: scipy's pocketfft returns exact zeros for coefficients that
//! vanish by symmetry (flat, mirror-symmetric images), and exactly equal
//! values for mirrored coefficients; rustdct's rounding differs. We snap
//! coefficients within `DCT_EPS` of zero to zero and treat coefficients
//! within `DCT_EPS` of the median as equal to it, so ties resolve like
//! scipy's exact ties (`>` is false).

use image::GrayImage;
use rustdct::{DctPlanner, TransformType2And3};
use std::sync::Arc;

use super::pillow::{Resizer, resize_lanczos};

/// Side of the phash working image (hash size 8 x highfreq factor 4).
const PHASH_SIDE: usize = 32;
/// Coefficients this close are the same number up to rounding noise.
///
/// rustdct's unnormalised 2-D result is at most 255 * 32 * 32 = 261120, so
/// rounding noise stays below 1e-9; distinct coefficients of byte images
/// are, in practice, far further apart than this.
const DCT_EPS: f64 = 1e-6;

/// Error from [`parse_hex64`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HexError {
    /// The string is not exactly 16 characters long.
    #[error("expected 16 hex digits, got {0} bytes")]
    Length(usize),
    /// The string has a character that is not a hex digit.
    #[error("not a hex digit in {0:?}")]
    Digit(String),
}

/// Reusable state for imagehash-compatible hashes: a 32-point DCT plan,
/// its scratch buffers and a Pillow resizer with cached filter taps.
pub struct ImageHasher {
    dct: Arc<dyn TransformType2And3<f64>>,
    block: Vec<f64>,
    column: Vec<f64>,
    scratch: Vec<f64>,
    resizer: Resizer,
}

impl Default for ImageHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for ImageHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageHasher").finish_non_exhaustive()
    }
}

impl ImageHasher {
    /// Plans the 32-point DCT once; reuse one hasher per worker thread.
    pub fn new() -> Self {
        let dct = DctPlanner::new().plan_dct2(PHASH_SIDE);
        let scratch = vec![0.0; dct.get_scratch_len()];
        Self {
            dct,
            block: vec![0.0; PHASH_SIDE * PHASH_SIDE],
            column: vec![0.0; PHASH_SIDE],
            scratch,
            resizer: Resizer::new(),
        }
    }

    /// imagehash `phash(image)` (hash_size 8, highfreq_factor 4).
    pub fn phash(&mut self, grey: &GrayImage) -> u64 {
        let small = self
            .resizer
            .resize(grey, PHASH_SIDE as u32, PHASH_SIDE as u32);
        for (b, &p) in self.block.iter_mut().zip(small.as_raw()) {
            *b = f64::from(p);
        }
        // Axis 0 (down each column) first, then axis 1 (along rows), like
        // `dct(dct(pixels, axis=0), axis=1)`. Only the low 8 rows of the
        // second pass are needed.
        for x in 0..PHASH_SIDE {
            for (y, c) in self.column.iter_mut().enumerate() {
                *c = self.block[y * PHASH_SIDE + x];
            }
            self.dct
                .process_dct2_with_scratch(&mut self.column, &mut self.scratch);
            for (y, &c) in self.column.iter().enumerate() {
                self.block[y * PHASH_SIDE + x] = c;
            }
        }
        let mut low = [0.0f64; 64];
        for (v, row) in self.block.chunks_exact_mut(PHASH_SIDE).take(8).enumerate() {
            self.dct.process_dct2_with_scratch(row, &mut self.scratch);
            for (u, &c) in row.iter().take(8).enumerate() {
                low[v * 8 + u] = if c.abs() < DCT_EPS { 0.0 } else { c };
            }
        }
        let mut sorted = low;
        sorted.sort_by(f64::total_cmp);
        let median = (sorted[31] + sorted[32]) / 2.0;
        pack(low.iter().map(|&c| c - median > DCT_EPS))
    }

    /// imagehash `dhash(image)`: 9x8 resize, right pixel brighter than left.
    pub fn dhash(&mut self, grey: &GrayImage) -> u64 {
        dhash_of(&self.resizer.resize(grey, 9, 8))
    }

    /// imagehash `average_hash(image)`: 8x8 resize, pixel above the mean.
    pub fn ahash(&mut self, grey: &GrayImage) -> u64 {
        ahash_of(&self.resizer.resize(grey, 8, 8))
    }
}

/// imagehash `dhash(image)` without a reusable [`ImageHasher`] (filter taps
/// are recomputed on each call).
pub fn dhash(grey: &GrayImage) -> u64 {
    dhash_of(&resize_lanczos(grey, 9, 8))
}

/// imagehash `average_hash(image)` without a reusable [`ImageHasher`].
pub fn ahash(grey: &GrayImage) -> u64 {
    ahash_of(&resize_lanczos(grey, 8, 8))
}

/// dhash bits of a 9x8 thumbnail: right neighbour brighter than left.
fn dhash_of(small: &GrayImage) -> u64 {
    pack(
        small
            .as_raw()
            .chunks_exact(9)
            .flat_map(|row| row.windows(2).map(|w| w[1] > w[0])),
    )
}

/// average_hash bits of an 8x8 thumbnail. numpy's float mean of 64 bytes
/// is exactly sum / 64, so compare 64 * pixel > sum in integers.
fn ahash_of(small: &GrayImage) -> u64 {
    let raw = small.as_raw();
    let sum: u32 = raw.iter().map(|&p| u32::from(p)).sum();
    pack(raw.iter().map(|&p| u32::from(p) * 64 > sum))
}

/// Packs 64 bits, first bit as the most significant.
fn pack(bits: impl Iterator<Item = bool>) -> u64 {
    bits.take(64).fold(0u64, |acc, b| (acc << 1) | u64::from(b))
}

/// imagehash's hex form of a 64-bit hash: 16 lower-case hex digits.
pub fn hex64(hash: u64) -> String {
    format!("{hash:016x}")
}

/// Parses the 16-digit hex form written by imagehash or [`hex64`].
pub fn parse_hex64(hex: &str) -> Result<u64, HexError> {
    if hex.len() != 16 {
        return Err(HexError::Length(hex.len()));
    }
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(HexError::Digit(hex.to_string()));
    }
    u64::from_str_radix(hex, 16).map_err(|_| HexError::Digit(hex.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::pillow::to_luma8;
    use image::{DynamicImage, ImageBuffer, ImageFormat, Luma, Rgb, Rgba};
    use std::io::Cursor;

    /// Deterministic byte stream (64-bit LCG, high bits).
    fn lcg(seed: u64) -> impl FnMut() -> u16 {
        let mut x = seed;
        move || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 48) as u16
        }
    }

    /// Test images covering the pixel types and sizes imagehash meets.
    pub(crate) fn generated() -> Vec<(&'static str, DynamicImage)> {
        let mut r = lcg(7);
        let rgb = ImageBuffer::from_fn(33, 17, |x, y| {
            Rgb([
                ((x * 7 + y * 3) % 256) as u8,
                ((y * 15) % 256) as u8,
                r() as u8,
            ])
        });
        let rgba = ImageBuffer::from_fn(40, 30, |x, y| {
            let a = [0, 128, 255][(x / 14) as usize];
            Rgba([(x * 6) as u8, (y * 8) as u8, ((x + y) * 3) as u8, a])
        });
        let tall = ImageBuffer::from_fn(3, 200, |x, y| Luma([((y * 37 + x * 90) % 256) as u8]));
        let l16 = ImageBuffer::from_fn(64, 48, |x, y| Luma([((x * y * 11) % 1200) as u16]));
        let mut r16 = lcg(11);
        let rgb16 = ImageBuffer::from_fn(19, 23, |_, _| Rgb([r16(), r16(), r16()]));
        let one = ImageBuffer::from_pixel(1, 1, Rgb([200u8, 50, 10]));
        let flat = ImageBuffer::from_pixel(50, 50, Luma([128u8]));
        let mut n = lcg(3);
        let noise = ImageBuffer::from_fn(257, 131, |x, y| {
            let v = (x + y) as u16 / 2;
            Rgb([
                (v + n() % 64) as u8,
                (y as u16 + n() % 32) as u8,
                (n() % 256) as u8,
            ])
        });
        vec![
            ("rgb_33x17", DynamicImage::ImageRgb8(rgb)),
            ("rgba_40x30", DynamicImage::ImageRgba8(rgba)),
            ("l_3x200", DynamicImage::ImageLuma8(tall)),
            ("l16_64x48", DynamicImage::ImageLuma16(l16)),
            ("rgb16_19x23", DynamicImage::ImageRgb16(rgb16)),
            ("rgb_1x1", DynamicImage::ImageRgb8(one)),
            ("flat_50x50", DynamicImage::ImageLuma8(flat)),
            ("noise_257x131", DynamicImage::ImageRgb8(noise)),
        ]
    }

    /// PNG round trip, so the hashes also go through the decoder's pixel types.
    fn via_png(name: &str, img: &DynamicImage) -> DynamicImage {
        let mut bytes = Vec::new();
        img.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .expect("encode png");
        if let Some(dir) = std::env::var_os("FRAMETRACE_DUMP_DIR") {
            std::fs::write(
                std::path::Path::new(&dir).join(format!("{name}.png")),
                &bytes,
            )
            .expect("dump png");
        }
        image::load_from_memory(&bytes).expect("decode png")
    }

    #[test]
    fn generated_images_match_python_imagehash() {
        // Expected values: run this test with FRAMETRACE_DUMP_DIR=/tmp/gen, then
        // /tmp/oracle/bin/python (imagehash 4.3.2, Pillow 13.0.0, scipy 1.17.1):
        //   import glob, os, imagehash; from PIL import Image
        //   for p in sorted(glob.glob('/tmp/gen/*.png')):
        //       im = Image.open(p)
        //       print(os.path.basename(p)[:-4], im.mode, imagehash.average_hash(im),
        //             imagehash.phash(im), imagehash.dhash(im))
        // Output (name, Pillow mode, average_hash, phash, dhash); the mode column is dropped.
        let expected: &[(&str, &str, &str, &str)] = &[
            (
                "flat_50x50",
                "0000000000000000",
                "8000000000000000",
                "0000000000000000",
            ), // L
            (
                "l16_64x48",
                "007f7b5f7b7f6f57",
                "800016473f1f5f7f",
                "f4b2b393b7d2daac",
            ), // I;16
            (
                "l_3x200",
                "1c38e3ff3ce7e71c",
                "9c1c191918b3f7b3",
                "f0f00f04f00f0ff0",
            ), // L
            (
                "noise_257x131",
                "000000071f7fffff",
                "8038671bf754a15f",
                "ffffffffffffffff",
            ), // RGB
            (
                "rgb16_19x23",
                "c2331b0ff99ba9f4",
                "ad01666d713adcc9",
                "46c6a39952374b84",
            ), // RGB
            (
                "rgb_1x1",
                "0000000000000000",
                "8000000000000000",
                "0000000000000000",
            ), // RGB
            (
                "rgb_33x17",
                "000001031fffffff",
                "852a552e9f5d063b",
                "ffdffffffffefefe",
            ), // RGB
            (
                "rgba_40x30",
                "000001071f7fffff",
                "a871547efc29833a",
                "ffffffffffffffff",
            ), // RGBA
        ];
        let mut hasher = ImageHasher::new();
        let mut checked = 0;
        for (name, img) in generated() {
            let grey = to_luma8(&via_png(name, &img));
            let got = [
                hasher.ahash(&grey),
                hasher.phash(&grey),
                hasher.dhash(&grey),
            ]
            .map(hex64);
            if let Some(&(_, a, p, d)) = expected.iter().find(|e| e.0 == name) {
                assert_eq!(got, [a, p, d], "{name}: [average_hash, phash, dhash]");
                checked += 1;
            }
        }
        assert_eq!(checked, expected.len());
    }
    #[test]
    fn hex_round_trip_and_errors() {
        // Bit (0, 0) is the MSB: imagehash prints a lone first bit as "8000000000000000".
        assert_eq!(hex64(1 << 63), "8000000000000000");
        assert_eq!(parse_hex64("ba8c84536bd3c366"), Ok(0xba8c_8453_6bd3_c366));
        assert_eq!(parse_hex64("BA8C84536BD3C366"), Ok(0xba8c_8453_6bd3_c366));
        assert_eq!(parse_hex64("ba8c"), Err(HexError::Length(4)));
        assert!(matches!(
            parse_hex64("+a8c84536bd3c366"),
            Err(HexError::Digit(_))
        ));
        assert!(matches!(
            parse_hex64("ba8c84536bd3c36\u{e9}"),
            Err(HexError::Length(_))
        ));
    }

    #[test]
    fn flat_images_hash_like_scipy() {
        // scipy gives an exact 0 for every AC coefficient of a flat image, so
        // the median is 0 and only the DC bit is set (matches flat_50x50 above).
        let mut hasher = ImageHasher::new();
        for v in [0u8, 1, 128, 255] {
            let flat = GrayImage::from_pixel(40, 33, image::Luma([v]));
            let dc = if v == 0 { 0 } else { 1 << 63 };
            assert_eq!(hasher.phash(&flat), dc, "grey {v}");
            assert_eq!(hasher.ahash(&flat), 0);
            assert_eq!(hasher.dhash(&flat), 0);
        }
    }
}

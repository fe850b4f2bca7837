//! Leak simulations: what happens to a frame between the studio and the web.
//!
//! Each [`Leak`] is one transformation a leaked still typically went through
//! (the categories of the development set): re-encoding, rescaling, colour
//! grading, mirroring, small rotations, crops, borders, retake notes and
//! retake sheets, or several at once. [`apply`] performs one
//! deterministically; [`super::random_leak`] draws realistic parameters.

use image::imageops::{self, FilterType};
use image::{ImageFormat, Rgb, RgbImage};

use super::{Rng, category, notes, sheet, transform};

/// One transformation of a frame; fractions are of the input's width/height.
#[derive(Debug, Clone, PartialEq)]
pub enum Leak {
    /// Unchanged pixels.
    Exact,
    /// Resized by this factor (both sides).
    Scale(f32),
    /// Re-encoded as JPEG at this quality (1-100) and decoded again.
    JpegHeavy(u8),
    /// Colour grading: `out = ((v * brightness - 0.5) * contrast + 0.5) ^ gamma`
    /// after moving saturation towards gray (0) or beyond (above 1).
    Color {
        /// Multiplier on linear 0..1 values.
        brightness: f32,
        /// Contrast around mid-gray.
        contrast: f32,
        /// 0 is gray, 1 unchanged.
        saturation: f32,
        /// Exponent applied last.
        gamma: f32,
    },
    /// Luma `(299 R + 587 G + 114 B) / 1000` in all three channels.
    Gray,
    /// Mirrored left-right.
    Flip,
    /// Rotated by this many degrees (counter-clockwise) and cropped to the
    /// largest centred rectangle of the same aspect with no empty corners.
    Rotate(f32),
    /// Keeps the window `[x0, x1) x [y0, y1)` (fractions in 0..1).
    Crop {
        /// Left edge.
        x0: f32,
        /// Top edge.
        y0: f32,
        /// Right edge.
        x1: f32,
        /// Bottom edge.
        y1: f32,
    },
    /// Adds borders of `color`, each side a fraction of the input size.
    Pad {
        /// Left border, fraction of the width.
        left: f32,
        /// Top border, fraction of the height.
        top: f32,
        /// Right border, fraction of the width.
        right: f32,
        /// Bottom border, fraction of the height.
        bottom: f32,
        /// Border colour.
        color: [u8; 3],
    },
    /// Retake notes drawn over about `coverage` (0..1) of the pixels.
    Overlay {
        /// Target fraction of changed pixels.
        coverage: f32,
    },
    /// Pasted at 40-60 % width on a white A-format sheet (as wide as the input).
    Sheet,
    /// Notes, then crop, colour, downscale and JPEG, all drawn from the seed.
    Combo,
}

/// Encodes `img` as a baseline JPEG at `quality` (clamped to 1-100).
///
/// Returns an empty vector only if the encoder refuses the image (a side of 0
/// or above 65535 pixels).
pub fn jpeg_bytes(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let encoder =
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100));
    match img.write_with_encoder(encoder) {
        Ok(()) => out,
        Err(_) => Vec::new(),
    }
}

/// Applies `leak` to `img`; `rng_seed` drives any random choices inside it.
pub fn apply(img: &RgbImage, leak: &Leak, rng_seed: u64) -> RgbImage {
    let mut rng = Rng::new(rng_seed);
    let (w, h) = (img.width() as f32, img.height() as f32);
    match *leak {
        Leak::Exact => img.clone(),
        Leak::Scale(f) => {
            let nw = (w * f).round().max(1.0) as u32;
            let nh = (h * f).round().max(1.0) as u32;
            imageops::resize(img, nw, nh, FilterType::Triangle)
        }
        Leak::JpegHeavy(q) => {
            image::load_from_memory_with_format(&jpeg_bytes(img, q), ImageFormat::Jpeg)
                .map(|d| d.to_rgb8())
                .unwrap_or_else(|_| img.clone())
        }
        Leak::Color {
            brightness,
            contrast,
            saturation,
            gamma,
        } => transform::grade(img, brightness, contrast, saturation, gamma),
        Leak::Gray => transform::gray(img),
        Leak::Flip => imageops::flip_horizontal(img),
        Leak::Rotate(deg) => transform::rotate_cropped(img, deg),
        Leak::Crop { x0, y0, x1, y1 } => {
            let (a, b) = (
                (x0.clamp(0.0, 1.0) * w) as u32,
                (y0.clamp(0.0, 1.0) * h) as u32,
            );
            let c = ((x1.clamp(0.0, 1.0) * w).ceil() as u32)
                .max(a + 1)
                .min(img.width().max(1));
            let d = ((y1.clamp(0.0, 1.0) * h).ceil() as u32)
                .max(b + 1)
                .min(img.height().max(1));
            imageops::crop_imm(img, a, b, c.saturating_sub(a), d.saturating_sub(b)).to_image()
        }
        Leak::Pad {
            left,
            top,
            right,
            bottom,
            color,
        } => {
            let side = |f: f32, n: f32| (f.max(0.0) * n).round() as u32;
            let (l, t) = (side(left, w), side(top, h));
            let nw = img.width() + l + side(right, w);
            let nh = img.height() + t + side(bottom, h);
            let mut out = RgbImage::from_pixel(nw, nh, Rgb(color));
            imageops::replace(&mut out, img, i64::from(l), i64::from(t));
            out
        }
        Leak::Overlay { coverage } => notes::overlay(img, coverage, &mut rng),
        Leak::Sheet => sheet::sheet(img, &mut rng),
        Leak::Combo => {
            let noted = notes::overlay(img, rng.range(0.08, 0.2), &mut rng);
            let (kw, kh) = (rng.range(0.75, 0.95), rng.range(0.75, 0.95));
            let (x0, y0) = (rng.range(0.0, 1.0 - kw), rng.range(0.0, 1.0 - kh));
            let steps = [
                Leak::Crop {
                    x0,
                    y0,
                    x1: x0 + kw,
                    y1: y0 + kh,
                },
                category::random_color(&mut rng),
                Leak::Scale(rng.range(0.4, 0.8)),
                Leak::JpegHeavy(20 + rng.below(21) as u8),
            ];
            steps.iter().fold(noted, |acc, step| apply(&acc, step, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::scene::tests::mad;
    use crate::synth::{Category, Series};

    fn still() -> RgbImage {
        Series::new(21).frame(12.0, 240, 136)
    }

    #[test]
    fn every_category_is_deterministic() {
        let img = still();
        for (i, cat) in Category::ALL.into_iter().enumerate() {
            let leak = crate::synth::random_leak(cat, i as u64);
            assert_eq!(leak, crate::synth::random_leak(cat, i as u64));
            let a = apply(&img, &leak, 99);
            let b = apply(&img, &leak, 99);
            assert_eq!(a.dimensions(), b.dimensions(), "{}", cat.name());
            assert_eq!(a.as_raw(), b.as_raw(), "{}", cat.name());
        }
    }

    #[test]
    fn exact_and_scale_geometry() {
        let img = still();
        assert_eq!(apply(&img, &Leak::Exact, 0).as_raw(), img.as_raw());
        assert_eq!(apply(&img, &Leak::Scale(0.5), 0).dimensions(), (120, 68));
        assert_eq!(apply(&img, &Leak::Scale(0.001), 0).dimensions(), (1, 1));
    }

    #[test]
    fn heavy_jpeg_is_lossy_but_close() {
        let img = still();
        let (q15, q90) = (jpeg_bytes(&img, 15), jpeg_bytes(&img, 90));
        assert_eq!(&q15[..2], &[0xFF, 0xD8]);
        assert!(q15.len() < q90.len());
        let out = apply(&img, &Leak::JpegHeavy(15), 0);
        assert_eq!(out.dimensions(), img.dimensions());
        let d = mad(&img, &out);
        assert!(d > 1.0 && d < 15.0, "{d}");
        assert!(jpeg_bytes(&RgbImage::new(0, 0), 50).is_empty());
    }

    #[test]
    fn flip_mirrors_every_row() {
        let img = still();
        let out = apply(&img, &Leak::Flip, 0);
        for (x, y, p) in out.enumerate_pixels() {
            assert_eq!(p, img.get_pixel(img.width() - 1 - x, y));
        }
    }

    #[test]
    fn crop_keeps_the_window() {
        let img = still();
        let out = apply(
            &img,
            &Leak::Crop {
                x0: 0.25,
                y0: 0.5,
                x1: 0.75,
                y1: 1.0,
            },
            0,
        );
        assert_eq!(out.dimensions(), (120, 68));
        assert_eq!(out.get_pixel(0, 0), img.get_pixel(60, 68));
        assert_eq!(out.get_pixel(119, 67), img.get_pixel(179, 135));
        let degenerate = apply(
            &img,
            &Leak::Crop {
                x0: 0.9,
                y0: 0.9,
                x1: 0.1,
                y1: 0.1,
            },
            0,
        );
        assert_eq!(degenerate.dimensions(), (1, 1));
    }

    #[test]
    fn pad_surrounds_the_frame() {
        let img = still();
        let leak = Leak::Pad {
            left: 0.1,
            top: 0.25,
            right: 0.0,
            bottom: 0.5,
            color: [1, 2, 3],
        };
        let out = apply(&img, &leak, 0);
        assert_eq!(out.dimensions(), (240 + 24, 136 + 34 + 68));
        assert_eq!(out.get_pixel(0, 0).0, [1, 2, 3]);
        assert_eq!(out.get_pixel(263, 237).0, [1, 2, 3]);
        assert_eq!(out.get_pixel(24, 34), img.get_pixel(0, 0));
        assert_eq!(out.get_pixel(263, 169), img.get_pixel(239, 135));
    }

    #[test]
    fn colour_and_gray() {
        let img = still();
        let neutral = Leak::Color {
            brightness: 1.0,
            contrast: 1.0,
            saturation: 1.0,
            gamma: 1.0,
        };
        assert_eq!(apply(&img, &neutral, 0).as_raw(), img.as_raw());
        let graded = apply(&img, &crate::synth::random_leak(Category::Color, 4), 0);
        assert!(mad(&img, &graded) > 2.0);
        let gray = apply(&img, &Leak::Gray, 0);
        assert!(gray.pixels().all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2]));
    }

    #[test]
    fn combo_shrinks_and_changes_the_frame() {
        let img = still();
        for seed in 0..4 {
            let out = apply(&img, &Leak::Combo, seed);
            assert!(
                out.width() < 240 * 19 / 20 && out.height() < 136 * 19 / 20,
                "{:?}",
                out.dimensions()
            );
            assert!(out.width() >= 240 * 3 / 10 - 1, "{:?}", out.dimensions());
        }
    }
}

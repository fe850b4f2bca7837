//! Retake notes: the marks a director or supervisor scribbles on a frame.
//!
//! Leaked frames often come from production chatter: a still covered with
//! boxed comments, arrows, circles and pen strokes, or pasted small on a
//! white retake sheet. We have no CJK font, so comments are pseudo-glyphs:
//! clusters of short strokes that look like hanzi or hangul blocks, which is
//! what matters to a fingerprint (dense, high-contrast, small-scale clutter).

use image::RgbImage;

use super::{Rng, raster};

pub(crate) const INKS: [[u8; 3]; 6] = [
    [220, 30, 30],
    [30, 60, 210],
    [150, 30, 170],
    [240, 120, 20],
    [220, 30, 140],
    [20, 20, 20],
];
const PAPERS: [[u8; 3]; 4] = [
    [255, 250, 200],
    [255, 255, 255],
    [255, 225, 230],
    [225, 225, 225],
];

/// Draws one pseudo-glyph in the `s` x `s` cell at (`x`, `y`).
fn glyph(img: &mut RgbImage, x: f32, y: f32, s: f32, ink: [u8; 3], rng: &mut Rng) {
    let w = (s * 0.09).max(1.0);
    let at = |fx: f32, fy: f32| (x + fx * s, y + fy * s);
    if rng.chance(0.5) {
        // Hangul-like block: a consonant, a vowel bar with ticks, maybe a final.
        let tall = rng.chance(0.6);
        let (cx, cy, r) = if tall {
            (0.3, 0.35, 0.2)
        } else {
            (0.5, 0.22, 0.17)
        };
        match rng.below(5) {
            0 => raster::ring(img, x + cx * s, y + cy * s, r * s, r * s, w, ink),
            1 => raster::frame(
                img,
                [
                    x + (cx - r) * s,
                    y + (cy - r) * s,
                    x + (cx + r) * s,
                    y + (cy + r) * s,
                ],
                w,
                ink,
            ),
            2 => raster::polyline(
                img,
                &[
                    at(cx - r, cy - r),
                    at(cx + r, cy - r),
                    at(cx + r * 0.8, cy + r),
                ],
                w,
                ink,
            ),
            3 => raster::polyline(
                img,
                &[at(cx - r, cy - r), at(cx - r, cy + r), at(cx + r, cy + r)],
                w,
                ink,
            ),
            _ => {
                raster::line(img, at(cx, cy - r), at(cx - r, cy + r), w, ink);
                raster::line(img, at(cx, cy - r * 0.2), at(cx + r, cy + r), w, ink);
            }
        }
        if tall {
            raster::line(img, at(0.72, 0.05), at(0.72, 0.75), w, ink);
            for _ in 0..1 + rng.below(2) {
                let fy = rng.range(0.2, 0.5);
                let dir = if rng.chance(0.7) { 0.22 } else { -0.2 };
                raster::line(img, at(0.72, fy), at(0.72 + dir, fy), w, ink);
            }
        } else {
            raster::line(img, at(0.08, 0.55), at(0.92, 0.55), w, ink);
            let fx = rng.range(0.35, 0.65);
            let up = rng.chance(0.5);
            raster::line(
                img,
                at(fx, 0.55),
                at(fx, if up { 0.42 } else { 0.7 }),
                w,
                ink,
            );
        }
        if rng.chance(0.4) {
            raster::polyline(img, &[at(0.2, 0.8), at(0.8, 0.8), at(0.75, 0.97)], w, ink);
        }
    } else {
        // Hanzi-like: horizontals, verticals, sweeps and dots, maybe a box.
        for _ in 0..3 + rng.below(5) {
            let (a, b) = match rng.below(5) {
                0 | 1 => {
                    let fy = rng.range(0.05, 0.95);
                    (at(rng.range(0.0, 0.3), fy), at(rng.range(0.6, 1.0), fy))
                }
                2 => {
                    let fx = rng.range(0.15, 0.85);
                    (at(fx, rng.range(0.0, 0.3)), at(fx, rng.range(0.6, 1.0)))
                }
                3 => (
                    at(rng.range(0.4, 0.7), rng.range(0.1, 0.4)),
                    at(rng.range(0.0, 0.3), rng.range(0.7, 1.0)),
                ),
                _ => {
                    let (fx, fy) = (rng.range(0.2, 0.8), rng.range(0.2, 0.8));
                    (at(fx, fy), at(fx + 0.15, fy + 0.15))
                }
            };
            raster::line(img, a, b, w, ink);
        }
        if rng.chance(0.3) {
            raster::frame(
                img,
                [x + 0.25 * s, y + 0.5 * s, x + 0.75 * s, y + 0.95 * s],
                w,
                ink,
            );
        }
    }
}

/// Writes `n` pseudo-glyphs of size `s` from (`x`, `y`) rightwards.
pub(crate) fn text(
    img: &mut RgbImage,
    x: f32,
    y: f32,
    s: f32,
    n: u32,
    ink: [u8; 3],
    rng: &mut Rng,
) {
    for i in 0..n {
        glyph(img, x + i as f32 * s * 1.15, y, s, ink, rng);
    }
}

/// A boxed comment with one or two lines of text; returns its rectangle.
pub(crate) fn note_box(img: &mut RgbImage, x: f32, y: f32, s: f32, rng: &mut Rng) -> [f32; 4] {
    let ink = INKS[rng.below(6) as usize];
    let lines = 1 + rng.below(2);
    let chars = 3 + rng.below(6);
    let pad = 0.3 * s;
    let r = [
        x,
        y,
        x + pad * 2.0 + chars as f32 * s * 1.15,
        y + pad * 2.0 + lines as f32 * s * 1.3,
    ];
    if rng.chance(0.75) {
        raster::blend_rect(img, r, PAPERS[rng.below(4) as usize], rng.range(0.6, 0.95));
    }
    raster::frame(img, r, (s * 0.08).max(1.0), INKS[rng.below(6) as usize]);
    for l in 0..lines {
        let n = if l == 0 {
            chars
        } else {
            2 + rng.below(chars - 1)
        };
        text(img, x + pad, y + pad + l as f32 * s * 1.3, s, n, ink, rng);
    }
    r
}

/// An arrow from `a` to `b` with a filled head.
pub(crate) fn arrow(img: &mut RgbImage, a: (f32, f32), b: (f32, f32), w: f32, ink: [u8; 3]) {
    raster::line(img, a, b, w, ink);
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / len, dy / len);
    let h = w * 5.0;
    let base = (b.0 - ux * h, b.1 - uy * h);
    raster::polygon(
        img,
        &[
            b,
            (base.0 - uy * h * 0.6, base.1 + ux * h * 0.6),
            (base.0 + uy * h * 0.6, base.1 - ux * h * 0.6),
        ],
        ink,
    );
}

/// A wobbly pen stroke: a zigzag or loop drawn freehand.
fn pen(img: &mut RgbImage, c: (f32, f32), size: f32, ink: [u8; 3], rng: &mut Rng) {
    let n = 4 + rng.below(8);
    let pts: Vec<(f32, f32)> = (0..n)
        .map(|i| {
            let a = i as f32 * rng.range(0.8, 2.5);
            (
                c.0 + size * (a.cos() * rng.range(0.3, 1.0)),
                c.1 + size * (a.sin() * rng.range(0.3, 1.0)),
            )
        })
        .collect();
    raster::polyline(img, &pts, (size * 0.04).max(1.5), ink);
}

/// One random mark somewhere on `img`, sized for a frame `u` pixels high.
fn mark(img: &mut RgbImage, u: f32, rng: &mut Rng) {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let p = |r: &mut Rng| (r.range(0.0, w), r.range(0.0, h));
    let ink = INKS[rng.below(6) as usize];
    let thick = (u * rng.range(0.004, 0.012)).max(1.0);
    match rng.below(10) {
        0..=4 => {
            let s = u * rng.range(0.035, 0.07);
            note_box(
                img,
                rng.range(-0.05, 0.8) * w,
                rng.range(0.0, 0.9) * h,
                s,
                rng,
            );
        }
        5 | 6 => arrow(img, p(rng), p(rng), thick, ink),
        7 | 8 => {
            let (c, r) = (p(rng), u * rng.range(0.08, 0.25));
            raster::ring(img, c.0, c.1, r * rng.range(0.8, 1.3), r, thick, ink);
        }
        _ => pen(img, p(rng), u * rng.range(0.05, 0.15), ink, rng),
    }
}

/// Fraction of pixels of `a` that differ from `b` (same dimensions).
pub(crate) fn changed(a: &RgbImage, b: &RgbImage) -> f32 {
    let n = a.pixels().zip(b.pixels()).filter(|(p, q)| p != q).count();
    n as f32 / (a.width() as f32 * a.height() as f32).max(1.0)
}

/// Covers about `coverage` (0..1) of the frame with retake notes.
pub(crate) fn overlay(img: &RgbImage, coverage: f32, rng: &mut Rng) -> RgbImage {
    let mut out = img.clone();
    let u = img.height() as f32;
    for _ in 0..60 {
        if changed(&out, img) >= coverage {
            break;
        }
        mark(&mut out, u, rng);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::Series;

    #[test]
    fn glyphs_stay_in_their_cell() {
        for seed in 0..50 {
            let mut img = RgbImage::new(60, 60);
            glyph(&mut img, 20.0, 20.0, 20.0, [255; 3], &mut Rng::new(seed));
            let inked: Vec<(u32, u32)> = img
                .enumerate_pixels()
                .filter(|p| p.2.0 != [0; 3])
                .map(|p| (p.0, p.1))
                .collect();
            assert!(inked.len() > 15, "seed {seed}: {} pixels", inked.len());
            assert!(
                inked
                    .iter()
                    .all(|&(x, y)| (17..44).contains(&x) && (17..44).contains(&y)),
                "seed {seed}"
            );
        }
    }

    #[test]
    fn overlay_covers_about_the_requested_share() {
        let img = Series::new(5).frame(3.0, 320, 180);
        for (seed, coverage) in [(1, 0.1), (2, 0.2), (3, 0.35)] {
            let out = overlay(&img, coverage, &mut Rng::new(seed));
            assert_eq!(out.dimensions(), img.dimensions());
            let got = changed(&out, &img);
            assert!(
                got >= coverage && got < coverage + 0.15,
                "asked {coverage}, got {got}"
            );
        }
    }
}

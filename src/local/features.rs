//! Keypoint detection and binary description (ORB-style).
//!
//! Global hashes break as soon as a leak is cropped, padded or scribbled on;
//! local features survive because each one only looks at a 31x31 patch. This
//! module finds FAST-9 corners on a scale pyramid, ranks them by Harris
//! response with a per-cell cap (so the corners of a retake note's text box
//! cannot eat the whole budget), orients them by intensity centroid and
//! describes them with a 256-bit steered BRIEF whose sampling pattern is
//! generated here, deterministically, with mirror-paired bits so that a
//! horizontally flipped image only permutes descriptor bits.

use super::sampling::{self, box_sums, describe, resize_bilinear};
use super::{Keypoint, Margins};
use image::GrayImage;

/// Tuning knobs of [`FeatureExtractor`].
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractorParams {
    /// Maximum keypoints kept per image, over all pyramid levels.
    pub max_keypoints: usize,
    /// Number of pyramid levels (level 0 is the input image).
    pub levels: usize,
    /// Downscale factor between consecutive levels.
    pub scale_factor: f32,
    /// FAST intensity threshold (0..255).
    pub fast_threshold: u8,
    /// Side in pixels of the bucketing grid cells.
    pub cell: u32,
    /// Describe keypoints relative to their dominant orientation (steered
    /// BRIEF); `false` gives upright BRIEF (more distinctive, +-10 degrees).
    pub oriented: bool,
}

impl Default for ExtractorParams {
    fn default() -> Self {
        Self {
            max_keypoints: 600,
            levels: 6,
            scale_factor: 1.25,
            fast_threshold: 16,
            cell: 40,
            oriented: true,
        }
    }
}

/// Angle bins of the pre-rotated sampling patterns (12 degrees each).
const ANGLE_BINS: usize = 30;
/// Keypoints need this margin so rotated samples and the centroid stay inside.
const BORDER: i32 = 16;
/// Bresenham circle of radius 3 used by the FAST segment test.
const CIRCLE: [(i32, i32); 16] = [
    (0, -3),
    (1, -3),
    (2, -2),
    (3, -1),
    (3, 0),
    (3, 1),
    (2, 2),
    (1, 3),
    (0, 3),
    (-1, 3),
    (-2, 2),
    (-3, 1),
    (-3, 0),
    (-3, -1),
    (-2, -2),
    (-1, -3),
];

/// Detects and describes keypoints; keeps its buffers between calls.
pub struct FeatureExtractor {
    params: ExtractorParams,
    /// Per angle bin: 256 sample pairs as (dx1, dy1, dx2, dy2).
    patterns: Vec<[[i8; 4]; 256]>,
    level: Vec<u8>,
    next: Vec<u8>,
    boxes: Vec<u16>,
    box_rows: Vec<u16>,
    score: Vec<u16>,
    candidates: Vec<(f32, i32, i32)>,
}

impl FeatureExtractor {
    /// Builds an extractor and its sampling patterns.
    pub fn new(params: ExtractorParams) -> Self {
        let patterns = sampling::rotated_patterns(params.oriented, ANGLE_BINS);
        Self {
            params,
            patterns,
            level: Vec::new(),
            next: Vec::new(),
            boxes: Vec::new(),
            box_rows: Vec::new(),
            score: Vec::new(),
            candidates: Vec::new(),
        }
    }

    /// Finds and describes up to `max_keypoints` keypoints in `grey`;
    /// coordinates are in `grey`'s pixels.
    pub fn extract(&mut self, grey: &GrayImage) -> Vec<Keypoint> {
        self.extract_into(grey, None)
    }

    /// [`FeatureExtractor::extract`], also pushing each keypoint's test
    /// margins ([`Margins`]) to `margins`, in keypoint order.
    pub fn extract_with_margins(
        &mut self,
        grey: &GrayImage,
        margins: &mut Vec<Margins>,
    ) -> Vec<Keypoint> {
        margins.clear();
        self.extract_into(grey, Some(margins))
    }

    fn extract_into(
        &mut self,
        grey: &GrayImage,
        mut margins: Option<&mut Vec<Margins>>,
    ) -> Vec<Keypoint> {
        let p = self.params.clone();
        let (mut w, mut h) = (grey.width() as usize, grey.height() as usize);
        self.level.clear();
        self.level.extend_from_slice(grey.as_raw());
        let weights: Vec<f32> = (0..p.levels)
            .map(|l| p.scale_factor.powi(-2 * l as i32))
            .collect();
        let total: f32 = weights.iter().sum();
        let mut out = Vec::new();
        let mut scale = 1.0f32;
        for weight in weights {
            if w < 2 * BORDER as usize + 8 || h < 2 * BORDER as usize + 8 {
                break;
            }
            let budget = ((p.max_keypoints as f32 * weight / total).ceil() as usize).max(1);
            self.detect(w, h, budget);
            box_sums(&self.level, &mut self.boxes, &mut self.box_rows, w, h);
            for &(_, x, y) in &self.candidates {
                let angle = if p.oriented {
                    centroid_angle(&self.level, w, x, y)
                } else {
                    0.0
                };
                let bin = (angle / std::f32::consts::TAU * ANGLE_BINS as f32).round() as usize
                    % ANGLE_BINS;
                let slot = margins.as_deref_mut().map(|m| {
                    m.push([0; 256]);
                    let last = m.len() - 1;
                    &mut m[last]
                });
                let desc = describe(&self.boxes, w, x, y, &self.patterns[bin], slot);
                let angle = if p.oriented {
                    bin as f32 * std::f32::consts::TAU / ANGLE_BINS as f32
                } else {
                    0.0
                };
                out.push(Keypoint {
                    x: (x as f32 + 0.5) * scale - 0.5,
                    y: (y as f32 + 0.5) * scale - 0.5,
                    scale,
                    angle,
                    desc,
                });
            }
            let (nw, nh) = (
                (w as f32 / p.scale_factor) as usize,
                (h as f32 / p.scale_factor) as usize,
            );
            resize_bilinear(&self.level, w, h, &mut self.next, nw, nh);
            std::mem::swap(&mut self.level, &mut self.next);
            (w, h) = (nw, nh);
            scale *= p.scale_factor;
        }
        out
    }

    /// Fills `candidates` with the best `budget` corners of the current level.
    fn detect(&mut self, w: usize, h: usize, budget: usize) {
        let (img, t) = (&self.level, self.params.fast_threshold as i16);
        let offs: [isize; 16] = CIRCLE.map(|(dx, dy)| dy as isize * w as isize + dx as isize);
        // All zero between calls (the corners' entries are reset below), so
        // only growth is paid for: clearing the whole plane on every level
        // was 3% of indexing time.
        let score = &mut self.score;
        if score.len() < w * h {
            score.resize(w * h, 0);
        }
        let b = BORDER as usize;
        let tu = self.params.fast_threshold;
        let mut pass = vec![0u8; w - 2 * b];
        let mut corners = Vec::new();
        let arcs = arc_table();
        for y in b..h - b {
            // A necessary condition first, on whole rows (auto-vectorised;
            // [`arc_possible`]): the ring holds the even circle points,
            // then the odd ones. Saturating u8 bounds give the same
            // answers as the exact ones (a bound past 0 or 255 cannot be
            // exceeded).
            let row = y * w + b;
            let len = w - 2 * b;
            let centre = &img[row..row + len];
            let ring: [&[u8]; 16] = std::array::from_fn(|k| {
                let o = row.wrapping_add_signed(offs[(2 * k) % 16 + k / 8]);
                &img[o..o + len]
            });
            for (k, p) in pass.iter_mut().enumerate() {
                let c = centre[k];
                let (hi, lo) = (c.saturating_add(tu), c.saturating_sub(tu));
                let b: [u8; 16] = std::array::from_fn(|j| (ring[j][k] > hi) as u8);
                let d: [u8; 16] = std::array::from_fn(|j| (ring[j][k] < lo) as u8);
                *p = (arc_possible(&b) | arc_possible(&d)) as u8;
            }
            // Few pixels pass: skip eight at a time where none did.
            let passed = pass.chunks(8).enumerate().flat_map(|(c, chunk)| {
                let mut word = [0u8; 8];
                word[..chunk.len()].copy_from_slice(chunk);
                let mut bits = u64::from_le_bytes(word);
                std::iter::from_fn(move || {
                    (bits != 0).then(|| {
                        let k = bits.trailing_zeros() as usize / 8;
                        bits &= bits - 1;
                        8 * c + k
                    })
                })
            });
            for k in passed {
                let i = row + k;
                let c = img[i] as i16;
                let mut d = [0i16; 16];
                let (mut bm, mut dm) = (0u32, 0u32);
                for (k, (d, &o)) in d.iter_mut().zip(&offs).enumerate() {
                    *d = img[i.wrapping_add_signed(o)] as i16 - c;
                    bm |= ((*d > t) as u32) << k;
                    dm |= ((*d < -t) as u32) << k;
                }
                if has_arc(arcs, bm) || has_arc(arcs, dm) {
                    let sum: u16 = d.iter().map(|&d| (d.abs() - t).max(0) as u16).sum();
                    score[i] = sum.max(1);
                    corners.push(i);
                }
            }
        }
        let score = &self.score;
        self.candidates.clear();
        // Non-maximum suppression over the corners found, in raster order.
        for &i in &corners {
            let s = score[i];
            let is_max = (-1..=1isize).all(|dy| {
                (-1..=1isize).all(|dx| {
                    let n = score[i.wrapping_add_signed(dy * w as isize + dx)];
                    n < s || (n == s && (dy, dx) >= (0, 0))
                })
            });
            if is_max {
                let (x, y) = ((i % w) as i32, (i / w) as i32);
                self.candidates.push((harris(img, w, x, y), x, y));
            }
        }
        for &i in &corners {
            self.score[i] = 0;
        }
        self.candidates
            .sort_by(|a, b| b.0.total_cmp(&a.0).then((a.2, a.1).cmp(&(b.2, b.1))));
        // Grid bucketing: first pass caps each cell, second pass fills up.
        let cell = self.params.cell as usize;
        let (gw, gh) = (w.div_ceil(cell), h.div_ceil(cell));
        let cap = (2 * budget).div_ceil(gw * gh).max(2);
        let mut count = vec![0usize; gw * gh];
        let mut taken = vec![false; self.candidates.len()];
        let mut kept = Vec::with_capacity(budget);
        for (k, &(_, x, y)) in self.candidates.iter().enumerate() {
            let g = (y as usize / cell) * gw + x as usize / cell;
            if kept.len() < budget && count[g] < cap {
                count[g] += 1;
                taken[k] = true;
                kept.push(self.candidates[k]);
            }
        }
        for (k, c) in self.candidates.iter().enumerate() {
            if kept.len() >= budget {
                break;
            }
            if !taken[k] {
                kept.push(*c);
            }
        }
        self.candidates = kept;
    }
}

/// Whether the 16 circle points `p` marks (1 where brighter, or darker,
/// than the centre by the threshold; even points 0, 2, .., 14 first, then
/// odd points 1, 3, .., 15) may hold a 9-point arc: a necessary condition.
/// Nine consecutive points hold two or three points of each class modulo
/// 4, consecutive ones, so each class must have two neighbours marked.
/// It rejects the thin lines cartoons are drawn with (two opposite sides
/// marked) and arcs of up to 7 points, which the full test would have to.
#[inline(always)]
pub(super) fn arc_possible(p: &[u8; 16]) -> bool {
    let neighbours = |a: usize| {
        (p[a] & p[a + 2]) | (p[a + 2] & p[a + 4]) | (p[a + 4] & p[a + 6]) | (p[a + 6] & p[a])
    };
    neighbours(0) & neighbours(1) & neighbours(8) & neighbours(9) == 1
}

/// Bit `m` is set when the 16-bit circular mask `m` holds 9 contiguous set
/// bits ([`arc_in`]): 8 KiB, filled once.
pub(super) fn arc_table() -> &'static [u64] {
    static TABLE: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = vec![0u64; (1 << 16) / 64];
        for m in 0..1u32 << 16 {
            t[m as usize / 64] |= u64::from(arc_in(m)) << (m % 64);
        }
        t
    })
}

/// [`arc_in`] of a 16-bit `mask`, read from [`arc_table`].
#[inline(always)]
fn has_arc(table: &[u64], mask: u32) -> bool {
    let m = (mask & 0xffff) as usize;
    (table[m / 64] >> (m % 64)) & 1 == 1
}

/// True when the 16-bit circular mask holds 9 contiguous set bits: the
/// mask and its wrap-around, shifted and anded eight times, keeps a bit
/// only where nine in a row were set.
pub(super) fn arc_in(mask: u32) -> bool {
    let mut m = mask | (mask << 16);
    for _ in 0..8 {
        m &= m >> 1;
    }
    m != 0
}

/// Harris corner response over a 7x7 window of central differences.
///
/// The window sums are integers below 2^22, which f32 holds exactly, so
/// summing in i32 (which vectorises) gives the f32 sums bit for bit.
fn harris(img: &[u8], w: usize, x: i32, y: i32) -> f32 {
    let (mut a, mut b, mut c) = (0i32, 0i32, 0i32);
    let (x, y) = (x as usize, y as usize);
    for dy in 0..7 {
        let row = (y + dy - 3) * w + x - 4;
        let (up, mid, down) = (
            &img[row - w + 1..row - w + 8],
            &img[row..row + 9],
            &img[row + w + 1..row + w + 8],
        );
        for k in 0..7 {
            let ix = i32::from(mid[k + 2]) - i32::from(mid[k]);
            let iy = i32::from(down[k]) - i32::from(up[k]);
            a += ix * ix;
            b += iy * iy;
            c += ix * iy;
        }
    }
    let (a, b, c) = (a as f32, b as f32, c as f32);
    (a * b - c * c) - 0.04 * (a + b) * (a + b)
}

/// Dominant orientation from the intensity centroid of a radius-15 disc.
fn centroid_angle(img: &[u8], w: usize, x: i32, y: i32) -> f32 {
    // Weights 0..31 from the row's left end: the moment about the centre is
    // then `weighted - half * sum`. A constant ramp (rather than a signed
    // counter) lets the row loop vectorise; i32 is enough
    // (|sum| < 31 * 255 * 709).
    const RAMP: [i32; 31] = {
        let mut r = [0; 31];
        let mut i = 0;
        while i < 31 {
            r[i] = i as i32;
            i += 1;
        }
        r
    };
    let (mut mx, mut my) = (0i32, 0i32);
    for dy in -15i32..=15 {
        let half = (225 - dy * dy).isqrt();
        let row = (y + dy) as usize * w;
        let start = row + (x - half) as usize;
        let pixels = &img[start..=start + 2 * half as usize];
        let (mut sum, mut weighted) = (0i32, 0i32);
        for (&i, &v) in RAMP.iter().zip(pixels) {
            sum += v as i32;
            weighted += i * v as i32;
        }
        mx += weighted - half * sum;
        my += dy * sum;
    }
    (my as f32)
        .atan2(mx as f32)
        .rem_euclid(std::f32::consts::TAU)
}

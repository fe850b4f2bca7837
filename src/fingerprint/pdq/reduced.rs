//! PDQ's 64x64 decimation computed from a reduced-scale decode, filtered as
//! the full-size image would have been.
//!
//! A JPEG decoded at 1/8 scale in the IDCT gives one pixel per 8x8 block:
//! the block's mean. Running PDQ's own filter on that small image is not
//! the same filter: its Jarosz window shrinks to 2 samples (an even window,
//! so the tent moves by a whole reduced pixel, 8 full-size pixels) and the
//! 64 decimation points snap to the coarse grid. On 1080p stills that
//! costs a median of 24 bits against the full decode. Here the reduced
//! image is instead treated as piecewise constant over the full-size grid:
//! each of the 64 samples along an axis gets the weights the full-size
//! two-pass box filter gives each full-size pixel, summed per reduced
//! pixel. Exact where each block is flat, close otherwise, and for a
//! full-size input it is PDQ's own linear filter (up to float rounding).

use super::dsp::{SIDE, samples, window_size};

/// Sparse 64 x `reduced` filter for one axis: per decimation sample, the
/// first reduced index it reads and the weights from there on.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct AxisWeights {
    /// Full-size and reduced lengths this filter was built for.
    pub key: (usize, usize),
    rows: Vec<(usize, Vec<f32>)>,
}

impl AxisWeights {
    /// Weights for an axis of `full` samples decoded as `reduced` samples
    /// (reduced pixel `k` covers full-size pixels `p` with
    /// `p * reduced / full == k`).
    pub fn new(full: usize, reduced: usize) -> Self {
        let window = window_size(full, SIDE);
        let half = (window + 2) / 2;
        // The reference box1DFloat averages `[q - (window - half), q + half - 1]`,
        // clipped to the axis, at output position q.
        let span = |q: usize| {
            let lo = q.saturating_sub(window - half);
            let hi = (q + half - 1).min(full - 1);
            (lo, hi)
        };
        let to_reduced = |p: usize| (p * reduced / full).min(reduced - 1);
        let rows = samples(full)
            .iter()
            .map(|&s| {
                let mut full_weights = std::collections::BTreeMap::<usize, f64>::new();
                let (lo, hi) = span(s);
                let outer = 1.0 / (hi - lo + 1) as f64;
                for q in lo..=hi {
                    let (a, b) = span(q);
                    let inner = outer / (b - a + 1) as f64;
                    for p in a..=b {
                        *full_weights.entry(to_reduced(p)).or_default() += inner;
                    }
                }
                let first = full_weights.keys().next().copied().unwrap_or(0);
                let last = full_weights.keys().last().copied().unwrap_or(0);
                let mut dense = vec![0.0_f32; last - first + 1];
                for (k, w) in full_weights {
                    dense[k - first] = w as f32;
                }
                (first, dense)
            })
            .collect();
        Self {
            key: (full, reduced),
            rows,
        }
    }
}

/// The 64x64 decimated image of `luma` (`width` x `height`, standing for a
/// full-size image measured by `cols` and `rows`), written to `b64`;
/// `tmp` is scratch.
pub(super) fn decimate(
    luma: &[f32],
    width: usize,
    cols: &AxisWeights,
    rows: &AxisWeights,
    tmp: &mut Vec<f32>,
    b64: &mut [f32],
) {
    let height = luma.len() / width;
    // Along rows: every input row to 64 columns.
    tmp.clear();
    tmp.resize(height * SIDE, 0.0);
    for (line, out) in luma.chunks_exact(width).zip(tmp.chunks_exact_mut(SIDE)) {
        for (o, (first, w)) in out.iter_mut().zip(&cols.rows) {
            *o = line[*first..*first + w.len()]
                .iter()
                .zip(w)
                .map(|(&x, &k)| x * k)
                .sum();
        }
    }
    // Down columns: 64 output rows, each a weighted sum of input rows.
    for (out, (first, w)) in b64.chunks_exact_mut(SIDE).zip(&rows.rows) {
        out.fill(0.0);
        for (line, &k) in tmp[first * SIDE..].chunks_exact(SIDE).zip(w) {
            out.iter_mut().zip(line).for_each(|(o, &x)| *o += k * x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::PdqHasher;
    use super::*;
    use crate::synth::Series;
    use image::RgbImage;

    #[test]
    fn weights_sum_to_one_and_stay_in_range() {
        for (full, reduced) in [(1080, 135), (1920, 240), (1081, 136), (300, 300), (64, 8)] {
            let w = AxisWeights::new(full, reduced);
            assert_eq!(w.rows.len(), SIDE);
            for (first, row) in &w.rows {
                assert!(first + row.len() <= reduced, "{full}->{reduced}");
                let sum: f32 = row.iter().sum();
                assert!((sum - 1.0).abs() < 1e-5, "{full}->{reduced}: {sum}");
            }
        }
    }

    /// `rgb` (`w` x `h`) reduced by `f`: each pixel the rounded mean of
    /// an `f` x `f` block, like a JPEG decoded at 1/`f` in the IDCT.
    fn block_means(rgb: &[u8], w: usize, h: usize, f: usize) -> Vec<u8> {
        let (rw, rh) = (w / f, h / f);
        let mut out = vec![0u8; rw * rh * 3];
        for (i, px) in out.iter_mut().enumerate() {
            let (c, x, y) = (i % 3, (i / 3) % rw, i / 3 / rw);
            let sum: usize = (0..f * f)
                .map(|k| usize::from(rgb[((y * f + k / f) * w + x * f + k % f) * 3 + c]))
                .sum();
            *px = ((sum + f * f / 2) / (f * f)) as u8;
        }
        out
    }

    #[test]
    fn reduced_hash_follows_the_full_size_filter() {
        // Frames whose 8x8 blocks are flat lose nothing at 1/8, so the
        // reduced path must land where the full-size hash is; PDQ run on
        // the small image as it is lands further away.
        let mut pdq = PdqHasher::new();
        for seed in 0..4 {
            let frame = Series::new(seed).frame(seed as f32 * 5.0, 640, 360);
            let small = block_means(frame.as_raw(), 640, 360, 8);
            let flat = image::imageops::resize(
                &RgbImage::from_raw(80, 45, small.clone()).expect("80x45"),
                640,
                360,
                image::imageops::FilterType::Nearest,
            );
            let full = pdq.hash_rgb8(flat.as_raw(), 640, 360);
            let reduced = pdq.hash_rgb8_reduced(&small, (80, 45), (640, 360));
            let plain = pdq.hash_rgb8(&small, 80, 45);
            let (near, far) = (
                full.hash.hamming(&reduced.hash),
                full.hash.hamming(&plain.hash),
            );
            assert!(near <= 6, "seed {seed}: reduced path {near} bits away");
            assert!(near < far, "seed {seed}: reduced {near} vs plain {far}");
            assert!(full.quality.abs_diff(reduced.quality) <= 2, "seed {seed}");
        }
    }

    #[test]
    fn full_size_input_is_the_reference_path() {
        let mut pdq = PdqHasher::new();
        let frame = Series::new(9).frame(1.0, 96, 80);
        let direct = pdq.hash_rgb8(frame.as_raw(), 96, 80);
        assert_eq!(
            pdq.hash_rgb8_reduced(frame.as_raw(), (96, 80), (96, 80)),
            direct
        );
    }

    #[test]
    fn even_window_is_not_shifted() {
        // At 1/8 of 1080 rows PDQ's own window would be 2 reduced rows; the
        // weights follow the full-size window (9 rows) instead: the first
        // sample (full row 8) reads full rows 0..=16, i.e. reduced rows
        // 0..=2, with most weight on row 1 (full rows 8..=15).
        let w = AxisWeights::new(1080, 135);
        let (first, row) = &w.rows[0];
        assert_eq!(*first, 0);
        assert_eq!(row.len(), 3);
        assert!(row[1] > row[0] && row[1] > row[2], "{row:?}");
    }
}

//! The numeric core of PDQ, step by step as in Meta's C++ reference
//! (`pdq/cpp/downscaling/downscaling.cpp`, `pdq/cpp/hashing/pdqhashing.cpp`,
//! `torben.cpp`), kept apart from the public types so every float operation
//! can be checked against the reference in one place.
//!
//! Bit-compatibility rules followed here: every buffer is `f32`; sums run in
//! the same order as the C++ loops (the column filter only changes the loop
//! nesting, not the sequence of operations on any one value); divisions stay
//! divisions; nothing is fused into an FMA.

/// Rows of the decimated image and side of the square DCT input.
pub(super) const SIDE: usize = 64;
/// Side of the kept DCT block (frequencies 1..=16 in both directions).
pub(super) const DCT_SIDE: usize = 16;

/// The 16x64 DCT-II basis, row-major, as `fill_dct_matrix_64_cached` builds
/// it: a float scale factor times a double cosine, rounded to float.
pub(super) fn dct_matrix() -> Vec<f32> {
    let scale = (2.0_f64 / 64.0).sqrt() as f32;
    let mut matrix = Vec::with_capacity(DCT_SIDE * SIDE);
    for i in 0..DCT_SIDE {
        for j in 0..SIDE {
            let angle = (std::f64::consts::PI / 2.0 / 64.0) * (i + 1) as f64 * (2 * j + 1) as f64;
            matrix.push((f64::from(scale) * angle.cos()) as f32);
        }
    }
    matrix
}

/// PDQ's box-filter window for shrinking `old` samples to `new`: half of
/// the decimation step, rounded up (two passes make a tent).
pub(super) fn window_size(old: usize, new: usize) -> usize {
    old.div_ceil(2 * new)
}

/// Phase lengths of the reference `box1DFloat`: warm-up adds, writes while
/// the window grows, full-window writes, writes while it shrinks.
fn phases(len: usize, window: usize) -> [usize; 4] {
    let half = (window + 2) / 2;
    [
        half - 1,
        window - half + 1,
        len.saturating_sub(window),
        half - 1,
    ]
}

/// Where a box-filter pass writes: every output position (`All`), or only
/// the decimation samples, packed densely in sample order (`Samples`).
#[derive(Clone, Copy)]
pub(super) enum Keep<'a> {
    /// Write every position.
    All,
    /// Write only these (sorted, possibly repeated) positions.
    Samples(&'a [usize]),
}

/// The 64 positions `decimateFloat` reads along a side of `n` samples.
pub(super) fn samples(n: usize) -> [usize; SIDE] {
    std::array::from_fn(|o| (((o as f64 + 0.5) * n as f64) / SIDE as f64) as usize)
}

/// One-dimensional running-mean filter along each row (`boxAlongRowsFloat`).
/// Rows run eight at a time, one running sum per row, so the sums' add
/// chains overlap; each row still sees the reference's exact operations.
/// With `Keep::Samples` each output row holds only the sampled columns.
pub(super) fn box_rows(input: &[f32], out: &mut [f32], cols: usize, window: usize, keep: Keep) {
    let width = match keep {
        Keep::All => cols,
        Keep::Samples(s) => s.len(),
    };
    let rows = input.len() / cols;
    let mut r = 0;
    while r < rows {
        let src = &input[r * cols..];
        let dst = &mut out[r * width..];
        if rows - r >= 8 {
            box_row_block::<8>(src, dst, cols, width, window, keep);
            r += 8;
        } else {
            box_row_block::<1>(src, dst, cols, width, window, keep);
            r += 1;
        }
    }
}

/// `box1DFloat` on `L` consecutive rows of `src` at once.
fn box_row_block<const L: usize>(
    src: &[f32],
    dst: &mut [f32],
    cols: usize,
    width: usize,
    window: usize,
    keep: Keep,
) {
    let at = |i: usize| -> [f32; L] { std::array::from_fn(|r| src[r * cols + i]) };
    let mut next = 0;
    run_box(
        cols,
        window,
        [0.0_f32; L],
        |add, sub, sum: &mut [f32; L], oi, n| {
            if let Some(i) = add {
                sum.iter_mut().zip(at(i)).for_each(|(s, x)| *s += x);
            }
            if let Some(i) = sub {
                sum.iter_mut().zip(at(i)).for_each(|(s, x)| *s -= x);
            }
            let Some(oi) = oi else { return };
            let mut write = |j: usize| (0..L).for_each(|r| dst[r * width + j] = sum[r] / n as f32);
            match keep {
                Keep::All => write(oi),
                Keep::Samples(s) => {
                    while s.get(next) == Some(&oi) {
                        write(next);
                        next += 1;
                    }
                }
            }
        },
    );
}

/// The reference's four-phase schedule for one vector of `len` samples:
/// calls `step(add, subtract, acc, output position, window count)` in the
/// reference's order (add before subtract).
fn run_box<A>(
    len: usize,
    window: usize,
    mut acc: A,
    mut step: impl FnMut(Option<usize>, Option<usize>, &mut A, Option<usize>, usize),
) {
    let [p1, p2, p3, p4] = phases(len, window);
    let (mut count, mut li, mut ri, mut oi) = (0_usize, 0, 0, 0);
    for _ in 0..p1 {
        count += 1;
        step(Some(ri), None, &mut acc, None, count);
        ri += 1;
    }
    for _ in 0..p2 {
        count += 1;
        step(Some(ri), None, &mut acc, Some(oi), count);
        (ri, oi) = (ri + 1, oi + 1);
    }
    for _ in 0..p3 {
        step(Some(ri), Some(li), &mut acc, Some(oi), count);
        (li, ri, oi) = (li + 1, ri + 1, oi + 1);
    }
    for _ in 0..p4 {
        count -= 1;
        step(None, Some(li), &mut acc, Some(oi), count);
        (li, oi) = (li + 1, oi + 1);
    }
}

/// One-dimensional running-mean filter down each column
/// (`boxAlongColsFloat`), swept row by row with one accumulator per column
/// so memory is read in order; each column sees the reference's exact
/// sequence of adds, subtracts and divisions. With `Keep::Samples` only the
/// sampled rows are written, densely.
pub(super) fn box_cols(
    input: &[f32],
    out: &mut [f32],
    cols: usize,
    window: usize,
    sums: &mut Vec<f32>,
    keep: Keep,
) {
    let rows = input.len() / cols;
    let row = |r: usize| &input[r * cols..(r + 1) * cols];
    sums.clear();
    sums.resize(cols, 0.0);
    let mut next = 0;
    run_box(rows, window, (), |add, sub, _: &mut (), oi, n| {
        if let Some(r) = add {
            sums.iter_mut().zip(row(r)).for_each(|(s, &x)| *s += x);
        }
        if let Some(r) = sub {
            sums.iter_mut().zip(row(r)).for_each(|(s, &x)| *s -= x);
        }
        let Some(oi) = oi else { return };
        let mut write = |j: usize| {
            let dst = &mut out[j * cols..(j + 1) * cols];
            dst.iter_mut()
                .zip(sums.iter())
                .for_each(|(d, &s)| *d = s / n as f32);
        };
        match keep {
            Keep::All => write(oi),
            Keep::Samples(s) => {
                while s.get(next) == Some(&oi) {
                    write(next);
                    next += 1;
                }
            }
        }
    });
}

/// Gradient-sum quality heuristic on the 64x64 image
/// (`pdqImageDomainQualityMetric`), 0..=100.
pub(super) fn quality(b64: &[f32]) -> u8 {
    let step = |u: f32, v: f32| (((u - v) * 100.0) / 255.0) as i32;
    let mut sum = 0_i32;
    for i in 0..SIDE - 1 {
        for j in 0..SIDE {
            sum += step(b64[i * SIDE + j], b64[(i + 1) * SIDE + j]).abs();
        }
    }
    for i in 0..SIDE {
        for j in 0..SIDE - 1 {
            sum += step(b64[i * SIDE + j], b64[i * SIDE + j + 1]).abs();
        }
    }
    (sum / 90).min(100) as u8
}

/// `B = D A Dt` keeping frequencies 1..=16 (`dct64To16`), `tmp` is 16x64.
pub(super) fn dct64_to_16(d: &[f32], a: &[f32], tmp: &mut [f32], b: &mut [f32]) {
    for (i, trow) in tmp.chunks_exact_mut(SIDE).enumerate() {
        trow.fill(0.0);
        for (k, arow) in a.chunks_exact(SIDE).enumerate() {
            let dk = d[i * SIDE + k];
            trow.iter_mut().zip(arow).for_each(|(t, &x)| *t += dk * x);
        }
    }
    for (i, brow) in b.chunks_exact_mut(DCT_SIDE).enumerate() {
        let trow = &tmp[i * SIDE..(i + 1) * SIDE];
        for (j, out) in brow.iter_mut().enumerate() {
            let drow = &d[j * SIDE..(j + 1) * SIDE];
            *out = trow.iter().zip(drow).fold(0.0_f32, |s, (&t, &x)| s + t * x);
        }
    }
}

/// Torben Mogensen's median as in the reference `torben()`; for 256 values
/// it returns the 128th smallest, but it is ported literally so ties and
/// float rounding of `guess` behave identically.
fn torben(m: &[f32]) -> f32 {
    let n = m.len();
    let half = n.div_ceil(2);
    let (mut min, mut max) = (m[0], m[0]);
    for &x in &m[1..] {
        if x < min {
            min = x;
        }
        if x > max {
            max = x;
        }
    }
    loop {
        let guess = (min + max) / 2.0;
        let (mut less, mut greater, mut equal) = (0, 0, 0);
        let (mut max_lt, mut min_gt) = (min, max);
        for &x in m {
            if x < guess {
                less += 1;
                if x > max_lt {
                    max_lt = x;
                }
            } else if x > guess {
                greater += 1;
                if x < min_gt {
                    min_gt = x;
                }
            } else {
                equal += 1;
            }
        }
        if less <= half && greater <= half {
            return if less >= half {
                max_lt
            } else if less + equal >= half {
                guess
            } else {
                min_gt
            };
        } else if less > greater {
            max = max_lt;
        } else {
            min = min_gt;
        }
    }
}

/// Sets bit `i*16+j` where coefficient `(i, j)` exceeds the median
/// (`pdqBuffer16x16ToBits`); bit k lives in word `3 - k/64` at `k % 64`,
/// which is ThreatExchange's hex order.
pub(super) fn to_bits(b: &[f32]) -> [u64; 4] {
    let median = torben(b);
    let mut words = [0_u64; 4];
    for (k, &x) in b.iter().enumerate() {
        if x > median {
            words[3 - k / 64] |= 1 << (k % 64);
        }
    }
    words
}

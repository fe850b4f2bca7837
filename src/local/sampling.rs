//! Pixel sampling shared by the detector and the descriptor.
//!
//! BRIEF compares smoothed intensities at fixed offsets; box means read from
//! an integral image give that smoothing at four lookups per sample, much
//! cheaper than blurring every pyramid level. The sampling pattern itself is
//! ours, generated from a fixed seed, and the pyramid uses a fixed-point
//! bilinear resize.

use super::{Margins, SplitMix};

/// The base pattern pre-rotated into `bins` orientations (offsets rounded to
/// pixels); upright mode transposes it so that mirror twins stay twins under
/// a horizontal flip.
pub(crate) fn rotated_patterns(oriented: bool, bins: usize) -> Vec<[[i8; 4]; 256]> {
    let base = base_pattern();
    (0..bins)
        .map(|bin| {
            let (s, c) = (bin as f32 * std::f32::consts::TAU / bins as f32).sin_cos();
            let mut out = [[0i8; 4]; 256];
            for (o, p) in out.iter_mut().zip(base.iter()) {
                for k in 0..2 {
                    let (x, y) = (p[2 * k], p[2 * k + 1]);
                    let (dx, dy) = if oriented {
                        (c * x - s * y, s * x + c * y)
                    } else {
                        (y, x)
                    };
                    o[2 * k] = dx.round() as i8;
                    o[2 * k + 1] = dy.round() as i8;
                }
            }
            out
        })
        .collect()
}

/// 256 binary tests between 5x5 box means (the smoothing BRIEF needs),
/// read from the integral image `ii` of row length `iw`. With `margins`,
/// also each test's margin: how far apart its two box sums are (in sums
/// of 25 pixels, saturated at 255), a measure of how easily noise flips it.
pub(crate) fn describe(
    ii: &[u32],
    iw: usize,
    x: i32,
    y: i32,
    pattern: &[[i8; 4]; 256],
    margins: Option<&mut Margins>,
) -> [u64; 4] {
    let at = |dx: i8, dy: i8| {
        let (x0, y0) = ((x + dx as i32 - 2) as usize, (y + dy as i32 - 2) as usize);
        let (top, bot) = (y0 * iw, (y0 + 5) * iw);
        ii[bot + x0 + 5]
            .wrapping_sub(ii[bot + x0])
            .wrapping_sub(ii[top + x0 + 5])
            .wrapping_add(ii[top + x0])
    };
    let mut desc = [0u64; 4];
    match margins {
        None => {
            for (bit, p) in pattern.iter().enumerate() {
                desc[bit / 64] |= ((at(p[0], p[1]) < at(p[2], p[3])) as u64) << (bit % 64);
            }
        }
        Some(m) => {
            for ((bit, p), m) in pattern.iter().enumerate().zip(m.iter_mut()) {
                let (a, b) = (at(p[0], p[1]), at(p[2], p[3]));
                desc[bit / 64] |= ((a < b) as u64) << (bit % 64);
                *m = a.abs_diff(b).min(255) as u8;
            }
        }
    }
    desc
}

/// Our own sampling pattern: 128 isotropic Gaussian pairs (sigma 6.5,
/// clipped to radius 13) from a fixed-seed PRNG; pair `2k+1` is pair `2k`
/// reflected across the patch x axis, so mirroring a keypoint swaps bits.
fn base_pattern() -> [[f32; 4]; 256] {
    let mut rng = SplitMix(0x6c6f_6361_6c21_0001);
    let mut gauss = || loop {
        let (u, v) = (rng.unit(), rng.unit());
        let g = (-2.0 * (u.max(1e-9)).ln()).sqrt() * (std::f32::consts::TAU * v).cos() * 6.5;
        if g.abs() <= 13.0 {
            return g;
        }
    };
    let mut out = [[0f32; 4]; 256];
    let mut k = 0;
    while k < 256 {
        let p = [gauss(), gauss(), gauss(), gauss()];
        let too_far = p[0].hypot(p[1]) > 13.0 || p[2].hypot(p[3]) > 13.0;
        if too_far
            || (p[0] - p[2]).hypot(p[1] - p[3]) < 2.0
            || (p[1].abs() < 0.5 && p[3].abs() < 0.5)
        {
            continue;
        }
        out[k] = p;
        out[k + 1] = [p[0], -p[1], p[2], -p[3]];
        k += 2;
    }
    out
}

/// Summed-area table with a zero first row and column.
pub(crate) fn integrate(src: &[u8], ii: &mut Vec<u32>, w: usize, h: usize) {
    ii.clear();
    ii.resize((w + 1) * (h + 1), 0);
    for (y, row) in src.chunks_exact(w.max(1)).take(h).enumerate() {
        let (above, below) = ii[y * (w + 1)..(y + 2) * (w + 1)].split_at_mut(w + 1);
        let mut run = 0u32;
        for ((out, &up), &v) in below[1..].iter_mut().zip(&above[1..]).zip(row) {
            run += v as u32;
            *out = up + run;
        }
    }
}

/// Bilinear resize of a grey buffer (pixel centres aligned, 8-bit weights).
pub(crate) fn resize_bilinear(
    src: &[u8],
    w: usize,
    h: usize,
    dst: &mut Vec<u8>,
    nw: usize,
    nh: usize,
) {
    dst.clear();
    dst.resize(nw * nh, 0);
    let taps = |n: usize, len: usize| -> Vec<(usize, usize, u32)> {
        let step = len as f32 / n.max(1) as f32;
        (0..n)
            .map(|i| {
                let f = ((i as f32 + 0.5) * step - 0.5).clamp(0.0, (len - 1) as f32);
                (
                    f as usize,
                    (f as usize + 1).min(len - 1),
                    (f.fract() * 256.0) as u32,
                )
            })
            .collect()
    };
    let (xs, ys) = (taps(nw, w), taps(nh, h));
    // Vertical blend of the two source rows first (whole rows, so it
    // vectorises), then the horizontal taps: the same integer sum as
    // blending each output pixel's four neighbours, so the same pixels.
    let mut blend = vec![0u32; w];
    for (row, &(y0, y1, ay)) in dst.chunks_exact_mut(nw.max(1)).zip(&ys) {
        let (r0, r1) = (&src[y0 * w..(y0 + 1) * w], &src[y1 * w..(y1 + 1) * w]);
        for ((b, &a), &c) in blend.iter_mut().zip(r0).zip(r1) {
            *b = a as u32 * (256 - ay) + c as u32 * ay;
        }
        for (d, &(x0, x1, ax)) in row.iter_mut().zip(&xs) {
            *d = ((blend[x0] * (256 - ax) + blend[x1] * ax + (1 << 15)) >> 16) as u8;
        }
    }
}

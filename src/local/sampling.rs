//! Pixel sampling shared by the detector and the descriptor.
//!
//! BRIEF compares smoothed intensities at fixed offsets; 5x5 box sums,
//! computed once per pyramid level in two separable passes, give that
//! smoothing at one lookup per sample. The sampling pattern itself is
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
/// read from the box sums `boxes` ([`box_sums`]) of an image `w` wide. With
/// `margins`, also each test's margin: how far apart its two box sums are
/// (in sums of 25 pixels, saturated at 255), a measure of how easily noise
/// flips it.
pub(crate) fn describe(
    boxes: &[u16],
    w: usize,
    x: i32,
    y: i32,
    pattern: &[[i8; 4]; 256],
    margins: Option<&mut Margins>,
) -> [u64; 4] {
    let at = |dx: i8, dy: i8| boxes[(y + dy as i32) as usize * w + (x + dx as i32) as usize];
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

/// The sum of the 5x5 box centred on each pixel of `src` (`w` x `h`), in
/// `boxes`; 0 within 2 pixels of the border, where no box fits. A test
/// reads one sum where a summed-area table needs four lookups, and the two
/// separable passes run over whole rows, so they vectorise.
/// `rows` is scratch space (the horizontal pass).
pub(crate) fn box_sums(src: &[u8], boxes: &mut Vec<u16>, rows: &mut Vec<u16>, w: usize, h: usize) {
    boxes.clear();
    boxes.resize(w * h, 0);
    rows.clear();
    rows.resize(w * h, 0);
    if w < 5 || h < 5 {
        return;
    }
    for (out, row) in rows.chunks_exact_mut(w).zip(src.chunks_exact(w)) {
        let n = w - 4;
        let s = |k: usize| row[k..k + n].iter();
        let sums = s(0).zip(s(1)).zip(s(2)).zip(s(3)).zip(s(4));
        for (o, ((((&a, &b), &c), &d), &e)) in out[2..2 + n].iter_mut().zip(sums) {
            *o = u16::from(a) + u16::from(b) + u16::from(c) + u16::from(d) + u16::from(e);
        }
    }
    for y in 2..h - 2 {
        let r = |k: usize| rows[(y + k - 2) * w..(y + k - 1) * w].iter();
        let sums = r(0).zip(r(1)).zip(r(2)).zip(r(3)).zip(r(4));
        for (o, ((((&a, &b), &c), &d), &e)) in boxes[y * w..(y + 1) * w].iter_mut().zip(sums) {
            *o = a + b + c + d + e;
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
    // The horizontal taps as (left pixel, weight of the right one), 8
    // bytes each: the right pixel is the next one, and `blend` repeats its
    // last pixel once, where the clamped right tap equals the left one
    // (with weight 0 there).
    let xs: Vec<(u32, u32)> = xs.iter().map(|&(x0, _, ax)| (x0 as u32, ax)).collect();
    // Vertical blend of the two source rows first (whole rows, so it
    // vectorises), then the horizontal taps: the same integer sum as
    // blending each output pixel's four neighbours, so the same pixels.
    let mut blend = vec![0u32; w + 1];
    for (row, &(y0, y1, ay)) in dst.chunks_exact_mut(nw.max(1)).zip(&ys) {
        let (r0, r1) = (&src[y0 * w..(y0 + 1) * w], &src[y1 * w..(y1 + 1) * w]);
        for ((b, &a), &c) in blend.iter_mut().zip(r0).zip(r1) {
            *b = a as u32 * (256 - ay) + c as u32 * ay;
        }
        blend[w] = blend[w.saturating_sub(1)];
        for (d, &(x0, ax)) in row.iter_mut().zip(&xs) {
            let pair = &blend[x0 as usize..x0 as usize + 2];
            *d = ((pair[0] * (256 - ax) + pair[1] * ax + (1 << 15)) >> 16) as u8;
        }
    }
}

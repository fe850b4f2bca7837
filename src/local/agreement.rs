//! Dense agreement: does the whole covered picture agree, not just a patch?
//!
//! Keypoint inliers prove that some patches of a frame sit where a
//! reference has them. Cartoons reuse assets (a character, a prop, a logo)
//! across series, so one shared sprite can give dozens of geometrically
//! valid inliers between two unrelated frames. What an unrelated frame
//! cannot reproduce is the rest of the picture: the other figures, the
//! background's edges. Here the query is warped onto a small thumbnail of
//! the reference through the fitted similarity (or stretch) and their edge maps are
//! compared over the covered area:
//!
//! - `recall`: the share of the reference's edges that the frame shows
//!   too (within a pixel, with a similar orientation). Retake notes, arrows
//!   and sheet borders *add* edges to a leak and only hide what they cover,
//!   so this stays high on annotated leaks; a shared sprite on another
//!   background explains only the sprite's share of the reference's edges.
//! - `precision`: the share of the frame's edges the reference explains
//!   (lowered by notes, and by an unrelated picture around a shared sprite).
//!
//! A leaked frame is usually not an indexed still but one between two of
//! them: the background has panned with the camera, which the fitted map
//! follows, but each figure has moved a little on its own. So `recall` and
//! `photometric` let each block of the thumbnail ([`MOTION_BLOCK`] pixels
//! square) move by up to [`MOTION_REACH`] pixels, the shift that explains
//! most of its reference edges. A shared sprite on another background
//! gains little from it: the background's edges and grey levels are not
//! anywhere nearby.
//!
//! Edge thresholds are relative to each image's own gradient level, so
//! brightness, contrast and gamma changes do not move them.

use fast_image_resize as fir;
use image::GrayImage;

use super::verify::Verification;

/// Long side of the reference thumbnail stored in the index.
pub const THUMB_LONG_SIDE: u32 = 160;
/// A pixel is an edge when its gradient magnitude is above this share of
/// the image's 90th-percentile magnitude (and above an absolute floor).
const EDGE_SHARE: f32 = 0.35;
/// Absolute floor of an edge's gradient magnitude (Sobel, grey levels).
const EDGE_FLOOR: f32 = 24.0;

/// How well the covered picture agrees with a reference.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Agreement {
    /// Share of the reference's edges (inside the covered area) the frame
    /// reproduces.
    pub recall: f32,
    /// Share of the frame's edges (warped onto the reference) the reference
    /// explains.
    pub precision: f32,
    /// Reference edge pixels inside the covered area (the evidence size).
    pub ref_edges: u32,
    /// Share of the covered area whose smoothed grey level the frame
    /// reproduces under one global affine grey mapping (fitted robustly):
    /// flat regions count here, where edges say nothing.
    pub photometric: f32,
}

/// A query's grey working image with its integral image, computed on
/// first use (most frames verify against no still, and never need it) and
/// shared by the agreement checks of all its candidates.
pub struct QueryImage {
    /// The grey working image.
    pub image: GrayImage,
    integral: std::sync::OnceLock<Vec<u32>>,
}

impl QueryImage {
    /// Wraps `image`.
    pub fn new(image: GrayImage) -> QueryImage {
        QueryImage {
            image,
            integral: std::sync::OnceLock::new(),
        }
    }

    /// The summed-area table, `(width + 1) * (height + 1)` with a zero
    /// first row and column.
    fn integral(&self) -> &[u32] {
        self.integral.get_or_init(|| {
            let (w, h) = (self.image.width() as usize, self.image.height() as usize);
            let iw = w + 1;
            let mut integral = vec![0u32; iw * (h + 1)];
            for y in 0..h {
                let mut row = 0u32;
                for x in 0..w {
                    row += self.image.as_raw()[y * w + x] as u32;
                    integral[(y + 1) * iw + x + 1] = integral[y * iw + x + 1] + row;
                }
            }
            integral
        })
    }
}

/// A reference thumbnail: grey, long side [`THUMB_LONG_SIDE`].
pub fn thumbnail(working: &GrayImage) -> GrayImage {
    let long = working.width().max(working.height()).max(1);
    let f = THUMB_LONG_SIDE as f32 / long as f32;
    let (w, h) = (
        ((working.width() as f32 * f).round() as u32).max(1),
        ((working.height() as f32 * f).round() as u32).max(1),
    );
    fast_triangle(working, w, h).unwrap_or_else(|| {
        image::imageops::resize(working, w, h, image::imageops::FilterType::Triangle)
    })
}

/// `working` resized to `w` x `h` by a triangle (bilinear convolution)
/// filter widened to the downscale, as `image::imageops::resize` with
/// `Triangle` computes it, through `fast_image_resize`'s fixed-point SIMD
/// kernels: the image crate's generic f32 resampler was 7% of indexing
/// time by itself. `None` only if the crate refuses the buffers, which it
/// cannot for non-empty grey images; [`thumbnail`] then falls back.
fn fast_triangle(working: &GrayImage, w: u32, h: u32) -> Option<GrayImage> {
    let (sw, sh) = working.dimensions();
    let src = fir::images::ImageRef::new(sw, sh, working.as_raw(), fir::PixelType::U8).ok()?;
    let mut out = fir::images::Image::new(w, h, fir::PixelType::U8);
    let options = fir::ResizeOptions::new()
        .resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Bilinear));
    fir::Resizer::new().resize(&src, &mut out, &options).ok()?;
    GrayImage::from_raw(w, h, out.into_vec())
}

/// Compares `query` (the grey working image the keypoints came from) with
/// the reference thumbnail `thumb` of a reference whose working image was
/// `ref_size`, under the similarity found by verification.
pub fn agreement(
    query: &QueryImage,
    thumb: &GrayImage,
    ref_size: (u32, u32),
    v: &Verification,
) -> Agreement {
    let (tw, th) = (thumb.width() as usize, thumb.height() as usize);
    if tw < 8 || th < 8 || ref_size.0 == 0 {
        return Agreement::default();
    }
    let warped = warp_query(query, (tw, th), ref_size, v);
    let mut covered = vec![false; tw * th];
    for y in 1..th - 1 {
        for x in 1..tw - 1 {
            // Interior of the covered area: the gradient needs neighbours.
            covered[y * tw + x] =
                (0..9).all(|k| warped.valid[(y + k / 3 - 1) * tw + x + k % 3 - 1]);
        }
    }
    let a = gradients(thumb.as_raw(), None, tw, th);
    let b = gradients(&warped.pixels, Some(&covered), tw, th);
    let (oa, ob) = (orientations(&a, &covered), orientations(&b, &covered));
    let near_b = dilate(&ob, tw, th);
    let near_a = dilate(&oa, tw, th);
    let (hit_a, n_a, shifts) = explained(&oa, &near_b, tw, th, MOTION_REACH);
    let (hit_b, n_b, _) = explained(&ob, &near_a, tw, th, 0);
    let (moved, moved_covered) = shifted(&warped.pixels, &covered, tw, th, &shifts);
    Agreement {
        recall: hit_a as f32 / n_a.max(1) as f32,
        precision: hit_b as f32 / n_b.max(1) as f32,
        ref_edges: n_a,
        photometric: photometric(thumb.as_raw(), &moved, &moved_covered, tw, th),
    }
}

/// Side in thumbnail pixels of the blocks that may move on their own.
pub const MOTION_BLOCK: usize = 16;
/// How far in thumbnail pixels a block may move (8 pixels of a 640-pixel
/// still): a figure's motion over the few frames between two indexed
/// stills.
pub const MOTION_REACH: i32 = 2;
/// Orientation bins of an edge (modulo 180 degrees), one bit each.
const ORIENTATION_BINS: f32 = 32.0;
/// Bins either side of an edge's own whose edges agree with it: 5 of 32
/// is 28 to 34 degrees.
const ORIENTATION_SLACK: u32 = 5;

/// Grey-level tolerance of [`Agreement::photometric`] after the mapping.
const GREY_TOLERANCE: f32 = 16.0;

/// Fits `query = a * reference + b` over the covered pixels of 3x3-box
/// smoothed images (least squares, refitted twice on the pixels within
/// twice the tolerance), then counts the pixels within the tolerance.
fn photometric(r: &[u8], q: &[u8], covered: &[bool], w: usize, h: usize) -> f32 {
    let smooth = |px: &[u8], x: usize, y: usize| {
        (0..9)
            .map(|k| px[(y + k / 3 - 1) * w + x + k % 3 - 1] as f32)
            .sum::<f32>()
            / 9.0
    };
    let mut pairs = Vec::new();
    for y in 2..h.saturating_sub(2) {
        for x in 2..w.saturating_sub(2) {
            if covered[y * w + x] {
                pairs.push((smooth(r, x, y), smooth(q, x, y)));
            }
        }
    }
    if pairs.len() < 16 {
        return 0.0;
    }
    let (mut a, mut b) = (1.0f32, 0.0f32);
    let mut keep: Vec<bool> = vec![true; pairs.len()];
    for round in 0..3 {
        let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0f32, 0f32, 0f32, 0f32, 0f32);
        for (&(x, y), _) in pairs.iter().zip(&keep).filter(|(_, k)| **k) {
            n += 1.0;
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
        }
        let var = n * sxx - sx * sx;
        if n < 16.0 || var <= f32::EPSILON {
            break;
        }
        a = (n * sxy - sx * sy) / var;
        b = (sy - a * sx) / n;
        let limit = if round == 0 { 4.0 } else { 2.0 } * GREY_TOLERANCE;
        for (k, &(x, y)) in keep.iter_mut().zip(&pairs) {
            *k = (a * x + b - y).abs() <= limit;
        }
    }
    let good = pairs
        .iter()
        .filter(|&&(x, y)| (a * x + b - y).abs() <= GREY_TOLERANCE)
        .count();
    good as f32 / pairs.len() as f32
}

struct Warped {
    pixels: Vec<u8>,
    valid: Vec<bool>,
}

/// Box-filtered samples of `query` at every thumbnail pixel, mapped back
/// through the inverse similarity (and mirror).
fn warp_query(
    query: &QueryImage,
    (tw, th): (usize, usize),
    ref_size: (u32, u32),
    v: &Verification,
) -> Warped {
    let (qw, qh) = (query.image.width() as usize, query.image.height() as usize);
    let (iw, ii) = (qw + 1, query.integral());
    // Thumbnail pixel -> reference working pixel -> query pixel.
    let f = tw as f32 / ref_size.0 as f32;
    let [a, b, c, d, tx, ty] = v.transform;
    let det = a * d - b * c;
    let det = if det.abs() > f32::EPSILON { det } else { 1.0 };
    let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det);
    let to_query = |rx: f32, ry: f32| {
        let (dx, dy) = (rx - tx, ry - ty);
        let (x, y) = (ia * dx + ib * dy, ic * dx + id * dy);
        if v.mirrored {
            (qw as f32 - 1.0 - x, y)
        } else {
            (x, y)
        }
    };
    // Half the box side: one thumbnail pixel in query pixels.
    let half = (0.5 / (f * v.scale)).max(0.5);
    let mut pixels = vec![0u8; tw * th];
    let mut valid = vec![false; tw * th];
    for ty in 0..th {
        for tx in 0..tw {
            let (qx, qy) = to_query((tx as f32 + 0.5) / f, (ty as f32 + 0.5) / f);
            let (x0, y0) = ((qx - half).round(), (qy - half).round());
            let (x1, y1) = ((qx + half).round(), (qy + half).round());
            if x0 < 0.0 || y0 < 0.0 || x1 > qw as f32 || y1 > qh as f32 || x1 <= x0 || y1 <= y0 {
                continue;
            }
            let (x0, y0, x1, y1) = (x0 as usize, y0 as usize, x1 as usize, y1 as usize);
            let sum = ii[y1 * iw + x1] + ii[y0 * iw + x0] - ii[y0 * iw + x1] - ii[y1 * iw + x0];
            let i = ty * tw + tx;
            pixels[i] = (sum / ((x1 - x0) * (y1 - y0)) as u32) as u8;
            valid[i] = true;
        }
    }
    Warped { pixels, valid }
}

/// Sobel gradients (gx, gy) per pixel; zero at borders and, with
/// `interior`, wherever it is false (pixels whose 3x3 neighbourhood is
/// not all valid).
fn gradients(px: &[u8], interior: Option<&[bool]>, w: usize, h: usize) -> Vec<(f32, f32)> {
    let mut g = vec![(0f32, 0f32); w * h];
    let at = |x: usize, y: usize| px[y * w + x] as f32;
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            if interior.is_some_and(|v| !v[y * w + x]) {
                continue;
            }
            let gx = at(x + 1, y - 1) + 2.0 * at(x + 1, y) + at(x + 1, y + 1)
                - at(x - 1, y - 1)
                - 2.0 * at(x - 1, y)
                - at(x - 1, y + 1);
            let gy = at(x - 1, y + 1) + 2.0 * at(x, y + 1) + at(x + 1, y + 1)
                - at(x - 1, y - 1)
                - 2.0 * at(x, y - 1)
                - at(x + 1, y - 1);
            g[y * w + x] = (gx, gy);
        }
    }
    g
}

/// Edge pixels: magnitude above a share of the 90th percentile of the
/// non-zero magnitudes, and above [`EDGE_FLOOR`].
fn edges(g: &[(f32, f32)]) -> Vec<bool> {
    // Squared magnitudes: the same order and the same test as magnitudes,
    // without a square root per pixel.
    let mut mags: Vec<f32> = g
        .iter()
        .map(|&(x, y)| x * x + y * y)
        .filter(|&m| m > 0.0)
        .collect();
    if mags.is_empty() {
        return vec![false; g.len()];
    }
    let k = (mags.len() * 9 / 10).min(mags.len() - 1);
    let (_, p90, _) = mags.select_nth_unstable_by(k, f32::total_cmp);
    let t = (p90.sqrt() * EDGE_SHARE).max(EDGE_FLOOR);
    let t2 = t * t;
    g.iter().map(|&(x, y)| x * x + y * y > t2).collect()
}

/// Each edge pixel's orientation (modulo 180 degrees) as one bit of
/// [`ORIENTATION_BINS`]; 0 for pixels that are not edges or not covered.
fn orientations(g: &[(f32, f32)], covered: &[bool]) -> Vec<u32> {
    let is_edge = edges(g);
    g.iter()
        .zip(is_edge)
        .zip(covered)
        .map(|((&(x, y), edge), &inside)| {
            if !(edge && inside) {
                return 0;
            }
            let turn = y.atan2(x).rem_euclid(std::f32::consts::PI) / std::f32::consts::PI;
            1 << ((turn * ORIENTATION_BINS) as u32).min(ORIENTATION_BINS as u32 - 1)
        })
        .collect()
}

/// Every pixel's orientation bits ORed over its 3x3 neighbourhood: the
/// edge orientations found within one pixel.
fn dilate(bits: &[u32], w: usize, h: usize) -> Vec<u32> {
    let mut across = vec![0u32; w * h];
    for (row, out) in bits.chunks_exact(w).zip(across.chunks_exact_mut(w)) {
        for x in 0..w {
            out[x] = row[x.saturating_sub(1)] | row[x] | row[(x + 1).min(w - 1)];
        }
    }
    let mut near = vec![0u32; w * h];
    for y in 0..h {
        let (up, down) = (y.saturating_sub(1), (y + 1).min(h - 1));
        for x in 0..w {
            near[y * w + x] = across[up * w + x] | across[y * w + x] | across[down * w + x];
        }
    }
    near
}

/// The orientation bits that agree with an edge whose bit is `bit`.
fn agreeing(bit: u32) -> u32 {
    let window = (1u32 << (2 * ORIENTATION_SLACK + 1)) - 1;
    window
        .rotate_left(bit.trailing_zeros())
        .rotate_right(ORIENTATION_SLACK)
}

/// How many edge pixels of one image (`own`, see [`orientations`]) the
/// other image shows too, within one pixel with an agreeing orientation
/// (`near`, see [`dilate`]), out of how many. Each [`MOTION_BLOCK`] block
/// is compared at the shift within `reach` pixels that explains most of
/// its edges (ties: the smallest shift, then the first); the shifts are
/// returned per block, row-major.
fn explained(
    own: &[u32],
    near: &[u32],
    w: usize,
    h: usize,
    reach: i32,
) -> (u32, u32, Vec<(i32, i32)>) {
    let (bw, bh) = (w.div_ceil(MOTION_BLOCK), h.div_ceil(MOTION_BLOCK));
    let mut shifts = vec![(0, 0); bw * bh];
    let (mut hit, mut n) = (0u32, 0u32);
    let mut points: Vec<(i32, i32, u32)> = Vec::new();
    for (b, shift) in shifts.iter_mut().enumerate() {
        let (x0, y0) = ((b % bw) * MOTION_BLOCK, (b / bw) * MOTION_BLOCK);
        points.clear();
        for y in y0.max(1)..(y0 + MOTION_BLOCK).min(h - 1) {
            for x in x0.max(1)..(x0 + MOTION_BLOCK).min(w - 1) {
                let bit = own[y * w + x];
                if bit != 0 {
                    points.push((x as i32, y as i32, agreeing(bit)));
                }
            }
        }
        n += points.len() as u32;
        let mut best = (0u32, (0, 0));
        let mut cost_of_best = i32::MAX;
        for dy in -reach..=reach {
            for dx in -reach..=reach {
                let found = points
                    .iter()
                    .filter(|&&(x, y, agree)| {
                        let (x, y) = (x + dx, y + dy);
                        (0..w as i32).contains(&x)
                            && (0..h as i32).contains(&y)
                            && near[y as usize * w + x as usize] & agree != 0
                    })
                    .count() as u32;
                let cost = dx.abs() + dy.abs();
                if found > best.0 || (found == best.0 && cost < cost_of_best) {
                    best = (found, (dx, dy));
                    cost_of_best = cost;
                }
            }
        }
        hit += best.0;
        *shift = best.1;
    }
    (hit, n, shifts)
}

/// `pixels` (and `covered`) read through each [`MOTION_BLOCK`] block's
/// shift: the frame as it would look had its figures not moved.
fn shifted(
    pixels: &[u8],
    covered: &[bool],
    w: usize,
    h: usize,
    shifts: &[(i32, i32)],
) -> (Vec<u8>, Vec<bool>) {
    let bw = w.div_ceil(MOTION_BLOCK);
    let mut out = vec![0u8; w * h];
    let mut inside = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = shifts[(y / MOTION_BLOCK) * bw + x / MOTION_BLOCK];
            let (sx, sy) = (x as i32 + dx, y as i32 + dy);
            if (0..w as i32).contains(&sx) && (0..h as i32).contains(&sy) {
                let j = sy as usize * w + sx as usize;
                out[y * w + x] = pixels[j];
                inside[y * w + x] = covered[j] && covered[y * w + x];
            }
        }
    }
    (out, inside)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `reference` with every block's content moved by two pixels, in one
    /// of four directions in turn, the way figures move between two
    /// indexed stills.
    fn moved(reference: &GrayImage) -> GrayImage {
        let (w, h) = reference.dimensions();
        let bw = (w as usize).div_ceil(MOTION_BLOCK);
        let blocks = bw * (h as usize).div_ceil(MOTION_BLOCK);
        let shifts: Vec<(i32, i32)> = (0..blocks)
            .map(|b| [(2, 0), (0, -2), (-2, 2), (2, 2)][b % 4])
            .collect();
        GrayImage::from_fn(w, h, |x, y| {
            let (dx, dy) = shifts[(y as usize / MOTION_BLOCK) * bw + x as usize / MOTION_BLOCK];
            let sx = (x as i32 - dx).clamp(0, w as i32 - 1) as u32;
            let sy = (y as i32 - dy).clamp(0, h as i32 - 1) as u32;
            *reference.get_pixel(sx, sy)
        })
    }

    #[test]
    fn blocks_that_moved_a_little_still_agree() {
        let reference = thumbnail(&crate::local::tests::scene(1));
        let frame = moved(&reference);
        let (w, h) = (reference.width() as usize, reference.height() as usize);
        let covered = vec![true; w * h];
        let a = gradients(reference.as_raw(), None, w, h);
        let b = gradients(frame.as_raw(), Some(&covered), w, h);
        let near = dilate(&orientations(&b, &covered), w, h);
        let own = orientations(&a, &covered);
        let (fixed, n, _) = explained(&own, &near, w, h, 0);
        let (moving, n_moving, shifts) = explained(&own, &near, w, h, MOTION_REACH);
        assert_eq!(n, n_moving);
        // Held still, a moved block's edges are two pixels off: those
        // across the motion miss (thumbnail edges are 2-3 pixels wide).
        assert!((fixed as f32) < 0.8 * n as f32, "{fixed} of {n}");
        // Each block found its motion back (edges near a block's border
        // came from the next block, which moved another way; a block of
        // edges along its motion may keep a smaller shift, as good).
        assert!((moving as f32) > 0.95 * n as f32, "{moving} of {n}");
        // Read through the shifts found, the grey levels agree again.
        let (back, inside) = shifted(frame.as_raw(), &covered, w, h, &shifts);
        let before = photometric(reference.as_raw(), frame.as_raw(), &covered, w, h);
        let after = photometric(reference.as_raw(), &back, &inside, w, h);
        assert!(after > 0.85 && after > before + 0.05, "{before} -> {after}");
    }

    #[test]
    fn orientations_agree_within_about_thirty_degrees() {
        let bit = |deg: f32| {
            let (s, c) = deg.to_radians().sin_cos();
            orientations(&[(c * 100.0, s * 100.0)], &[true])[0]
        };
        for (a, b, same) in [
            (0.0, 25.0, true),
            (0.0, -25.0, true),
            (0.0, 180.0, true),
            (10.0, 190.0 + 20.0, true),
            (0.0, 40.0, false),
            (90.0, 45.0, false),
            (175.0, 5.0, true),
        ] {
            assert_eq!(agreeing(bit(a)) & bit(b) != 0, same, "{a} vs {b}");
        }
    }
}

//! Tiny scanline rasteriser for the synthetic frames.
//!
//! Our own few primitives (spans, rectangles, ellipses, rings, polygons, thick
//! lines) instead of a drawing crate: the pixels they produce are fixed by this
//! file alone, so fixtures and the bundled sample never drift with a
//! dependency upgrade. No anti-aliasing: a pixel is painted when its centre is
//! inside the shape. Coordinates are in pixels, `f32`, clipped to the image.

use image::RgbImage;

/// Paints the pixels of row `y` whose centres lie in `[x0, x1)`.
fn span(img: &mut RgbImage, y: i64, x0: f32, x1: f32, c: [u8; 3]) {
    if y < 0 || y >= i64::from(img.height()) {
        return;
    }
    let w = img.width() as f32;
    let a = (x0 - 0.5).ceil().clamp(0.0, w) as u32;
    let b = (x1 - 0.5).ceil().clamp(0.0, w) as u32;
    if a >= b {
        return;
    }
    let row = y as usize * img.width() as usize * 3;
    let buf: &mut [u8] = img.as_mut();
    for px in buf[row + a as usize * 3..row + b as usize * 3].chunks_exact_mut(3) {
        px.copy_from_slice(&c);
    }
}

/// Rows whose centres lie in `[y0, y1)`, clipped to the image.
fn rows(img: &RgbImage, y0: f32, y1: f32) -> std::ops::Range<i64> {
    let h = img.height() as f32;
    let a = (y0 - 0.5).ceil().clamp(0.0, h) as i64;
    let b = (y1 - 0.5).ceil().clamp(0.0, h) as i64;
    a..b
}

/// Fills the axis-aligned rectangle `[x0, x1) x [y0, y1)`.
pub(crate) fn rect(img: &mut RgbImage, x0: f32, y0: f32, x1: f32, y1: f32, c: [u8; 3]) {
    for y in rows(img, y0, y1) {
        span(img, y, x0, x1, c);
    }
}

/// Blends colour `c` with weight `alpha` over a rectangle (translucent boxes).
pub(crate) fn blend_rect(img: &mut RgbImage, r: [f32; 4], c: [u8; 3], alpha: f32) {
    let w = img.width() as f32;
    for y in rows(img, r[1], r[3]) {
        let a = (r[0] - 0.5).ceil().clamp(0.0, w) as u32;
        let b = (r[2] - 0.5).ceil().clamp(0.0, w) as u32;
        for x in a..b {
            let p = img.get_pixel_mut(x, y as u32);
            p.0 = super::mix(p.0, c, alpha);
        }
    }
}

/// Outlines a rectangle with a border `t` pixels thick, drawn inside it.
pub(crate) fn frame(img: &mut RgbImage, r: [f32; 4], t: f32, c: [u8; 3]) {
    let [x0, y0, x1, y1] = r;
    rect(img, x0, y0, x1, y0 + t, c);
    rect(img, x0, y1 - t, x1, y1, c);
    rect(img, x0, y0, x0 + t, y1, c);
    rect(img, x1 - t, y0, x1, y1, c);
}

/// Fills rectangle `r` with `colors[0]` inside an outline `o` pixels wide of `colors[1]`.
pub(crate) fn outlined_rect(img: &mut RgbImage, r: [f32; 4], o: f32, colors: [[u8; 3]; 2]) {
    rect(img, r[0] - o, r[1] - o, r[2] + o, r[3] + o, colors[1]);
    rect(img, r[0], r[1], r[2], r[3], colors[0]);
}

/// Fills an ellipse (centre `c`, radii `r`) with `colors[0]` inside an
/// outline `o` pixels wide of `colors[1]`.
pub(crate) fn outlined_ellipse(
    img: &mut RgbImage,
    c: (f32, f32),
    r: (f32, f32),
    o: f32,
    colors: [[u8; 3]; 2],
) {
    ellipse(img, c.0, c.1, r.0 + o, r.1 + o, colors[1]);
    ellipse(img, c.0, c.1, r.0, r.1, colors[0]);
}

/// Fills an axis-aligned ellipse.
pub(crate) fn ellipse(img: &mut RgbImage, cx: f32, cy: f32, rx: f32, ry: f32, c: [u8; 3]) {
    if rx <= 0.0 || ry <= 0.0 {
        return;
    }
    for y in rows(img, cy - ry, cy + ry) {
        let d = (y as f32 + 0.5 - cy) / ry;
        let half = rx * (1.0 - d * d).max(0.0).sqrt();
        span(img, y, cx - half, cx + half, c);
    }
}

/// Draws an elliptical ring `t` pixels thick (outer radii `rx`, `ry`).
pub(crate) fn ring(img: &mut RgbImage, cx: f32, cy: f32, rx: f32, ry: f32, t: f32, c: [u8; 3]) {
    let (irx, iry) = (rx - t, ry - t);
    if irx <= 0.0 || iry <= 0.0 {
        return ellipse(img, cx, cy, rx, ry, c);
    }
    for y in rows(img, cy - ry, cy + ry) {
        let dy = y as f32 + 0.5 - cy;
        let outer = rx * (1.0 - (dy / ry).powi(2)).max(0.0).sqrt();
        let inner = irx * (1.0 - (dy / iry).powi(2)).max(0.0).sqrt();
        if inner <= 0.0 {
            span(img, y, cx - outer, cx + outer, c);
        } else {
            span(img, y, cx - outer, cx - inner, c);
            span(img, y, cx + inner, cx + outer, c);
        }
    }
}

/// Fills a polygon (even-odd rule); vertices in order, implicitly closed.
pub(crate) fn polygon(img: &mut RgbImage, pts: &[(f32, f32)], c: [u8; 3]) {
    if pts.len() < 3 {
        return;
    }
    let lo = pts.iter().map(|p| p.1).fold(f32::INFINITY, f32::min);
    let hi = pts.iter().map(|p| p.1).fold(f32::NEG_INFINITY, f32::max);
    let mut xs: Vec<f32> = Vec::with_capacity(8);
    for y in rows(img, lo, hi) {
        let yc = y as f32 + 0.5;
        xs.clear();
        for (i, &(ax, ay)) in pts.iter().enumerate() {
            let (bx, by) = pts[(i + 1) % pts.len()];
            if (ay <= yc) != (by <= yc) {
                xs.push(ax + (yc - ay) / (by - ay) * (bx - ax));
            }
        }
        xs.sort_by(f32::total_cmp);
        for pair in xs.chunks_exact(2) {
            span(img, y, pair[0], pair[1], c);
        }
    }
}

/// Draws a segment `w` pixels wide with round caps.
pub(crate) fn line(img: &mut RgbImage, a: (f32, f32), b: (f32, f32), w: f32, c: [u8; 3]) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len = (dx * dx + dy * dy).sqrt().max(1e-3);
    let h = (w * 0.5).max(0.6);
    let (nx, ny) = (-dy / len * h, dx / len * h);
    let quad = [
        (a.0 + nx, a.1 + ny),
        (b.0 + nx, b.1 + ny),
        (b.0 - nx, b.1 - ny),
        (a.0 - nx, a.1 - ny),
    ];
    polygon(img, &quad, c);
    if w >= 2.5 {
        ellipse(img, a.0, a.1, h, h, c);
        ellipse(img, b.0, b.1, h, h, c);
    }
}

/// Draws connected segments through `pts`.
pub(crate) fn polyline(img: &mut RgbImage, pts: &[(f32, f32)], w: f32, c: [u8; 3]) {
    for pair in pts.windows(2) {
        line(img, pair[0], pair[1], w, c);
    }
}

/// Fills rows `[y0, y1)` with a vertical gradient from `top` to `bottom`.
pub(crate) fn vgradient(img: &mut RgbImage, y0: f32, y1: f32, top: [u8; 3], bottom: [u8; 3]) {
    let w = img.width() as f32;
    for y in rows(img, y0, y1) {
        let k = (y as f32 + 0.5 - y0) / (y1 - y0).max(1.0);
        span(img, y, 0.0, w, super::mix(top, bottom, k));
    }
}

/// Fills rectangle `r` (`[x0, y0, x1, y1]`) with a vertical gradient.
pub(crate) fn vgradient_box(img: &mut RgbImage, r: [f32; 4], top: [u8; 3], bottom: [u8; 3]) {
    for y in rows(img, r[1], r[3]) {
        let k = (y as f32 + 0.5 - r[1]) / (r[3] - r[1]).max(1.0);
        span(img, y, r[0], r[2], super::mix(top, bottom, k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(img: &RgbImage, c: [u8; 3]) -> usize {
        img.pixels().filter(|p| p.0 == c).count()
    }

    const R: [u8; 3] = [255, 0, 0];

    #[test]
    fn rect_covers_exact_pixels_and_clips() {
        let mut img = RgbImage::new(20, 10);
        rect(&mut img, 2.0, 3.0, 7.0, 5.0, R);
        assert_eq!(count(&img, R), 10);
        rect(&mut img, -5.0, -5.0, 100.0, 100.0, R);
        assert_eq!(count(&img, R), 200);
    }

    #[test]
    fn ellipse_area_is_close_to_pi_r_squared() {
        let mut img = RgbImage::new(200, 200);
        ellipse(&mut img, 100.0, 100.0, 60.0, 30.0, R);
        let want = std::f32::consts::PI * 60.0 * 30.0;
        assert!((count(&img, R) as f32 - want).abs() < want * 0.02);
        let mut ringed = RgbImage::new(200, 200);
        ring(&mut ringed, 100.0, 100.0, 60.0, 60.0, 5.0, R);
        let want = std::f32::consts::PI * (60.0f32.powi(2) - 55.0f32.powi(2));
        assert!((count(&ringed, R) as f32 - want).abs() < want * 0.05);
        assert_eq!(ringed.get_pixel(100, 100).0, [0, 0, 0]);
    }

    #[test]
    fn polygon_triangle_has_half_the_square() {
        let mut img = RgbImage::new(100, 100);
        polygon(&mut img, &[(0.0, 0.0), (100.0, 0.0), (0.0, 100.0)], R);
        let n = count(&img, R) as i64;
        assert!((n - 5000).abs() <= 100, "{n}");
    }

    #[test]
    fn thick_line_has_its_width() {
        let mut img = RgbImage::new(100, 50);
        line(&mut img, (10.0, 25.0), (90.0, 25.0), 6.0, R);
        let column: usize = (0..50).filter(|&y| img.get_pixel(50, y).0 == R).count();
        assert_eq!(column, 6);
    }
}

//! Finds a frame pasted on a page: a retake sheet, a PDF export, a
//! screenshot of a player or a chat window.
//!
//! Studios send corrections as a frame pasted onto white paper with notes
//! around (and over) it; a frame also travels as a screenshot of a dark
//! player or chat window. Every hash and every dense check of the whole
//! page compares mostly page; the frame itself is a dense rectangle of
//! non-page pixels, while the notes, bars and text around it are sparse.
//! The page's colour is the one that dominates the image's border (white
//! paper, a dark window); this module looks for the rectangle from row and
//! column profiles of a "not page" mask, and only answers when the outside
//! is mostly page, so an ordinary frame is never cut.

use image::{DynamicImage, GenericImageView};

/// A pixel is page when each channel is within this of the page colour
/// (on white paper: 232 and up, as long as pages were only white; 16 and
/// 24 lost retake sheets at catalogue scale).
const PAGE_TOLERANCE: i16 = 20;
/// The page colour must cover at least this share of the image's border.
const BORDER_SHARE: f32 = 0.5;
/// Rows (columns) of the frame hold at least this share of non-paper pixels.
const DENSE: f32 = 0.75;
/// The inset must cover between these shares of the page area.
const AREA_RANGE: (f32, f32) = (0.06, 0.85);
/// At least this share of the page outside the inset must be paper.
const OUTSIDE_PAPER: f32 = 0.7;
/// Smallest inset side in pixels of the decoded image.
const MIN_SIDE: u32 = 32;

/// The bounding box `[x0, y0, x1, y1)` of a frame pasted on a page, in
/// pixels of `img`, or `None` when `img` does not look like a page.
pub fn find_inset(img: &DynamicImage) -> Option<[u32; 4]> {
    let (w, h) = img.dimensions();
    single(&ink_mask(img)?, w, h)
}

/// The frames pasted on a page: the one of [`find_inset`], or else the
/// tiles of a contact sheet (2 to [`MAX_TILES`] frames side by side,
/// separated by page-coloured gutters; a retake list with several shots).
/// Empty when `img` does not look like a page.
pub fn find_insets(img: &DynamicImage) -> Vec<[u32; 4]> {
    let (w, h) = img.dimensions();
    let Some(ink) = ink_mask(img) else {
        return Vec::new();
    };
    match single(&ink, w, h) {
        Some(b) => vec![b],
        None => tiles(&ink, w, h),
    }
}

/// Most tiles of a contact sheet that are searched.
pub const MAX_TILES: usize = 6;
/// A gutter row (column) of a contact sheet holds at most this share of
/// non-page pixels.
const GUTTER: f32 = 0.02;
/// A tile holds at least this share of non-page pixels (a block of note
/// text holds far fewer; a frame with white in it, more).
const TILE_INK: f32 = 0.4;

/// The "not page" mask of `img`, or `None` when it has no page colour or
/// is too small to hold an inset.
fn ink_mask(img: &DynamicImage) -> Option<Vec<bool>> {
    let (w, h) = img.dimensions();
    if w < 2 * MIN_SIDE || h < 2 * MIN_SIDE {
        return None;
    }
    let rgb = img.to_rgb8();
    let page = page_colour(&rgb)?;
    Some(
        rgb.pixels()
            .map(|p| {
                p.0.iter()
                    .zip(page)
                    .any(|(&c, g)| (c as i16 - g as i16).abs() > PAGE_TOLERANCE)
            })
            .collect(),
    )
}

/// Rectangles between gutters: bands of rows between gutter rows, then
/// boxes of columns between gutter columns within each band. A tile must
/// be inked ([`TILE_INK`]) and cover [`AREA_RANGE`]'s share of the page
/// divided by the tiles' count; fewer than 2 tiles is not a contact
/// sheet.
fn tiles(ink: &[bool], w: u32, h: u32) -> Vec<[u32; 4]> {
    let at = |x: u32, y: u32| ink[(y * w + x) as usize];
    let share = |n: usize, of: u32| n as f32 / of.max(1) as f32;
    let mut found = Vec::new();
    for (y0, y1) in runs(h, |y| {
        share((0..w).filter(|&x| at(x, y)).count(), w) > GUTTER
    }) {
        let band = y1 - y0;
        for (x0, x1) in runs(w, |x| {
            share((y0..y1).filter(|&y| at(x, y)).count(), band) > GUTTER
        }) {
            let inked = (y0..y1)
                .flat_map(|y| (x0..x1).map(move |x| (x, y)))
                .filter(|&(x, y)| at(x, y))
                .count();
            let dense = share(inked, (x1 - x0) * band) >= TILE_INK;
            if dense && x1 - x0 >= MIN_SIDE && band >= MIN_SIDE {
                found.push([x0, y0, x1, y1]);
            }
        }
    }
    let area = |b: &[u32; 4]| ((b[2] - b[0]) * (b[3] - b[1])) as f32 / (w * h) as f32;
    let smallest = AREA_RANGE.0 / found.len().max(1) as f32;
    found.retain(|b| (smallest..=AREA_RANGE.1).contains(&area(b)));
    if found.len() < 2 || found.len() > MAX_TILES {
        return Vec::new();
    }
    found
}

/// Every maximal run `[a, b)` of `0..n` where `pred` holds.
fn runs(n: u32, pred: impl Fn(u32) -> bool) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut start = None;
    for i in 0..=n {
        match (i < n && pred(i), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// [`find_inset`] on a computed mask.
fn single(ink: &[bool], w: u32, h: u32) -> Option<[u32; 4]> {
    let at = |x: u32, y: u32| ink[(y * w + x) as usize];
    // Rows where the frame spans a good share of the page, then columns
    // dense within those rows, then rows again within those columns.
    let rows = longest_run(h, |y| {
        (0..w).filter(|&x| at(x, y)).count() as f32 / w as f32 >= 0.3
    })?;
    let cols = longest_run(w, |x| {
        let n = (rows.0..rows.1).filter(|&y| at(x, y)).count();
        n as f32 / (rows.1 - rows.0) as f32 >= DENSE
    })?;
    let rows = longest_run(h, |y| {
        let n = (cols.0..cols.1).filter(|&x| at(x, y)).count();
        n as f32 / (cols.1 - cols.0) as f32 >= DENSE
    })?;
    let (bw, bh) = (cols.1 - cols.0, rows.1 - rows.0);
    let area = (bw * bh) as f32 / (w * h) as f32;
    if bw < MIN_SIDE || bh < MIN_SIDE || !(AREA_RANGE.0..=AREA_RANGE.1).contains(&area) {
        return None;
    }
    let inside = |x: u32, y: u32| (cols.0..cols.1).contains(&x) && (rows.0..rows.1).contains(&y);
    let (mut outside, mut paper) = (0usize, 0usize);
    for y in 0..h {
        for x in 0..w {
            if !inside(x, y) {
                outside += 1;
                paper += usize::from(!at(x, y));
            }
        }
    }
    (paper as f32 >= OUTSIDE_PAPER * outside as f32).then_some([cols.0, rows.0, cols.1, rows.1])
}

/// The colour of most of the image's outermost rows and columns (channels
/// quantised to 16 levels, then averaged within the winning bin), if one
/// covers [`BORDER_SHARE`] of them.
fn page_colour(rgb: &image::RgbImage) -> Option<[u8; 3]> {
    let (w, h) = rgb.dimensions();
    let border = (0..w)
        .flat_map(|x| [(x, 0), (x, h - 1)])
        .chain((1..h - 1).flat_map(|y| [(0, y), (w - 1, y)]));
    let bin = |p: &image::Rgb<u8>| {
        ((p.0[0] as usize >> 4) << 8) | ((p.0[1] as usize >> 4) << 4) | (p.0[2] as usize >> 4)
    };
    let mut counts = vec![0u32; 1 << 12];
    let mut n = 0u32;
    for (x, y) in border.clone() {
        counts[bin(rgb.get_pixel(x, y))] += 1;
        n += 1;
    }
    let (top, &count) = counts
        .iter()
        .enumerate()
        .max_by_key(|&(i, c)| (*c, usize::MAX - i))?;
    if (count as f32) < BORDER_SHARE * n as f32 {
        return None;
    }
    let mut sum = [0u32; 3];
    for p in border
        .map(|(x, y)| rgb.get_pixel(x, y))
        .filter(|p| bin(p) == top)
    {
        (0..3).for_each(|c| sum[c] += p.0[c] as u32);
    }
    Some(sum.map(|v| (v / count) as u8))
}

/// The longest run `[a, b)` of `0..n` where `pred` holds (first on ties).
fn longest_run(n: u32, pred: impl Fn(u32) -> bool) -> Option<(u32, u32)> {
    runs(n, pred)
        .into_iter()
        .fold(None, |best, (a, b)| match best {
            Some((c, d)) if d - c >= b - a => best,
            _ => Some((a, b)),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::Series;
    use image::{Rgb, RgbImage};

    fn page_with(frame: &RgbImage, at: (u32, u32)) -> RgbImage {
        let mut page = RgbImage::from_pixel(800, 600, Rgb([252, 252, 252]));
        image::imageops::overlay(&mut page, frame, at.0 as i64, at.1 as i64);
        // Notes: a text-like box and a pen stroke on the paper.
        for x in 40..240 {
            for y in [60, 61, 70, 71, 80, 81] {
                page.put_pixel(x, y, Rgb([200, 30, 30]));
            }
        }
        for t in 0..300 {
            page.put_pixel(500 + t / 2, 40 + t / 3, Rgb([30, 30, 200]));
        }
        page
    }

    fn assert_near(found: [u32; 4], want: [u32; 4]) {
        let near = found.iter().zip(want).all(|(g, w)| g.abs_diff(w) <= 3);
        assert!(near, "found {found:?}, want {want:?}");
    }

    #[test]
    fn finds_the_frame_on_a_sheet_with_notes() {
        let frame = Series::new(3).frame(2.0, 360, 202);
        let page = page_with(&frame, (300, 250));
        let found = find_inset(&DynamicImage::ImageRgb8(page)).expect("inset");
        let want = [300, 250, 660, 452];
        assert_near(found, want);
    }

    #[test]
    fn finds_the_frame_in_a_dark_window_with_bars_and_text() {
        let frame = Series::new(5).frame(3.0, 400, 225);
        let mut page = RgbImage::from_pixel(640, 400, Rgb([24, 24, 28]));
        // A title bar, the frame, a progress bar and comment lines.
        for (x, y) in (0..640).flat_map(|x| (0..28).map(move |y| (x, y))) {
            page.put_pixel(x, y, Rgb([58, 58, 64]));
        }
        image::imageops::overlay(&mut page, &frame, 60, 40);
        for x in 60..460 {
            for y in 273..279 {
                page.put_pixel(x, y, Rgb([200, 40, 40]));
            }
        }
        for (k, y) in (300..360).step_by(18).enumerate() {
            for x in (12..300 - 40 * k as u32).filter(|x| x % 7 < 4) {
                page.put_pixel(x, y, Rgb([180, 180, 190]));
            }
        }
        let found = find_inset(&DynamicImage::ImageRgb8(page)).expect("inset");
        let want = [60, 40, 460, 265];
        assert_near(found, want);
    }

    #[test]
    fn finds_every_tile_of_a_contact_sheet() {
        let mut page = RgbImage::from_pixel(640, 360, Rgb([255, 255, 255]));
        let mut want = Vec::new();
        for k in 0..4u32 {
            let frame = Series::new(10 + k as u64).frame(1.0, 300, 160);
            let at = (10 + (k % 2) * 320, 12 + (k / 2) * 180);
            image::imageops::overlay(&mut page, &frame, at.0 as i64, at.1 as i64);
            want.push([at.0, at.1, at.0 + 300, at.1 + 160]);
        }
        let page = DynamicImage::ImageRgb8(page);
        // No single inset: the outside of any one tile is mostly other tiles.
        assert_eq!(find_inset(&page), None);
        let found = find_insets(&page);
        assert_eq!(found.len(), 4, "{found:?}");
        for (f, w) in found.iter().zip(&want) {
            assert_near(*f, *w);
        }
        // A sheet with one frame still gives that one frame.
        let frame = Series::new(3).frame(2.0, 360, 202);
        let one = DynamicImage::ImageRgb8(page_with(&frame, (300, 250)));
        assert_eq!(find_insets(&one), vec![find_inset(&one).expect("inset")]);
    }

    #[test]
    fn an_ordinary_frame_is_not_a_page() {
        let frame = Series::new(4).frame(1.0, 640, 360);
        assert_eq!(find_inset(&DynamicImage::ImageRgb8(frame.clone())), None);
        assert!(find_insets(&DynamicImage::ImageRgb8(frame)).is_empty());
        let blank = RgbImage::from_pixel(640, 360, Rgb([255, 255, 255]));
        assert_eq!(find_inset(&DynamicImage::ImageRgb8(blank)), None);
    }
}

//! Retake sheets: a frame pasted small on a white page of notes.
//!
//! Frames also leak as scans or exports of retake sheets, where the picture
//! is a minority of the page and a header, comments and arrows surround it.
//! Only a partial (local-feature) match can attribute those.

use image::RgbImage;
use image::imageops::{self, FilterType};

use super::notes::{INKS, arrow, note_box, text};
use super::{Rng, raster};

/// Pastes the frame at 40-60 % of a white retake sheet covered with notes.
pub(crate) fn sheet(img: &RgbImage, rng: &mut Rng) -> RgbImage {
    let sw = img.width().max(64);
    let landscape = rng.chance(0.5);
    let sh = if landscape {
        sw as f32 / std::f32::consts::SQRT_2
    } else {
        sw as f32 * std::f32::consts::SQRT_2
    };
    let sh = sh.round() as u32;
    let mut out = RgbImage::from_pixel(sw, sh, image::Rgb([255; 3]));
    let (swf, shf) = (sw as f32, sh as f32);
    let u = swf.min(shf);
    // Header: a row of labelled fields.
    let fields = 3 + rng.below(3);
    let fw = swf * 0.9 / fields as f32;
    for i in 0..fields {
        let r = [
            swf * 0.05 + i as f32 * fw,
            shf * 0.03,
            swf * 0.05 + (i + 1) as f32 * fw,
            shf * 0.03 + u * 0.08,
        ];
        raster::frame(&mut out, r, (u * 0.003).max(1.0), [40; 3]);
        text(
            &mut out,
            r[0] + u * 0.01,
            r[1] + u * 0.02,
            u * 0.03,
            2 + rng.below(2),
            [40; 3],
            rng,
        );
    }
    // The frame itself, 40-60 % of the sheet width, with a thin border.
    let aspect = img.height().max(1) as f32 / img.width().max(1) as f32;
    let fw = (swf * rng.range(0.4, 0.6)).min(shf * 0.55 / aspect);
    let (pw, ph) = (
        fw.round().max(1.0) as u32,
        (fw * aspect).round().max(1.0) as u32,
    );
    let small = imageops::resize(img, pw, ph, FilterType::Triangle);
    let top = shf * 0.03 + u * 0.12;
    let x = rng.range(swf * 0.05, (swf * 0.95 - pw as f32).max(swf * 0.05));
    let y = rng.range(top, (top + shf * 0.15).min(shf * 0.95 - ph as f32).max(top));
    imageops::replace(&mut out, &small, x as i64, y as i64);
    let pic = [x - 2.0, y - 2.0, x + pw as f32 + 2.0, y + ph as f32 + 2.0];
    raster::frame(&mut out, pic, 2.0, [30; 3]);
    // Notes beside or below it (a few may overlap it), arrows into it, marks on it.
    let target = |r: &mut Rng| {
        (
            x + r.range(0.15, 0.85) * pw as f32,
            y + r.range(0.15, 0.85) * ph as f32,
        )
    };
    for i in 0..3 + rng.below(4) {
        let s = u * rng.range(0.025, 0.045);
        let mut spot = (0.0, 0.0);
        for _ in 0..if i == 0 { 1 } else { 12 } {
            spot = (rng.range(0.02, 0.7) * swf, rng.range(top / shf, 0.9) * shf);
            let clear = spot.0 > pic[2]
                || spot.1 > pic[3]
                || spot.0 + s * 8.0 < pic[0]
                || spot.1 + s * 3.0 < pic[1];
            if clear {
                break;
            }
        }
        let r = if rng.chance(0.75) {
            note_box(&mut out, spot.0, spot.1, s, rng)
        } else {
            let n = 3 + rng.below(6);
            text(
                &mut out,
                spot.0,
                spot.1,
                s,
                n,
                INKS[rng.below(6) as usize],
                rng,
            );
            [spot.0, spot.1, spot.0 + n as f32 * s * 1.15, spot.1 + s]
        };
        if rng.chance(0.6) {
            let from = ((r[0] + r[2]) * 0.5, if r[1] > pic[3] { r[1] } else { r[3] });
            arrow(
                &mut out,
                from,
                target(rng),
                (u * 0.004).max(1.0),
                INKS[rng.below(6) as usize],
            );
        }
    }
    for _ in 0..rng.below(3) {
        let c = target(rng);
        raster::ring(
            &mut out,
            c.0,
            c.1,
            u * 0.06,
            u * 0.05,
            (u * 0.004).max(1.0),
            INKS[rng.below(6) as usize],
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::Series;

    #[test]
    fn sheet_is_a_white_page_holding_the_frame() {
        let img = Series::new(6).frame(3.0, 480, 270);
        let mut orientations = (false, false);
        let mut counts = std::collections::HashMap::new();
        img.pixels()
            .for_each(|p| *counts.entry(p.0).or_insert(0) += 1);
        let mode = counts
            .into_iter()
            .max_by_key(|&(c, n)| (n, c))
            .map(|(c, _)| c)
            .unwrap_or_default();
        for seed in 0..12 {
            let out = sheet(&img, &mut Rng::new(seed));
            let (w, h) = out.dimensions();
            assert_eq!(w, 480);
            let tall = h > w;
            let expected = if tall {
                480.0 * std::f32::consts::SQRT_2
            } else {
                480.0 / std::f32::consts::SQRT_2
            };
            assert_eq!(h, expected.round() as u32);
            orientations = (orientations.0 || tall, orientations.1 || !tall);
            let white = out.pixels().filter(|p| p.0 == [255; 3]).count() as f32 / (w * h) as f32;
            assert!(white > 0.3, "seed {seed}: {white}");
            // The frame is pasted at 40-60 % width, so its commonest (flat)
            // colour keeps at least about 0.4^2 of its pixel count.
            let count = |im: &RgbImage, c: [u8; 3]| im.pixels().filter(|p| p.0 == c).count() as f32;
            let kept = count(&out, mode) / count(&img, mode);
            assert!(
                kept > 0.4 * 0.4 * 0.6 && kept < 0.6 * 0.6 * 1.1,
                "seed {seed}: {kept}"
            );
        }
        assert_eq!(orientations, (true, true));
    }
}

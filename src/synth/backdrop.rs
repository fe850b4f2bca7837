//! Backdrops: the worlds the cast stands in, panned by the camera.
//!
//! Each backdrop has structure at several scales (a sky gradient, large hill
//! or building masses, windows, wallpaper dots, trees and floorboards) and is
//! defined in world coordinates, generated slot by slot from the seed, so a
//! panning camera reveals new but consistent scenery frame after frame.

use image::RgbImage;

use super::scene::Palette;
use super::{Rng, mix, raster};

/// The kind of world behind the cast.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    /// Sky, clouds, rolling hills in parallax, trees.
    Hills,
    /// Sky and two rows of buildings with lit windows.
    City,
    /// A room: patterned wallpaper, skirting, floorboards, picture frames.
    Room,
}

/// One series' backdrop; lengths are in frame heights.
#[derive(Debug, Clone)]
pub(crate) struct Backdrop {
    pub kind: Kind,
    /// Where the sky (or wall) meets the land, from the top.
    pub horizon: f32,
    seed: u64,
    /// Hill layers: base height, parallax, then (frequency, phase) twice and amplitude.
    hills: Vec<[f32; 7]>,
}

impl Backdrop {
    /// A backdrop drawn from `rng`; `seed` keys the scenery slots.
    pub(crate) fn new(rng: &mut Rng, seed: u64) -> Self {
        let kind = [Kind::Hills, Kind::City, Kind::Room][rng.below(3) as usize];
        let horizon = rng.range(0.45, 0.65);
        let hills = (0..3)
            .map(|i| {
                let depth = i as f32;
                [
                    horizon + 0.07 * depth - 0.08,
                    0.3 + 0.3 * depth,
                    rng.range(1.0, 3.0),
                    rng.range(0.0, 6.3),
                    rng.range(4.0, 9.0),
                    rng.range(0.0, 6.3),
                    rng.range(0.03, 0.09),
                ]
            })
            .collect();
        Backdrop {
            kind,
            horizon,
            seed,
            hills,
        }
    }

    /// Paints the whole of `img` with the camera panned to `cam`.
    pub(crate) fn draw(&self, img: &mut RgbImage, p: &Palette, cam: f32) {
        let view = View {
            unit: img.height() as f32,
            cam,
            aspect: img.width() as f32 / img.height().max(1) as f32,
        };
        match self.kind {
            Kind::Hills => self.draw_hills(img, p, &view),
            Kind::City => self.draw_city(img, p, &view),
            Kind::Room => self.draw_room(img, p, &view),
        }
    }

    fn draw_hills(&self, img: &mut RgbImage, p: &Palette, v: &View) {
        raster::vgradient(img, 0.0, v.unit * self.horizon, p.sky[0], p.sky[1]);
        for (k, mut rng) in v.slots(self.seed ^ 1, 0.9, 0.15) {
            let x = v.px(k * 0.9 + rng.range(0.0, 0.5), 0.15);
            let y = rng.range(0.06, 0.3) * v.unit;
            let r = rng.range(0.04, 0.08) * v.unit;
            for (dx, dy, s) in [(-1.2, 0.2, 0.8), (0.0, 0.0, 1.0), (1.1, 0.25, 0.75)] {
                raster::ellipse(
                    img,
                    x + dx * r,
                    y + dy * r,
                    1.3 * r * s,
                    r * s,
                    mix(p.sky[1], [255; 3], 0.7),
                );
            }
        }
        let colors = [p.far, p.near, p.ground];
        let (w, h) = (img.width() as usize, img.height() as usize);
        let tops: Vec<[f32; 3]> = (0..w)
            .map(|x| {
                std::array::from_fn(|i| {
                    let l = &self.hills[i];
                    let wx = (x as f32 + 0.5) / v.unit + v.cam * l[1];
                    (l[0] + l[6] * ((l[2] * wx + l[3]).sin() + 0.4 * (l[4] * wx + l[5]).sin()))
                        * v.unit
                })
            })
            .collect();
        let lowest = tops
            .iter()
            .flatten()
            .fold(v.unit, |a, &b| a.min(b))
            .max(0.0) as usize;
        let buf: &mut [u8] = img.as_mut();
        for y in lowest.min(h)..h {
            let yc = y as f32 + 0.5;
            for (x, top) in tops.iter().enumerate() {
                if let Some(layer) = (0..3).rev().find(|&i| yc >= top[i]) {
                    buf[(y * w + x) * 3..(y * w + x) * 3 + 3].copy_from_slice(&colors[layer]);
                }
            }
        }
        for (k, mut rng) in v.slots(self.seed ^ 2, 0.7, 1.0) {
            let x = v.px(k * 0.7 + rng.range(0.0, 0.4), 1.0);
            let base = (self.horizon + rng.range(0.1, 0.2)) * v.unit;
            let s = rng.range(0.08, 0.16) * v.unit;
            raster::rect(
                img,
                x - 0.12 * s,
                base - s,
                x + 0.12 * s,
                base,
                mix(p.ground, [60, 30, 10], 0.6),
            );
            let leaf = mix(p.near, p.accents[1], 0.3);
            raster::ellipse(img, x, base - 1.2 * s, 0.6 * s, 0.7 * s, leaf);
            raster::ellipse(
                img,
                x + 0.25 * s,
                base - 1.45 * s,
                0.35 * s,
                0.4 * s,
                mix(leaf, [255; 3], 0.15),
            );
        }
    }

    fn draw_city(&self, img: &mut RgbImage, p: &Palette, v: &View) {
        let street = (self.horizon + 0.12) * v.unit;
        raster::vgradient(img, 0.0, street, p.sky[0], p.sky[1]);
        for (layer, (parallax, width, tall)) in
            [(0.4, 0.22, 0.45), (1.0, 0.3, 0.3)].into_iter().enumerate()
        {
            let c = if layer == 0 { p.far } else { p.near };
            for (k, mut rng) in v.slots(self.seed ^ (3 + layer as u64), width, parallax) {
                let x0 = v.px(k * width, parallax);
                let x1 = x0 + rng.range(0.7, 0.95) * width * v.unit;
                let top = street - rng.range(0.4, 1.0) * tall * v.unit - 0.05 * v.unit;
                let body = mix(c, p.accents[rng.below(4) as usize], rng.range(0.0, 0.3));
                raster::rect(img, x0, top, x1, street, body);
                let (lit, dark) = (mix(p.accents[0], [255; 3], 0.5), mix(body, [0; 3], 0.35));
                let cell = 0.045 * v.unit;
                let mut y = top + cell * 0.6;
                while y + cell < street - cell * 0.5 {
                    let mut x = x0 + cell * 0.5;
                    while x + cell * 0.6 < x1 {
                        let on = rng.chance(0.4);
                        raster::rect(
                            img,
                            x,
                            y,
                            x + cell * 0.55,
                            y + cell * 0.7,
                            if on { lit } else { dark },
                        );
                        x += cell;
                    }
                    y += cell * 1.2;
                }
            }
        }
        raster::rect(img, 0.0, street, v.aspect * v.unit, v.unit, p.ground);
        let dash = mix(p.ground, [255; 3], 0.6);
        for (k, _) in v.slots(self.seed ^ 5, 0.25, 1.0) {
            let x = v.px(k * 0.25, 1.0);
            let y = (self.horizon + 0.3) * v.unit;
            raster::rect(img, x, y, x + 0.12 * v.unit, y + 0.015 * v.unit, dash);
        }
    }

    fn draw_room(&self, img: &mut RgbImage, p: &Palette, v: &View) {
        let floor = (self.horizon + 0.15) * v.unit;
        let wall = mix(p.sky[1], p.far, 0.4);
        raster::rect(img, 0.0, 0.0, v.aspect * v.unit, floor, wall);
        let stripe = mix(wall, p.accents[2], 0.25);
        for (k, _) in v.slots(self.seed ^ 6, 0.12, 1.0) {
            let x = v.px(k * 0.12, 1.0);
            raster::rect(img, x, 0.0, x + 0.04 * v.unit, floor, stripe);
            for j in 0..8 {
                let y = (j as f32 + 0.5) * 0.1 * v.unit;
                raster::ellipse(
                    img,
                    x + 0.08 * v.unit,
                    y,
                    0.012 * v.unit,
                    0.012 * v.unit,
                    p.accents[3],
                );
            }
        }
        for (k, mut rng) in v.slots(self.seed ^ 7, 0.8, 1.0) {
            let x = v.px(k * 0.8 + rng.range(0.05, 0.3), 1.0);
            let (w, h) = (
                rng.range(0.15, 0.3) * v.unit,
                rng.range(0.12, 0.22) * v.unit,
            );
            let y = rng.range(0.08, 0.2) * v.unit;
            raster::rect(img, x, y, x + w, y + h, mix(p.ground, [40, 20, 0], 0.5));
            raster::vgradient_box(
                img,
                [x + 0.1 * h, y + 0.1 * h, x + w - 0.1 * h, y + 0.9 * h],
                p.sky[0],
                p.accents[1],
            );
            raster::ellipse(
                img,
                x + 0.5 * w,
                y + 0.6 * h,
                0.15 * h,
                0.15 * h,
                p.accents[0],
            );
        }
        raster::rect(
            img,
            0.0,
            floor - 0.03 * v.unit,
            v.aspect * v.unit,
            floor,
            p.ink,
        );
        raster::vgradient(img, floor, v.unit, p.near, p.ground);
        let seam = mix(p.ground, p.ink, 0.5);
        for (k, _) in v.slots(self.seed ^ 8, 0.18, 1.0) {
            let x = v.px(k * 0.18, 1.0);
            raster::line(
                img,
                (x, floor),
                (x - 0.3 * (x - 0.5 * v.aspect * v.unit), v.unit),
                1.5,
                seam,
            );
        }
    }
}

/// Camera for one frame: pixels per world unit and the horizontal pan.
struct View {
    unit: f32,
    cam: f32,
    aspect: f32,
}

impl View {
    /// Screen x of world x `wx` on a layer moving at `parallax` of the camera.
    fn px(&self, wx: f32, parallax: f32) -> f32 {
        (wx - self.cam * parallax) * self.unit
    }

    /// Indices `k` (as f32) of world slots `spacing` wide that may be visible
    /// on a layer, each with its own generator keyed by the slot.
    fn slots(&self, key: u64, spacing: f32, parallax: f32) -> impl Iterator<Item = (f32, Rng)> {
        let first = (self.cam * parallax / spacing).floor() as i64 - 2;
        let last = ((self.cam * parallax + self.aspect) / spacing).ceil() as i64 + 1;
        (first..=last).map(move |k| (k as f32, Rng::new(key).fork(k as u64)))
    }
}

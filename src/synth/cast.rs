//! The characters of a synthetic series: bodies, heads, eyes and limbs made of
//! simple shapes, walking, bobbing, waving, blinking and talking over time.
//!
//! Local features need characters with corners, blobs and thin limbs at
//! several sizes; perceptual hashes need them to move a little between
//! neighbouring frames, as hand-drawn animation does.

use image::RgbImage;

use super::scene::Palette;
use super::{Rng, hsv, mix, raster};

#[derive(Debug, Clone, Copy)]
enum Body {
    Ellipse,
    Box,
    Pear,
}

#[derive(Debug, Clone, Copy)]
enum Head {
    Circle,
    Square,
    Oval,
}

#[derive(Debug, Clone, Copy)]
enum Extra {
    Ears,
    Antenna,
    Hat,
    Horns,
    Nothing,
}

/// One member of a cast. All lengths are fractions of the character height.
#[derive(Debug, Clone)]
pub(crate) struct Character {
    /// Where the feet touch the ground, in frame heights from the top.
    pub ground: f32,
    size: f32,
    x0: f32,
    sway: f32,
    sway_rate: f32,
    phase: f32,
    gait: f32,
    bounce: f32,
    body: Body,
    head: Head,
    extra: Extra,
    eyes: u32,
    colors: [[u8; 3]; 5],
    body_w: f32,
    head_r: f32,
    leg: f32,
}

impl Character {
    /// Character `i` of `n`, standing in its own slot across the frame.
    pub(crate) fn new(rng: &mut Rng, p: &Palette, i: usize, n: usize, horizon: f32) -> Self {
        let base = mix(
            p.accents[i % 4],
            hsv(rng.range(0.0, 360.0), 0.7, 0.9),
            rng.range(0.0, 0.5),
        );
        let colors = [
            base,
            mix(base, [255; 3], 0.45),
            mix(base, [0; 3], 0.35),
            p.accents[(i + 2) % 4],
            p.ink,
        ];
        Character {
            ground: (horizon + rng.range(0.22, 0.38)).min(0.97),
            size: rng.range(0.3, 0.55),
            x0: (i as f32 + rng.range(0.3, 0.7)) / n as f32,
            sway: rng.range(0.03, 0.12),
            sway_rate: rng.range(0.01, 0.04),
            phase: rng.range(0.0, 6.3),
            gait: rng.range(0.12, 0.3),
            bounce: rng.range(0.0, 0.06),
            body: [Body::Ellipse, Body::Box, Body::Pear][rng.below(3) as usize],
            head: [Head::Circle, Head::Square, Head::Oval][rng.below(3) as usize],
            extra: [
                Extra::Ears,
                Extra::Antenna,
                Extra::Hat,
                Extra::Horns,
                Extra::Nothing,
            ][rng.below(5) as usize],
            eyes: 1 + rng.below(3),
            colors,
            body_w: rng.range(0.3, 0.5),
            head_r: rng.range(0.14, 0.22),
            leg: rng.range(0.18, 0.3),
        }
    }

    /// Draws the character as it is at time `t`; `unit` is the frame height.
    pub(crate) fn draw(&self, img: &mut RgbImage, t: f32, unit: f32) {
        let [main, light, dark, trim, ink] = self.colors;
        let s = self.size * unit;
        let step = self.gait * t + self.phase;
        let x =
            (self.x0 + self.sway * (self.sway_rate * t + self.phase).sin()) * img.width() as f32;
        let facing = (self.sway_rate * t + self.phase).cos().signum();
        let hip = self.ground * unit - self.leg * s - step.sin().abs() * self.bounce * s;
        let limb = (0.06 * s).max(1.0);
        for (dx, sign) in [(-0.1, 1.0), (0.1, -1.0)] {
            let a = 0.5 * sign * step.sin();
            let foot = (
                x + dx * s + a.sin() * self.leg * s,
                hip + a.cos() * self.leg * s,
            );
            raster::line(img, (x + dx * s, hip), foot, limb, dark);
            raster::ellipse(
                img,
                foot.0 + facing * 0.03 * s,
                foot.1,
                0.07 * s,
                0.035 * s,
                ink,
            );
        }
        let (bw, bh) = (self.body_w * s, (0.95 - self.leg - 2.0 * self.head_r) * s);
        let (top, cy) = (hip - bh, hip - bh * 0.5);
        self.draw_body(img, x, cy, bw, bh, s);
        for (side, wave) in [(-1.0, false), (1.0, self.eyes == 2)] {
            let sh = (x + side * bw * 0.45, top + 0.2 * bh);
            let a = if wave {
                2.3 + 0.5 * (1.7 * step).sin()
            } else {
                0.35 - 0.4 * side * step.sin()
            };
            let hand = (sh.0 + side * a.sin() * 0.28 * s, sh.1 + a.cos() * 0.28 * s);
            raster::line(img, sh, hand, limb, dark);
            raster::ellipse(img, hand.0, hand.1, 0.045 * s, 0.045 * s, light);
        }
        let r = self.head_r * s;
        let (hx, hy) = (x + 0.02 * s * (0.5 * step).sin(), top - 0.8 * r);
        self.draw_extra(img, hx, hy, r, trim, ink);
        let o = (0.012 * s).max(1.0);
        match self.head {
            Head::Circle => raster::outlined_ellipse(img, (hx, hy), (r, r), o, [main, ink]),
            Head::Square => {
                raster::outlined_rect(img, [hx - r, hy - r, hx + r, hy + r], o, [main, ink])
            }
            Head::Oval => {
                raster::outlined_ellipse(img, (hx, hy), (0.8 * r, 1.15 * r), o, [main, ink])
            }
        }
        self.draw_face(img, hx + facing * 0.15 * r, hy, r, t, ink);
    }

    fn draw_body(&self, img: &mut RgbImage, x: f32, cy: f32, bw: f32, bh: f32, s: f32) {
        let [main, light, _, trim, ink] = self.colors;
        let (hw, hh) = (bw * 0.5, bh * 0.5);
        let o = (0.012 * s).max(1.0);
        match self.body {
            Body::Ellipse => {
                raster::outlined_ellipse(img, (x, cy), (hw, hh), o, [main, ink]);
                raster::ellipse(img, x, cy + 0.15 * hh, 0.6 * hw, 0.6 * hh, light);
            }
            Body::Box => {
                raster::outlined_rect(img, [x - hw, cy - hh, x + hw, cy + hh], o, [main, ink]);
                raster::rect(img, x - hw, cy - 0.1 * hh, x + hw, cy + 0.15 * hh, trim);
                for k in [-0.5, 0.5] {
                    raster::ellipse(img, x + k * hw, cy + 0.5 * hh, 0.06 * s, 0.06 * s, light);
                }
            }
            Body::Pear => {
                let shape = [
                    (x - 0.45 * hw, cy - hh),
                    (x + 0.45 * hw, cy - hh),
                    (x + 1.1 * hw, cy + hh),
                    (x - 1.1 * hw, cy + hh),
                ];
                let grow: Vec<(f32, f32)> = shape
                    .iter()
                    .map(|&(px, py)| (x + (px - x) * 1.06, cy + (py - cy) * 1.04))
                    .collect();
                raster::polygon(img, &grow, ink);
                raster::polygon(img, &shape, main);
                raster::line(img, (x, cy - hh), (x, cy + hh), (0.03 * s).max(1.0), trim);
            }
        }
    }

    fn draw_extra(
        &self,
        img: &mut RgbImage,
        hx: f32,
        hy: f32,
        r: f32,
        trim: [u8; 3],
        ink: [u8; 3],
    ) {
        match self.extra {
            Extra::Ears => {
                for side in [-1.0, 1.0] {
                    raster::ellipse(
                        img,
                        hx + side * 0.8 * r,
                        hy - 0.8 * r,
                        0.4 * r,
                        0.4 * r,
                        ink,
                    );
                    raster::ellipse(
                        img,
                        hx + side * 0.8 * r,
                        hy - 0.8 * r,
                        0.25 * r,
                        0.25 * r,
                        trim,
                    );
                }
            }
            Extra::Antenna => {
                raster::line(
                    img,
                    (hx, hy - r),
                    (hx + 0.4 * r, hy - 1.9 * r),
                    (0.08 * r).max(1.0),
                    ink,
                );
                raster::ellipse(img, hx + 0.4 * r, hy - 1.9 * r, 0.2 * r, 0.2 * r, trim);
            }
            Extra::Hat => {
                raster::rect(
                    img,
                    hx - 1.3 * r,
                    hy - 1.05 * r,
                    hx + 1.3 * r,
                    hy - 0.8 * r,
                    ink,
                );
                raster::rect(
                    img,
                    hx - 0.8 * r,
                    hy - 2.0 * r,
                    hx + 0.8 * r,
                    hy - 0.9 * r,
                    trim,
                );
            }
            Extra::Horns => {
                for side in [-1.0, 1.0] {
                    let b = hx + side * 0.6 * r;
                    raster::polygon(
                        img,
                        &[
                            (b - 0.2 * r, hy - 0.6 * r),
                            (b + 0.2 * r, hy - 0.6 * r),
                            (b + side * 0.3 * r, hy - 1.6 * r),
                        ],
                        trim,
                    );
                }
            }
            Extra::Nothing => {}
        }
    }

    fn draw_face(&self, img: &mut RgbImage, fx: f32, fy: f32, r: f32, t: f32, ink: [u8; 3]) {
        let blink = (t + self.phase * 10.0).rem_euclid(37.0) < 2.0;
        let n = self.eyes as f32;
        let er = r * if self.eyes == 1 { 0.38 } else { 0.26 };
        for e in 0..self.eyes {
            let ex = fx + (e as f32 - (n - 1.0) * 0.5) * er * 2.3;
            let ey = fy - 0.2 * r;
            if blink {
                raster::line(img, (ex - er, ey), (ex + er, ey), (0.12 * er).max(1.0), ink);
            } else {
                raster::ellipse(img, ex, ey, er, er * 1.15, [250, 250, 250]);
                let look = 0.35 * er * (0.07 * t + self.phase).sin();
                raster::ellipse(img, ex + look, ey + 0.1 * er, 0.45 * er, 0.5 * er, ink);
                raster::ellipse(
                    img,
                    ex + look + 0.15 * er,
                    ey - 0.1 * er,
                    0.13 * er,
                    0.13 * er,
                    [255; 3],
                );
            }
        }
        let open = (0.4 * t + self.phase).sin() > 0.3;
        if open {
            raster::ellipse(img, fx, fy + 0.5 * r, 0.25 * r, 0.15 * r, [120, 20, 30]);
        } else {
            raster::line(
                img,
                (fx - 0.25 * r, fy + 0.45 * r),
                (fx + 0.25 * r, fy + 0.5 * r),
                (0.07 * r).max(1.0),
                ink,
            );
        }
    }
}

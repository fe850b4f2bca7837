//! Synthetic cartoon series: a palette, a panning backdrop and a small cast.
//!
//! A [`Series`] is what a reference catalogue would hold stills of: every
//! frame shares its look (colours, backdrop kind, characters) while the camera
//! pans and the cast moves, so stills sampled every few frames and the frames
//! in between them are all distinct but related. Geometry is expressed in
//! units of the frame height, so one series renders at any resolution.

use image::RgbImage;

use super::backdrop::Backdrop;
use super::cast::Character;
use super::{Rng, hsv};

/// Colours shared by every frame of a series.
#[derive(Debug, Clone)]
pub(crate) struct Palette {
    pub sky: [[u8; 3]; 2],
    pub far: [u8; 3],
    pub near: [u8; 3],
    pub ground: [u8; 3],
    pub accents: [[u8; 3]; 4],
    pub ink: [u8; 3],
}

impl Palette {
    fn new(rng: &mut Rng) -> Self {
        let h = rng.range(0.0, 360.0);
        let dusk = rng.chance(0.3);
        let sky = if dusk {
            [hsv(h + 240.0, 0.6, 0.35), hsv(h + 20.0, 0.7, 0.95)]
        } else {
            [hsv(h, rng.range(0.3, 0.7), 0.95), hsv(h + 15.0, 0.15, 1.0)]
        };
        let gh = h + rng.range(90.0, 200.0);
        let accent = |k: f32, r: &mut Rng| {
            hsv(
                h + k + r.range(-20.0, 20.0),
                r.range(0.5, 0.9),
                r.range(0.6, 1.0),
            )
        };
        Palette {
            sky,
            far: hsv(gh + 20.0, 0.3, rng.range(0.55, 0.75)),
            near: hsv(gh, 0.5, rng.range(0.45, 0.65)),
            ground: hsv(gh - 15.0, 0.6, rng.range(0.3, 0.5)),
            accents: [
                accent(60.0, rng),
                accent(150.0, rng),
                accent(210.0, rng),
                accent(300.0, rng),
            ],
            ink: hsv(h + 200.0, 0.5, 0.12),
        }
    }
}

/// One reproducible cartoon series, made from a seed.
///
/// ```
/// use frametrace::synth::Series;
/// let series = Series::new(42);
/// let still = series.frame(8.0, 480, 270);
/// assert_eq!(still.dimensions(), (480, 270));
/// ```
#[derive(Debug, Clone)]
pub struct Series {
    seed: u64,
    palette: Palette,
    backdrop: Backdrop,
    pan: f32,
    cast: Vec<Character>,
}

impl Series {
    /// The series determined by `seed`; different seeds look clearly different.
    pub fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let palette = Palette::new(&mut rng);
        let backdrop = Backdrop::new(&mut rng, seed);
        let pan = rng.range(0.003, 0.008) * if rng.chance(0.5) { 1.0 } else { -1.0 };
        let n = 2 + rng.below(3) as usize;
        let cast = (0..n)
            .map(|i| {
                Character::new(
                    &mut rng.fork(100 + i as u64),
                    &palette,
                    i,
                    n,
                    backdrop.horizon,
                )
            })
            .collect();
        Series {
            seed,
            palette,
            backdrop,
            pan,
            cast,
        }
    }

    /// The seed this series was made from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Renders the frame at time `t` (in frames; fractional times are valid
    /// in-betweens) at `width` x `height` pixels.
    pub fn frame(&self, t: f32, width: u32, height: u32) -> RgbImage {
        let mut img = RgbImage::new(width, height);
        if width == 0 || height == 0 {
            return img;
        }
        self.backdrop.draw(&mut img, &self.palette, self.pan * t);
        let mut order: Vec<&Character> = self.cast.iter().collect();
        order.sort_by(|a, b| a.ground.total_cmp(&b.ground));
        for c in order {
            c.draw(&mut img, t, height as f32);
        }
        img
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::synth::backdrop::Kind;

    /// Mean absolute difference per channel between two same-size images.
    pub(crate) fn mad(a: &RgbImage, b: &RgbImage) -> f32 {
        assert_eq!(a.dimensions(), b.dimensions());
        let sum: u64 = a
            .as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(&x, &y)| u64::from(x.abs_diff(y)))
            .sum();
        sum as f32 / a.as_raw().len().max(1) as f32
    }

    #[test]
    fn same_seed_same_pixels() {
        let a = Series::new(11).frame(17.5, 320, 180);
        let b = Series::new(11).frame(17.5, 320, 180);
        assert_eq!(a.as_raw(), b.as_raw());
        assert_eq!(a.dimensions(), (320, 180));
    }

    #[test]
    fn different_seeds_look_clearly_different() {
        let frames: Vec<RgbImage> = (0..8)
            .map(|s| Series::new(s).frame(8.0, 192, 108))
            .collect();
        for (i, a) in frames.iter().enumerate() {
            for b in &frames[i + 1..] {
                assert!(mad(a, b) > 25.0, "seeds {i}: mean abs diff {}", mad(a, b));
            }
        }
    }

    #[test]
    fn every_backdrop_kind_and_cast_size_occurs() {
        let series: Vec<Series> = (0..40).map(Series::new).collect();
        for kind in [Kind::Hills, Kind::City, Kind::Room] {
            assert!(
                series.iter().any(|s| s.backdrop.kind == kind),
                "{kind:?} never drawn"
            );
        }
        assert!(series.iter().all(|s| (2..=4).contains(&s.cast.len())));
        assert!(
            series.iter().any(|s| s.cast.len() == 2) && series.iter().any(|s| s.cast.len() == 4)
        );
    }

    #[test]
    fn neighbouring_frames_differ_a_little() {
        for seed in 0..6 {
            let s = Series::new(seed);
            let still = s.frame(20.0, 240, 135);
            let next = s.frame(21.0, 240, 135);
            let later = s.frame(60.0, 240, 135);
            let (near, far) = (mad(&still, &next), mad(&still, &later));
            assert!(
                near > 0.5,
                "seed {seed}: frames 20 and 21 nearly identical ({near})"
            );
            assert!(
                near < 10.0,
                "seed {seed}: frames 20 and 21 too different ({near})"
            );
            assert!(
                far > near,
                "seed {seed}: 40 frames apart ({far}) closer than 1 ({near})"
            );
        }
    }

    #[test]
    fn renders_at_any_size() {
        let s = Series::new(3);
        assert_eq!(s.frame(0.0, 0, 0).dimensions(), (0, 0));
        assert_eq!(s.frame(0.0, 1, 1).dimensions(), (1, 1));
        let small = s.frame(5.0, 160, 90);
        let big = image::imageops::resize(
            &s.frame(5.0, 640, 360),
            160,
            90,
            image::imageops::FilterType::Triangle,
        );
        assert!(
            mad(&small, &big) < 12.0,
            "resolutions disagree: {}",
            mad(&small, &big)
        );
    }

    #[test]
    fn frames_have_detail_at_several_scales() {
        // Colour count and edge density: a flat or noisy frame would fail one.
        let img = Series::new(9).frame(4.0, 480, 270);
        let colours: std::collections::HashSet<[u8; 3]> = img.pixels().map(|p| p.0).collect();
        assert!(colours.len() > 20, "{} colours", colours.len());
        let edges: usize = (0..270)
            .map(|y| {
                (1..480)
                    .filter(|&x| img.get_pixel(x, y) != img.get_pixel(x - 1, y))
                    .count()
            })
            .sum();
        let frac = edges as f32 / (480.0 * 270.0);
        assert!((0.01..0.5).contains(&frac), "edge fraction {frac}");
    }
}

//! Leak categories of the development set, and realistic parameters for each.
//!
//! Benchmarks and the bundled sample need leaks distributed like real ones:
//! a [`Category`] names a kind of leak as `truth.csv` does, and
//! [`random_leak`] turns it into a concrete [`Leak`] with parameters drawn
//! from the ranges the development set documents.

use super::{Leak, Rng};

/// A leak category, named as in the development set's `truth.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// The indexed still itself, re-encoded.
    Exact,
    /// A frame between two indexed stills (the caller renders it; the leak is exact).
    Inbetween,
    /// Downscaled to 30-60 %.
    Scale,
    /// JPEG at quality 15-30.
    JpegHeavy,
    /// Brightness, contrast, saturation and gamma changes.
    Color,
    /// Grayscale.
    Gray,
    /// Mirrored left-right.
    Flip,
    /// Rotated 3-8 degrees either way, cropped to avoid empty corners.
    Rotate,
    /// 60-90 % of each side kept.
    Crop,
    /// Letterbox, pillarbox or a border.
    Pad,
    /// Retake notes over 10-35 % of the frame.
    Overlay,
    /// Pasted on a white retake sheet.
    Sheet,
    /// Notes, crop, colour, rescale and heavy JPEG together.
    Combo,
}

impl Category {
    /// Every category, in the development set's order.
    pub const ALL: [Category; 13] = [
        Category::Exact,
        Category::Inbetween,
        Category::Scale,
        Category::JpegHeavy,
        Category::Color,
        Category::Gray,
        Category::Flip,
        Category::Rotate,
        Category::Crop,
        Category::Pad,
        Category::Overlay,
        Category::Sheet,
        Category::Combo,
    ];

    /// The name used in `truth.csv` (`exact`, `jpeg_heavy`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Category::Exact => "exact",
            Category::Inbetween => "inbetween",
            Category::Scale => "scale",
            Category::JpegHeavy => "jpeg_heavy",
            Category::Color => "color",
            Category::Gray => "gray",
            Category::Flip => "flip",
            Category::Rotate => "rotate",
            Category::Crop => "crop",
            Category::Pad => "pad",
            Category::Overlay => "overlay",
            Category::Sheet => "sheet",
            Category::Combo => "combo",
        }
    }
}

/// A leak of `category` with parameters drawn from `seed` in the ranges of
/// the development set. [`Category::Inbetween`] gives [`Leak::Exact`]: the
/// in-between part is which frame the caller renders.
pub fn random_leak(category: Category, seed: u64) -> Leak {
    let mut rng = Rng::new(seed);
    match category {
        Category::Exact | Category::Inbetween => Leak::Exact,
        Category::Scale => Leak::Scale(rng.range(0.3, 0.6)),
        Category::JpegHeavy => Leak::JpegHeavy(15 + rng.below(16) as u8),
        Category::Color => random_color(&mut rng),
        Category::Gray => Leak::Gray,
        Category::Flip => Leak::Flip,
        Category::Rotate => {
            Leak::Rotate(rng.range(3.0, 8.0) * if rng.chance(0.5) { 1.0 } else { -1.0 })
        }
        Category::Crop => {
            let (kw, kh) = (rng.range(0.6, 0.9), rng.range(0.6, 0.9));
            let (x0, y0) = (rng.range(0.0, 1.0 - kw), rng.range(0.0, 1.0 - kh));
            Leak::Crop {
                x0,
                y0,
                x1: x0 + kw,
                y1: y0 + kh,
            }
        }
        Category::Pad => {
            let color = [[0; 3], [255; 3], [128; 3], [20, 20, 40]][rng.below(4) as usize];
            let (a, b) = (rng.range(0.08, 0.2), rng.range(0.03, 0.1));
            match rng.below(3) {
                0 => Leak::Pad {
                    left: 0.0,
                    top: a,
                    right: 0.0,
                    bottom: a,
                    color: [0; 3],
                },
                1 => Leak::Pad {
                    left: a,
                    top: 0.0,
                    right: a,
                    bottom: 0.0,
                    color: [0; 3],
                },
                _ => Leak::Pad {
                    left: b,
                    top: b,
                    right: b,
                    bottom: b,
                    color,
                },
            }
        }
        Category::Overlay => Leak::Overlay {
            coverage: rng.range(0.1, 0.35),
        },
        Category::Sheet => Leak::Sheet,
        Category::Combo => Leak::Combo,
    }
}

pub(crate) fn random_color(rng: &mut Rng) -> Leak {
    Leak::Color {
        brightness: rng.range(0.75, 1.25),
        contrast: rng.range(0.7, 1.3),
        saturation: rng.range(0.3, 1.6),
        gamma: rng.range(0.7, 1.4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_names_match_the_development_set() {
        let names: Vec<&str> = Category::ALL.iter().map(|c| c.name()).collect();
        let devbench =
            "exact inbetween scale jpeg_heavy color gray flip rotate crop pad overlay sheet combo";
        assert_eq!(names.join(" "), devbench);
    }

    #[test]
    fn random_parameters_stay_in_the_development_set_ranges() {
        for seed in 0..200 {
            match random_leak(Category::Scale, seed) {
                Leak::Scale(f) => assert!((0.3..0.6).contains(&f)),
                other => panic!("{other:?}"),
            }
            match random_leak(Category::JpegHeavy, seed) {
                Leak::JpegHeavy(q) => assert!((15..=30).contains(&q)),
                other => panic!("{other:?}"),
            }
            match random_leak(Category::Rotate, seed) {
                Leak::Rotate(d) => assert!((3.0..8.0).contains(&d.abs())),
                other => panic!("{other:?}"),
            }
            match random_leak(Category::Crop, seed) {
                Leak::Crop { x0, y0, x1, y1 } => {
                    assert!((0.6..0.9).contains(&(x1 - x0)) && (0.6..0.9).contains(&(y1 - y0)));
                    assert!(x0 >= 0.0 && y0 >= 0.0 && x1 <= 1.0 && y1 <= 1.0);
                }
                other => panic!("{other:?}"),
            }
            match random_leak(Category::Overlay, seed) {
                Leak::Overlay { coverage } => assert!((0.1..0.35).contains(&coverage)),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(random_leak(Category::Inbetween, 1), Leak::Exact);
    }
}

//! Pixel transforms behind the leak simulations: colour grading, grayscale
//! and small rotations cropped to the largest clean rectangle.
//!
//! Kept apart from [`super::leak`] so that module reads as the catalogue of
//! leak kinds while the per-pixel arithmetic lives (and is tested) here.

use image::{Rgb, RgbImage};

use super::mix;

/// Moves saturation (0 gray, 1 unchanged), then applies
/// `((v * brightness - 0.5) * contrast + 0.5) ^ gamma` to 0..1 values.
pub(crate) fn grade(
    img: &RgbImage,
    brightness: f32,
    contrast: f32,
    saturation: f32,
    gamma: f32,
) -> RgbImage {
    let lut: Vec<u8> = (0..=255u8)
        .map(|v| {
            let x = ((f32::from(v) / 255.0 * brightness - 0.5) * contrast + 0.5).clamp(0.0, 1.0);
            (x.powf(gamma) * 255.0).round() as u8
        })
        .collect();
    let mut out = img.clone();
    for p in out.pixels_mut() {
        let y = f32::from(luma(p.0));
        let s = p.0.map(|c| {
            (y + (f32::from(c) - y) * saturation)
                .round()
                .clamp(0.0, 255.0) as u8
        });
        p.0 = s.map(|c| lut[usize::from(c)]);
    }
    out
}

/// Grayscale with the luma in all three channels.
pub(crate) fn gray(img: &RgbImage) -> RgbImage {
    let mut out = img.clone();
    for p in out.pixels_mut() {
        p.0 = [luma(p.0); 3];
    }
    out
}

/// ITU-R 601 luma in Pillow's fixed point (`convert("L")`):
/// `(19595 R + 38470 G + 7471 B + 0x8000) >> 16`.
pub(crate) fn luma(p: [u8; 3]) -> u8 {
    ((u32::from(p[0]) * 19595 + u32::from(p[1]) * 38470 + u32::from(p[2]) * 7471 + 0x8000) >> 16)
        as u8
}

/// Rotates about the centre with bilinear sampling, keeping the largest
/// centred same-aspect rectangle that lies inside the rotated frame.
pub(crate) fn rotate_cropped(img: &RgbImage, deg: f32) -> RgbImage {
    let (w, h) = (img.width() as f32, img.height() as f32);
    if w < 2.0 || h < 2.0 {
        return img.clone();
    }
    let (sin, cos) = deg.to_radians().sin_cos();
    let (sa, ca) = (sin.abs(), cos.abs());
    let k = (w / (w * ca + h * sa)).min(h / (w * sa + h * ca));
    let (ow, oh) = (
        (w * k).floor().max(1.0) as u32,
        (h * k).floor().max(1.0) as u32,
    );
    let sample = |x: f32, y: f32| -> [u8; 3] {
        let (x, y) = (x.clamp(0.0, w - 1.001), y.clamp(0.0, h - 1.001));
        let (x0, y0) = (x as u32, y as u32);
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let top = mix(img.get_pixel(x0, y0).0, img.get_pixel(x0 + 1, y0).0, fx);
        let bottom = mix(
            img.get_pixel(x0, y0 + 1).0,
            img.get_pixel(x0 + 1, y0 + 1).0,
            fx,
        );
        mix(top, bottom, fy)
    };
    RgbImage::from_fn(ow, oh, |x, y| {
        let dx = x as f32 + 0.5 - ow as f32 * 0.5;
        let dy = y as f32 + 0.5 - oh as f32 * 0.5;
        // Inverse rotation: output (dx, dy) comes from the source point rotated back.
        let sx = cos * dx - sin * dy + w * 0.5 - 0.5;
        let sy = sin * dx + cos * dy + h * 0.5 - 0.5;
        Rgb(sample(sx, sy))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luma_matches_pillow() {
        // Image.new("RGB", (1, 1), c).convert("L").getpixel((0, 0)) with Pillow 13.0.0.
        let cases = [
            ([255, 0, 0], 76),
            ([0, 255, 0], 150),
            ([0, 0, 255], 29),
            ([12, 200, 99], 132),
            ([255, 255, 255], 255),
            ([128, 64, 32], 79),
        ];
        for (c, want) in cases {
            assert_eq!(luma(c), want, "{c:?}");
        }
    }

    #[test]
    fn desaturation_gives_gray_and_gamma_darkens() {
        let img = RgbImage::from_fn(16, 16, |x, y| Rgb([(x * 16) as u8, (y * 16) as u8, 200]));
        assert!(
            grade(&img, 1.0, 1.0, 0.0, 1.0)
                .pixels()
                .all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2])
        );
        let dark = grade(&img, 1.0, 1.0, 1.0, 2.0);
        assert!(
            dark.pixels()
                .zip(img.pixels())
                .all(|(d, o)| (0..3).all(|i| d.0[i] <= o.0[i]))
        );
    }

    /// Top half white, bottom half black: the edge shows which way a rotation turned.
    fn horizon() -> RgbImage {
        RgbImage::from_fn(
            200,
            100,
            |_, y| if y < 50 { Rgb([255; 3]) } else { Rgb([0; 3]) },
        )
    }

    #[test]
    fn zero_rotation_is_identity() {
        let img = RgbImage::from_fn(40, 30, |x, y| Rgb([(x * 6) as u8, (y * 8) as u8, 7]));
        assert_eq!(rotate_cropped(&img, 0.0).as_raw(), img.as_raw());
    }

    #[test]
    fn rotation_is_counter_clockwise_and_cropped_inside() {
        let out = rotate_cropped(&horizon(), 8.0);
        let (w, h) = out.dimensions();
        // Largest same-aspect rectangle inside a 200x100 frame turned 8 degrees.
        let (s, c) = 8f32.to_radians().sin_cos();
        let k = (200.0 / (200.0 * c + 100.0 * s)).min(100.0 / (200.0 * s + 100.0 * c));
        assert_eq!((w, h), ((200.0 * k) as u32, (100.0 * k) as u32));
        assert!(w < 200 && h < 100 && (w as f32 / h as f32 - 2.0).abs() < 0.05);
        // Counter-clockwise: the edge rises on the right, sinks on the left.
        assert_eq!(out.get_pixel(w - 1, h / 2 - 3).0, [0; 3]);
        assert_eq!(out.get_pixel(0, h / 2 + 3).0, [255; 3]);
        // No empty corners: corner pixels come from inside the source.
        let colourful = RgbImage::from_pixel(200, 100, Rgb([90, 160, 220]));
        let turned = rotate_cropped(&colourful, -6.0);
        let (tw, th) = turned.dimensions();
        for (x, y) in [(0, 0), (tw - 1, 0), (0, th - 1), (tw - 1, th - 1)] {
            assert_eq!(turned.get_pixel(x, y).0, [90, 160, 220]);
        }
    }
}

//! The working image of `Fast` mode: whatever a decoder produced, turned into
//! 8-bit `Rgb8` or `Luma8` with alpha composited on white and EXIF
//! orientation applied, so the fingerprint stage sees one shape of input.

use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, RgbImage};

use super::Decoded;

/// Normalises `image` and applies `orientation`. The reported dimensions are
/// those of the normalised image (the caller overrides them when it decoded
/// at a reduced scale).
pub(super) fn finish(image: DynamicImage, orientation: Orientation) -> Decoded {
    let mut image = to_working(image);
    image.apply_orientation(orientation);
    let (width, height) = (image.width(), image.height());
    Decoded {
        image,
        width,
        height,
    }
}

/// Full-size dimensions after `orientation` is applied to a `width` x `height` image.
pub(super) fn oriented_dims(width: u32, height: u32, orientation: Orientation) -> (u32, u32) {
    match orientation {
        Orientation::Rotate90
        | Orientation::Rotate270
        | Orientation::Rotate90FlipH
        | Orientation::Rotate270FlipH => (height, width),
        _ => (width, height),
    }
}

/// Converts to `Luma8` (grey sources) or `Rgb8` (everything else), compositing
/// any alpha channel on white and reducing deeper samples to 8 bits.
fn to_working(image: DynamicImage) -> DynamicImage {
    let grey = !image.color().has_color();
    match (grey, image.color().has_alpha()) {
        (true, false) => match image {
            DynamicImage::ImageLuma8(_) => image,
            other => DynamicImage::ImageLuma8(other.to_luma8()),
        },
        (false, false) => match image {
            DynamicImage::ImageRgb8(_) => image,
            other => DynamicImage::ImageRgb8(other.to_rgb8()),
        },
        (true, true) => {
            let la = image.to_luma_alpha8();
            let mut out = GrayImage::new(la.width(), la.height());
            for (dst, src) in out.pixels_mut().zip(la.pixels()) {
                dst.0[0] = over_white(src.0[0], src.0[1]);
            }
            DynamicImage::ImageLuma8(out)
        }
        (false, true) => {
            let rgba = image.to_rgba8();
            let mut out = RgbImage::new(rgba.width(), rgba.height());
            for (dst, src) in out.pixels_mut().zip(rgba.pixels()) {
                let [r, g, b, a] = src.0;
                dst.0 = [over_white(r, a), over_white(g, a), over_white(b, a)];
            }
            DynamicImage::ImageRgb8(out)
        }
    }
}

/// `value` with coverage `alpha` over a white background, rounded.
fn over_white(value: u8, alpha: u8) -> u8 {
    let (v, a) = (u32::from(value), u32::from(alpha));
    let blended = (v * a + 255 * (255 - a) + 127) / 255;
    // Both terms are at most 255 * 255, so the quotient fits in a u8.
    blended.min(255) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{LumaA, Rgba, RgbaImage};

    #[test]
    fn over_white_endpoints_and_midpoint() {
        assert_eq!(over_white(0, 255), 0);
        assert_eq!(over_white(0, 0), 255);
        assert_eq!(over_white(100, 0), 255);
        // 0 at half coverage: 255 * 127 / 255 = 127.
        assert_eq!(over_white(0, 128), 127);
    }

    #[test]
    fn rgba_becomes_rgb_on_white() {
        let img = RgbaImage::from_pixel(2, 1, Rgba([255, 0, 0, 0]));
        let out = to_working(DynamicImage::ImageRgba8(img));
        assert_eq!(
            out.as_rgb8().map(|i| i.get_pixel(0, 0).0),
            Some([255, 255, 255])
        );
    }

    #[test]
    fn grey_alpha_becomes_luma() {
        let img = image::ImageBuffer::from_pixel(1, 1, LumaA([0u8, 255]));
        let out = to_working(DynamicImage::ImageLumaA8(img));
        assert_eq!(out.as_luma8().map(|i| i.get_pixel(0, 0).0), Some([0]));
    }

    #[test]
    fn rotation_swaps_reported_dims() {
        let img = DynamicImage::ImageLuma8(GrayImage::new(4, 2));
        let d = finish(img, Orientation::Rotate90);
        assert_eq!((d.width, d.height), (2, 4));
        assert_eq!(oriented_dims(4, 2, Orientation::FlipVertical), (4, 2));
    }
}

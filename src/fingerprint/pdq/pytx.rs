//! The pixels python-threatexchange's `pdq_hasher` hands to `pdqhash`,
//! rebuilt from an `image` crate decode, so PDQ hashes of files match the
//! values ThreatExchange tools record.
//!
//! Their recipe (`_convert_image_to_correct_array_dimension`): open with
//! Pillow, convert `LA` (and `I;16`) to `RGB`, take `np.asarray`, stack a
//! 2-D array to three channels; `pdqhash` then reads channels 0..3 only.
//! Mapped onto what the `image` crate decodes:
//! - 8-bit grey (`L`) and grey+alpha (`LA`): grey copied to R, G, B; alpha
//!   ignored.
//! - RGBA: the first three channels, alpha ignored (not composited).
//! - 16-bit grey PNG: Pillow opens it as `I;16`, whose `RGB` conversion
//!   clips every value above 255 to 255 (Pillow `Convert.c`, `I16_RGB`);
//!   the `image` crate keeps all 16 bits, so the clip is done here.
//! - 16-bit colour and grey+alpha PNG: Pillow keeps the high byte
//!   (`RGB;16B`, `LA;16B`, `RGBA;16B` unpackers), not a rounded `v / 257`.
//! - Palette PNG: Pillow's recipe hashes the palette *indices*; the `image`
//!   crate expands palettes, so we hash the expanded colours (that is
//!   Pillow's `convert("RGB")`, not the pytx value). CMYK JPEG likewise
//!   hashes the decoder's RGB, not pytx's raw C, M, Y channels.
//! - Float images: the `image` crate's own 8-bit conversion.
//!
//! EXIF orientation is not applied by this recipe (pytx does not apply it).

use image::{DynamicImage, RgbImage};

/// The RGB image python-threatexchange would hash for `img` (see module
/// docs for the mode-by-mode rules and the palette/CMYK caveat).
pub fn pytx_rgb8(img: &DynamicImage) -> RgbImage {
    let (w, h) = (img.width(), img.height());
    let grey = |v: u8| [v, v, v];
    let raw: Vec<u8> = match img {
        DynamicImage::ImageRgb8(rgb) => return rgb.clone(),
        DynamicImage::ImageLuma8(l) => l.as_raw().iter().flat_map(|&v| grey(v)).collect(),
        DynamicImage::ImageLumaA8(la) => la
            .as_raw()
            .chunks_exact(2)
            .flat_map(|p| grey(p[0]))
            .collect(),
        DynamicImage::ImageRgba8(rgba) => rgba
            .as_raw()
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        DynamicImage::ImageLuma16(l) => l
            .as_raw()
            .iter()
            .flat_map(|&v| grey(v.min(255) as u8))
            .collect(),
        DynamicImage::ImageLumaA16(la) => la
            .as_raw()
            .chunks_exact(2)
            .flat_map(|p| grey(high(p[0])))
            .collect(),
        DynamicImage::ImageRgb16(rgb) => rgb.as_raw().iter().map(|&v| high(v)).collect(),
        DynamicImage::ImageRgba16(rgba) => rgba
            .as_raw()
            .chunks_exact(4)
            .flat_map(|p| [high(p[0]), high(p[1]), high(p[2])])
            .collect(),
        other => return other.to_rgb8(),
    };
    RgbImage::from_raw(w, h, raw).unwrap_or_else(|| img.to_rgb8())
}

/// Pillow's 16-to-8-bit unpack: the most significant byte.
fn high(v: u16) -> u8 {
    (v >> 8) as u8
}

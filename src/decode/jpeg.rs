//! JPEG decoding with libjpeg-turbo, the decoder inside Pillow.
//!
//! The reference hashes were computed on Pillow's pixels, and every other
//! JPEG decoder rounds a few samples differently, which flips near-median
//! hash bits. The `mozjpeg` crate wraps libjpeg-turbo's decoder, so both
//! modes see Pillow's pixels: `Exact` at full size, `Fast` scaled in the
//! IDCT (1/8, 1/4, 1/2 or 1) so a 1920x1080 frame needed only for global
//! hashes is decoded as 240x135. libjpeg reports fatal errors by unwinding
//! out of its error callback (`mozjpeg-sys`'s `unwinding` feature) and its
//! warnings are discarded, so every call here runs under `catch_unwind` and
//! nothing reaches stderr.

use std::panic::{AssertUnwindSafe, catch_unwind};

use image::{DynamicImage, GrayImage, RgbImage};
use mozjpeg::{ColorSpace, Decompress};

use super::markers::{self, Headers};
use super::{
    DecodeError, DecodeMode, Decoded, MAX_ALLOC, check_dimensions, one_line, panic_message, working,
};

/// Decodes a JPEG as `mode` asks: `Exact` at full size as stored (EXIF
/// orientation ignored), `Fast` at the smallest IDCT scale whose shorter side
/// is at least `min_side`, with EXIF orientation applied.
pub(super) fn decode(bytes: &[u8], mode: DecodeMode) -> Result<Decoded, DecodeError> {
    let headers = markers::read_headers(bytes);
    match mode {
        DecodeMode::Exact => {
            let image = guarded(|| read(bytes, &headers, 8, false))?;
            let (width, height) = (image.width(), image.height());
            Ok(Decoded {
                image,
                width,
                height,
            })
        }
        DecodeMode::Fast { min_side } => {
            let (full_w, full_h) = header_size(bytes, &headers)?;
            let eighths = scale_for(full_w.min(full_h), min_side);
            let image = guarded(|| read(bytes, &headers, eighths, false))?;
            let orientation = headers.orientation();
            let mut decoded = working::finish(image, orientation);
            (decoded.width, decoded.height) = working::oriented_dims(full_w, full_h, orientation);
            Ok(decoded)
        }
    }
}

/// Decodes a JPEG to RGB at the IDCT scale `Fast { min_side }` picks, with
/// nothing else: no orientation, no normalisation. The floor of what a
/// reduced-scale JPEG hasher can cost (used by the benchmarks).
pub fn decode_scaled_rgb(bytes: &[u8], min_side: u32) -> Result<RgbImage, DecodeError> {
    markers::check_complete(bytes)?;
    let headers = markers::read_headers(bytes);
    let (w, h) = header_size(bytes, &headers)?;
    let image = guarded(|| read(bytes, &headers, scale_for(w.min(h), min_side), true))?;
    Ok(image.into_rgb8())
}

/// The smallest scale, in eighths (1, 2, 4 or 8), that keeps a side of
/// `short` pixels at least `min_side` long; libjpeg rounds scaled sides up.
fn scale_for(short: u32, min_side: u32) -> u8 {
    [1u8, 2, 4]
        .into_iter()
        .find(|&n| (u64::from(short) * u64::from(n)).div_ceil(8) >= u64::from(min_side))
        .unwrap_or(8)
}

/// The frame size, checked against the limits before libjpeg sees the data.
fn header_size(bytes: &[u8], headers: &Headers<'_>) -> Result<(u32, u32), DecodeError> {
    if let Some((w, h)) = headers.size {
        check_dimensions(w, h)?;
        return Ok((w, h));
    }
    // No frame header found by the walk: libjpeg's own reading decides.
    guarded(|| {
        let d = Decompress::builder().from_mem(bytes).map_err(io_error)?;
        let size = (side(d.width())?, side(d.height())?);
        check_dimensions(size.0, size.1)?;
        Ok(size)
    })
}

/// One decode at `eighths`/8 scale: greyscale stays `Luma8` unless
/// `rgb_only`, CMYK and YCCK are converted to RGB as Pillow does.
fn read(
    bytes: &[u8],
    headers: &Headers<'_>,
    eighths: u8,
    rgb_only: bool,
) -> Result<DynamicImage, DecodeError> {
    if let Some((w, h)) = headers.size {
        check_dimensions(w, h)?;
    }
    let mut d = Decompress::builder().from_mem(bytes).map_err(io_error)?;
    let (w, h) = (side(d.width())?, side(d.height())?);
    check_dimensions(w, h)?;
    let out = match d.color_space() {
        ColorSpace::JCS_GRAYSCALE if !rgb_only => ColorSpace::JCS_GRAYSCALE,
        ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK => ColorSpace::JCS_CMYK,
        _ => ColorSpace::JCS_RGB,
    };
    // Peak memory: the output (plus its RGB copy for CMYK) and, for
    // progressive or multi-scan files, libjpeg's whole-image coefficients
    // (64 two-byte coefficients per block).
    let scaled = |side: u32| (u64::from(side) * u64::from(eighths)).div_ceil(8);
    let bytes_per_pixel = match out {
        ColorSpace::JCS_GRAYSCALE => 1,
        ColorSpace::JCS_CMYK => 7,
        _ => 3,
    };
    let coefficients: u64 = if markers::buffers_coefficients(bytes, headers) {
        d.components()
            .iter()
            .map(|c| u64::from(c.width_in_blocks) * u64::from(c.height_in_blocks) * 128)
            .sum()
    } else {
        0
    };
    if scaled(w) * scaled(h) * bytes_per_pixel + coefficients > MAX_ALLOC {
        return Err(DecodeError::OverMemoryLimit);
    }
    d.scale(eighths);
    let mut started = d.to_colorspace(out).map_err(io_error)?;
    let (ow, oh) = (side(started.width())?, side(started.height())?);
    let pixels: Vec<u8> = started.read_scanlines().map_err(io_error)?;
    started.finish().map_err(io_error)?;
    let short = || corrupt("decoder returned fewer pixels than the frame declares");
    Ok(match out {
        ColorSpace::JCS_GRAYSCALE => {
            DynamicImage::ImageLuma8(GrayImage::from_raw(ow, oh, pixels).ok_or_else(short)?)
        }
        ColorSpace::JCS_CMYK => {
            let rgb = pixels
                .chunks_exact(4)
                .flat_map(|p| cmyk_to_rgb([p[0], p[1], p[2], p[3]]))
                .collect();
            DynamicImage::ImageRgb8(RgbImage::from_raw(ow, oh, rgb).ok_or_else(short)?)
        }
        _ => DynamicImage::ImageRgb8(RgbImage::from_raw(ow, oh, pixels).ok_or_else(short)?),
    })
}

/// One CMYK pixel as libjpeg outputs it, to RGB as Pillow shows it.
///
/// Pillow reads every CMYK JPEG with Adobe polarity (raw mode `CMYK;I`,
/// "assume adobe conventions"), so its ink is `255 - output`, marker or not;
/// `convert("RGB")` then computes `r = (255 - k) - (255 - k) * c / 255`
/// (libImaging `cmyk2rgb`), and `convert("L")` goes through that RGB.
fn cmyk_to_rgb(output: [u8; 4]) -> [u8; 3] {
    let ink = output.map(|v| 255 - v);
    let not_k = u32::from(255 - ink[3]);
    let channel = |c: u8| {
        // Pillow's MULDIV255: rounded a * b / 255.
        let t = u32::from(c) * not_k + 128;
        let scaled = ((t >> 8) + t) >> 8;
        // scaled <= not_k <= 255, so the difference fits in a u8.
        not_k.saturating_sub(scaled).min(255) as u8
    };
    [channel(ink[0]), channel(ink[1]), channel(ink[2])]
}

/// Runs `f`, turning libjpeg's unwinding fatal errors into [`DecodeError`]s.
fn guarded<T>(f: impl FnOnce() -> Result<T, DecodeError>) -> Result<T, DecodeError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = panic_message(payload.as_ref());
        Err(match message.strip_prefix("libjpeg fatal error: ") {
            // "Unsupported marker type" is what a flipped byte looks like.
            Some(m) if m.starts_with("Unsupported") && !m.contains("marker") => {
                DecodeError::Unsupported(one_line(m))
            }
            Some(m) => corrupt(&one_line(m)),
            None => DecodeError::DecoderPanic {
                format: "JPEG",
                detail: one_line(&message),
            },
        })
    })
}

/// A libjpeg side length as `u32` (it cannot exceed 65500 in practice).
fn side(value: usize) -> Result<u32, DecodeError> {
    u32::try_from(value).map_err(|_| corrupt("frame size out of range"))
}

/// A corrupt-JPEG error with `detail`.
fn corrupt(detail: &str) -> DecodeError {
    DecodeError::Corrupt {
        format: "JPEG",
        detail: detail.to_owned(),
    }
}

/// The `mozjpeg` wrapper's own I/O-style errors (no image, suspension).
fn io_error(error: std::io::Error) -> DecodeError {
    corrupt(&one_line(&error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmyk_matches_pillow_formula() {
        // Pillow 13: Image.new("CMYK", (1, 1), (200, 50, 100, 30)).convert("RGB")
        // gives (49, 181, 137); libjpeg outputs the inverted ink.
        assert_eq!(cmyk_to_rgb([55, 205, 155, 225]), [49, 181, 137]);
        assert_eq!(cmyk_to_rgb([255, 255, 255, 255]), [255, 255, 255]);
        assert_eq!(cmyk_to_rgb([255, 255, 255, 0]), [0, 0, 0]);
    }

    #[test]
    fn scale_keeps_shorter_side() {
        assert_eq!(scale_for(1080, 128), 1);
        assert_eq!(scale_for(1080, 136), 2);
        assert_eq!(scale_for(200, 25), 1);
        assert_eq!(scale_for(200, 26), 2);
        assert_eq!(scale_for(200, 101), 8);
        assert_eq!(scale_for(7, 1), 1);
        // `frametrace hash` decodes a 1080p frame at 1/8 (240x135), indexing
        // and querying at 1/4 (480x270).
        assert_eq!(scale_for(1080, crate::decode::HASH_MIN_SIDE), 1);
        assert_eq!(scale_for(1080, crate::index::WORKING_MIN_SIDE), 2);
    }

    #[test]
    fn libjpeg_errors_are_errors() {
        // SOI then a frame header whose length runs past the data.
        let bytes = [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0xFF, 0xD9];
        let err = decode(&bytes, DecodeMode::Exact).err();
        assert!(
            matches!(err, Some(DecodeError::Corrupt { format: "JPEG", .. })),
            "{err:?}"
        );
    }
}

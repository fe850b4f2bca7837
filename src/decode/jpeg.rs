//! `Fast`-mode JPEG decoding at reduced scale.
//!
//! `jpeg-decoder` can scale in the IDCT (1/8, 1/4, 1/2, 1), so a 1920x1080
//! frame needed only for global hashes is decoded as 240x135 without ever
//! producing the full-size pixels. This module picks the scale, turns the
//! decoder's pixel formats (L8, L16, RGB24, CMYK32) into an `image` buffer,
//! and reads the EXIF orientation.

use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, ImageBuffer, ImageFormat, Luma, RgbImage};
use jpeg_decoder::{Decoder, Error as JpegError, PixelFormat};

use super::{DecodeError, Decoded, MAX_ALLOC, check_dimensions, one_line, working};

/// Decodes a JPEG at the smallest IDCT scale whose shorter side is at least
/// `min_side` (full size if the image is smaller than that).
pub(super) fn decode_scaled(bytes: &[u8], min_side: u32) -> Result<Decoded, DecodeError> {
    let mut decoder = Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size(usize::try_from(MAX_ALLOC).unwrap_or(usize::MAX));
    decoder.read_info().map_err(jpeg_error)?;
    let info = decoder.info().ok_or_else(|| corrupt("no frame header"))?;
    let (full_w, full_h) = (u32::from(info.width), u32::from(info.height));
    check_dimensions(full_w, full_h)?;

    // `scale` picks the smallest factor meeting the request on either axis,
    // so ask only for the shorter side and make the longer one unreachable.
    let short = u16::try_from(min_side).unwrap_or(u16::MAX);
    let (req_w, req_h) = if full_w <= full_h {
        (short, u16::MAX)
    } else {
        (u16::MAX, short)
    };
    let pixels = match decoder.scale(req_w, req_h).and_then(|_| decoder.decode()) {
        Ok(pixels) => pixels,
        // Features jpeg-decoder lacks (e.g. some lossless modes) may still be
        // readable by the `image` crate's decoder at full size.
        Err(JpegError::Unsupported(_)) => {
            let (image, orientation) = super::decode_with_image(bytes, ImageFormat::Jpeg)?;
            return Ok(working::finish(image, orientation));
        }
        Err(e) => return Err(jpeg_error(e)),
    };
    let info = decoder.info().ok_or_else(|| corrupt("no frame header"))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    let image = to_image(w, h, info.pixel_format, pixels, read_headers(bytes).adobe)?;
    let orientation = decoder
        .exif_data()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    let mut decoded = working::finish(image, orientation);
    (decoded.width, decoded.height) = working::oriented_dims(full_w, full_h, orientation);
    Ok(decoded)
}

/// Wraps the decoder's output buffer in an image of the right pixel type.
fn to_image(
    width: u32,
    height: u32,
    format: PixelFormat,
    pixels: Vec<u8>,
    adobe: bool,
) -> Result<DynamicImage, DecodeError> {
    let short = || corrupt("decoder returned fewer pixels than the frame declares");
    Ok(match format {
        PixelFormat::L8 => {
            DynamicImage::ImageLuma8(GrayImage::from_raw(width, height, pixels).ok_or_else(short)?)
        }
        PixelFormat::L16 => {
            let samples = pixels
                .chunks_exact(2)
                .map(|b| u16::from_ne_bytes([b[0], b[1]]))
                .collect();
            let buffer: ImageBuffer<Luma<u16>, Vec<u16>> =
                ImageBuffer::from_raw(width, height, samples).ok_or_else(short)?;
            DynamicImage::ImageLuma16(buffer)
        }
        PixelFormat::RGB24 => {
            DynamicImage::ImageRgb8(RgbImage::from_raw(width, height, pixels).ok_or_else(short)?)
        }
        PixelFormat::CMYK32 => {
            let rgb = pixels
                .chunks_exact(4)
                .flat_map(|p| cmyk_to_rgb([p[0], p[1], p[2], p[3]], adobe))
                .collect();
            DynamicImage::ImageRgb8(RgbImage::from_raw(width, height, rgb).ok_or_else(short)?)
        }
    })
}

/// One CMYK32 pixel from jpeg-decoder to RGB, as Pillow shows it.
///
/// jpeg-decoder always outputs `255 - stored`. Adobe files (APP14, as written
/// by Photoshop, libjpeg and Pillow) store inverted ink, so that output is the
/// ink amount; files without the marker store ink directly, so we undo the
/// inversion. Pillow follows the same convention (`CMYK;I` raw mode when the
/// Adobe marker is present) and converts with
/// `r = (255 - k) - (255 - k) * c / 255` (libImaging `cmyk2rgb`).
fn cmyk_to_rgb(pixel: [u8; 4], adobe: bool) -> [u8; 3] {
    let ink = if adobe { pixel } else { pixel.map(|v| 255 - v) };
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

/// What the marker segments before the first scan say.
#[derive(Debug, Default, PartialEq, Eq)]
struct Headers {
    /// An APP14 "Adobe" segment is present (inverted CMYK storage).
    adobe: bool,
    /// Offset of the first start-of-scan marker.
    first_scan: Option<usize>,
}

/// Walks the marker segments up to the first scan, never reading out of bounds.
fn read_headers(bytes: &[u8]) -> Headers {
    let mut headers = Headers::default();
    let mut pos = 2; // after SOI
    while let (Some(&0xFF), Some(&marker)) = (bytes.get(pos), bytes.get(pos + 1)) {
        match marker {
            0xFF => pos += 1, // fill byte: re-read from the second 0xFF
            0xD8 | 0x01 | 0xD0..=0xD7 => pos += 2,
            0xDA => {
                headers.first_scan = Some(pos);
                break;
            }
            0xD9 => break,
            _ => {
                let Some(len) = bytes.get(pos + 2..pos + 4) else {
                    break;
                };
                let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
                let segment = bytes.get(pos + 4..pos + 2 + len).unwrap_or_default();
                headers.adobe |= marker == 0xEE && segment.starts_with(b"Adobe");
                pos += 2 + len.max(2);
            }
        }
    }
    headers
}

/// Refuses a JPEG with no end-of-image marker after its first scan: the file
/// was cut short. Decoders would fill the missing part with grey; Pillow
/// refuses ("image file is truncated"), and so do we, in both modes.
pub(super) fn check_complete(bytes: &[u8]) -> Result<(), DecodeError> {
    // If the walk stops early (junk between segments), search the whole file.
    let scan = read_headers(bytes).first_scan.unwrap_or(0);
    // Entropy-coded data escapes 0xFF, so 0xFF 0xD9 after the first scan is a real EOI.
    let tail = bytes.get(scan..).unwrap_or_default();
    if tail.windows(2).any(|w| w == [0xFF, 0xD9]) {
        Ok(())
    } else {
        Err(corrupt("no end-of-image marker (file cut short)"))
    }
}

/// A corrupt-JPEG error with `detail`.
fn corrupt(detail: &str) -> DecodeError {
    DecodeError::Corrupt {
        format: "JPEG",
        detail: detail.to_owned(),
    }
}

/// Maps a jpeg-decoder error to ours.
fn jpeg_error(error: JpegError) -> DecodeError {
    match error {
        JpegError::Unsupported(feature) => {
            DecodeError::Unsupported(one_line(&format!("JPEG feature {feature:?}")))
        }
        other => corrupt(&one_line(&other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmyk_matches_pillow_formula() {
        // Pillow 13: Image.new("CMYK", (1, 1), (200, 50, 100, 30)).convert("RGB")
        // gives (49, 181, 137).
        assert_eq!(cmyk_to_rgb([200, 50, 100, 30], true), [49, 181, 137]);
        assert_eq!(cmyk_to_rgb([55, 205, 155, 225], false), [49, 181, 137]);
        assert_eq!(cmyk_to_rgb([0, 0, 0, 0], true), [255, 255, 255]);
        assert_eq!(cmyk_to_rgb([0, 0, 0, 255], true), [0, 0, 0]);
    }

    #[test]
    fn headers_found_and_absent() {
        let mut with = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0];
        with.extend_from_slice(&[0xFF, 0xEE, 0, 14]);
        with.extend_from_slice(b"Adobe\0\0\0\0\0\0\0");
        with.extend_from_slice(&[0xFF, 0xFF, 0xDA, 0, 2, 0xFF, 0xD9]);
        let expect = Headers {
            adobe: true,
            first_scan: Some(25),
        };
        assert_eq!(read_headers(&with), expect);
        assert!(check_complete(&with).is_ok());
        assert!(check_complete(&with[..with.len() - 1]).is_err());
        assert!(!read_headers(&[0xFF, 0xD8, 0xFF, 0xDA, 0xFF, 0xEE]).adobe);
        // Lengths running past the end, or too short, must not panic or loop.
        assert_eq!(
            read_headers(&[0xFF, 0xD8, 0xFF, 0xEE, 0xFF, 0xFF]),
            Headers::default()
        );
        assert_eq!(
            read_headers(&[0xFF, 0xD8, 0xFF, 0xE1, 0, 0, 0xFF]),
            Headers::default()
        );
    }
}

//! Decode stage: untrusted bytes to a working image.
//!
//! Every input is hostile until decoded: files are size-checked before they
//! are read, header dimensions are checked against [`MAX_PIXELS`] and
//! [`MAX_SIDE`] before any pixel buffer exists, decoders run under explicit
//! memory limits ([`image::Limits`], or an estimate for libjpeg), and every
//! decoder call is wrapped in `catch_unwind` so a crafted file ends as a
//! [`DecodeError`], never a crash.
//!
//! JPEGs are decoded by libjpeg-turbo (the decoder inside Pillow), other
//! formats by the `image` crate. Two modes, see [`DecodeMode`]: `Exact`
//! reproduces what the reference implementations (Pillow-based imagehash,
//! pdqhash) are given, `Fast` decodes JPEGs at a reduced IDCT scale and
//! normalises the result for hashing.

mod jpeg;
mod markers;
mod working;

pub use jpeg::decode_scaled_rgb;

use std::fs::File;
use std::io::{Cursor, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use image::error::{ImageError, LimitErrorKind};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Largest accepted image, in pixels (width x height, as stored).
///
/// This is Pillow's decompression-bomb threshold (`2 * Image.MAX_IMAGE_PIXELS`),
/// so we refuse exactly the sizes the reference implementation refuses.
pub const MAX_PIXELS: u64 = 178_956_970;

/// Largest accepted width or height, in pixels (JPEG's own ceiling).
pub const MAX_SIDE: u32 = 65_535;

/// Largest total allocation a decoder may make for one image, in bytes.
///
/// 1 GiB: a [`MAX_PIXELS`] image as RGBA8 (716 MB) fits, as RGBA16 it does not.
pub const MAX_ALLOC: u64 = 1 << 30;

/// Largest accepted file, in bytes (512 MiB); checked before reading.
pub const MAX_FILE_BYTES: u64 = 512 << 20;

/// Shorter side, in pixels, that `frametrace hash` decodes JPEGs to at
/// least without `--exact`: a 1080p frame is decoded at 1/8 (240x135).
/// PDQ samples 64 rows and columns and imagehash's largest thumbnail is
/// 32x32, so 128 leaves each hash at least two decoded pixels per sample.
pub const HASH_MIN_SIDE: u32 = 128;

/// The decode mode of `frametrace hash` without `--exact` (indexing and
/// querying use [`crate::index::WORKING_DECODE`]).
pub const HASH_DECODE: DecodeMode = DecodeMode::Fast {
    min_side: HASH_MIN_SIDE,
};

/// How much of an image to decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeMode {
    /// Full decode giving the pixels Pillow gives: pixel type kept as
    /// decoded (JPEG: `Luma8` for greyscale, `Rgb8` otherwise, CMYK converted
    /// as Pillow's `convert("RGB")`), no alpha compositing, EXIF orientation
    /// ignored, first frame of animations.
    Exact,
    /// Decode no more pixels than needed: JPEGs are scaled in the IDCT (by
    /// 1/8, 1/4, 1/2 or not at all) so the shorter side stays at least
    /// `min_side`; other formats are decoded in full. The result has EXIF
    /// orientation applied, alpha composited on white, 8 bits per channel,
    /// and is `Rgb8` or `Luma8`.
    Fast {
        /// Smallest acceptable shorter side of the decoded image, in pixels.
        min_side: u32,
    },
}

/// A decoded image plus the full-size dimensions of the original.
#[derive(Clone)]
pub struct Decoded {
    /// The pixels (reduced in size for JPEG in `Fast` mode).
    pub image: DynamicImage,
    /// Full-size width as displayed (`Fast`: after EXIF orientation; `Exact`: as stored).
    pub width: u32,
    /// Full-size height as displayed (`Fast`: after EXIF orientation; `Exact`: as stored).
    pub height: u32,
}

impl std::fmt::Debug for Decoded {
    // Summarises the pixels instead of dumping them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoded")
            .field(
                "image",
                &(self.image.color(), self.image.width(), self.image.height()),
            )
            .field("width", &self.width)
            .field("height", &self.height)
            .finish()
    }
}

/// Why an input could not be decoded. Messages are one lower-case line; the
/// caller prefixes the path.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The file could not be opened or read.
    #[error("cannot read file: {0}")]
    Io(#[from] std::io::Error),
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("file too large: {size} bytes exceeds the {MAX_FILE_BYTES}-byte limit")]
    FileTooLarge {
        /// File size in bytes.
        size: u64,
    },
    /// The input has no bytes at all.
    #[error("not an image (empty file)")]
    Empty,
    /// The content matches no supported image signature.
    #[error("not an image (unrecognised format)")]
    UnrecognisedFormat,
    /// A known format using a feature the decoders do not support.
    #[error("unsupported image: {0}")]
    Unsupported(String),
    /// The header declares more pixels than [`MAX_PIXELS`] or a side above [`MAX_SIDE`].
    #[error(
        "image too large: {width}x{height} exceeds the {} megapixel limit ({MAX_SIDE} per side)",
        MAX_PIXELS / 1_000_000
    )]
    TooLarge {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// Decoding would allocate more than [`MAX_ALLOC`] bytes.
    #[error("image too large: decoding needs more than the {MAX_ALLOC}-byte memory limit")]
    OverMemoryLimit,
    /// The data ends early or violates the format.
    #[error("truncated or corrupt {format}: {detail}")]
    Corrupt {
        /// Format name, e.g. `JPEG`.
        format: &'static str,
        /// The decoder's own description, flattened to one line.
        detail: String,
    },
    /// The decoder panicked; the panic was contained.
    #[error("{format} decoder crashed: {detail}")]
    DecoderPanic {
        /// Format name, e.g. `JPEG`.
        format: &'static str,
        /// The panic message, flattened to one line.
        detail: String,
    },
}

/// Reads `path` (refusing files above [`MAX_FILE_BYTES`]) and decodes it.
/// The format is taken from the content, never from the extension.
pub fn decode_file(path: &Path, mode: DecodeMode) -> Result<Decoded, DecodeError> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    if size > MAX_FILE_BYTES {
        return Err(DecodeError::FileTooLarge { size });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // `take` guards against a file that grows while we read it.
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(DecodeError::FileTooLarge {
            size: bytes.len() as u64,
        });
    }
    decode_bytes(&bytes, mode)
}

/// Decodes an in-memory file (any supported format, detected from content).
pub fn decode_bytes(bytes: &[u8], mode: DecodeMode) -> Result<Decoded, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let format = image::guess_format(bytes).map_err(|_| DecodeError::UnrecognisedFormat)?;
    let name = format_name(format);
    if format == ImageFormat::Jpeg {
        markers::check_complete(bytes)?;
    }
    let result = catch_unwind(AssertUnwindSafe(|| match mode {
        _ if format == ImageFormat::Jpeg => jpeg::decode(bytes, mode),
        DecodeMode::Exact => decode_with_image(bytes, format).map(|(image, _)| {
            let (width, height) = (image.width(), image.height());
            Decoded {
                image,
                width,
                height,
            }
        }),
        DecodeMode::Fast { .. } => {
            let (image, orientation) = decode_with_image(bytes, format)?;
            Ok(working::finish(image, orientation))
        }
    }));
    result.unwrap_or_else(|payload| {
        Err(DecodeError::DecoderPanic {
            format: name,
            detail: one_line(&panic_message(payload.as_ref())),
        })
    })
}

/// The limits every `image` decoder runs under.
fn image_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    limits
}

/// Refuses dimensions above [`MAX_SIDE`] or [`MAX_PIXELS`].
fn check_dimensions(width: u32, height: u32) -> Result<(), DecodeError> {
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(DecodeError::TooLarge { width, height });
    }
    Ok(())
}

/// Full decode with the `image` crate (first frame of animations), returning
/// the image as decoded and the orientation its metadata declares.
fn decode_with_image(
    bytes: &[u8],
    format: ImageFormat,
) -> Result<(DynamicImage, image::metadata::Orientation), DecodeError> {
    let name = format_name(format);
    let err = |e| image_error(name, e);
    // Read the header without the side limits so a bomb is reported with its
    // declared size; nothing is allocated for pixels yet.
    let mut header_limits = image_limits();
    header_limits.max_image_width = None;
    header_limits.max_image_height = None;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(header_limits);
    let mut decoder = reader.into_decoder().map_err(err)?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height)?;
    decoder.set_limits(image_limits()).map_err(err)?;
    if decoder.total_bytes() > MAX_ALLOC {
        return Err(DecodeError::OverMemoryLimit);
    }
    // A malformed orientation tag is not worth rejecting the image for.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let image = DynamicImage::from_decoder(decoder).map_err(err)?;
    Ok((image, orientation))
}

/// Maps an `image` crate error to ours.
fn image_error(format: &'static str, error: ImageError) -> DecodeError {
    match error {
        ImageError::Limits(limit) => match limit.kind() {
            LimitErrorKind::InsufficientMemory => DecodeError::OverMemoryLimit,
            _ => DecodeError::Unsupported(one_line(&limit.to_string())),
        },
        ImageError::Unsupported(e) => DecodeError::Unsupported(one_line(&e.to_string())),
        ImageError::IoError(e) => DecodeError::Corrupt {
            format,
            detail: one_line(&e.to_string()),
        },
        other => DecodeError::Corrupt {
            format,
            detail: one_line(&other.to_string()),
        },
    }
}

/// Short upper-case name of a format for messages.
fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Png => "PNG",
        ImageFormat::Gif => "GIF",
        ImageFormat::WebP => "WebP",
        ImageFormat::Bmp => "BMP",
        ImageFormat::Tiff => "TIFF",
        _ => "image",
    }
}

/// Text of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic without a message".to_owned()
    }
}

/// Flattens a decoder message to one lower-case-initial line.
fn one_line(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = flat.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => flat,
    }
}

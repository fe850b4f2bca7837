//! JPEG marker segments read without a decoder.
//!
//! libjpeg fakes an end-of-image marker when the data runs out and is blind to
//! EXIF, so a few facts are taken from the raw bytes first: whether the file
//! is complete, where the first scan starts, whether the decoder will need a
//! whole-image coefficient buffer (progressive or multi-scan files), and the
//! EXIF orientation. The walk never reads out of bounds and never loops.

use image::metadata::Orientation;

use super::DecodeError;

/// What the marker segments before the first scan say.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Headers<'a> {
    /// Offset of the first start-of-scan marker.
    pub first_scan: Option<usize>,
    /// Width and height declared by the first frame header.
    pub size: Option<(u32, u32)>,
    /// The frame is progressive (SOF2, SOF6, SOF10 or SOF14).
    pub progressive: bool,
    /// The TIFF body of the first APP1 "Exif" segment.
    pub exif: Option<&'a [u8]>,
}

impl Headers<'_> {
    /// The EXIF orientation; absent or malformed tags mean none.
    pub(super) fn orientation(&self) -> Orientation {
        self.exif
            .and_then(Orientation::from_exif_chunk)
            .unwrap_or(Orientation::NoTransforms)
    }
}

/// Walks the marker segments up to the first scan.
pub(super) fn read_headers(bytes: &[u8]) -> Headers<'_> {
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
                let frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
                if frame && headers.size.is_none() {
                    headers.progressive = matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
                    // Precision, then height and width, big-endian.
                    if let Some(d) = segment.get(1..5) {
                        let side = |i: usize| u32::from(u16::from_be_bytes([d[i], d[i + 1]]));
                        headers.size = Some((side(2), side(0)));
                    }
                }
                if marker == 0xE1 && headers.exif.is_none() {
                    headers.exif = segment.strip_prefix(b"Exif\0\0");
                }
                pos += 2 + len.max(2);
            }
        }
    }
    headers
}

/// The part of the file from the first scan on (all of it when the header
/// walk stopped early on junk between segments).
fn scans<'a>(bytes: &'a [u8], headers: &Headers<'_>) -> &'a [u8] {
    bytes
        .get(headers.first_scan.unwrap_or(0)..)
        .unwrap_or_default()
}

/// Refuses a JPEG with no end-of-image marker after its first scan: the file
/// was cut short. libjpeg would fill the missing part with grey; Pillow
/// refuses ("image file is truncated"), and so do we, in both modes.
pub(super) fn check_complete(bytes: &[u8]) -> Result<(), DecodeError> {
    // Entropy-coded data escapes 0xFF, so 0xFF 0xD9 after the first scan is a real EOI.
    if scans(bytes, &read_headers(bytes))
        .windows(2)
        .any(|w| w == [0xFF, 0xD9])
    {
        Ok(())
    } else {
        Err(DecodeError::Corrupt {
            format: "JPEG",
            detail: "no end-of-image marker (file cut short)".to_owned(),
        })
    }
}

/// Whether libjpeg will buffer the coefficients of the whole image: a
/// progressive frame, or more than one scan. Table segments between scans
/// could fake a second scan marker; that only overestimates memory.
pub(super) fn buffers_coefficients(bytes: &[u8], headers: &Headers<'_>) -> bool {
    headers.progressive
        || scans(bytes, headers)
            .windows(2)
            .filter(|w| *w == [0xFF, 0xDA])
            .nth(1)
            .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_found_and_absent() {
        let mut with = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0];
        with.extend_from_slice(&[0xFF, 0xE1, 0, 12]);
        with.extend_from_slice(b"Exif\0\0MM\0\x2a");
        with.extend_from_slice(&[0xFF, 0xC2, 0, 7, 8, 0, 3, 1, 2]);
        with.extend_from_slice(&[0xFF, 0xFF, 0xDA, 0, 2, 0xFF, 0xD9]);
        let expect = Headers {
            first_scan: Some(32),
            size: Some((258, 3)),
            progressive: true,
            exif: Some(b"MM\0\x2a"),
        };
        let headers = read_headers(&with);
        assert_eq!(headers, expect);
        // A TIFF header without an IFD holds no orientation.
        assert_eq!(headers.orientation(), Orientation::NoTransforms);
        assert!(check_complete(&with).is_ok());
        assert!(check_complete(&with[..with.len() - 1]).is_err());
        assert!(buffers_coefficients(&with, &headers));
        let plain = [0xFF, 0xD8, 0xFF, 0xDA, 0, 2, 1, 0xFF, 0xD9];
        assert!(!buffers_coefficients(&plain, &read_headers(&plain)));
        let two = [0xFF, 0xD8, 0xFF, 0xDA, 0, 2, 0xFF, 0xDA, 0, 2, 0xFF, 0xD9];
        assert!(buffers_coefficients(&two, &read_headers(&two)));
        // Lengths running past the end, or too short, must not panic or loop.
        assert_eq!(
            read_headers(&[0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF]),
            Headers::default()
        );
        assert_eq!(
            read_headers(&[0xFF, 0xD8, 0xFF, 0xE1, 0, 0, 0xFF]),
            Headers::default()
        );
    }
}

//! Everything frametrace stores about one image, computed from one decode.
//!
//! The global hashes are bit-compatible with the tools analysts already
//! use: `phash`, `dhash` and `ahash` with Python imagehash 4.3.2
//! ([`imagehash`], on Pillow's arithmetic from [`pillow`]) and PDQ with
//! Meta's ThreatExchange ([`pdq`]). A [`Fingerprinter`] holds the DCT plans
//! and scratch buffers, so each rayon worker builds one and reuses it.

pub mod imagehash;
pub mod pdq;
pub mod pillow;

use image::{DynamicImage, GrayImage};
use serde::{Deserialize, Serialize};

use self::imagehash::ImageHasher;
use self::pdq::{PdqHash, PdqHasher};

/// Which global hashes to compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Algorithms {
    /// imagehash `phash` (DCT of a 32x32 Lanczos thumbnail).
    pub phash: bool,
    /// imagehash `dhash` (horizontal gradient of a 9x8 thumbnail).
    pub dhash: bool,
    /// imagehash `average_hash`.
    pub ahash: bool,
    /// PDQ (256 bits and a quality score).
    pub pdq: bool,
}

impl Algorithms {
    /// All four global hashes.
    pub const ALL: Algorithms = Algorithms {
        phash: true,
        dhash: true,
        ahash: true,
        pdq: true,
    };
}

impl Default for Algorithms {
    fn default() -> Self {
        Algorithms::ALL
    }
}

/// The global fingerprint of one image. Hashes not asked for are `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// imagehash-compatible `phash`.
    pub phash: Option<u64>,
    /// imagehash-compatible `dhash`.
    pub dhash: Option<u64>,
    /// imagehash-compatible `average_hash`.
    pub ahash: Option<u64>,
    /// PDQ hash.
    pub pdq: Option<PdqHash>,
    /// PDQ quality, 0 (flat) to 100.
    pub pdq_quality: Option<u8>,
    /// Width of the image as displayed, in pixels.
    pub width: u32,
    /// Height of the image as displayed, in pixels.
    pub height: u32,
}

/// Extra views of a query frame, for frames that were mirrored or rotated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variants {
    /// `phash` of the horizontally mirrored frame.
    pub phash_mirror: u64,
    /// PDQ's eight dihedral variants from one DCT (index 0 is the frame
    /// itself; see [`pdq::PdqHasher::hash_rgb8_dihedral`]).
    pub pdq_dihedral: [PdqHash; 8],
}

/// Reusable hashing state: one per worker thread.
#[derive(Default)]
pub struct Fingerprinter {
    image: ImageHasher,
    pdq: PdqHasher,
}

impl Fingerprinter {
    /// A fingerprinter with fresh DCT plans and buffers.
    pub fn new() -> Self {
        Fingerprinter {
            image: ImageHasher::new(),
            pdq: PdqHasher::new(),
        }
    }

    /// Hashes `img`, whose displayed size is `width` x `height` (the decoder
    /// may have returned a reduced-scale image), running every hash on the
    /// pixels as given. Indexing and querying use this.
    pub fn fingerprint(
        &mut self,
        img: &DynamicImage,
        width: u32,
        height: u32,
        algs: Algorithms,
    ) -> Fingerprint {
        self.global(img, None, width, height, algs, false)
    }

    /// [`Self::fingerprint`] for a caller that also needs the grey image:
    /// `grey` must be [`pillow::to_luma8`] of `img`, and is not converted
    /// again (indexing extracts local features from it too).
    pub fn fingerprint_with_grey(
        &mut self,
        img: &DynamicImage,
        grey: &GrayImage,
        width: u32,
        height: u32,
        algs: Algorithms,
    ) -> Fingerprint {
        self.global(img, Some(grey), width, height, algs, false)
    }

    /// Like [`Self::fingerprint`], for a reduced-scale decode meant to
    /// approximate the hashes of the full `width` x `height` image (what
    /// `frametrace hash` prints without `--exact`): PDQ filters the small
    /// image as the full-size one would be filtered
    /// ([`PdqHasher::hash_rgb8_reduced`]); the 64-bit hashes are computed as
    /// in [`Self::fingerprint`]. A full-size `img` gives the same result as
    /// [`Self::fingerprint`].
    pub fn fingerprint_reduced(
        &mut self,
        img: &DynamicImage,
        width: u32,
        height: u32,
        algs: Algorithms,
    ) -> Fingerprint {
        self.global(img, None, width, height, algs, true)
    }

    fn global(
        &mut self,
        img: &DynamicImage,
        grey: Option<&GrayImage>,
        width: u32,
        height: u32,
        algs: Algorithms,
        as_full_size: bool,
    ) -> Fingerprint {
        let mut fp = Fingerprint {
            phash: None,
            dhash: None,
            ahash: None,
            pdq: None,
            pdq_quality: None,
            width,
            height,
        };
        if algs.phash || algs.dhash || algs.ahash {
            // Filtering these as at full size (full-size Lanczos taps summed
            // per decoded pixel) was tried and moved identical hashes by
            // under 1% on 1080p stills: Pillow's wide kernel already spans
            // many decoded pixels, so the small image is used as it is.
            let owned;
            let grey = match grey {
                Some(grey) => grey,
                None => {
                    owned = pillow::to_luma8(img);
                    &owned
                }
            };
            fp.phash = algs.phash.then(|| self.image.phash(grey));
            fp.dhash = algs.dhash.then(|| self.image.dhash(grey));
            fp.ahash = algs.ahash.then(|| self.image.ahash(grey));
        }
        if algs.pdq {
            let rgb = pdq::pytx_rgb8(img);
            let size = (rgb.width() as usize, rgb.height() as usize);
            let out = if as_full_size {
                let full = (width as usize, height as usize);
                self.pdq.hash_rgb8_reduced(rgb.as_raw(), size, full)
            } else {
                self.pdq.hash_rgb8(rgb.as_raw(), size.0, size.1)
            };
            fp.pdq = Some(out.hash);
            fp.pdq_quality = Some(out.quality);
        }
        fp
    }

    /// Hashes a query frame: all global hashes plus the mirrored and
    /// dihedral variants the search tries.
    pub fn fingerprint_query(
        &mut self,
        img: &DynamicImage,
        width: u32,
        height: u32,
    ) -> (Fingerprint, Variants) {
        self.fingerprint_query_with_grey(img, &pillow::to_luma8(img), width, height)
    }

    /// [`Self::fingerprint_query`] given `grey`, [`pillow::to_luma8`] of
    /// `img` (the local stage needs it too).
    pub fn fingerprint_query_with_grey(
        &mut self,
        img: &DynamicImage,
        grey: &GrayImage,
        width: u32,
        height: u32,
    ) -> (Fingerprint, Variants) {
        let mirrored = image::imageops::flip_horizontal(grey);
        let rgb = pdq::pytx_rgb8(img);
        let (dihedral, quality) =
            self.pdq
                .hash_rgb8_dihedral(rgb.as_raw(), rgb.width() as usize, rgb.height() as usize);
        let fp = Fingerprint {
            phash: Some(self.image.phash(grey)),
            dhash: Some(self.image.dhash(grey)),
            ahash: Some(self.image.ahash(grey)),
            pdq: Some(dihedral[0]),
            pdq_quality: Some(quality),
            width,
            height,
        };
        let variants = Variants {
            phash_mirror: self.image.phash(&mirrored),
            pdq_dihedral: dihedral,
        };
        (fp, variants)
    }
}

/// Index of the left-right mirror among PDQ's dihedral variants (the
/// order of [`pdq::PdqHasher::hash_rgb8_dihedral`]).
pub const MIRROR_VARIANT: usize = 5;

/// Bumped whenever any stored hash would change for the same input:
/// indexes record it and refuse queries from another version.
pub const FINGERPRINT_VERSION: u32 = 1;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::Series;

    #[test]
    fn mirror_variant_is_the_left_right_flip() {
        let frame = Series::new(7).frame(3.0, 320, 180);
        let flipped = image::imageops::flip_horizontal(&frame);
        let mut fp = Fingerprinter::new();
        let (_, v) = fp.fingerprint_query(&DynamicImage::ImageRgb8(frame), 320, 180);
        let direct = fp.fingerprint(&DynamicImage::ImageRgb8(flipped), 320, 180, Algorithms::ALL);
        let pdq = direct.pdq.unwrap();
        let d: Vec<u32> = v.pdq_dihedral.iter().map(|h| h.hamming(&pdq)).collect();
        let best = (0..8).min_by_key(|&i| d[i]).unwrap();
        assert_eq!(best, MIRROR_VARIANT, "distances per variant: {d:?}");
        assert!(d[MIRROR_VARIANT] <= 16, "{d:?}");
        assert_eq!(v.phash_mirror, direct.phash.unwrap());
    }
}

//! What the index keeps of a still for the local stage, and how a query
//! frame is prepared for it.
//!
//! References and queries are extracted differently on purpose: a
//! reference is only ever downscaled (to [`REF_LONG_SIDE`]) and keeps
//! [`REF_KEYPOINTS`] keypoints; a query is scaled towards
//! [`QUERY_LONG_SIDE`] (up to 3x up, since a frame pasted on a sheet or
//! shrunk is smaller than the still it came from, and the pyramid only goes
//! down) over more pyramid levels and keeps more keypoints, because notes
//! and sheet borders compete for its budget.

use image::GrayImage;

use super::agreement::QueryImage;
use super::features::{ExtractorParams, FeatureExtractor};
use super::matcher::{ProbeKeys, probe_keys};
use super::verify::{Verification, fit};
use super::{Keypoint, LocalError, QUERY_LONG_SIDE, REF_LONG_SIDE, from_bytes, to_bytes};
use super::{MAX_PROBES_PER_WORD, Margins, WORDS_PER_KEYPOINT, agreement, mirror};
use super::{orientation, probed_words, visual_words};

/// A visual word with the orientation bin of the keypoint it came from
/// ([`super::orientation`]): retrieval votes on the rotation between a
/// frame and a still with it.
pub type OrientedWord = (u32, u8);

/// Keypoints kept per reference still.
pub const REF_KEYPOINTS: usize = 600;
/// Keypoints kept per query frame.
pub const QUERY_KEYPOINTS: usize = 1000;
/// Largest upscaling of a query frame before extraction.
const QUERY_MAX_UP: f32 = 3.0;
const BLOB_MAGIC: [u8; 2] = *b"L1";

/// Extractor settings for reference stills.
pub fn reference_params() -> ExtractorParams {
    ExtractorParams {
        max_keypoints: REF_KEYPOINTS,
        ..ExtractorParams::default()
    }
}

/// Extractor settings for query frames (two more pyramid levels).
pub fn query_params() -> ExtractorParams {
    ExtractorParams {
        max_keypoints: QUERY_KEYPOINTS,
        levels: 8,
        ..ExtractorParams::default()
    }
}

/// The factor a query frame of `size` is upscaled by for extraction: 1 for
/// a frame of at least [`QUERY_LONG_SIDE`] on its long side, at most 3.
pub fn query_upscale((w, h): (u32, u32)) -> f32 {
    (QUERY_LONG_SIDE as f32 / w.max(h).max(1) as f32).clamp(1.0, QUERY_MAX_UP)
}

/// The local features of one reference still.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalFeatures {
    /// Size of the working image the keypoints were found in.
    pub size: (u32, u32),
    /// Keypoints in working-image pixels.
    pub keypoints: Vec<Keypoint>,
    /// Grey thumbnail for the dense agreement check.
    pub thumb: GrayImage,
}

impl LocalFeatures {
    /// Extracts a reference still's features from its grey image.
    pub fn of_reference(fx: &mut FeatureExtractor, grey: &GrayImage) -> LocalFeatures {
        let working = super::working_image(grey, REF_LONG_SIDE, 1.0);
        LocalFeatures {
            size: working.dimensions(),
            keypoints: fx.extract(&working),
            thumb: agreement::thumbnail(&working),
        }
    }

    /// The distinct visual words of the still, sorted.
    pub fn words(&self) -> Vec<u32> {
        words_of(&self.keypoints)
    }

    /// The distinct visual words of the still, sorted, each with the
    /// orientation of the first keypoint that has it (what the index
    /// stores).
    pub fn oriented_words(&self) -> Vec<OrientedWord> {
        let mut words: Vec<OrientedWord> = oriented(&self.keypoints).collect();
        // Stable: the first keypoint of each word stays first.
        words.sort_by_key(|w| w.0);
        words.dedup_by_key(|w| w.0);
        words
    }

    /// Compact bytes for the index: `L1`, working and thumbnail sizes
    /// (u16 each), the thumbnail's pixels, then the keypoint blob.
    pub fn to_bytes(&self) -> Vec<u8> {
        let (tw, th) = self.thumb.dimensions();
        let mut out = Vec::with_capacity(10 + self.thumb.len() + self.keypoints.len() * 38 + 6);
        out.extend_from_slice(&BLOB_MAGIC);
        for v in [self.size.0, self.size.1, tw, th] {
            out.extend_from_slice(&(v.min(u16::MAX as u32) as u16).to_le_bytes());
        }
        out.extend_from_slice(self.thumb.as_raw());
        out.extend_from_slice(&to_bytes(&self.keypoints));
        out
    }

    /// Reads [`LocalFeatures::to_bytes`] back; never panics on bad bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<LocalFeatures, LocalError> {
        let (head, rest) = bytes
            .split_at_checked(10)
            .ok_or(LocalError::BadLength(bytes.len()))?;
        if head[..2] != BLOB_MAGIC {
            return Err(LocalError::BadHeader);
        }
        let u = |i: usize| u16::from_le_bytes([head[i], head[i + 1]]) as u32;
        let (w, h, tw, th) = (u(2), u(4), u(6), u(8));
        let (pixels, kps) = rest
            .split_at_checked((tw * th) as usize)
            .ok_or(LocalError::BadLength(bytes.len()))?;
        let thumb = GrayImage::from_raw(tw, th, pixels.to_vec())
            .ok_or(LocalError::BadLength(bytes.len()))?;
        Ok(LocalFeatures {
            size: (w, h),
            keypoints: from_bytes(kps)?,
            thumb,
        })
    }
}

/// A query frame prepared for the local stage.
pub struct QueryFeatures {
    /// The grey working image (the agreement check samples it).
    pub working: QueryImage,
    /// Keypoints in working-image pixels.
    pub keypoints: Vec<Keypoint>,
    /// The keypoints of the mirrored frame ([`mirror`]).
    pub mirrored: Vec<Keypoint>,
    /// Visual words of the frame with the orientation of each keypoint
    /// that has them, sorted, distinct (with their probes, when asked
    /// for: [`QueryFeatures::of_query_probed`]).
    pub words: Vec<OrientedWord>,
    /// Oriented visual words of the mirrored frame.
    pub mirrored_words: Vec<OrientedWord>,
    keys: ProbeKeys,
    mirrored_keys: ProbeKeys,
}

impl QueryFeatures {
    /// Extracts a query frame's features from its grey image, with exact
    /// visual words ([`QueryFeatures::of_query_probed`] with 0 probes).
    pub fn of_query(fx: &mut FeatureExtractor, grey: &GrayImage) -> QueryFeatures {
        QueryFeatures::of_query_probed(fx, grey, 0)
    }

    /// Extracts a query frame's features; each visual word is also looked
    /// up with up to `probes` of its least reliable bits flipped
    /// ([`probed_words`]; at most [`MAX_PROBES_PER_WORD`] are used).
    pub fn of_query_probed(
        fx: &mut FeatureExtractor,
        grey: &GrayImage,
        probes: usize,
    ) -> QueryFeatures {
        let working = super::working_image(grey, QUERY_LONG_SIDE, QUERY_MAX_UP);
        let mut margins = Vec::new();
        let keypoints = if probes == 0 {
            fx.extract(&working)
        } else {
            fx.extract_with_margins(&working, &mut margins)
        };
        let mirrored = mirror(&keypoints, working.width());
        let words = |kps: &[Keypoint], flipped: bool| match probes {
            0 => oriented_words_of(kps),
            _ => probed_words_of(kps, &margins, flipped, probes),
        };
        QueryFeatures {
            words: words(&keypoints, false),
            mirrored_words: words(&mirrored, true),
            keys: probe_keys(&keypoints),
            mirrored_keys: probe_keys(&mirrored),
            working: QueryImage::new(working),
            keypoints,
            mirrored,
        }
    }

    /// Verifies the frame, as it is or `mirrored`, against a reference
    /// still ([`super::verify_view`], with this frame's probe keys
    /// computed once for all its candidates).
    pub fn verify(&self, reference: &LocalFeatures, mirrored: bool) -> Option<Verification> {
        let (kps, keys) = if mirrored {
            (&self.mirrored, &self.mirrored_keys)
        } else {
            (&self.keypoints, &self.keys)
        };
        let size = self.working.image.dimensions();
        fit(
            kps,
            keys,
            size,
            &reference.keypoints,
            reference.size,
            mirrored,
        )
    }
}

/// The distinct [`probed_words`] of a query view, sorted.
fn probed_words_of(
    kps: &[Keypoint],
    margins: &[Margins],
    mirrored: bool,
    probes: usize,
) -> Vec<OrientedWord> {
    let probes = probes.min(MAX_PROBES_PER_WORD);
    let mut words = Vec::with_capacity(kps.len() * WORDS_PER_KEYPOINT * (1 + probes));
    let mut probed = Vec::with_capacity(WORDS_PER_KEYPOINT * (1 + probes));
    for (kp, m) in kps.iter().zip(margins) {
        probed.clear();
        probed_words(kp, m, mirrored, probes, &mut probed);
        words.extend(probed.iter().map(|&w| (w, orientation(kp))));
    }
    words.sort_unstable();
    words.dedup();
    words
}

/// Every keypoint's visual words with its orientation, in keypoint order.
fn oriented(kps: &[Keypoint]) -> impl Iterator<Item = OrientedWord> + '_ {
    kps.iter()
        .flat_map(|kp| visual_words(kp).map(|w| (w, orientation(kp))))
}

fn oriented_words_of(kps: &[Keypoint]) -> Vec<OrientedWord> {
    let mut words: Vec<OrientedWord> = oriented(kps).collect();
    words.sort_unstable();
    words.dedup();
    words
}

fn words_of(kps: &[Keypoint]) -> Vec<u32> {
    let mut words: Vec<u32> = kps.iter().flat_map(visual_words).collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// The text form of a visual word, as indexed (7 hex digits).
pub fn word_term(word: u32) -> String {
    format!("{word:07x}")
}

/// Appends the bytes of [`word_term`] to `out`, without allocating.
pub fn word_key(word: u32, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits = (32 - word.leading_zeros()).div_ceil(4).max(7);
    for k in (0..digits).rev() {
        out.push(HEX[(word >> (4 * k)) as usize & 15]);
    }
}

//! Reads an input file once: its identity (size, sha256) and its pixels.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::decode::{self, DecodeError, DecodeMode, Decoded, MAX_FILE_BYTES};

/// A file read and decoded.
pub struct Loaded {
    /// Hex sha256 of the file bytes.
    pub sha256: String,
    /// File size in bytes.
    pub size: u64,
    /// The decoded image.
    pub decoded: Decoded,
}

/// Why a file could not be used. One line, without the path (callers
/// print `path: error`).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("file too large ({0} bytes; the limit is {MAX_FILE_BYTES})")]
    TooLarge(u64),
    /// The bytes are not a usable image.
    #[error("{0}")]
    Decode(#[from] DecodeError),
}

/// Reads `path`, hashes its bytes and decodes it in `mode`.
pub fn load(path: &Path, mode: DecodeMode) -> Result<Loaded, LoadError> {
    let bytes = read_limited(path)?;
    let sha256 = sha256_hex(&bytes);
    let decoded = decode::decode_bytes(&bytes, mode)?;
    Ok(Loaded {
        sha256,
        size: bytes.len() as u64,
        decoded,
    })
}

/// Reads a whole file, refusing one over [`MAX_FILE_BYTES`].
pub fn read_limited(path: &Path) -> Result<Vec<u8>, LoadError> {
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge(len));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

//! frametrace links leaked animation frames to the productions they came from.
//!
//! The library is one pipeline with two entry points (see `DESIGN.md`):
//! [`discover`] walks inputs, [`decode`] turns bytes into a small working
//! image, [`fingerprint`] computes everything stored about an image,
//! [`index`] keeps reference fingerprints in a tantivy index, [`search`]
//! finds near hashes in memory, [`attribute`] turns candidates into a
//! verdict and [`report`] writes results. [`query`] and [`eval`] glue the
//! stages together for the command line, which lives in `main.rs`.
#![warn(missing_docs)]

pub mod attribute;
pub mod decode;
pub mod discover;
pub mod eval;
pub mod fingerprint;
pub mod index;
pub mod local;
pub mod progress;
pub mod query;
pub mod report;
pub mod search;
pub mod sheet;
pub mod source;
pub mod synth;

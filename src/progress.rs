//! How long-running library work reports progress and notices Ctrl-C,
//! without the library knowing about terminals or progress bars.

use std::sync::atomic::{AtomicBool, Ordering};

/// Receives progress from indexing and querying. The binary implements it
/// with a progress bar on a terminal; tests and pipes use [`Silent`].
pub trait Progress: Sync {
    /// A new phase starts with `total` steps.
    fn start(&self, phase: &str, total: u64);
    /// `n` more steps are done.
    fn advance(&self, n: u64);
    /// The phase is over.
    fn finish(&self) {}
}

/// Progress that shows nothing.
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _phase: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
}

/// Set by the Ctrl-C handler; long loops check it between batches and
/// stop cleanly (an index keeps its last completed checkpoint).
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// True once the user asked to stop.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

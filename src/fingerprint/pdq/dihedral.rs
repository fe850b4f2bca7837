//! PDQ's eight dihedral variants (rotations and flips) computed in the DCT
//! domain from one 16x16 coefficient block, as the reference's
//! `dct16OriginalTo*` functions do: a transpose and/or sign flips of
//! odd-frequency rows or columns.

use super::dsp::DCT_SIDE;

/// Whether a source coefficient at (row, column) changes sign.
type SignRule = fn(usize, usize) -> bool;

/// The eight dihedral transforms in C++ order, applied in the DCT domain
/// (`dct16OriginalTo*`): whether to transpose, and the sign pattern as a
/// function of (row parity, column parity) of the source coefficient.
const DIHEDRAL: [(bool, SignRule); 8] = [
    (false, |_, _| false),            // original
    (true, |_, j| j & 1 == 0),        // rotate 90
    (false, |i, j| (i + j) & 1 == 1), // rotate 180
    (true, |i, _| i & 1 == 0),        // rotate 270
    (false, |i, _| i & 1 == 0),       // flip x
    (false, |_, j| j & 1 == 0),       // flip y
    (true, |_, _| false),             // flip plus 1 (transpose)
    (true, |i, j| (i + j) & 1 == 1),  // flip minus 1
];

/// Writes variant `v` (0..8, C++ order) of the 16x16 DCT `a` into `out`.
pub(super) fn transform(v: usize, a: &[f32], out: &mut [f32]) {
    let (transpose, negate) = DIHEDRAL[v];
    for i in 0..DCT_SIDE {
        for j in 0..DCT_SIDE {
            let x = a[i * DCT_SIDE + j];
            let dst = if transpose {
                j * DCT_SIDE + i
            } else {
                i * DCT_SIDE + j
            };
            out[dst] = if negate(i, j) { -x } else { x };
        }
    }
}

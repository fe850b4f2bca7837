//! Similarity transforms (scale, rotation, translation) between two images.
//!
//! Leaks are rescaled, slightly rotated, cropped and shifted, but not
//! sheared: a 4-parameter similarity is the model RANSAC fits, from two
//! correspondences for a hypothesis and by least squares over the inliers.
//! A frame resized to another aspect ratio is the exception: its
//! similarity's inliers are refitted with an affine map ([`stretched`]).

use super::matcher::Pair;

/// A similarity `r = (a -b; b a) q + t`.
#[derive(Clone, Copy)]
pub(crate) struct Model {
    pub(crate) a: f32,
    pub(crate) b: f32,
    pub(crate) tx: f32,
    pub(crate) ty: f32,
    /// Cached `hypot(a, b)` and `atan2(b, a)`.
    pub(crate) zoom: f32,
    pub(crate) turn: f32,
}

impl Model {
    pub(crate) fn new(a: f32, b: f32, tx: f32, ty: f32) -> Model {
        Model {
            a,
            b,
            tx,
            ty,
            zoom: a.hypot(b),
            turn: b.atan2(a),
        }
    }
    pub(crate) fn apply(&self, (x, y): (f32, f32)) -> (f32, f32) {
        (
            self.a * x - self.b * y + self.tx,
            self.b * x + self.a * y + self.ty,
        )
    }
    pub(crate) fn scale(&self) -> f32 {
        self.zoom
    }
}

/// The similarity through two correspondences, if they are far enough apart.
pub(crate) fn two_point(p: &Pair, q: &Pair) -> Option<Model> {
    let (dqx, dqy) = (q.q.0 - p.q.0, q.q.1 - p.q.1);
    let (drx, dry) = (q.r.0 - p.r.0, q.r.1 - p.r.1);
    let n = dqx * dqx + dqy * dqy;
    if n < 100.0 {
        return None;
    }
    let (a, b) = ((drx * dqx + dry * dqy) / n, (dry * dqx - drx * dqy) / n);
    let m = Model::new(
        a,
        b,
        p.r.0 - (a * p.q.0 - b * p.q.1),
        p.r.1 - (b * p.q.0 + a * p.q.1),
    );
    (m.zoom > 0.0).then_some(m)
}

/// Closed-form least-squares similarity through the inliers.
pub(crate) fn least_squares(pairs: &[Pair]) -> Option<Model> {
    if pairs.len() < 2 {
        return None;
    }
    let n = pairs.len() as f32;
    let mean = |f: fn(&Pair) -> f32| pairs.iter().map(f).sum::<f32>() / n;
    let (qx, qy, rx, ry) = (
        mean(|p| p.q.0),
        mean(|p| p.q.1),
        mean(|p| p.r.0),
        mean(|p| p.r.1),
    );
    let (mut sa, mut sb, mut sq) = (0f32, 0f32, 0f32);
    for p in pairs {
        let (ux, uy, vx, vy) = (p.q.0 - qx, p.q.1 - qy, p.r.0 - rx, p.r.1 - ry);
        sa += ux * vx + uy * vy;
        sb += ux * vy - uy * vx;
        sq += ux * ux + uy * uy;
    }
    if sq <= f32::EPSILON {
        return None;
    }
    let (a, b) = (sa / sq, sb / sq);
    Some(Model::new(
        a,
        b,
        rx - (a * qx - b * qy),
        ry - (b * qx + a * qy),
    ))
}

/// An affine map `r = (m0 m1; m2 m3) q + (m4, m5)`: a similarity after the
/// frame was stretched along its own axes ([`stretched`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Affine(pub(crate) [f32; 6]);

impl Affine {
    pub(crate) fn apply(&self, (x, y): (f32, f32)) -> (f32, f32) {
        let m = &self.0;
        (m[0] * x + m[1] * y + m[4], m[2] * x + m[3] * y + m[5])
    }
    pub(crate) fn det(&self) -> f32 {
        self.0[0] * self.0[3] - self.0[1] * self.0[2]
    }
    /// The inverse map; `None` when the map is degenerate.
    pub(crate) fn inverse(&self) -> Option<Affine> {
        let [a, b, c, d, tx, ty] = self.0;
        let det = self.det();
        if det.abs() <= f32::EPSILON {
            return None;
        }
        let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det);
        Some(Affine([
            ia,
            ib,
            ic,
            id,
            -(ia * tx + ib * ty),
            -(ic * tx + id * ty),
        ]))
    }
    /// Reference pixels per query pixel: the square root of the area ratio.
    pub(crate) fn scale(&self) -> f32 {
        self.det().abs().sqrt()
    }
    /// Rotation of the query's x axis, radians.
    pub(crate) fn turn(&self) -> f32 {
        self.0[2].atan2(self.0[0])
    }
    /// How much more the map stretches the query's x axis than its y axis
    /// (1 for a similarity).
    pub(crate) fn aspect(&self) -> f32 {
        self.0[0].hypot(self.0[2]) / self.0[1].hypot(self.0[3]).max(f32::EPSILON)
    }
    /// Cosine of the angle between the images of the query's axes (0 for
    /// a similarity or a stretch along the query's axes).
    pub(crate) fn shear(&self) -> f32 {
        let [a, b, c, d, ..] = self.0;
        (a * b + c * d) / (a.hypot(c) * b.hypot(d)).max(f32::EPSILON)
    }
}

impl From<Model> for Affine {
    fn from(m: Model) -> Affine {
        Affine([m.a, -m.b, m.b, m.a, m.tx, m.ty])
    }
}

/// Least-squares affine map through the pairs (two 3x3 normal systems);
/// `None` for fewer than 6 pairs or collinear ones.
pub(crate) fn stretched(pairs: &[Pair]) -> Option<Affine> {
    if pairs.len() < 6 {
        return None;
    }
    let n = pairs.len() as f64;
    let mean = |f: fn(&Pair) -> f32| pairs.iter().map(|p| f(p) as f64).sum::<f64>() / n;
    let (qx, qy, rx, ry) = (
        mean(|p| p.q.0),
        mean(|p| p.q.1),
        mean(|p| p.r.0),
        mean(|p| p.r.1),
    );
    // Centred: the translation drops out, leaving 2x2 systems.
    let (mut sxx, mut sxy, mut syy) = (0f64, 0f64, 0f64);
    let (mut ux, mut uy, mut vx, mut vy) = (0f64, 0f64, 0f64, 0f64);
    for p in pairs {
        let (x, y) = (p.q.0 as f64 - qx, p.q.1 as f64 - qy);
        let (u, v) = (p.r.0 as f64 - rx, p.r.1 as f64 - ry);
        sxx += x * x;
        sxy += x * y;
        syy += y * y;
        ux += u * x;
        uy += u * y;
        vx += v * x;
        vy += v * y;
    }
    let det = sxx * syy - sxy * sxy;
    if det <= 1e-6 * (sxx * syy).max(1e-12) {
        return None;
    }
    let solve = |bx: f64, by: f64| ((bx * syy - by * sxy) / det, (by * sxx - bx * sxy) / det);
    let (a, b) = solve(ux, uy);
    let (c, d) = solve(vx, vy);
    let (tx, ty) = (rx - (a * qx + b * qy), ry - (c * qx + d * qy));
    Some(Affine([a, b, c, d, tx, ty].map(|v| v as f32)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(q: (f32, f32), a: &Affine) -> Pair {
        Pair {
            q,
            r: a.apply(q),
            turn: 0.0,
            zoom: 1.0,
        }
    }

    #[test]
    fn least_squares_recovers_a_stretch_and_its_inverse_undoes_it() {
        // Width x1.5 against height, then a turn of 0.1 rad and an offset.
        let (s, c) = 0.1f32.sin_cos();
        let a = Affine([1.5 * c, -s, 1.5 * s, c, 30.0, -12.0]);
        let pairs: Vec<Pair> = (0..40)
            .map(|i| pair(((i * 37 % 300) as f32, (i * 53 % 200) as f32), &a))
            .collect();
        let fit = stretched(&pairs).expect("fit");
        assert!(
            fit.0.iter().zip(a.0).all(|(x, y)| (x - y).abs() < 1e-3),
            "{fit:?}"
        );
        assert!((fit.aspect() - 1.5).abs() < 1e-3 && fit.shear().abs() < 1e-3);
        assert!((fit.turn() - 0.1).abs() < 1e-3);
        let back = fit
            .inverse()
            .expect("invertible")
            .apply(fit.apply((7.0, 9.0)));
        assert!((back.0 - 7.0).abs() < 1e-3 && (back.1 - 9.0).abs() < 1e-3);
        // Collinear points leave the map undetermined.
        let line: Vec<Pair> = (0..10)
            .map(|i| pair((i as f32, 2.0 * i as f32), &a))
            .collect();
        assert!(stretched(&line).is_none());
    }

    #[test]
    fn a_similarity_is_an_unstretched_affine_map() {
        let m = Model::new(0.8, 0.3, 5.0, 6.0);
        let a = Affine::from(m);
        assert_eq!(a.apply((3.0, 4.0)), m.apply((3.0, 4.0)));
        assert!((a.aspect() - 1.0).abs() < 1e-6 && a.shear().abs() < 1e-6);
        assert!((a.scale() - m.scale()).abs() < 1e-6 && (a.turn() - m.turn).abs() < 1e-6);
    }
}

//! Similarity transforms (scale, rotation, translation) between two images.
//!
//! Leaks are rescaled, slightly rotated, cropped and shifted, but not
//! sheared: a 4-parameter similarity is the model RANSAC fits, from two
//! correspondences for a hypothesis and by least squares over the inliers.

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
    pub(crate) fn inverse(&self) -> Model {
        let n = self.a * self.a + self.b * self.b;
        let (a, b) = (self.a / n, -self.b / n);
        Model::new(
            a,
            b,
            -(a * self.tx - b * self.ty),
            -(b * self.tx + a * self.ty),
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

//! Fixtures for the end-to-end tests: small cartoon-like stills generated
//! in code (deterministic), written into a temporary folder.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

use image::{Rgb, RgbImage};

pub use frametrace::synth::Rng;

/// `../shared/vectors` (or `$FRAMETRACE_SHARED/vectors`), or `None` after
/// saying loudly on stderr that the compatibility tests are skipped.
pub fn shared_vectors() -> Option<PathBuf> {
    let shared = std::env::var_os("FRAMETRACE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let dir = shared.join("vectors");
    if dir.is_dir() {
        Some(dir)
    } else {
        // Straight to fd 2: the test harness captures eprintln! of passing
        // tests, and this line must show in CI logs.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: ../shared/vectors not found, compatibility not checked"
        );
        None
    }
}

/// A still of "series" `series` at time `t`: a background of bands and
/// shapes that depend on the series, and a few shapes that move with `t`.
pub fn still(series: u64, t: u32, w: u32, h: u32) -> RgbImage {
    let mut rng = Rng::new(series * 7919 + 1);
    let base = [
        rng.below(200) as u8 + 30,
        rng.below(200) as u8 + 30,
        rng.below(200) as u8 + 30,
    ];
    let mut img = RgbImage::from_fn(w, h, |x, y| {
        let band = ((x / (w / 8 + 1)) + (y / (h / 5 + 1)) * 3) as u8;
        Rgb([
            base[0].wrapping_add(band.wrapping_mul(23)),
            base[1].wrapping_add(band.wrapping_mul(41)),
            base[2].wrapping_add((y * 100 / h) as u8),
        ])
    });
    for _ in 0..14 {
        let (cx, cy) = (rng.below(w), rng.below(h));
        let r = rng.below(h / 4) + h / 16;
        let color = Rgb([
            rng.below(256) as u8,
            rng.below(256) as u8,
            rng.below(256) as u8,
        ]);
        disc(&mut img, cx as i64, cy as i64, r as i64, color);
    }
    for k in 0..4u32 {
        let mut m = Rng::new(series * 31 + u64::from(k));
        let (x0, y0) = (m.below(w), m.below(h));
        let (vx, vy) = (m.below(9) as i64 - 4, m.below(7) as i64 - 3);
        let color = Rgb([m.below(256) as u8, m.below(256) as u8, m.below(256) as u8]);
        let x = (x0 as i64 + vx * i64::from(t)).rem_euclid(i64::from(w));
        let y = (y0 as i64 + vy * i64::from(t)).rem_euclid(i64::from(h));
        rect(&mut img, x, y, i64::from(w / 7), i64::from(h / 5), color);
    }
    img
}

pub fn disc(img: &mut RgbImage, cx: i64, cy: i64, r: i64, c: Rgb<u8>) {
    for y in (cy - r).max(0)..(cy + r).min(i64::from(img.height())) {
        for x in (cx - r).max(0)..(cx + r).min(i64::from(img.width())) {
            if (x - cx).pow(2) + (y - cy).pow(2) <= r * r {
                img.put_pixel(x as u32, y as u32, c);
            }
        }
    }
}

pub fn rect(img: &mut RgbImage, x0: i64, y0: i64, w: i64, h: i64, c: Rgb<u8>) {
    for y in y0.max(0)..(y0 + h).min(i64::from(img.height())) {
        for x in x0.max(0)..(x0 + w).min(i64::from(img.width())) {
            img.put_pixel(x as u32, y as u32, c);
        }
    }
}

/// Writes `<root>/<series-name>/ep01/<name>_<t>.png` for `n` stills of
/// each series, and returns the paths.
pub fn write_refs(root: &Path, series: &[(&str, u64)], n: u32) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (name, seed) in series {
        let dir = root.join(name).join("ep01");
        std::fs::create_dir_all(&dir).unwrap();
        for t in 0..n {
            let p = dir.join(format!("{name}_{t:03}.png"));
            still(*seed, t * 6, 192, 108).save(&p).unwrap();
            out.push(p);
        }
    }
    out
}

/// JPEG bytes of `img` at `quality`.
pub fn jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut buf = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, quality);
    img.write_with_encoder(enc).unwrap();
    buf
}

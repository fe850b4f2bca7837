//! Tests of the local-feature stage on images generated in code: a scene of
//! random shapes against its crop, rotation, rescale and mirror image.

use super::*;
use image::{GrayImage, Luma};

/// A 640x360 scene: a gradient with 60 random filled rectangles and discs.
pub(super) fn scene(seed: u64) -> GrayImage {
    let mut rng = SplitMix(seed);
    let mut img = GrayImage::from_fn(640, 360, |x, y| Luma([(40 + x / 8 + y / 8) as u8]));
    for _ in 0..60 {
        let (cx, cy) = (rng.unit() * 640.0, rng.unit() * 360.0);
        let (rx, ry) = (8.0 + rng.unit() * 40.0, 8.0 + rng.unit() * 40.0);
        let (v, disc) = ((rng.next() % 256) as u8, rng.next().is_multiple_of(2));
        for (x, y, p) in img.enumerate_pixels_mut() {
            let (dx, dy) = ((x as f32 - cx) / rx, (y as f32 - cy) / ry);
            if (disc && dx * dx + dy * dy <= 1.0) || (!disc && dx.abs() <= 1.0 && dy.abs() <= 1.0) {
                *p = Luma([v]);
            }
        }
    }
    img
}

/// `out(x, y) = src(A^-1 (x - c) + c')`: rotation by `deg` and zoom about the centres.
fn warp(src: &GrayImage, w: u32, h: u32, deg: f32, zoom: f32) -> GrayImage {
    let (s, c) = deg.to_radians().sin_cos();
    let (sc, dc) = (
        (src.width() as f32 / 2.0, src.height() as f32 / 2.0),
        (w as f32 / 2.0, h as f32 / 2.0),
    );
    GrayImage::from_fn(w, h, |x, y| {
        let (u, v) = ((x as f32 - dc.0) / zoom, (y as f32 - dc.1) / zoom);
        let (sx, sy) = (c * u + s * v + sc.0, -s * u + c * v + sc.1);
        let inside = sx >= 0.0
            && sy >= 0.0
            && sx < src.width() as f32 - 1.0
            && sy < src.height() as f32 - 1.0;
        if inside {
            *src.get_pixel(sx as u32, sy as u32)
        } else {
            Luma([128])
        }
    })
}

fn features(img: &GrayImage) -> Vec<Keypoint> {
    FeatureExtractor::new(ExtractorParams::default()).extract(img)
}

fn check(query: &GrayImage, reference: &GrayImage) -> Verification {
    let (q, r) = (features(query), features(reference));
    let v = verify(&q, query.dimensions(), &r, reference.dimensions());
    v.unwrap_or_else(|| panic!("no verification ({} vs {} keypoints)", q.len(), r.len()))
}

#[test]
fn crop_verifies_with_its_offset() {
    let reference = scene(1);
    let query = image::imageops::crop_imm(&reference, 100, 60, 400, 250).to_image();
    let v = check(&query, &reference);
    assert!(v.inliers >= 20 && !v.mirrored, "{v:?}");
    assert!((v.aspect - 1.0).abs() < 0.02, "{v:?}");
    assert!(
        (v.scale - 1.0).abs() < 0.03 && v.rotation_deg.abs() < 1.5,
        "{v:?}"
    );
    assert!(
        (v.tx - 100.0).abs() < 4.0 && (v.ty - 60.0).abs() < 4.0,
        "{v:?}"
    );
    let expected = [100.0 / 640.0, 60.0 / 360.0, 500.0 / 640.0, 310.0 / 360.0];
    assert!(
        v.region
            .iter()
            .zip(expected)
            .all(|(a, b)| (a - b).abs() < 0.02),
        "{v:?}"
    );
}

#[test]
fn rotation_and_scale_are_recovered() {
    let reference = scene(2);
    for (deg, zoom) in [(6.0f32, 1.0f32), (-4.0, 1.0), (0.0, 0.5), (3.0, 0.7)] {
        let query = warp(
            &reference,
            (560.0 * zoom) as u32,
            (300.0 * zoom) as u32,
            deg,
            zoom,
        );
        let v = check(&query, &reference);
        assert!(v.inliers >= 12, "{deg} {zoom}: {v:?}");
        assert!((v.scale * zoom - 1.0).abs() < 0.05, "{deg} {zoom}: {v:?}");
        assert!((v.rotation_deg + deg).abs() < 1.5, "{deg} {zoom}: {v:?}");
    }
}

#[test]
fn a_frame_resized_to_another_aspect_ratio_verifies_as_stretched() {
    let reference = scene(4);
    let thumb = thumbnail(&reference);
    let crop = image::imageops::crop_imm(&reference, 40, 30, 560, 300).to_image();
    // 16:9 content squeezed to 4:3: the width shrinks by three quarters.
    let query = image::imageops::resize(&crop, 420, 300, image::imageops::FilterType::Triangle);
    let v = check(&query, &reference);
    assert!(v.inliers >= 40, "{v:?}");
    assert!((v.aspect - 4.0 / 3.0).abs() < 0.05, "{v:?}");
    assert!(
        (v.tx - 40.0).abs() < 4.0 && (v.ty - 30.0).abs() < 4.0,
        "{v:?}"
    );
    let a = agreement(&QueryImage::new(query), &thumb, reference.dimensions(), &v);
    assert!(a.recall > 0.75 && a.photometric > 0.75, "{a:?}");
}

#[test]
fn mirror_image_verifies_as_mirrored() {
    let reference = scene(3);
    let query = image::imageops::flip_horizontal(&reference);
    let v = check(&query, &reference);
    assert!(v.mirrored && v.inliers >= 20, "{v:?}");
    assert!(
        (v.scale - 1.0).abs() < 0.03 && v.rotation_deg.abs() < 1.5,
        "{v:?}"
    );
}

#[test]
fn unrelated_scene_does_not_verify() {
    for seed in 10..14 {
        let (a, b) = (features(&scene(seed)), features(&scene(seed + 100)));
        let v = verify(&a, (640, 360), &b, (640, 360));
        assert!(v.is_none_or(|v| v.inliers < 10), "{seed}: {v:?}");
    }
}

#[test]
fn mirrored_descriptors_match_the_flipped_image() {
    let img = scene(4);
    let (kps, flipped) = (
        features(&img),
        features(&image::imageops::flip_horizontal(&img)),
    );
    let mirrored = mirror(&kps, img.width());
    let close = mirrored
        .iter()
        .filter(|m| {
            flipped.iter().any(|f| {
                let d: u32 = m
                    .desc
                    .iter()
                    .zip(f.desc)
                    .map(|(a, b)| (a ^ b).count_ones())
                    .sum();
                (m.x - f.x).hypot(m.y - f.y) < 2.0 && d < 40
            })
        })
        .count();
    assert!(close * 2 > kps.len(), "{close} of {}", kps.len());
}

#[test]
fn bytes_round_trip_within_quantisation() {
    let kps = features(&scene(5));
    let bytes = to_bytes(&kps);
    assert_eq!(bytes.len(), 6 + KEYPOINT_BYTES * kps.len());
    let back = from_bytes(&bytes).expect("round trip");
    assert_eq!(back.len(), kps.len());
    for (a, b) in kps.iter().zip(&back) {
        assert_eq!(a.desc, b.desc);
        assert!((a.x - b.x).abs() <= 1.0 / 32.0 && (a.y - b.y).abs() <= 1.0 / 32.0);
        assert!((a.scale / b.scale - 1.0).abs() < 0.03);
        let turn = (a.angle - b.angle).rem_euclid(std::f32::consts::TAU);
        assert!(turn.min(std::f32::consts::TAU - turn) < 0.02);
    }
    assert_eq!(visual_words(&kps[0]), visual_words(&back[0]));
}

#[test]
fn garbage_bytes_are_errors() {
    assert_eq!(from_bytes(b""), Err(LocalError::BadLength(0)));
    assert_eq!(from_bytes(b"XX\0\0\0\0"), Err(LocalError::BadHeader));
    let mut bytes = to_bytes(&features(&scene(6)));
    bytes.pop();
    assert!(from_bytes(&bytes).is_err());
    let huge = [b'K', b'1', 0xff, 0xff, 0xff, 0xff];
    assert!(from_bytes(&huge).is_err());
    let mut rng = SplitMix(7);
    for len in 0..200 {
        let junk: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let _ = from_bytes(&junk);
    }
}

#[test]
fn visual_words_are_tagged_by_table() {
    let kps = features(&scene(8));
    for k in &kps {
        let words = visual_words(k);
        assert!(
            words
                .iter()
                .enumerate()
                .all(|(t, w)| w >> 24 == t as u32 && w & 0xff_ffff < 1 << BITS_PER_WORD)
        );
    }
    let distinct: std::collections::HashSet<u32> = kps.iter().map(|k| visual_words(k)[0]).collect();
    assert!(
        distinct.len() * 2 > kps.len(),
        "words should spread: {}",
        distinct.len()
    );
}

#[test]
fn local_features_round_trip_and_bad_bytes_are_errors() {
    let mut fx = FeatureExtractor::new(reference::reference_params());
    let f = LocalFeatures::of_reference(&mut fx, &scene(5));
    assert!(f.keypoints.len() > 100);
    assert_eq!(f.thumb.width(), agreement::THUMB_LONG_SIDE);
    let bytes = f.to_bytes();
    let back = LocalFeatures::from_bytes(&bytes).unwrap();
    assert_eq!(back.size, f.size);
    assert_eq!(back.thumb, f.thumb);
    assert_eq!(back.keypoints.len(), f.keypoints.len());
    assert_eq!(back.words(), f.words());
    // Every truncation and a bad header fail cleanly instead of panicking.
    for cut in [0, 5, 9, 10, 500, bytes.len() - 1] {
        assert!(
            LocalFeatures::from_bytes(&bytes[..cut]).is_err(),
            "cut {cut}"
        );
    }
    let mut bad = bytes.clone();
    bad[0] = b'X';
    assert_eq!(LocalFeatures::from_bytes(&bad), Err(LocalError::BadHeader));
}

#[test]
fn agreement_separates_the_same_picture_from_a_shared_patch() {
    let reference = scene(1);
    let thumb = thumbnail(&reference);
    // The same picture, cropped: its covered area agrees everywhere.
    let crop = image::imageops::crop_imm(&reference, 100, 60, 400, 250).to_image();
    let v = check(&crop, &reference);
    let same = agreement(
        &QueryImage::new(crop.clone()),
        &thumb,
        reference.dimensions(),
        &v,
    );
    assert!(same.recall > 0.8 && same.photometric > 0.8, "{same:?}");
    // Another picture sharing only one pasted patch of the reference.
    let mut other = scene(2);
    let patch = image::imageops::crop_imm(&reference, 200, 100, 200, 150).to_image();
    image::imageops::replace(&mut other, &patch, 220, 110);
    let v = check(&other, &reference);
    let shared = agreement(
        &QueryImage::new(other.clone()),
        &thumb,
        reference.dimensions(),
        &v,
    );
    assert!(
        shared.recall < same.recall - 0.2 && shared.photometric < same.photometric - 0.2,
        "same {same:?} shared {shared:?}"
    );
}

#[test]
fn word_keys_are_the_indexed_terms() {
    use super::reference::{word_key, word_term};
    for w in [
        0,
        1,
        0xabc,
        (3 << 24) | 0x3ffff,
        0x0fff_ffff,
        0x1000_0000,
        u32::MAX,
    ] {
        let mut key = Vec::new();
        word_key(w, &mut key);
        assert_eq!(key, word_term(w).as_bytes(), "word {w:#x}");
    }
}

#[test]
fn probes_flip_the_least_reliable_bits_of_each_word() {
    let kp = features(&scene(3))[0];
    let tables = word_tables();
    let mut margins = [200u8; 256];
    // Table 0: its bit 5 least reliable, then bit 2 (ties keep order);
    // table 1: one unreliable bit; tables 2 and 3: none under the cut.
    margins[tables[0][5] as usize] = 3;
    margins[tables[0][2] as usize] = 40;
    margins[tables[0][9] as usize] = 40;
    margins[tables[1][17] as usize] = UNRELIABLE_MARGIN - 1;
    margins[tables[2][0] as usize] = UNRELIABLE_MARGIN;
    let exact = visual_words(&kp);
    let probed = |probes: usize, kp: &Keypoint, mirrored: bool| {
        let mut out = Vec::new();
        probed_words(kp, &margins, mirrored, probes, &mut out);
        out
    };
    assert_eq!(probed(0, &kp, false), exact.to_vec());
    assert_eq!(
        probed(2, &kp, false),
        vec![
            exact[0],
            exact[0] ^ 1 << 5,
            exact[0] ^ 1 << 2,
            exact[1],
            exact[1] ^ 1 << 17,
            exact[2],
            exact[3],
        ]
    );
    assert_eq!(probed(1, &kp, false).len(), 6);
    // The mirrored keypoint reads twin bits: its margins are the twins'.
    let m = mirror(&[kp], 640)[0];
    let flipped = visual_words(&m);
    let mut twin = [200u8; 256];
    twin[tables[3][4] as usize ^ 1] = 0;
    let mut out = Vec::new();
    probed_words(&m, &twin, true, 2, &mut out);
    assert_eq!(
        out,
        vec![
            flipped[0],
            flipped[1],
            flipped[2],
            flipped[3],
            flipped[3] ^ 1 << 4
        ]
    );
}

#[test]
fn margins_come_with_the_same_keypoints() {
    let img = scene(4);
    let mut fx = FeatureExtractor::new(ExtractorParams::default());
    let plain = fx.extract(&img);
    let mut margins = vec![[7u8; 256]];
    let with = fx.extract_with_margins(&img, &mut margins);
    assert_eq!(plain, with);
    assert_eq!(margins.len(), with.len());
    // Flat paint ties many tests exactly, a textured scene not all of them.
    let zero = margins.iter().flatten().filter(|&&m| m == 0).count();
    assert!(
        zero > 0 && zero < margins.len() * 256 / 2,
        "{zero} zero margins"
    );
}

#[test]
fn probes_find_words_that_noise_flips() {
    let clean = scene(5);
    let mut rng = SplitMix(99);
    let noisy = GrayImage::from_fn(640, 360, |x, y| {
        let v = clean.get_pixel(x, y)[0] as i32 + (rng.next() % 7) as i32 - 3;
        Luma([v.clamp(0, 255) as u8])
    });
    let mut fx = FeatureExtractor::new(reference::reference_params());
    let stored: std::collections::HashSet<u32> = LocalFeatures::of_reference(&mut fx, &clean)
        .words()
        .into_iter()
        .collect();
    let mut fx = FeatureExtractor::new(reference::query_params());
    let mut shared = |probes: usize| {
        let q = QueryFeatures::of_query_probed(&mut fx, &noisy, probes);
        let words: std::collections::HashSet<u32> = q.words.iter().map(|w| w.0).collect();
        let hits = words.iter().filter(|w| stored.contains(w)).count();
        (hits, words.len())
    };
    let ((exact, n0), (probed, n2)) = (shared(0), shared(2));
    // Words added by random flips would hit stored words at the stored
    // words' share of the word space (< 1%); flips of unreliable bits hit
    // far more often.
    let added = (n2 - n0) as f32;
    let chance = added * stored.len() as f32 / (WORDS_PER_KEYPOINT << BITS_PER_WORD) as f32;
    assert!(
        (probed - exact) as f32 > 5.0 * chance.max(1.0),
        "{exact} exact hits, {probed} with probes ({added} words added, {chance:.0} by chance)"
    );
}

#[test]
fn thumbnail_is_the_triangle_filtered_still() {
    // The fast path must stay the filter the index was built with: the
    // image crate's f32 triangle resize, up to fixed-point rounding.
    for (seed, (w, h)) in [(1, (640, 360)), (2, (500, 333)), (3, (97, 130))] {
        let still =
            image::imageops::resize(&scene(seed), w, h, image::imageops::FilterType::Nearest);
        let thumb = thumbnail(&still);
        let long = w.max(h) as f32;
        let size = (
            (w as f32 * agreement::THUMB_LONG_SIDE as f32 / long).round() as u32,
            (h as f32 * agreement::THUMB_LONG_SIDE as f32 / long).round() as u32,
        );
        assert_eq!(thumb.dimensions(), size, "seed {seed}");
        let slow = image::imageops::resize(
            &still,
            size.0,
            size.1,
            image::imageops::FilterType::Triangle,
        );
        let worst = thumb
            .as_raw()
            .iter()
            .zip(slow.as_raw())
            .map(|(&a, &b)| a.abs_diff(b))
            .max();
        assert!(worst <= Some(1), "seed {seed}: off by {worst:?}");
    }
}

#[test]
fn arc_table_agrees_with_the_arc_test() {
    // Every mask of the table against the direct test, and both against
    // a count of the longest circular run of set bits.
    let table = features::arc_table();
    for m in 0..1u32 << 16 {
        let longest = (0..16)
            .map(|start| {
                (0..16)
                    .take_while(|k| m >> ((start + k) % 16) & 1 == 1)
                    .count()
            })
            .max()
            .unwrap_or(0);
        let expected = longest >= 9;
        assert_eq!(features::arc_in(m), expected, "mask {m:016b}");
        assert_eq!(
            table[m as usize / 64] >> (m % 64) & 1 == 1,
            expected,
            "mask {m:016b}"
        );
    }
}

#[test]
fn box_sums_are_the_5x5_sums() {
    let img = scene(11);
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (mut boxes, mut rows) = (Vec::new(), Vec::new());
    sampling::box_sums(img.as_raw(), &mut boxes, &mut rows, w, h);
    assert_eq!(boxes.len(), w * h);
    let px = |x: usize, y: usize| u16::from(img.as_raw()[y * w + x]);
    for y in 0..h {
        for x in 0..w {
            let inside = (2..w - 2).contains(&x) && (2..h - 2).contains(&y);
            let expected = if inside {
                (0..25).map(|k| px(x + k % 5 - 2, y + k / 5 - 2)).sum()
            } else {
                0
            };
            assert_eq!(boxes[y * w + x], expected, "({x}, {y})");
        }
    }
}

#[test]
fn resize_is_the_clamped_four_neighbour_blend() {
    let img = scene(12);
    let src = img.as_raw();
    let (w, h) = (img.width() as usize, img.height() as usize);
    // Downscales as the pyramid makes them, and upscales as small
    // frames get for extraction (where the clamped right tap is used).
    for (nw, nh) in [(512, 288), (1280, 720), (1919, 1079), (7, 5), (640, 1)] {
        let mut out = Vec::new();
        sampling::resize_bilinear(src, w, h, &mut out, nw, nh);
        let tap = |i: usize, n: usize, len: usize| {
            let step = len as f32 / n as f32;
            let f = ((i as f32 + 0.5) * step - 0.5).clamp(0.0, (len - 1) as f32);
            let lo = f as usize;
            (lo, (lo + 1).min(len - 1), (f.fract() * 256.0) as u32)
        };
        for y in 0..nh {
            let (y0, y1, ay) = tap(y, nh, h);
            for x in 0..nw {
                let (x0, x1, ax) = tap(x, nw, w);
                let p = |x: usize, y: usize| u32::from(src[y * w + x]);
                let left = p(x0, y0) * (256 - ay) + p(x0, y1) * ay;
                let right = p(x1, y0) * (256 - ay) + p(x1, y1) * ay;
                let expected = (left * (256 - ax) + right * ax + (1 << 15)) >> 16;
                assert_eq!(
                    u32::from(out[y * nw + x]),
                    expected,
                    "{nw}x{nh} at ({x}, {y})"
                );
            }
        }
    }
}

#[test]
fn a_full_match_continuing_the_screen_equals_one_from_scratch() {
    let reference = features(&scene(13));
    let query = features(&warp(&scene(13), 560, 320, 7.0, 0.9));
    let keys = matcher::probe_keys(&query);
    let as_tuples = |pairs: Vec<matcher::Pair>| -> Vec<_> {
        pairs
            .iter()
            .map(|p| (p.q, p.r, p.turn.to_bits(), p.zoom.to_bits()))
            .collect()
    };
    let mut continued = matcher::Matcher::new(&query, &keys, &reference);
    let screen = as_tuples(continued.pairs(3));
    let full = as_tuples(continued.pairs(matcher::PROBE_TABLES));
    let fresh = |tables| as_tuples(matcher::Matcher::new(&query, &keys, &reference).pairs(tables));
    assert_eq!(screen, fresh(3));
    assert_eq!(full, fresh(matcher::PROBE_TABLES));
    // The tables after the screen's do change the matches (more
    // candidates, and closer second-best distances for the ratio test).
    assert_ne!(screen, full);
}

#[test]
fn the_prefilter_passes_every_arc_and_rejects_lines_and_short_arcs() {
    // The prefilter's layout of a 16-bit circle mask: even points, then
    // odd ones.
    let layout =
        |m: u32| -> [u8; 16] { std::array::from_fn(|j| (m >> ((2 * j) % 16 + j / 8) & 1) as u8) };
    let mut rejected = 0;
    for m in 0..1u32 << 16 {
        let possible = features::arc_possible(&layout(m));
        assert!(possible || !features::arc_in(m), "arc {m:016b} rejected");
        rejected += usize::from(!possible);
    }
    // Most masks hold no arc, and the prefilter is there to say so.
    assert!(rejected > 50_000, "only {rejected} masks rejected");
    // A thin line through the centre, along points 4 and 12 (both sides
    // marked: points 13..=3 and 5..=11), and the 7-point arc of a
    // straight edge; a 9-point arc passes.
    let line = (0b111 << 13) | 0b1111 | (0b111_1111 << 5);
    assert!(!features::arc_in(line));
    assert!(!features::arc_possible(&layout(line)));
    assert!(!features::arc_possible(&layout(0b111_1111 << 1)));
    assert!(features::arc_possible(&layout(0b1_1111_1111 << 3)));
}

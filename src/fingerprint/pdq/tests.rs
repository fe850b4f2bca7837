//! PDQ checked without ../shared: images generated here, written as PNG,
//! decoded back, and compared with the `pdqhash` 0.2.8 oracle.
//!
//! Expected values were produced by running this file's generator with
//! `FRAMETRACE_PDQ_GEN_DIR=/tmp/pdqgen cargo test pdq::tests` (the PNGs are
//! kept there) and then, in the oracle env (pdqhash 0.2.8, Pillow 13.0.0,
//! numpy 2.4.6):
//!
//! ```text
//! import sys, numpy as np, pdqhash; from PIL import Image
//! hexof = lambda bits: "%064x" % int("".join(str(int(b)) for b in bits), 2)
//! for p in sys.argv[1:]:
//!     im = Image.open(p)
//!     if PYTX:   # the mode-recipe cases: python-threatexchange pdq_hasher
//!         if im.mode in ("LA", "I;16"): im = im.convert("RGB")
//!         a = np.asarray(im)
//!         if a.ndim == 2: a = np.concatenate([a[..., np.newaxis]] * 3, axis=2)
//!     else:      # the plain cases
//!         a = np.asarray(im.convert("RGB"))
//!     h, q = pdqhash.compute(a)
//!     hs, qd = pdqhash.compute_dihedral(a)   # dihedral cases
//!     print(p, hexof(h), q, [hexof(x) for x in hs], qd)
//! ```

use std::path::Path;

use image::{DynamicImage, ImageBuffer, Luma, LumaA, Rgb, Rgba};

use super::{PdqHash, PdqHasher, pytx_rgb8};

/// Deterministic noise: a 32-bit LCG's high byte.
fn noise(seed: u32) -> impl FnMut() -> u8 {
    let mut s = seed;
    move || {
        s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (s >> 24) as u8
    }
}

fn rgb(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> DynamicImage {
    DynamicImage::ImageRgb8(ImageBuffer::from_fn(w, h, |x, y| Rgb(f(x, y))))
}

/// Filled circle, rectangle and ramp over a noisy background.
fn shapes(w: u32, h: u32, seed: u32) -> DynamicImage {
    let mut n = noise(seed);
    let mut grain = vec![0_u8; (w * h) as usize];
    grain.iter_mut().for_each(|g| *g = n() / 8);
    rgb(w, h, |x, y| {
        let (cx, cy, r) = (w as i64 * 2 / 5, h as i64 / 2, h as i64 / 3);
        let (dx, dy) = (x as i64 - cx, y as i64 - cy);
        let g = grain[(y * w + x) as usize];
        if dx * dx + dy * dy <= r * r {
            [220, 40 + g, 60]
        } else if x > w * 3 / 5 && x < w * 9 / 10 && y > h / 5 && y < h * 3 / 5 {
            [30, 30 + g, 200]
        } else {
            [
                (x * 255 / w) as u8 / 2 + g,
                (y * 255 / h) as u8 / 2 + g,
                128,
            ]
        }
    })
}

/// The generated cases: file name and image. The last four (LA, I;16,
/// RGBA, 16-bit RGB PNGs) exercise the pytx pixel recipe.
fn cases() -> Vec<(&'static str, DynamicImage)> {
    let checker = |x: u32, y: u32| {
        if (x / 5 + y / 5).is_multiple_of(2) {
            230
        } else {
            20
        }
    };
    vec![
        (
            "grad_checker_37x23.png",
            rgb(37, 23, |x, y| {
                [(x * 255 / 36) as u8, (y * 255 / 22) as u8, checker(x, y)]
            }),
        ),
        ("shapes_300x200.png", shapes(300, 200, 7)),
        ("shapes_640x360.png", shapes(640, 360, 11)),
        ("flat_80x60.png", rgb(80, 60, |_, _| [97, 150, 200])),
        ("tiny_1x1.png", rgb(1, 1, |_, _| [10, 200, 30])),
        ("column_1x50.png", rgb(1, 50, |_, y| [(y * 5) as u8, 0, 0])),
        (
            "strip_1000x3.png",
            rgb(1000, 3, |x, y| [(x % 256) as u8, (y * 80) as u8, 0]),
        ),
        (
            "strip_1000x7.png",
            rgb(1000, 7, |x, y| {
                [(x * 7 % 256) as u8, (y * 30) as u8, (x / 4 % 256) as u8]
            }),
        ),
        ("square_64x64.png", shapes(64, 64, 3)),
        ("grey_alpha_120x90.png", {
            let mut n = noise(5);
            DynamicImage::ImageLumaA8(ImageBuffer::from_fn(120, 90, |x, y| {
                LumaA([((x * y) % 251) as u8, n()])
            }))
        }),
        ("grey16_120x90.png", {
            DynamicImage::ImageLuma16(ImageBuffer::from_fn(120, 90, |x, y| {
                Luma([(x * 9 + y * 3) as u16])
            }))
        }),
        ("rgba_120x90.png", {
            let mut n = noise(9);
            DynamicImage::ImageRgba8(ImageBuffer::from_fn(120, 90, |x, y| {
                Rgba([(x * 2) as u8, n(), (y * 2) as u8, n()])
            }))
        }),
        ("rgb16_50x40.png", {
            DynamicImage::ImageRgb16(ImageBuffer::from_fn(50, 40, |x, y| {
                Rgb([
                    (x * 1300) as u16,
                    (y * 1600) as u16,
                    ((x * y * 97) % 65536) as u16,
                ])
            }))
        }),
    ]
}

/// Oracle values: (file, hash, quality). The last four use the pytx recipe.
const EXPECTED: &[(&str, &str, u8)] = &[
    (
        "grad_checker_37x23.png",
        "2a4c2f802f80d07fd07fd07f2f80d07f2f802f802f802f80d07fd07fd07fd07f",
        94,
    ),
    (
        "shapes_300x200.png",
        "f9c6e8c6e0cfe346a70617291f389930583970e9e1d066c707cfbb16b91654b9",
        69,
    ),
    (
        "shapes_640x360.png",
        "19d658c670cbe1c6e356672907389b301e3958b9f8f0e4c766cbab469b1654b9",
        41,
    ),
    (
        "flat_80x60.png",
        "2c4b11341134000000001134113413a0000011345e012c4b554b2c4b1134a7a1",
        0,
    ),
    (
        "tiny_1x1.png",
        "0000000000000000000000000000000000000000000000000000000000000000",
        0,
    ),
    (
        "column_1x50.png",
        "0000000000000000000000000000000000000000000000000000000000000000",
        0,
    ),
    (
        "strip_1000x3.png",
        "0000000000000000000000000000000000000000000000000000000000000000",
        0,
    ),
    (
        "strip_1000x7.png",
        "16d32b4c602cd473f92dbf526acdfaab08ac9b74b75345d4953250ad16d32a8c",
        100,
    ),
    (
        "square_64x64.png",
        "a4d267e607cf8b46bb06493fe83aa49004f997e99fc15b27692f2016a2d653e9",
        100,
    ),
    (
        "grey_alpha_120x90.png",
        "7e047417d636d13db4bee03b05fc09be89a84bfe1bf8e9e0efc87928d6406140",
        100,
    ),
    (
        "grey16_120x90.png",
        "f8f0f9f8f0f0f8f8f0f0f1f0f0f0f0f0f0f0f0f8f0f0f0f0f0f000f08ff00700",
        40,
    ),
    (
        "rgba_120x90.png",
        "bf29d7ea250eea61ac14ff61680c86eb9192c5466f110399ed876b1db7935960",
        100,
    ),
    (
        "rgb16_50x40.png",
        "4550aa54969524a54b2a955a62d59ca53b6dc6e919dae73508ed639b0c6773de",
        61,
    ),
];

/// `pdqhash.compute_dihedral` for some of the files (same recipes).
const EXPECTED_DIHEDRAL: &[(&str, [&str; 8], u8)] = &[
    (
        "grad_checker_37x23.png",
        [
            "2a4c2f802f80d07fd07fd07f2f80d07f2f802f802f802f80d07fd07fd07fd07f",
            "1d0fe2f0e2f062f0e2f09d0fe2f01d0fe2f062f01d0fe2f09d0f62f09d0fe2f0",
            "0009852a7ad57ad5852a7ad57ad57ad57ad5852a7ad5852a852a7ad5852a7ad5",
            "c85ac85ab7a5c85ab7a5b7a5b7a5b7a5b7a5c85ac85a485ac85ac85ac85a485a",
            "ffeed07f2f802f80d07f2f802f802f802f80d07f2f80d07fd07f2f80d07f2f80",
            "6e9b7ad57ad5852a852a852a7ad5852a7ad57ad57ad57ad5852a852a852a852a",
            "1d0f1d0fe2f01d0fe2f062f0e2f062f062f09d0f1d0f1d0f9d0f9d0f1d0f1d0f",
            "485a37a537a537a537a5485a37a5485a37a537a5485a37a5c85a37a5485ab7a5",
        ],
        94,
    ),
    (
        "shapes_300x200.png",
        [
            "f9c6e8c6e0cfe346a70617291f389930583970e9e1d066c707cfbb16b91654b9",
            "f9260f0ef8f67838c386f1e61e1c60d1e0790f8707c1fc5866c907e1f81edb26",
            "ac934264b59a49ecf253bd834a6d339a2d6cda43b485cc6d529a11bcec43fe13",
            "ac73a5a4ad23d29296d35b4c4b49ca7bb52ca52d529456f2339cad4bad4b318c",
            "f9c61730e0cf1cb9a706e8d61f3866cf58398f16e1d0993807cf44e9b916ab46",
            "ac93bd9bb59ab613f253427c4a6dcc652d6c25bcb4853392529aee43ec4301ec",
            "f926f0f1f87687c7c3860e191e1c9f2ee079f07807c103a726c9f81ef81e24d9",
            "ac735a5bada32d6d96d3a4b34b493584b52c5ad25294a90d339c52b4ad4b8e73",
        ],
        69,
    ),
    (
        "flat_80x60.png",
        [
            "2c4b11341134000000001134113413a0000011345e012c4b554b2c4b1134a7a1",
            "000101018015801580346742012180340101676367438135801c8035801c6742",
            "391e391e046100000000391e046199020000391e0b540461000a046104610d0b",
            "01000129c440223fc561c5680020221e0000c54922162317c4492217c549c568",
            "2c4b2c4b1134000000002c4b1134cc5300002c4b5e011134554b11341134585e",
            "391e04610461000000000461046146f1000004610b54391e000a391e0461f2f4",
            "000100288015676a8034803d0121674b0101801c67436642801c6642801c803d",
            "01000000c440c540c56122170020c561000022362216c460c449c460c5492217",
        ],
        0,
    ),
    (
        "square_64x64.png",
        [
            "a4d267e607cf8b46bb06493fe83aa49004f997e99fc15b27692f2016a2d653e9",
            "9b62b1e6cb0ef38e1e381a1f38738386e1e30f1c06c9787926c983e1fe1edb06",
            "f187cd4c529a00acae536395bd6f0e1251ac3c43ca94f18d3c7a8abcf783f943",
            "ce37134c8e5b5d244b6db4b52d26292cb4b6a5b6138cd2d3729c294bab4b71ac",
            "a4d2981907cf54b9bb06b6c0e83a5b6704f968169fc1a4d8692fdfe9a2d6ac16",
            "f1873093529ade13ae53086abd6ff1c551acc2bcca940e523c7a7543f78306bc",
            "9b624619cb0e08711e38e1e078737c79e1e3f0e346d9878626c97c1efe1e24f9",
            "ca37e4b38e5ba2db4b6d4b4a2d26c693b4b64a49128c2d2c729cd6b4ab4b8e53",
        ],
        100,
    ),
    (
        "grey16_120x90.png",
        [
            "f8f0f9f8f0f0f8f8f0f0f1f0f0f0f0f0f0f0f0f8f0f0f0f0f0f000f08ff00700",
            "fffa0007fff800070002fffc0003bffcdffe0001fffe00015000ffff0000ffff",
            "a5a55b52a5255a52a5a55a5aa5a55a5aa5a55a5aa5a55a5aa5a5aa5adaa5adaa",
            "0aafaaadaaad0aad05575556555615568aabaaabaaabaaab0555555555555555",
            "60f0060760700707f0f00f0ff0f00f0ff0f00f0ff0f00f0ff0f0ff0f8ff0f8ff",
            "a5a5a4ada525a5ada5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a555a5daa55255",
            "fffafff8fff8fff8d002000300034403fffefffefffefffe5040000000000000",
            "aaaf5552aaad55525557aaa95556eaa98aab5554aaab55540555aaaa5555aaaa",
        ],
        40,
    ),
];

/// Writes every case as PNG, reads it back, and returns the pytx pixels.
fn generated() -> Vec<(&'static str, image::RgbImage)> {
    let tmp = tempfile::tempdir().expect("tempdir");
    let keep = std::env::var_os("FRAMETRACE_PDQ_GEN_DIR");
    let dir = keep.as_deref().map_or(tmp.path(), Path::new);
    std::fs::create_dir_all(dir).expect("gen dir");
    cases()
        .into_iter()
        .map(|(name, img)| {
            let path = dir.join(name);
            img.save(&path).expect("save png");
            let back = image::ImageReader::open(&path)
                .and_then(|r| r.with_guessed_format())
                .expect("open");
            (name, pytx_rgb8(&back.decode().expect("decode")))
        })
        .collect()
}

fn hash_of(hasher: &mut PdqHasher, img: &image::RgbImage) -> super::PdqOutput {
    hasher.hash_rgb8(img.as_raw(), img.width() as usize, img.height() as usize)
}

#[test]
fn generated_images_match_oracle() {
    let images = generated();
    let mut hasher = PdqHasher::new();
    assert_eq!(images.len(), EXPECTED.len());
    for ((name, img), (want_name, hex, quality)) in images.iter().zip(EXPECTED) {
        assert_eq!(name, want_name);
        let out = hash_of(&mut hasher, img);
        assert_eq!(
            (out.hash.to_hex().as_str(), out.quality),
            (*hex, *quality),
            "{name}"
        );
    }
}

#[test]
fn dihedral_matches_oracle_and_original() {
    let images = generated();
    let mut hasher = PdqHasher::new();
    for (name, hexes, quality) in EXPECTED_DIHEDRAL {
        let img = &images.iter().find(|(n, _)| n == name).expect("case").1;
        let (hashes, q) =
            hasher.hash_rgb8_dihedral(img.as_raw(), img.width() as usize, img.height() as usize);
        assert_eq!(q, *quality, "{name}");
        assert_eq!(
            hashes.map(|h| h.to_hex()),
            hexes.map(str::to_owned),
            "{name}"
        );
        assert_eq!(hashes[0], hash_of(&mut hasher, img).hash, "{name}");
    }
}

#[test]
fn luma_entry_point_agrees_with_rgb() {
    let (_, img) = generated().swap_remove(1);
    let luma: Vec<f32> = img
        .pixels()
        .map(|p| p.0.map(f64::from))
        .map(|[r, g, b]| (r * 0.299 + g * 0.587 + b * 0.114) as f32)
        .collect();
    let mut hasher = PdqHasher::new();
    let from_luma = hasher.hash_luma(&luma, img.width() as usize, img.height() as usize);
    assert_eq!(from_luma, hash_of(&mut hasher, &img));
}

#[test]
fn hex_round_trip_and_errors() {
    let hex = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    let hash = PdqHash::from_hex(hex).expect("valid");
    assert_eq!(hash.0[0], 0xf8f8_f0ce_e0f4_a84f);
    assert_eq!(hash.0[3], 0x33e6_b39c_4e9c_9b22);
    assert_eq!(hash.to_hex(), hex);
    assert_eq!(hash.to_string(), hex);
    assert_eq!(PdqHash::from_hex(&hex.to_uppercase()), Ok(hash));
    assert_eq!(hex.parse::<PdqHash>(), Ok(hash));
    let json = serde_json::to_string(&hash).expect("json");
    assert_eq!(json, format!("\"{hex}\""));
    assert_eq!(serde_json::from_str::<PdqHash>(&json).expect("back"), hash);
    assert!(PdqHash::from_hex(&hex[1..]).is_err());
    assert!(PdqHash::from_hex(&format!("{}g", &hex[1..])).is_err());
    assert!(PdqHash::from_hex(&format!("+{}", &hex[1..])).is_err());
    assert!(PdqHash::from_hex(&format!("é{}", &hex[2..])).is_err());
}

#[test]
fn hamming_counts_differing_bits() {
    let a = PdqHash([0, u64::MAX, 0b1011, 1 << 63]);
    assert_eq!(a.hamming(&a), 0);
    assert_eq!(a.hamming(&PdqHash::default()), 64 + 3 + 1);
    assert_eq!(PdqHash([u64::MAX; 4]).hamming(&PdqHash::default()), 256);
    assert_eq!(a.hamming(&PdqHash([1, u64::MAX, 0b0011, 0])), 3);
}

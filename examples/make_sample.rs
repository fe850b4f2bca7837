//! Writes the bundled sample: reference stills of four made-up series and a
//! folder of simulated leaks with their ground truth.
//!
//! ```text
//! cargo run --release --example make_sample -- data
//! ```
//!
//! Layout (the same as the development set's):
//! `<out>/refs/<series>/<episode>/<series>_<episode>_<frame:04>.png`,
//! `<out>/frames/q0001.jpg ...` and `<out>/truth.csv`
//! (`id,category,truth_series,source`; `truth_series` is empty for frames of
//! series that are not indexed, and for near-blank frames).

use std::error::Error;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use frametrace::synth::{Category, Rng, Series, apply, jpeg_bytes, random_leak};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{Rgb, RgbImage};

/// Indexed series and their episodes.
const INDEXED: [(&str, &[&str]); 4] = [
    ("moonbase-kids", &["ep01", "ep02"]),
    ("river-dragons", &["ep01"]),
    ("pocket-robots", &["ep01", "ep02"]),
    ("cloud-bakery", &["ep01"]),
];
/// Series whose frames leak but which are not in the reference folder.
const UNINDEXED: [&str; 2] = ["tin-pirates", "lantern-street"];
const STILLS: u32 = 12;
const STEP: u32 = 4;
const SIZE: (u32, u32) = (480, 270);

/// FNV-1a, so a series' look is tied to its name.
fn seed_of(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Time of `frame` in `episode`: episodes are distant stretches of one series.
fn time(episode: &str, frame: u32) -> f32 {
    let n: u32 = episode.trim_start_matches("ep").parse().unwrap_or(1);
    (n.saturating_sub(1) * 400 + frame) as f32
}

fn write_png(img: &RgbImage, path: &Path) -> Result<(), Box<dyn Error>> {
    let file = BufWriter::new(fs::File::create(path)?);
    img.write_with_encoder(PngEncoder::new_with_quality(
        file,
        CompressionType::Best,
        FilterType::Adaptive,
    ))?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: make_sample <out_dir>")?,
    );
    for (series, episodes) in INDEXED {
        let s = Series::new(seed_of(series));
        for ep in episodes {
            let dir = out.join("refs").join(series).join(ep);
            fs::create_dir_all(&dir)?;
            for k in 0..STILLS {
                let img = s.frame(time(ep, k * STEP), SIZE.0, SIZE.1);
                write_png(
                    &img,
                    &dir.join(format!("{series}_{ep}_{:04}.png", k * STEP)),
                )?;
            }
        }
    }

    let frames = out.join("frames");
    fs::create_dir_all(&frames)?;
    let mut truth = String::from("id,category,truth_series,source\n");
    let mut rng = Rng::new(2026);
    let mut id = 0;
    let mut emit = |img: &RgbImage,
                    png: bool,
                    cat: &str,
                    truth_series: &str,
                    source: &str|
     -> Result<(), Box<dyn Error>> {
        id += 1;
        let name = format!("q{id:04}.{}", if png { "png" } else { "jpg" });
        if png {
            write_png(img, &frames.join(&name))?;
        } else {
            fs::write(frames.join(&name), jpeg_bytes(img, 90))?;
        }
        truth.push_str(&format!("{name},{cat},{truth_series},{source}\n"));
        Ok(())
    };

    // Leaks of indexed series: every category once, then a second round of the
    // partial-match ones, spread over series and episodes.
    let mut plan: Vec<Category> = Category::ALL.to_vec();
    plan.extend([
        Category::Overlay,
        Category::Sheet,
        Category::Combo,
        Category::Crop,
        Category::Inbetween,
        Category::Rotate,
        Category::Scale,
    ]);
    let leaked = plan
        .iter()
        .map(|&c| (c, true))
        .chain((0..8).map(|i| (Category::ALL[(i * 5 + 2) % 13], false)));
    for (i, (cat, indexed)) in leaked.enumerate() {
        let (series, ep) = if indexed {
            let (name, eps) = INDEXED[i % INDEXED.len()];
            (name, eps[rng.below(eps.len() as u32) as usize])
        } else {
            (UNINDEXED[i % 2], "ep01")
        };
        let still = rng.below(STILLS) * STEP;
        let between = cat == Category::Inbetween || (cat != Category::Exact && rng.chance(0.5));
        let frame = if between {
            still + 1 + rng.below(STEP - 1)
        } else {
            still
        };
        let (w, h) = if cat == Category::Sheet {
            (SIZE.0 * 2, SIZE.1 * 2)
        } else {
            SIZE
        };
        let img = Series::new(seed_of(series)).frame(time(ep, frame), w, h);
        let leak = random_leak(cat, rng.next_u64());
        let img = apply(&img, &leak, rng.next_u64());
        let source = format!("{series}/{ep}/{series}_{ep}_{frame:04}.png");
        emit(
            &img,
            i % 6 == 5,
            cat.name(),
            if indexed { series } else { "" },
            &source,
        )?;
    }

    // Near-blank frames: a dark fade and an almost white card.
    let dark = RgbImage::from_fn(SIZE.0, SIZE.1, |x, y| {
        Rgb([(6 + (x + y) % 3) as u8, 6, (8 + y / 90) as u8])
    });
    emit(&dark, false, "blank", "", "")?;
    let mut card = RgbImage::from_pixel(SIZE.0, SIZE.1, Rgb([250, 250, 248]));
    card.put_pixel(SIZE.0 / 2, SIZE.1 / 2, Rgb([200, 200, 200]));
    emit(&card, true, "blank", "", "")?;

    let mut file = fs::File::create(out.join("truth.csv"))?;
    file.write_all(truth.as_bytes())?;
    eprintln!(
        "wrote {id} frames and {} stills to {}",
        INDEXED.iter().map(|s| s.1.len()).sum::<usize>() * STILLS as usize,
        out.display()
    );
    Ok(())
}

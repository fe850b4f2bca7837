//! Writes a catalogue of made-up reference stills, to measure the local
//! stage (cost and false attributions) in a catalogue larger than
//! devbench's.
//!
//! ```text
//! cargo run --release --example synthetic_refs -- <out_dir> <stills>
//! ```
//!
//! Layout: `<out>/synth<NNNNN>/ep01/<frame:03>.jpg`, 20 stills a series
//! (640x360, JPEG quality 90), series seeds disjoint from the bundled
//! sample's and the benches'.

use std::error::Error;
use std::fs;
use std::path::PathBuf;

use frametrace::synth::{Series, jpeg_bytes};
use rayon::prelude::*;

const PER_SERIES: u64 = 20;
const STEP: f32 = 4.0;
const SIZE: (u32, u32) = (640, 360);
const FIRST_SEED: u64 = 1_000_000;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: synthetic_refs <out_dir> <stills>";
    let out = PathBuf::from(args.next().ok_or(usage)?);
    let stills: u64 = args.next().ok_or(usage)?.parse()?;
    let series = stills.div_ceil(PER_SERIES);
    (0..series).into_par_iter().try_for_each(|s| {
        let dir = out.join(format!("synth{s:05}")).join("ep01");
        fs::create_dir_all(&dir)?;
        let look = Series::new(FIRST_SEED + s);
        for k in 0..PER_SERIES.min(stills - s * PER_SERIES) {
            let img = look.frame(k as f32 * STEP, SIZE.0, SIZE.1);
            fs::write(dir.join(format!("{k:03}.jpg")), jpeg_bytes(&img, 90))?;
        }
        Ok::<(), std::io::Error>(())
    })?;
    println!("{stills} stills in {series} series under {}", out.display());
    Ok(())
}

//! End-to-end tests: the real binary on generated images in temp folders.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::cargo::cargo_bin_cmd;
use image::imageops;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

use common::{jpeg, still, write_refs};

const SERIES: [(&str, u64); 3] = [("moonbase", 11), ("riverside", 22), ("skyhigh", 33)];

fn frametrace() -> assert_cmd::Command {
    let mut c = cargo_bin_cmd!("frametrace");
    c.env_remove("TERM");
    c
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// refs/ with 3 series x 6 stills, an index built from it, and frames/.
struct Setup {
    dir: TempDir,
}

impl Setup {
    fn new() -> Setup {
        let dir = TempDir::new().unwrap();
        write_refs(&dir.path().join("refs"), &SERIES, 6);
        std::fs::create_dir_all(dir.path().join("frames")).unwrap();
        Setup { dir }
    }
    fn p(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
    fn index(&self) -> Output {
        index_refs(self.dir.path())
    }
    fn frame(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.p("frames").join(name), bytes).unwrap();
    }
    fn query(&self, format: &str) -> Output {
        frametrace()
            .args(["query", "frames", "--index", "idx", "--format", format])
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }
}

/// `frametrace index refs --index idx`, run in `dir`.
fn index_refs(dir: &Path) -> Output {
    frametrace()
        .args(["index", "refs", "--index", "idx"])
        .current_dir(dir)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn index_reports_counts_and_refresh_is_incremental() {
    let s = Setup::new();
    let first = s.index();
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).starts_with("18 added, 0 updated, 0 removed, 0 unchanged, 0 failed"));

    let again = s.index();
    assert!(stdout(&again).starts_with("0 added, 0 updated, 0 removed, 18 unchanged, 0 failed"));
    assert!(
        stdout(&again).contains("(0 commits)"),
        "a no-op refresh must not commit"
    );

    // New bytes in one still, one still deleted, one added, one touched
    // (same bytes, new mtime: read but not decoded, still unchanged).
    let ep = s.p("refs/moonbase/ep01");
    still(99, 0, 192, 108)
        .save(ep.join("moonbase_000.png"))
        .unwrap();
    std::fs::remove_file(ep.join("moonbase_001.png")).unwrap();
    still(11, 60, 192, 108)
        .save(ep.join("moonbase_new.png"))
        .unwrap();
    let touched = ep.join("moonbase_002.png");
    let bytes = std::fs::read(&touched).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&touched, bytes).unwrap();
    let third = s.index();
    assert!(
        stdout(&third).starts_with("1 added, 1 updated, 1 removed, 16 unchanged, 0 failed"),
        "{}",
        stdout(&third)
    );
}

#[test]
fn query_gives_every_verdict_and_exit_code_two_on_errors() {
    let s = Setup::new();
    assert!(s.index().status.success());
    // An in-between frame of a known series, re-encoded as JPEG.
    s.frame("a_known.jpg", &jpeg(&still(22, 15, 192, 108), 85));
    // A mirrored frame.
    let mirrored = imageops::flip_horizontal(&still(33, 12, 192, 108));
    s.frame("b_mirrored.jpg", &jpeg(&mirrored, 90));
    // A series that was never indexed.
    s.frame("c_unknown.jpg", &jpeg(&still(77, 3, 192, 108), 90));
    // A flat grey frame: nothing to attribute.
    let flat = image::RgbImage::from_pixel(192, 108, image::Rgb([128, 128, 128]));
    s.frame("d_flat.png", &jpeg(&flat, 90));
    // Not an image.
    s.frame("e_broken.jpg", b"this is text, not a JPEG");

    let out = s.query("json");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("e_broken.jpg: "), "{}", stderr(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 6);
    let verdicts: Vec<&str> = lines[..5]
        .iter()
        .map(|l| l["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(
        verdicts,
        ["match", "match", "unknown", "low_quality", "error"]
    );
    assert_eq!(lines[0]["series"], "riverside");
    assert_eq!(lines[1]["series"], "skyhigh");
    assert_eq!(lines[1]["evidence"]["view"], "mirrored");
    assert!(lines[0]["confidence"].as_f64().unwrap() > 0.5);
    assert!(lines[2]["series"].is_null());
    assert!(lines[4]["error"].as_str().unwrap().len() > 3);
    let summary = &lines[5]["summary"];
    assert_eq!(summary["frames"], 5);
    assert_eq!(summary["matched"], 2);
    assert_eq!(summary["unknown"], 1);
    assert_eq!(summary["low_quality"], 1);
    assert_eq!(summary["errors"], 1);
    assert_eq!(summary["per_series"]["riverside"], 1);
}

#[test]
fn query_exit_codes_match_and_no_match() {
    let s = Setup::new();
    assert!(s.index().status.success());
    s.frame("x.png", &jpeg(&still(77, 3, 192, 108), 90));
    assert_eq!(s.query("table").status.code(), Some(1));
    s.frame("y.jpg", &jpeg(&still(11, 6, 192, 108), 90));
    let out = s.query("table");
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.lines().next().unwrap().starts_with("VERDICT"));
    assert!(text.contains("moonbase"));
    assert!(text.contains("2 frames: 1 matched (moonbase 1), 1 unknown"));
}

#[test]
fn negatives_are_matched_in_their_own_view() {
    let s = Setup::new();
    assert!(s.index().status.success());
    let negative = |mut img: image::RgbImage| {
        imageops::invert(&mut img);
        img
    };
    // A negative of an indexed still, shrunk; a mirrored negative; and
    // the negative of a series that was never indexed.
    let shrunk = imageops::resize(&still(22, 12, 192, 108), 144, 81, imageops::Triangle);
    s.frame("a_negative.jpg", &jpeg(&negative(shrunk), 90));
    let flipped = imageops::flip_horizontal(&still(33, 18, 192, 108));
    s.frame("b_negative_mirrored.jpg", &jpeg(&negative(flipped), 90));
    s.frame(
        "c_unknown.jpg",
        &jpeg(&negative(still(77, 3, 192, 108)), 90),
    );

    let lines = json_lines(&s.query("json"));
    let verdicts: Vec<(&str, &str)> = lines[..3]
        .iter()
        .map(|l| {
            (
                l["verdict"].as_str().unwrap(),
                l["series"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("match", "riverside"),
            ("match", "skyhigh"),
            ("unknown", "")
        ]
    );
    assert_eq!(lines[0]["evidence"]["stage"], "global");
    assert_eq!(lines[0]["evidence"]["view"], "negative");
    assert_eq!(lines[1]["evidence"]["view"], "negative_mirrored");
    // CSV names the view as JSON does.
    let out = s.query("csv");
    let mut rows = csv::Reader::from_reader(out.stdout.as_slice());
    let view = rows.headers().unwrap().iter().position(|h| h == "view");
    let recs: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(&recs[1][view.unwrap()], "negative_mirrored");
}

#[test]
fn query_csv_has_header_and_one_row_per_frame() {
    let s = Setup::new();
    assert!(s.index().status.success());
    s.frame("y.jpg", &jpeg(&still(11, 6, 192, 108), 90));
    s.frame("z.jpg", &jpeg(&still(77, 6, 192, 108), 90));
    let out = s.query("csv");
    let mut rows = csv::Reader::from_reader(out.stdout.as_slice());
    let header = rows.headers().unwrap().clone();
    assert_eq!(&header[0], "query");
    assert_eq!(&header[1], "verdict");
    let recs: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 2);
    assert_eq!(&recs[0][1], "match");
    assert_eq!(&recs[0][2], "moonbase");
    assert_eq!(&recs[1][1], "unknown");
}

#[test]
fn query_without_index_says_how_to_build_one() {
    let dir = TempDir::new().unwrap();
    frametrace()
        .args(["query", ".", "--index", "nowhere"])
        .current_dir(dir.path())
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("no index at nowhere")
                .and(predicate::str::contains("frametrace index")),
        );
}

#[test]
fn manifest_overrides_layout_and_bad_rows_are_reported_by_line() {
    let s = Setup::new();
    let manifest = "path,series,episode,timecode,studio\n\
                    moonbase/ep01/moonbase_000.png,Moon Base Kids,S01E01,00:00:01:00,acme\n\
                    moonbase/ep01/moonbase_001.png,,S01E01,00:00:02:00,acme\n\
                    moonbase/ep01/moonbase_002.png,Moon Base Kids,S01E01\n";
    std::fs::write(s.p("refs/manifest.csv"), manifest).unwrap();
    let out = s.index();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("manifest.csv: line 3"), "{err}");
    assert!(err.contains("manifest.csv: line 4"), "{err}");
    assert!(stdout(&out).starts_with("18 added"), "{}", stdout(&out));

    s.frame("m.png", &jpeg(&still(11, 0, 192, 108), 95));
    let q = s.query("json");
    let lines = json_lines(&q);
    assert_eq!(lines[0]["series"], "Moon Base Kids");
    assert_eq!(lines[0]["episode"], "S01E01");
    assert_eq!(lines[0]["timecode"], "00:00:01:00");
}

#[test]
fn bad_reference_files_are_reported_and_the_rest_indexed() {
    let s = Setup::new();
    std::fs::write(
        s.p("refs/moonbase/ep01/zz_broken.png"),
        b"\x89PNG\r\n\x1a\ntruncated",
    )
    .unwrap();
    let out = s.index();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("zz_broken.png: "));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(stdout(&out).starts_with("18 added, 0 updated, 0 removed, 0 unchanged, 1 failed"));
}

#[test]
fn hash_prints_every_format_and_continues_past_bad_files() {
    let dir = TempDir::new().unwrap();
    still(5, 0, 120, 80).save(dir.path().join("a.png")).unwrap();
    std::fs::write(dir.path().join("b.jpg"), b"").unwrap();
    still(6, 0, 120, 80).save(dir.path().join("c.png")).unwrap();

    let out = frametrace()
        .args(["hash", ".", "--format", "json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    for key in ["phash", "dhash", "ahash"] {
        assert_eq!(lines[0][key].as_str().unwrap().len(), 16);
    }
    assert_eq!(lines[0]["pdq"].as_str().unwrap().len(), 64);
    assert!(lines[0]["pdq_quality"].as_u64().unwrap() <= 100);
    assert!(lines[1]["error"].is_string());
    assert!(lines[2]["phash"].is_string());
    assert!(stderr(&out).contains("b.jpg: "));

    let subset = frametrace()
        .args(["hash", "a.png", "--alg", "phash,pdq", "--format", "json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(subset.status.code(), Some(0));
    let line = &json_lines(&subset)[0];
    assert!(line["phash"].is_string() && line["pdq"].is_string());
    assert!(line.get("dhash").is_none() && line.get("ahash").is_none());

    let csv = frametrace()
        .args(["hash", "a.png", "--format", "csv"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = stdout(&csv);
    assert!(
        text.starts_with("path,phash,dhash,ahash,pdq,pdq_quality,error\n"),
        "{text}"
    );
    let table = frametrace()
        .args(["hash", "a.png", "c.png"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(stdout(&table).lines().count(), 3);
}

#[test]
fn exact_and_fast_modes_agree_on_small_png() {
    // PNG has no reduced-scale decode: both modes must give the same bits.
    let dir = TempDir::new().unwrap();
    still(8, 0, 300, 200)
        .save(dir.path().join("a.png"))
        .unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["hash", "a.png", "--format", "json"];
        args.extend_from_slice(extra);
        let out = frametrace()
            .args(&args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        json_lines(&out).remove(0)
    };
    assert_eq!(run(&[]), run(&["--exact"]));
}

fn index_path(dir: &Path) -> PathBuf {
    dir.join("idx")
}

#[test]
fn second_concurrent_index_is_refused_as_locked() {
    let s = Setup::new();
    assert!(s.index().status.success());
    // Hold the writer lock from this (separate) process.
    let index = tantivy::Index::open_in_dir(index_path(s.dir.path())).unwrap();
    let _writer: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
    let out = s.index();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("index is locked by another process"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn index_built_with_other_settings_is_refused_with_rebuild_hint() {
    let s = Setup::new();
    assert!(s.index().status.success());
    let index = tantivy::Index::open_in_dir(index_path(s.dir.path())).unwrap();
    let mut writer: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
    let mut prepared = writer.prepare_commit().unwrap();
    prepared.set_payload(
        r#"{"format_version":0,"fingerprint_version":0,"decode":"x","algorithms":[]}"#,
    );
    prepared.commit().unwrap();
    drop(writer);
    s.frame("y.jpg", &jpeg(&still(11, 6, 192, 108), 90));
    let out = s.query("json");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("built with other settings") && err.contains("Rebuild it"),
        "{err}"
    );
}

#[test]
fn eval_scores_labelled_frames_per_category() {
    let s = Setup::new();
    s.frame("a.jpg", &jpeg(&still(11, 6, 192, 108), 90));
    s.frame("b.jpg", &jpeg(&still(22, 9, 192, 108), 90));
    s.frame("c.jpg", &jpeg(&still(77, 3, 192, 108), 90));
    let truth = "id,category,truth_series,source\n\
                 a.jpg,exact,moonbase,x\nb.jpg,inbetween,riverside,y\nc.jpg,exact,,z\n";
    std::fs::write(s.p("truth.csv"), truth).unwrap();
    let out = frametrace()
        .args([
            "eval",
            "--refs",
            "refs",
            "--queries",
            "frames",
            "--truth",
            "truth.csv",
            "--format",
            "json",
        ])
        .current_dir(s.dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["overall"]["positives"], 2);
    assert_eq!(v["overall"]["correct"], 2);
    assert_eq!(v["overall"]["distractors"], 1);
    assert_eq!(v["overall"]["false_attributions"], 0);
    let exact = v["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "exact")
        .unwrap();
    assert_eq!(
        (exact["positives"].as_u64(), exact["distractors"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(v["sweep"].as_array().unwrap().len(), 21);

    let table = frametrace()
        .args([
            "eval",
            "--refs",
            "refs",
            "--queries",
            "frames",
            "--truth",
            "truth.csv",
        ])
        .current_dir(s.dir.path())
        .output()
        .unwrap();
    assert!(stdout(&table).contains("overall"), "{}", stdout(&table));
}

#[test]
fn broken_pipe_exits_quietly() {
    use std::io::Read;
    let dir = TempDir::new().unwrap();
    // ~200 bytes of JSON per file: 600 files overflow the 64 KiB pipe buffer,
    // so the writer hits EPIPE after the reader is gone.
    for i in 0..600 {
        still(i, 0, 32, 24)
            .save(dir.path().join(format!("{i:03}.png")))
            .unwrap();
    }
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("frametrace"))
        .args(["hash", ".", "--format", "json"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then the pipe closes
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A 60% crop of a reference still, rescaled, with a note box over a
/// corner: the global hashes cannot see it, the local stage must
/// attribute it and say where in the still the frame sits.
#[test]
fn local_stage_attributes_a_noted_crop_with_evidence() {
    let dir = TempDir::new().unwrap();
    let series = [("moonbase", 11), ("riverside", 22), ("skyhigh", 33)];
    for (name, seed) in series {
        let ep = dir.path().join("refs").join(name).join("ep01");
        std::fs::create_dir_all(&ep).unwrap();
        for t in 0..4 {
            still(seed, t * 6, 640, 360)
                .save(ep.join(format!("{name}_{t:03}.png")))
                .unwrap();
        }
    }
    let frames = dir.path().join("frames");
    std::fs::create_dir_all(&frames).unwrap();
    let noted_crop = |seed: u64| {
        let crop = imageops::crop_imm(&still(seed, 12, 640, 360), 128, 72, 384, 216).to_image();
        let mut frame = imageops::resize(&crop, 480, 270, imageops::FilterType::Triangle);
        for (x, y) in (10..130).flat_map(|x| (10..50).map(move |y| (x, y))) {
            frame.put_pixel(x, y, image::Rgb([250, 240, 200]));
        }
        jpeg(&frame, 88)
    };
    std::fs::write(frames.join("a_noted.jpg"), noted_crop(22)).unwrap();
    std::fs::write(frames.join("b_other.jpg"), noted_crop(77)).unwrap();
    let run = |extra: &[&str]| {
        let out = frametrace()
            .args(["query", "frames", "--index", "idx", "--format", "json"])
            .args(extra)
            .current_dir(dir.path())
            .output()
            .unwrap();
        json_lines(&out)
    };
    let index = index_refs(dir.path());
    assert!(index.status.success(), "{}", stderr(&index));

    // Global hashes alone leave both frames unknown.
    let global = run(&["--local-candidates", "0"]);
    assert_eq!(global[0]["verdict"], "unknown");
    assert_eq!(global[1]["verdict"], "unknown");

    let lines = run(&[]);
    let hit = &lines[0];
    assert_eq!(hit["verdict"], "match", "{hit}");
    assert_eq!(hit["series"], "riverside");
    assert!(
        hit["evidence"]["reference"]
            .as_str()
            .unwrap()
            .ends_with("riverside_002.png"),
        "{hit}"
    );
    let ev = &hit["evidence"];
    assert_eq!(ev["stage"], "local");
    let local = &ev["local"];
    assert!(local["inliers"].as_u64().unwrap() >= 12, "{local}");
    assert_eq!(local["mirrored"], false);
    // The frame covers x 0.2..0.8, y 0.2..0.8 of the still, rotation none.
    let region: Vec<f64> = local["region"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for (got, want) in region.iter().zip([0.2, 0.2, 0.8, 0.8]) {
        assert!((got - want).abs() < 0.05, "region {region:?}");
    }
    assert!(local["rotation_deg"].as_f64().unwrap().abs() < 2.0);
    let c = hit["confidence"].as_f64().unwrap();
    assert!(c > 0.5 && c <= 1.0, "{c}");
    assert!(hit["inset"].is_null());
    // The unindexed series stays unknown, with its best local attempt shown.
    assert_eq!(lines[1]["verdict"], "unknown", "{}", lines[1]);
    assert!(lines[1]["evidence"].is_null());

    // Word probes find the same still, and keep the other frame unknown.
    let probed = run(&["--word-probes", "2"]);
    assert_eq!(probed[0]["verdict"], "match", "{}", probed[0]);
    assert_eq!(
        probed[0]["evidence"]["reference"],
        hit["evidence"]["reference"]
    );
    assert_eq!(probed[1]["verdict"], "unknown", "{}", probed[1]);
    let refused = frametrace()
        .args(["query", "frames", "--index", "idx", "--word-probes", "5"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("--word-probes"),
        "{}",
        stderr(&refused)
    );

    // The same crop pasted on a white retake sheet with notes around it:
    // the frame is found on the page and attributed from there.
    let noted = image::load_from_memory(&noted_crop(22)).unwrap().to_rgb8();
    let mut page = image::RgbImage::from_pixel(900, 640, image::Rgb([252, 252, 252]));
    imageops::overlay(&mut page, &noted, 330, 260);
    for (x, y) in (40..300).flat_map(|x| (60..64).chain(90..94).map(move |y| (x, y))) {
        page.put_pixel(x, y, image::Rgb([200, 40, 40]));
    }
    std::fs::remove_file(frames.join("b_other.jpg")).unwrap();
    std::fs::write(frames.join("a_noted.jpg"), jpeg(&page, 88)).unwrap();
    let lines = run(&[]);
    let hit = &lines[0];
    assert_eq!(hit["verdict"], "match", "{hit}");
    assert_eq!(hit["series"], "riverside");
    let inset: Vec<u64> = hit["inset"]
        .as_array()
        .unwrap_or_else(|| panic!("no inset: {hit}"))
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    for (got, want) in inset.iter().zip([330, 260, 810, 530]) {
        assert!(got.abs_diff(want) <= 4, "inset {inset:?}");
    }
}

#[test]
fn identical_stills_are_named_by_path_not_by_indexing_order() {
    // A still indexed twice under two names, the copy in a later refresh
    // (so it gets the larger id) under the name that sorts first. Which
    // one a frame is attributed to must not depend on the order the
    // index happened to store them in: the smaller path is named, by the
    // global stage and by the local stage.
    let dir = TempDir::new().unwrap();
    let ep = dir.path().join("refs").join("moonbase").join("ep01");
    std::fs::create_dir_all(&ep).unwrap();
    let held = still(11, 12, 640, 360);
    held.save(ep.join("moonbase_012.png")).unwrap();
    for t in [0, 24] {
        still(11, t, 640, 360)
            .save(ep.join(format!("moonbase_{t:03}.png")))
            .unwrap();
    }
    let index = || {
        let out = index_refs(dir.path());
        assert!(out.status.success(), "{}", stderr(&out));
    };
    index();
    held.save(ep.join("a_held.png")).unwrap();
    index();

    let frames = dir.path().join("frames");
    std::fs::create_dir_all(&frames).unwrap();
    std::fs::write(frames.join("a_whole.jpg"), jpeg(&held, 90)).unwrap();
    let crop = imageops::crop_imm(&held, 96, 54, 448, 252).to_image();
    std::fs::write(frames.join("b_crop.jpg"), jpeg(&crop, 90)).unwrap();
    let out = frametrace()
        .args(["query", "frames", "--index", "idx", "--format", "json"])
        .args(["--top", "1"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let lines = json_lines(&out);
    for (line, stage) in lines[..2].iter().zip(["global", "local"]) {
        assert_eq!(line["verdict"], "match", "{line}");
        assert_eq!(line["evidence"]["stage"], stage, "{line}");
        let reference = line["evidence"]["reference"].as_str().unwrap();
        assert!(reference.ends_with("a_held.png"), "{line}");
    }
}

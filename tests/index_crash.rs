//! The index survives `kill -9` and serves queries during a refresh. Real
//! processes: the binary is killed and run concurrently, not mocked.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use tempfile::TempDir;

use common::{jpeg, still};

fn write_many(root: &Path, n: u32, variant: u64) {
    for i in 0..n {
        let series = format!("s{}", i % 5);
        let dir = root.join(&series).join("ep01");
        std::fs::create_dir_all(&dir).unwrap();
        still(u64::from(i % 5) + 1 + variant * 100, i, 160, 90)
            .save(dir.join(format!("{i:05}.png")))
            .unwrap();
    }
}

fn committed_docs(index: &Path) -> usize {
    let Ok(idx) = tantivy::Index::open_in_dir(index) else {
        return 0;
    };
    idx.load_metas()
        .map(|m| m.segments.iter().map(|s| s.num_docs() as usize).sum())
        .unwrap_or(0)
}

fn parse_counts(stdout: &[u8]) -> Vec<usize> {
    let text = String::from_utf8_lossy(stdout);
    text.split(',')
        .filter_map(|part| part.split_whitespace().next().and_then(|n| n.parse().ok()))
        .collect()
}

#[test]
fn kill_9_keeps_the_last_checkpoint_and_a_rerun_completes() {
    let dir = TempDir::new().unwrap();
    let refs = dir.path().join("refs");
    let index = dir.path().join("idx");
    write_many(&refs, 1200, 0);
    let mut child = Command::new(cargo_bin!("frametrace"))
        .args(["index", "refs", "--index", "idx", "--checkpoint", "40"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while committed_docs(&index) == 0 && started.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let kept = committed_docs(&index);
    assert!(kept > 0, "a checkpoint was committed before the kill");
    assert!(
        kept < 1200,
        "the kill came after the whole run; nothing was tested"
    );

    // The killed index opens and answers.
    std::fs::write(dir.path().join("q.jpg"), jpeg(&still(1, 0, 160, 90), 90)).unwrap();
    let q = Command::new(cargo_bin!("frametrace"))
        .args(["query", "q.jpg", "--index", "idx", "--format", "json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        matches!(q.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&q.stderr)
    );

    // Re-running completes the work and keeps what was committed.
    let rerun = Command::new(cargo_bin!("frametrace"))
        .args(["index", "refs", "--index", "idx"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let counts = parse_counts(&rerun.stdout);
    let (added, updated, removed, unchanged, failed) =
        (counts[0], counts[1], counts[2], counts[3], counts[4]);
    assert_eq!((updated, removed, failed), (0, 0, 0));
    assert_eq!(added + unchanged, 1200);
    assert_eq!(unchanged, kept);
    assert_eq!(committed_docs(&index), 1200);
}

#[test]
fn queries_during_a_refresh_never_fail() {
    let dir = TempDir::new().unwrap();
    let refs = dir.path().join("refs");
    write_many(&refs, 300, 0);
    let first = Command::new(cargo_bin!("frametrace"))
        .args(["index", "refs", "--index", "idx"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(first.status.success());
    std::fs::write(dir.path().join("q.jpg"), jpeg(&still(2, 1, 160, 90), 90)).unwrap();

    // Every still changes: the refresh replaces all documents in small
    // checkpoints while queries keep opening the index.
    write_many(&refs, 300, 1);
    let mut refresh = Command::new(cargo_bin!("frametrace"))
        .args(["index", "refs", "--index", "idx", "--checkpoint", "10"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut queries = 0;
    loop {
        let done = refresh.try_wait().unwrap().is_some();
        let q = Command::new(cargo_bin!("frametrace"))
            .args(["query", "q.jpg", "--index", "idx", "--format", "json"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        queries += 1;
        assert!(
            matches!(q.status.code(), Some(0 | 1)),
            "query {queries} failed during refresh: {}",
            String::from_utf8_lossy(&q.stderr)
        );
        if done {
            break;
        }
    }
    assert!(refresh.wait().unwrap().success());
    assert!(
        queries >= 2,
        "the refresh was too quick to overlap any query"
    );
}

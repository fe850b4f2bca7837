"""Global-hash baselines beside frametrace on a devbench, in one run.

Install the oracles first (they are test oracles, never frametrace
dependencies):

    pip install pillow numpy imagehash==4.3.2 pdqhash

Run from anywhere (the devbench defaults to ../shared/devbench relative to
the repository root):

    python3 benches/global_baseline.py [DEVBENCH] [--format table|json]
        [--phash-threshold 10] [--pdq-threshold 31] [--frametrace BIN]

A devbench holds `refs/<series>/<episode>/*.png`, `queries/*` and
`truth.csv` (`id,category,truth_series,source`; an empty `truth_series`
marks a distractor, whose right answer is `unknown`).

Every reference still and every query is hashed with imagehash.phash
(64 bits, hash_size 8, the library default) and with PDQ (256 bits, the
`pdqhash` package). A query is attributed to the series of its nearest
reference (brute-force Hamming distance) when that distance is within the
method's threshold:

- imagehash phash: 10 of 64 bits. imagehash itself documents no threshold
  (its README compares `hash0 - hash1 < cutoff` and leaves the cut-off to
  the user); 10 bits is the cut-off commonly used with it for "same image",
  and the one issue 4 quotes.
- PDQ: 31 of 256 bits, the distance Meta's ThreatExchange recommends
  starting with (`pdq/README.md`: "Distance Threshold to consider two
  hashes to be similar/matching: <=31"; python-threatexchange's
  `PDQ_CONFIDENT_MATCH_THRESHOLD = 31`). The same README recommends
  discarding hashes of quality <= 49; that is off by default here (every
  hash is compared, as in issue 4) and `--pdq-min-quality 50` turns it on.
- PDQ dihedral: the same threshold, taking the best of the query's 8
  dihedral variants (rotations and mirrors) against the references' plain
  hashes, which is how PDQ is meant to catch mirrored frames.

In the same run, `frametrace eval` is run on the same folders (`cargo run
--release --quiet` from the repository root, or `--frametrace BIN`) and its
JSON is read. Recall is the share of positives (non-empty `truth_series`)
attributed to the right series; a false attribution is a distractor
attributed to any series or a positive attributed to the wrong one, the
same definitions as `frametrace eval`. The script prints one markdown table
(or JSON with `--format json`) on stdout and timings on stderr.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from multiprocessing import Pool
from pathlib import Path

try:
    import imagehash
    import numpy as np
    import pdqhash
    from PIL import Image
except ImportError as err:
    sys.exit(
        f"global_baseline.py: missing Python package {err.name!r}; "
        "install with: pip install pillow numpy imagehash==4.3.2 pdqhash"
    )

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEVBENCH = REPO_ROOT.parent / "shared" / "devbench"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
POPCOUNT = np.array([i.bit_count() for i in range(256)], dtype=np.uint8)
# Packed hash shapes, in bytes: 64-bit phash, 256-bit PDQ, 8 PDQ dihedral variants.
HASH_SHAPES = {"phash": (8,), "pdq": (32,), "pdq_dihedral": (8, 32)}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="imagehash phash and PDQ beside frametrace eval on a devbench."
    )
    p.add_argument(
        "devbench",
        nargs="?",
        type=Path,
        default=DEFAULT_DEVBENCH,
        help=f"devbench folder (default: {DEFAULT_DEVBENCH})",
    )
    p.add_argument(
        "--phash-threshold", type=int, default=10, help="max phash distance (of 64)"
    )
    p.add_argument(
        "--pdq-threshold", type=int, default=31, help="max PDQ distance (of 256)"
    )
    p.add_argument(
        "--pdq-min-quality",
        type=int,
        default=0,
        help="PDQ hashes below this quality match nothing (0: off; PDQ suggests 50)",
    )
    p.add_argument(
        "--frametrace",
        type=Path,
        help="built frametrace binary (default: cargo run --release in the repo root)",
    )
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="hashing processes",
    )
    return p.parse_args()


def read_truth(path: Path) -> dict[str, tuple[str, str | None]]:
    """Map each query file name to (category, series or None for a distractor)."""
    with path.open(newline="", encoding="utf-8") as f:
        return {
            row["id"].strip(): (
                row["category"].strip(),
                row["truth_series"].strip() or None,
            )
            for row in csv.DictReader(f)
        }


def images_under(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )


def hash_image(job: tuple[Path, bool]) -> dict:
    """Hash one file; timings are per stage, in seconds of this process."""
    path, dihedral = job
    out = {
        "path": path,
        "error": None,
        "t_decode": 0.0,
        "t_phash": 0.0,
        "t_pdq": 0.0,
        "t_dihedral": 0.0,
    }
    try:
        t0 = time.perf_counter()
        with Image.open(path) as im:
            im.load()
            rgb = im.convert("RGB")
        pixels = np.asarray(rgb)
        t1 = time.perf_counter()
        out["phash"] = np.packbits(imagehash.phash(rgb).hash.flatten())
        t2 = time.perf_counter()
        bits, out["pdq_quality"] = pdqhash.compute(pixels)
        out["pdq"] = np.packbits(bits.astype(np.uint8))
        t3 = time.perf_counter()
        if dihedral:
            variants, _ = pdqhash.compute_dihedral(pixels)
            out["pdq_dihedral"] = np.stack(
                [np.packbits(v.astype(np.uint8)) for v in variants]
            )
        t4 = time.perf_counter()
        out.update(t_decode=t1 - t0, t_phash=t2 - t1, t_pdq=t3 - t2, t_dihedral=t4 - t3)
    except Exception as err:  # noqa: BLE001 - report any unreadable file and go on
        out["error"] = f"{type(err).__name__}: {err}"
    return out


def hash_all(paths: list[Path], dihedral: bool, jobs: int) -> list[dict]:
    work = [(p, dihedral) for p in paths]
    if jobs <= 1:
        results = [hash_image(w) for w in work]
    else:
        with Pool(jobs) as pool:
            results = pool.map(hash_image, work, chunksize=16)
    for r in results:
        if r["error"]:
            print(f"warning: {r['path']}: {r['error']}", file=sys.stderr)
    return results


def stack(
    results: list[dict], key: str, shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Packed hashes as one array, and a mask of the files that hashed."""
    ok = np.array([r["error"] is None for r in results], dtype=bool)
    arr = np.zeros((len(results), *shape), dtype=np.uint8)
    for i, r in enumerate(results):
        if ok[i]:
            arr[i] = r[key]
    return arr, ok


def good_quality(results: list[dict], min_quality: int) -> np.ndarray:
    """Mask of the files whose PDQ quality is at least `min_quality`."""
    return np.array([r.get("pdq_quality", 0) >= min_quality for r in results])


def nearest(queries: np.ndarray, refs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of and Hamming distance to the nearest ref, for each packed query hash."""
    dist = POPCOUNT[queries[:, None, :] ^ refs[None, :, :]].sum(axis=2, dtype=np.int32)
    idx = dist.argmin(axis=1)
    return idx, dist[np.arange(len(queries)), idx]


def nearest_dihedral(
    queries: np.ndarray, refs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Like `nearest`, over the best of each query's dihedral variants."""
    best_idx, best_dist = nearest(queries[:, 0], refs)
    for v in range(1, queries.shape[1]):
        idx, dist = nearest(queries[:, v], refs)
        better = dist < best_dist
        best_idx[better], best_dist[better] = idx[better], dist[better]
    return best_idx, best_dist


def attributions(idx, dist, ok, threshold, ref_series) -> list[str | None]:
    return [
        ref_series[i] if good and d <= threshold else None
        for i, d, good in zip(idx, dist, ok, strict=True)
    ]


def score(ids, attributed, truth, categories) -> dict:
    """Per-category and overall counts in frametrace eval's JSON shape."""
    empty = {"positives": 0, "correct": 0, "distractors": 0, "false_attributions": 0}
    cats = {c: {"category": c, **empty} for c in categories}
    overall = {"category": "overall", **empty}
    for qid, got in zip(ids, attributed, strict=True):
        if qid not in truth:
            continue
        category, series = truth[qid]
        for s in (cats[category], overall):
            if series is None:
                s["distractors"] += 1
                s["false_attributions"] += got is not None
            else:
                s["positives"] += 1
                s["correct"] += got == series
                s["false_attributions"] += got is not None and got != series
    return finish(list(cats.values()), overall)


def finish(categories: list[dict], overall: dict) -> dict:
    for s in [*categories, overall]:
        s["recall"] = s["correct"] / s["positives"] if s["positives"] else 0.0
    return {"categories": categories, "overall": overall}


def run_frametrace(args, refs: Path, queries: Path, truth: Path) -> tuple[dict, float]:
    if args.frametrace is None:
        cmd = ["cargo", "run", "--release", "--quiet", "--"]
    elif len(args.frametrace.parts) > 1:
        # A path: made absolute, as frametrace runs from the repo root.
        cmd = [str(args.frametrace.resolve())]
    else:  # a bare name, found on PATH
        cmd = [str(args.frametrace)]
    cmd += [
        "eval",
        "--refs",
        str(refs),
        "--queries",
        str(queries),
        "--truth",
        str(truth),
        "--format",
        "json",
    ]
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, cwd=REPO_ROOT, capture_output=True, text=True, check=False
        )
    except OSError as err:
        sys.exit(f"global_baseline.py: cannot run {cmd[0]}: {err}")
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no stderr)"])[-1]
        sys.exit(
            f"global_baseline.py: frametrace eval exited {proc.returncode}: {last}"
        )
    lines = [line for line in proc.stdout.splitlines() if line.strip().startswith("{")]
    try:
        data = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        sys.exit("global_baseline.py: frametrace eval printed no JSON object on stdout")
    keys = ("category", "positives", "correct", "distractors", "false_attributions")
    categories = [{k: c[k] for k in keys} for c in data["categories"]]
    return finish(categories, {k: data["overall"][k] for k in keys}), elapsed


def ordered(result: dict, categories: list[str]) -> dict:
    """Categories in devbench order; any the truth does not list go last."""
    by_name = {c["category"]: c for c in result["categories"]}
    names = [c for c in categories if c in by_name] + sorted(
        set(by_name) - set(categories)
    )
    return {"categories": [by_name[c] for c in names], "overall": result["overall"]}


def table(methods: dict[str, dict], categories: list[str], distractors: int) -> str:
    names = list(methods)
    lines = [
        "| category | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]

    def cell(s: dict | None) -> str:
        return f"{100 * s['recall']:.1f}%" if s else "-"

    for c in [*categories, "overall"]:
        row = []
        for m in methods.values():
            found = (
                m["overall"]
                if c == "overall"
                else next((s for s in m["categories"] if s["category"] == c), None)
            )
            row.append(cell(found))
        lines.append(f"| {c} | " + " | ".join(row) + " |")
    falses = [str(m["overall"]["false_attributions"]) for m in methods.values()]
    lines.append(
        f"| false attributions (of {distractors} distractors) | "
        + " | ".join(falses)
        + " |"
    )
    return "\n".join(lines)


def global_methods(
    args: argparse.Namespace,
    ref_paths: list[Path],
    query_paths: list[Path],
    truth: dict[str, tuple[str, str | None]],
    categories: list[str],
) -> tuple[dict[str, dict], dict[str, dict[str, float]]]:
    """Scores of the three global-hash baselines, and their timings."""
    refs_dir = args.devbench.resolve() / "refs"
    ref_series = [p.relative_to(refs_dir).parts[0] for p in ref_paths]
    ids = [p.name for p in query_paths]
    start = time.perf_counter()
    ref_hashes = hash_all(ref_paths, dihedral=False, jobs=args.jobs)
    query_hashes = hash_all(query_paths, dihedral=True, jobs=args.jobs)
    hash_wall = time.perf_counter() - start

    timings: dict[str, dict[str, float]] = {}
    methods: dict[str, dict] = {}
    phash_t = args.phash_threshold
    pdq_t = str(args.pdq_threshold)
    if args.pdq_min_quality > 0:
        pdq_t += f" q>={args.pdq_min_quality}"
    # name, query hash key, ref hash key, search, threshold, timing key
    specs = [
        (f"imagehash phash <={phash_t}", "phash", "phash", nearest, phash_t, "t_phash"),
        (f"PDQ <={pdq_t}", "pdq", "pdq", nearest, args.pdq_threshold, "t_pdq"),
        (
            f"PDQ <={pdq_t} dihedral",
            "pdq_dihedral",
            "pdq",
            nearest_dihedral,
            args.pdq_threshold,
            "t_dihedral",
        ),
    ]
    for name, key, ref_key, search, threshold, t_key in specs:
        refs, refs_ok = stack(ref_hashes, ref_key, HASH_SHAPES[ref_key])
        queries, queries_ok = stack(query_hashes, key, HASH_SHAPES[key])
        if key.startswith("pdq") and args.pdq_min_quality > 0:
            refs_ok &= good_quality(ref_hashes, args.pdq_min_quality)
            queries_ok &= good_quality(query_hashes, args.pdq_min_quality)
        t0 = time.perf_counter()
        idx, dist = search(queries, refs[refs_ok])
        search_s = time.perf_counter() - t0
        series = [s for s, good in zip(ref_series, refs_ok, strict=True) if good]
        got = attributions(idx, dist, queries_ok, threshold, series)
        methods[name] = score(ids, got, truth, categories)
        hashed = query_hashes if key == "pdq_dihedral" else ref_hashes + query_hashes
        hash_s = sum(r[t_key] for r in hashed)
        timings[name] = {
            "hashed": len(hashed),
            "hash_cpu_s": hash_s,
            "search_s": search_s,
        }
        print(
            f"{name}: {hash_s:.2f} s CPU hashing {len(hashed)} images "
            f"({1000 * hash_s / max(len(hashed), 1):.2f} ms each, decode excluded), "
            f"search {1000 * search_s:.0f} ms",
            file=sys.stderr,
        )
    decode_s = sum(r["t_decode"] for r in ref_hashes + query_hashes)
    print(
        f"Pillow decode (shared by the hashes): {decode_s:.2f} s CPU; hashing wall "
        f"{hash_wall:.2f} s on {args.jobs} process(es)",
        file=sys.stderr,
    )
    return methods, timings


def main() -> None:
    args = parse_args()
    bench = args.devbench.resolve()
    refs_dir, queries_dir, truth_path = (
        bench / "refs",
        bench / "queries",
        bench / "truth.csv",
    )
    for p in (refs_dir, queries_dir, truth_path):
        if not p.exists():
            sys.exit(f"global_baseline.py: {p} not found (is {bench} a devbench?)")
    truth = read_truth(truth_path)
    categories = list(dict.fromkeys(cat for cat, _ in truth.values()))

    ref_paths = images_under(refs_dir)
    query_paths = sorted(
        p
        for p in queries_dir.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )
    ids = {p.name for p in query_paths}
    unlabelled = sum(qid not in truth for qid in ids)
    missing = len(set(truth) - ids)
    if unlabelled or missing:
        print(
            f"warning: {unlabelled} queries without a truth row (ignored), "
            f"{missing} truth rows without a query",
            file=sys.stderr,
        )

    # frametrace first: if it does not build or run, fail before hashing.
    ft, ft_wall = run_frametrace(args, refs_dir, queries_dir, truth_path)
    print(
        f"frametrace eval: {ft_wall:.2f} s wall (index + query, its own decoding"
        + ("" if args.frametrace else ", plus any cargo build")
        + ")",
        file=sys.stderr,
    )
    methods, timings = global_methods(args, ref_paths, query_paths, truth, categories)
    methods["frametrace"] = ordered(ft, categories)
    timings["frametrace"] = {"wall_s": ft_wall}

    distractors = sum(
        series is None for qid, (_, series) in truth.items() if qid in ids
    )
    ft_distractors = ft["overall"]["distractors"]
    if ft_distractors != distractors:
        print(
            f"warning: frametrace counted {ft_distractors} distractors, "
            f"this script {distractors}",
            file=sys.stderr,
        )

    if args.format == "json":
        doc = {
            "devbench": str(bench),
            "thresholds": {
                "phash": args.phash_threshold,
                "pdq": args.pdq_threshold,
                "pdq_min_quality": args.pdq_min_quality,
            },
            "distractors": distractors,
            "methods": [{"method": n, **m} for n, m in methods.items()],
            "timing": timings,
        }
        print(json.dumps(doc, indent=2))
    else:
        print(table(methods, categories, distractors))


if __name__ == "__main__":
    main()

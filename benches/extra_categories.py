"""Leak categories beyond devbench's, made from devbench's own frames.

frametrace is also judged on leaks devbench does not simulate. This script
derives twelve more categories from devbench's `exact` and `inbetween`
queries (every other one: 20 + 20 positives and 20 + 20 distractors per
category, distractors keep the right answer `unknown`), writes them with a
`truth.csv` in devbench's format, and runs `frametrace eval` on them.

    pip install pillow numpy
    python3 benches/extra_categories.py [DEVBENCH] --out DIR
        [--frametrace BIN] [--index INDEX]

Categories (parameters drawn with a fixed seed):

- `stretch`: 85% crop, then the width scaled by 0.75 or 1.33 against the
  height (16:9 shown as 4:3 and back);
- `rot90`: 80% crop, turned 90 degrees either way;
- `vflip`: 80% crop, flipped upside down;
- `persp`: a photo of a screen: each corner moved inwards by up to 12%;
- `blur`: 80% crop, Gaussian blur of radius 2 to 3.5 px;
- `noise`: 80% crop, Gaussian noise of sigma 12 to 20 grey levels;
- `invert`: 85% crop, colours inverted (a negative);
- `small`: 85% crop, shrunk to a quarter (about 140 px wide);
- `screen`: a screenshot of a player or chat window: the frame at 50-70%
  of its size on a dark window with title and control bars and text;
- `grid`: a 2x2 contact sheet, the frame in one tile and three distractor
  frames (never indexed) in the others, so the right answer stays one
  series;
- `watermark`: 85% crop under semi-transparent text tiled over it;
- `negative`: the whole frame inverted (a negative), rescaled to 60-90%
  (drawn last, so the other categories' frames do not change with it).

All are saved as JPEG at quality 85. The devbench images stay where they
are; DIR only holds the derived frames (do not commit them: devbench is
GPL-2+ material).
"""

import argparse
import csv
import os
import random
import subprocess
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps


def crop(rng, im, share):
    w, h = im.size
    cw, ch = int(w * share), int(h * share)
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    return im.crop((x, y, x + cw, y + ch))


def stretch(rng, nrng, im):
    c = crop(rng, im, 0.85)
    return c.resize((int(c.size[0] * rng.choice([0.75, 1.33])), c.size[1]), Image.BICUBIC)


def perspective(rng, nrng, im):
    w, h = im.size
    d = lambda s: rng.uniform(0, 0.12) * s
    # QUAD: the source quadrilateral (upper left, lower left, lower right,
    # upper right) that fills the output rectangle.
    quad = [d(w), d(h), d(w), h - d(h), w - d(w), h - d(h), w - d(w), d(h)]
    return im.transform((w, h), Image.QUAD, quad, Image.BICUBIC)


def noise(rng, nrng, im):
    a = np.asarray(crop(rng, im, 0.8)).astype(np.float32)
    a += nrng.normal(0, rng.uniform(12, 20), a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def small(rng, nrng, im):
    c = crop(rng, im, 0.85)
    return c.resize((max(1, c.size[0] // 4), max(1, c.size[1] // 4)), Image.BICUBIC)


def screen(rng, nrng, im):
    w, h = im.size
    f = rng.uniform(0.5, 0.7)
    fw, fh = int(w * f), int(h * f)
    page = Image.new("RGB", (w, int(w * 0.625)), (24, 24, 28))
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, w, 28), fill=(58, 58, 64))
    draw.text((10, 6), "player - ep%02d_retake_v%d.mp4" % (rng.randint(1, 12), rng.randint(1, 9)),
              fill=(220, 220, 220), font=ImageFont.load_default(14))
    y0 = 40
    x0 = rng.randint(8, w - fw - 8)
    page.paste(im.resize((fw, fh), Image.BICUBIC), (x0, y0))
    bar = y0 + fh + 8
    draw.rectangle((x0, bar, x0 + fw, bar + 6), fill=(90, 90, 90))
    draw.rectangle((x0, bar, x0 + int(fw * rng.random()), bar + 6), fill=(200, 40, 40))
    for k in range(3):
        draw.text((12, bar + 20 + 18 * k), "comment %d: fix the line weight here" % k,
                  fill=(180, 180, 190), font=ImageFont.load_default(13))
    return page


def grid(rng, nrng, im, pool):
    w, h = im.size
    sheet = Image.new("RGB", (w, h), (255, 255, 255))
    tiles = [im] + [Image.open(rng.choice(pool)).convert("RGB") for _ in range(3)]
    slot = rng.randrange(4)
    tiles[0], tiles[slot] = tiles[slot], tiles[0]
    for k, t in enumerate(tiles):
        sheet.paste(t.resize((w // 2 - 4, h // 2 - 4), Image.BICUBIC),
                    ((k % 2) * (w // 2) + 2, (k // 2) * (h // 2) + 2))
    return sheet


def watermark(rng, nrng, im):
    c = crop(rng, im, 0.85).convert("RGBA")
    layer = Image.new("RGBA", c.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font = ImageFont.load_default(18)
    text = "CONFIDENTIAL  %06d" % rng.randint(0, 999999)
    for y in range(0, c.size[1], 48):
        for x in range(-(y % 96), c.size[0], 260):
            draw.text((x, y), text, fill=(255, 255, 255, 110), font=font)
    return Image.alpha_composite(c, layer).convert("RGB")


def negative(rng, im):
    f = rng.uniform(0.6, 0.9)
    small = im.resize((round(im.width * f), round(im.height * f)), Image.LANCZOS)
    return ImageOps.invert(small)


CATEGORIES = {
    "stretch": stretch,
    "rot90": lambda r, n, im: crop(r, im, 0.8).rotate(r.choice([90, 270]), expand=True),
    "vflip": lambda r, n, im: crop(r, im, 0.8).transpose(Image.FLIP_TOP_BOTTOM),
    "persp": perspective,
    "blur": lambda r, n, im: crop(r, im, 0.8).filter(ImageFilter.GaussianBlur(r.uniform(2, 3.5))),
    "noise": noise,
    "invert": lambda r, n, im: ImageOps.invert(crop(r, im, 0.85)),
    "small": small,
    "screen": screen,
    "grid": None,
    "watermark": watermark,
    "negative": lambda r, n, im: negative(r, im),
}


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("devbench", nargs="?", default=os.path.join(root, "..", "shared", "devbench"))
    p.add_argument("--out", required=True, help="directory for the derived frames")
    p.add_argument("--frametrace", default=os.path.join(root, "target", "release", "frametrace"))
    p.add_argument("--index", help="an index of the devbench refs (else eval builds one)")
    args = p.parse_args()

    truth = list(csv.DictReader(open(os.path.join(args.devbench, "truth.csv"))))
    sources = [r for r in truth if r["category"] in ("exact", "inbetween")][::2]
    pool = [os.path.join(args.devbench, "queries", r["id"]) for r in truth
            if r["category"] in ("exact", "inbetween") and not r["truth_series"]]
    queries = os.path.join(args.out, "queries")
    os.makedirs(queries, exist_ok=True)
    rng, nrng = random.Random(7), np.random.default_rng(7)
    n = 0
    with open(os.path.join(args.out, "truth.csv"), "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "category", "truth_series", "source"])
        for name, make in CATEGORIES.items():
            for r in sources:
                im = Image.open(os.path.join(args.devbench, "queries", r["id"])).convert("RGB")
                n += 1
                qid = "x%05d.jpg" % n
                if name == "grid":
                    out_im = grid(rng, nrng, im, pool)
                else:
                    out_im = make(rng, nrng, im)
                out_im.save(os.path.join(queries, qid), quality=85)
                out.writerow([qid, name, r["truth_series"], r["source"]])
    print(f"{n} frames in {queries}", file=sys.stderr)

    cmd = [args.frametrace, "eval", "--refs", os.path.join(args.devbench, "refs"),
           "--queries", queries, "--truth", os.path.join(args.out, "truth.csv")]
    if args.index:
        cmd += ["--index", args.index]
    sys.exit(subprocess.call(cmd))


if __name__ == "__main__":
    main()

"""Throughput of the reference Python hashers on a folder of JPEG stills.

Run by benches/hash.rs when FRAMETRACE_ORACLE_PYTHON is set; prints
`<name> <images per second>` lines. imagehash and pdqhash are test oracles
(pip install imagehash==4.3.2 pdqhash), never frametrace dependencies. Each
timing includes opening and decoding the file with Pillow, as an analyst's
script would.
"""
import pathlib
import sys
import time

import imagehash
import numpy as np
import pdqhash
from PIL import Image


def rate(files, fn):
    start = time.perf_counter()
    for f in files:
        fn(f)
    return len(files) / (time.perf_counter() - start)


def main():
    files = sorted(pathlib.Path(sys.argv[1]).glob("*.jpg"))
    phash = rate(files, lambda f: imagehash.phash(Image.open(f)))
    pdq = rate(files, lambda f: pdqhash.compute(np.asarray(Image.open(f).convert("RGB"))))
    print(f"imagehash.phash {phash:.2f}")
    print(f"pdqhash.compute {pdq:.2f}")


if __name__ == "__main__":
    main()

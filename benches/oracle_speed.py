"""Throughput of the reference Python hashers on a folder of JPEG stills.

Run by benches/hash.rs when FRAMETRACE_ORACLE_PYTHON is set; prints
`<name> <images per wall second> <images per CPU second>` lines (CPU time
of this process, since the machine may be shared). imagehash and pdqhash are test oracles
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
    start, cpu = time.perf_counter(), time.process_time()
    for f in files:
        fn(f)
    n = len(files)
    return n / (time.perf_counter() - start), n / (time.process_time() - cpu)


def main():
    files = sorted(pathlib.Path(sys.argv[1]).glob("*.jpg"))
    phash = rate(files, lambda f: imagehash.phash(Image.open(f)))
    pdq = rate(files, lambda f: pdqhash.compute(np.asarray(Image.open(f).convert("RGB"))))
    print(f"imagehash.phash {phash[0]:.2f} {phash[1]:.2f}")
    print(f"pdqhash.compute {pdq[0]:.2f} {pdq[1]:.2f}")


if __name__ == "__main__":
    main()

"""Worker of ``bench_sbs.py``: the SBS steps of one saved tile, timed, in this checkout.

Run by ``bench_sbs.py`` as ``python _sbs_chain.py TILE.npz LIBRARY.tsv OUT.parquet`` with
``PYTHONPATH`` naming the ``src`` of the checkout to time; prints one JSON line of seconds
per step. It calls only the step functions that every checkout since ``0f90e55`` has
(``opsflow.sbs.*_step`` with their settings object), so two checkouts run the same chain.
The chain runs twice and the second run is timed: checkouts that import their kernels on
first use (lazy_loader) would otherwise count imports as the first step's compute, while
older ones import everything with the package.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "2")  # the reference machine has 2 cores

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from opsflow import sbs  # noqa: E402


def main(tile_path: str, library_path: str, out_path: str) -> None:
    saved = np.load(tile_path)
    image, field = saved["image"], saved["illumination"]
    library = pd.read_csv(library_path, sep="\t", dtype=str)
    _chain(image, field, library)  # imports and first-call set-up, untimed
    seconds, called = _chain(image, field, library)
    called.to_parquet(out_path)
    print(json.dumps(seconds))


def _chain(
    image: np.ndarray, field: np.ndarray, library: pd.DataFrame
) -> tuple[dict[str, float], pd.DataFrame]:
    p = sbs.SbsParams()
    seconds: dict[str, float] = {}

    def timed(name, fn):
        start = time.perf_counter()
        result = fn()
        seconds[name] = time.perf_counter() - start
        return result

    aligned = timed("align", lambda: sbs.align_step(image, p))
    logged = timed("log_filter", lambda: sbs.log_filter_step(aligned, p))
    std = timed("standard_deviation", lambda: sbs.standard_deviation_step(logged, p))
    peaks = timed("find_peaks", lambda: sbs.find_peaks_step(std, p))
    maxed = timed("max_filter", lambda: sbs.max_filter_step(logged, p))
    corrected = timed(
        "illumination_corrected", lambda: sbs.illumination_corrected_step(aligned, field, p)
    )
    cells = timed("segment", lambda: sbs.segment_step(corrected, p))[1]  # nuclei, cells, …
    bases = timed("extract_bases", lambda: sbs.extract_bases_step(peaks, maxed, cells, p))
    reads = timed("call_reads", lambda: sbs.call_reads_step(bases, p=p, n_cycles=len(image)))
    called = timed("call_cells", lambda: sbs.call_cells_step(reads, p=p, library=library))
    return seconds, called


if __name__ == "__main__":
    main(*sys.argv[1:4])

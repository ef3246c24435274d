"""Time and peak memory of every SBS step on one 9 x 5 x 1024 x 1024 tile.

Run: ``.venv/bin/python benchmarks/bench_sbs.py [--size 1024] [--cycles 9]``.
The steps are the ones the workflow rules run (``opsflow.sbs.*_step``). Peak memory is
what tracemalloc sees allocated by the step (numpy buffers included) above what was
held before it. Threads are limited to 2, as on the reference machine.
"""

from __future__ import annotations

import argparse
import time

from _harness import StepTimer
from opsflow import sbs
from opsflow.segment import segmentation_stats
from opsflow.synth import SynthParams, make_library, make_sbs_tile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--cycles", type=int, default=9)
    args = parser.parse_args()

    synth = SynthParams(n_cycles=args.cycles, sbs_tile_shape=(args.size, args.size))
    t0 = time.perf_counter()
    tile = make_sbs_tile(synth, "A1", 0)
    library = make_library(synth)
    print(f"synthetic tile {tile.image.shape} made in {time.perf_counter() - t0:.1f} s")

    p = sbs.SbsParams()
    step = StepTimer()
    aligned = step("align", lambda: sbs.align_step(tile.image, p))
    logged = step("log_filter", lambda: sbs.log_filter_step(aligned, p))
    std = step("standard_deviation", lambda: sbs.standard_deviation_step(logged, p))
    peaks = step("find_peaks", lambda: sbs.find_peaks_step(std, p))
    maxed = step("max_filter", lambda: sbs.max_filter_step(logged, p))
    corrected = step(
        "illumination_corrected",
        lambda: sbs.illumination_corrected_step(aligned, tile.illumination, p),
    )
    nuclei, cells = step("segment", lambda: sbs.segment_step(corrected, p))
    step("segmentation_stats", lambda: segmentation_stats(nuclei, cells))
    bases = step("extract_bases", lambda: sbs.extract_bases_step(peaks, maxed, cells, p))
    reads = step("call_reads", lambda: sbs.call_reads_step(bases, p, args.cycles))
    cells_table = step("call_cells", lambda: sbs.call_cells_step(reads, library, p))
    step("cell_info", lambda: sbs.cell_info(nuclei, cells))
    step.print()
    print(
        f"\n{int(nuclei.max())} cells, {len(reads)} candidate reads, "
        f"{len(cells_table)} cells with a barcode"
    )


if __name__ == "__main__":
    main()

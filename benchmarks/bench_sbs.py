"""Time and peak memory of every SBS step on one 9 x 5 x 1024 x 1024 tile.

Run: ``.venv/bin/python benchmarks/bench_sbs.py [--size 1024] [--cycles 9]``.
Peak memory is what tracemalloc sees allocated by the step (numpy buffers
included) above what was held before it. Threads are limited to 2, as on the
reference machine.
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "2")

import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from opsflow import sbs  # noqa: E402
from opsflow.segment import SegmentParams, segment, segmentation_stats  # noqa: E402
from opsflow.synth import SynthParams, make_library, make_sbs_tile  # noqa: E402


def measure(rows: list[tuple[str, float, float]], name: str, fn: Callable[[], Any]) -> Any:
    tracemalloc.start()
    tracemalloc.reset_peak()
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rows.append((name, elapsed, peak / 2**20))
    return result


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

    p, seg = sbs.SbsParams(), SegmentParams()
    dapi, bases_idx = p.dapi_index, list(p.base_indices)
    rows: list[tuple[str, float, float]] = []
    aligned = measure(
        rows,
        "align_cycles",
        lambda: sbs.align_cycles(
            tile.image,
            channel_names=p.channel_names,
            dapi_channel=p.dapi_channel,
            base_channels=p.base_channels,
            method=p.align_method,
            within_cycle=p.align_within_cycle,
            window=p.align_window,
            upsample_factor=p.align_upsample_factor,
            max_within_cycle_shift=p.align_max_within_cycle_shift,
            spot_suppression=p.align_spot_suppression,
            order=p.align_interpolation_order,
        ),
    )
    logged = measure(
        rows, "log_filter", lambda: sbs.log_filter(aligned, sigma=p.log_sigma, dapi_index=dapi)
    )
    std = measure(
        rows,
        "standard_deviation",
        lambda: sbs.standard_deviation(logged, base_indices=bases_idx),
    )
    peaks = measure(rows, "find_peaks", lambda: sbs.find_peaks(std, width=p.peak_width))
    maxed = measure(
        rows,
        "max_filter",
        lambda: sbs.max_filter(logged, width=p.max_filter_width, dapi_index=dapi),
    )
    corrected = measure(
        rows,
        "illumination_corrected",
        lambda: sbs.illumination_corrected(
            aligned, tile.illumination, dapi_index=dapi, dapi_cycle=0, cyto_cycle=0
        ),
    )

    def run_segment():
        cyto = sbs.cytoplasm_image(corrected, base_indices=bases_idx, reducer=p.cyto_reducer)
        nuclei, cells = segment(corrected[dapi], cyto, params=seg)
        return nuclei, cells, segmentation_stats(nuclei, cells)

    nuclei, cells, _ = measure(rows, "segment", run_segment)
    threshold = sbs.peak_threshold(peaks, noise_factor=p.peak_noise_factor)
    bases = measure(
        rows,
        "extract_bases",
        lambda: sbs.extract_bases(
            peaks, maxed, cells, threshold=threshold, base_channels=p.base_channels
        ),
    )
    reads = measure(
        rows,
        "call_reads",
        lambda: sbs.call_reads(bases, base_channels=p.base_channels, n_cycles=args.cycles),
    )
    cells_table = measure(
        rows, "call_cells", lambda: sbs.call_cells(reads, library=library, q_min=p.q_min)
    )
    measure(rows, "cell_info", lambda: sbs.cell_info(nuclei, cells))

    print(f"\n{'step':<24}{'time (s)':>10}{'peak MiB':>10}")
    print("-" * 44)
    for name, seconds, mib in rows:
        print(f"{name:<24}{seconds:>10.2f}{mib:>10.1f}")
    print("-" * 44)
    print(f"{'total':<24}{sum(r[1] for r in rows):>10.2f}{max(r[2] for r in rows):>10.1f}")
    print(
        f"\n{int(nuclei.max())} cells, {len(reads)} candidate reads, "
        f"{len(cells_table)} cells with a barcode"
    )


if __name__ == "__main__":
    main()

"""Time and peak memory of every phenotype step on one 4 x 2048 x 2048 tile.

Run: ``.venv/bin/python benchmarks/bench_phenotype.py [--size 2048]``.
Peak memory is what tracemalloc sees allocated by the step (numpy buffers included)
above what was held before it. Threads are limited to 2, as on the reference machine.
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

from opsflow import phenotype  # noqa: E402
from opsflow.synth import SynthParams, make_phenotype_tile  # noqa: E402


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
    parser.add_argument("--size", type=int, default=2048, help="phenotype tile side in px")
    args = parser.parse_args()

    synth = SynthParams(sbs_tile_shape=(args.size // 2, args.size // 2))
    t0 = time.perf_counter()
    tile = make_phenotype_tile(synth, "A1", 0)
    print(f"synthetic tile {tile.image.shape} made in {time.perf_counter() - t0:.1f} s")

    p = phenotype.PhenotypeParams(dark_level=synth.camera_offset)
    names = p.channel_names
    rows: list[tuple[str, float, float]] = []
    corrected = measure(
        rows,
        "illumination_corrected",
        lambda: phenotype.illumination_corrected(
            tile.image, tile.illumination, dark_level=p.dark_level
        ),
    )
    shifts = measure(
        rows,
        "align: estimate shifts",
        lambda: phenotype.estimate_channel_shifts(
            corrected,
            channel_names=names,
            offsets=p.align_offsets,
            steps=p.align_steps,
            window=p.align_window,
            upsample_factor=p.align_upsample_factor,
            edge_sigma=p.align_edge_sigma,
            max_shift=p.align_max_shift,
        ),
    )
    aligned = measure(
        rows,
        "align: apply shifts",
        lambda: phenotype.apply_channel_shifts(
            corrected, shifts, order=p.align_interpolation_order
        ),
    )
    nuclei, cells = measure(
        rows,
        "segment (nuclei, cells)",
        lambda: phenotype.segment_phenotype(
            aligned,
            channel_names=names,
            dapi_channel=p.dapi_channel,
            cyto_channels=p.cyto_channels,
            cyto_reducer=p.cyto_reducer,
            params=p.segmentation,
        ),
    )
    cytoplasm = measure(
        rows, "identify_cytoplasm", lambda: phenotype.identify_cytoplasm(nuclei, cells)
    )
    features = measure(
        rows,
        "extract_features",
        lambda: phenotype.extract_features(
            aligned,
            nuclei,
            cells,
            cytoplasm,
            channel_names=names,
            foci_channel=p.foci_channel,
            foci_radius=p.foci_radius,
            foci_smooth_sigma=p.foci_smooth_sigma,
            foci_noise_factor=p.foci_noise_factor,
        ),
    )
    measure(
        rows,
        "  of which foci_per_cell",
        lambda: phenotype.foci_per_cell(
            aligned[names.index(p.foci_channel)],
            cells,
            radius=p.foci_radius,
            smooth_sigma=p.foci_smooth_sigma,
            noise_factor=p.foci_noise_factor,
        ),
    )
    measure(
        rows,
        "extract_minimal",
        lambda: phenotype.extract_minimal(aligned, nuclei, cells, channel_names=names),
    )

    print(f"\n{'step':<28}{'time (s)':>10}{'peak MiB':>10}")
    print("-" * 48)
    for name, seconds, mib in rows:
        print(f"{name:<28}{seconds:>10.2f}{mib:>10.1f}")
    print("-" * 48)
    total = sum(r[1] for r in rows if not r[0].startswith(" "))
    print(f"{'total':<28}{total:>10.2f}{max(r[2] for r in rows):>10.1f}")
    print(f"\n{int(cells.max())} cells, {features.shape[1]} feature columns")


if __name__ == "__main__":
    main()

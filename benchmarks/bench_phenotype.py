"""Time and peak memory of every phenotype step on one 4 x 2048 x 2048 tile.

Run: ``.venv/bin/python benchmarks/bench_phenotype.py [--size 2048]``.
The steps are the ones the workflow rules run (``opsflow.phenotype.*_step``). Peak
memory is what tracemalloc sees allocated by the step (numpy buffers included) above
what was held before it. Threads are limited to 2, as on the reference machine.
"""

from __future__ import annotations

import argparse
import time

from _harness import StepTimer
from opsflow import phenotype
from opsflow.segment import segmentation_stats
from opsflow.synth import SynthParams, make_phenotype_tile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=2048, help="phenotype tile side in px")
    args = parser.parse_args()

    synth = SynthParams(sbs_tile_shape=(args.size // 2, args.size // 2))
    t0 = time.perf_counter()
    tile = make_phenotype_tile(synth, "A1", 0)
    print(f"synthetic tile {tile.image.shape} made in {time.perf_counter() - t0:.1f} s")

    p = phenotype.PhenotypeParams(dark_level=synth.camera_offset)
    step = StepTimer()
    corrected = step(
        "illumination_corrected",
        lambda: phenotype.illumination_corrected_step(tile.image, tile.illumination, p),
    )
    aligned, _ = step("align", lambda: phenotype.align_tile(corrected, params=p))
    nuclei, cells = step("segment", lambda: phenotype.segment_step(aligned, p))
    step("segmentation_stats", lambda: segmentation_stats(nuclei, cells))
    cytoplasm = step("identify_cytoplasm", lambda: phenotype.identify_cytoplasm(nuclei, cells))
    features, _ = step(
        "features (and minimal)",
        lambda: phenotype.features_step(aligned, nuclei, cells, cytoplasm, p),
    )
    step.print()
    print(f"\n{int(cells.max())} cells, {features.shape[1]} feature columns")


if __name__ == "__main__":
    main()

"""Merge time per well against the number of tiles: how it grows with the screen.

Run: ``.venv/bin/python benchmarks/bench_merge.py [--grids 3 6 12] [--repeat 3]``.
Each size is a synthetic well of ``opsflow.synth.well_nuclei`` (the default geometry:
0.2 degree rotation, 0.1 % scale error, tens of µm of translation, stage jitter) with an
n x n grid of SBS tiles and about four phenotype tiles per SBS tile. Timed: the whole
``merge_well`` (positions, registration, tile pairs, matching, quality), best of
--repeat. Ratios are against the smallest well measured in the same run: time per tile
staying flat means cost linear in the tiles (no all-pairs search); precision and recall
against the synthetic truth say the answer stayed right while it grew.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from opsflow.merge import MergeParams, merge_well
from opsflow.synth import WellGeometry, well_nuclei


def _score(result, pheno, sbs) -> tuple[float, float]:
    p_truth = dict(zip(zip(pheno.truth.tile, pheno.truth.label, strict=True),
                       pheno.truth.well_cell, strict=True))  # fmt: skip
    s_truth = dict(zip(zip(sbs.truth.tile, sbs.truth.cell, strict=True),
                       sbs.truth.well_cell, strict=True))  # fmt: skip
    m = result.matches
    p = np.array([p_truth[k] for k in zip(m.phenotype_tile, m.phenotype_cell, strict=True)])
    s = np.array([s_truth[k] for k in zip(m.sbs_tile, m.sbs_cell, strict=True)])
    matchable = set(p_truth.values()) & set(s_truth.values())
    return float((p == s).mean()), len(set(p[p == s])) / len(matchable)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, nargs="+", default=[3, 6, 12])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for n in args.grids:
        pheno, sbs = well_nuclei(WellGeometry(sbs_grid=n), seed=n)
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = merge_well(pheno.cells, pheno.metadata, sbs.cells, sbs.metadata, MergeParams())
            best = min(best, time.perf_counter() - start)
        precision, recall = _score(result, pheno, sbs)
        rows.append((n * n, len(pheno.metadata), len(pheno.cells), best, precision, recall))
        print(f"  {n * n} SBS tiles: {best:.2f} s", flush=True)
    base_tiles, base_time = rows[0][0], rows[0][3]
    print()
    print("| SBS tiles | phenotype tiles | phenotype nuclei | s per well | ms per SBS tile "
          "| x time | x tiles | precision | recall |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for tiles, ph_tiles, cells, seconds, precision, recall in rows:
        print(
            f"| {tiles} | {ph_tiles} | {cells} | {seconds:.2f} | {1000 * seconds / tiles:.0f} "
            f"| {seconds / base_time:.1f} | {tiles / base_tiles:.0f} | {precision:.4f} "
            f"| {recall:.4f} |"
        )


if __name__ == "__main__":
    main()

"""Aggregate time against the number of cells and genes: how it grows with the screen.

Run: ``.venv/bin/python benchmarks/bench_aggregate.py [--cells 25000 100000] [--features 150]``.
Each size is a simulated merged-cell table of one plate (6 wells, one gene per 100 cells,
5 % control cells, ``--features`` log-normal features, a 30 % gain per well, one true
effect of +1 SD on the first feature for the first gene). Timed, best of --repeat: the
whole ``aggregate_step`` (filters, normalisation, gene and sgRNA tables, Mann-Whitney for
every gene and feature with BH, AnnData) and, as the baseline measured in the same run,
``scipy.stats.mannwhitneyu`` of every gene against the controls on one feature only.
Ratios: time per cell (flat means linear), and the whole step over the scipy baseline
times the features (below 1: the shared sort of the controls pays off).
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import pandas as pd
from scipy import stats

from opsflow.aggregate import AggregateParams, aggregate_step


def _cells(n: int, n_features: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_genes = max(n // 100, 2)
    genes = np.where(rng.random(n) < 0.05, "nontargeting",
                     np.char.add("G", rng.integers(0, n_genes, n).astype(str)))  # fmt: skip
    wells = rng.choice(["A1", "A2", "A3", "B1", "B2", "B3"], n)
    gain = np.where(np.isin(wells, ["A2", "B2"]), 1.3, 1.0)
    values = rng.lognormal(0, 0.3, (n, n_features)) * gain[:, None]
    values[genes == "G0", 0] *= 1.35
    table = pd.DataFrame(values, columns=[f"cell_F{k:03d}_mean" for k in range(n_features)])
    meta = pd.DataFrame({
        "plate": "1", "well": wells, "phenotype_tile": rng.integers(0, 500, n),
        "phenotype_cell": np.arange(n), "sbs_tile": 0, "sbs_cell": np.arange(n),
        "distance_um": 0.3, "gene_symbol_0": genes, "gene_symbol_1": "",
        "cell_barcode_0": np.char.add(genes, "_1"), "cell_barcode_count_0": 5,
        "cell_barcode_mapped_0": True, "cell_barcode_mapped_1": False,
        "cell_barcode_count_1": 0, "cell_centroid_y": 50.0, "cell_centroid_x": 50.0,
    })  # fmt: skip
    return pd.concat([meta, table], axis=1)


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _scipy_one_feature(cells: pd.DataFrame) -> None:
    x = cells["cell_F000_mean"].to_numpy()
    control = x[cells["gene_symbol_0"].to_numpy() == "nontargeting"]
    for _, index in (
        cells[cells["gene_symbol_0"] != "nontargeting"].groupby("gene_symbol_0").indices.items()
    ):
        stats.mannwhitneyu(x[index], control, method="asymptotic")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, nargs="+", default=[25_000, 100_000])
    parser.add_argument("--features", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    params = AggregateParams(drop_border_cells=False)
    heads = ["cells", "genes", "tests", "step s", "µs/cell", "x per cell", "scipy 1 feat s",
             "step / scipy x F", "G0 rank"]  # fmt: skip
    print(" ".join(f"{h:>{max(8, len(h))}}" for h in heads))
    first = None
    for n in args.cells:
        cells = _cells(n, args.features)
        out: dict = {}
        step = _best(lambda c=cells, o=out: o.update(r=aggregate_step([c], plate="1", p=params)),
                     args.repeat)  # fmt: skip
        baseline = _best(lambda c=cells: _scipy_one_feature(c), 1)
        hits = out["r"][2]
        g0 = hits[(hits.gene == "G0") & (hits.feature == "cell_F000_mean")]["rank"].iat[0]
        per_cell = step / n
        first = first or per_cell
        print(f"{n:>8} {hits.gene.nunique():>8} {len(hits):>8} {step:>8.2f} "
              f"{1e6 * per_cell:>8.1f} {per_cell / first:>10.2f} {baseline:>14.2f} "
              f"{step / (baseline * args.features):>16.3f} {g0:>8}")  # fmt: skip


if __name__ == "__main__":
    main()

"""The numbers of a QC report, gathered from a run's tables (whatever exists)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from opsflow.steps import get_output

__all__ = ["hits_table", "outputs_of", "tile_numbers", "well_numbers"]


def outputs_of(root: Path, key: str) -> list[Path]:
    """Every file of an output under ``root`` (its wildcards as globs), sorted."""
    pattern = get_output(key).pattern(root)
    return sorted(pattern.parent.glob(re.sub(r"\{[a-z]+\}", "*", pattern.name)))


def _read_all(root: Path, key: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Every file of an output, only ``columns`` of it (the report reads whole screens)."""
    tables = [pd.read_parquet(p, columns=columns) for p in outputs_of(root, key)]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


_KEYS = ["plate", "well", "tile"]
_CELLS = [*_KEYS, "cell", "cell_barcode_mapped_0", "cell_barcode_count"]


def tile_numbers(root: Path) -> pd.DataFrame:
    """Per SBS tile: cells, mapped fraction, reads per cell, reads (peaks called)."""
    cells = _read_all(root, "combine_cells", _CELLS)
    reads = _read_all(root, "combine_reads", _KEYS)
    if cells.empty:
        return pd.DataFrame()
    table = cells.groupby(_KEYS).agg(
        cells=("cell", "size"),
        mapping_rate=("cell_barcode_mapped_0", "mean"),
        reads_per_cell=("cell_barcode_count", "median"),
    )
    if not reads.empty:
        table["reads"] = reads.groupby(_KEYS).size()
    return table.reset_index()


def well_numbers(root: Path) -> pd.DataFrame:
    """Per well: SBS and phenotype cells, mapping rate, merge rate and residuals."""
    sbs = _read_all(root, "combine_cells", _CELLS)
    phenotype = _read_all(root, "combine_phenotype_minimal", ["plate", "well"])
    merged = _read_all(root, "merge", ["plate", "well"])
    transform = _read_all(root, "merge_transform")
    keys = ["plate", "well"]
    parts = []
    if not sbs.empty:
        parts.append(sbs.groupby(keys).agg(
            sbs_cells=("cell", "size"), mapping_rate=("cell_barcode_mapped_0", "mean"),
            reads_per_cell=("cell_barcode_count", "median"),
        ))  # fmt: skip
    if not phenotype.empty:
        parts.append(phenotype.groupby(keys).size().rename("phenotype_cells"))
    if not merged.empty:
        parts.append(merged.groupby(keys).size().rename("merged_cells"))
    if not transform.empty:
        parts.append(transform.set_index(keys)[["residual_median_um", "rotation_deg"]])
    if not parts:
        return pd.DataFrame()
    table = pd.concat(parts, axis=1)
    if {"merged_cells", "phenotype_cells"} <= set(table):
        table["merge_rate"] = table["merged_cells"] / table["phenotype_cells"]
    return table.reset_index()


def hits_table(root: Path, top: int = 10) -> pd.DataFrame:
    """The strongest hit of each gene (best rank, then q-value), the top ``top`` genes."""
    hits = _read_all(root, "hits")
    if hits.empty:
        return hits
    called = hits[hits["hit"].astype(bool)]
    best = called.sort_values(["rank", "q_value"]).drop_duplicates(["plate", "gene"])
    columns = ["plate", "gene", "feature", "n_cells", "effect", "q_value"]
    return best[columns].head(top).reset_index(drop=True).replace([np.inf, -np.inf], np.nan)

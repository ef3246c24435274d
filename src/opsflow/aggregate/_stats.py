"""Cell filters, robust normalisation against controls, per-gene aggregates.

Pure functions over the merged cell table (one row per phenotype cell joined to its SBS
cell); the hit calls are in :mod:`opsflow.aggregate._hits`.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from opsflow.aggregate._params import AggregateParams

__all__ = ["feature_columns", "filter_cells", "gene_table", "normalise", "sgrna_table"]

log = logging.getLogger(__name__)

GENE = "gene_symbol_0"
SGRNA = "cell_barcode_0"
_COMPARTMENTS = ("nucleus_", "cell_", "cytoplasm_")
_NOT_FEATURES = ("centroid", "bounds", "barcode", "gene_")
#: MAD of a normal sample times this is its standard deviation
_MAD_TO_SD = 1.4826


def feature_columns(cells: pd.DataFrame, chosen: tuple[str, ...] | None = None) -> list[str]:
    """The phenotype features of a merged table: numeric compartment columns, no positions."""
    if chosen is not None:
        missing = [c for c in chosen if c not in cells]
        if missing:
            raise KeyError(f"aggregate.features names columns the cells lack: {missing}.")
        return list(chosen)
    return [
        c
        for c in cells.columns
        if c.startswith(_COMPARTMENTS)
        and not any(word in c for word in _NOT_FEATURES)
        and pd.api.types.is_numeric_dtype(cells[c])
        and not pd.api.types.is_bool_dtype(cells[c])
    ]


def _border(cells: pd.DataFrame) -> pd.Series:
    """Cells whose box touches their tile's edge (the tile's extent: the boxes' maximum)."""
    bounds = [f"cell_bounds_{i}" for i in range(4)]
    if not set(bounds) <= set(cells.columns):
        return pd.Series(False, index=cells.index)
    extent = cells.groupby(["well", "phenotype_tile"])[bounds[2:]].transform("max")
    return (
        (cells[bounds[0]] <= 0)
        | (cells[bounds[1]] <= 0)
        | (cells[bounds[2]] >= extent[bounds[2]])
        | (cells[bounds[3]] >= extent[bounds[3]])
    )


def filter_cells(cells: pd.DataFrame, p: AggregateParams) -> pd.DataFrame:
    """Cells that count: a mapped barcode with enough reads, one gene, whole, well merged.

    Every rule's toll is logged, so a screen that loses most cells says where.
    """
    rules = {
        "no mapped barcode": ~cells["cell_barcode_mapped_0"],
        f"fewer than {p.min_reads} reads": cells["cell_barcode_count_0"].fillna(0) < p.min_reads,
    }
    if p.single_gene:  # a second barcode counts with as many reads as a first must have
        second = cells["cell_barcode_mapped_1"] & (cells["cell_barcode_count_1"] >= p.min_reads)
        rules["two genes"] = second & (cells["gene_symbol_1"] != cells[GENE])
    if p.drop_border_cells:
        rules["on a tile border"] = _border(cells)
    if p.max_distance_um is not None:
        rules[f"merged farther than {p.max_distance_um} µm"] = (
            cells["distance_um"] > p.max_distance_um
        )
    drop = pd.Series(False, index=cells.index)
    for name, rule in rules.items():
        log.info("aggregate: %d of %d cells dropped: %s", int(rule.sum()), len(cells), name)
        drop |= rule
    kept = cells[~drop].reset_index(drop=True)
    log.info("aggregate: %d of %d cells kept", len(kept), len(cells))
    return kept


def _scale(values: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median and robust spread (MAD as a standard deviation; the SD where MAD is 0)."""
    centre = np.nanmedian(reference, axis=0)
    spread = _MAD_TO_SD * np.nanmedian(np.abs(reference - centre), axis=0)
    sd = np.nanstd(reference, axis=0)
    spread = np.where(spread > 0, spread, sd)
    return centre, np.where(spread > 0, spread, np.nan)


def normalise(cells: pd.DataFrame, features: list[str], controls: tuple[str, ...]) -> pd.DataFrame:
    """Each feature as robust z-scores against the control cells of the same plate and well.

    Plate and well effects (stain batches, focus, density) shift whole wells; centring
    every well on its own controls removes them. A well without control cells is
    centred on all its cells instead, said in the log. Constant features become NaN.
    """
    values = cells[features].to_numpy(dtype=np.float64)
    normed = np.empty_like(values)
    is_control = cells[GENE].isin(controls).to_numpy()
    for (plate, well), index in cells.groupby(["plate", "well"]).indices.items():
        reference = values[index][is_control[index]]
        if len(reference) < 2:
            log.warning(
                "plate %s well %s has %d control cells (%s); its features are normalised "
                "against all its cells.", plate, well, len(reference), ", ".join(controls),
            )  # fmt: skip
            reference = values[index]
        with np.errstate(invalid="ignore", divide="ignore"):
            centre, spread = _scale(values[index], reference)
            normed[index] = (values[index] - centre) / spread
    scaled = pd.DataFrame(normed.astype(np.float32), columns=features, index=cells.index)
    return pd.concat([cells.drop(columns=features), scaled], axis=1)[list(cells.columns)]


def _aggregate(cells: pd.DataFrame, features: list[str], by: list[str]) -> pd.DataFrame:
    grouped = cells.groupby(by, sort=True)
    table = grouped[features].median()
    table.insert(0, "n_cells", grouped.size())
    return table.reset_index()


def gene_table(cells: pd.DataFrame, features: list[str], plate: str) -> pd.DataFrame:
    """Per gene: cells, sgRNAs, and the median of every normalised feature."""
    table = _aggregate(cells.rename(columns={GENE: "gene"}), features, ["gene"])
    sgrnas = cells.groupby(GENE)[SGRNA].nunique()
    table.insert(2, "n_sgrnas", table["gene"].map(sgrnas).astype(np.int64))
    table.insert(0, "plate", plate)
    return table


def sgrna_table(cells: pd.DataFrame, features: list[str], plate: str) -> pd.DataFrame:
    """Per sgRNA (the barcode read in situ): its gene, cells and feature medians."""
    named = cells.rename(columns={GENE: "gene", SGRNA: "barcode"})
    table = _aggregate(named, features, ["gene", "barcode"])
    table.insert(0, "plate", plate)
    return table

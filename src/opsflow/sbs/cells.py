"""From reads to a barcode per cell, and per-cell geometry.

A cell carries one (sometimes two) sgRNA barcodes; its reads mostly repeat them,
and sequencing errors scatter the rest over barcodes that are not in the library.
Counting reads per barcode and preferring barcodes that map to the library makes
the call robust to those errors.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from skimage.measure import regionprops_table

from opsflow.errors import OpsflowError

__all__ = [
    "CELL_INFO_COLUMNS",
    "CELLS_COLUMNS",
    "call_cells",
    "cell_info",
    "library_lookup",
]

log = logging.getLogger(__name__)

_RANK_FIELDS = (
    ("cell_barcode_{}", object, ""),
    ("cell_barcode_count_{}", np.int64, 0),
    ("cell_barcode_Q_{}", float, np.nan),
    ("cell_barcode_mapped_{}", bool, False),
    ("gene_symbol_{}", object, ""),
    ("gene_id_{}", object, ""),
)
CELLS_COLUMNS = (
    "cell",
    *(name.format(r) for r in (0, 1) for name, _, _ in _RANK_FIELDS),
    "cell_barcode_count",
)
"""Columns of the ``cells`` table: per cell the two most frequent barcodes."""

CELL_INFO_COLUMNS = (
    "cell",
    "area",
    "centroid_y",
    "centroid_x",
    "bounds_min_y",
    "bounds_min_x",
    "bounds_max_y",
    "bounds_max_x",
    "nucleus_area",
    "nucleus_centroid_y",
    "nucleus_centroid_x",
)
"""Columns of the ``cell_info`` table; bounds are half-open like numpy slices."""


def library_lookup(
    library: pd.DataFrame,
    n_cycles: int,
    *,
    prefix_column: str = "prefix",
    gene_symbol_column: str = "gene_symbol",
    gene_id_column: str = "gene_id",
) -> pd.DataFrame:
    """Index the library by the barcode prefix a read of ``n_cycles`` cycles can see.

    Returns
    -------
    DataFrame
        Indexed by prefix (first ``n_cycles`` letters), columns ``gene_symbol`` and
        ``gene_id``. Prefixes shared by several library rows keep the first row, with
        a warning: such reads cannot tell the guides apart.
    """
    missing = [c for c in (prefix_column, gene_symbol_column, gene_id_column) if c not in library]
    if missing:
        raise OpsflowError(f"library lacks columns {missing}; it has {list(library.columns)}.")
    prefixes = library[prefix_column].astype(str)
    short = prefixes[prefixes.str.len() < n_cycles]
    if not short.empty:
        raise OpsflowError(
            f"library column {prefix_column!r} has {len(short)} entries shorter than "
            f"{n_cycles} cycles (e.g. {short.iloc[0]!r})."
        )
    table = pd.DataFrame(
        {
            "prefix": prefixes.str[:n_cycles].to_numpy(),
            "gene_symbol": library[gene_symbol_column].astype(str).to_numpy(),
            "gene_id": library[gene_id_column].astype(str).to_numpy(),
        }
    )
    duplicated = table["prefix"].duplicated()
    if duplicated.any():
        log.warning(
            "%d library prefixes of length %d are shared by several guides; keeping the first",
            int(duplicated.sum()),
            n_cycles,
        )
    return table[~duplicated].set_index("prefix")


def _empty_cells() -> pd.DataFrame:
    columns: dict[str, pd.Series] = {"cell": pd.Series(dtype=np.int64)}
    for r in (0, 1):
        for name, dtype, _ in _RANK_FIELDS:
            columns[name.format(r)] = pd.Series(dtype=dtype)
    columns["cell_barcode_count"] = pd.Series(dtype=np.int64)
    return pd.DataFrame(columns, columns=list(CELLS_COLUMNS))


def call_cells(
    reads: pd.DataFrame,
    *,
    library: pd.DataFrame | None = None,
    q_min: float = 0.0,
    mapped_first: bool = False,
    prefix_column: str = "prefix",
    gene_symbol_column: str = "gene_symbol",
    gene_id_column: str = "gene_id",
) -> pd.DataFrame:
    """Per cell, the top two barcodes by read count, ``cells``.

    Reads outside cells (cell 0) and reads with ``Q_min`` below ``q_min`` are not
    counted. Barcodes are ranked per cell by read count, then by whether they map to
    the library, then by mean ``Q_min`` (with ``mapped_first``, mapping comes before
    count); ties beyond that go to the alphabetically first barcode, so the result
    is deterministic. Ranking mapped barcodes first rescues cells whose true barcode's
    reads are outnumbered by error variants; ranking by count alone protects cells
    whose barcode is outside the library from a single stray mapped read.

    Parameters
    ----------
    reads : DataFrame
        Output of :func:`opsflow.sbs.call_reads`.
    library : DataFrame, optional
        Barcode library; without it nothing maps and gene columns stay empty.
    q_min : float
        Minimum read quality counted.
    mapped_first : bool
        Rank barcodes that map to the library before the others, whatever their count
        (the ``ops`` package's choice); by default mapping only breaks count ties.
    prefix_column, gene_symbol_column, gene_id_column : str
        Library column names.

    Returns
    -------
    DataFrame
        Columns :data:`CELLS_COLUMNS`, one row per cell with at least one counted read;
        rank-1 fields are empty (``""``, 0, NaN, False) when a cell has one barcode.
    """
    missing = [c for c in ("cell", "barcode", "Q_min") if c not in reads]
    if missing:
        raise OpsflowError(f"reads table lacks columns {missing}.")
    counted = reads[(reads["cell"] > 0) & (reads["Q_min"] >= q_min)]
    if counted.empty:
        return _empty_cells()
    grouped = (
        counted.groupby(["cell", "barcode"], observed=True)
        .agg(count=("Q_min", "size"), Q=("Q_min", "mean"))
        .reset_index()
    )
    n_cycles = int(grouped["barcode"].str.len().max())
    if library is not None:
        lookup = library_lookup(
            library,
            n_cycles,
            prefix_column=prefix_column,
            gene_symbol_column=gene_symbol_column,
            gene_id_column=gene_id_column,
        )
        grouped = grouped.join(lookup, on="barcode")
        grouped["mapped"] = grouped["gene_symbol"].notna()
        grouped[["gene_symbol", "gene_id"]] = grouped[["gene_symbol", "gene_id"]].fillna("")
    else:
        grouped["mapped"] = False
        grouped["gene_symbol"] = ""
        grouped["gene_id"] = ""
    return _top_two(grouped, mapped_first=mapped_first)


def _top_two(grouped: pd.DataFrame, *, mapped_first: bool) -> pd.DataFrame:
    """Rank each cell's barcodes (see :func:`call_cells`) and spread ranks 0, 1 to columns."""
    keys = ["cell", "mapped", "count"] if mapped_first else ["cell", "count", "mapped"]
    keys += ["Q", "barcode"]
    grouped = grouped.sort_values(
        keys, ascending=[k in ("cell", "barcode") for k in keys], kind="stable"
    )
    grouped["rank"] = grouped.groupby("cell").cumcount()
    out = pd.DataFrame({"cell": np.sort(grouped["cell"].unique()).astype(np.int64)})
    source = {"cell_barcode_{}": "barcode", "cell_barcode_count_{}": "count"}
    source |= {"cell_barcode_Q_{}": "Q", "cell_barcode_mapped_{}": "mapped"}
    source |= {"gene_symbol_{}": "gene_symbol", "gene_id_{}": "gene_id"}
    for r in (0, 1):
        ranked = grouped[grouped["rank"] == r].set_index("cell")
        present = out["cell"].isin(ranked.index).to_numpy()
        for name, dtype, fill in _RANK_FIELDS:
            column = np.full(len(out), fill, dtype=dtype)
            column[present] = ranked.loc[out["cell"][present], source[name]].to_numpy()
            out[name.format(r)] = column
    out["cell_barcode_count"] = (
        out["cell"].map(grouped.groupby("cell")["count"].sum()).astype(np.int64)
    )
    return out[list(CELLS_COLUMNS)]


def cell_info(nuclei: np.ndarray, cells: np.ndarray) -> pd.DataFrame:
    """Area, centroid and bounds of every cell, with its nucleus's area and centroid.

    Parameters
    ----------
    nuclei, cells : ndarray, shape (Y, X), integer
        Masks sharing labels (as :func:`opsflow.segment.segment` makes them).

    Returns
    -------
    DataFrame
        Columns :data:`CELL_INFO_COLUMNS`, one row per cell label; nucleus fields are
        NaN for a cell without a nucleus.
    """
    if nuclei.shape != cells.shape or cells.ndim != 2:
        raise OpsflowError(
            f"nuclei {nuclei.shape} and cells {cells.shape} must be 2-D masks of equal shape."
        )
    cp = regionprops_table(cells.astype(np.int64), properties=("label", "area", "centroid", "bbox"))
    out = pd.DataFrame(
        {
            "cell": cp["label"].astype(np.int64),
            "area": cp["area"].astype(np.int64),
            "centroid_y": cp["centroid-0"],
            "centroid_x": cp["centroid-1"],
            "bounds_min_y": cp["bbox-0"].astype(np.int64),
            "bounds_min_x": cp["bbox-1"].astype(np.int64),
            "bounds_max_y": cp["bbox-2"].astype(np.int64),
            "bounds_max_x": cp["bbox-3"].astype(np.int64),
        }
    )
    npr = regionprops_table(nuclei.astype(np.int64), properties=("label", "area", "centroid"))
    nuc = pd.DataFrame(
        {
            "nucleus_area": npr["area"].astype(float),
            "nucleus_centroid_y": npr["centroid-0"],
            "nucleus_centroid_x": npr["centroid-1"],
        },
        index=npr["label"].astype(np.int64),
    )
    out = out.join(nuc, on="cell")
    return out[list(CELL_INFO_COLUMNS)]

"""The merge step's tables: matches, transform, tile pairs and the merged cell table."""

from __future__ import annotations

import pandas as pd

from opsflow.merge._match import MATCH_COLUMNS
from opsflow.merge._well import MergeParams, WellMerge, merge_well

__all__ = ["merge_step", "merged_cells"]


def merged_cells(
    matches: pd.DataFrame, phenotype: pd.DataFrame, sbs_cells: pd.DataFrame
) -> pd.DataFrame:
    """Phenotype features of every matched cell with its SBS cell's barcode calls.

    One row per match; the phenotype table's columns, then the SBS cell's (barcodes,
    genes, read counts) without the ones that name the cell again.
    """
    pheno = phenotype.rename(columns={"tile": "phenotype_tile", "label": "phenotype_cell"})
    sbs = sbs_cells.drop(columns=["plate", "well"], errors="ignore").rename(
        columns={"tile": "sbs_tile", "cell": "sbs_cell"}
    )
    keys = matches[["phenotype_tile", "phenotype_cell", "sbs_tile", "sbs_cell", "distance_um"]]
    out = keys.merge(pheno, on=["phenotype_tile", "phenotype_cell"], how="left")
    out = out.merge(sbs, on=["sbs_tile", "sbs_cell"], how="left")
    # an SBS cell without reads has no calls row: no barcode, not mapped, no count
    for column, dtype in sbs.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype):
            out[column] = out[column].astype("boolean").fillna(False).astype(bool)
        elif pd.api.types.is_integer_dtype(dtype):
            out[column] = out[column].fillna(0).astype(dtype)
        elif not pd.api.types.is_numeric_dtype(dtype):
            out[column] = out[column].fillna("")
    first = ["plate", "well", *MATCH_COLUMNS]
    return out[[c for c in first if c in out] + [c for c in out if c not in first]]


def _transform_table(plate: str, well: str, result: WellMerge) -> pd.DataFrame:
    reg = result.registration
    row = {
        "plate": plate,
        "well": well,
        **reg.transform.as_dict(),
        "residual_median_um": reg.residual_median_um,
        "residual_p90_um": reg.residual_p90_um,
        "n_pairs": reg.n_pairs,
        "max_distance_um": result.max_distance_um,
        "phenotype_tiles_voting": int(reg.tiles["used"].sum()),
    }
    return pd.DataFrame([row])


def _tile_pairs(plate: str, well: str, result: WellMerge) -> pd.DataFrame:
    offsets = result.registration.pair_offsets.rename(columns={"n_pairs": "n_fit_pairs"})
    table = result.quality.merge(offsets, on=["phenotype_tile", "sbs_tile"], how="left")
    return table.assign(plate=plate, well=well)[["plate", "well", *table.columns]]


def merge_step(
    phenotype_min: pd.DataFrame,
    phenotype: pd.DataFrame,
    sbs_info: pd.DataFrame,
    sbs_cells: pd.DataFrame,
    phenotype_metadata: pd.DataFrame,
    sbs_metadata: pd.DataFrame,
    *,
    plate: str,
    well: str,
    **params: object,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, object]:
    """Merge one well: (matches, transform, tile pairs, merged cells, QC figure)."""
    from opsflow.merge._plot import merge_figure

    result = merge_well(
        phenotype_min, phenotype_metadata, sbs_info, sbs_metadata, MergeParams(**params),
        where=f"plate {plate} well {well}",
    )  # fmt: skip
    matches = result.matches[list(MATCH_COLUMNS)].assign(plate=plate, well=well)
    matches = matches[["plate", "well", *MATCH_COLUMNS]]
    figure = merge_figure(result, title=f"plate {plate} well {well}")
    return (
        matches,
        _transform_table(plate, well, result),
        _tile_pairs(plate, well, result),
        merged_cells(matches, phenotype, sbs_cells),
        figure,
    )

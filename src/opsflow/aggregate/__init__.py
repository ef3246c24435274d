"""Aggregate: per-gene phenotypes, hit calls and montages from the merged cell table.

Pure functions on tables and arrays: cells are filtered (mapped barcode, one gene, whole,
well merged), every feature is normalised to the library's control cells of its well,
genes are summarised and tested against the controls, and montages show their cells.
"""

from opsflow.aggregate._hits import HIT_COLUMNS, call_hits, mann_whitney
from opsflow.aggregate._montage import (
    crop_cells,
    montage_channels,
    montage_figure,
    montage_step,
    montage_store,
)
from opsflow.aggregate._params import AggregateParams
from opsflow.aggregate._stats import (
    feature_columns,
    filter_cells,
    gene_table,
    normalise,
    sgrna_table,
)
from opsflow.aggregate._tables import (
    PICK_COLUMNS,
    aggregate_step,
    montage_picks,
    quiet_anndata,
    to_anndata,
)

__all__ = [
    "HIT_COLUMNS",
    "PICK_COLUMNS",
    "AggregateParams",
    "aggregate_step",
    "call_hits",
    "crop_cells",
    "feature_columns",
    "filter_cells",
    "gene_table",
    "mann_whitney",
    "montage_channels",
    "montage_figure",
    "montage_picks",
    "montage_step",
    "montage_store",
    "normalise",
    "quiet_anndata",
    "sgrna_table",
    "to_anndata",
]

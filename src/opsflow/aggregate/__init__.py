"""Aggregate: per-gene phenotypes, hit calls and montages from the merged cell table.

Pure functions on tables and arrays: cells are filtered (mapped barcode, one gene, whole,
well merged), every feature is normalised to the library's control cells of its well,
genes are summarised and tested against the controls, and montages show their cells.
"""

import lazy_loader

# each name is imported from its submodule when first used: reading the configuration
# or the steps table (every Snakemake process and cluster job) imports no kernel
__getattr__, __dir__, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "_hits": ["HIT_COLUMNS", "call_hits", "mann_whitney"],
        "_montage": [
            "crop_cells",
            "montage_channels",
            "montage_figure",
            "montage_step",
            "montage_store",
        ],
        "_params": ["AggregateParams"],
        "_stats": ["feature_columns", "filter_cells", "gene_table", "normalise", "sgrna_table"],
        "_tables": [
            "PICK_COLUMNS",
            "aggregate_step",
            "montage_picks",
            "quiet_anndata",
            "to_anndata",
        ],
    },
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

"""Segmentation of nuclei and cells, shared by the SBS and phenotype modules.

``segment`` dispatches on :class:`SegmentParams`; ``segment_classic`` needs no model
weights, ``segment_cellpose`` needs cellpose and its weights already on disk.
Nuclei and cells always share labels: cell ``k`` contains nucleus ``k``.
"""

import lazy_loader

# each name is imported from its submodule when first used: reading the configuration
# or the steps table (every Snakemake process and cluster job) imports no kernel
__getattr__, __dir__, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "_dispatch": ["segment"],
        "cellpose": ["CellposeUnavailableError", "segment_cellpose"],
        "channels": ["CYTO_REDUCERS", "cytoplasm_image"],
        "classic": [
            "derive_threshold",
            "reconcile",
            "remove_border_cells",
            "segment_cells",
            "segment_classic",
            "segment_nuclei",
        ],
        "params": ["SegmentParams"],
        "stats": ["SEGMENTATION_STATS_COLUMNS", "segmentation_stats"],
    },
)

__all__ = [
    "CYTO_REDUCERS",
    "SEGMENTATION_STATS_COLUMNS",
    "CellposeUnavailableError",
    "SegmentParams",
    "cytoplasm_image",
    "derive_threshold",
    "reconcile",
    "remove_border_cells",
    "segment",
    "segment_cellpose",
    "segment_cells",
    "segment_classic",
    "segment_nuclei",
    "segmentation_stats",
]

"""Merge: every phenotype cell joined to its SBS cell, across magnifications and tile grids.

Pure functions on tables: stage positions put both acquisitions of a well in one frame,
nuclei centroids refine the phenotype -> SBS similarity (rotation, scale, translation)
without any correspondence given, and cells are matched per overlapping tile pair.
"""

import lazy_loader

# each name is imported from its submodule when first used: reading the configuration
# or the steps table (every Snakemake process and cluster job) imports no kernel
__getattr__, __dir__, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "_frames": ["tile_frames", "to_stage"],
        "_match": ["MATCH_COLUMNS", "match_cells", "overlapping_pairs", "tile_boxes"],
        "_register": [
            "Registration",
            "mutual_pairs",
            "refine_pairs",
            "register_well",
            "vote_translation",
        ],
        "_tables": ["merge_step", "merged_cells"],
        "_transform": ["Similarity", "fit_similarity", "robust_similarity"],
        "_params": ["MergeParams"],
        "_well": ["WellMerge", "cell_positions", "merge_well"],
    },
)

__all__ = [
    "MATCH_COLUMNS",
    "MergeParams",
    "Registration",
    "Similarity",
    "WellMerge",
    "cell_positions",
    "fit_similarity",
    "match_cells",
    "merge_step",
    "merge_well",
    "merged_cells",
    "mutual_pairs",
    "overlapping_pairs",
    "refine_pairs",
    "register_well",
    "robust_similarity",
    "tile_boxes",
    "tile_frames",
    "to_stage",
    "vote_translation",
]

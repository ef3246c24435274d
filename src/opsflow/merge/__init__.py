"""Merge: every phenotype cell joined to its SBS cell, across magnifications and tile grids.

Pure functions on tables: stage positions put both acquisitions of a well in one frame,
nuclei centroids refine the phenotype -> SBS similarity (rotation, scale, translation)
without any correspondence given, and cells are matched per overlapping tile pair.
"""

from opsflow.merge._frames import tile_frames, to_stage
from opsflow.merge._match import MATCH_COLUMNS, match_cells, overlapping_pairs, tile_boxes
from opsflow.merge._register import (
    Registration,
    mutual_pairs,
    refine_pairs,
    register_well,
    vote_translation,
)
from opsflow.merge._tables import merge_step, merged_cells
from opsflow.merge._transform import Similarity, fit_similarity, robust_similarity
from opsflow.merge._well import MergeParams, WellMerge, cell_positions, merge_well

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

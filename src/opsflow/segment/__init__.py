"""Segmentation of nuclei and cells, shared by the SBS and phenotype modules.

``segment`` dispatches on :class:`SegmentParams`; ``segment_classic`` needs no model
weights, ``segment_cellpose`` needs cellpose and its weights already on disk.
Nuclei and cells always share labels: cell ``k`` contains nucleus ``k``.
"""

from __future__ import annotations

import numpy as np

from opsflow.segment.cellpose import CellposeUnavailableError, segment_cellpose
from opsflow.segment.channels import CYTO_REDUCERS, cytoplasm_image
from opsflow.segment.classic import (
    derive_threshold,
    reconcile,
    remove_border_cells,
    segment_cells,
    segment_classic,
    segment_nuclei,
)
from opsflow.segment.params import SegmentParams
from opsflow.segment.stats import SEGMENTATION_STATS_COLUMNS, segmentation_stats

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


def segment(
    dapi: np.ndarray, cyto: np.ndarray, *, params: SegmentParams | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Segment nuclei and cells with the method and settings of ``params``.

    Returns
    -------
    nuclei, cells : ndarray, int32, shape (Y, X)
    """
    p = params if params is not None else SegmentParams()
    if p.method == "cellpose":
        return segment_cellpose(
            dapi,
            cyto,
            model=p.cellpose_model,
            nuclei_model=p.cellpose_nuclei_model,
            diameter=p.cellpose_diameter,
            nuclei_diameter=p.cellpose_nuclei_diameter,
            remove_border=p.remove_border,
        )
    return segment_classic(
        dapi,
        cyto,
        nuclei_smooth_sigma=p.nuclei_smooth_sigma,
        nuclei_threshold_method=p.nuclei_threshold_method,
        nuclei_threshold_factor=p.nuclei_threshold_factor,
        nuclei_min_area=p.nuclei_min_area,
        nuclei_max_area=p.nuclei_max_area,
        nuclei_split=p.nuclei_split,
        nuclei_split_min_distance=p.nuclei_split_min_distance,
        nuclei_noise_factor=p.nuclei_noise_factor,
        cells_smooth_sigma=p.cells_smooth_sigma,
        cells_threshold_method=p.cells_threshold_method,
        cells_threshold_factor=p.cells_threshold_factor,
        cells_watershed=p.cells_watershed,
        remove_border=p.remove_border,
    )

"""Segmentation of nuclei and cells, shared by the SBS and phenotype modules.

``segment`` dispatches on :class:`SegmentParams`; ``segment_classic`` needs no model
weights, ``segment_cellpose`` needs cellpose and its weights already on disk.
Nuclei and cells always share labels: cell ``k`` contains nucleus ``k``.
"""

from __future__ import annotations

import numpy as np

from opsflow.params import kwargs
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
    cellpose = tuple(f for f in vars(p) if f.startswith("cellpose_"))
    return segment_classic(dapi, cyto, **kwargs(p, without=("method", *cellpose)))

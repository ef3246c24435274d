"""Segmentation by the method a :class:`SegmentParams` names."""

from __future__ import annotations

import numpy as np

from opsflow.params import kwargs
from opsflow.segment.cellpose import segment_cellpose
from opsflow.segment.classic import segment_classic
from opsflow.segment.params import SegmentParams

__all__ = ["segment"]


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

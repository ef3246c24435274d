"""Nuclei and cells of a phenotype tile, with the segmenter the SBS module uses."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from opsflow.errors import OpsflowError
from opsflow.phenotype.params import phenotype_segment_params
from opsflow.segment import SegmentParams, cytoplasm_image, segment

__all__ = ["segment_phenotype"]


def segment_phenotype(
    aligned: np.ndarray,
    *,
    channel_names: Sequence[str],
    dapi_channel: str = "DAPI",
    cyto_channels: Sequence[str] = ("WGA",),
    cyto_reducer: str = "mean",
    params: SegmentParams | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Segment ``nuclei`` and ``cells`` of an aligned phenotype tile.

    Nuclei come from the DAPI channel; cells are grown from them in the image that
    combines ``cyto_channels``. With the default settings that is the membrane stain
    (WGA) alone, and touching cells meet on the membrane between them (the
    ``'membrane'`` watershed); a cytoplasmic stain mixed in would add ridges inside
    cells. The segmentation itself is :func:`opsflow.segment.segment`, the same code as
    for SBS tiles.

    Parameters
    ----------
    aligned : ndarray, shape (C, Y, X)
        Illumination-corrected, registered tile.
    channel_names : sequence of str
        Names of the C channels.
    dapi_channel : str
        Nuclear channel.
    cyto_channels : sequence of str
        Channels combined into the image cells are grown in: a membrane stain for the
        ``'membrane'`` watershed.
    cyto_reducer : {'mean', 'median', 'max'}
        How they are combined.
    params : SegmentParams, optional
        Segmentation settings; default :func:`phenotype_segment_params`.

    Returns
    -------
    nuclei, cells : ndarray, int32, shape (Y, X)
        Shared labels 1..n: cell ``k`` contains nucleus ``k``.
    """
    names = list(channel_names)
    if aligned.ndim != 3 or aligned.shape[0] != len(names):
        raise OpsflowError(
            f"phenotype image has shape {aligned.shape}; expected ({len(names)} channels "
            f"{names}, Y, X)."
        )
    missing = [c for c in (dapi_channel, *cyto_channels) if c not in names]
    if missing or not cyto_channels:
        raise OpsflowError(
            f"segmentation channels {missing or 'cyto_channels'} must be among the channels "
            f"{names}."
        )
    cyto = cytoplasm_image(
        aligned, indices=[names.index(c) for c in cyto_channels], reducer=cyto_reducer
    )
    p = params if params is not None else phenotype_segment_params()
    return segment(aligned[names.index(dapi_channel)], cyto, params=p)

"""Build the illumination-corrected image that SBS segmentation works on."""

from __future__ import annotations

import numpy as np

from opsflow.errors import OpsflowError
from opsflow.illumination import correct_to_uint16

__all__ = ["illumination_corrected"]


def illumination_corrected(
    aligned: np.ndarray,
    field: np.ndarray | None = None,
    *,
    dapi_index: int | None = 0,
    dapi_cycle: int = 0,
    cyto_cycle: int = 0,
) -> np.ndarray:
    """One (channel, Y, X) image for segmentation, divided by the illumination field.

    Takes every channel from ``cyto_cycle`` except DAPI, which comes from
    ``dapi_cycle`` (DAPI bleaches over cycles, and some protocols image it once).
    Dividing by the field flattens the vignetting, so one global threshold fits the
    whole tile. The field comes from :func:`opsflow.preprocess.calculate_ic_field`
    and is applied with :func:`opsflow.illumination.correct_to_uint16`, as in the
    phenotype module.

    Parameters
    ----------
    aligned : ndarray, shape (cycle, channel, Y, X)
    field : ndarray, shape (channel, Y, X) or (Y, X), optional
        Illumination field; None applies no correction.
    dapi_index : int or None
        DAPI channel.
    dapi_cycle, cyto_cycle : int
        Cycles providing DAPI and the other channels.

    Returns
    -------
    ndarray, uint16, shape (channel, Y, X)
    """
    if aligned.ndim != 4:
        raise OpsflowError(f"aligned must be (cycle, channel, Y, X), got shape {aligned.shape}.")
    n_cycles, n_channels = aligned.shape[:2]
    for name, cycle in (("dapi_cycle", dapi_cycle), ("cyto_cycle", cyto_cycle)):
        if not 0 <= cycle < n_cycles:
            raise OpsflowError(f"{name} {cycle} is outside the {n_cycles} cycles.")
    image = aligned[cyto_cycle].astype(np.float32)
    if dapi_index is not None:
        if not 0 <= dapi_index < n_channels:
            raise OpsflowError(f"dapi_index {dapi_index} is outside the {n_channels} channels.")
        image[dapi_index] = aligned[dapi_cycle, dapi_index]
    return correct_to_uint16(image, field)

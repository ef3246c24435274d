"""Build the illumination-corrected image that SBS segmentation works on."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from opsflow.errors import OpsflowError
from opsflow.preprocess import apply_ic_field

__all__ = ["CYTO_REDUCERS", "cytoplasm_image", "illumination_corrected"]

CYTO_REDUCERS = ("median", "mean", "max")


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
    and is applied with :func:`opsflow.preprocess.apply_ic_field`, as in the
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
    if field is None:
        return np.clip(np.rint(image), 0, 65535).astype(np.uint16)
    f = np.asarray(field)
    if f.size and (not np.all(np.isfinite(f)) or f.min() <= 0):
        raise OpsflowError("illumination field must be finite and > 0 everywhere.")
    return apply_ic_field(image, f, dtype=np.uint16)


def cytoplasm_image(
    corrected: np.ndarray, *, base_indices: Sequence[int] = (1, 2, 3, 4), reducer: str = "median"
) -> np.ndarray:
    """Combine base channels into one cytoplasm image for cell segmentation.

    SBS cycles show cells through the diffuse background of the base channels.
    The median over channels (default) keeps that background but suppresses the
    bright amplicon spots, which sit in one channel (plus crosstalk) at a time.

    Returns
    -------
    ndarray, float32, shape (Y, X)
    """
    if reducer not in CYTO_REDUCERS:
        raise OpsflowError(f"reducer must be one of {CYTO_REDUCERS}, got {reducer!r}.")
    if corrected.ndim != 3 or not base_indices:
        raise OpsflowError(
            f"cytoplasm_image needs a (channel, Y, X) image and base channels, got "
            f"{corrected.shape} and {list(base_indices)}."
        )
    stack = corrected[list(base_indices)].astype(np.float32)
    return getattr(np, reducer)(stack, axis=0).astype(np.float32)

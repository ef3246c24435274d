"""Divide a phenotype tile by its well's illumination field: ``illumination_corrected``."""

from __future__ import annotations

import numpy as np

from opsflow.errors import OpsflowError
from opsflow.illumination import correct_to_uint16

__all__ = ["illumination_corrected"]


def illumination_corrected(
    image: np.ndarray, field: np.ndarray | None, *, dark_level: float = 0.0
) -> np.ndarray:
    """Flatten the vignetting of a (C, Y, X) tile, so intensities compare across the tile.

    A cell in a corner of the field would otherwise measure dimmer than the same cell in
    the centre, and one global threshold would not fit the whole tile. The field comes
    from :func:`opsflow.preprocess.calculate_ic_field` and is applied with
    :func:`opsflow.illumination.correct_to_uint16`, as in the SBS module.

    The camera adds its offset (dark level) after the light has been vignetted, so the
    standard flat-field formula subtracts it first: ``(image - dark_level) / field``.
    Dividing the offset as well would leave a background shaped like the field, which
    for a dim stain is as large as the signal.

    Parameters
    ----------
    image : ndarray, shape (C, Y, X)
    field : ndarray, shape (C, Y, X) or (Y, X), or None
        Illumination field of the tile's well; None applies no correction.
    dark_level : float
        Camera offset in ADU, subtracted (and clipped at 0) before the division.

    Returns
    -------
    ndarray, uint16, shape (C, Y, X)
        Rounded and clipped to the uint16 range.
    """
    if image.ndim != 3:
        raise OpsflowError(f"phenotype image must be (C, Y, X), got shape {image.shape}.")
    if dark_level < 0:
        raise OpsflowError(f"dark_level must be >= 0, got {dark_level}.")
    if dark_level:
        image = np.clip(image.astype(np.float32) - np.float32(dark_level), 0, None)
    return correct_to_uint16(image, field)

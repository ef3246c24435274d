"""Combine stains into the one image that cells are grown in."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from opsflow.errors import OpsflowError

__all__ = ["CYTO_REDUCERS", "cytoplasm_image"]

CYTO_REDUCERS = ("median", "mean", "max")


def cytoplasm_image(
    image: np.ndarray, *, indices: Sequence[int], reducer: str = "median"
) -> np.ndarray:
    """Combine channels of a (channel, Y, X) image into one image for cell segmentation.

    SBS cycles show cells through the diffuse background of the base channels: the
    median over them (default) keeps that background but suppresses the bright amplicon
    spots, which sit in one channel (plus crosstalk) at a time. Phenotype tiles combine
    their membrane or cytoplasm stains, usually with the mean.

    Returns
    -------
    ndarray, float32, shape (Y, X)
    """
    if reducer not in CYTO_REDUCERS:
        raise OpsflowError(f"reducer must be one of {CYTO_REDUCERS}, got {reducer!r}.")
    if image.ndim != 3 or not indices:
        raise OpsflowError(
            f"cytoplasm_image needs a (channel, Y, X) image and channels to combine, got "
            f"{image.shape} and {list(indices)}."
        )
    stack = image[list(indices)].astype(np.float32)
    return getattr(np, reducer)(stack, axis=0).astype(np.float32)

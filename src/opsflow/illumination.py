"""Illumination correction applied by every module: divide by a field, guard the field.

The field itself is estimated by :func:`opsflow.preprocess.calculate_ic_field`; applying
it is shared by the SBS and phenotype modules, so the check that a field is usable is
written once.
"""

from __future__ import annotations

import numpy as np

from opsflow.errors import OpsflowError

__all__ = ["apply_ic_field", "correct_to_uint16"]


def apply_ic_field(
    image: np.ndarray,
    field: np.ndarray,
    *,
    dtype: np.dtype | type | None = None,
) -> np.ndarray:
    """Divide an image by its illumination-correction field.

    Parameters
    ----------
    image : numpy.ndarray
        (..., C, Y, X) or (Y, X); leading axes such as cycles broadcast.
    field : numpy.ndarray
        (C, Y, X) or (Y, X) field from :func:`calculate_ic_field`.
    dtype : numpy dtype, optional
        Output dtype; default the image's. Integer outputs are rounded and clipped to the
        dtype's range rather than wrapped.

    Returns
    -------
    numpy.ndarray
        The corrected image, same shape as ``image``.
    """
    image = np.asarray(image)
    field = np.asarray(field)
    if field.ndim == 3 and image.ndim >= 3 and field.shape != image.shape[-3:]:
        raise OpsflowError(
            f"expected an illumination field of shape {image.shape[-3:]} for an image of "
            f"shape {image.shape}, found {field.shape}."
        )
    if field.ndim == 2 and field.shape != image.shape[-2:]:
        raise OpsflowError(
            f"expected an illumination field of shape {image.shape[-2:]}, found {field.shape}."
        )
    if field.ndim not in (2, 3) or (field.ndim == 3 and image.ndim < 3):
        raise OpsflowError(
            f"expected a (C, Y, X) or (Y, X) field for an image of shape {image.shape}, "
            f"found {field.shape}."
        )
    out_dtype = np.dtype(dtype) if dtype is not None else image.dtype
    corrected = image / field.astype(np.float32)
    if np.issubdtype(out_dtype, np.integer):
        info = np.iinfo(out_dtype)
        corrected = np.clip(np.rint(corrected), info.min, info.max)
    return corrected.astype(out_dtype)


def correct_to_uint16(image: np.ndarray, field: np.ndarray | None) -> np.ndarray:
    """Divide by a checked field (None: no correction), rounded and clipped to uint16.

    A field that is not finite and positive everywhere would turn pixels into inf or NaN,
    which no later step can recover from, so it is refused here.
    """
    if field is None:
        return np.clip(np.rint(image), 0, 65535).astype(np.uint16)
    f = np.asarray(field)
    if f.size and (not np.all(np.isfinite(f)) or f.min() <= 0):
        raise OpsflowError("illumination field must be finite and > 0 everywhere.")
    return apply_ic_field(image, f, dtype=np.uint16)

"""Per-frame filters of the SBS stack: spot enhancement, consensus, local max.

Each works frame by frame in float32, so a 9 x 5 x 1024 x 1024 tile never needs a
float64 copy of the whole stack.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage as ndi

from opsflow.errors import OpsflowError
from opsflow.frames import map_frames, sliding_max

__all__ = ["log_filter", "max_filter", "standard_deviation"]


def _check_stack(stack: np.ndarray, name: str) -> None:
    if stack.ndim != 4:
        raise OpsflowError(
            f"{name} expects a (cycle, channel, Y, X) stack, got shape {stack.shape}."
        )


def _check_index(index: int | None, n_channels: int, name: str) -> None:
    if index is not None and not 0 <= index < n_channels:
        raise OpsflowError(f"{name} {index} is outside the {n_channels} channels.")


def log_filter(
    aligned: np.ndarray, *, sigma: float = 1.0, dapi_index: int | None = 0
) -> np.ndarray:
    """Enhance diffraction-limited spots with a Laplacian-of-Gaussian, ``log_filtered``.

    The negated LoG responds positively to bright blobs about ``sigma`` px wide and
    is near zero on smooth background, which removes the slowly varying cell and
    illumination background that would otherwise bias base intensities. Negative
    responses (dark blobs, spot flanks) are clipped to 0. DAPI is kept raw: it is
    used for segmentation, not read out.

    Parameters
    ----------
    aligned : ndarray, shape (cycle, channel, Y, X), integer
    sigma : float
        Gaussian sigma in px, about the spot's standard deviation.
    dapi_index : int or None
        Channel left unfiltered.

    Returns
    -------
    ndarray, uint16, same shape
    """
    _check_stack(aligned, "log_filter")
    if sigma <= 0:
        raise OpsflowError(f"sigma must be > 0, got {sigma}.")
    _check_index(dapi_index, aligned.shape[1], "dapi_index")
    out = np.empty(aligned.shape, dtype=np.uint16)

    def one(frame: tuple[int, int]) -> None:
        k, c = frame
        if c == dapi_index:
            out[k, c] = np.clip(aligned[k, c], 0, 65535)
            return
        filtered = ndi.gaussian_laplace(aligned[k, c].astype(np.float32), sigma)
        np.negative(filtered, out=filtered)
        out[k, c] = np.clip(np.rint(filtered), 0, 65535)

    map_frames(one, np.ndindex(*aligned.shape[:2]))
    return out


def standard_deviation(
    log_filtered: np.ndarray, *, base_indices: Sequence[int] = (1, 2, 3, 4)
) -> np.ndarray:
    """Per pixel, the mean over base channels of the standard deviation over cycles.

    A sequencing spot changes base from cycle to cycle, so its intensity in each
    channel varies strongly over cycles, while constant background and spots that
    stay the same (debris, autofluorescence) do not: the result peaks on real reads.

    Returns
    -------
    ndarray, float32, shape (Y, X)
    """
    _check_stack(log_filtered, "standard_deviation")
    if len(base_indices) == 0:
        raise OpsflowError("standard_deviation needs at least one base channel.")
    for c in base_indices:
        _check_index(c, log_filtered.shape[1], "base index")
    total = np.zeros(log_filtered.shape[-2:], dtype=np.float64)

    def spread(c: int) -> np.ndarray:
        return np.std(log_filtered[:, c].astype(np.float32), axis=0)

    for c_std in map_frames(spread, base_indices):  # summed in channel order, as before
        total += c_std
    return (total / len(base_indices)).astype(np.float32)


def max_filter(
    log_filtered: np.ndarray, *, width: int = 3, dapi_index: int | None = 0
) -> np.ndarray:
    """Local maximum over a ``width`` x ``width`` window per frame, DAPI dropped.

    Reading intensities from the max-filtered image makes base calls tolerant of
    the residual sub-pixel misregistration between cycles.

    Returns
    -------
    ndarray, uint16, shape (cycle, channel - 1 if DAPI else channel, Y, X)
    """
    _check_stack(log_filtered, "max_filter")
    if width < 1:
        raise OpsflowError(f"width must be >= 1, got {width}.")
    _check_index(dapi_index, log_filtered.shape[1], "dapi_index")
    keep = [c for c in range(log_filtered.shape[1]) if c != dapi_index]
    out = np.empty(
        (log_filtered.shape[0], len(keep), *log_filtered.shape[-2:]), dtype=log_filtered.dtype
    )

    def one(frame: tuple[int, int]) -> None:
        k, j = frame
        out[k, j] = sliding_max(log_filtered[k, keep[j]], width)

    map_frames(one, np.ndindex(*out.shape[:2]))
    return out

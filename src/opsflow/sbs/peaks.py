"""Find candidate reads: local maxima of the standard-deviation image, and their threshold."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.filters import threshold_otsu

from opsflow.errors import OpsflowError

__all__ = ["find_peaks", "peak_threshold"]


def find_peaks(std_image: np.ndarray, *, width: int = 3) -> np.ndarray:
    """Score local maxima of ``std_image`` by their prominence, ``peaks``.

    A pixel is a peak if it equals the maximum of its ``width`` x ``width``
    neighbourhood; its score is that maximum minus the neighbourhood minimum, so a
    sharp spot on a flat surround scores high and a broad hump low. Scores within
    ``width`` px of the border are zeroed: the window there is truncated and the
    spot may be cut by the registration fill.

    Returns
    -------
    ndarray, float32, shape (Y, X)
        Zero everywhere except at peaks.
    """
    if std_image.ndim != 2:
        raise OpsflowError(f"find_peaks expects a 2-D image, got shape {std_image.shape}.")
    if width < 1:
        raise OpsflowError(f"width must be >= 1, got {width}.")
    data = std_image.astype(np.float32, copy=False)
    local_max = ndi.maximum_filter(data, size=width)
    local_min = ndi.minimum_filter(data, size=width)
    peaks = local_max - local_min
    peaks[data != local_max] = 0
    peaks[:width] = 0
    peaks[-width:] = 0
    peaks[:, :width] = 0
    peaks[:, -width:] = 0
    return peaks


def peak_threshold(peaks: np.ndarray, *, noise_factor: float = 6.0) -> float:
    """Derive the candidate-read threshold from the peak scores themselves.

    Local maxima of pure noise are many and weak; those of spots are fewer and
    stronger. On a log scale the two form separate modes, and Otsu's threshold
    between them needs no prior on brightness. Otsu always splits, even a tile with
    no spots at all, so the threshold is also kept at least ``noise_factor`` robust
    standard deviations (1.4826 x MAD) above the median score: noise maxima far
    outnumber spots, so median and MAD describe the noise.

    Returns
    -------
    float
        Infinite if there are fewer than two distinct positive scores.
    """
    if noise_factor < 0:
        raise OpsflowError(f"noise_factor must be >= 0, got {noise_factor}.")
    scores = peaks[peaks > 0].astype(np.float64)
    if np.unique(scores).size < 2:
        return float("inf")
    otsu = float(np.exp(threshold_otsu(np.log(scores))))
    median = float(np.median(scores))
    mad = float(np.median(np.abs(scores - median)))
    return max(otsu, median + noise_factor * 1.4826 * mad)

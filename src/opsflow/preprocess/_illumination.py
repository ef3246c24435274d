"""Illumination-correction fields: CellProfiler's "regular, all images, median" method.

Uneven illumination (vignetting, a misaligned lamp) multiplies every image of a well by
the same smooth field. Averaging all tiles of a well cancels the cells, a wide median
filter removes what is left of them, and dividing by a low percentile scales the field
so that correcting never makes a pixel darker than it was in the best-lit part.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable

import numpy as np
from scipy import ndimage as ndi
from skimage.morphology import disk

from opsflow.errors import OpsflowError

__all__ = ["calculate_ic_field", "ic_smoothing_radius"]

logger = logging.getLogger(__name__)

_TARGET_RADIUS = 8  # radius in pixels of the median disk on the reduced grid ("auto")


def ic_smoothing_radius(shape: tuple[int, int]) -> int:
    """Return the median-filter radius for an image of ``shape`` (Y, X).

    ``sqrt(Y * X / (20 * pi))``: the radius of a disk covering 1/20 of the image, as the
    original OPS code chose it, wide enough that no cell dominates the median.
    """
    return max(1, int(math.sqrt(shape[0] * shape[1] / (20 * math.pi))))


def _block_mean(image: np.ndarray, factor: int) -> np.ndarray:
    """Mean over factor x factor blocks; the edge is padded by reflection to fit."""
    ny, nx = image.shape
    py, px = -ny % factor, -nx % factor
    padded = np.pad(image, ((0, py), (0, px)), mode="reflect") if py or px else image
    return padded.reshape(
        padded.shape[0] // factor, factor, padded.shape[1] // factor, factor
    ).mean(axis=(1, 3))


def _upsample(small: np.ndarray, factor: int, shape: tuple[int, int]) -> np.ndarray:
    """Linear interpolation back to full size, pixel centres aligned with the blocks."""
    coords = [(np.arange(n) + 0.5) / factor - 0.5 for n in shape]
    grid = np.meshgrid(*coords, indexing="ij")
    return ndi.map_coordinates(small, grid, order=1, mode="nearest")


def _median_smooth(image: np.ndarray, radius: int, factor: int) -> np.ndarray:
    if factor == 1:
        return ndi.median_filter(image, footprint=disk(radius), mode="reflect")
    small = _block_mean(image, factor)
    small_radius = max(1, round(radius / factor))
    smoothed = ndi.median_filter(small, footprint=disk(small_radius), mode="reflect")
    return _upsample(smoothed, factor, image.shape)


def calculate_ic_field(
    images: Iterable[np.ndarray],
    *,
    smooth: int | None = None,
    percentile: float = 2.0,
    downsample: int | str = "auto",
) -> np.ndarray:
    """Estimate the illumination-correction field of a set of tiles.

    Parameters
    ----------
    images : iterable of numpy.ndarray
        All (C, Y, X) tiles that share one illumination (the tiles of a well, for one
        cycle). Consumed one at a time, so a generator of lazily read tiles keeps memory
        at one tile.
    smooth : int, optional
        Median-filter radius in pixels; default :func:`ic_smoothing_radius`.
    percentile : float
        The field is divided by this percentile of itself (per channel) and floored at 1.
    downsample : int or "auto"
        Run the median on a grid reduced by this factor (block means) and interpolate
        back. A median over a disk of radius ``r`` costs O(r^2) per pixel; the field is
        smooth, so on the reduced grid the result is nearly the same at a fraction of the
        cost. ``"auto"`` picks ``smooth // 8``; 1 gives the exact full-resolution median.

    Returns
    -------
    numpy.ndarray
        float32 (C, Y, X), every value >= 1; divide images by it to correct them.
    """
    if not 0 <= percentile < 100:
        raise OpsflowError(f"percentile must be in [0, 100); got {percentile}.")
    total: np.ndarray | None = None
    count = 0
    for image in images:
        image = np.asarray(image)
        if image.ndim == 2:
            image = image[np.newaxis]
        if image.ndim != 3:
            raise OpsflowError(f"expected (C, Y, X) tiles, found an image of shape {image.shape}.")
        if total is None:
            total = np.zeros(image.shape, dtype=np.float64)
        elif image.shape != total.shape:
            raise OpsflowError(
                f"expected all tiles to have shape {total.shape}, found {image.shape}."
            )
        total += image
        count += 1
    if total is None:
        raise OpsflowError(
            "expected at least one tile to estimate an illumination field, found none."
        )
    mean = total / count
    radius = smooth if smooth is not None else ic_smoothing_radius(mean.shape[1:])
    if radius < 1:
        raise OpsflowError(f"smooth must be at least 1 pixel; got {radius}.")
    if downsample == "auto":
        factor = max(1, radius // _TARGET_RADIUS)
    elif isinstance(downsample, int) and downsample >= 1:
        factor = downsample
    else:
        raise OpsflowError(f"downsample must be 'auto' or an integer >= 1; got {downsample!r}.")
    logger.debug("IC field from %d tiles: median radius %d, grid factor %d", count, radius, factor)
    field = np.empty(mean.shape, dtype=np.float32)
    for c in range(mean.shape[0]):
        smoothed = _median_smooth(mean[c], radius, factor)
        floor = float(np.percentile(smoothed, percentile))
        smoothed = smoothed / (floor if floor > 0 else 1.0)
        field[c] = np.maximum(smoothed, 1.0)
    return field

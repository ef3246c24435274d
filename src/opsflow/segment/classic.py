"""Classic segmentation: smoothing, a data-derived threshold and watersheds.

Needs no model weights, so it runs anywhere and gives reproducible results; the
thresholds come from each image's own intensity histogram, not from fixed numbers.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.feature import peak_local_max
from skimage.filters import gaussian, threshold_li, threshold_otsu, threshold_triangle
from skimage.morphology import remove_small_objects
from skimage.segmentation import watershed

from opsflow.errors import OpsflowError
from opsflow.segment.params import CELL_WATERSHEDS, THRESHOLD_METHODS

__all__ = [
    "derive_threshold",
    "reconcile",
    "remove_border_cells",
    "segment_cells",
    "segment_classic",
    "segment_nuclei",
]

_THRESHOLDS = {"otsu": threshold_otsu, "li": threshold_li, "triangle": threshold_triangle}


def _check_2d(image: np.ndarray, name: str) -> None:
    if image.ndim != 2:
        raise OpsflowError(f"{name} must be a 2-D image, got shape {image.shape}.")


def derive_threshold(image: np.ndarray, *, method: str = "otsu") -> float:
    """Intensity threshold derived from the image's histogram.

    Returns ``inf`` for a constant image (nothing can be foreground).
    """
    if method not in THRESHOLD_METHODS:
        raise OpsflowError(f"method must be one of {THRESHOLD_METHODS}, got {method!r}.")
    values = np.asarray(image, dtype=np.float32)
    if values.size == 0 or values.min() == values.max():
        return float("inf")
    return float(_THRESHOLDS[method](values))


def _smooth(image: np.ndarray, sigma: float) -> np.ndarray:
    image = np.asarray(image, dtype=np.float32)
    return gaussian(image, sigma=sigma, preserve_range=True) if sigma > 0 else image


def _relabel_by_area(labels: np.ndarray, min_area: int, max_area: int) -> np.ndarray:
    areas = np.bincount(labels.ravel())
    keep = (areas >= min_area) & (areas <= max_area)
    keep[0] = False
    lookup = np.zeros(areas.size, dtype=np.int32)
    lookup[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    return lookup[labels]


def segment_nuclei(
    dapi: np.ndarray,
    *,
    smooth_sigma: float = 1.5,
    threshold_method: str = "otsu",
    threshold_factor: float = 1.0,
    min_area: int = 20,
    max_area: int = 5000,
    split: bool = True,
    split_min_distance: int = 4,
    noise_factor: float = 10.0,
) -> np.ndarray:
    """Label nuclei in a DAPI image.

    The smoothed image is thresholded at ``threshold_factor`` times a threshold
    derived from its histogram, but never below the background median plus
    ``noise_factor`` robust standard deviations (1.4826 x MAD) of the image: a
    histogram threshold always splits, and on a field without nuclei it would cut
    the noise and vignetting into objects. Touching nuclei are split by a watershed on the
    distance transform, seeded at distance maxima at least ``split_min_distance``
    px apart; objects outside ``[min_area, max_area]`` px are dropped.

    Returns
    -------
    ndarray, int32, shape (Y, X)
        Labels 1..n, 0 background.
    """
    _check_2d(dapi, "dapi")
    if threshold_factor <= 0:
        raise OpsflowError(f"threshold_factor must be > 0, got {threshold_factor}.")
    if not 0 < min_area <= max_area:
        raise OpsflowError(f"need 0 < min_area <= max_area, got {min_area}, {max_area}.")
    smoothed = _smooth(dapi, smooth_sigma)
    threshold = derive_threshold(smoothed, method=threshold_method) * threshold_factor
    median = float(np.median(smoothed))
    floor = median + noise_factor * 1.4826 * float(np.median(np.abs(smoothed - median)))
    mask = ndi.binary_fill_holes(smoothed > max(threshold, floor))
    mask = remove_small_objects(mask, max_size=min_area - 1) if min_area > 1 else mask
    components, n = ndi.label(mask)
    if n == 0:
        return np.zeros(dapi.shape, dtype=np.int32)
    if split:
        distance = ndi.distance_transform_edt(mask)
        peaks = peak_local_max(
            distance,
            min_distance=split_min_distance,
            labels=components,
            exclude_border=False,
        )
        seeds = np.zeros(mask.shape, dtype=bool)
        seeds[tuple(peaks.T)] = True
        # Adjacent seed pixels (a flat ridge) are one seed; every component gets one.
        markers, n_markers = ndi.label(seeds)
        unseeded = np.setdiff1d(np.arange(1, n + 1), np.unique(components[seeds]))
        for extra, comp in enumerate(unseeded, start=n_markers + 1):
            markers[components == comp] = extra
        labels = watershed(-distance, markers, mask=mask)
    else:
        labels = components
    return _relabel_by_area(labels.astype(np.int64), min_area, max_area)


def _membrane_watershed(
    smoothed: np.ndarray, nuclei: np.ndarray, foreground: np.ndarray
) -> np.ndarray:
    """Watershed on a membrane image, seeded by the nuclei and by the background.

    A membrane stain outlines cells, so dim interiors it encloses are cell too (holes
    of the foreground are filled). The background (outside the foreground) is one more
    seed: cells then meet it, like each other, on the membrane ridge. Without it the
    first cell to flood over its outer membrane into the dim margin of the foreground
    would spread along that margin around its neighbours and take their outer rims.
    """
    foreground = ndi.binary_fill_holes(foreground)
    background = int(nuclei.max()) + 1
    markers = np.where(foreground, nuclei, background)
    cells = watershed(smoothed, markers)
    cells[cells == background] = 0
    return cells.astype(np.int32)


def segment_cells(
    cyto: np.ndarray,
    nuclei: np.ndarray,
    *,
    smooth_sigma: float = 2.0,
    threshold_method: str = "li",
    threshold_factor: float = 1.0,
    watershed_on: str = "distance",
) -> np.ndarray:
    """Grow cells from nuclei within a cytoplasm foreground mask.

    The foreground is the smoothed cytoplasm image above ``threshold_factor`` times
    a threshold derived from its histogram, plus the nuclei. A watershed seeded
    with the nuclei splits it between them, on one of three landscapes:

    ``'distance'``
        Distance from the nearest nucleus: robust to uneven staining, but touching
        cells are split midway between their nuclei whatever their real boundary.
    ``'intensity'``
        Inverted cytoplasm intensity: follows dim gaps between cell bodies.
    ``'membrane'``
        The smoothed image itself, for a membrane or cell-outline stain (such as
        WGA) that is brightest at cell boundaries: cells meet each other and the
        background on the membrane ridges, and the dim interiors the membranes
        enclose count as foreground.

    Every cell keeps its nucleus's label.

    Returns
    -------
    ndarray, int32, shape (Y, X)
    """
    _check_2d(cyto, "cyto")
    if cyto.shape != nuclei.shape:
        raise OpsflowError(f"cyto {cyto.shape} and nuclei {nuclei.shape} differ in shape.")
    if watershed_on not in CELL_WATERSHEDS:
        raise OpsflowError(f"watershed_on must be one of {CELL_WATERSHEDS}, got {watershed_on!r}.")
    if not nuclei.any():
        return np.zeros(nuclei.shape, dtype=np.int32)
    smoothed = _smooth(cyto, smooth_sigma)
    threshold = derive_threshold(smoothed, method=threshold_method) * threshold_factor
    mask = (smoothed > threshold) | (nuclei > 0)
    if watershed_on == "membrane":
        return _membrane_watershed(smoothed, nuclei, mask)
    if watershed_on == "distance":
        landscape = ndi.distance_transform_edt(nuclei == 0)
    else:
        landscape = -smoothed
    return watershed(landscape, nuclei, mask=mask).astype(np.int32)


def reconcile(nuclei: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Make independently segmented nuclei and cells share labels.

    Each cell takes the nucleus that overlaps it most, clipped to the cell; cells
    without a nucleus are dropped. Labels are renumbered 1..n in cell order.
    """
    if nuclei.shape != cells.shape:
        raise OpsflowError(f"nuclei {nuclei.shape} and cells {cells.shape} differ in shape.")
    both = (nuclei > 0) & (cells > 0)
    pairs = np.stack([cells[both], nuclei[both]], axis=1).astype(np.int64)
    new_nuclei = np.zeros(cells.shape, dtype=np.int32)
    new_cells = np.zeros(cells.shape, dtype=np.int32)
    if pairs.size == 0:
        return new_nuclei, new_cells
    unique, counts = np.unique(pairs, axis=0, return_counts=True)
    order = np.lexsort((-counts, unique[:, 0]))
    unique = unique[order]
    first = np.r_[True, unique[1:, 0] != unique[:-1, 0]]
    best = unique[first]  # (cell, nucleus) with the largest overlap per cell
    cell_lookup = np.zeros(int(cells.max()) + 1, dtype=np.int32)
    cell_lookup[best[:, 0]] = np.arange(1, len(best) + 1, dtype=np.int32)
    new_cells = cell_lookup[cells]
    nucleus_of_cell = np.zeros(int(cells.max()) + 1, dtype=np.int64)
    nucleus_of_cell[best[:, 0]] = best[:, 1]
    keep = both & (nucleus_of_cell[cells] == nuclei)
    new_nuclei[keep] = new_cells[keep]
    return new_nuclei, new_cells


def remove_border_cells(nuclei: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop cells touching the image border, and their nuclei; renumber 1..n.

    A cell cut by the border is measured wrong (area, reads), and its other part is
    in the neighbouring tile.
    """
    if nuclei.shape != cells.shape:
        raise OpsflowError(f"nuclei {nuclei.shape} and cells {cells.shape} differ in shape.")
    n = int(max(cells.max(initial=0), nuclei.max(initial=0)))
    edge = np.unique(np.concatenate([cells[0], cells[-1], cells[:, 0], cells[:, -1]]))
    present = np.zeros(n + 1, dtype=bool)
    present[np.unique(cells)] = True
    present[edge] = False
    present[0] = False
    lookup = np.zeros(n + 1, dtype=np.int32)
    lookup[present] = np.arange(1, int(present.sum()) + 1, dtype=np.int32)
    return lookup[nuclei], lookup[cells]


def segment_classic(
    dapi: np.ndarray,
    cyto: np.ndarray,
    *,
    nuclei_smooth_sigma: float = 1.5,
    nuclei_threshold_method: str = "otsu",
    nuclei_threshold_factor: float = 1.0,
    nuclei_min_area: int = 20,
    nuclei_max_area: int = 5000,
    nuclei_split: bool = True,
    nuclei_split_min_distance: int = 4,
    nuclei_noise_factor: float = 10.0,
    cells_smooth_sigma: float = 2.0,
    cells_threshold_method: str = "li",
    cells_threshold_factor: float = 1.0,
    cells_watershed: str = "distance",
    remove_border: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Nuclei from DAPI, cells grown from them in the cytoplasm image; shared labels.

    Returns
    -------
    nuclei, cells : ndarray, int32, shape (Y, X)
        Cell ``k`` contains nucleus ``k``; labels are 1..n without gaps.
    """
    nuclei = segment_nuclei(
        dapi,
        smooth_sigma=nuclei_smooth_sigma,
        threshold_method=nuclei_threshold_method,
        threshold_factor=nuclei_threshold_factor,
        min_area=nuclei_min_area,
        max_area=nuclei_max_area,
        split=nuclei_split,
        split_min_distance=nuclei_split_min_distance,
        noise_factor=nuclei_noise_factor,
    )
    cells = segment_cells(
        cyto,
        nuclei,
        smooth_sigma=cells_smooth_sigma,
        threshold_method=cells_threshold_method,
        threshold_factor=cells_threshold_factor,
        watershed_on=cells_watershed,
    )
    if remove_border:
        return remove_border_cells(nuclei, cells)
    return nuclei.astype(np.int32), cells.astype(np.int32)

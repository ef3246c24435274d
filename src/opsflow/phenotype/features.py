"""Per-cell phenotype features: geometry and intensity of nucleus, cell and cytoplasm.

Everything is computed per compartment from one grouping of its pixels by label (a
single sort), with bincounts and reductions over the groups, so the cost grows with the
number of pixels and not with a Python loop over cells. Quantiles use numpy's default
(linear) definition, so a cell's ``median`` equals ``np.median`` of its pixels.

Column names: ``label``; ``{compartment}_area``, ``{compartment}_centroid_y``,
``{compartment}_centroid_x``, ``{compartment}_bounds_0..3`` (min y, min x, max y, max x,
half-open like numpy slices); ``{compartment}_{channel}_{stat}`` for every stat of
:data:`STATS`; and ``cell_{foci channel}_foci_count`` and ``..._foci_area``.
A compartment a cell lacks (a cytoplasm fully covered by the nucleus) has area 0,
NaN centroid and statistics, and bounds -1.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage as ndi
from skimage.morphology import disk

from opsflow.errors import OpsflowError
from opsflow.phenotype.cytoplasm import identify_cytoplasm

__all__ = [
    "COMPARTMENTS",
    "GEOMETRY",
    "STATS",
    "extract_features",
    "extract_minimal",
    "feature_columns",
    "foci_per_cell",
    "minimal_columns",
]

log = logging.getLogger(__name__)

COMPARTMENTS = ("nucleus", "cell", "cytoplasm")
"""Compartments measured, in column order."""

STATS = ("sum", "mean", "std", "min", "max", "median", "q25", "q75")
"""Per-channel intensity statistics; ``std`` is the population standard deviation."""

GEOMETRY = (
    "area",
    "centroid_y",
    "centroid_x",
    "bounds_0",
    "bounds_1",
    "bounds_2",
    "bounds_3",
)
"""Per-compartment geometry columns (after the ``{compartment}_`` prefix)."""

_QUANTILES = {"median": 0.5, "q25": 0.25, "q75": 0.75}


def feature_columns(channel_names: Sequence[str], *, foci_channel: str | None = None) -> list[str]:
    """Columns of the full feature table, in order."""
    columns = ["label"]
    for comp in COMPARTMENTS:
        columns += [f"{comp}_{g}" for g in GEOMETRY]
    for comp in COMPARTMENTS:
        columns += [f"{comp}_{ch}_{s}" for ch in channel_names for s in STATS]
    if foci_channel is not None:
        columns += [f"cell_{foci_channel}_foci_count", f"cell_{foci_channel}_foci_area"]
    return columns


def minimal_columns(channel_names: Sequence[str]) -> list[str]:
    """Columns of the minimal table (for merging with SBS), in order."""
    columns = ["label"]
    for comp in ("nucleus", "cell"):
        columns += [f"{comp}_{g}" for g in GEOMETRY]
    return columns + [f"cell_{ch}_min" for ch in channel_names]


def _geometry_dtype(name: str) -> type:
    return np.int64 if name == "area" or name.startswith("bounds") else np.float64


@dataclass(frozen=True)
class _Groups:
    """The pixels of one compartment grouped by output row (one row per label)."""

    order: np.ndarray  # flat pixel indices, grouped by row, raster order within a row
    row: np.ndarray  # row of each entry of ``order``
    starts: np.ndarray  # (n,) first entry of each row
    counts: np.ndarray  # (n,) pixels per row
    width: int

    @property
    def present(self) -> np.ndarray:
        return self.counts > 0


def _group(mask: np.ndarray, labels: np.ndarray) -> _Groups:
    flat = mask.ravel()
    lookup = np.full(max(int(flat.max(initial=0)), int(labels.max(initial=0))) + 1, -1)
    lookup[labels] = np.arange(len(labels))
    pix = np.flatnonzero(flat)
    rows = lookup[flat[pix]]
    pix, rows = pix[rows >= 0], rows[rows >= 0]
    sort = np.argsort(rows, kind="stable")
    order, rows = pix[sort], rows[sort]
    counts = np.bincount(rows, minlength=len(labels))
    starts = (np.cumsum(counts) - counts).astype(np.int64)
    return _Groups(order, rows, starts, counts, mask.shape[1])


def _reduce(func: np.ufunc, values: np.ndarray, groups: _Groups, fill: float) -> np.ndarray:
    out = np.full(len(groups.counts), fill, dtype=np.result_type(values.dtype, type(fill)))
    present = groups.present
    if present.any():
        out[present] = func.reduceat(values, groups.starts[present])
    return out


def _geometry(groups: _Groups, prefix: str) -> dict[str, np.ndarray]:
    y = groups.order // groups.width
    x = groups.order % groups.width
    counts = groups.counts
    present = groups.present
    with np.errstate(invalid="ignore", divide="ignore"):
        cy = np.bincount(groups.row, weights=y, minlength=len(counts)) / counts
        cx = np.bincount(groups.row, weights=x, minlength=len(counts)) / counts
    min_y = np.full(len(counts), -1, dtype=np.int64)
    max_y = np.full(len(counts), -1, dtype=np.int64)
    min_y[present] = y[groups.starts[present]]  # raster order: first pixel has the min y
    max_y[present] = y[groups.starts[present] + counts[present] - 1] + 1
    return {
        f"{prefix}_area": counts.astype(np.int64),
        f"{prefix}_centroid_y": cy,
        f"{prefix}_centroid_x": cx,
        f"{prefix}_bounds_0": min_y,
        f"{prefix}_bounds_1": _reduce(np.minimum, x, groups, -1).astype(np.int64),
        f"{prefix}_bounds_2": max_y,
        f"{prefix}_bounds_3": (_reduce(np.maximum, x, groups, -2) + 1).astype(np.int64),
    }


def _sorted_within_groups(values: np.ndarray, groups: _Groups) -> np.ndarray:
    """Values of each group sorted ascending, groups in row order."""
    if np.issubdtype(values.dtype, np.unsignedinteger) and values.dtype.itemsize <= 4:
        keys = (groups.row.astype(np.uint64) << np.uint64(32)) | values.astype(np.uint64)
        keys.sort()
        return (keys & np.uint64(0xFFFFFFFF)).astype(np.float64)
    order = np.lexsort((values, groups.row))
    return values[order].astype(np.float64)


def _intensity(channel: np.ndarray, groups: _Groups, prefix: str) -> dict[str, np.ndarray]:
    n = len(groups.counts)
    present = groups.present
    counts = groups.counts
    values = channel.ravel()[groups.order]
    as_float = values.astype(np.float64)
    out: dict[str, np.ndarray] = {}
    total = np.bincount(groups.row, weights=as_float, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / counts
        deviation = as_float - mean[groups.row]
        variance = np.bincount(groups.row, weights=deviation * deviation, minlength=n) / counts
    out[f"{prefix}_sum"] = np.where(present, total, np.nan)
    out[f"{prefix}_mean"] = mean
    out[f"{prefix}_std"] = np.sqrt(variance)
    ordered = _sorted_within_groups(values, groups)
    first = groups.starts[present]
    last = first + counts[present] - 1
    for stat in ("min", "max", "median", "q25", "q75"):
        column = np.full(n, np.nan)
        if stat == "min":
            column[present] = ordered[first]
        elif stat == "max":
            column[present] = ordered[last]
        else:
            position = first + _QUANTILES[stat] * (counts[present] - 1)
            lo = np.floor(position).astype(np.int64)
            hi = np.ceil(position).astype(np.int64)
            column[present] = ordered[lo] + (position - lo) * (ordered[hi] - ordered[lo])
        out[f"{prefix}_{stat}"] = column
    return out


def _check(aligned: np.ndarray, masks: Sequence[np.ndarray], channel_names: Sequence[str]) -> None:
    if aligned.ndim != 3 or aligned.shape[0] != len(channel_names):
        raise OpsflowError(
            f"phenotype image has shape {aligned.shape}; expected ({len(channel_names)} "
            f"channels {list(channel_names)}, Y, X)."
        )
    for mask in masks:
        if mask.shape != aligned.shape[1:] or not np.issubdtype(mask.dtype, np.integer):
            raise OpsflowError(
                f"masks must be integer images of shape {aligned.shape[1:]}, found "
                f"{mask.dtype} {mask.shape}."
            )


def _cell_labels(cells: np.ndarray) -> np.ndarray:
    present = np.flatnonzero(np.bincount(cells.ravel().astype(np.int64)))
    return present[present > 0]


def foci_per_cell(
    channel: np.ndarray,
    cells: np.ndarray,
    *,
    labels: np.ndarray | None = None,
    radius: int = 3,
    smooth_sigma: float = 0.5,
    noise_factor: float = 5.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Count foci (bright spots smaller than ``radius``) and their area in every cell.

    The channel is smoothed (``smooth_sigma``) and a white top-hat with a disk of
    ``radius`` px removes everything broader than a focus (the nuclear background,
    uneven staining). The threshold comes from the data: the median of the top-hat
    inside cells plus ``noise_factor`` robust standard deviations (1.4826 x MAD), so it
    follows the noise and staining of each tile. Foci are the local maxima (3 x 3)
    above it, so touching foci count separately; the foci area is the number of cell
    pixels above it.

    Parameters
    ----------
    channel : ndarray, shape (Y, X)
    cells : ndarray, shape (Y, X), integer
    labels : ndarray, optional
        Cell labels to report, in order; default all labels present.

    Returns
    -------
    count, area : ndarray, int64, one value per label
    """
    if channel.shape != cells.shape or channel.ndim != 2:
        raise OpsflowError(
            f"foci channel {channel.shape} and cells {cells.shape} must be 2-D of equal shape."
        )
    labels = _cell_labels(cells) if labels is None else np.asarray(labels, dtype=np.int64)
    count = np.zeros(len(labels), dtype=np.int64)
    area = np.zeros(len(labels), dtype=np.int64)
    inside = cells > 0
    if not labels.size or not inside.any():
        return count, area
    image = np.asarray(channel, dtype=np.float32)
    if smooth_sigma > 0:
        image = ndi.gaussian_filter(image, smooth_sigma)
    tophat = ndi.white_tophat(image, footprint=disk(radius))
    values = tophat[inside]
    median = float(np.median(values))
    threshold = median + noise_factor * 1.4826 * float(np.median(np.abs(values - median)))
    spots = inside & (tophat > threshold)
    peaks = spots & (tophat == ndi.maximum_filter(tophat, size=3))
    log.debug("foci threshold %.1f: %d peaks in cells", threshold, int(peaks.sum()))
    lookup = np.zeros(int(cells.max()) + 1, dtype=np.int64)
    valid = labels <= cells.max()
    lookup[labels[valid]] = np.flatnonzero(valid) + 1
    for target, where in ((count, peaks), (area, spots)):
        rows = lookup[cells[where]]
        target += np.bincount(rows, minlength=len(labels) + 1)[1:]
    return count, area


def extract_features(
    aligned: np.ndarray,
    nuclei: np.ndarray,
    cells: np.ndarray,
    cytoplasm: np.ndarray | None = None,
    *,
    channel_names: Sequence[str],
    foci_channel: str | None = None,
    foci_radius: int = 3,
    foci_smooth_sigma: float = 0.5,
    foci_noise_factor: float = 5.0,
) -> pd.DataFrame:
    """The per-cell feature table of one tile: one row per cell label.

    Parameters
    ----------
    aligned : ndarray, shape (C, Y, X)
        Illumination-corrected, registered tile.
    nuclei, cells : ndarray, shape (Y, X), integer
        Masks sharing labels.
    cytoplasm : ndarray, optional
        Cytoplasm mask; default :func:`identify_cytoplasm` of nuclei and cells.
    channel_names : sequence of str
        Names of the C channels, used in the column names.
    foci_channel : str, optional
        Channel whose foci are counted (:func:`foci_per_cell`); None: no foci columns.
    foci_radius, foci_smooth_sigma, foci_noise_factor
        Settings of :func:`foci_per_cell`.

    Returns
    -------
    DataFrame
        Columns :func:`feature_columns`; no rows (but every column) when there are no
        cells.
    """
    masks = [nuclei, cells] + ([cytoplasm] if cytoplasm is not None else [])
    _check(aligned, masks, channel_names)
    if foci_channel is not None and foci_channel not in channel_names:
        raise OpsflowError(
            f"foci_channel {foci_channel!r} is not one of the channels {list(channel_names)}."
        )
    if cytoplasm is None:
        cytoplasm = identify_cytoplasm(nuclei, cells)
    labels = _cell_labels(cells)
    data: dict[str, np.ndarray] = {"label": labels.astype(np.int64)}
    grouped = {
        comp: _group(mask, labels)
        for comp, mask in zip(COMPARTMENTS, (nuclei, cells, cytoplasm), strict=True)
    }
    for comp in COMPARTMENTS:
        data |= _geometry(grouped[comp], comp)
    for comp in COMPARTMENTS:
        for c, name in enumerate(channel_names):
            data |= _intensity(aligned[c], grouped[comp], f"{comp}_{name}")
    if foci_channel is not None:
        count, area = foci_per_cell(
            aligned[list(channel_names).index(foci_channel)],
            cells,
            labels=labels,
            radius=foci_radius,
            smooth_sigma=foci_smooth_sigma,
            noise_factor=foci_noise_factor,
        )
        data[f"cell_{foci_channel}_foci_count"] = count
        data[f"cell_{foci_channel}_foci_area"] = area
    columns = feature_columns(channel_names, foci_channel=foci_channel)
    return pd.DataFrame(data, columns=columns)


def extract_minimal(
    aligned: np.ndarray,
    nuclei: np.ndarray,
    cells: np.ndarray,
    *,
    channel_names: Sequence[str],
) -> pd.DataFrame:
    """The minimal per-cell table that merging with SBS needs.

    Nucleus and cell geometry (nucleus centroids are the landmarks matched to the SBS
    cells) and the minimum of every channel over the cell: registration fills pixels
    with no data with 0, so a minimum of 0 flags a cell that is partly outside a
    channel's field.

    Returns
    -------
    DataFrame
        Columns :func:`minimal_columns`, one row per cell label.
    """
    _check(aligned, [nuclei, cells], channel_names)
    labels = _cell_labels(cells)
    data: dict[str, np.ndarray] = {"label": labels.astype(np.int64)}
    cell_groups = _group(cells, labels)
    data |= _geometry(_group(nuclei, labels), "nucleus")
    data |= _geometry(cell_groups, "cell")
    for c, name in enumerate(channel_names):
        values = aligned[c].ravel()[cell_groups.order].astype(np.float64)
        data[f"cell_{name}_min"] = _reduce(np.minimum, values, cell_groups, np.nan)
    return pd.DataFrame(data, columns=minimal_columns(channel_names))

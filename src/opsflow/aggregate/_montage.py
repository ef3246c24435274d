"""Montages: cell crops of chosen genes, as a (cell, c, y, x) stack and a picture.

The crops are the phenotype pixels themselves (no resampling), so a montage store can be
checked against its source tiles; the picture scales every channel the same way for all
genes, so a brighter gene looks brighter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from skimage.segmentation import find_boundaries

from opsflow.aggregate._params import AggregateParams

__all__ = ["crop_cells", "montage_channels", "montage_figure", "montage_step", "montage_store"]

_RGB = np.array([[1.0, 0.25, 1.0], [0.2, 1.0, 0.2], [0.3, 0.5, 1.0]])  # magenta, green, blue


def montage_channels(p: AggregateParams, channel_names: Sequence[str]) -> list[int]:
    """Indices of the montage channels in the phenotype image."""
    if p.montage_channels is None:
        return list(range(min(3, len(channel_names))))
    missing = [c for c in p.montage_channels if c not in channel_names]
    if missing:
        raise KeyError(
            f"aggregate.montage_channels names {missing}, which phenotype.channel_names "
            f"{list(channel_names)} lacks."
        )
    return [list(channel_names).index(c) for c in p.montage_channels]


def _window(centre: float, size: int, extent: int) -> tuple[slice, slice]:
    """Source and destination slices of a ``size`` window centred on ``centre``."""
    start = round(centre) - size // 2
    lo, hi = max(start, 0), min(start + size, extent)
    return slice(lo, max(hi, lo)), slice(lo - start, max(hi, lo) - start)


def crop_cells(
    picks: pd.DataFrame,
    images: Mapping[Any, np.ndarray],
    masks: Mapping[Any, np.ndarray],
    *,
    size: int,
    channels: Sequence[int],
) -> tuple[np.ndarray, np.ndarray]:
    """(cell, channel, y, x) crops centred on each pick and the (cell, y, x) mask crops.

    ``images`` and ``masks`` are keyed by (well, tile); outside the tile is 0.
    """
    crops = np.zeros((len(picks), len(channels), size, size), dtype=np.uint16)
    labels = np.zeros((len(picks), size, size), dtype=np.uint32)
    for (well, tile), rows in picks.groupby(["well", "phenotype_tile"], sort=False):
        image = images[(str(well), int(tile))][list(channels)]  # one copy per tile
        mask = masks[(str(well), int(tile))]
        crops = crops.astype(np.result_type(crops.dtype, image.dtype), copy=False)
        for i, row in zip(rows.index, rows.itertuples(), strict=True):
            ys, yd = _window(row.cell_centroid_y, size, image.shape[-2])
            xs, xd = _window(row.cell_centroid_x, size, image.shape[-1])
            crops[i, :, yd, xd] = image[:, ys, xs]
            labels[i, yd, xd] = mask[ys, xs]
    return crops, labels


def _rgb(crops: np.ndarray) -> np.ndarray:
    """(cell, y, x, 3) composite, every channel scaled by its 1st-99.8th percentile."""
    out = np.zeros((*crops.shape[:1], *crops.shape[2:], 3))
    for c in range(crops.shape[1]):
        lo, hi = np.percentile(crops[:, c], [1, 99.8]) if crops.size else (0, 1)
        scaled = np.clip((crops[:, c] - lo) / max(hi - lo, 1e-9), 0, 1)
        out += scaled[..., None] * _RGB[c]
    return np.clip(out, 0, 1)


def montage_figure(
    crops: np.ndarray, labels: np.ndarray, picks: pd.DataFrame, channel_names: Sequence[str]
):
    """One row per gene, one crop per cell, the picked cell outlined in yellow."""
    from matplotlib.figure import Figure

    genes = list(dict.fromkeys(picks["gene"])) or ["(no cells)"]
    per_row = max(1, int(picks.groupby("gene").size().max())) if len(picks) else 1
    fig = Figure(figsize=(1.1 * per_row + 1.4, 1.15 * len(genes) + 0.5))
    axes = fig.subplots(len(genes), per_row, squeeze=False)
    rgb = _rgb(crops.astype(np.float64))
    for ax in axes.flat:
        ax.set_axis_off()
    for r, gene in enumerate(genes):
        index = np.flatnonzero(picks["gene"].to_numpy() == gene)
        for k, i in enumerate(index):
            tile = rgb[i].copy()
            tile[find_boundaries(labels[i] == int(picks["phenotype_cell"].iat[i]))] = (1, 1, 0)
            axes[r, k].imshow(tile, interpolation="nearest")
        axes[r, 0].text(-0.1, 0.5, gene, transform=axes[r, 0].transAxes, ha="right",
                        va="center", fontsize=9)  # fmt: skip
    fig.suptitle(" / ".join(f"{n} ({c})" for n, c in zip(
        channel_names, ("magenta", "green", "blue"), strict=False)), fontsize=9)  # fmt: skip
    fig.subplots_adjust(left=1.3 / (1.1 * per_row + 1.4), wspace=0.05, hspace=0.05)
    return fig


def montage_step(
    picks: pd.DataFrame,
    images: Mapping[Any, np.ndarray],
    masks: Mapping[Any, np.ndarray],
    *,
    p: AggregateParams,
    channel_names: Sequence[str],
) -> tuple[np.ndarray, np.ndarray, Any]:
    """Crops, mask crops and the montage picture of one plate's picks."""
    channels = montage_channels(p, channel_names)
    picks = picks.reset_index(drop=True)
    crops, labels = crop_cells(picks, images, masks, size=p.montage_crop_px, channels=channels)
    names = [channel_names[c] for c in channels]
    return crops, labels, montage_figure(crops, labels, picks, names)


def montage_store(
    crops: np.ndarray,
    labels: np.ndarray,
    picks: pd.DataFrame,
    metadata: Sequence[pd.DataFrame],
    *,
    p: AggregateParams,
    channel_names: Sequence[str],
) -> dict[str, Any]:
    """What the OME-Zarr writer needs for a montage: cells on ``t``, masks as labels.

    The pixel size is the median of the phenotype metadata. The ``cells`` labels hold
    each crop's own cell only, as value ``t + 1``, whose properties name its gene, well,
    tile and cell (a source label value can repeat across tiles; these cannot).
    """
    sizes = pd.concat(list(metadata))[["pixel_size_y", "pixel_size_x"]].to_numpy(float)
    sizes = sizes[np.isfinite(sizes).all(axis=1) & (sizes > 0).all(axis=1)]
    pixel = tuple(np.median(sizes, axis=0)) if len(sizes) else (1.0, 1.0)
    names = [channel_names[c] for c in montage_channels(p, channel_names)]
    picks = picks.reset_index(drop=True)
    own = labels == picks["phenotype_cell"].to_numpy(np.int64)[:, None, None]
    numbered = (own * np.arange(1, len(picks) + 1)[:, None, None]).astype(np.uint32)
    properties = {
        t + 1: {"gene": r.gene, "well": r.well, "tile": int(r.phenotype_tile),
                "cell": int(r.phenotype_cell)}
        for t, r in enumerate(picks.itertuples())
    }  # fmt: skip
    return {
        "image": np.asarray(crops),
        "axes": "tcyx",
        "pixel_size": pixel,
        "channel_labels": names,
        "labels": {"cells": numbered},
        "label_properties": {"cells": properties},
    }

"""One export function for every stage: TIFF checkpoint (plus masks) to OME-Zarr."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from opsflow.errors import InputFileError
from opsflow.export._stages import Stage, channel_labels
from opsflow.io import ExportOptions, export_tiff_to_omezarr, image_info

__all__ = ["export_stage", "pixel_size_from_metadata"]


def pixel_size_from_metadata(
    metadata: str | os.PathLike[str], *, tile: int | None = None
) -> tuple[float, float]:
    """Pixel size (y, x) in micrometres from a preprocess metadata parquet.

    The tile's own row where ``tile`` is given, else the well's median: every tile of a
    well is taken with one objective, so the median is robust to one odd file.
    """
    path = Path(metadata)
    try:
        table = pd.read_parquet(path, columns=["tile", "pixel_size_y", "pixel_size_x"])
    except FileNotFoundError:
        raise InputFileError(f"{path}: expected a metadata parquet, found nothing.") from None
    except Exception as exc:
        raise InputFileError(
            f"{path}: expected a metadata parquet with tile, pixel_size_y and pixel_size_x "
            f"columns, found {exc}."
        ) from exc
    if tile is not None and (table["tile"] == tile).any():
        table = table[table["tile"] == tile]
    sizes = table[["pixel_size_y", "pixel_size_x"]].to_numpy(dtype=float)
    sizes = sizes[np.isfinite(sizes).all(axis=1) & (sizes > 0).all(axis=1)]
    if len(sizes) == 0:
        raise InputFileError(f"{path}: expected positive pixel sizes, found none.")
    y, x = np.median(sizes, axis=0)
    return float(y), float(x)


def export_stage(
    stage: Stage,
    image: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    masks: Mapping[str, str | os.PathLike[str]] | None = None,
    channel_names: Sequence[str],
    base_channels: Sequence[str] = (),
    pixel_size: tuple[float, float] = (1.0, 1.0),
    options: ExportOptions,
    workers: int | None = None,
) -> Path:
    """Export one stage's TIFF (and its masks) as a store, named and labelled per registry.

    ``options`` has no default on purpose: a stage export always follows the module's
    configured settings (``Config.export_options``), never silently the library's.
    """
    info = image_info(image)
    if len(info.shape) != len(stage.axes):
        raise InputFileError(
            f"{image}: stage {stage.name} expects a {stage.axes.upper()} image, "
            f"found shape {info.shape}."
        )
    n_channels = info.shape[stage.axes.index("c")] if "c" in stage.axes else 1
    labels = channel_labels(
        stage,
        n_channels,
        channel_names=channel_names,
        base_channels=base_channels,
    )
    return export_tiff_to_omezarr(
        image,
        output,
        pixel_size=pixel_size,
        options=options,
        channel_labels=labels,
        labels=dict(masks or {}),
        axes=stage.axes,
        workers=workers,
    )

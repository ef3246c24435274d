"""One export function for every stage: TIFF checkpoint (plus masks) to OME-Zarr."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from opsflow.errors import InputFileError
from opsflow.export._mosaic import Mosaic, label_offsets, place_tiles
from opsflow.export._stages import Stage, channel_labels
from opsflow.io import (
    ArrayLike,
    ExportOptions,
    ngff_view,
    open_image,
    write_multiscale_omezarr,
)

__all__ = ["export_mosaic", "export_stage", "pixel_size_from_metadata"]


def pixel_size_from_metadata(
    metadata: str | os.PathLike[str] | pd.DataFrame, *, tile: int | None = None
) -> tuple[float, float]:
    """Pixel size (y, x) in micrometres from a preprocess metadata parquet (or table).

    The tile's own row where ``tile`` is given, else the well's median: every tile of a
    well is taken with one objective, so the median is robust to one odd file.
    """
    if isinstance(metadata, pd.DataFrame):
        return _pixel_size(metadata, tile, "the metadata table")
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
    return _pixel_size(table, tile, str(path))


def _pixel_size(table: pd.DataFrame, tile: int | None, where: str) -> tuple[float, float]:
    if tile is not None and (table["tile"] == tile).any():
        table = table[table["tile"] == tile]
    sizes = table[["pixel_size_y", "pixel_size_x"]].to_numpy(dtype=float)
    sizes = sizes[np.isfinite(sizes).all(axis=1) & (sizes > 0).all(axis=1)]
    if len(sizes) == 0:
        raise InputFileError(f"{where}: expected positive pixel sizes, found none.")
    y, x = np.median(sizes, axis=0)
    return float(y), float(x)


def export_stage(
    stage: Stage,
    image: str | os.PathLike[str] | ArrayLike,
    output: str | os.PathLike[str],
    *,
    masks: Mapping[str, str | os.PathLike[str] | ArrayLike] | None = None,
    channel_names: Sequence[str],
    base_channels: Sequence[str] = (),
    pixel_size: tuple[float, float] = (1.0, 1.0),
    options: ExportOptions,
    name: str | None = None,
    workers: int | None = None,
) -> Path:
    """Write one stage's store (or plate field): its image and masks, named per registry.

    ``image`` and ``masks`` are files (TIFF or OME-Zarr: an export) or arrays (a step
    that writes its images as OME-Zarr itself). ``options`` has no default on purpose: a
    stage store always follows the module's configured settings
    (``Config.export_options``), never silently the library's.
    """
    source = _opened(image, stage.axes, strict=True)
    view, axes = ngff_view(source, source_axes=stage.axes)
    n_channels = view.shape[axes.index("c")]
    labels = channel_labels(
        stage, n_channels, channel_names=channel_names, base_channels=base_channels
    )
    planes = {k: _plane(_opened(m, "yx"), len(axes) - 2) for k, m in (masks or {}).items()}
    return write_multiscale_omezarr(
        view,
        output,
        axes=axes,
        pixel_size=pixel_size,
        options=options,
        channel_labels=labels,
        labels=planes,
        name=name,
        workers=workers,
    )


def _opened(
    image: str | os.PathLike[str] | ArrayLike, axes: str, *, strict: bool = False
) -> ArrayLike:
    """A file opened lazily with the given axes, or an array checked against them.

    ``strict``: a TIFF must have exactly those dimensions (a store may add size-1 axes).
    """
    if isinstance(image, str | os.PathLike):
        view = open_image(image, axes=axes)
        if strict and view.info.format == "tiff" and len(view.info.shape) != len(axes):
            raise InputFileError(
                f"{image}: expected a {axes.upper()} image, found shape {view.info.shape}."
            )
        return view
    if len(image.shape) != len(axes):
        raise InputFileError(f"expected a {axes.upper()} image, found shape {tuple(image.shape)}.")
    return image


def export_mosaic(
    stage: Stage,
    images: Mapping[int, str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    metadata: str | os.PathLike[str],
    masks: Mapping[str, Mapping[int, str | os.PathLike[str]]] | None = None,
    channel_names: Sequence[str],
    base_channels: Sequence[str] = (),
    options: ExportOptions,
    workers: int | None = None,
) -> Path:
    """Stitch one well's tiles of a stage (and their masks) into one store.

    ``images`` and every entry of ``masks`` map tile numbers to TIFFs. Tiles are placed
    by the stage positions of the well's metadata table; label values are made unique in
    the well and each label image's ``properties`` give every value's tile and label.
    """
    table = pd.read_parquet(metadata)
    pixel_size = pixel_size_from_metadata(metadata)
    sources = {t: open_image(p, axes=stage.axes) for t, p in images.items()}
    shapes = {t: tuple(s.shape[-2:]) for t, s in sources.items()}
    placements = place_tiles(table, shapes, pixel_size, where=str(metadata))
    first = next(iter(images.values()))
    view, axes = ngff_view(Mosaic(list(sources.values()), placements), source_axes=stage.axes)
    n_channels = view.shape[axes.index("c")]
    labels, properties = {}, {}
    for lname, paths in (masks or {}).items():
        tiles = [open_image(paths[t], axes="yx") for t in images]
        maxima = [int(np.max(_plane(m)[:, :], initial=0)) for m in tiles]
        offsets = label_offsets(maxima)
        planes = [_plane(m, len(axes) - 2) for m in tiles]
        labels[lname] = Mosaic(planes, placements, offsets=offsets)
        properties[lname] = {
            offset + v: {"tile": int(t), "label": v}
            for t, offset, top in zip(images, offsets, maxima, strict=True)
            for v in range(1, top + 1)
        }
    name = f"{Path(first).name.split('_T-')[0]}__{stage.store_what}_mosaic"
    return write_multiscale_omezarr(
        view,
        output,
        axes=axes,
        pixel_size=pixel_size,
        options=options,
        channel_labels=channel_labels(
            stage, n_channels, channel_names=channel_names, base_channels=base_channels
        ),
        labels=labels,
        label_properties=properties,
        name=name,
        workers=workers,
    )


class _plane:
    """A mask (any size-1 leading axes) seen with ``n_lead`` size-1 leading axes.

    So a label mosaic has its image's dimensions, as NGFF requires, without reading it.
    """

    def __init__(self, mask: ArrayLike, n_lead: int = 0) -> None:
        self.mask = mask
        self.n_lead = n_lead
        self.shape = (1,) * n_lead + tuple(mask.shape[-2:])
        self.dtype = mask.dtype

    def __getitem__(self, key: tuple[slice, ...]) -> np.ndarray:
        lead = (0,) * (len(self.mask.shape) - 2)
        plane = np.asarray(self.mask[(*lead, *tuple(key)[-2:])])
        return plane.reshape((1,) * self.n_lead + plane.shape)

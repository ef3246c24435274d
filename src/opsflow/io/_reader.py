"""Read images whatever their format: TIFF or OME-Zarr (NGFF 0.4 on Zarr v2, 0.5 on v3).

Arrays come back with their stored axes; nothing is squeezed or reordered behind the
caller's back. A region read touches only the chunks (or TIFF rows) it covers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from opsflow.errors import InputFileError, InputFileNotFoundError, OpsflowError
from opsflow.io._tiff import open_tiff, tiff_axes

__all__ = [
    "ImageInfo",
    "image_info",
    "is_omezarr",
    "multiscale_array",
    "ngff_attributes",
    "open_store",
    "plate_field",
    "region_key",
]

_TIFF_AXES = {"T": "t", "C": "c", "S": "c", "Z": "z", "Y": "y", "X": "x"}
_DEFAULT_AXES = {2: "yx", 3: "cyx", 4: "tcyx", 5: "tczyx"}


@dataclass(frozen=True)
class ImageInfo:
    """What a reader needs to know about a stored image."""

    path: Path
    format: str  # "tiff" or "ome-zarr"
    ngff_version: str | None
    axes: str
    dtype: np.dtype
    level_shapes: tuple[tuple[int, ...], ...]
    level_chunks: tuple[tuple[int, ...], ...]
    level_shards: tuple[tuple[int, ...] | None, ...]
    channel_labels: tuple[str, ...] | None
    pixel_size: Mapping[str, float] | None  # micrometres per pixel of level 0, space axes
    labels: tuple[str, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of level 0."""
        return self.level_shapes[0]


def is_omezarr(path: str | os.PathLike[str]) -> bool:
    """True for a directory that holds Zarr group metadata (v2 or v3)."""
    p = Path(path)
    return p.is_dir() and ((p / "zarr.json").exists() or (p / ".zgroup").exists())


def open_store(path: str | os.PathLike[str]) -> zarr.Group:
    """Open a Zarr group read-only, with a clear error where there is none."""
    p = Path(path)
    if not p.exists():
        raise InputFileNotFoundError(f"{p}: expected an OME-Zarr store, found nothing there.")
    if not is_omezarr(p):
        raise InputFileError(
            f"{p}: expected an OME-Zarr store (a directory with zarr.json or .zgroup), found none."
        )
    return zarr.open_group(str(p), mode="r")


def ngff_attributes(group: zarr.Group) -> tuple[dict[str, Any], str | None]:
    """NGFF keys of a group and their version, for 0.5 (``ome``) and 0.4 (top level)."""
    attrs = group.attrs.asdict()
    if "ome" in attrs:
        ome = dict(attrs["ome"])
        return ome, str(ome.get("version"))
    version = None
    for key in ("multiscales", "image-label", "plate", "well"):
        block = attrs.get(key)
        if isinstance(block, list) and block:
            version = block[0].get("version")
        elif isinstance(block, dict):
            version = block.get("version")
        if version:
            break
    return attrs, (str(version) if version else None)


def _multiscale(group: zarr.Group, path: Path) -> tuple[dict[str, Any], dict[str, Any], str]:
    ome, version = ngff_attributes(group)
    multiscales = ome.get("multiscales")
    if not multiscales:
        raise InputFileError(f"{path}: expected OME-Zarr multiscales metadata, found none.")
    return ome, multiscales[0], version or "unknown"


def image_info(path: str | os.PathLike[str]) -> ImageInfo:
    """Axes, levels, channel labels and pixel size of a TIFF or OME-Zarr image."""
    p = Path(path)
    if is_omezarr(p):
        group = open_store(p)
        ome, ms, version = _multiscale(group, p)
        axes = "".join(a["name"] if isinstance(a, dict) else str(a) for a in ms["axes"])
        arrays = [group[d["path"]] for d in ms["datasets"]]
        scale = next(
            t["scale"]
            for t in ms["datasets"][0]["coordinateTransformations"]
            if t["type"] == "scale"
        )
        pixel = {a: float(s) for a, s in zip(axes, scale, strict=True) if a in "zyx"}
        channels = ome.get("omero", {}).get("channels")
        labels: tuple[str, ...] = ()
        if "labels" in group:
            labels_ome, _ = ngff_attributes(group["labels"])
            labels = tuple(labels_ome.get("labels", ()))
        return ImageInfo(
            path=p,
            format="ome-zarr",
            ngff_version=version,
            axes=axes,
            dtype=np.dtype(arrays[0].dtype),
            level_shapes=tuple(tuple(a.shape) for a in arrays),
            level_chunks=tuple(tuple(a.chunks) for a in arrays),
            level_shards=tuple(tuple(a.shards) if a.shards else None for a in arrays),
            channel_labels=tuple(c.get("label", "") for c in channels) if channels else None,
            pixel_size=pixel,
            labels=labels,
        )
    source = open_tiff(p)
    letters = tiff_axes(p)
    shape = tuple(source.shape)
    axes = "".join(_TIFF_AXES.get(a, "?") for a in letters)
    if "?" in axes or len(set(axes)) != len(axes) or len(axes) != len(shape):
        axes = _DEFAULT_AXES.get(len(shape), "")
        if not axes:
            raise InputFileError(
                f"{p}: expected an image with 2 to 5 dimensions, found shape {shape}."
            )
    return ImageInfo(
        path=p,
        format="tiff",
        ngff_version=None,
        axes=axes,
        dtype=np.dtype(source.dtype),
        level_shapes=(shape,),
        level_chunks=(shape,),
        level_shards=(None,),
        channel_labels=None,
        pixel_size=None,
        labels=(),
    )


def region_key(
    region: Sequence[slice] | Mapping[str, slice] | None, axes: str, path: Path
) -> tuple[slice, ...]:
    if region is None:
        return (slice(None),) * len(axes)
    if isinstance(region, Mapping):
        unknown = [a for a in region if a not in axes]
        if unknown:
            raise OpsflowError(f"{path}: region names axes {unknown}; the image has {axes!r}.")
        return tuple(region.get(a, slice(None)) for a in axes)
    region = tuple(region)
    if len(region) > len(axes):
        raise OpsflowError(
            f"{path}: region has {len(region)} entries; the image has axes {axes!r}."
        )
    return region + (slice(None),) * (len(axes) - len(region))


def multiscale_array(path: str | os.PathLike[str], level: int = 0) -> zarr.Array:
    """The Zarr array of one level of an OME-Zarr image (or label image), unread."""
    p = Path(path)
    group = open_store(p)
    _, ms, _ = _multiscale(group, p)
    return group[ms["datasets"][level]["path"]]


def plate_field(plate: Path, well: str | None, tile: int | str | None) -> Path:
    """The path of a plate's field, or one sentence saying which fields the well has."""
    from opsflow.io._hcs import field_path, well_position

    if well is None or tile is None:
        raise OpsflowError(f"{plate}: a plate field needs both a well and a tile.")
    path = plate / field_path(well, tile)
    if not is_omezarr(path):
        well_dir = plate.joinpath(*well_position(well))
        present = (
            sorted(p.name for p in well_dir.iterdir() if is_omezarr(p)) if well_dir.is_dir() else []
        )
        raise InputFileNotFoundError(
            f"{plate}: expected field {tile} of well {well}, found "
            + (f"fields {', '.join(present)}." if present else "no such well.")
        )
    return path

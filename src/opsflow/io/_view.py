"""A stored image as a read-only array that reads only what it is indexed for.

The pipeline's steps take their images through :func:`open_image`, so a step that needs
one cycle or one channel of a store decodes only those chunks, and a TIFF and an
OME-Zarr image of the same checkpoint come back as the same array. ``axes`` presents an
image with the axes its consumer expects: a label image stored as ``(c=1, y, x)`` reads
as ``(y, x)``, a ``(y, x)`` TIFF as ``(c=1, y, x)``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from opsflow.errors import InputFileError, OpsflowError
from opsflow.io._reader import (
    ImageInfo,
    image_info,
    multiscale_array,
    plate_field,
    region_key,
)
from opsflow.io._tiff import open_tiff

__all__ = ["ImageView", "open_image", "read_image"]

Index = int | slice | list[int]


class ImageView:
    """Lazy array over level ``level`` of a TIFF or an OME-Zarr image, with chosen axes.

    Indexing takes integers, slices and lists of integers per axis (each axis on its own,
    numpy's orthogonal indexing) and returns a numpy array; ``np.asarray`` reads it all.
    """

    def __init__(self, path: Path, info: ImageInfo, source: Any, axes: str | None) -> None:
        self.path, self.info, self._source = path, info, source
        stored = info.axes
        self.axes = axes or stored
        extra = [a for a in stored if a not in self.axes]
        common = [a for a in stored if a in self.axes]
        size = dict(zip(stored, info.shape, strict=True))
        if any(size[a] != 1 for a in extra) or common != [a for a in self.axes if a in stored]:
            raise InputFileError(
                f"{path}: expected an image with axes {self.axes!r}, found axes {stored!r} "
                f"with shape {info.shape}."
            )
        self.shape = tuple(size.get(a, 1) for a in self.axes)
        self.dtype = info.dtype
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"ImageView({str(self.path)!r}, axes={self.axes!r}, shape={self.shape})"

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        data = self[...]
        return data if dtype is None else data.astype(dtype, copy=False)

    def __getitem__(self, key: Any) -> np.ndarray:
        key = _expand(key, self.shape, self.path)
        by_axis = dict(zip(self.axes, key, strict=True))
        stored = self.info.axes
        data = _read(self._source, tuple(by_axis.get(a, 0) for a in stored))
        shape = [_length(k) for a, k in by_axis.items() if not isinstance(k, int)]
        return data.reshape(shape)


def _expand(key: Any, shape: tuple[int, ...], path: Path) -> tuple[Index, ...]:
    """A key as one integer, slice or list per axis, integers made non-negative."""
    key = key if isinstance(key, tuple) else (key,)
    if any(k is Ellipsis for k in key):
        at = next(i for i, k in enumerate(key) if k is Ellipsis)
        key = key[:at] + (slice(None),) * (len(shape) - len(key) + 1) + key[at + 1 :]
    if len(key) > len(shape):
        raise OpsflowError(f"{path}: {len(key)} indices for an image of {len(shape)} axes.")
    key = key + (slice(None),) * (len(shape) - len(key))
    out: list[Index] = []
    for k, n in zip(key, shape, strict=True):
        if isinstance(k, slice):
            out.append(slice(*k.indices(n)))
            continue
        values = np.asarray(k)
        if values.dtype.kind not in "iu" or values.ndim > 1:
            raise OpsflowError(f"{path}: index {k!r} is not an integer, a slice or a list.")
        if np.any((values < -n) | (values >= n)):
            raise OpsflowError(f"{path}: index {k!r} is outside an axis of length {n}.")
        values = np.where(values < 0, values + n, values)
        out.append(int(values) if values.ndim == 0 else [int(v) for v in values])
    return tuple(out)


def _length(k: Index) -> int:
    return len(k) if isinstance(k, list) else len(range(k.start, k.stop, k.step))


def _read(source: Any, key: tuple[Index, ...]) -> np.ndarray:
    """Read ``key`` from a Zarr array (its own orthogonal indexing) or a TIFF array-like.

    A TIFF reader takes slices only: each index is read as the slice that covers it and
    picked from the block, so a list of two channels reads the channels between them too
    (a TIFF plane is whole anyway; Zarr reads only the chunks named).
    """
    if hasattr(source, "oindex"):
        if any(isinstance(k, list) for k in key):
            return np.asarray(source.oindex[key])
        return np.asarray(source[key])
    # strided slices as lists: the TIFF reader reads whole rows, so it takes steps of 1
    key = tuple(
        list(range(k.start, k.stop, k.step)) if isinstance(k, slice) and k.step != 1 else k
        for k in key
    )
    covering = []
    for k in key:
        if isinstance(k, int):
            covering.append(slice(k, k + 1))
        elif isinstance(k, list):
            covering.append(slice(min(k), max(k) + 1) if k else slice(0, 0))
        else:
            covering.append(k)
    block = np.asarray(source[tuple(covering)])
    for axis in reversed(range(len(key))):  # last axis first: earlier axes keep their place
        k = key[axis]
        if isinstance(k, int):
            block = block.take(0, axis=axis)
        elif isinstance(k, list) and k:
            block = block.take([v - min(k) for v in k], axis=axis)
    return block


def open_image(
    path: str | os.PathLike[str],
    *,
    axes: str | None = None,
    level: int = 0,
    well: str | None = None,
    tile: int | str | None = None,
) -> ImageView:
    """Open a TIFF, an OME-Zarr image or label image, or a plate field, without reading it.

    ``axes`` (e.g. ``"yx"`` for a mask stored as ``(1, y, x)``) drops stored axes of size
    1 it does not name and adds size-1 axes it names that are not stored.
    """
    p = Path(path)
    if well is not None or tile is not None:
        p = plate_field(p, well, tile)
    info = image_info(p)
    if not 0 <= level < len(info.level_shapes):
        raise OpsflowError(
            f"{p}: level {level} does not exist; the image has levels 0 to "
            f"{len(info.level_shapes) - 1}."
        )
    if info.format == "tiff":
        source = open_tiff(p)
    else:
        source = multiscale_array(p, level)
    if level:
        info = _at_level(info, level)
    return ImageView(p, info, source, axes)


def _at_level(info: ImageInfo, level: int) -> ImageInfo:
    return replace(info, level_shapes=info.level_shapes[level:])


def read_image(
    path: str | os.PathLike[str],
    *,
    level: int = 0,
    region: Sequence[slice] | Mapping[str, slice] | None = None,
    well: str | None = None,
    tile: int | str | None = None,
) -> np.ndarray:
    """Read a TIFF or an OME-Zarr image (or label image) into a numpy array.

    Parameters
    ----------
    path
        A ``.tif``/``.tiff`` file, an OME-Zarr store, a label image inside one
        (``store.ome.zarr/labels/nuclei``), or a plate with ``well`` and ``tile``.
    level
        Pyramid level (OME-Zarr only; a TIFF has level 0).
    region
        Slices over the stored axes, as a tuple or a mapping such as
        ``{"y": slice(0, 256), "x": slice(0, 256)}``. Only the chunks it covers are read.
    well, tile
        A field of a plate: the well as the samples name it (``A1`` or ``A01``) and the
        tile number, or the field's name where it has cycles (``3c11``).

    Examples
    --------
    >>> import tempfile
    >>> from opsflow.io import write_tiff
    >>> image = np.arange(12, dtype=np.uint16).reshape(3, 4)
    >>> path = write_tiff(f"{tempfile.mkdtemp()}/tile.tiff", image, axes="yx")
    >>> read_image(path, region={"y": slice(0, 2), "x": slice(1, 3)})
    array([[1, 2],
           [5, 6]], dtype=uint16)
    """
    view = open_image(path, level=level, well=well, tile=tile)
    return view[region_key(region, view.axes, view.path)]

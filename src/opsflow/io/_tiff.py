"""TIFF reading and writing, the pipeline's compute format."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from opsflow.errors import InputFileError, InputFileNotFoundError, OpsflowError
from opsflow.io._atomic import atomic_path

__all__ = ["open_tiff", "read_tiff", "tiff_axes", "write_tiff"]


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise InputFileNotFoundError(f"{path}: expected a TIFF file, found nothing at that path.")
    if path.is_dir():
        raise InputFileError(f"{path}: expected a TIFF file, found a directory.")


def read_tiff(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a whole TIFF into memory, with a clear error for missing or corrupt files."""
    path = Path(path)
    _check_exists(path)
    try:
        return tifffile.imread(path)
    except Exception as exc:  # tifffile raises many types for corrupt files
        raise InputFileError(f"{path}: expected a readable TIFF file, found {exc}.") from exc


def _read_into(fd: int, buf: np.ndarray, offset: int, path: Path) -> None:
    """Fill ``buf`` from ``offset``; the kernel may return fewer bytes than asked for."""
    view = memoryview(buf).cast("B")
    done = 0
    while done < len(view):
        got = os.preadv(fd, [view[done:]], offset + done)
        if got == 0:
            raise InputFileError(f"{path}: expected {len(view)} bytes at {offset}, file is short.")
        done += got


class _ContiguousTiff:
    """Array-like over an uncompressed, contiguous TIFF series that reads with ``pread``.

    Unlike a memory map, the pages it reads are not mapped into the process, so reading a
    large file band by band keeps the resident memory bounded.
    """

    def __init__(self, path: Path, offset: int, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.path = path
        self.offset = offset
        self.shape = shape
        self.dtype = dtype.newbyteorder("=")
        self._file_dtype = dtype
        self.ndim = len(shape)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self[(slice(None),) * self.ndim]

    def __getitem__(self, key: Any) -> np.ndarray:
        if not isinstance(key, tuple):
            key = (key,)
        key = key + (slice(None),) * (self.ndim - len(key))
        if any(not isinstance(k, slice) for k in key) or len(key) != self.ndim:
            raise TypeError("only tuples of slices are supported")
        ranges = [range(*k.indices(n)) for k, n in zip(key, self.shape, strict=True)]
        *lead, rows, cols = ranges
        if rows.step != 1:
            raise TypeError("row slices must have step 1")
        row_bytes = self.shape[-1] * self.dtype.itemsize
        out = np.empty([len(r) for r in ranges], dtype=self.dtype)
        strides = np.cumprod((1, *self.shape[::-1][:-1]))[::-1]  # element strides per axis
        direct = len(cols) == self.shape[-1] and cols.step == 1 and self._file_dtype == self.dtype
        fd = os.open(self.path, os.O_RDONLY)
        try:
            for idx in np.ndindex(*[len(r) for r in lead]):
                first = sum(
                    int(r[i]) * int(s) for r, i, s in zip(lead, idx, strides[:-2], strict=True)
                )
                first += rows.start * self.shape[-1] if len(rows) else 0
                nbytes = len(rows) * row_bytes
                start = self.offset + first * self.dtype.itemsize
                # whole rows in the native byte order go straight into place
                buf = out[idx] if direct else np.empty(nbytes, dtype=np.uint8)
                _read_into(fd, buf, start, self.path)
                if not direct:
                    plane = buf.view(self._file_dtype).reshape(len(rows), -1)
                    out[idx] = plane[:, cols.start : cols.stop : cols.step] if len(cols) else 0
        finally:
            os.close(fd)
        return out


class _ChunkedTiff:
    """Array-like over a compressed or tiled TIFF: decodes only the strips a slice touches.

    The file is opened for each read and closed after it, so no handle outlives a call.
    """

    def __init__(self, path: Path, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.path = path
        self.shape = shape
        self.dtype = dtype
        self.ndim = len(shape)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self[(slice(None),) * self.ndim]

    def __getitem__(self, key: Any) -> np.ndarray:
        import zarr

        with tifffile.TiffFile(self.path) as tif, tif.series[0].aszarr() as store:
            return np.asarray(zarr.open_array(store, mode="r")[key])


def open_tiff(path: str | os.PathLike[str]) -> Any:
    """Open a TIFF lazily: an array-like that reads only the planes and rows it is sliced for.

    Uncompressed contiguous files are read with ``pread`` (no memory map, so resident
    memory stays bounded); other layouts go through tifffile's Zarr store, which decodes
    only the strips or tiles a slice touches.
    """
    path = Path(path)
    _check_exists(path)
    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            offset = series.dataoffset
            shape = tuple(series.shape)
            dtype = np.dtype(series.dtype).newbyteorder(tif.byteorder)
        if offset is not None and len(shape) >= 2:
            return _ContiguousTiff(path, offset, shape, dtype)
        return _ChunkedTiff(path, shape, dtype.newbyteorder("="))
    except OpsflowError:
        raise
    except Exception as exc:
        raise InputFileError(f"{path}: expected a readable TIFF file, found {exc}.") from exc


def tiff_axes(path: str | os.PathLike[str]) -> str:
    """Axes letters tifffile reports for the first series, e.g. ``"CYX"`` or ``"QQYX"``."""
    path = Path(path)
    _check_exists(path)
    try:
        with tifffile.TiffFile(path) as tif:
            return tif.series[0].axes
    except Exception as exc:
        raise InputFileError(f"{path}: expected a readable TIFF file, found {exc}.") from exc


def write_tiff(
    path: str | os.PathLike[str],
    image: np.ndarray,
    *,
    axes: str | None = None,
    compression: str | None = None,
) -> Path:
    """Write ``image`` as a TIFF atomically (temporary sibling, then rename).

    The shape (and ``axes``, e.g. ``"tcyx"``, where given) is stored in the description so
    readers get the array back with its dimensions. Uncompressed by default, so later
    steps can read bands of it without decoding the whole file.
    """
    path = Path(path)
    image = np.asarray(image)
    metadata: dict[str, Any] = {}
    if axes is not None:
        if len(axes) != image.ndim:
            raise OpsflowError(f"{path}: axes {axes!r} do not match the image shape {image.shape}.")
        metadata["axes"] = axes.upper()
    with atomic_path(path) as tmp:
        tifffile.imwrite(
            tmp, image, compression=compression, metadata=metadata, photometric="minisblack"
        )
    return path

"""TIFF reading and writing, the pipeline's compute format."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from opsflow.errors import InputFileError, InputFileNotFoundError
from opsflow.io._atomic import atomic_path

__all__ = ["open_tiff", "read_tiff", "write_tiff"]


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


def open_tiff(path: str | os.PathLike[str]) -> Any:
    """Open a TIFF lazily: an array-like that reads only the pages or tiles it is sliced for.

    Uncompressed contiguous files are memory-mapped (zero-copy); other layouts go through
    tifffile's Zarr store, which decodes only the strips or tiles a slice touches.
    """
    path = Path(path)
    _check_exists(path)
    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            contiguous = series.dataoffset is not None
        if contiguous:
            return tifffile.memmap(path, mode="r")
        import zarr

        store = tifffile.imread(path, aszarr=True)
        return zarr.open_array(store, mode="r")
    except Exception as exc:
        raise InputFileError(f"{path}: expected a readable TIFF file, found {exc}.") from exc


def write_tiff(
    path: str | os.PathLike[str],
    image: np.ndarray,
    *,
    compression: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write ``image`` as a TIFF atomically (temporary sibling, then rename).

    Uncompressed by default so downstream steps can memory-map it.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        tifffile.imwrite(
            tmp,
            np.asarray(image),
            compression=compression,
            metadata=metadata,
            photometric="minisblack",
        )
    return path

"""Headers of raw microscope files: shape, dtype and metadata without reading the pixels.

The preflight check opens every raw file of a screen before the first job; reading only
headers keeps that to seconds for ten thousand files. A TIFF whose page chain or pixel
data runs past the end of the file is reported as truncated here, instead of being read
as a smaller image that fails many jobs later.
"""

from __future__ import annotations

import logging
import os
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

from opsflow.errors import InputFileError
from opsflow.io._raw import _TIFF_SUFFIXES, _check_file, nd2_metadata, tiff_metadata

__all__ = ["RawHeader", "read_raw_header"]


@dataclass(frozen=True)
class RawHeader:
    """What a raw file says about itself; the fields of :class:`RawImage` without data."""

    path: Path
    shape: tuple[int, ...]
    dtype: np.dtype
    axes: str
    channel_names: tuple[str, ...] | None = None
    pixel_size_um: tuple[float, float] | None = None
    stage_position_um: tuple[float, float, float] | None = None


class _TiffComplaints(logging.Filter):
    """tifffile logs (rather than raises) broken page chains: keep this thread's records.

    A logger filter sees a record before any handler: records of the reading thread are
    kept here and dropped, so the problem is reported once, in the preflight's sentence.
    """

    def __init__(self) -> None:
        super().__init__()
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.thread != self.thread:
            return True
        if record.levelno >= logging.WARNING:
            self.messages.append(record.getMessage())
        return False


def _data_end(page: tifffile.TiffPage) -> int:
    pairs = zip(page.dataoffsets, page.databytecounts, strict=True)
    return max((offset + count for offset, count in pairs), default=0)


def _ome_layout(root: ET.Element) -> tuple[tuple[int, ...], str, int] | None:
    """Shape, axes and plane count of a single-image OME-TIFF, from its XML alone.

    Building tifffile's series of an OME file parses every page and costs most of a
    header read; the XML states the same sizes. Files with several images (positions)
    return None and go through tifffile's series.
    """
    images = [el for el in root if el.tag.rsplit("}", 1)[-1] == "Image"]
    pixels = [el for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "Pixels"]
    if len(images) != 1 or len(pixels) != 1:
        return None
    px = pixels[0]
    sizes = {a: int(px.get(f"Size{a}", 1)) for a in "XYZCT"}
    order = px.get("DimensionOrder", "XYCZT")[::-1]  # slowest first, e.g. TZCYX
    leading = [a for a in order if a not in "XY" and sizes[a] > 1]
    shape = (*(sizes[a] for a in leading), sizes["Y"], sizes["X"])
    return shape, "".join(leading) + "YX", sizes["Z"] * sizes["C"] * sizes["T"]


def _tiff_layout(
    tif: tifffile.TiffFile, ome: ET.Element | None
) -> tuple[tuple[int, ...], np.dtype, str, list]:
    """Shape, dtype, axes and the pages holding pixels; the OME fast path where it applies."""
    layout = _ome_layout(ome) if ome is not None else None
    if layout is None:
        series = tif.series[0]
        pages = [p for p in series.pages if p is not None]
        return tuple(series.shape), np.dtype(series.dtype), series.axes, pages
    shape, axes, planes = layout
    try:
        last = tif.pages[planes - 1]  # follows the page chain without parsing every page
    except IndexError:
        last = None
    if last is None:
        raise InputFileError(
            f"{tif.filehandle.path}: expected a complete TIFF, found fewer than the {planes} "
            "planes its OME metadata lists (truncated copy?)."
        )
    first = tif.pages.first
    return shape, np.dtype(first.dtype), axes, [first, last]


def _tiff_header(path: Path) -> RawHeader:
    complaints = _TiffComplaints()
    logger = logging.getLogger("tifffile")
    logger.addFilter(complaints)
    try:
        with tifffile.TiffFile(path) as tif:
            xml = tif.ome_metadata if tif.is_ome else None
            ome = ET.fromstring(xml) if xml else None
            shape, dtype, axes, pages = _tiff_layout(tif, ome)
            ends = [_data_end(p) for p in pages]
            meta = tiff_metadata(tif, ome)
    finally:
        logger.removeFilter(complaints)
    if complaints.messages or (ends and max(ends) > os.path.getsize(path)):
        detail = complaints.messages[0] if complaints.messages else "pixel data past the end"
        raise InputFileError(
            f"{path}: expected a complete TIFF, found a file that ends early (truncated "
            f"copy?): {detail}."
        )
    axes = axes.replace("S", "C") if "C" not in axes else axes
    return RawHeader(path=path, shape=shape, dtype=dtype, axes=axes, **meta)


def _nd2_header(path: Path) -> RawHeader:
    import nd2

    with nd2.ND2File(path) as f:
        sizes = dict(f.sizes)
        for axis, meaning in (("T", "time point"), ("P", "stage position")):
            if sizes.get(axis, 1) != 1:
                raise InputFileError(
                    f"{path}: expected one {meaning} per ND2 file (one tile), found "
                    f"{axis}={sizes[axis]}."
                )
        sizes = {a: n for a, n in sizes.items() if a not in "TP"}
        return RawHeader(
            path=path,
            shape=tuple(sizes.values()),
            dtype=np.dtype(f.dtype),
            axes="".join(sizes),
            **nd2_metadata(f, path),
        )


def read_raw_header(path: str | os.PathLike[str]) -> RawHeader:
    """Read a raw TIFF or ND2 file's header; a one-sentence ``InputFileError`` if unusable."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (*_TIFF_SUFFIXES, ".nd2"):
        raise InputFileError(
            f"{path}: expected a raw image ending in .nd2, .tif or .tiff, found suffix {suffix!r}."
        )
    _check_file(path, "a raw image")
    try:
        return _nd2_header(path) if suffix == ".nd2" else _tiff_header(path)
    except InputFileError:
        raise
    except Exception as exc:  # the readers raise many types for corrupt files
        raise InputFileError(f"{path}: expected a readable raw image, found {exc}.") from exc

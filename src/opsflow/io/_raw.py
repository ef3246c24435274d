"""Reading raw microscope files (TIFF, OME-TIFF, ImageJ TIFF, ND2) with their metadata.

The readers return the pixels exactly as stored, the axes as named by the file, and the
acquisition metadata the pipeline needs (channel names, pixel size, stage position),
``None`` where the file does not say. Turning this into the pipeline's (C, Y, X) tiles
is ``opsflow.preprocess``'s job; this module only reads.
"""

from __future__ import annotations

import logging
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from opsflow.errors import InputFileError, InputFileNotFoundError

__all__ = ["RawImage", "raw_image_from_nd2", "read_raw_image", "read_raw_nd2", "read_raw_tiff"]

logger = logging.getLogger(__name__)

_TIFF_SUFFIXES = (".tif", ".tiff")
_LENGTH_TO_UM = {
    "µm": 1.0,
    "um": 1.0,
    "micron": 1.0,
    "microns": 1.0,
    "\\u00B5m": 1.0,
    "nm": 1e-3,
    "mm": 1e3,
    "m": 1e6,
}


@dataclass(frozen=True)
class RawImage:
    """Pixels and acquisition metadata of one raw microscope file.

    Attributes
    ----------
    data : numpy.ndarray
        Pixels as stored, dimensions named by ``axes``.
    axes : str
        One letter per dimension of ``data``: ``T`` time, ``P`` stage position, ``Z``,
        ``C`` channel, ``Y``, ``X``; ``Q``/``I`` for an axis the file does not name.
    path : pathlib.Path
        The file read.
    channel_names : tuple of str or None
        Channel names in stored order, if the file records them.
    pixel_size_um : tuple of float or None
        (y, x) pixel size in micrometres, if the file records it.
    stage_position_um : tuple of float or None
        (x, y, z) stage position in micrometres (z may be NaN), if recorded.
    """

    data: np.ndarray
    axes: str
    path: Path
    channel_names: tuple[str, ...] | None = None
    pixel_size_um: tuple[float, float] | None = None
    stage_position_um: tuple[float, float, float] | None = None


def _check_file(path: Path, what: str) -> None:
    if not path.exists():
        raise InputFileNotFoundError(f"{path}: expected {what}, found nothing at that path.")
    if path.is_dir():
        raise InputFileError(f"{path}: expected {what}, found a directory.")


def read_raw_image(path: str | os.PathLike[str]) -> RawImage:
    """Read a raw TIFF or ND2 file, chosen by its suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".nd2":
        return read_raw_nd2(path)
    if suffix in _TIFF_SUFFIXES:
        return read_raw_tiff(path)
    raise InputFileError(
        f"{path}: expected a raw image ending in .nd2, .tif or .tiff, found suffix {suffix!r}."
    )


# --------------------------------------------------------------------------- TIFF


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _to_um(value: str | None, unit: str | None) -> float | None:
    if value is None:
        return None
    factor = _LENGTH_TO_UM.get(unit or "µm")
    if factor is None:
        logger.warning("unknown length unit %r in OME metadata; reading it as micrometres", unit)
        factor = 1.0
    return float(value) * factor


def _parse_ome(xml: str | ET.Element) -> dict[str, Any]:
    """Pull channel names, pixel size and the first plane's stage position from OME-XML."""
    root = ET.fromstring(xml) if isinstance(xml, str) else xml
    pixels = next((el for el in root.iter() if _local(el.tag) == "Pixels"), None)
    if pixels is None:
        return {}
    out: dict[str, Any] = {}
    sx = _to_um(pixels.get("PhysicalSizeX"), pixels.get("PhysicalSizeXUnit"))
    sy = _to_um(pixels.get("PhysicalSizeY"), pixels.get("PhysicalSizeYUnit"))
    if sx is not None and sy is not None:
        out["pixel_size_um"] = (sy, sx)
    names = [el.get("Name") for el in pixels if _local(el.tag) == "Channel"]
    if names and all(names):
        out["channel_names"] = tuple(str(n) for n in names)
    plane = next((el for el in pixels if _local(el.tag) == "Plane"), None)
    if plane is not None and plane.get("PositionX") is not None:
        x = _to_um(plane.get("PositionX"), plane.get("PositionXUnit"))
        y = _to_um(plane.get("PositionY"), plane.get("PositionYUnit"))
        z = _to_um(plane.get("PositionZ"), plane.get("PositionZUnit"))
        out["stage_position_um"] = (x, y, np.nan if z is None else z)
    return out


def _imagej_pixel_size(tif: tifffile.TiffFile) -> tuple[float, float] | None:
    meta = tif.imagej_metadata or {}
    unit = str(meta.get("unit", "")).replace("\\u00B5", "µ")
    if _LENGTH_TO_UM.get(unit) is None:
        return None
    page = tif.pages.first
    try:
        xn, xd = page.tags["XResolution"].value
        yn, yd = page.tags["YResolution"].value
    except KeyError:
        return None
    if not (xn and yn):
        return None
    factor = _LENGTH_TO_UM[unit]
    return (factor * yd / yn, factor * xd / xn)


def tiff_metadata(tif: tifffile.TiffFile, ome: ET.Element | None = None) -> dict[str, Any]:
    """Channel names, pixel size and stage position an open TIFF records (OME or ImageJ).

    ``ome`` is the file's OME-XML already parsed, where the caller has it.
    """
    if ome is not None:
        return _parse_ome(ome)
    if tif.is_ome and tif.ome_metadata:
        return _parse_ome(tif.ome_metadata)
    meta: dict[str, Any] = {}
    if tif.is_imagej:
        size = _imagej_pixel_size(tif)
        if size is not None:
            meta["pixel_size_um"] = size
    return meta


def read_raw_tiff(path: str | os.PathLike[str]) -> RawImage:
    """Read a raw TIFF (plain, OME-TIFF or ImageJ hyperstack) with whatever metadata it has.

    OME-TIFF gives channel names, pixel size and stage position; ImageJ TIFF gives the
    pixel size from its resolution tags; a plain TIFF gives pixels only, and the caller
    falls back to the configuration.
    """
    path = Path(path)
    _check_file(path, "a raw TIFF image")
    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            data = series.asarray()
            axes = series.axes
            meta = tiff_metadata(tif)
    except (InputFileError, InputFileNotFoundError):
        raise
    except Exception as exc:  # tifffile and ElementTree raise many types for bad files
        raise InputFileError(f"{path}: expected a readable TIFF image, found {exc}.") from exc
    axes = axes.replace("S", "C") if "C" not in axes else axes
    return RawImage(data=data, axes=axes, path=path, **meta)


# --------------------------------------------------------------------------- ND2


def nd2_metadata(f: Any, path: Path) -> dict[str, Any]:
    """Channel names, pixel size and stage position of an open ND2 file (None if absent)."""
    channel_names = None
    try:
        channel_names = tuple(str(ch.channel.name) for ch in f.metadata.channels)
    except (AttributeError, TypeError):
        logger.warning("%s: no channel names in the ND2 metadata", path)
    pixel_size = None
    try:
        voxel = f.voxel_size()
        if voxel.x > 0 and voxel.y > 0:
            pixel_size = (float(voxel.y), float(voxel.x))
    except (AttributeError, TypeError, ValueError):
        logger.warning("%s: no pixel size in the ND2 metadata", path)
    stage = None
    try:
        position = f.frame_metadata(0).channels[0].position.stagePositionUm
        stage = (float(position[0]), float(position[1]), float(position[2]))
    except (AttributeError, IndexError, TypeError, ValueError):
        logger.warning("%s: no stage position in the ND2 frame metadata", path)
    return {
        "channel_names": channel_names,
        "pixel_size_um": pixel_size,
        "stage_position_um": stage,
    }


def raw_image_from_nd2(f: Any, path: str | os.PathLike[str]) -> RawImage:
    """Turn an open ``nd2.ND2File`` (or anything with its interface) into a :class:`RawImage`.

    Uses ``f.sizes`` (ordered axis sizes), ``f.asarray()``, ``f.metadata.channels[i].channel
    .name``, ``f.voxel_size()`` and ``f.frame_metadata(0).channels[0].position
    .stagePositionUm``. A file with several time points or stage positions is refused:
    the pipeline expects one tile per file. Missing metadata is ``None``, not an error,
    so the configuration can supply it.
    """
    path = Path(path)
    sizes = dict(f.sizes)
    data = np.asarray(f.asarray())
    if data.shape != tuple(sizes.values()):
        raise InputFileError(
            f"{path}: expected pixel data of shape {tuple(sizes.values())} from the ND2 axis "
            f"sizes {sizes}, found {data.shape}."
        )
    axes = "".join(sizes)
    for axis, meaning in (("T", "time point"), ("P", "stage position")):
        if axis in axes:
            n = sizes[axis]
            if n != 1:
                raise InputFileError(
                    f"{path}: expected one {meaning} per ND2 file (one tile), found {axis}={n}."
                )
            data = data.squeeze(axis=axes.index(axis))
            axes = axes.replace(axis, "")
    if "S" in axes:
        raise InputFileError(f"{path}: expected a monochrome ND2 file, found RGB components.")

    return RawImage(data=data, axes=axes, path=path, **nd2_metadata(f, path))


def read_raw_nd2(path: str | os.PathLike[str]) -> RawImage:
    """Read a Nikon ND2 file through the ``nd2`` package (one tile per file)."""
    path = Path(path)
    _check_file(path, "a Nikon ND2 file")
    try:
        import nd2
    except ImportError as exc:  # pragma: no cover - nd2 is a declared dependency
        raise InputFileError(
            f"{path}: reading ND2 needs the 'nd2' package; install it with pip install nd2."
        ) from exc
    try:
        with nd2.ND2File(path) as f:
            return raw_image_from_nd2(f, path)
    except (InputFileError, InputFileNotFoundError):
        raise
    except Exception as exc:  # nd2 raises several types for corrupt or non-ND2 files
        raise InputFileError(f"{path}: expected a readable ND2 file, found {exc}.") from exc

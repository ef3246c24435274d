"""TIFF to OME-Zarr export, and patching of channel metadata in existing stores."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from opsflow.errors import InputFileError, OpsflowError, OutputError, OutputExistsError
from opsflow.io import _ngff
from opsflow.io._atomic import atomic_path
from opsflow.io._options import ExportOptions
from opsflow.io._plan import ArrayLike
from opsflow.io._reader import image_info, ngff_attributes, open_store
from opsflow.io._stream import ProgressCallback
from opsflow.io._tiff import open_tiff
from opsflow.io._writer import write_multiscale_omezarr

__all__ = ["ensure_omero_channel_colors", "export_tiff_to_omezarr", "ngff_view"]


class _AxesView:
    """Lazy view of an array-like with its axes reordered and missing ones added as size 1.

    Lets the writer stream a YXC or YX TIFF as CYX without reading it whole.
    """

    def __init__(self, source: ArrayLike, source_axes: str, axes: str) -> None:
        self.source = source
        self.source_axes = source_axes
        self.axes = axes
        self.dtype = np.dtype(source.dtype)
        self.shape = tuple(
            source.shape[source_axes.index(a)] if a in source_axes else 1 for a in axes
        )
        self.ndim = len(self.shape)

    def __getitem__(self, key: tuple[slice, ...]) -> np.ndarray:
        key = tuple(key) + (slice(None),) * (self.ndim - len(key))
        src_key = tuple(key[self.axes.index(a)] for a in self.source_axes)
        data = np.asarray(self.source[src_key])
        present = [a for a in self.axes if a in self.source_axes]
        data = np.transpose(data, [self.source_axes.index(a) for a in present])
        out_shape = [
            data.shape[present.index(a)] if a in present else len(range(*k.indices(1)))
            for a, k in zip(self.axes, key, strict=True)
        ]
        return data.reshape(out_shape)


def ngff_view(
    source: ArrayLike, *, source_axes: str | None = None, path: Path | None = None
) -> tuple[ArrayLike, str]:
    """Present an array with NGFF axes (t, c, z, y, x order, always with ``c``).

    ``source_axes`` names the stored axes (e.g. ``"yxc"``); without it, 2-D is YX, 3-D is
    CYX unless the last axis is small (at most 4) and smaller than the other two (YXC,
    as in RGB files), 4-D is (cycle, channel, Y, X) and 5-D is TCZYX.
    """
    shape = tuple(source.shape)
    where = f"{path}: " if path else ""
    if source_axes is None:
        if len(shape) == 3 and shape[2] <= 4 and shape[2] < min(shape[:2]):
            source_axes = "yxc"
        else:
            source_axes = {2: "yx", 3: "cyx", 4: "tcyx", 5: "tczyx"}.get(len(shape), "")
        if not source_axes:
            raise InputFileError(
                f"{where}expected an image with 2 to 5 dimensions (YX, CYX, YXC, TCYX or "
                f"TCZYX), found {len(shape)} dimensions with shape {shape}."
            )
    source_axes = source_axes.lower()
    if len(source_axes) != len(shape) or sorted(source_axes) != sorted(set(source_axes)):
        raise OpsflowError(f"{where}axes {source_axes!r} do not match the image shape {shape}.")
    if not set(source_axes) <= set(_ngff.AXIS_ORDER) or not {"y", "x"} <= set(source_axes):
        raise OpsflowError(f"{where}axes {source_axes!r} must name y, x and some of t, c, z.")
    axes = "".join(a for a in _ngff.AXIS_ORDER if a in source_axes or a == "c")
    if axes == source_axes:
        return source, axes
    return _AxesView(source, source_axes, axes), axes


def _label_name(label_metadata: Mapping[str, Any] | None, tiff_path: Path) -> str:
    if label_metadata and label_metadata.get("name"):
        return str(label_metadata["name"])
    return tiff_path.name.split(".")[0].split("__")[-1] or "labels"


def export_tiff_to_omezarr(
    tiff_path: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    pixel_size: Sequence[float] = (1.0, 1.0),
    options: ExportOptions | None = None,
    channel_labels: Sequence[str] | None = None,
    label_metadata: Mapping[str, Any] | None = None,
    labels: Mapping[str, str | os.PathLike[str]] | None = None,
    axes: str | None = None,
    name: str | None = None,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> Path:
    """Export a TIFF (and optional mask TIFFs) as a multiscale OME-Zarr store.

    Parameters
    ----------
    tiff_path
        Image to export. Axes are normalised: YX becomes CYX, YXC becomes CYX,
        (cycle, channel, Y, X) becomes TCYX; pass ``axes`` to say what the file holds.
    output_dir
        The store path when it ends in ``.zarr`` or lies inside a store (a plate field,
        ``plate.ome.zarr/A/1/0``); otherwise the directory in which
        ``{tiff stem}.ome.zarr`` is created.
    pixel_size, options, channel_labels
        As in :func:`write_multiscale_omezarr`; ``options.chunk_shape`` applies to the
        trailing axes of the normalised image.
    label_metadata
        When given, the TIFF itself is an integer mask: the store's image is the mask and
        the same mask is written as the label image ``label_metadata["name"]`` (default:
        the part of the file name after ``__``), so viewers draw it as labels.
    labels
        Mask TIFFs to attach as label images, ``{"nuclei": path, "cells": path}``.
    axes
        What the file holds, e.g. ``"yxc"``; default: as recorded in the file, else guessed.
    name
        Name in the metadata; default the store's (or field's) name.
    workers, progress
        Passed to the writer.

    Returns
    -------
    Path
        The store that was written.
    """
    tiff_path = Path(tiff_path)
    out = Path(output_dir)
    if out.suffix != ".zarr" and not any(p.suffix == ".zarr" for p in out.parents):
        out = out / f"{tiff_path.name.split('.')[0]}.ome.zarr"
    stored_axes = axes or _stored_axes(tiff_path)
    source, ngff_axes = ngff_view(open_tiff(tiff_path), source_axes=stored_axes, path=tiff_path)
    masks = _masks(source, tiff_path, label_metadata, labels or {})
    try:
        return write_multiscale_omezarr(
            source,
            out,
            axes=ngff_axes,
            pixel_size=pixel_size,
            options=options,
            channel_labels=channel_labels,
            labels=masks,
            name=name,
            workers=workers,
            progress=progress,
        )
    except OpsflowError as exc:
        if str(tiff_path) in str(exc) or isinstance(exc, OutputError | OutputExistsError):
            raise  # names its file already (the input, or the output it cannot write)
        raise type(exc)(f"{tiff_path}: {exc}") from exc


def _masks(
    source: ArrayLike,
    tiff_path: Path,
    label_metadata: Mapping[str, Any] | None,
    labels: Mapping[str, str | os.PathLike[str]],
) -> dict[str, ArrayLike]:
    """The label images of an export: the image itself (a mask) and/or mask TIFFs."""
    found = {} if label_metadata is None else {_label_name(label_metadata, tiff_path): source}
    found.update({lname: open_tiff(lpath) for lname, lpath in labels.items()})
    paths = {lname: Path(labels.get(lname, tiff_path)) for lname in found}
    for lname, mask in found.items():
        if np.dtype(mask.dtype).kind not in "ui":
            raise InputFileError(
                f"{paths[lname]}: expected an integer label mask, found dtype {mask.dtype}."
            )
    return {lname: _squeeze_mask(mask, paths[lname]) for lname, mask in found.items()}


def _stored_axes(path: Path) -> str | None:
    info = image_info(path)
    return info.axes if info.axes and len(info.axes) == len(info.shape) else None


def _squeeze_mask(mask: ArrayLike, path: Path) -> np.ndarray:
    """A mask as (Y, X): size-1 leading axes dropped; anything else is refused."""
    shape = tuple(mask.shape)
    if len(shape) < 2 or any(n != 1 for n in shape[:-2]):
        raise InputFileError(f"{path}: expected a 2-D label mask (Y, X), found shape {shape}.")
    return np.asarray(mask[(slice(None),) * len(shape)]).reshape(shape[-2:])


def ensure_omero_channel_colors(
    store: str | os.PathLike[str], channel_labels: Sequence[str] | None = None
) -> Path:
    """Give every channel of an existing store a distinct colour and, if given, its label.

    Colours that are already present, valid and distinct are kept; only missing, invalid or
    duplicated ones are replaced. Everything else in the metadata is left as it was. The
    metadata file is rewritten through a temporary sibling.
    """
    path = Path(store)
    group = open_store(path)
    ome, version = ngff_attributes(group)
    ms = ome.get("multiscales")
    if not ms:
        raise InputFileError(f"{path}: expected OME-Zarr multiscales metadata, found none.")
    axes = "".join(a["name"] if isinstance(a, dict) else str(a) for a in ms[0]["axes"])
    shape = group[ms[0]["datasets"][0]["path"]].shape
    n = shape[axes.index("c")] if "c" in axes else 1
    if channel_labels is not None and len(channel_labels) != n:
        raise OpsflowError(f"{path}: {len(channel_labels)} channel labels given for {n} channels.")
    omero = dict(ome.get("omero") or {})
    channels = [dict(c) for c in omero.get("channels", [])][:n]
    while len(channels) < n:
        channels.append({})
    palette = _ngff.channel_colors(n + 8)
    used: set[str] = set()
    for i, ch in enumerate(channels):
        color = str(ch.get("color", "")).upper()
        valid = len(color) == 6 and all(c in "0123456789ABCDEF" for c in color)
        if not valid or color in used:
            color = next(c for c in palette if c not in used)
        used.add(color)
        ch["color"] = color
        if channel_labels is not None:
            ch["label"] = str(channel_labels[i])
        ch.setdefault("label", f"Channel {i}")
        ch.setdefault("active", True)
        if "window" not in ch:
            dtype = np.dtype(group[ms[0]["datasets"][0]["path"]].dtype)
            top = float(np.iinfo(dtype).max) if dtype.kind in "ui" else 1.0
            ch["window"] = {"min": 0.0, "max": top, "start": 0.0, "end": top}
    omero["channels"] = channels
    ome["omero"] = omero
    _rewrite_attributes(path, ome, version or "0.5")
    return path


def _rewrite_attributes(path: Path, ome: dict[str, Any], version: str) -> None:
    """Replace a group's NGFF attributes, writing the metadata file atomically."""
    if (path / "zarr.json").exists():
        meta_file = path / "zarr.json"
        meta = json.loads(meta_file.read_text())
        attrs = meta.get("attributes", {})
        attrs["ome"] = ome
        meta["attributes"] = attrs
    else:
        meta_file = path / ".zattrs"
        meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
        meta.update(ome)
    with atomic_path(meta_file) as tmp:
        tmp.write_text(json.dumps(meta, indent=2))

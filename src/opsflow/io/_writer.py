"""Streaming multiscale OME-Zarr writer (images and label images).

The writer never holds a whole image plus its pyramid: it reads level 0 in bands of whole
chunk rows, writes them, and pushes each band down a cascade of per-level buffers that
coarsen it and write whole chunk rows of every coarser level as soon as they are complete.
It is assembled from parts, each with one job: the plan (every check and every shape,
``_plan``), the level arrays (``_arrays``), the streaming loop (``_stream``), and the
statistics and metadata written after the data (``_stats``, ``_metadata``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import zarr

from opsflow.errors import OutputExistsError
from opsflow.io._arrays import create_levels
from opsflow.io._atomic import atomic_path
from opsflow.io._metadata import write_metadata
from opsflow.io._options import ExportOptions
from opsflow.io._plan import ArrayLike, ArrayPlan, WritePlan, plan_write
from opsflow.io._pyramid import block_mean, block_mode
from opsflow.io._stats import Collector
from opsflow.io._stream import ProgressCallback, StreamJob, stream_jobs

__all__ = ["ArrayLike", "ProgressCallback", "write_multiscale_omezarr"]

log = logging.getLogger(__name__)


def _job(group: zarr.Group, array: ArrayPlan, plan: WritePlan) -> StreamJob:
    """Create the level arrays of one image in ``group``; return the job that fills them.

    Intensities are coarsened by block mean and give channel windows; labels by block
    mode (no value is ever invented) and give the set of values present.
    """
    channel_axis = None if array.is_label else plan.channel_axis
    return StreamJob(
        source=array.source,
        writers=create_levels(group, array, plan),
        reduce=block_mode if array.is_label else block_mean,
        collector=Collector(array.shape, channel_axis, is_label=array.is_label),
        channel_axis=channel_axis,
    )


def _open_jobs(
    root: zarr.Group, plan: WritePlan
) -> tuple[StreamJob, dict[str, tuple[zarr.Group, StreamJob]]]:
    """Create every level array of the store; return the jobs that fill them.

    The image's job, and per label image (each in its own group under ``labels``, in the
    plan's order) its group, which the metadata goes into later, and its job.
    """
    image = _job(root, plan.image, plan)
    labels: dict[str, tuple[zarr.Group, StreamJob]] = {}
    if plan.labels:
        labels_group = root.create_group("labels")
        for lname, label in plan.labels.items():
            group = labels_group.create_group(lname)
            labels[lname] = (group, _job(group, label, plan))
    return image, labels


def _write_store(
    path: Path, plan: WritePlan, workers: int | None, progress: ProgressCallback | None
) -> None:
    """Create, fill and describe the store at ``path``: arrays, then data, then metadata.

    Metadata comes last because the omero windows and label colours are computed from
    the data as it streams.
    """
    root = zarr.open_group(str(path), mode="w", zarr_format=plan.zarr_format)
    image_job, label_jobs = _open_jobs(root, plan)
    stream_jobs(
        [image_job, *(job for _, job in label_jobs.values())],
        plan.image.units[0],
        factor=plan.options.coarsening_factor,
        workers=workers,
        progress=progress,
    )
    label_stats = {n: (group, job.collector) for n, (group, job) in label_jobs.items()}
    write_metadata(root, plan, image_job.collector, label_stats)


def write_multiscale_omezarr(
    image: ArrayLike,
    output: str | os.PathLike[str],
    *,
    axes: str,
    pixel_size: Sequence[float] | Mapping[str, float] = (1.0, 1.0),
    options: ExportOptions | None = None,
    channel_labels: Sequence[str] | None = None,
    colors: Sequence[str] | None = None,
    labels: Mapping[str, ArrayLike] | None = None,
    label_properties: Mapping[str, Mapping[int, Mapping[str, Any]]] | None = None,
    name: str | None = None,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> Path:
    """Write an image, its pyramid and optional label images as one OME-Zarr store.

    Parameters
    ----------
    image
        Array-like with axes ``axes``; read band by band, so a memory map or a lazy TIFF
        reader keeps memory bounded.
    output
        Store path (conventionally ``*.ome.zarr``). Written to a temporary sibling and
        renamed into place, so an existing store survives any failure.
    axes
        Lowercase NGFF axes in t, c, z, y, x order, ending in ``yx`` (e.g. ``"tcyx"``).
        Cycles of an SBS stack go on ``t``.
    pixel_size
        Micrometres per pixel of the space axes, as (y, x), (z, y, x) or a mapping.
    options
        Chunks, pyramid, NGFF version and compression; default ``ExportOptions()``. Each
        level is the block mean (labels: block mode) of the previous one.
    channel_labels, colors
        One name and one hex ``RRGGBB`` colour per channel; defaults ``Channel 0``... and
        distinct colours.
    labels
        Integer masks written as NGFF label images under ``labels/{name}``, with the same
        number of levels as the image. Shape: the image's spatial shape.
    label_properties
        Per label image, what each value stands for (``{7: {"tile": 2, "label": 3}}``);
        written as the ``image-label`` properties of the values present.
    name
        Name in the metadata; default the store's file name without ``.ome.zarr``.
    workers
        Threads; default all cores.
    progress
        Called with the number of level-0 bytes each time a band has been written.

    Returns
    -------
    Path
        The store path.
    """
    plan = plan_write(
        image,
        axes=axes,
        pixel_size=pixel_size,
        options=ExportOptions() if options is None else options,
        channel_labels=channel_labels,
        colors=colors,
        labels=labels,
        label_properties=label_properties,
        name=name or Path(output).name.removesuffix(".zarr").removesuffix(".ome"),
    )
    log.info(
        "writing %s: shape %s %s, %d levels, %d label images",
        output,
        plan.image.shape,
        plan.image.dtype,
        plan.n_levels,
        len(plan.labels),
    )
    _check_replaceable(Path(output))
    with atomic_path(output) as tmp:
        _write_store(tmp, plan, workers, progress)
    return Path(output)


def _check_replaceable(output: Path) -> None:
    """Only an earlier store may be replaced: never a file or a folder of something else."""
    if not output.exists() and not output.is_symlink():
        return
    is_store = output.is_dir() and any(
        (output / name).is_file() for name in ("zarr.json", ".zgroup", ".zattrs")
    )
    if not is_store:
        kind = "a directory that is not a Zarr store" if output.is_dir() else "a file"
        raise OutputExistsError(
            f"{output}: expected an OME-Zarr store or nothing at the output path, found "
            f"{kind}; remove it or choose another path."
        )

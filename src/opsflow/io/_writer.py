"""Streaming multiscale OME-Zarr writer (images and label images).

The writer never holds a whole image plus its pyramid: it reads level 0 in bands of whole
chunk rows, writes them, and pushes each band down a cascade of per-level buffers that
coarsen it and write whole chunk rows of every coarser level as soon as they are complete.
Independent leading blocks (cycles, channels) run on a thread pool; numpy, the TIFF reader
and the Blosc codecs release the GIL, so compression runs on all cores.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from threading import Lock
from typing import Any, Protocol

import numpy as np
import zarr

from opsflow.errors import OpsflowError
from opsflow.io import _ngff
from opsflow.io._atomic import atomic_path
from opsflow.io._chunks import ChunkWriter
from opsflow.io._pyramid import block_mean, block_mode, level_shapes

__all__ = ["COMPRESSIONS", "ArrayLike", "write_multiscale_omezarr"]

log = logging.getLogger(__name__)

COMPRESSIONS = ("zstd", "lz4", "zlib", "none")
_BAND_BYTES = 16 * 2**20  # target size of one band of level 0 read at a time, per worker
_SAMPLES_PER_CHANNEL = 2**18  # pixels per channel kept for the display-window percentiles
_WINDOW_PERCENTILES = (0.1, 99.9)


class ArrayLike(Protocol):
    """Anything with a shape, a dtype and numpy-style basic slicing (numpy, memmap, zarr)."""

    shape: tuple[int, ...]
    dtype: Any

    def __getitem__(self, key: Any) -> Any: ...


ProgressCallback = Callable[[int], None]


def _codecs(compression: str, level: int, zarr_format: int, itemsize: int) -> Any:
    if compression not in COMPRESSIONS:
        raise OpsflowError(
            f"compression {compression!r} is not supported; choose one of {COMPRESSIONS}."
        )
    if compression == "none":
        return None
    if zarr_format == 2:
        from numcodecs import Blosc

        return Blosc(cname=compression, clevel=level, shuffle=Blosc.SHUFFLE)
    from zarr.codecs import BloscCodec

    return BloscCodec(cname=compression, clevel=level, shuffle="shuffle", typesize=itemsize)


@dataclass
class _ChannelStats:
    """Running min, max and a strided sample of one channel, for the omero window."""

    lo: float = math.inf
    hi: float = -math.inf
    samples: list[np.ndarray] = field(default_factory=list)

    def window(self, dtype: np.dtype) -> dict[str, float]:
        if not self.samples:  # an all-empty image still gets a valid window
            lo = hi = 0.0
            start, end = 0.0, float(np.iinfo(dtype).max) if dtype.kind in "ui" else 1.0
            return {"min": lo, "max": max(hi, end), "start": start, "end": end}
        data = np.concatenate(self.samples)
        finite = data[np.isfinite(data)] if data.dtype.kind == "f" else data
        if finite.size == 0:
            return {"min": 0.0, "max": 1.0, "start": 0.0, "end": 1.0}
        start, end = np.percentile(finite, _WINDOW_PERCENTILES)
        lo = float(np.nanmin(finite)) if not math.isfinite(self.lo) else self.lo
        hi = float(np.nanmax(finite)) if not math.isfinite(self.hi) else self.hi
        if end <= start:  # flat channel: open the window so the viewer shows something
            end = start + 1
        return {"min": lo, "max": max(hi, float(end)), "start": float(start), "end": float(end)}


class _Collector:
    """Thread-safe statistics gathered while level 0 streams past."""

    def __init__(self, shape: tuple[int, ...], channel_axis: int | None, *, is_label: bool) -> None:
        self.is_label = is_label
        n_channels = shape[channel_axis] if channel_axis is not None else 1
        self.channels = [_ChannelStats() for _ in range(n_channels)]
        self.values: set[int] = set()
        planes_per_channel = max(1, math.prod(shape[:-2]) // n_channels)
        per_plane = max(1024, _SAMPLES_PER_CHANNEL // planes_per_channel)
        self.step = max(1, math.isqrt(max(1, shape[-1] * shape[-2] // per_plane)))
        self._lock = Lock()

    def add(self, band: np.ndarray, channel_of: Callable[[tuple[int, ...]], int]) -> None:
        if self.is_label:
            uniq = np.unique(band)
            with self._lock:
                self.values.update(int(v) for v in uniq)
            return
        lead_shape = band.shape[:-2]
        for idx in np.ndindex(*lead_shape):
            plane = band[idx]
            if plane.size == 0:
                continue
            if plane.dtype.kind == "f":
                finite = plane[np.isfinite(plane)]
                lo, hi = (finite.min(), finite.max()) if finite.size else (math.inf, -math.inf)
            else:
                lo, hi = plane.min(), plane.max()
            sample = plane[:: self.step, :: self.step].ravel()
            stats = self.channels[channel_of(idx)]
            with self._lock:
                stats.lo = min(stats.lo, float(lo))
                stats.hi = max(stats.hi, float(hi))
                stats.samples.append(sample)


class _LevelStream:
    """Rows of one level waiting to be written, and rows waiting to be coarsened."""

    def __init__(
        self,
        writer: ChunkWriter,
        lead_key: tuple[slice, ...],
        reduce: Callable[[np.ndarray, int], np.ndarray],
        factor: int,
        coarser: _LevelStream | None,
        pool: Executor | None,
    ) -> None:
        self.writer = writer
        self.pool = pool
        self.lead_start = tuple(k.start for k in lead_key)
        self.chunk_rows = writer.chunks[-2]
        self.reduce = reduce
        self.factor = factor
        self.coarser = coarser
        self.y = 0
        self.pending: np.ndarray | None = None
        self.carry: np.ndarray | None = None

    @staticmethod
    def _join(head: np.ndarray | None, rows: np.ndarray) -> np.ndarray:
        return rows if head is None or head.shape[-2] == 0 else np.concatenate([head, rows], -2)

    def push(self, rows: np.ndarray, final: bool) -> None:
        buf = self._join(self.pending, rows)
        n = buf.shape[-2] if final else (buf.shape[-2] // self.chunk_rows) * self.chunk_rows
        if n:
            self.writer.write((*self.lead_start, self.y, 0), buf[..., :n, :], self.pool)
            self.y += n
        self.pending = buf[..., n:, :]
        if self.coarser is None:
            return
        buf = self._join(self.carry, rows)
        n = buf.shape[-2] if final else (buf.shape[-2] // self.factor) * self.factor
        self.carry = buf[..., n:, :]
        if n or final:
            self.coarser.push(self.reduce(buf[..., :n, :], self.factor), final)


@dataclass(frozen=True)
class _Job:
    """One image (root or label) to stream into the chunk writers of its levels."""

    source: ArrayLike
    writers: list[ChunkWriter]
    reduce: Callable[[np.ndarray, int], np.ndarray]
    collector: _Collector
    channel_axis: int | None


def _lead_blocks(shape: tuple[int, ...], chunks: tuple[int, ...]) -> Iterator[tuple[slice, ...]]:
    ranges = [range(0, n, c) for n, c in zip(shape[:-2], chunks[:-2], strict=True)]
    for starts in product(*ranges):
        yield tuple(
            slice(s, min(s + c, n)) for s, c, n in zip(starts, chunks[:-2], shape[:-2], strict=True)
        )


def _band_rows(job: _Job, lead_key: tuple[slice, ...]) -> int:
    chunk_rows = job.writers[0].chunks[-2]
    planes = math.prod(s.stop - s.start for s in lead_key)
    row_bytes = max(1, planes * job.source.shape[-1] * np.dtype(job.source.dtype).itemsize)
    return max(1, _BAND_BYTES // (row_bytes * chunk_rows)) * chunk_rows


def _run_block(
    job: _Job,
    lead_key: tuple[slice, ...],
    factor: int,
    progress: ProgressCallback | None,
    chunk_pool: Executor | None,
) -> None:
    stream: _LevelStream | None = None
    for writer in reversed(job.writers):
        stream = _LevelStream(writer, lead_key, job.reduce, factor, stream, chunk_pool)
    assert stream is not None
    height = job.source.shape[-2]
    step = _band_rows(job, lead_key)
    starts = [s.start for s in lead_key]

    def channel_of(idx: tuple[int, ...]) -> int:
        if job.channel_axis is None:
            return 0
        return starts[job.channel_axis] + idx[job.channel_axis]

    for y0 in range(0, height, step):
        y1 = min(height, y0 + step)
        band = np.asarray(job.source[(*lead_key, slice(y0, y1), slice(None))])
        job.collector.add(band, channel_of)
        stream.push(band, final=y1 == height)
        if progress is not None:
            progress(band.nbytes)


def _label_source(mask: ArrayLike, image_shape: tuple[int, ...], axes: str, name: str) -> Any:
    """Give a mask the parent's axes, non-spatial ones of size 1 (NGFF: same dimensions)."""
    dtype = np.dtype(mask.dtype)
    if dtype.kind not in "ui":
        raise OpsflowError(
            f"label image {name!r}: expected an integer mask, found dtype {dtype}; "
            "convert it with numpy.astype to an integer type first."
        )
    spatial = tuple(n for a, n in zip(axes, image_shape, strict=True) if a in "zyx")
    want = tuple(n if a in "zyx" else 1 for a, n in zip(axes, image_shape, strict=True))
    if tuple(mask.shape) == want:
        return mask
    if tuple(mask.shape) == spatial:
        return np.asarray(mask).reshape(want)
    raise OpsflowError(
        f"label image {name!r}: expected shape {spatial} (the image's spatial size), "
        f"found {tuple(mask.shape)}."
    )


def _normalise_pixel_size(axes: str, pixel_size: Sequence[float] | Mapping[str, float]) -> dict:
    space = [a for a in axes if a in _ngff.SPACE_AXES]
    if isinstance(pixel_size, Mapping):
        sizes = {a: float(pixel_size.get(a, 1.0)) for a in space}
    else:
        values = [float(v) for v in pixel_size]
        if len(values) == len(space):
            sizes = dict(zip(space, values, strict=True))
        elif len(values) == 2 and space[-2:] == ["y", "x"]:
            sizes = {"z": 1.0, "y": values[0], "x": values[1]}
        else:
            raise OpsflowError(
                f"pixel_size {tuple(values)} does not match the space axes {''.join(space)}; "
                "give one size per space axis, e.g. (0.65, 0.65) for y, x."
            )
    for a, v in sizes.items():
        if not (v > 0 and math.isfinite(v)):
            raise OpsflowError(f"pixel size of axis {a!r} must be positive, found {v}.")
    return sizes


def _chunks_for(shape: tuple[int, ...], chunk_shape: Sequence[int] | None) -> tuple[int, ...]:
    wanted = list(chunk_shape) if chunk_shape is not None else [1, 512, 512]
    if any(int(c) < 1 for c in wanted):
        raise OpsflowError(f"chunk_shape {tuple(wanted)} must hold positive integers.")
    trailing = wanted[-len(shape) :]
    full = [1] * (len(shape) - len(trailing)) + [int(c) for c in trailing]
    return tuple(max(1, min(c, n)) for c, n in zip(full, shape, strict=True))


def write_multiscale_omezarr(
    image: ArrayLike,
    output: str | os.PathLike[str],
    *,
    axes: str,
    pixel_size: Sequence[float] | Mapping[str, float] = (1.0, 1.0),
    chunk_shape: Sequence[int] | None = None,
    coarsening_factor: int = 2,
    max_levels: int | None = None,
    channel_labels: Sequence[str] | None = None,
    colors: Sequence[str] | None = None,
    labels: Mapping[str, ArrayLike] | None = None,
    ngff_version: str = "0.5",
    name: str | None = None,
    compression: str = "zstd",
    compression_level: int = 3,
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
    chunk_shape
        Chunk of the trailing axes, e.g. (1, 512, 512) for (c, y, x); leading axes get 1.
    coarsening_factor
        Each level is the block mean (labels: block mode) of the previous one over
        ``factor x factor`` pixels of y and x.
    max_levels
        Upper bound on the number of levels, level 0 included. Without it the pyramid
        stops at the first level that fits in one chunk.
    channel_labels, colors
        One name and one hex ``RRGGBB`` colour per channel; defaults ``Channel 0``... and
        distinct colours.
    labels
        Integer masks written as NGFF label images under ``labels/{name}``, with the same
        number of levels as the image. Shape: the image's spatial shape.
    ngff_version
        "0.5" (Zarr v3, default) or "0.4" (Zarr v2, "/" chunk keys).
    compression, compression_level
        Blosc codec: one of ``COMPRESSIONS``; lossless.
    workers
        Threads; default all cores.
    progress
        Called with the number of level-0 bytes each time a band has been written.

    Returns
    -------
    Path
        The store path.
    """
    axes = _ngff.check_axes(axes)
    zarr_format = _ngff.zarr_format_for(ngff_version)
    shape = tuple(int(n) for n in image.shape)
    dtype = np.dtype(image.dtype)
    if len(shape) != len(axes):
        raise OpsflowError(f"image has {len(shape)} dimensions {shape} but axes are {axes!r}.")
    if dtype.kind not in "uif":
        raise OpsflowError(f"image dtype {dtype} is not supported; use an integer or float type.")
    if min(shape) < 1:
        raise OpsflowError(f"image shape {shape} has an empty axis.")
    factor = int(coarsening_factor)
    if factor < 2:
        raise OpsflowError(f"coarsening_factor must be an integer >= 2, found {coarsening_factor}.")
    if max_levels is not None and int(max_levels) < 1:
        raise OpsflowError(f"max_levels must be >= 1, found {max_levels}.")
    sizes = _normalise_pixel_size(axes, pixel_size)
    chunks = _chunks_for(shape, chunk_shape)
    c_axis = axes.index("c") if "c" in axes else None
    n_channels = shape[c_axis] if c_axis is not None else 1
    if channel_labels is None:
        channel_labels = [f"Channel {i}" for i in range(n_channels)]
    channel_labels = [str(lbl) for lbl in channel_labels]
    if len(channel_labels) != n_channels:
        raise OpsflowError(
            f"{len(channel_labels)} channel labels {channel_labels} given for an image with "
            f"{n_channels} channels; give one label per channel."
        )
    hex_colors = _ngff.channel_colors(n_channels, colors)
    shapes = level_shapes(shape, chunks[-2:], factor=factor, max_levels=max_levels)
    label_sources = {
        str(n): _label_source(m, shape, axes, str(n)) for n, m in (labels or {}).items()
    }
    bad = [n for n in label_sources if not n or "/" in n or n.startswith(".")]
    if bad:
        raise OpsflowError(f"label names {bad} are not valid group names.")
    store_name = name or Path(output).name.removesuffix(".zarr").removesuffix(".ome")

    def create(group: zarr.Group, src_shape: tuple[int, ...], dt: np.dtype) -> list[ChunkWriter]:
        lvl_shapes = level_shapes(src_shape, chunks[-2:], factor=factor, max_levels=len(shapes))
        dt = dt.newbyteorder("<")  # what the chunks hold, whatever the source's byte order
        compressor = _codecs(compression, compression_level, zarr_format, dt.itemsize)
        kwargs: dict[str, Any] = {"fill_value": 0, "dtype": dt, "compressors": compressor}
        if zarr_format == 3:
            kwargs["dimension_names"] = list(axes)
        else:
            kwargs["chunk_key_encoding"] = {"name": "v2", "separator": "/"}
        writers = []
        for level, lvl_shape in enumerate(lvl_shapes):
            lvl_chunks = tuple(
                max(1, min(c, n))
                for c, n in zip(_chunks_for(src_shape, chunks), lvl_shape, strict=True)
            )
            array = group.create_array(str(level), shape=lvl_shape, chunks=lvl_chunks, **kwargs)
            writers.append(ChunkWriter(array))
        return writers

    with atomic_path(output) as tmp:
        root = zarr.open_group(str(tmp), mode="w", zarr_format=zarr_format)
        jobs = [
            _Job(
                source=image,
                writers=create(root, shape, dtype),
                reduce=block_mean,
                collector=_Collector(shape, c_axis, is_label=False),
                channel_axis=c_axis,
            )
        ]
        label_groups = {}
        if label_sources:
            labels_group = root.create_group("labels")
            for lname, src in label_sources.items():
                group = labels_group.create_group(lname)
                label_groups[lname] = group
                jobs.append(
                    _Job(
                        source=src,
                        writers=create(group, tuple(src.shape), np.dtype(src.dtype)),
                        reduce=block_mode,
                        collector=_Collector(tuple(src.shape), None, is_label=True),
                        channel_axis=None,
                    )
                )
        tasks = [
            (job, key) for job in jobs for key in _lead_blocks(tuple(job.source.shape), chunks)
        ]
        n_workers = max(1, workers or os.cpu_count() or 1)
        log.info(
            "writing %s: shape %s %s, %d levels, %d label images, %d blocks on %d threads",
            output,
            shape,
            dtype,
            len(shapes),
            len(label_sources),
            len(tasks),
            n_workers,
        )
        # Fewer blocks than threads (a single plane, a few channels): the chunks of each
        # band are encoded in parallel instead, so every core still compresses.
        # (a pool starts its threads on first use, so an unused one costs nothing)
        with ThreadPoolExecutor(n_workers) as pool, ThreadPoolExecutor(n_workers) as chunk_pool:
            inner = chunk_pool if len(tasks) < n_workers else None
            futures = [pool.submit(_run_block, j, k, factor, progress, inner) for j, k in tasks]
            for future in futures:
                future.result()

        def multiscales(name: str, method: str) -> list[dict[str, Any]]:
            # image and label images share axes, pixel size and levels; only the name
            # and the downsampling method differ
            return [
                _ngff.multiscale_metadata(
                    name=name,
                    axes=axes,
                    pixel_size=sizes,
                    factor=factor,
                    n_levels=len(shapes),
                    method=method,
                    ngff_version=ngff_version,
                )
            ]

        windows = [c.window(dtype) for c in jobs[0].collector.channels]
        ome: dict[str, Any] = {
            "multiscales": multiscales(store_name, "mean"),
            "omero": _ngff.omero_metadata(
                labels=channel_labels, colors=hex_colors, windows=windows, name=store_name
            ),
        }
        root.attrs.update(_ngff.root_attributes(ome, ngff_version))
        if label_sources:
            root["labels"].attrs.update(
                _ngff.labels_group_metadata(list(label_sources), ngff_version)
            )
        for job, (lname, group) in zip(jobs[1:], label_groups.items(), strict=True):
            values = sorted(job.collector.values)
            if values and values[0] < 0:
                raise OpsflowError(
                    f"label image {lname!r}: expected non-negative label values, found {values[0]}."
                )
            lome = {
                "multiscales": multiscales(lname, "mode"),
                "image-label": _ngff.image_label_metadata(values=values, ngff_version=ngff_version),
            }
            group.attrs.update(_ngff.root_attributes(lome, ngff_version))
    return Path(output)

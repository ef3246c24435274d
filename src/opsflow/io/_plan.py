"""The write plan: everything about a store that can be decided before a byte is written.

Every check of the writer's arguments lives here, so a bad argument fails before the
temporary store exists, and the parts that create arrays, stream data and write metadata
work from one validated description instead of re-deriving shapes and chunks each.
The only check left to the writing itself is one that needs the data: negative label
values, found while the labels stream past.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from opsflow.errors import OpsflowError
from opsflow.io import _ngff
from opsflow.io._options import ExportOptions
from opsflow.io._pyramid import level_shapes

__all__ = ["ArrayLike", "ArrayPlan", "WritePlan", "plan_write"]


class ArrayLike(Protocol):
    """Anything with a shape, a dtype and numpy-style basic slicing (numpy, memmap, zarr)."""

    shape: tuple[int, ...]
    dtype: Any

    def __getitem__(self, key: Any) -> Any: ...


@dataclass(frozen=True)
class ArrayPlan:
    """One image of a store (the root image or a label image) and its pyramid levels.

    Attributes
    ----------
    source
        Where level 0 is read from, with the store's axes (a label mask gets the image's
        axes, non-spatial ones of size 1).
    dtype
        The stored dtype: the source's, little endian (what the chunks hold whatever the
        source's byte order).
    shapes, chunks
        Shape and chunk shape of every level, level 0 first.
    shards
        Shard shape of every level (a multiple of its chunk), or None without shards.
    is_label
        Labels are coarsened by block mode and carry ``image-label`` metadata.
    """

    source: ArrayLike
    dtype: np.dtype
    shapes: tuple[tuple[int, ...], ...]
    chunks: tuple[tuple[int, ...], ...]
    shards: tuple[tuple[int, ...], ...] | None
    is_label: bool

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of level 0."""
        return self.shapes[0]

    @property
    def units(self) -> tuple[tuple[int, ...], ...]:
        """What one writer writes whole, per level: a shard, or a chunk without shards."""
        return self.shards if self.shards is not None else self.chunks


@dataclass(frozen=True)
class WritePlan:
    """A validated description of one store: its image, its label images and its metadata.

    Attributes
    ----------
    axes
        Lowercase NGFF axes of the image, e.g. ``"tcyx"``.
    options
        The export options the plan was made with.
    zarr_format
        2 for NGFF 0.4, 3 for NGFF 0.5.
    pixel_size
        Micrometres per pixel of each space axis of level 0.
    chunks
        Level-0 chunk of the image; its leading entries also cut the work into blocks.
    channel_axis
        Index of ``c`` in ``axes``, or None.
    channel_labels, colors
        One name and one hex ``RRGGBB`` colour per channel.
    name
        The store's name in the multiscales and omero metadata.
    image, labels
        The root image and the label images, by name, in the order given.
    label_properties
        Per label image, the properties of each value (what it stands for).
    """

    axes: str
    options: ExportOptions
    zarr_format: int
    pixel_size: dict[str, float]
    chunks: tuple[int, ...]
    channel_axis: int | None
    channel_labels: tuple[str, ...]
    colors: tuple[str, ...]
    name: str
    image: ArrayPlan
    labels: dict[str, ArrayPlan]
    label_properties: dict[str, Mapping[int, Mapping[str, Any]]]

    @property
    def n_levels(self) -> int:
        """Levels of the image; every label image has as many (NGFF requires it)."""
        return len(self.image.shapes)


def _check_image(shape: tuple[int, ...], dtype: np.dtype, axes: str) -> None:
    if len(shape) != len(axes):
        raise OpsflowError(f"image has {len(shape)} dimensions {shape} but axes are {axes!r}.")
    if dtype.kind not in "uif":
        raise OpsflowError(f"image dtype {dtype} is not supported; use an integer or float type.")
    if min(shape) < 1:
        raise OpsflowError(f"image shape {shape} has an empty axis.")


def _label_source(mask: ArrayLike, image_shape: tuple[int, ...], axes: str, name: str) -> Any:
    """Give a mask the parent's axes, channels of size 1 (NGFF: same dimensions).

    A mask is either one plane for every time point (the image's spatial shape; its
    other axes become size 1) or one per time point (``t`` kept, e.g. montage crops).
    """
    dtype = np.dtype(mask.dtype)
    if dtype.kind not in "ui":
        raise OpsflowError(
            f"label image {name!r}: expected an integer mask, found dtype {dtype}; "
            "convert it with numpy.astype to an integer type first."
        )
    pairs = list(zip(axes, image_shape, strict=True))
    spatial = tuple(n for a, n in pairs if a in "zyx")
    want = tuple(n if a in "zyx" else 1 for a, n in pairs)
    timed = tuple(n if a in "tzyx" else 1 for a, n in pairs)
    if tuple(mask.shape) in (want, timed):
        return mask
    if tuple(mask.shape) == spatial:
        return np.asarray(mask).reshape(want)
    if "t" in axes and tuple(mask.shape) == tuple(n for a, n in pairs if a in "tzyx"):
        return np.asarray(mask).reshape(timed)
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


def _chunks_for(shape: tuple[int, ...], chunk_shape: Sequence[int]) -> tuple[int, ...]:
    """A chunk for every axis: ``chunk_shape`` covers the trailing ones, the others get 1.

    Chunks never exceed the array: a chunk larger than its axis is that axis' size.
    """
    trailing = list(chunk_shape)[-len(shape) :]
    full = [1] * (len(shape) - len(trailing)) + [int(c) for c in trailing]
    return tuple(max(1, min(c, n)) for c, n in zip(full, shape, strict=True))


def _shards_for(
    shape: tuple[int, ...], chunks: tuple[int, ...], shard_shape: Sequence[int]
) -> tuple[int, ...]:
    """A shard for every axis: ``shard_shape`` covers the trailing ones, the others whole.

    Leading axes are whole (not 1, as for chunks) because the point of a shard is to
    gather many chunks into one file: all cycles and channels of a field, say. A shard
    never exceeds the chunks that cover the array and is always a multiple of the chunk.
    """
    given = list(shard_shape)[-len(shape) :]
    full = list(shape[: len(shape) - len(given)]) + [int(s) for s in given]
    out = []
    for s, c, n in zip(full, chunks, shape, strict=True):
        covering = -(-n // c) * c
        out.append(max(c, (min(s, covering) // c) * c))
    return tuple(out)


def _channel_labels(given: Sequence[str] | None, n_channels: int) -> tuple[str, ...]:
    if given is None:
        given = [f"Channel {i}" for i in range(n_channels)]
    labels = [str(lbl) for lbl in given]
    if len(labels) != n_channels:
        raise OpsflowError(
            f"{len(labels)} channel labels {labels} given for an image with "
            f"{n_channels} channels; give one label per channel."
        )
    return tuple(labels)


def _array_plan(
    source: ArrayLike,
    chunks: tuple[int, ...],
    options: ExportOptions,
    *,
    max_levels: int | None,
    is_label: bool,
) -> ArrayPlan:
    """Levels of one image, coarsened until a level fits in one chunk or ``max_levels``.

    Each level's chunk is the image's chunk clipped to that level's shape, so a small
    level is one chunk rather than a chunk mostly of padding.
    """
    shape = tuple(int(n) for n in source.shape)
    shapes = level_shapes(
        shape, chunks[-2:], factor=options.coarsening_factor, max_levels=max_levels
    )
    own = _chunks_for(shape, chunks)
    level_chunks = [
        tuple(max(1, min(c, n)) for c, n in zip(own, lvl_shape, strict=True))
        for lvl_shape in shapes
    ]
    shards = None
    if options.shard_shape is not None:
        shard_shape = options.shard_shape
        shards = tuple(
            _shards_for(lvl, c, shard_shape) for lvl, c in zip(shapes, level_chunks, strict=True)
        )
    return ArrayPlan(
        source=source,
        dtype=np.dtype(source.dtype).newbyteorder("<"),
        shapes=tuple(shapes),
        chunks=tuple(level_chunks),
        shards=shards,
        is_label=is_label,
    )


def plan_write(
    image: ArrayLike,
    *,
    axes: str,
    pixel_size: Sequence[float] | Mapping[str, float],
    options: ExportOptions,
    channel_labels: Sequence[str] | None,
    colors: Sequence[str] | None,
    labels: Mapping[str, ArrayLike] | None,
    name: str,
    label_properties: Mapping[str, Mapping[int, Mapping[str, Any]]] | None = None,
) -> WritePlan:
    """Check the writer's arguments and decide every level, chunk and label of the store.

    Parameters are those of :func:`opsflow.io.write_multiscale_omezarr`; ``name`` is the
    store's name, already resolved. Raises :class:`OpsflowError` with one sentence for
    the first bad argument.
    """
    if not isinstance(options, ExportOptions):
        raise OpsflowError(f"options must be an ExportOptions, found {type(options).__name__}.")
    axes = _ngff.check_axes(axes)
    zarr_format = _ngff.zarr_format_for(options.ngff_version)
    shape = tuple(int(n) for n in image.shape)
    _check_image(shape, np.dtype(image.dtype), axes)
    sizes = _normalise_pixel_size(axes, pixel_size)
    chunks = _chunks_for(shape, options.chunk_shape)
    c_axis = axes.index("c") if "c" in axes else None
    n_channels = shape[c_axis] if c_axis is not None else 1
    names = _channel_labels(channel_labels, n_channels)
    hex_colors = tuple(_ngff.channel_colors(n_channels, colors))
    root = _array_plan(image, chunks, options, max_levels=options.max_levels, is_label=False)
    sources = {str(n): _label_source(m, shape, axes, str(n)) for n, m in (labels or {}).items()}
    bad = [n for n in sources if not n or "/" in n or n.startswith(".")]
    if bad:
        raise OpsflowError(f"label names {bad} are not valid group names.")
    label_plans = {
        n: _array_plan(src, chunks, options, max_levels=len(root.shapes), is_label=True)
        for n, src in sources.items()
    }
    return WritePlan(
        axes=axes,
        options=options,
        zarr_format=zarr_format,
        pixel_size=sizes,
        chunks=chunks,
        channel_axis=c_axis,
        channel_labels=names,
        colors=hex_colors,
        name=name,
        image=root,
        labels=label_plans,
        label_properties={n: (label_properties or {}).get(n, {}) for n in label_plans},
    )

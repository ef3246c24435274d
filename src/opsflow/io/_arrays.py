"""Creating the level arrays of a store from its plan, and their chunk writers.

zarr creates every array and its metadata (so the metadata is zarr's own); the chunks
are then written by :class:`~opsflow.io._chunks.ChunkWriter`, which encodes them exactly
as that metadata says.
"""

from __future__ import annotations

from typing import Any

import zarr

from opsflow.io._chunks import ChunkWriter, ShardWriter
from opsflow.io._options import ExportOptions
from opsflow.io._plan import ArrayPlan, WritePlan

__all__ = ["create_levels"]


def _codecs(options: ExportOptions, zarr_format: int, itemsize: int) -> Any:
    """The Blosc compressor in the form each Zarr format records, or None for no codec."""
    if options.compression == "none":
        return None
    if zarr_format == 2:
        from numcodecs import Blosc

        return Blosc(
            cname=options.compression, clevel=options.compression_level, shuffle=Blosc.SHUFFLE
        )
    from zarr.codecs import BloscCodec

    return BloscCodec(
        cname=options.compression,
        clevel=options.compression_level,
        shuffle="shuffle",
        typesize=itemsize,
    )


def create_levels(
    group: zarr.Group, array: ArrayPlan, plan: WritePlan
) -> list[ChunkWriter | ShardWriter]:
    """Create arrays "0", "1", ... of one image in ``group``; return their chunk writers.

    Arrays are filled with 0 where no chunk is written, carry ``dimension_names`` on
    Zarr v3 (NGFF 0.5 requires them) and "/" chunk keys on Zarr v2 (as NGFF 0.4 does).
    """
    compressor = _codecs(plan.options, plan.zarr_format, array.dtype.itemsize)
    kwargs: dict[str, Any] = {"fill_value": 0, "dtype": array.dtype, "compressors": compressor}
    if plan.zarr_format == 3:
        kwargs["dimension_names"] = list(plan.axes)
    else:
        kwargs["chunk_key_encoding"] = {"name": "v2", "separator": "/"}
    writers: list[ChunkWriter | ShardWriter] = []
    for level, (shape, chunks) in enumerate(zip(array.shapes, array.chunks, strict=True)):
        shards = None if array.shards is None else array.shards[level]
        created = group.create_array(
            str(level), shape=shape, chunks=chunks, shards=shards, **kwargs
        )
        writers.append(ChunkWriter(created) if shards is None else ShardWriter(created))
    return writers

"""The options of an OME-Zarr export, as one validated value.

Every layer that exports (the writer, the TIFF export, a stage export, the workflow
configuration and the ``opsflow export`` command) takes one :class:`ExportOptions` instead
of threading each option through its signature, and the configuration and the command
read their defaults and help text off its fields, so each default is written once.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any, Literal

from opsflow.errors import OpsflowError
from opsflow.io._ngff import NGFF_VERSIONS

__all__ = ["COMPRESSIONS", "ExportOptions"]

COMPRESSIONS = ("zstd", "lz4", "zlib", "none")
_MAX_COMPRESSION_LEVEL = 9  # Blosc's clevel range is 0 to 9


def _option(default: Any, text: str) -> Any:
    return field(default=default, metadata={"help": text})


def _is_int(value: Any) -> bool:
    # numpy integers count (a shape read off an array); booleans do not, although they
    # are ints to Python: ``True`` as a factor is a mistake, not a 1
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _positive_ints(value: Any) -> tuple[int, ...] | None:
    """``value`` as a tuple of ``int`` if it is a sequence of positive integers, else None."""
    if isinstance(value, str):
        return None
    try:
        items = tuple(value)
    except TypeError:  # a bare number, say
        return None
    if not all(_is_int(c) and c >= 1 for c in items):
        return None
    return tuple(int(c) for c in items)


def _refuse(name: str, expected: str, found: Any) -> OpsflowError:
    return OpsflowError(f"{name} must be {expected}, found {found!r}.")


@dataclass(frozen=True, kw_only=True)
class ExportOptions:
    """How an image is laid out and compressed in an OME-Zarr store.

    Values are checked on construction, so a bad option fails before any file is
    touched, with one sentence naming the field, what was expected and what was found.
    The checks here are the ones that need no image; those that do (dtype, axes, pixel
    size, labels) belong to the write plan. ``chunk_shape`` may be shorter or longer
    than the image has axes: it covers the trailing ones. Each field's
    ``metadata["help"]`` is the sentence the configuration reference and ``opsflow
    export --help`` show.
    """

    chunk_shape: tuple[int, ...] = _option(
        (1, 512, 512), "Chunk of the trailing (c, y, x) axes; cycles get chunk 1."
    )
    coarsening_factor: int = _option(2, "Pyramid step: each level is N x N block means.")
    max_levels: int | None = _option(
        None, "Most pyramid levels (level 0 included); null stops at one chunk."
    )
    ngff_version: Literal["0.4", "0.5"] = _option(
        "0.5", "NGFF version of exported stores: 0.5 (Zarr v3) or 0.4 (Zarr v2)."
    )
    compression: str = _option(
        "zstd", "Lossless Blosc codec of the chunks: zstd, lz4, zlib or none."
    )
    # level 1: uint16 microscopy chunks (byte shuffle) come out about 3% larger than at
    # level 3 and compress about twice as fast (benchmarks/bench_codecs.py); compressing
    # is most of an export's time
    compression_level: int = _option(1, "Blosc compression level, from 0 (none) to 9 (smallest).")
    shard_shape: tuple[int, ...] | None = _option(
        None,
        "Shard of the trailing axes (multiples of the chunk), leading axes whole; null: no "
        "shards. Zarr v3 (NGFF 0.5) only.",
    )

    def __post_init__(self) -> None:
        chunks = _positive_ints(self.chunk_shape)
        if chunks is None:
            raise _refuse("chunk_shape", "a sequence of positive integers", self.chunk_shape)
        if not (_is_int(self.coarsening_factor) and self.coarsening_factor >= 2):
            raise _refuse("coarsening_factor", "an integer >= 2", self.coarsening_factor)
        if self.max_levels is not None and not (_is_int(self.max_levels) and self.max_levels >= 1):
            raise _refuse("max_levels", "an integer >= 1 or None", self.max_levels)
        if self.ngff_version not in NGFF_VERSIONS:
            raise _refuse("ngff_version", f"one of {', '.join(NGFF_VERSIONS)}", self.ngff_version)
        if self.compression not in COMPRESSIONS:
            raise _refuse("compression", f"one of {', '.join(COMPRESSIONS)}", self.compression)
        level = self.compression_level
        if not (_is_int(level) and 0 <= level <= _MAX_COMPRESSION_LEVEL):
            raise _refuse(
                "compression_level", f"an integer from 0 to {_MAX_COMPRESSION_LEVEL}", level
            )
        shards = self._check_shards(chunks)
        # Plain ints whatever was given (numpy integers, a list): equal options compare and
        # hash equal, and the numbers go into JSON metadata as they are.
        # (object.__setattr__ is how a frozen dataclass normalises its own fields)
        object.__setattr__(self, "chunk_shape", chunks)
        object.__setattr__(self, "coarsening_factor", int(self.coarsening_factor))
        if self.max_levels is not None:
            object.__setattr__(self, "max_levels", int(self.max_levels))
        object.__setattr__(self, "compression_level", int(level))
        object.__setattr__(self, "shard_shape", shards)

    def _check_shards(self, chunks: tuple[int, ...]) -> tuple[int, ...] | None:
        """The shard shape as ints: positive, multiples of the chunk, on Zarr v3 only."""
        if self.shard_shape is None:
            return None
        shards = _positive_ints(self.shard_shape)
        if shards is None:
            raise _refuse("shard_shape", "a sequence of positive integers", self.shard_shape)
        if self.ngff_version != "0.5":
            raise _refuse("shard_shape", "null for NGFF 0.4 (Zarr v2 has no shards)", shards)
        n = min(len(shards), len(chunks))
        pairs = zip(shards[len(shards) - n :], chunks[len(chunks) - n :], strict=True)
        if n == 0 or any(s % c for s, c in pairs):
            raise _refuse(
                "shard_shape", f"multiples of the chunk shape {chunks} on its trailing axes", shards
            )
        return shards

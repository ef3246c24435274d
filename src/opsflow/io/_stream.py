"""The streaming loop: level 0 in bands, every coarser level as soon as its rows exist.

Each job (the image, or one label image) is cut into independent leading blocks
(cycles, channels). A block is read in bands of whole chunk rows; each band is written,
and pushed down a cascade of per-level buffers that coarsen it and write whole chunk rows
of every coarser level as soon as they are complete, so neither the image nor its pyramid
is ever held whole. Blocks run on a thread pool; numpy, the TIFF reader and the Blosc
codecs release the GIL, so compression runs on all cores.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import product

import numpy as np

from opsflow.io._chunks import ChunkWriter, ShardWriter
from opsflow.io._plan import ArrayLike
from opsflow.io._stats import Collector

__all__ = ["ProgressCallback", "StreamJob", "stream_jobs"]

log = logging.getLogger(__name__)

_BAND_BYTES = 16 * 2**20  # target size of one band of level 0 read at a time, per worker

ProgressCallback = Callable[[int], None]


class _LevelStream:
    """Rows of one level waiting to be written, and rows waiting to be coarsened."""

    def __init__(
        self,
        writer: ChunkWriter | ShardWriter,
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
        """Take the next rows of this level; write whole chunk rows, coarsen whole blocks.

        Rows that do not yet fill a chunk row wait in ``pending``, rows that do not yet
        fill a ``factor``-row block wait in ``carry``; ``final`` flushes both.
        """
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
class StreamJob:
    """One image (root or label) to stream into the chunk writers of its levels."""

    source: ArrayLike
    writers: list[ChunkWriter | ShardWriter]
    reduce: Callable[[np.ndarray, int], np.ndarray]
    collector: Collector
    channel_axis: int | None


def _lead_blocks(shape: tuple[int, ...], chunks: tuple[int, ...]) -> Iterator[tuple[slice, ...]]:
    ranges = [range(0, n, c) for n, c in zip(shape[:-2], chunks[:-2], strict=True)]
    for starts in product(*ranges):
        yield tuple(
            slice(s, min(s + c, n)) for s, c, n in zip(starts, chunks[:-2], shape[:-2], strict=True)
        )


def _band_rows(job: StreamJob, lead_key: tuple[slice, ...]) -> int:
    chunk_rows = job.writers[0].chunks[-2]
    planes = math.prod(s.stop - s.start for s in lead_key)
    row_bytes = max(1, planes * job.source.shape[-1] * np.dtype(job.source.dtype).itemsize)
    return max(1, _BAND_BYTES // (row_bytes * chunk_rows)) * chunk_rows


def _run_block(
    job: StreamJob,
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


def stream_jobs(
    jobs: Sequence[StreamJob],
    chunks: tuple[int, ...],
    *,
    factor: int,
    workers: int | None,
    progress: ProgressCallback | None,
) -> None:
    """Stream every job into its level arrays, block by block, on ``workers`` threads.

    ``chunks`` (the image's level-0 chunk, or shard where it has shards) cuts every job
    into leading blocks along their boundaries, so no two blocks ever write the same file.
    The first failed block (in submission order) raises its error once the pool has
    finished the others; the caller writes into a temporary store, so nothing of a failed
    write survives.
    """
    tasks = [(job, key) for job in jobs for key in _lead_blocks(tuple(job.source.shape), chunks)]
    n_workers = max(1, workers or os.cpu_count() or 1)
    log.info("%d blocks on %d threads", len(tasks), n_workers)
    # Fewer blocks than threads (a single plane, a few channels): the chunks of each
    # band are encoded in parallel instead, so every core still compresses.
    # (a pool starts its threads on first use, so an unused one costs nothing)
    with ThreadPoolExecutor(n_workers) as pool, ThreadPoolExecutor(n_workers) as chunk_pool:
        inner = chunk_pool if len(tasks) < n_workers else None
        futures = [pool.submit(_run_block, j, k, factor, progress, inner) for j, k in tasks]
        for future in futures:
            future.result()

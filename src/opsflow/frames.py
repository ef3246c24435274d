"""Frame-wise work on image stacks: threads over frames, exact small sliding extremes.

A tile is tens of 2-D frames (cycles x channels), each filtered on its own; the scipy
filters release the GIL, so frames run in threads on every core the job was given
(:func:`limit_threads` sets how many: the step runner passes a job's ``threads``).

The sliding minimum and maximum are written here because ``scipy.ndimage`` walks a
generic 1-D line buffer per pixel, several times slower for the 3-5 px windows of
SBS than numpy's elementwise extreme of a few shifted views. Under scipy's default
``reflect`` boundary a neighbour past the edge mirrors one that the window already
holds, so leaving such neighbours out gives scipy's result exactly.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

import numpy as np

__all__ = ["limit_threads", "map_frames", "sliding_max", "sliding_min", "workers"]

T, R = TypeVar("T"), TypeVar("R")
_LIMIT: ContextVar[int | None] = ContextVar("opsflow_threads", default=None)


def _cores() -> int:
    count = getattr(os, "process_cpu_count", os.cpu_count)()  # Python 3.13: this process's
    return count or 1


def workers() -> int:
    """Threads frame-wise work may use: the limit set, else ``OPSFLOW_THREADS``, else every core."""
    limit = _LIMIT.get()
    if limit is None:
        limit = int(os.environ.get("OPSFLOW_THREADS", 0)) or _cores()
    return max(1, limit)


@contextmanager
def limit_threads(n: int | None) -> Iterator[None]:
    """Within the block, frame-wise work uses at most ``n`` threads (None: no limit)."""
    token = _LIMIT.set(None if n is None else max(1, int(n)))
    try:
        yield
    finally:
        _LIMIT.reset(token)


def map_frames(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[fn(item) for item in items]``, in threads when more than one is allowed."""
    items = list(items)
    n = min(workers(), len(items))
    if n <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(fn, items))


def _sliding(image: np.ndarray, size: int, extreme: np.ufunc) -> np.ndarray:
    out = np.array(image, copy=True)
    low, high = -(size // 2), size - size // 2 - 1  # scipy's window for origin 0
    for axis in range(image.ndim):
        source, n = out.copy(), image.shape[axis]
        for k in range(low, high + 1):
            if k == 0 or abs(k) >= n:
                continue
            into, take = [slice(None)] * image.ndim, [slice(None)] * image.ndim
            into[axis] = slice(max(0, -k), n - max(0, k))
            take[axis] = slice(max(0, k), n + min(0, k))
            view = out[tuple(into)]
            extreme(view, source[tuple(take)], out=view)
    return out


def sliding_max(image: np.ndarray, size: int) -> np.ndarray:
    """``scipy.ndimage.maximum_filter(image, size)`` (reflect boundary), exactly."""
    return _sliding(image, size, np.maximum)


def sliding_min(image: np.ndarray, size: int) -> np.ndarray:
    """``scipy.ndimage.minimum_filter(image, size)`` (reflect boundary), exactly."""
    return _sliding(image, size, np.minimum)

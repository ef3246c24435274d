"""Statistics gathered while level 0 streams past, for the metadata written after it.

The omero display window needs robust percentiles of every channel and ``image-label``
needs every label value present; both are collected from the bands the writer reads
anyway, so the image is never read a second time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from threading import Lock

import numpy as np

__all__ = ["ChannelStats", "Collector"]

_SAMPLES_PER_CHANNEL = 2**18  # pixels per channel kept for the display-window percentiles
_WINDOW_PERCENTILES = (0.1, 99.9)


@dataclass
class ChannelStats:
    """Running min, max and a strided sample of one channel, for the omero window."""

    lo: float = math.inf
    hi: float = -math.inf
    samples: list[np.ndarray] = field(default_factory=list)

    def window(self, dtype: np.dtype) -> dict[str, float]:
        """The omero window: min and max of the data, start and end at robust percentiles.

        Percentiles rather than min and max so a few hot pixels do not turn a thumbnail
        black, and of the non-zero pixels only; a window is always open
        (``end > start``) so a viewer always shows something, even for an empty or flat
        channel.
        """
        if not self.samples:  # an all-empty image still gets a valid window
            lo = hi = 0.0
            start, end = 0.0, float(np.iinfo(dtype).max) if dtype.kind in "ui" else 1.0
            return {"min": lo, "max": max(hi, end), "start": start, "end": end}
        data = np.concatenate(self.samples)
        finite = data[np.isfinite(data)] if data.dtype.kind == "f" else data
        if finite.size == 0:
            return {"min": 0.0, "max": 1.0, "start": 0.0, "end": 1.0}
        nonzero = finite[finite != 0]
        if nonzero.size:
            # exact zeros are fill, not signal (the padding of an alignment shift, the gaps
            # of a mosaic, the background of peaks): with them the window would start at
            # 0 and a sparse image would get the background's window and look black
            finite = nonzero
        start, end = _percentiles(finite, _WINDOW_PERCENTILES)
        lo = float(np.nanmin(finite)) if not math.isfinite(self.lo) else self.lo
        hi = float(np.nanmax(finite)) if not math.isfinite(self.hi) else self.hi
        if end <= start:  # flat channel: open the window so the viewer shows something
            end = start + 1
        return {"min": lo, "max": max(hi, float(end)), "start": float(start), "end": float(end)}


def _percentiles(data: np.ndarray, qs: tuple[float, ...]) -> tuple[float, ...]:
    """``np.percentile`` (linear), from a histogram where the data are 8 or 16-bit unsigned.

    Counting values is one pass instead of a partial sort: about a tenth of the time for
    the samples of a channel, which the metadata waits for after every image.
    """
    if data.dtype.kind != "u" or data.dtype.itemsize > 2:
        return tuple(float(v) for v in np.percentile(data, qs))
    ranks = np.cumsum(np.bincount(data.ravel()))  # ranks[v]: how many values are <= v
    out = []
    for q in qs:
        pos = q / 100 * (data.size - 1)
        below, above = (
            int(np.searchsorted(ranks, r, side="right")) for r in (math.floor(pos), math.ceil(pos))
        )
        out.append(below + (above - below) * (pos - math.floor(pos)))
    return tuple(out)


class Collector:
    """Thread-safe statistics of one image (channel windows) or label image (values).

    Parameters
    ----------
    shape
        Shape of level 0; sets the sampling stride so every channel keeps about
        ``_SAMPLES_PER_CHANNEL`` pixels however many planes it has.
    channel_axis
        Index of the channel axis, or None for one channel.
    is_label
        Collect the set of values present instead of channel statistics.
    """

    def __init__(self, shape: tuple[int, ...], channel_axis: int | None, *, is_label: bool) -> None:
        self.is_label = is_label
        n_channels = shape[channel_axis] if channel_axis is not None else 1
        self.channels = [ChannelStats() for _ in range(n_channels)]
        self.values: set[int] = set()
        planes_per_channel = max(1, math.prod(shape[:-2]) // n_channels)
        per_plane = max(1024, _SAMPLES_PER_CHANNEL // planes_per_channel)
        self.step = max(1, math.isqrt(max(1, shape[-1] * shape[-2] // per_plane)))
        self._lock = Lock()

    def add(self, band: np.ndarray, channel_of: Callable[[tuple[int, ...]], int]) -> None:
        """Take the statistics of one band; ``channel_of`` maps a plane index to its channel."""
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

"""Read out base intensities at every candidate read."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from opsflow.errors import OpsflowError

__all__ = ["BASES_COLUMNS", "extract_bases"]

BASES_COLUMNS = ("read", "y", "x", "cell", "peak", "cycle", "channel", "intensity")
"""Columns of the ``bases`` table (long format: one row per read, cycle and channel)."""


def extract_bases(
    peaks: np.ndarray,
    max_filtered: np.ndarray,
    cells: np.ndarray,
    *,
    threshold: float,
    base_channels: Sequence[str] = ("G", "T", "A", "C"),
) -> pd.DataFrame:
    """Intensities of every candidate read in every cycle and base channel, ``bases``.

    A candidate read is a pixel whose peak score exceeds ``threshold``. Reads
    outside any cell are kept with ``cell`` 0: they measure the background read
    rate, a quality signal of their own.

    Parameters
    ----------
    peaks : ndarray, shape (Y, X)
        Output of :func:`opsflow.sbs.find_peaks`.
    max_filtered : ndarray, shape (cycle, base channel, Y, X)
        Output of :func:`opsflow.sbs.max_filter` (DAPI already dropped).
    cells : ndarray, shape (Y, X), integer
        Cell mask; 0 is background.
    threshold : float
        Peak score a read must exceed.
    base_channels : sequence of str
        Names of the channels of ``max_filtered``.

    Returns
    -------
    DataFrame
        Columns :data:`BASES_COLUMNS`; ``cycle`` is 0-based, rows ordered by read,
        cycle, channel.
    """
    if max_filtered.ndim != 4:
        raise OpsflowError(
            f"max_filtered must be (cycle, channel, Y, X), got shape {max_filtered.shape}."
        )
    if peaks.shape != max_filtered.shape[-2:] or cells.shape != peaks.shape:
        raise OpsflowError(
            f"peaks {peaks.shape}, cells {cells.shape} and max_filtered "
            f"{max_filtered.shape[-2:]} must have the same Y, X."
        )
    if len(base_channels) != max_filtered.shape[1]:
        raise OpsflowError(
            f"{len(base_channels)} base_channels given for {max_filtered.shape[1]} channels "
            "of max_filtered."
        )
    ys, xs = np.nonzero(peaks > threshold)
    n_reads, n_cycles, n_channels = ys.size, max_filtered.shape[0], max_filtered.shape[1]
    values = max_filtered[:, :, ys, xs]  # (cycle, channel, read)
    per_read = n_cycles * n_channels
    return pd.DataFrame(
        {
            "read": np.repeat(np.arange(n_reads, dtype=np.int64), per_read),
            "y": np.repeat(ys.astype(np.int64), per_read),
            "x": np.repeat(xs.astype(np.int64), per_read),
            "cell": np.repeat(cells[ys, xs].astype(np.int64), per_read),
            "peak": np.repeat(peaks[ys, xs].astype(np.float64), per_read),
            "cycle": np.tile(np.repeat(np.arange(n_cycles, dtype=np.int64), n_channels), n_reads),
            "channel": pd.Categorical(
                np.tile(np.asarray(base_channels, dtype=object), n_reads * n_cycles),
                categories=list(base_channels),
            ),
            "intensity": np.transpose(values, (2, 0, 1)).reshape(-1).astype(np.int64),
        },
        columns=list(BASES_COLUMNS),
    )

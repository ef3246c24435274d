"""Call a base per cycle for every read: crosstalk unmixing, base calls, qualities.

Fluorophores of neighbouring channels bleed into each other, so raw intensities
must be unmixed before the brightest channel names the base. The mixing matrix is
estimated from the reads themselves, as the field's standard tools do: the reads
whose brightest channel is ``c`` are mostly base ``c`` and give column ``c`` of the
mixing matrix (see :func:`estimate_crosstalk`). Inverting it both removes the
bleed-through and equalises the channel gains.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from opsflow.errors import OpsflowError

__all__ = [
    "bases_to_array",
    "call_reads",
    "estimate_crosstalk",
    "quality",
    "reads_columns",
    "unmix",
]

log = logging.getLogger(__name__)

_READ_META = ("read", "y", "x", "cell", "peak")


def reads_columns(n_cycles: int) -> list[str]:
    """Columns of the ``reads`` table for ``n_cycles`` cycles."""
    return [*_READ_META, "barcode", *(f"Q_{k}" for k in range(n_cycles)), "Q_min"]


def bases_to_array(
    bases: pd.DataFrame, *, base_channels: Sequence[str] = ("G", "T", "A", "C")
) -> tuple[pd.DataFrame, np.ndarray]:
    """Reshape the long ``bases`` table into per-read metadata and an intensity cube.

    Returns
    -------
    meta : DataFrame
        One row per read, columns ``read, y, x, cell, peak``.
    intensities : ndarray, float64, shape (read, cycle, channel)
    """
    missing = [c for c in ("read", "cycle", "channel", "intensity", *_READ_META) if c not in bases]
    if missing:
        raise OpsflowError(f"bases table lacks columns {missing}.")
    n_channels = len(base_channels)
    if bases.empty:
        meta = pd.DataFrame(
            {c: pd.Series(dtype=np.float64 if c == "peak" else np.int64) for c in _READ_META}
        )
        return meta, np.zeros((0, 0, n_channels))
    ordered = bases.sort_values(["read", "cycle", "channel"], kind="stable")
    channels = ordered["channel"].astype(str).unique().tolist()
    if sorted(channels) != sorted(base_channels):
        raise OpsflowError(f"bases table has channels {channels}, expected {list(base_channels)}.")
    # Order channels as base_channels, whatever order the table sorted them in.
    channel_pos = ordered["channel"].astype(str).map({c: i for i, c in enumerate(base_channels)})
    n_reads = ordered["read"].nunique()
    n_cycles = ordered["cycle"].nunique()
    if len(ordered) != n_reads * n_cycles * n_channels:
        raise OpsflowError(
            f"bases table has {len(ordered)} rows; expected reads x cycles x channels = "
            f"{n_reads} x {n_cycles} x {n_channels}."
        )
    read_pos = pd.factorize(ordered["read"], sort=True)[0]
    cycle_pos = pd.factorize(ordered["cycle"], sort=True)[0]
    cube = np.zeros((n_reads, n_cycles, n_channels))
    cube[read_pos, cycle_pos, channel_pos.to_numpy()] = ordered["intensity"].to_numpy(float)
    meta = ordered.drop_duplicates("read")[list(_READ_META)].reset_index(drop=True)
    return meta, cube


def estimate_crosstalk(intensities: np.ndarray) -> np.ndarray:
    """Estimate the channel mixing matrix from read intensities.

    Vectors whose brightest channel is ``c`` are mostly base ``c``. Column ``c`` of
    the matrix is the median of their channel-``c`` intensity on the diagonal and,
    off the diagonal, how much each other channel rises with channel ``c``: the slope
    of a least-squares line fitted with an intercept. The intercept absorbs the
    positive floor that filtered noise leaves in every channel, which a plain median
    ratio would mistake for crosstalk.

    Parameters
    ----------
    intensities : ndarray, shape (..., channel)
        Observed intensity vectors (reads x cycles pooled, or one cycle).

    Returns
    -------
    ndarray, shape (channel, channel)
        ``M`` with ``observed ≈ M @ true`` up to a per-channel scale; unmixing with it
        also equalises the channel gains. A channel that is never the brightest gets
        a unit column scaled to the median diagonal (no unmixing for it), with a
        warning.
    """
    x = np.asarray(intensities, dtype=float)
    n = x.shape[-1]
    x = x.reshape(-1, n)
    x = x[x.max(axis=1) > 0]
    if x.shape[0] == 0:
        return np.eye(n)
    brightest = x.argmax(axis=1)
    matrix = np.zeros((n, n))
    missing = []
    for c in range(n):
        rows = x[brightest == c]
        if rows.shape[0] == 0:
            missing.append(c)
            continue
        scale = float(np.median(rows[:, c]))
        matrix[c, c] = scale
        centred = rows[:, c] - rows[:, c].mean()
        spread = float(centred @ centred)
        for j in range(n):
            if j == c:
                continue
            slope = float(centred @ (rows[:, j] - rows[:, j].mean())) / spread if spread else 0.0
            matrix[j, c] = max(slope, 0.0) * scale
    if missing:
        log.warning("channels %s are never the brightest; left unmixed", missing)
        present = [c for c in range(n) if c not in missing]
        fill = float(np.median(matrix[present, present])) if present else 1.0
        for c in missing:
            matrix[c, c] = fill
    return matrix


def unmix(intensities: np.ndarray, crosstalk: np.ndarray) -> np.ndarray:
    """Invert the mixing: ``true ≈ M⁻¹ @ observed`` per vector, clipped at 0."""
    try:
        inverse = np.linalg.inv(crosstalk)
    except np.linalg.LinAlgError:
        log.warning("crosstalk matrix is singular; using its pseudo-inverse")
        inverse = np.linalg.pinv(crosstalk)
    return np.clip(np.asarray(intensities, dtype=float) @ inverse.T, 0, None)


def quality(unmixed: np.ndarray) -> np.ndarray:
    """Per-vector confidence of a base call, from 0 (all channels equal) to 1 (one channel).

    The brightest channel's share of the summed unmixed intensity, rescaled from
    its range ``[1/n, 1]`` to ``[0, 1]``; 0 where all channels are 0.
    """
    n = unmixed.shape[-1]
    total = unmixed.sum(axis=-1)
    share = np.divide(
        unmixed.max(axis=-1), total, out=np.full(total.shape, 1.0 / n), where=total > 0
    )
    return np.clip((n * share - 1) / (n - 1), 0, 1)


def call_reads(
    bases: pd.DataFrame,
    *,
    base_channels: Sequence[str] = ("G", "T", "A", "C"),
    per_cycle: bool = False,
    n_cycles: int | None = None,
) -> pd.DataFrame:
    """Call one base per cycle for every read, ``reads``.

    Parameters
    ----------
    bases : DataFrame
        Output of :func:`opsflow.sbs.extract_bases`.
    base_channels : sequence of str
        Channel names; each is the letter written for its base.
    per_cycle : bool
        Estimate the crosstalk per cycle (dyes can fade unevenly) instead of pooled
        over all cycles.
    n_cycles : int, optional
        Expected number of cycles; gives an empty table (no reads) its ``Q_k`` columns,
        and is checked against the data otherwise.

    Returns
    -------
    DataFrame
        Columns from :func:`reads_columns`: read metadata, ``barcode`` (one letter per
        cycle), quality ``Q_k`` per cycle and ``Q_min``.
    """
    meta, cube = bases_to_array(bases, base_channels=base_channels)
    if cube.shape[0] == 0:
        n = n_cycles or 0
        empty = {c: meta[c] for c in _READ_META}
        empty["barcode"] = pd.Series(dtype=object)
        empty.update({c: pd.Series(dtype=float) for c in reads_columns(n)[6:]})
        return pd.DataFrame(empty, columns=reads_columns(n))
    if n_cycles is not None and cube.shape[1] != n_cycles:
        raise OpsflowError(f"bases table has {cube.shape[1]} cycles, expected {n_cycles}.")
    n_cycles = cube.shape[1]
    if per_cycle:
        unmixed = np.stack(
            [unmix(cube[:, k], estimate_crosstalk(cube[:, k])) for k in range(n_cycles)], axis=1
        )
    else:
        unmixed = unmix(cube, estimate_crosstalk(cube))
    letters = np.asarray(list(base_channels), dtype=object)
    calls = letters[unmixed.argmax(axis=-1)]  # (read, cycle)
    q = quality(unmixed)
    reads = meta.copy()
    reads["barcode"] = ["".join(row) for row in calls]
    for k in range(n_cycles):
        reads[f"Q_{k}"] = q[:, k]
    reads["Q_min"] = q.min(axis=1)
    return reads[reads_columns(n_cycles)]

"""Register SBS cycles: base channels within a cycle, then every cycle to the first.

Shifts are estimated and applied with :mod:`opsflow.registration`, whose convention
(``moving(y, x) ≈ reference(y - dy, x - dx)``) holds everywhere in opsflow.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from scipy import ndimage as ndi

from opsflow.errors import OpsflowError
from opsflow.frames import map_frames, sliding_max, sliding_min
from opsflow.registration import estimate_shift, shift_frame

__all__ = ["align_cycles", "estimate_channel_shifts", "estimate_cycle_shifts"]

log = logging.getLogger(__name__)

ALIGN_METHODS = ("dapi", "sbs_mean")


def estimate_channel_shifts(
    cycles: Sequence[np.ndarray],
    *,
    base_indices: Sequence[int],
    cycle_shifts: np.ndarray | None = None,
    spot_suppression: int = 5,
    window: float = 0.5,
    upsample_factor: int = 10,
    max_shift: float = 3.0,
) -> np.ndarray:
    """Shift of every base channel relative to the first base channel, pooled over cycles.

    Base channels hold different spots, so what they share is only the faint, diffuse
    cell background; single-cycle estimates from it are noise-dominated. The channel
    offset comes from the optical path (filter cubes, chromatic shift) and is the
    same in every cycle, so it is estimated once from the sum over cycles (each
    cycle first registered by ``cycle_shifts``) of spot-suppressed images: a grey
    opening of ``spot_suppression`` px (wider than a spot) removes the spots and
    keeps the background. An estimate larger than ``max_shift`` px is taken as a
    failure, logged, and not applied. Non-base channels (DAPI) get no shift.

    Parameters
    ----------
    cycles : sequence of ndarray, each (channel, Y, X)
    base_indices : sequence of int
        Base channels; the first is the reference.
    cycle_shifts : ndarray (cycle, 2), optional
        Shift of each cycle relative to cycle 0; zeros if None.

    Returns
    -------
    ndarray, shape (channel, 2)
    """
    n_channels = cycles[0].shape[0]
    shifts = np.zeros((n_channels, 2))
    if len(base_indices) < 2:
        return shifts
    if cycle_shifts is None:
        cycle_shifts = np.zeros((len(cycles), 2))

    def background(frame: tuple[int, int]) -> np.ndarray:
        k, c = frame
        return shift_frame(_opened(cycles[k][c], spot_suppression), cycle_shifts[k], order=1)

    frames = [(k, j) for k in range(len(cycles)) for j in range(len(base_indices))]
    pooled = np.zeros((len(base_indices), *cycles[0].shape[-2:]), dtype=np.float32)
    found = map_frames(background, [(k, base_indices[j]) for k, j in frames])
    for (_, j), image in zip(frames, found, strict=True):  # summed in cycle order
        pooled[j] += image
    for j, c in enumerate(base_indices[1:], start=1):
        s = estimate_shift(pooled[0], pooled[j], window=window, upsample_factor=upsample_factor)
        if np.hypot(*s) > max_shift:
            log.warning(
                "channel %d shift %s px exceeds %.1f px; treated as failed and not applied",
                c,
                np.round(s, 2).tolist(),
                max_shift,
            )
            continue
        shifts[c] = s
    log.info("within-cycle channel shifts (dy, dx): %s", np.round(shifts, 2).tolist())
    return shifts


def _opened(frame: np.ndarray, size: int) -> np.ndarray:
    """Grey opening (``ndi.grey_opening``, same result) of a frame, as float32."""
    frame = frame.astype(np.float32)
    if size <= 1:
        return frame
    if size % 2 == 0:  # scipy offsets even dilation windows; keep its own code for them
        return ndi.grey_opening(frame, size=size)
    return sliding_max(sliding_min(frame, size), size)


def estimate_cycle_shifts(
    references: np.ndarray, *, window: float = 0.5, upsample_factor: int = 10
) -> np.ndarray:
    """Shift of every cycle's reference image relative to cycle 0.

    Parameters
    ----------
    references : ndarray, shape (cycle, Y, X)
        One registration image per cycle (DAPI, or the mean of base channels).

    Returns
    -------
    ndarray, shape (cycle, 2)
        Row k is ``(dy, dx)`` with ``cycle_k(y, x) ≈ cycle_0(y - dy, x - dx)``; row 0 is 0.
    """
    shifts = np.zeros((references.shape[0], 2))

    def shift_of(k: int) -> np.ndarray:
        return estimate_shift(
            references[0], references[k], window=window, upsample_factor=upsample_factor
        )

    shifts[1:] = map_frames(shift_of, range(1, references.shape[0])) or np.zeros((0, 2))
    return shifts


def _as_full_cycles(
    cycles: np.ndarray | Sequence[np.ndarray],
    n_channels: int,
    base_indices: Sequence[int],
    dapi_index: int | None,
) -> tuple[list[np.ndarray], list[bool]]:
    """Return per-cycle (C, Y, X) arrays and whether each cycle has all channels."""
    arrays = [np.asarray(c) for c in cycles]
    if not arrays:
        raise OpsflowError("align_cycles needs at least one cycle, got none.")
    shape = arrays[0].shape[-2:]
    full: list[bool] = []
    for k, a in enumerate(arrays):
        if a.ndim != 3 or a.shape[-2:] != shape:
            raise OpsflowError(
                f"cycle {k} has shape {a.shape}; expected (channel, Y, X) with Y, X = {shape}."
            )
        if a.shape[0] == n_channels:
            full.append(True)
        elif a.shape[0] == len(base_indices) and dapi_index is not None:
            full.append(False)
        else:
            raise OpsflowError(
                f"cycle {k} has {a.shape[0]} channels; expected {n_channels} (all channels) "
                f"or {len(base_indices)} (base channels only)."
            )
    return arrays, full


def align_cycles(
    cycles: np.ndarray | Sequence[np.ndarray],
    *,
    channel_names: Sequence[str] = ("DAPI", "G", "T", "A", "C"),
    dapi_channel: str | None = "DAPI",
    base_channels: Sequence[str] = ("G", "T", "A", "C"),
    method: str = "dapi",
    within_cycle: bool = True,
    window: float = 0.5,
    upsample_factor: int = 10,
    max_within_cycle_shift: float = 3.0,
    spot_suppression: int = 5,
    order: int = 1,
) -> np.ndarray:
    """Register SBS cycles into one ``aligned`` stack (cycle, channel, Y, X).

    Each cycle is registered to cycle 0 by its DAPI channel (``method='dapi'``) or by
    the mean of its base channels (``method='sbs_mean'``), and within a cycle the base
    channels are registered to the first base channel (one offset per channel,
    estimated from all cycles, see :func:`estimate_channel_shifts`). Cycles may come as a
    list in which some cycles hold only the base channels (DAPI imaged once); then
    registration uses the base-channel mean and the first DAPI found is copied into
    every cycle, so the output always has every channel.

    Parameters
    ----------
    cycles : ndarray (cycle, channel, Y, X) or sequence of (channel, Y, X)
        Raw SBS images, channels in ``channel_names`` order (base-only cycles in
        ``base_channels`` order).
    channel_names, dapi_channel, base_channels
        Channel layout, as in :class:`opsflow.sbs.SbsParams`.
    method : {'dapi', 'sbs_mean'}
        Registration image between cycles.
    within_cycle : bool
        Whether to register base channels within each cycle.
    window, upsample_factor
        Central window fraction and sub-pixel factor of the correlation.
    max_within_cycle_shift : float
        Within-cycle estimates beyond this (px) are treated as failed.
    spot_suppression : int
        Grey-opening size (px) that removes spots before within-cycle registration.
    order : int
        Spline order used to apply sub-pixel shifts.

    Returns
    -------
    ndarray, shape (cycle, channel, Y, X), dtype of the input
    """
    if method not in ALIGN_METHODS:
        raise OpsflowError(f"method must be one of {ALIGN_METHODS}, got {method!r}.")
    names = list(channel_names)
    dapi_index, base_indices = _channel_layout(names, dapi_channel, base_channels)
    arrays, full = _as_full_cycles(cycles, len(names), base_indices, dapi_index)
    stacks = _full_layout(arrays, full, len(names), base_indices)
    if not all(full) and method == "dapi":
        log.info("cycles differ in channels: registering by the mean of base channels")
        method = "sbs_mean"
    if method == "dapi" and dapi_index is None:
        raise OpsflowError("method 'dapi' needs a dapi_channel; use method='sbs_mean'.")

    if method == "dapi":
        references = np.stack([s[dapi_index] for s in stacks])
    else:
        references = np.stack([np.mean(s[base_indices], axis=0, dtype=np.float32) for s in stacks])
    cycle_shifts = estimate_cycle_shifts(references, window=window, upsample_factor=upsample_factor)
    log.info("cycle shifts (dy, dx): %s", np.round(cycle_shifts, 2).tolist())
    channel_shifts = np.zeros((len(names), 2))
    if within_cycle:
        channel_shifts = estimate_channel_shifts(
            stacks,
            base_indices=base_indices,
            cycle_shifts=cycle_shifts,
            spot_suppression=spot_suppression,
            window=window,
            upsample_factor=upsample_factor,
            max_shift=max_within_cycle_shift,
        )
    return _apply_shifts(stacks, full, cycle_shifts, channel_shifts, dapi_index, order)


def _channel_layout(
    names: list[str], dapi_channel: str | None, base_channels: Sequence[str]
) -> tuple[int | None, list[int]]:
    """Indices of the DAPI and base channels, each name checked against ``names``."""
    if dapi_channel is not None and dapi_channel not in names:
        raise OpsflowError(f"dapi_channel {dapi_channel!r} is not in channel_names {names}.")
    unknown = [b for b in base_channels if b not in names]
    if unknown:
        raise OpsflowError(f"base_channels {unknown} are not in channel_names {names}.")
    dapi_index = names.index(dapi_channel) if dapi_channel is not None else None
    return dapi_index, [names.index(b) for b in base_channels]


def _full_layout(
    arrays: list[np.ndarray], full: list[bool], n_channels: int, base_indices: Sequence[int]
) -> list[np.ndarray]:
    """Bring base-only cycles to the full channel layout (DAPI filled in after shifting)."""
    ny, nx = arrays[0].shape[-2:]
    stacks: list[np.ndarray] = []
    for a, is_full in zip(arrays, full, strict=True):
        if is_full:
            stacks.append(a)
        else:
            s = np.zeros((n_channels, ny, nx), dtype=a.dtype)
            s[list(base_indices)] = a
            stacks.append(s)
    return stacks


def _apply_shifts(
    stacks: list[np.ndarray],
    full: list[bool],
    cycle_shifts: np.ndarray,
    channel_shifts: np.ndarray,
    dapi_index: int | None,
    order: int,
) -> np.ndarray:
    """Shift every frame once by its cycle plus channel shift; copy DAPI to base-only cycles."""
    n_cycles, (n_channels, ny, nx) = len(stacks), stacks[0].shape
    aligned = np.zeros((n_cycles, n_channels, ny, nx), dtype=stacks[0].dtype)

    def register(frame: tuple[int, int]) -> None:
        k, c = frame
        aligned[k, c] = shift_frame(stacks[k][c], channel_shifts[c] + cycle_shifts[k], order=order)

    frames = [
        (k, c)
        for k in range(n_cycles)
        for c in range(n_channels)
        if not (c == dapi_index and not full[k])
    ]
    map_frames(register, frames)
    if dapi_index is not None and not all(full):
        first = full.index(True) if any(full) else None
        if first is None:
            raise OpsflowError("no cycle carries the DAPI channel; set dapi_channel=None.")
        for k in range(n_cycles):
            if not full[k]:
                aligned[k, dapi_index] = aligned[first, dapi_index]
    return aligned

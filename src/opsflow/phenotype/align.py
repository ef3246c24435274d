"""Register the channels of a phenotype tile to each other: ``aligned``.

Phenotype channels pass through different filters, sometimes different cameras, so each
may be offset from the nuclear channel by a fraction of a pixel to a few pixels. Known
offsets (from a calibration) are applied as configured; the rest is estimated by
cross-correlating a source channel with a target channel, and channels that share the
source's optical path (riders) move with it. Shifts follow the convention of
:mod:`opsflow.sbs.align`: ``channel(y, x) ~ reference(y - dy, x - dx)``. Every channel
is interpolated once, by the sum of its offsets, so no pixel is resampled twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from scipy import ndimage as ndi

from opsflow.errors import OpsflowError
from opsflow.phenotype.params import ALIGN_METHODS, AlignStep
from opsflow.registration import estimate_shift, shift_frame

__all__ = [
    "align_channels",
    "apply_channel_shifts",
    "estimate_channel_shifts",
    "registration_image",
]

log = logging.getLogger(__name__)


def registration_image(channel: np.ndarray, *, method: str, edge_sigma: float = 1.5) -> np.ndarray:
    """The image a channel is correlated through, for one registration method.

    Both methods work on the log intensity: it compresses the few brightest objects
    (foci, mitotic nuclei) that would otherwise dominate the correlation, and it makes
    each stain's brightness a constant offset that the correlation ignores.
    ``'intensity'`` is the log image itself: right when source and target stain the
    same structure (DAPI and a nuclear protein). ``'edges'`` is its Gaussian gradient
    magnitude: a cytoplasmic stain and DAPI do not overlap, so their intensities
    correlate best with the nuclei shifted into the cytoplasm's ring (about a nucleus
    radius off), but both change sharply at the nuclear rim.
    """
    if method not in ALIGN_METHODS:
        raise OpsflowError(f"method must be one of {ALIGN_METHODS}, got {method!r}.")
    logged = np.log(np.maximum(np.asarray(channel, dtype=np.float32), 1.0))
    if method == "intensity":
        return logged
    return ndi.gaussian_gradient_magnitude(logged, edge_sigma)


def _check_image(image: np.ndarray, channel_names: Sequence[str]) -> None:
    if image.ndim != 3 or image.shape[0] != len(channel_names):
        raise OpsflowError(
            f"phenotype image has shape {image.shape}; expected ({len(channel_names)} "
            f"channels {list(channel_names)}, Y, X)."
        )


def _index(channel_names: Sequence[str], name: str, what: str) -> int:
    if name not in channel_names:
        raise OpsflowError(f"{what} {name!r} is not one of the channels {list(channel_names)}.")
    return list(channel_names).index(name)


def estimate_channel_shifts(
    image: np.ndarray,
    *,
    channel_names: Sequence[str],
    offsets: Sequence[tuple[str, float, float]] = (),
    steps: Sequence[AlignStep] = (),
    window: float = 1.0,
    upsample_factor: int = 10,
    edge_sigma: float = 1.5,
    max_shift: float = 5.0,
) -> np.ndarray:
    """Shift of every channel relative to the frame of the registration targets.

    Parameters
    ----------
    image : ndarray, shape (C, Y, X)
        Illumination-corrected tile.
    channel_names : sequence of str
        Names of the C channels.
    offsets : sequence of (channel, dy, dx)
        Known shifts, applied before estimation and added to the estimates.
    steps : sequence of AlignStep
        Registrations in order. The source is correlated with the target as aligned so
        far (so a step may target a channel registered by an earlier step), and the
        estimate is added to the source's and its riders' shifts. An estimate longer
        than ``max_shift`` px is taken as a failed registration: logged, not applied.
    window, upsample_factor
        Central window fraction and sub-pixel factor of the correlation
        (:func:`opsflow.sbs.align.estimate_shift`).
    edge_sigma : float
        Gradient sigma of the ``'edges'`` method.

    Returns
    -------
    ndarray, shape (C, 2)
        ``(dy, dx)`` per channel; registering means shifting channel ``c`` by
        ``-shifts[c]``.
    """
    _check_image(image, channel_names)
    shifts = np.zeros((image.shape[0], 2))
    for name, dy, dx in offsets:
        shifts[_index(channel_names, name, "align offset channel")] += (dy, dx)
    for step in steps:
        src = _index(channel_names, step.source, "align source")
        tgt = _index(channel_names, step.target, "align target")
        riders = [_index(channel_names, r, "align rider") for r in step.riders]
        target = shift_frame(image[tgt].astype(np.float32), shifts[tgt])
        source = shift_frame(image[src].astype(np.float32), shifts[src])
        estimate = estimate_shift(
            registration_image(target, method=step.method, edge_sigma=edge_sigma),
            registration_image(source, method=step.method, edge_sigma=edge_sigma),
            window=window,
            upsample_factor=upsample_factor,
        )
        if np.hypot(*estimate) > max_shift:
            log.warning(
                "shift of %s relative to %s is %s px, beyond %.1f px: treated as failed "
                "and not applied",
                step.source,
                step.target,
                np.round(estimate, 2).tolist(),
                max_shift,
            )
            continue
        for c in (src, *riders):
            shifts[c] += estimate
    log.info(
        "phenotype channel shifts (dy, dx): %s",
        dict(zip(channel_names, np.round(shifts, 2).tolist(), strict=True)),
    )
    return shifts


def apply_channel_shifts(image: np.ndarray, shifts: np.ndarray, *, order: int = 1) -> np.ndarray:
    """Register every channel by its shift, once; pixels from outside the tile become 0.

    The zeros mark where a channel has no data, which the minimal feature table exposes
    as a per-channel minimum of 0.
    """
    shifts = np.asarray(shifts, dtype=float)
    if shifts.shape != (image.shape[0], 2):
        raise OpsflowError(
            f"expected shifts of shape ({image.shape[0]}, 2) for an image of shape "
            f"{image.shape}, got {shifts.shape}."
        )
    return np.stack([shift_frame(image[c], shifts[c], order=order) for c in range(len(image))])


def align_channels(
    image: np.ndarray,
    *,
    channel_names: Sequence[str],
    enabled: bool = True,
    offsets: Sequence[tuple[str, float, float]] = (),
    steps: Sequence[AlignStep] = (),
    window: float = 1.0,
    upsample_factor: int = 10,
    edge_sigma: float = 1.5,
    max_shift: float = 5.0,
    order: int = 1,
) -> np.ndarray:
    """Register a phenotype tile's channels: ``aligned`` (C, Y, X), dtype of the input.

    Fixed ``offsets`` first, then the estimated ``steps``
    (see :func:`estimate_channel_shifts`); a copy of the input when ``enabled`` is false.
    """
    _check_image(image, channel_names)
    if not enabled:
        return image.copy()
    shifts = estimate_channel_shifts(
        image,
        channel_names=channel_names,
        offsets=offsets,
        steps=steps,
        window=window,
        upsample_factor=upsample_factor,
        edge_sigma=edge_sigma,
        max_shift=max_shift,
    )
    return apply_channel_shifts(image, shifts, order=order)

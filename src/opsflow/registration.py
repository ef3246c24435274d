"""Image registration shared by every module: sub-pixel shifts and their application.

Shifts follow one convention everywhere in opsflow: a shift ``(dy, dx)`` of a moving
image relative to a reference means ``moving(y, x) ≈ reference(y - dy, x - dx)``; the
moving image is registered by shifting it by ``-(dy, dx)``. Shifts are found with
sub-pixel (upsampled) cross-correlation on a central window (the centre avoids the
vignetted, partly empty borders of a tile) and applied once per frame, so each pixel
is interpolated at most once.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import ndimage as ndi
from skimage.filters import window as taper_window
from skimage.registration import phase_cross_correlation

from opsflow.errors import OpsflowError

__all__ = ["estimate_shift", "shift_frame"]


def _central_window(image: np.ndarray, window: float) -> np.ndarray:
    ny, nx = image.shape[-2:]
    wy, wx = max(round(ny * window), 8), max(round(nx * window), 8)
    wy, wx = min(wy, ny), min(wx, nx)
    y0, x0 = (ny - wy) // 2, (nx - wx) // 2
    return image[..., y0 : y0 + wy, x0 : x0 + wx]


@lru_cache(maxsize=8)
def _taper(shape: tuple[int, ...]) -> np.ndarray:
    """Hann taper of a window (made once per shape: skimage builds it by interpolation)."""
    taper = taper_window("hann", shape).astype(np.float32)
    taper.flags.writeable = False
    return taper


def _xcorr_shift(ref: np.ndarray, mov: np.ndarray, upsample_factor: int) -> np.ndarray:
    """Cross-correlation shift of two equal windows, Hann-tapered."""
    taper = _taper(ref.shape)
    ref = (ref - ref.mean()) * taper
    mov = (mov - mov.mean()) * taper
    shift, _, _ = phase_cross_correlation(
        ref, mov, upsample_factor=upsample_factor, normalization=None
    )
    # skimage returns the shift that registers moving onto reference: our shift negated.
    return -np.asarray(shift, dtype=float)


def estimate_shift(
    reference: np.ndarray,
    moving: np.ndarray,
    *,
    window: float = 0.5,
    upsample_factor: int = 10,
) -> np.ndarray:
    """Estimate the sub-pixel shift of ``moving`` relative to ``reference``.

    Uses upsampled cross-correlation (Guizar-Sicairos et al.) of Hann-tapered
    central windows. Plain cross-correlation rather than phase correlation because
    nuclei are smooth: their high frequencies hold only noise, which phase
    normalisation would amplify to the level of the signal. The taper removes the
    window-edge discontinuity but biases the peak toward zero, so the estimate is
    refined once on the moving image shifted back by the first estimate, where the
    residual shift (and with it the bias) is small.

    Parameters
    ----------
    reference, moving : ndarray, shape (Y, X)
        Two views of the same field.
    window : float
        Side of the central window used, as a fraction of Y and X.
    upsample_factor : int
        Shifts are resolved to ``1 / upsample_factor`` px.

    Returns
    -------
    ndarray, shape (2,)
        ``(dy, dx)`` with ``moving(y, x) ≈ reference(y - dy, x - dx)``.
    """
    if reference.shape != moving.shape or reference.ndim != 2:
        raise OpsflowError(
            f"estimate_shift needs two 2-D images of equal shape, got {reference.shape} "
            f"and {moving.shape}."
        )
    if not 0 < window <= 1:
        raise OpsflowError(f"window must be in (0, 1], got {window}.")
    ref = _central_window(reference, window).astype(np.float32)
    mov = _central_window(moving, window).astype(np.float32)
    if ref.std() == 0 or mov.std() == 0:
        return np.zeros(2)
    first = _xcorr_shift(ref, mov, upsample_factor)
    if not first.any():
        return first
    residual = _xcorr_shift(ref, _shifted_window(moving, first, window), upsample_factor)
    return first + residual


def _shifted_window(moving: np.ndarray, shift: np.ndarray, window: float) -> np.ndarray:
    """The central window of ``moving`` shifted back by ``shift`` (linear, edges nearest).

    Only the window and the margin its samples reach are shifted, which gives the
    window of the whole shifted frame exactly (mode matters only past the frame).
    """
    ny, nx = moving.shape
    wy, wx = _central_window(moving, window).shape
    y0, x0 = (ny - wy) // 2, (nx - wx) // 2
    margin = int(np.ceil(np.abs(shift).max())) + 2
    top, left = max(0, y0 - margin), max(0, x0 - margin)
    crop = moving[top : min(ny, y0 + wy + margin), left : min(nx, x0 + wx + margin)]
    back = ndi.shift(crop.astype(np.float32), -shift, order=1, mode="nearest")
    return back[y0 - top : y0 - top + wy, x0 - left : x0 - left + wx]


def shift_frame(frame: np.ndarray, shift: np.ndarray, *, order: int = 1) -> np.ndarray:
    """Register a frame whose shift relative to the reference is ``shift``.

    Pixels that come from outside the frame are set to 0, so they never pass for
    signal. The result has the dtype of ``frame`` (rounded and clipped if integer).
    """
    shift = np.asarray(shift, dtype=float)
    if not shift.any():
        return frame.copy()
    if np.allclose(shift, np.round(shift)):
        order = 0  # integer shifts need no interpolation
    if order == 1 and frame.ndim == 2:
        out = _linear_shift(frame, shift)
    else:
        out = ndi.shift(
            frame.astype(np.float32),
            -shift,
            order=order,
            mode="constant",
            cval=0.0,
            prefilter=order > 1,
        )
    if np.issubdtype(frame.dtype, np.integer):
        info = np.iinfo(frame.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    return out.astype(frame.dtype)


def _linear_shift(frame: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``ndi.shift(frame, -shift, order=1, mode="constant")`` as float32, a few times faster.

    Written here because scipy computes spline weights pixel by pixel; one shift of a
    whole frame is four weighted views of it. Summed in float64 like scipy and rounded
    to float32 once, the result is scipy's; samples past the frame are 0 (no
    interpolation beyond the edge, scipy's ``constant`` mode).
    """
    out = np.zeros(frame.shape, dtype=np.float64)
    (ny, nx), (sy, sx) = frame.shape, (float(shift[0]), float(shift[1]))
    iy, ix = int(np.floor(sy)), int(np.floor(sx))
    ty, tx = sy - iy, sx - ix
    for ky, wy in ((iy, 1 - ty), (iy + 1, ty)):
        y_lo, y_hi = max(0, -ky), min(ny, ny - ky)
        for kx, wx in ((ix, 1 - tx), (ix + 1, tx)):
            x_lo, x_hi = max(0, -kx), min(nx, nx - kx)
            if wy * wx == 0 or y_lo >= y_hi or x_lo >= x_hi:
                continue
            view = frame[y_lo + ky : y_hi + ky, x_lo + kx : x_hi + kx]
            out[y_lo:y_hi, x_lo:x_hi] += (wy * wx) * view
    y, x = np.arange(ny) + sy, np.arange(nx) + sx
    out[(y < 0) | (y > ny - 1)] = 0
    out[:, (x < 0) | (x > nx - 1)] = 0
    return out.astype(np.float32)

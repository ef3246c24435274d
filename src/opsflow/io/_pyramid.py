"""Pyramid arithmetic: level shapes and the two block reductions.

Both reductions work on the last two axes (y, x) and accept sizes that are not a multiple
of the factor: a level has ``ceil(n / factor)`` pixels, and an edge block reduces over the
pixels it really has. Neither ever needs more than the rows it is given, so a writer can
stream bands through them.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["block_mean", "block_mode", "level_shapes"]


def level_shapes(
    shape: tuple[int, ...],
    chunk_yx: tuple[int, int],
    *,
    factor: int,
    max_levels: int | None,
) -> list[tuple[int, ...]]:
    """Shapes of every level: coarsen y and x until a level fits in one chunk.

    ``max_levels`` caps the total number of levels (level 0 included).
    """
    shapes = [tuple(shape)]
    while max_levels is None or len(shapes) < max_levels:
        *lead, h, w = shapes[-1]
        if h <= chunk_yx[0] and w <= chunk_yx[1]:
            break
        shapes.append((*lead, math.ceil(h / factor), math.ceil(w / factor)))
    return shapes


def _work_dtype(dtype: np.dtype) -> type[np.floating]:
    # float32 sums of up to 256 values of a 16-bit integer are exact; wider integers and
    # floats need float64 so the mean is correctly rounded to the stored type.
    if dtype.kind in "ui" and dtype.itemsize <= 2:
        return np.float32
    return np.float64


def block_mean(a: np.ndarray, factor: int) -> np.ndarray:
    """Mean over ``factor x factor`` blocks of y and x, rounded and clipped to the input dtype.

    Integer images are rounded half-to-even (``numpy.rint``) so the mean is unbiased.
    """
    if factor == 1:
        return a.copy()
    h, w = a.shape[-2:]
    work = _work_dtype(a.dtype)
    # Sum the block rows, then the block columns; slice 0 has ceil(n / factor) entries,
    # later slices may have one fewer at a partial edge block.
    rows = a[..., 0::factor, :].astype(work)
    for i in range(1, factor):
        part = a[..., i::factor, :]
        rows[..., : part.shape[-2], :] += part
    out = rows[..., 0::factor].copy()
    for j in range(1, factor):
        part = rows[..., j::factor]
        out[..., : part.shape[-1]] += part
    if h % factor == 0 and w % factor == 0:
        out /= factor * factor
    else:
        hc, wc = out.shape[-2:]
        row_n = np.full((hc, 1), factor, dtype=work)
        row_n[-1] = h - (hc - 1) * factor
        col_n = np.full(wc, factor, dtype=work)
        col_n[-1] = w - (wc - 1) * factor
        out /= row_n
        out /= col_n
    if a.dtype.kind in "ui":
        info = np.iinfo(a.dtype)
        np.rint(out, out=out)
        np.clip(out, info.min, info.max, out=out)
    return out.astype(a.dtype, copy=False)


def block_mode(a: np.ndarray, factor: int) -> np.ndarray:
    """Most frequent value in each ``factor x factor`` block: a label pyramid step.

    Never creates a value that is not in the block. Ties go to a non-zero label (thin
    objects survive coarsening), then to the first pixel in reading order. Edge blocks are
    padded by repeating their own edge pixels.
    """
    if factor == 1:
        return a.copy()
    *lead, h, w = a.shape
    hc, wc = math.ceil(h / factor), math.ceil(w / factor)
    pad = [(0, 0)] * len(lead) + [(0, hc * factor - h), (0, wc * factor - w)]
    if any(p[1] for p in pad):
        a = np.pad(a, pad, mode="edge")
    candidates = [a[..., i::factor, j::factor] for i in range(factor) for j in range(factor)]
    best = candidates[0].copy()
    best_score = np.full(best.shape, -1, dtype=np.int16)
    for cand in candidates:
        score = sum((cand == other).astype(np.int16) for other in candidates) * 2
        score += cand != 0
        better = score > best_score
        best[better] = cand[better]
        best_score[better] = score[better]
    return best

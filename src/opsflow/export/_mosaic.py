"""Well mosaics: every tile of a well placed at its stage position, as one lazy image.

The writer streams a mosaic band by band, so a mosaic is never assembled in memory:
:class:`Mosaic` answers each band it is sliced for from the tiles that overlap it.
Where tiles overlap, a pixel comes from the tile whose centre is nearest (ties go to the
tile listed first), which is deterministic and keeps each pixel at the best-corrected
part of some tile. Label tiles are offset so that values stay unique in the well, and
the offsets say which (tile, label) each mosaic value stands for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from opsflow.errors import InputFileError
from opsflow.io import ArrayLike

__all__ = ["Mosaic", "TilePlacement", "label_offsets", "place_tiles"]


@dataclass(frozen=True)
class TilePlacement:
    """Where one tile's level 0 lies in the mosaic (top-left pixel) and its size."""

    tile: int
    y: int
    x: int
    height: int
    width: int

    @property
    def centre(self) -> tuple[float, float]:
        """Centre of the tile in mosaic pixels."""
        return self.y + (self.height - 1) / 2, self.x + (self.width - 1) / 2


def place_tiles(
    metadata: pd.DataFrame,
    shapes: Mapping[int, tuple[int, int]],
    pixel_size: tuple[float, float],
    *,
    where: str = "metadata",
) -> list[TilePlacement]:
    """Pixel placement of each tile from its stage position (``x_pos``, ``y_pos``, µm).

    Positions are taken as the same point of every tile (as a microscope records them);
    the mosaic's origin is the smallest position. Raises one sentence where a tile has
    no position.
    """
    rows = metadata.drop_duplicates("tile").set_index("tile")
    missing = [t for t in shapes if t not in rows.index]
    if missing:
        raise InputFileError(f"{where}: expected a row for tiles {missing[:5]}, found none.")
    pos = rows.loc[list(shapes), ["y_pos", "x_pos"]].to_numpy(dtype=float)
    if not np.isfinite(pos).all():
        bad = [t for t, p in zip(shapes, pos, strict=True) if not np.isfinite(p).all()]
        raise InputFileError(
            f"{where}: expected a stage position for every tile, found none for tiles {bad[:5]}."
        )
    pixels = np.rint((pos - pos.min(axis=0)) / np.asarray(pixel_size)).astype(int)
    return [
        TilePlacement(int(t), int(y), int(x), *shapes[t])
        for t, (y, x) in zip(shapes, pixels, strict=True)
    ]


def label_offsets(maxima: Sequence[int]) -> list[int]:
    """What to add to each tile's labels so the values of a well never collide.

    >>> label_offsets([3, 0, 5])
    [0, 3, 3]
    """
    return [int(v) for v in np.concatenate([[0], np.cumsum(maxima)[:-1]])]


class Mosaic:
    """A lazy array-like of a well: tiles (same leading axes) placed on one canvas.

    Parameters
    ----------
    tiles
        Each tile's level 0 (lazy readers are fine), in the order of ``placements``.
    placements
        Where each tile goes.
    offsets
        For label images, what is added to each tile's non-zero values.
    """

    def __init__(
        self,
        tiles: Sequence[ArrayLike],
        placements: Sequence[TilePlacement],
        *,
        offsets: Sequence[int] | None = None,
    ) -> None:
        lead = {tuple(t.shape[:-2]) for t in tiles}
        if len(lead) != 1:
            raise InputFileError(f"tiles of one well differ in their leading axes: {sorted(lead)}.")
        self.tiles = list(tiles)
        self.placements = list(placements)
        self.offsets = list(offsets) if offsets is not None else None
        dtypes = {np.dtype(t.dtype) for t in tiles}
        self.dtype = np.result_type(*dtypes) if self.offsets is None else np.dtype(np.uint32)
        height = max(p.y + p.height for p in placements)
        width = max(p.x + p.width for p in placements)
        self.shape = (*lead.pop(), height, width)
        self.ndim = len(self.shape)

    def __getitem__(self, key: tuple[slice, ...]) -> np.ndarray:
        key = tuple(key) + (slice(None),) * (self.ndim - len(key))
        lead, (ys, xs) = key[:-2], key[-2:]
        y0, y1, _ = ys.indices(self.shape[-2])
        x0, x1, _ = xs.indices(self.shape[-1])
        lead_shape = [len(range(*k.indices(n))) for k, n in zip(lead, self.shape, strict=False)]
        out = np.zeros((*lead_shape, y1 - y0, x1 - x0), dtype=self.dtype)
        best = np.full((y1 - y0, x1 - x0), np.inf)
        for i, p in enumerate(self.placements):
            ty0, ty1 = max(y0, p.y), min(y1, p.y + p.height)
            tx0, tx1 = max(x0, p.x), min(x1, p.x + p.width)
            if ty0 >= ty1 or tx0 >= tx1:
                continue
            cy, cx = p.centre
            dist = (np.arange(ty0, ty1)[:, None] - cy) ** 2 + (
                np.arange(tx0, tx1)[None, :] - cx
            ) ** 2
            here = (slice(ty0 - y0, ty1 - y0), slice(tx0 - x0, tx1 - x0))
            wins = dist < best[here]
            if not wins.any():
                continue
            best[here][wins] = dist[wins]
            part = np.asarray(
                self.tiles[i][(*lead, slice(ty0 - p.y, ty1 - p.y), slice(tx0 - p.x, tx1 - p.x))]
            )
            if self.offsets is not None:
                part = np.where(part > 0, part.astype(np.uint32) + self.offsets[i], 0)
            target = out[(..., *here)]
            target[..., wins] = part[..., wins]
        return out

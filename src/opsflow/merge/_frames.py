"""Tiles on the stage: where each tile's pixels lie in micrometres, from its metadata.

A tile's recorded stage position is taken as its centre (as ND2 and most OME-TIFF
writers record it); a vendor that records a corner shifts every tile of a modality by
the same amount, which the well's fitted translation absorbs.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from opsflow.errors import InputFileError

__all__ = ["FRAME_COLUMNS", "tile_frames", "to_stage"]

log = logging.getLogger(__name__)

FRAME_COLUMNS = ("tile", "y_um", "x_um", "pixel_size_y", "pixel_size_x", "height", "width")


def tile_frames(metadata: pd.DataFrame, *, where: str = "metadata") -> pd.DataFrame:
    """One row per tile: its centre on the stage (µm), pixel size (µm) and size (pixels).

    A tile without a stage position cannot be placed: it is left out, with one warning
    naming ``where`` and the tiles, and the others go on; where no tile has one, that
    is an error.
    """
    need = {"tile", "x_pos", "y_pos", "pixel_size_y", "pixel_size_x", "height", "width"}
    missing = sorted(need - set(metadata.columns))
    if missing:
        raise InputFileError(f"{where}: expected columns {', '.join(missing)}, found none.")
    rows = metadata.drop_duplicates("tile").sort_values("tile")
    placed = np.isfinite(rows[["x_pos", "y_pos"]].to_numpy(float)).all(axis=1)
    if not placed.any():
        raise InputFileError(f"{where}: expected stage positions of the tiles, found none.")
    if not placed.all():
        bad = rows.loc[~placed, "tile"].tolist()
        log.warning(
            "%s: tiles %s have no stage position; their cells are left out of the merge.",
            where, ", ".join(map(str, bad[:10])),
        )  # fmt: skip
        rows = rows[placed]
    return pd.DataFrame(
        {
            "tile": rows["tile"].astype(int).to_numpy(),
            "y_um": rows["y_pos"].to_numpy(float),
            "x_um": rows["x_pos"].to_numpy(float),
            "pixel_size_y": rows["pixel_size_y"].to_numpy(float),
            "pixel_size_x": rows["pixel_size_x"].to_numpy(float),
            "height": rows["height"].to_numpy(int),
            "width": rows["width"].to_numpy(int),
        }
    )


def to_stage(tiles: np.ndarray, yx: np.ndarray, frames: pd.DataFrame) -> np.ndarray:
    """Stage micrometres (y, x) of pixel positions ``yx`` in the given ``tiles``."""
    f = frames.set_index("tile").loc[np.asarray(tiles, int)]
    centre = (f[["height", "width"]].to_numpy(float) - 1) / 2
    size = f[["pixel_size_y", "pixel_size_x"]].to_numpy(float)
    origin = f[["y_um", "x_um"]].to_numpy(float)
    return origin + (np.asarray(yx, float) - centre) * size

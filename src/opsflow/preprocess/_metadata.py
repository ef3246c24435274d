"""Per-tile acquisition metadata: stage position, pixel size, channels.

Later steps need the stage position of every tile (to match phenotype and SBS fields
of view) and the pixel size (for physical units in exports); both come from the raw
files where the files record them, else from the configuration.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from opsflow.errors import ConfigError
from opsflow.io import RawImage
from opsflow.preprocess._convert import converted_channel_names

__all__ = ["METADATA_COLUMNS", "combine_metadata", "tile_metadata"]

logger = logging.getLogger(__name__)

#: Columns of the combined metadata table, in order.
METADATA_COLUMNS: tuple[str, ...] = (
    "plate",
    "well",
    "tile",
    "cycle",
    "x_pos",
    "y_pos",
    "z_pos",
    "pixel_size_x",
    "pixel_size_y",
    "pixel_size_source",
    "channels",
    "n_channels",
    "height",
    "width",
    "filename",
)


def _pair(value: float | Sequence[float]) -> tuple[float, float]:
    if isinstance(value, int | float):
        return (float(value), float(value))
    y, x = value
    return (float(y), float(x))


def tile_metadata(
    raws: Sequence[RawImage],
    *,
    plate: str,
    well: str,
    tile: int,
    cycle: int | None = None,
    image_shape: tuple[int, int, int],
    pixel_size_um: float | Sequence[float] | None = None,
    channel_names: Sequence[str] | None = None,
    channel_order_flip: bool = False,
) -> dict[str, Any]:
    """Return one metadata row for a converted tile.

    Parameters
    ----------
    raws : sequence of RawImage
        The raw files the tile was converted from.
    plate, well, tile, cycle
        Identity of the tile; ``cycle`` is None for phenotype.
    image_shape : tuple of int
        (C, Y, X) of the converted tile.
    pixel_size_um : float or (y, x), optional
        Configured pixel size, used when the files record none. When both exist and
        disagree by more than 1 %, the file wins and a warning is logged.
    channel_names : sequence of str, optional
        Configured channel names in canonical order, used when the files record none.
    channel_order_flip : bool
        Whether conversion flipped the channels (file names are flipped the same way).
    """
    from_file = next((r.pixel_size_um for r in raws if r.pixel_size_um), None)
    configured = _pair(pixel_size_um) if pixel_size_um is not None else None
    if from_file is not None:
        size, source = from_file, "file"
        if configured is not None and not np.allclose(size, configured, rtol=0.01):
            logger.warning(
                "%s: pixel size %s um in the file differs from the configured %s um; "
                "using the file's",
                raws[0].path,
                size,
                configured,
            )
    elif configured is not None:
        size, source = configured, "config"
    else:
        raise ConfigError(
            f"{raws[0].path}: expected a pixel size in the file or in the configuration, "
            "found neither."
        )
    stage = next((r.stage_position_um for r in raws if r.stage_position_um), None)
    x, y, z = stage if stage is not None else (np.nan, np.nan, np.nan)
    names = converted_channel_names(
        raws, channel_order_flip=channel_order_flip, configured=channel_names
    )
    return {
        "plate": str(plate),
        "well": str(well),
        "tile": int(tile),
        "cycle": None if cycle is None else int(cycle),
        "x_pos": float(x),
        "y_pos": float(y),
        "z_pos": float(z),
        "pixel_size_x": float(size[1]),
        "pixel_size_y": float(size[0]),
        "pixel_size_source": source,
        "channels": ",".join(names) if names else "",
        "n_channels": int(image_shape[0]),
        "height": int(image_shape[1]),
        "width": int(image_shape[2]),
        "filename": ";".join(str(r.path) for r in raws),
    }


def combine_metadata(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Combine per-tile rows into one table sorted by tile and cycle.

    The ``cycle`` column is dropped when no row has a cycle (phenotype).
    """
    table = pd.DataFrame(list(rows), columns=list(METADATA_COLUMNS))
    if table["cycle"].isna().all():
        table = table.drop(columns="cycle")
        return table.sort_values(["plate", "well", "tile"], kind="stable").reset_index(drop=True)
    table["cycle"] = table["cycle"].astype("Int64")
    return table.sort_values(["plate", "well", "tile", "cycle"], kind="stable").reset_index(
        drop=True
    )

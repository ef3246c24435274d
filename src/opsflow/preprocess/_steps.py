"""The preprocess steps as the workflow runs them: one tile's raw files, one well's tables."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from opsflow.io import RawImage
from opsflow.preprocess._convert import convert_raw
from opsflow.preprocess._metadata import combine_metadata, tile_metadata

__all__ = ["combine_metadata_tables", "convert_step"]


def convert_step(
    raws: Sequence[RawImage],
    *,
    plate: str,
    well: str,
    tile: int,
    cycle: int | None,
    n_z_planes: int | None,
    channel_order_flip: bool,
    pixel_size_um: float | None,
    channel_names: Sequence[str],
) -> tuple[np.ndarray, pd.DataFrame]:
    """Convert one tile (and cycle) to (C, Y, X) and record its acquisition metadata.

    Returns the image and a one-row metadata table, so the pixel size and channel order
    recorded in the files travel with the tile.
    """
    image = convert_raw(raws, n_z_planes=n_z_planes, channel_order_flip=channel_order_flip)
    row = tile_metadata(
        raws,
        plate=plate,
        well=well,
        tile=tile,
        cycle=cycle,
        image_shape=image.shape,
        pixel_size_um=pixel_size_um,
        channel_names=channel_names,
        channel_order_flip=channel_order_flip,
    )
    return image, combine_metadata([row])


def combine_metadata_tables(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One well's metadata: the per-tile tables combined and sorted by tile and cycle."""
    return combine_metadata(r for t in tables for r in t.to_dict("records"))

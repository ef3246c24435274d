"""Table helpers shared by every module."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from opsflow.errors import OpsflowError

__all__ = ["combine_tiles"]


def combine_tiles(tables: Mapping[int, pd.DataFrame], *, plate: str, well: str) -> pd.DataFrame:
    """Stack per-tile tables into one per-well table with ``plate, well, tile`` columns.

    Cell and read ids are per tile, so ``(tile, cell)`` identifies a cell in a well.
    Empty tiles contribute no rows but the columns survive.
    """
    if not tables:
        raise OpsflowError("combine_tiles needs at least one tile table.")
    parts = []
    for tile, table in sorted(tables.items()):
        part = table.copy()
        part.insert(0, "tile", np.int64(tile))
        part.insert(0, "well", well)
        part.insert(0, "plate", plate)
        parts.append(part)
    non_empty = [p for p in parts if not p.empty]
    combined = pd.concat(non_empty, ignore_index=True) if non_empty else parts[0]
    combined["tile"] = combined["tile"].astype(np.int64)
    return combined

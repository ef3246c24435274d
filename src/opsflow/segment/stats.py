"""Segmentation statistics: one row per image, for QC across tiles and wells."""

from __future__ import annotations

import numpy as np
import pandas as pd

from opsflow.errors import OpsflowError

__all__ = ["SEGMENTATION_STATS_COLUMNS", "segmentation_stats"]

SEGMENTATION_STATS_COLUMNS = (
    "number_nuclei",
    "number_cells",
    "mean_nucleus_area",
    "median_nucleus_area",
    "mean_cell_area",
    "median_cell_area",
    "nuclei_fraction_of_image",
    "cells_fraction_of_image",
    "cells_without_nucleus",
)


def segmentation_stats(nuclei: np.ndarray, cells: np.ndarray) -> pd.DataFrame:
    """Summarise a segmentation (counts, areas, coverage) as a one-row table.

    A sudden drop of the count or jump of the median area across tiles flags a
    failed threshold faster than looking at masks. Areas are NaN when there are
    no objects.
    """
    if nuclei.shape != cells.shape:
        raise OpsflowError(f"nuclei {nuclei.shape} and cells {cells.shape} differ in shape.")
    nucleus_counts = np.bincount(nuclei.ravel().astype(np.int64))[1:]
    cell_counts = np.bincount(cells.ravel().astype(np.int64))[1:]
    nucleus_areas = nucleus_counts[nucleus_counts > 0]
    cell_areas = cell_counts[cell_counts > 0]
    cell_labels = np.flatnonzero(cell_counts) + 1
    nucleus_labels = np.flatnonzero(nucleus_counts) + 1

    def stat(values: np.ndarray, fn: str) -> float:
        return float(getattr(np, fn)(values)) if values.size else float("nan")

    row = {
        "number_nuclei": int(nucleus_areas.size),
        "number_cells": int(cell_areas.size),
        "mean_nucleus_area": stat(nucleus_areas, "mean"),
        "median_nucleus_area": stat(nucleus_areas, "median"),
        "mean_cell_area": stat(cell_areas, "mean"),
        "median_cell_area": stat(cell_areas, "median"),
        "nuclei_fraction_of_image": float((nuclei > 0).mean()) if nuclei.size else 0.0,
        "cells_fraction_of_image": float((cells > 0).mean()) if cells.size else 0.0,
        "cells_without_nucleus": int(np.setdiff1d(cell_labels, nucleus_labels).size),
    }
    return pd.DataFrame([row], columns=list(SEGMENTATION_STATS_COLUMNS))

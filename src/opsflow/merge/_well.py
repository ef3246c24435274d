"""Merging one well: positions, registration, matching and quality in one call."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from opsflow.merge._frames import tile_frames, to_stage
from opsflow.merge._match import match_cells, overlapping_pairs, tile_boxes
from opsflow.merge._params import MergeParams
from opsflow.merge._register import Registration, refine_pairs, register_well

__all__ = ["WellMerge", "cell_positions", "merge_well"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WellMerge:
    """What merging a well gives: matches, per tile-pair quality and the fitted transform."""

    matches: pd.DataFrame
    quality: pd.DataFrame
    registration: Registration
    max_distance_um: float
    frames: tuple[pd.DataFrame, pd.DataFrame]  # phenotype, SBS tiles about the well centre


def cell_positions(
    cells: pd.DataFrame, frames: pd.DataFrame, *, cell: str, y: str, x: str
) -> pd.DataFrame:
    """``tile, cell, y_um, x_um, border_um`` of cells given in tile pixels."""
    if cells.empty:
        return pd.DataFrame(columns=["tile", "cell", "y_um", "x_um", "border_um"])
    known = np.isin(cells["tile"].to_numpy(int), frames["tile"].to_numpy())
    if not known.all():  # tiles left out (no stage position) or not in the metadata
        cells = cells[known]
    yx = cells[[y, x]].to_numpy(float)
    tiles = cells["tile"].to_numpy(int)
    stage = to_stage(tiles, yx, frames)
    f = frames.set_index("tile").loc[tiles]
    edge = np.minimum.reduce(
        [
            yx[:, 0],
            f["height"].to_numpy() - 1 - yx[:, 0],
            yx[:, 1],
            f["width"].to_numpy() - 1 - yx[:, 1],
        ]
    )
    return pd.DataFrame(
        {
            "tile": tiles,
            "cell": cells[cell].to_numpy(int),
            "y_um": stage[:, 0],
            "x_um": stage[:, 1],
            "border_um": edge * f["pixel_size_y"].to_numpy(float),
        }
    )


def _max_distance(
    params: MergeParams, registration: Registration, sbs: pd.DataFrame
) -> tuple[float, float]:
    """Match radius of pairs with their own translation, and of those without (loose)."""
    points = sbs[["y_um", "x_um"]].to_numpy(float)
    spacing = np.median(cKDTree(points).query(points, k=2)[0][:, 1]) if len(points) > 2 else 10.0
    if params.max_distance_um is not None:
        return float(params.max_distance_um), float(params.max_distance_um)
    p90 = registration.residual_p90_um if np.isfinite(registration.residual_p90_um) else 1.0
    tight = float(max(1.0, min(5 * p90, spacing / 2)))
    return tight, float(max(tight, spacing / 3))


def merge_well(
    pheno_cells: pd.DataFrame,
    pheno_metadata: pd.DataFrame,
    sbs_cells: pd.DataFrame,
    sbs_metadata: pd.DataFrame,
    params: MergeParams,
    *,
    where: str = "well",
) -> WellMerge:
    """Join a well's phenotype cells to its SBS cells.

    ``pheno_cells`` has ``tile, label, nucleus_centroid_y, nucleus_centroid_x``
    (phenotype pixels), ``sbs_cells`` ``tile, cell, nucleus_centroid_y,
    nucleus_centroid_x``; the metadata tables are each modality's preprocess metadata.
    """
    p_frames = tile_frames(pheno_metadata, where=f"{where} phenotype metadata")
    s_frames = tile_frames(sbs_metadata, where=f"{where} SBS metadata")
    # about the well's centre, not the plate's origin: rotation and scale then barely
    # trade off against the translation, which is the one at the well's centre
    centre = s_frames[["y_um", "x_um"]].mean().to_numpy()
    p_frames, s_frames = (
        f.assign(y_um=f.y_um - centre[0], x_um=f.x_um - centre[1]) for f in (p_frames, s_frames)
    )
    pheno = cell_positions(
        pheno_cells, p_frames, cell="label", y="nucleus_centroid_y", x="nucleus_centroid_x"
    )
    sbs = cell_positions(
        sbs_cells, s_frames, cell="cell", y="nucleus_centroid_y", x="nucleus_centroid_x"
    )
    registration = register_well(
        pheno,
        sbs,
        search_radius_um=params.search_radius_um,
        vote_bin_um=params.vote_bin_um,
        max_points_per_tile=params.max_points_per_tile,
        min_votes=params.min_votes,
    )
    s_boxes = tile_boxes(s_frames)
    pairs = overlapping_pairs(tile_boxes(p_frames, registration.transform), s_boxes)
    registration = refine_pairs(registration, pheno, sbs, pairs, vote_bin_um=params.vote_bin_um)
    distance, loose = _max_distance(params, registration, sbs)
    matches, quality = match_cells(
        pheno, sbs, pairs, s_boxes, registration, max_distance_um=distance,
        loose_distance_um=loose,
    )  # fmt: skip
    judged = quality["n_phenotype_cells"] >= _MIN_CELLS_TO_JUDGE
    poor = judged & (
        (quality["matched_fraction"] < params.min_matched_fraction)
        | ~(quality["residual_p90_um"] <= params.max_residual_p90_um)
    )
    lonely = sorted(set(p_frames["tile"]) - {p for p, _ in pairs})
    if lonely:
        log.warning(
            "%s: phenotype tiles %s overlap no SBS tile; their cells stay unmatched.",
            where,
            ", ".join(map(str, lonely[:10])),
        )
    return WellMerge(
        matches, quality.assign(poor=poor), registration, distance, (p_frames, s_frames)
    )


_MIN_CELLS_TO_JUDGE = 10  # a tile pair overlapping fewer cells is too small to call poor

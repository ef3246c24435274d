"""Cells matched across the two acquisitions of a well, tile pair by tile pair.

Only tile pairs that overlap (by the fitted transform and the stage positions) are
compared, found with a tree over tile centres, so a well of a thousand tiles costs
thousands of pairs, not a million. Within a pair, cells match as mutual nearest
neighbours closer than ``max_distance``. Where tiles overlap, one physical cell is seen
twice: each phenotype cell keeps its match farthest from an SBS tile border, and each SBS
cell the phenotype cell farthest from a phenotype tile border.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from opsflow.merge._register import Registration, mutual_pairs
from opsflow.merge._transform import Similarity

__all__ = ["MATCH_COLUMNS", "match_cells", "overlapping_pairs", "tile_boxes"]

MATCH_COLUMNS = ("phenotype_tile", "phenotype_cell", "sbs_tile", "sbs_cell", "distance_um")


def tile_boxes(frames: pd.DataFrame, transform: Similarity | None = None) -> pd.DataFrame:
    """Bounding box (µm) of every tile, after ``transform`` where given: y0, x0, y1, x1."""
    size = frames[["height", "width"]].to_numpy(float) - 1
    half = size / 2 * frames[["pixel_size_y", "pixel_size_x"]].to_numpy(float)
    centre = frames[["y_um", "x_um"]].to_numpy(float)
    corners = np.stack([centre + half * s for s in ([-1, -1], [-1, 1], [1, -1], [1, 1])])
    if transform is not None:
        corners = np.stack([transform.apply(c) for c in corners])
    return pd.DataFrame(
        {
            "tile": frames["tile"].to_numpy(),
            "y0": corners[..., 0].min(axis=0),
            "x0": corners[..., 1].min(axis=0),
            "y1": corners[..., 0].max(axis=0),
            "x1": corners[..., 1].max(axis=0),
        }
    )


def overlapping_pairs(pheno: pd.DataFrame, sbs: pd.DataFrame) -> list[tuple[int, int]]:
    """(phenotype tile, SBS tile) whose boxes overlap; a tree over centres, no all-pairs."""

    def centres(b: pd.DataFrame) -> np.ndarray:
        return np.stack([(b.y0 + b.y1) / 2, (b.x0 + b.x1) / 2], axis=1).astype(float)

    def radius(b: pd.DataFrame) -> np.ndarray:
        return np.hypot(b.y1 - b.y0, b.x1 - b.x0).to_numpy(float) / 2

    tree = cKDTree(centres(sbs))
    reach = radius(pheno) + radius(sbs).max()
    pairs = []
    for k, near in enumerate(tree.query_ball_point(centres(pheno), r=reach)):
        p = pheno.iloc[k]
        for j in sorted(near):
            s = sbs.iloc[j]
            if p.y0 < s.y1 and s.y0 < p.y1 and p.x0 < s.x1 and s.x0 < p.x1:
                pairs.append((int(p.tile), int(s.tile)))
    return pairs


_EDGE_UM = 10.0  # about a cell radius: cells nearer a tile's edge are cut off on that side


def _inside(points: np.ndarray, box: pd.Series, margin: float = _EDGE_UM) -> np.ndarray:
    """Points well inside a box: cells that the other tile sees whole, so should match."""
    return (
        (points[:, 0] >= box.y0 + margin) & (points[:, 0] <= box.y1 - margin)
        & (points[:, 1] >= box.x0 + margin) & (points[:, 1] <= box.x1 - margin)
    )  # fmt: skip


def match_cells(
    pheno: pd.DataFrame,
    sbs: pd.DataFrame,
    pairs: list[tuple[int, int]],
    sbs_boxes: pd.DataFrame,
    registration: Registration,
    *,
    max_distance_um: float,
    loose_distance_um: float | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Matches (one row per kept phenotype cell) and the quality of every tile pair.

    A pair without a translation of its own (too few cells in its overlap) is placed by
    its tiles' shifts, which can be off by the stage jitter of both acquisitions; its
    cells are matched within ``loose_distance_um`` (default ``max_distance_um``): mutual
    nearest neighbours stay unambiguous well below the spacing of the nuclei.

    ``pheno`` and ``sbs`` have ``tile, cell, y_um, x_um, border_um`` (stage µm, and the
    distance to the cell's own tile border).
    """
    p_groups = {t: g for t, g in pheno.groupby("tile")}
    s_groups = {t: g for t, g in sbs.groupby("tile")}
    boxes = sbs_boxes.set_index("tile")
    found, quality = [], []
    for p_tile, s_tile in pairs:
        p, s = p_groups.get(p_tile), s_groups.get(s_tile)
        if p is None or s is None:
            continue
        transform = registration.for_pair(p_tile, s_tile)
        moved = transform.apply(p[["y_um", "x_um"]].to_numpy(float))
        inside = _inside(moved, boxes.loc[s_tile])
        s_points = s[["y_um", "x_um"]].to_numpy(float)
        own = registration.has_own_offset(p_tile, s_tile)
        radius = max_distance_um if own or loose_distance_um is None else loose_distance_um
        i, j, dist = mutual_pairs(moved, cKDTree(s_points), radius)
        found.append(
            pd.DataFrame(
                {
                    "phenotype_tile": p_tile,
                    "phenotype_cell": p["cell"].to_numpy()[i],
                    "sbs_tile": s_tile,
                    "sbs_cell": s["cell"].to_numpy()[j],
                    "distance_um": dist,
                    "y_um": moved[i, 0],
                    "x_um": moved[i, 1],
                    "dy_um": s_points[j, 0] - moved[i, 0],
                    "dx_um": s_points[j, 1] - moved[i, 1],
                    "phenotype_border_um": p["border_um"].to_numpy()[i],
                    "sbs_border_um": s["border_um"].to_numpy()[j],
                }
            )
        )
        quality.append(_quality(p_tile, s_tile, inside, i, dist))
    matches = pd.concat(found, ignore_index=True) if found else _empty()
    kept = _once_per_place(_one_to_one(matches), max_distance_um)
    return kept, pd.DataFrame(quality, columns=_QUALITY)


_QUALITY = [
    "phenotype_tile", "sbs_tile", "n_phenotype_cells", "n_matched", "matched_fraction",
    "residual_median_um", "residual_p90_um",
]  # fmt: skip


def _quality(p_tile: int, s_tile: int, inside: np.ndarray, i: np.ndarray, dist: np.ndarray) -> list:
    """One row of the tile-pair table: the matched fraction of the cells well inside."""
    n_inside = int(inside.sum())
    fraction = float(inside[i].sum() / n_inside) if n_inside else float("nan")
    median = float(np.median(dist)) if len(dist) else float("nan")
    p90 = float(np.percentile(dist, 90)) if len(dist) else float("nan")
    return [p_tile, s_tile, n_inside, len(dist), fraction, median, p90]


def _empty() -> pd.DataFrame:
    columns = [*MATCH_COLUMNS, "y_um", "x_um", "dy_um", "dx_um"]
    columns += ["phenotype_border_um", "sbs_border_um"]
    return pd.DataFrame({c: pd.Series(dtype=float if "um" in c else int) for c in columns})


def _one_to_one(matches: pd.DataFrame) -> pd.DataFrame:
    """One SBS cell per phenotype cell and one phenotype cell per SBS cell, farthest in."""
    order = matches.sort_values(
        ["sbs_border_um", "phenotype_border_um"], ascending=False, kind="stable"
    )
    order = order.drop_duplicates(["phenotype_tile", "phenotype_cell"])
    order = order.sort_values("phenotype_border_um", ascending=False, kind="stable")
    order = order.drop_duplicates(["sbs_tile", "sbs_cell"])
    return order.sort_values(["phenotype_tile", "phenotype_cell"], ignore_index=True)


def _once_per_place(matches: pd.DataFrame, radius: float) -> pd.DataFrame:
    """One match per physical cell, even where it was matched twice at the same place.

    A cell in the overlap of two phenotype tiles and two SBS tiles matches twice, with
    distinct ids on both sides. Of matches closer than ``radius`` to each other, the one
    farthest from its borders is kept.
    """
    if len(matches) < 2:
        return matches
    points = matches[["y_um", "x_um"]].to_numpy(float)
    close = cKDTree(points).query_pairs(radius, output_type="ndarray")
    if len(close) == 0:
        return matches
    score = np.minimum(matches["phenotype_border_um"], matches["sbs_border_um"]).to_numpy()
    rank = np.empty(len(score), int)
    rank[np.argsort(-score, kind="stable")] = np.arange(len(score))
    drop = np.zeros(len(matches), bool)
    for a, b in sorted(map(tuple, close), key=lambda ab: min(rank[ab[0]], rank[ab[1]])):
        if not (drop[a] or drop[b]):
            drop[b if rank[a] < rank[b] else a] = True
    return matches.loc[~drop].reset_index(drop=True)

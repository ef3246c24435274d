"""The phenotype -> SBS transform of a well, from nuclei centroids alone.

The stage positions put every cell of both acquisitions in one frame, up to the plate's
rotation, a scale error and a translation of tens of micrometres. Three steps, each
robust to the misses of either segmentation:

1. per phenotype tile, the translation that most centroid pairs agree on: every offset
   from a phenotype nucleus to the SBS nuclei within ``search_radius_um`` votes in a 2-D
   histogram, and the true offset is its peak (no correspondence or good guess needed);
2. the similarity that best explains those per-tile translations across the well;
3. a few rounds of closest points: mutual nearest neighbours under the current fit, the
   similarity refitted to them, outliers trimmed;
4. (:func:`refine_pairs`) a per-tile-pair correction: every stage position is off by a
   micrometre or two, a shift per tile that no well-wide similarity can follow. Each
   overlapping (phenotype tile, SBS tile) pair votes for its own residual shift, its
   cells pair up under it, and rotation and scale are refitted from the pairs centred
   within each tile pair, so the jitter cannot bias them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from opsflow.merge._transform import Similarity, robust_similarity

__all__ = ["Registration", "mutual_pairs", "refine_pairs", "register_well", "vote_translation"]

_MIN_PAIR_MATCHES = 5  # matches a tile pair needs for a translation of its own
_MIN_TILES_TO_FIT = 3  # tiles with their own offset a well-wide similarity needs


@dataclass(frozen=True)
class Registration:
    """A well's fitted transform, the per-tile votes and the final residuals (µm)."""

    transform: Similarity
    tiles: pd.DataFrame  # tile, centre_y, centre_x, offset_y, offset_x, votes, used
    residual_median_um: float
    residual_p90_um: float
    n_pairs: int
    pair_offsets: pd.DataFrame  # phenotype_tile, sbs_tile, ty, tx, n_pairs
    tile_shifts: tuple[dict[int, np.ndarray], dict[int, np.ndarray]] = ({}, {})

    @cached_property
    def _own_offsets(self) -> dict[tuple[int, int], tuple[float, float]]:
        # looked up once per tile pair while matching: a dict, not a DataFrame index
        o = self.pair_offsets
        keys = zip(o.phenotype_tile.astype(int), o.sbs_tile.astype(int), strict=True)
        values = zip(o.ty.astype(float), o.tx.astype(float), strict=True)
        return dict(zip(keys, values, strict=True))

    def has_own_offset(self, phenotype_tile: int, sbs_tile: int) -> bool:
        """Whether a tile pair had cells enough for a translation of its own."""
        return (phenotype_tile, sbs_tile) in self._own_offsets

    def for_pair(self, phenotype_tile: int, sbs_tile: int) -> Similarity:
        """The transform of one tile pair: its own translation where it has one.

        A pair with too few cells of its own takes its phenotype tile's shift plus its SBS
        tile's, as the pairs that have enough tell them; failing that, the well's.
        """
        own = self._own_offsets.get((phenotype_tile, sbs_tile))
        if own is not None:
            return replace(self.transform, ty=own[0], tx=own[1])
        p_shift, s_shift = self.tile_shifts
        if phenotype_tile in p_shift and sbs_tile in s_shift:
            ty, tx = p_shift[phenotype_tile] + s_shift[sbs_tile]
            return replace(self.transform, ty=float(ty), tx=float(tx))
        return self.transform


def vote_translation(
    src: np.ndarray, tree: cKDTree, *, radius: float, bin_um: float
) -> tuple[np.ndarray, int]:
    """The offset (dy, dx) most pairs of ``src`` and the tree's points agree on, and its votes."""
    if len(src) == 0:
        return np.zeros(2), 0
    near = tree.query_ball_point(src, r=radius)
    counts = np.fromiter((len(n) for n in near), int, len(near))
    if counts.sum() == 0:
        return np.zeros(2), 0
    dst = tree.data[np.concatenate([np.asarray(n, int) for n in near])]
    offsets = dst - np.repeat(src, counts, axis=0)
    edges = np.arange(-radius, radius + bin_um, bin_um)
    hist, _, _ = np.histogram2d(offsets[:, 0], offsets[:, 1], bins=[edges, edges])
    # the peak of 2 x 2 neighbouring bins, so an offset on a bin edge is not split
    pooled = hist[:-1, :-1] + hist[1:, :-1] + hist[:-1, 1:] + hist[1:, 1:]
    iy, ix = np.unravel_index(np.argmax(pooled), pooled.shape)
    centre = np.array([edges[iy + 1], edges[ix + 1]])
    close = np.linalg.norm(offsets - centre, axis=1) <= bin_um
    if not close.any():
        return centre, 0
    return offsets[close].mean(axis=0), int(close.sum())


def mutual_pairs(
    moved: np.ndarray, tree: cKDTree, max_distance: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices (into ``moved``, into the tree) of mutual nearest neighbours, and distances."""
    if len(moved) == 0 or tree.n == 0:
        empty = np.zeros(0, int)
        return empty, empty, np.zeros(0)
    dist, j = tree.query(moved, distance_upper_bound=max_distance)
    ok = np.isfinite(dist)
    i, j, dist = np.flatnonzero(ok), j[ok], dist[ok]
    _, back = cKDTree(moved).query(tree.data[j])
    mutual = back == i
    return i[mutual], j[mutual], dist[mutual]


def _tile_votes(
    pheno: pd.DataFrame, tree: cKDTree, radius: float, bin_um: float, max_points: int
) -> pd.DataFrame:
    rows = []
    for tile, cells in pheno.groupby("tile", sort=True):
        points = cells[["y_um", "x_um"]].to_numpy(float)
        step = max(1, len(points) // max_points)
        offset, votes = vote_translation(points[::step], tree, radius=radius, bin_um=bin_um)
        centre = points.mean(axis=0)
        rows.append((int(tile), *centre, *offset, votes))
    columns = ["tile", "centre_y", "centre_x", "offset_y", "offset_x", "votes"]
    return pd.DataFrame(rows, columns=columns)


def register_well(
    pheno: pd.DataFrame,
    sbs: pd.DataFrame,
    *,
    search_radius_um: float,
    vote_bin_um: float,
    max_points_per_tile: int,
    min_votes: int,
    icp_rounds: int = 4,
) -> Registration:
    """Fit the phenotype -> SBS similarity of a well, and its per-tile-pair translations.

    ``pheno`` and ``sbs`` have ``tile, y_um, x_um`` (nuclei in stage micrometres). Tiles
    with fewer than ``min_votes`` agreeing pairs do not enter the first fit.
    """
    tree = cKDTree(sbs[["y_um", "x_um"]].to_numpy(float))
    tiles = _tile_votes(pheno, tree, search_radius_um, vote_bin_um, max_points_per_tile)
    used = tiles["votes"].to_numpy() >= min_votes
    centres = tiles[["centre_y", "centre_x"]].to_numpy(float)
    offsets = tiles[["offset_y", "offset_x"]].to_numpy(float)
    points = pheno[["y_um", "x_um"]].to_numpy(float)
    if used.sum() >= _MIN_TILES_TO_FIT:
        fit, inliers = robust_similarity(centres[used], centres[used] + offsets[used])
        used[np.flatnonzero(used)[~inliers]] = False
    else:  # tiles too small or sparse to vote alone: the whole well votes for one shift
        used[:] = False
        step = max(1, len(points) // (10 * max_points_per_tile))
        shift, _ = vote_translation(
            points[::step], tree, radius=search_radius_um, bin_um=vote_bin_um
        )
        fit = Similarity(ty=float(shift[0]), tx=float(shift[1]))
    tolerance = max(3 * vote_bin_um, 2.0)
    i = j = np.zeros(0, int)
    for _ in range(icp_rounds):
        i, j, dist = mutual_pairs(fit.apply(points), tree, tolerance)
        if len(i) < 3:
            break
        fit, keep = robust_similarity(points[i], tree.data[j])
        i, j = i[keep], j[keep]
        dist = np.linalg.norm(fit.apply(points[i]) - tree.data[j], axis=1)
        tolerance = max(vote_bin_um, float(np.median(dist) + 6 * 1.4826 * _mad(dist)))
    return _registration(fit, tiles.assign(used=used), dist if len(i) >= 3 else np.zeros(0))


def _registration(
    fit: Similarity, tiles: pd.DataFrame, dist: np.ndarray, offsets: pd.DataFrame | None = None
) -> Registration:
    columns = ["phenotype_tile", "sbs_tile", "ty", "tx", "n_pairs"]
    shifts = _tile_shifts(offsets) if offsets is not None and len(offsets) else ({}, {})
    return Registration(
        tile_shifts=shifts,
        transform=fit,
        tiles=tiles,
        residual_median_um=float(np.median(dist)) if len(dist) else float("nan"),
        residual_p90_um=float(np.percentile(dist, 90)) if len(dist) else float("nan"),
        n_pairs=len(dist),
        pair_offsets=offsets if offsets is not None else pd.DataFrame(columns=columns),
    )


def refine_pairs(
    registration: Registration,
    pheno: pd.DataFrame,
    sbs: pd.DataFrame,
    pairs: list[tuple[int, int]],
    *,
    vote_bin_um: float,
) -> Registration:
    """Step 4: a translation per overlapping tile pair, and rotation and scale refitted.

    Each pair votes for its residual shift under the well's fit within three times the
    fit's 90th-percentile residual (at least 10 µm), then its mutual nearest neighbours
    under that shift (within two vote bins, at least 1 µm) are its pairs.
    """
    p_groups = {t: g[["y_um", "x_um"]].to_numpy(float) for t, g in pheno.groupby("tile")}
    s_groups = {t: g[["y_um", "x_um"]].to_numpy(float) for t, g in sbs.groupby("tile")}
    p90 = registration.residual_p90_um
    radius = max(10.0, 3 * p90) if np.isfinite(p90) else 10.0
    fit = registration.transform
    src, dst, p_tiles, s_tiles = [], [], [], []
    for p_tile, s_tile in pairs:
        if p_tile not in p_groups or s_tile not in s_groups:
            continue
        points, tree = p_groups[p_tile], cKDTree(s_groups[s_tile])
        moved = fit.apply(points)
        shift, votes = vote_translation(moved, tree, radius=radius, bin_um=vote_bin_um)
        if votes < _MIN_PAIR_MATCHES:
            continue
        i, j, _ = mutual_pairs(moved + shift, tree, max(1.0, 2 * vote_bin_um))
        src.append(points[i])
        dst.append(tree.data[j])
        p_tiles.append(np.full(len(i), p_tile))
        s_tiles.append(np.full(len(i), s_tile))
    if not src:
        return registration
    fit, offsets, dist = _per_pair(
        np.concatenate(src), np.concatenate(dst), np.concatenate(p_tiles),
        np.concatenate(s_tiles), fit,
    )  # fmt: skip
    return _registration(fit, registration.tiles, dist, offsets)


def _per_pair(
    src: np.ndarray, dst: np.ndarray, p_tiles: np.ndarray, s_tiles: np.ndarray, fit: Similarity
) -> tuple[Similarity, pd.DataFrame, np.ndarray]:
    """Rotation and scale from pairs centred per tile pair; a translation per tile pair.

    Returns the well's similarity (its translation the mean over all pairs), the tile
    pairs' translations and the residual of every pair under its own tile pair's fit.
    """
    columns = ["phenotype_tile", "sbs_tile", "ty", "tx", "n_pairs"]
    if len(src) < 3:
        return fit, pd.DataFrame(columns=columns), np.zeros(0)
    table = pd.DataFrame({"p": p_tiles, "s": s_tiles})
    groups = table.groupby(["p", "s"]).ngroup().to_numpy()
    counts = np.bincount(groups)
    own = counts[groups] >= _MIN_PAIR_MATCHES
    if own.sum() >= 3:
        means_src = _group_means(src, groups, counts)
        means_dst = _group_means(dst, groups, counts)
        centred, _ = robust_similarity(
            src[own] - means_src[groups[own]], dst[own] - means_dst[groups[own]]
        )
        fit = replace(fit, scale=centred.scale, rotation_deg=centred.rotation_deg)
    shifts = _group_means(dst - src @ fit.matrix.T, groups, counts)
    mean = (dst - src @ fit.matrix.T).mean(axis=0)
    fit = replace(fit, ty=float(mean[0]), tx=float(mean[1]))
    trans = np.where(own[:, None], shifts[groups], mean)
    dist = np.linalg.norm(src @ fit.matrix.T + trans - dst, axis=1)
    first = np.unique(groups, return_index=True)[1]
    keep = counts[groups[first]] >= _MIN_PAIR_MATCHES
    offsets = pd.DataFrame(
        {
            "phenotype_tile": p_tiles[first][keep],
            "sbs_tile": s_tiles[first][keep],
            "ty": shifts[groups[first]][keep, 0],
            "tx": shifts[groups[first]][keep, 1],
            "n_pairs": counts[groups[first]][keep],
        },
        columns=columns,
    )
    return fit, offsets, dist


def _tile_shifts(offsets: pd.DataFrame) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Every pair's shift as its phenotype tile's plus its SBS tile's, by least squares.

    Each stage move jitters once per tile, so a pair's shift is the sum of its two tiles'
    jitters; weighted by the pair's matches, with the SBS tiles' shifts summing to zero
    (only sums are observed).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import lsqr

    p_ids = sorted(set(offsets.phenotype_tile))
    s_ids = sorted(set(offsets.sbs_tile))
    p_col = {t: k for k, t in enumerate(p_ids)}
    s_col = {t: len(p_ids) + k for k, t in enumerate(s_ids)}
    n = len(offsets)
    weight = np.sqrt(offsets.n_pairs.to_numpy(float))
    rows = np.concatenate([np.arange(n), np.arange(n), np.full(len(s_ids), n)])
    cols = np.concatenate(
        [offsets.phenotype_tile.map(p_col), offsets.sbs_tile.map(s_col), list(s_col.values())]
    ).astype(int)
    values = np.concatenate([weight, weight, np.ones(len(s_ids))])
    design = coo_matrix((values, (rows, cols)), shape=(n + 1, len(p_ids) + len(s_ids))).tocsr()
    solved = [
        lsqr(design, np.append(weight * offsets[axis].to_numpy(float), 0.0))[0]
        for axis in ("ty", "tx")
    ]
    both = np.stack(solved, axis=1)
    return (
        {t: both[p_col[t]] for t in p_ids},
        {t: both[s_col[t]] for t in s_ids},
    )


def _group_means(values: np.ndarray, groups: np.ndarray, counts: np.ndarray) -> np.ndarray:
    sums = np.stack([np.bincount(groups, weights=values[:, k]) for k in range(2)], axis=1)
    return sums / counts[:, None]


def _mad(values: np.ndarray) -> float:
    return float(np.median(np.abs(values - np.median(values)))) if len(values) else 0.0

"""Merge on a well-level geometry of nuclei centroids, scored against the true cells.

The geometry is built here, independently of the merge: cells placed once per well, an
SBS grid of tiles (10x: 1.3 µm pixels) and a phenotype grid of its own (20x: 0.65 µm,
about four tiles per SBS tile), overlapping tiles, the phenotype acquisition rotated,
scaled and shifted against the SBS one, stage positions that jitter, centroid noise, and
nuclei missed by either segmentation. Every tile records what it sees in its own pixels,
as the pipeline's tables do; the true cell of every (tile, label) is kept aside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from opsflow.errors import InputFileError
from opsflow.merge import MergeParams, Similarity, fit_similarity, merge_well

TRUTH = Similarity(scale=1.001, rotation_deg=0.2, ty=35.0, tx=-22.0)  # phenotype -> SBS


@dataclass
class Side:
    cells: pd.DataFrame  # tile, label/cell, nucleus_centroid_y/x (pixels)
    metadata: pd.DataFrame
    truth: dict[tuple[int, int], int]  # (tile, cell id) -> true cell


def _grid(n: int, fov: float, overlap: float, origin: float) -> list[tuple[float, float]]:
    step = fov * (1 - overlap)
    return [(origin + r * step, origin + c * step) for r in range(n) for c in range(n)]


def _side(cells_um, centres, *, px, shape, jitter, miss, noise, rng, id_col) -> Side:
    rows, meta, truth = [], [], {}
    for tile, (cy, cx) in enumerate(centres):
        pix = (cells_um - [cy, cx]) / px + (np.array(shape) - 1) / 2
        seen = np.flatnonzero(
            (pix[:, 0] >= 2)
            & (pix[:, 0] < shape[0] - 3)
            & (pix[:, 1] >= 2)
            & (pix[:, 1] < shape[1] - 3)
        )
        seen = seen[rng.random(len(seen)) >= miss]
        for label, cell in enumerate(seen, start=1):
            y, x = pix[cell] + rng.normal(0, noise / px, 2)
            rows.append((tile, label, y, x))
            truth[(tile, label)] = int(cell)
        dy, dx = rng.normal(0, jitter, 2)
        meta.append((tile, cx + dx, cy + dy, px, px, *shape))
    cells = pd.DataFrame(rows, columns=["tile", id_col, "nucleus_centroid_y", "nucleus_centroid_x"])
    metadata = pd.DataFrame(
        meta, columns=["tile", "x_pos", "y_pos", "pixel_size_y", "pixel_size_x", "height", "width"]
    )
    return Side(cells, metadata, truth)


def geometry(
    seed: int, *, miss=(0.0, 0.0), jitter: float = 1.5, n_sbs: int = 2
) -> tuple[Side, Side]:
    """(phenotype, SBS) sides of one well; positions in SBS stage micrometres."""
    rng = np.random.default_rng(seed)
    sbs_fov, ph_fov = 512 * 1.3, 512 * 0.65
    extent = n_sbs * sbs_fov * 0.9 + 60
    spacing = 16.0  # a jittered lattice: neighbouring nuclei at least ~8 µm apart
    axis = np.arange(-30, extent, spacing)
    lattice = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    cells = lattice + rng.uniform(-4, 4, lattice.shape)
    sbs = _side(cells, _grid(n_sbs, sbs_fov, 0.1, sbs_fov / 2), px=1.3, shape=(512, 512),
                jitter=jitter, miss=miss[1], noise=0.4, rng=rng, id_col="cell")  # fmt: skip
    # the phenotype stage frame: where the SBS frame's cells are seen by the other scope
    inv = np.linalg.inv(TRUTH.matrix)
    ph_cells = (cells - [TRUTH.ty, TRUTH.tx]) @ inv.T
    n_ph = math.ceil(extent / (ph_fov * 0.9))
    pheno = _side(ph_cells, _grid(n_ph, ph_fov, 0.1, ph_fov / 2 - 40), px=0.65,
                  shape=(512, 512), jitter=jitter, miss=miss[0], noise=0.3, rng=rng,
                  id_col="label")  # fmt: skip
    return pheno, sbs


def _score(result, pheno: Side, sbs: Side) -> tuple[float, float, int]:
    m = result.matches
    p_true = [pheno.truth[(t, c)] for t, c in zip(m.phenotype_tile, m.phenotype_cell, strict=True)]
    s_true = [sbs.truth[(t, c)] for t, c in zip(m.sbs_tile, m.sbs_cell, strict=True)]
    correct = np.array(p_true) == np.array(s_true)
    matchable = set(pheno.truth.values()) & set(sbs.truth.values())
    found = {p for p, ok in zip(p_true, correct, strict=True) if ok}
    duplicates = len(p_true) - len(set(p_true))
    return correct.mean(), len(found) / len(matchable), duplicates


@pytest.mark.parametrize(
    ("seed", "miss", "jitter"),
    [(0, (0.0, 0.0), 1.5), (1, (0.05, 0.0), 1.5), (2, (0.0, 0.05), 1.5), (3, (0.05, 0.05), 3.5)],
)
def test_cells_are_joined_with_high_precision_and_recall(seed, miss, jitter) -> None:
    pheno, sbs = geometry(seed, miss=miss, jitter=jitter)
    result = merge_well(pheno.cells, pheno.metadata, sbs.cells, sbs.metadata, MergeParams())
    precision, recall, duplicates = _score(result, pheno, sbs)
    assert precision >= 0.99 and recall >= 0.95, (precision, recall)
    assert duplicates == 0  # one row per physical cell, even in the overlaps
    fit = result.registration.transform
    assert abs(fit.rotation_deg - TRUTH.rotation_deg) < 0.05
    assert abs(fit.scale - TRUTH.scale) < 5e-4
    assert set(result.matches.columns) >= {
        "phenotype_tile", "phenotype_cell", "sbs_tile", "sbs_cell", "distance_um",
    }  # fmt: skip
    assert (result.matches.distance_um <= result.max_distance_um).all()
    assert not result.quality.poor.any()


def test_the_similarity_fit_recovers_a_known_transform() -> None:
    rng = np.random.default_rng(4)
    src = rng.uniform(0, 1000, (50, 2))
    fit = fit_similarity(src, TRUTH.apply(src))
    assert math.isclose(fit.scale, TRUTH.scale, rel_tol=1e-9)
    assert math.isclose(fit.rotation_deg, TRUTH.rotation_deg, rel_tol=1e-9)
    assert math.isclose(fit.ty, TRUTH.ty, rel_tol=1e-9) and math.isclose(
        fit.tx, TRUTH.tx, rel_tol=1e-9
    )


def test_a_tile_without_a_stage_position_is_one_sentence() -> None:
    pheno, sbs = geometry(5)
    sbs.metadata.loc[1, "x_pos"] = np.nan
    with pytest.raises(
        InputFileError, match=r"A1 SBS metadata: expected a stage position .* tiles 1"
    ):
        merge_well(pheno.cells, pheno.metadata, sbs.cells, sbs.metadata, MergeParams(), where="A1")


def test_a_phenotype_tile_beyond_every_sbs_tile_is_said_and_the_rest_merges(caplog) -> None:
    pheno, sbs = geometry(6)
    far = pheno.metadata.tile.max()
    pheno.metadata.loc[pheno.metadata.tile == far, ["x_pos", "y_pos"]] += 50_000.0
    with caplog.at_level("WARNING"):
        result = merge_well(pheno.cells, pheno.metadata, sbs.cells, sbs.metadata, MergeParams())
    assert f"phenotype tiles {far} overlap no SBS tile" in caplog.text
    assert far not in set(result.matches.phenotype_tile)
    precision, _, _ = _score(result, pheno, sbs)
    assert precision >= 0.99 and len(result.matches) > 1000


def test_a_poor_tile_pair_is_flagged() -> None:
    pheno, sbs = geometry(7)
    # one phenotype tile's cells scrambled: its pairs match little, and the flag says so
    rows = pheno.cells.tile == 5
    rng = np.random.default_rng(0)
    pheno.cells.loc[rows, "nucleus_centroid_y"] = rng.uniform(0, 511, rows.sum())
    result = merge_well(pheno.cells, pheno.metadata, sbs.cells, sbs.metadata, MergeParams())
    flagged = set(result.quality.loc[result.quality.poor, "phenotype_tile"])
    assert flagged == {5}

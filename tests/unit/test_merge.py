"""Merge on the well-level geometry of nuclei centroids, scored against the true cells.

``opsflow.synth.well_nuclei`` places cells once per well and records them through an SBS
grid of tiles (10x) and a phenotype grid of its own (20x, about four tiles per SBS tile),
the phenotype acquisition rotated, scaled and shifted against the SBS one, with stage
jitter, centroid noise and missed nuclei; it keeps the true cell of every (tile, label).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from opsflow.errors import InputFileError
from opsflow.merge import MergeParams, Similarity, fit_similarity, merge_well
from opsflow.synth import WellGeometry, well_nuclei


def geometry(seed: int, *, miss=(0.0, 0.0), jitter: float = 1.5, rotation: float = 0.2):
    """(phenotype, SBS) nuclei of one well of the synthetic well geometry."""
    well = WellGeometry(miss=miss, stage_jitter_um=jitter, rotation_deg=rotation)
    return well_nuclei(well, seed)


GEOMETRY = WellGeometry()
TRUTH = Similarity(
    scale=GEOMETRY.scale, rotation_deg=GEOMETRY.rotation_deg,
    ty=GEOMETRY.offset_um[0], tx=GEOMETRY.offset_um[1],
)  # fmt: skip


def _truth(side) -> dict[tuple[int, int], int]:
    return {(t, c): w for t, c, w in side.truth.itertuples(index=False)}


def _score(result, pheno, sbs) -> tuple[float, float, int]:
    m = result.matches
    p_truth, s_truth = _truth(pheno), _truth(sbs)
    p_true = [p_truth[(t, c)] for t, c in zip(m.phenotype_tile, m.phenotype_cell, strict=True)]
    s_true = [s_truth[(t, c)] for t, c in zip(m.sbs_tile, m.sbs_cell, strict=True)]
    correct = np.array(p_true) == np.array(s_true)
    matchable = set(p_truth.values()) & set(s_truth.values())
    found = {p for p, ok in zip(p_true, correct, strict=True) if ok}
    duplicates = len(p_true) - len(set(p_true))
    return correct.mean(), len(found) / len(matchable), duplicates


@pytest.mark.parametrize(
    ("seed", "miss", "jitter", "rotation"),
    [
        (0, (0.0, 0.0), 1.5, 0.2),
        (1, (0.05, 0.0), 1.5, 0.1),
        (2, (0.0, 0.05), 1.5, 0.3),
        (3, (0.05, 0.05), 3.5, 0.2),  # both sides miss 5 %, and 2 µm more position error
    ],
)
def test_cells_are_joined_with_high_precision_and_recall(seed, miss, jitter, rotation) -> None:
    pheno, sbs = geometry(seed, miss=miss, jitter=jitter, rotation=rotation)
    result = merge_well(pheno.cells, pheno.metadata, sbs.cells, sbs.metadata, MergeParams())
    precision, recall, duplicates = _score(result, pheno, sbs)
    assert precision >= 0.99 and recall >= 0.95, (precision, recall)
    assert duplicates == 0  # one row per physical cell, even in the overlaps
    fit = result.registration.transform
    assert abs(fit.rotation_deg - rotation) < 0.05
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


def test_a_tile_without_a_stage_position_is_said_and_the_others_merge(caplog) -> None:
    pheno, sbs = geometry(5)
    sbs.metadata.loc[1, "x_pos"] = np.nan
    with caplog.at_level("WARNING"):
        result = merge_well(
            pheno.cells, pheno.metadata, sbs.cells, sbs.metadata, MergeParams(), where="A1"
        )
    assert "A1 SBS metadata: tiles 1 have no stage position" in caplog.text
    unplaced = 1  # the SBS tile without a position
    assert unplaced not in set(result.matches.sbs_tile) and len(result.matches) > 1000
    assert _score(result, pheno, sbs)[0] >= 0.99
    sbs.metadata["x_pos"] = np.nan
    with pytest.raises(InputFileError, match=r"A1 SBS metadata: expected stage positions"):
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

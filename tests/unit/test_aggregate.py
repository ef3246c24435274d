"""Aggregate statistics against independent expectations: scipy, simulated truth, pixels."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from opsflow.aggregate import (
    AggregateParams,
    aggregate_step,
    call_hits,
    crop_cells,
    feature_columns,
    filter_cells,
    mann_whitney,
    normalise,
)


def _cells(rng: np.random.Generator, n_null: int = 40, per_gene: int = 60) -> pd.DataFrame:
    """Two wells; GENE01 doubles COXIV, GENE02 adds 20 foci; well A2 is 30 % brighter."""
    genes = ["GENE01", "GENE02", *(f"NULL{i:02d}" for i in range(n_null))]
    rows = []
    for well, gain in (("A1", 1.0), ("A2", 1.3)):
        for gene in [*genes, *["nontargeting"] * 8]:
            n = per_gene // 2
            coxiv = rng.lognormal(np.log(500), 0.25, n) * gain * (2.0 if gene == "GENE01" else 1)
            foci = rng.integers(8, 21, n) + (20 if gene == "GENE02" else 0)
            rows.append(pd.DataFrame({
                "plate": "1", "well": well, "gene_symbol_0": gene, "gene_symbol_1": "",
                "cell_barcode_0": f"{gene}_bc", "cell_barcode_count_0": rng.integers(2, 9, n),
                "cell_barcode_mapped_0": True, "cell_barcode_mapped_1": False,
                "cell_barcode_count_1": 0,
                "cell_COXIV_mean": coxiv, "cell_CENPA_foci_count": foci,
                "nucleus_DAPI_mean": rng.normal(1000, 100, n) * gain,
                "cell_centroid_y": rng.uniform(0, 100, n),
                "cell_centroid_x": rng.uniform(0, 100, n), "distance_um": 0.3,
            }))  # fmt: skip
    cells = pd.concat(rows, ignore_index=True)
    cells["phenotype_tile"] = 0
    cells["phenotype_cell"] = np.arange(len(cells))
    return cells


@pytest.mark.parametrize("integer", [False, True])
def test_mann_whitney_equals_scipy_per_group(integer: bool) -> None:
    rng = np.random.default_rng(1)

    def draw(n: int) -> np.ndarray:
        return rng.integers(0, 12, n).astype(float) if integer else rng.normal(size=n)

    controls = draw(300)
    group = rng.integers(0, 5, 200)
    x = draw(200) + 0.4 * group
    u, p = mann_whitney(x, group, controls, n_groups=6)
    for g in range(5):
        want = stats.mannwhitneyu(x[group == g], controls, method="asymptotic")
        assert u[g] == pytest.approx(want.statistic)
        assert p[g] == pytest.approx(want.pvalue, rel=1e-9)
    assert np.isnan(p[5])  # an empty group has no test


def test_true_effects_are_top_hits_and_null_genes_are_not() -> None:
    cells = _cells(np.random.default_rng(2))
    features = feature_columns(cells)
    assert features == ["cell_COXIV_mean", "cell_CENPA_foci_count", "nucleus_DAPI_mean"]
    normed = normalise(cells, features, ("nontargeting",))
    hits = call_hits(normed, features, ("nontargeting",), plate="1", min_cells=5)
    top = hits[hits["rank"] == 1].set_index("feature")
    assert top.loc["cell_COXIV_mean", "gene"] == "GENE01"
    assert top.loc["cell_CENPA_foci_count", "gene"] == "GENE02"
    assert top.loc["cell_COXIV_mean", "q_value"] < 0.01
    assert top.loc["cell_CENPA_foci_count", "q_value"] < 0.01
    # robust z units: the doubled median is 1 / 0.25 = about 4 robust sd of the controls above
    assert 3.0 < top.loc["cell_COXIV_mean", "effect"] < 5.5
    null = hits[hits["gene"].str.startswith("NULL")]
    assert len(null) == 40 * 3
    assert not (null["q_value"] < 0.01).any()
    # the well's 30 % gain does not reach the calls: DAPI has no hit at all
    assert not hits[hits["feature"] == "nucleus_DAPI_mean"]["hit"].any()


def test_normalise_centres_each_well_on_its_controls(caplog: pytest.LogCaptureFixture) -> None:
    cells = _cells(np.random.default_rng(3), n_null=2)
    normed = normalise(cells, ["cell_COXIV_mean"], ("nontargeting",))
    for _, well in normed[normed["gene_symbol_0"] == "nontargeting"].groupby("well"):
        z = well["cell_COXIV_mean"]
        assert abs(z.median()) < 1e-6
        assert (z - z.median()).abs().median() * 1.4826 == pytest.approx(1.0, rel=1e-5)
    no_controls = cells[~((cells["well"] == "A2") & (cells["gene_symbol_0"] == "nontargeting"))]
    with caplog.at_level(logging.WARNING):
        normed = normalise(no_controls, ["cell_COXIV_mean"], ("nontargeting",))
    assert "plate 1 well A2 has 0 control cells" in caplog.text
    assert abs(normed[normed["well"] == "A2"]["cell_COXIV_mean"].median()) < 1e-6


def test_filter_cells_applies_every_rule() -> None:
    cells = pd.DataFrame({
        "plate": "1", "well": "A1", "phenotype_tile": 0,
        "gene_symbol_0": ["G1", "G1", "G1", "G2", "G2", "G2", "G1"],
        "gene_symbol_1": ["", "", "G3", "G2", "", "", "G4"],
        "cell_barcode_mapped_0": [True, False, True, True, True, True, True],
        "cell_barcode_mapped_1": [False, False, True, True, False, False, True],
        "cell_barcode_count_0": [5, 5, 5, 5, 1, 5, 5],
        "cell_barcode_count_1": [0, 0, 3, 3, 0, 0, 1],
        "distance_um": [0.1, 0.1, 0.1, 0.1, 0.1, 3.0, 0.1],
        "cell_bounds_0": [5, 5, 5, 5, 5, 0, 5], "cell_bounds_1": 5,
        "cell_bounds_2": [20, 20, 20, 20, 20, 100, 20],
        "cell_bounds_3": [20, 20, 20, 20, 20, 90, 20],
    })  # fmt: skip
    kept = filter_cells(cells, AggregateParams(min_reads=2, max_distance_um=1.0))
    # dropped: 1 unmapped, 2 a second gene with 3 reads, 4 one read, 5 far and on the
    # border; kept: 3 (its second barcode is the same gene), 6 (one stray read of G4)
    assert kept["gene_symbol_1"].tolist() == ["", "G2", "G4"]
    lenient = AggregateParams(min_reads=1, single_gene=False, drop_border_cells=False)
    assert len(filter_cells(cells, lenient)) == 6


def test_aggregate_step_tables_and_anndata() -> None:
    cells = _cells(np.random.default_rng(4), n_null=5)
    wells = [w for _, w in cells.groupby("well")]
    genes, sgrnas, _, adata, picks = aggregate_step(
        iter(wells), plate="1", p=AggregateParams(montage_genes=2, montage_cells=4)
    )
    assert set(genes["gene"]) == set(cells["gene_symbol_0"])
    assert genes.set_index("gene").loc["GENE01", "n_cells"] == 60
    assert genes.set_index("gene").loc["nontargeting", "n_sgrnas"] == 1
    assert len(sgrnas) == len(genes)  # one barcode per gene in this table
    assert adata.shape == (len(cells), 3)
    assert list(adata.var_names) == ["cell_COXIV_mean", "cell_CENPA_foci_count",
                                     "nucleus_DAPI_mean"]  # fmt: skip
    raw = adata.layers["raw"][:, 0]
    np.testing.assert_allclose(np.sort(raw), np.sort(cells["cell_COXIV_mean"]), rtol=1e-6)
    assert set(adata.obs["gene"]) == set(cells["gene_symbol_0"])
    # the two true hits (either order: both rank first of their feature), then controls
    assert sorted(picks["gene"][:8]) == ["GENE01"] * 4 + ["GENE02"] * 4
    assert picks["gene"][8:].tolist() == ["nontargeting"] * 4
    chosen = picks.merge(cells, on=["well", "phenotype_tile", "phenotype_cell"])
    assert (chosen["gene"] == chosen["gene_symbol_0"]).all()


def test_crops_are_the_source_pixels_and_zero_outside() -> None:
    rng = np.random.default_rng(5)
    image = rng.integers(0, 4000, (4, 50, 60)).astype(np.uint16)
    mask = rng.integers(0, 9, (50, 60)).astype(np.uint32)
    picks = pd.DataFrame({"gene": "G", "well": "A1", "phenotype_tile": 3,
                          "phenotype_cell": [1, 2], "cell_centroid_y": [20.2, 2.0],
                          "cell_centroid_x": [30.0, 58.6]})  # fmt: skip
    crops, labels = crop_cells(picks, {("A1", 3): image}, {("A1", 3): mask}, size=16,
                               channels=[2, 0])  # fmt: skip
    assert crops.shape == (2, 2, 16, 16) and crops.dtype == np.uint16
    np.testing.assert_array_equal(crops[0], image[[2, 0], 12:28, 22:38])
    np.testing.assert_array_equal(labels[0], mask[12:28, 22:38])
    # centred at (2, 59): rows -6..10 and columns 51..67 of which 51..60 exist
    np.testing.assert_array_equal(crops[1, :, 6:, :9], image[[2, 0], 0:10, 51:60])
    assert not crops[1, :, :6].any() and not crops[1, :, :, 9:].any()

"""The whole pipeline on the well geometry: phenotype cells joined to their SBS cells.

Then aggregate: the true gene effects must be the top hits, montages must hold the source
pixels, and the QC report must load in a browser.

A synthetic screen of two wells where cells are placed once per well and imaged twice:
SBS tiles (10x) on one grid, phenotype tiles (20x, about four per SBS tile) on another,
the phenotype acquisition rotated by 0.2 degrees, scaled by 1.001 and shifted by tens of
micrometres, every stage position jittered. ``opsflow run`` segments both, and the merge
must join each phenotype cell to the SBS cell of the same true cell, which the truth
names (``well_cell``) but the pipeline never sees.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
import yaml
from ome_zarr.io import parse_url
from ome_zarr.reader import Reader

from opsflow.aggregate import quiet_anndata
from opsflow.io import read_image, validate_store
from opsflow.synth import SynthParams, write_screen

PARAMS = SynthParams(
    seed=2, geometry="well", wells=("A1", "B2"), tiles_per_well=4, sbs_tile_shape=(384, 384)
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    screen = write_screen(tmp_path_factory.mktemp("well_geometry"), PARAMS, workers=2)
    config = yaml.safe_load(screen["config"].read_text())
    config["aggregate"] = {"omezarr_export_montages": True}
    path = screen["root"] / "montages.yml"
    path.write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "opsflow.cli", "run", "--configfile", str(path)]
    proc = subprocess.run([*command, "-q"], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    return screen["root"]


def _well_cells(root: Path, modality: str, well: str, cells: pd.DataFrame) -> np.ndarray:
    """The true well cell under each segmented nucleus centroid (-1: on no true cell)."""
    name = "cell_barcodes.tsv" if modality == "sbs" else "phenotype_cells.tsv"
    truth = pd.read_csv(root / "truth" / name, sep="\t")
    truth = truth[truth.well == well]
    out = np.full(len(cells), -1)
    for tile, rows in cells.groupby("tile"):
        mask = tifffile.imread(root / "truth" / modality / f"P-1_W-{well}_T-{tile}__cells.tiff")
        y = np.clip(np.rint(rows.nucleus_centroid_y).astype(int), 0, mask.shape[0] - 1)
        x = np.clip(np.rint(rows.nucleus_centroid_x).astype(int), 0, mask.shape[1] - 1)
        own = truth[truth.tile == tile]
        lookup = dict(zip(own.cell, own.well_cell, strict=True))
        found = [lookup.get(int(v), -1) for v in mask[y, x]]
        out[cells.index.get_indexer(rows.index)] = found
    return out


@pytest.mark.parametrize("well", PARAMS.wells)
def test_each_phenotype_cell_is_joined_to_its_own_sbs_cell(run: Path, well: str) -> None:
    out = run / "analysis"
    matches = pd.read_parquet(out / "merge/parquets" / f"P-1_W-{well}__merge.parquet")
    pheno = pd.read_parquet(out / "phenotype/parquets" / f"P-1_W-{well}__phenotype_cp_min.parquet")
    sbs = pd.read_parquet(out / "sbs/parquets" / f"P-1_W-{well}__sbs_info.parquet")
    pheno["true"] = _well_cells(run, "phenotype", well, pheno)
    sbs["true"] = _well_cells(run, "sbs", well, sbs)
    joined = matches.merge(
        pheno[["tile", "label", "true"]].set_axis(
            ["phenotype_tile", "phenotype_cell", "t_p"], axis=1
        )
    ).merge(sbs[["tile", "cell", "true"]].set_axis(["sbs_tile", "sbs_cell", "t_s"], axis=1))
    correct = (joined.t_p == joined.t_s) & (joined.t_p >= 0)
    matchable = set(pheno.true[pheno.true >= 0]) & set(sbs.true[sbs.true >= 0])
    found = set(joined.t_p[correct])
    assert len(matchable) > 200
    assert correct.mean() >= 0.99, correct.mean()
    assert len(found) / len(matchable) >= 0.95, len(found) / len(matchable)
    assert correct.sum() == len(found)  # every physical cell once
    fit = pd.read_parquet(out / "merge/parquets" / f"P-1_W-{well}__merge_transform.parquet").iloc[0]
    assert abs(fit.rotation_deg - PARAMS.phenotype_rotation_deg) < 0.05
    assert abs(fit.scale - (1 + PARAMS.phenotype_scale_error)) < 1e-3


def test_a_cell_seen_by_two_phenotype_tiles_has_one_set_of_values(run: Path) -> None:
    truth = pd.read_csv(run / "truth" / "phenotype_cells.tsv", sep="\t")
    per_cell = truth.groupby(["well", "well_cell"])
    assert (per_cell.size() > 1).sum() > 50  # overlaps do show cells twice
    assert (per_cell["coxiv_level"].nunique() == 1).all()
    assert (per_cell["cenpa_foci"].nunique() == 1).all()


AGG = Path("analysis/aggregate")
CHECKER = Path(__file__).resolve().parents[2] / "scripts" / "check_report.py"


def test_true_effects_are_the_top_hits_and_no_other_gene_is_called(run: Path) -> None:
    hits = pd.read_parquet(run / AGG / "parquets/P-1__hits.parquet")
    top = hits[hits["rank"] == 1].set_index("feature")
    for feature, gene in (("cell_COXIV_mean", PARAMS.coxiv_gene),
                          ("cell_CENPA_foci_count", PARAMS.cenpa_gene)):  # fmt: skip
        assert top.loc[feature, "gene"] == gene
        assert top.loc[feature, "q_value"] < 0.01
        assert top.loc[feature, "effect"] > 1.0
    others = hits[~hits["gene"].isin([PARAMS.coxiv_gene, PARAMS.cenpa_gene])]
    assert others["gene"].nunique() >= PARAMS.n_genes - 4  # most null genes were tested
    assert len(others) > 1500
    assert not (others["q_value"] < 0.01).any(), others.nsmallest(3, "q_value")


def test_cells_anndata_holds_the_kept_cells_with_their_genes(run: Path) -> None:
    with quiet_anndata():
        import anndata

        adata = anndata.read_h5ad(run / AGG / "anndata/P-1__cells.h5ad")
    merged = pd.concat(pd.read_parquet(p) for p in (run / "analysis/merge/parquets").glob(
        "*__merged_cells.parquet"))  # fmt: skip
    assert 0.5 * len(merged) < adata.n_obs <= len(merged)
    assert "cell_COXIV_mean" in adata.var_names
    key = ["well", "phenotype_tile", "phenotype_cell"]
    obs = adata.obs[key].astype({"phenotype_tile": int, "phenotype_cell": int})
    raw = pd.DataFrame(adata.layers["raw"], columns=adata.var_names)
    joined = pd.concat([obs.reset_index(drop=True), raw["cell_COXIV_mean"]], axis=1).merge(
        merged[[*key, "cell_COXIV_mean", "gene_symbol_0"]], on=key, suffixes=("", "_m")
    )
    assert len(joined) == adata.n_obs
    np.testing.assert_allclose(joined["cell_COXIV_mean"], joined["cell_COXIV_mean_m"], rtol=1e-6)
    assert (adata.obs["gene"].to_numpy() == joined["gene_symbol_0"].to_numpy()).all()


def test_montage_store_is_valid_and_holds_the_source_pixels(run: Path) -> None:
    store = run / AGG / "omezarr/P-1__montage.ome.zarr"
    assert validate_store(store) == []
    nodes = Reader(parse_url(str(store)))()
    image = next(nodes)
    assert [a["name"] for a in image.metadata["axes"]] == ["t", "c", "y", "x"]
    picks = pd.read_parquet(run / AGG / "parquets/P-1__montage_cells.parquet")
    crops = read_image(store)
    own = read_image(store / "labels" / "cells")
    assert crops.shape[0] == len(picks) > 0
    np.testing.assert_array_equal(np.asarray(image.data[0]), crops)
    size = crops.shape[-1]
    images = run / "analysis/phenotype/images"
    for t, pick in picks.iterrows():
        name = f"P-1_W-{pick.well}_T-{pick.phenotype_tile}"
        source = tifffile.imread(images / f"{name}__aligned.tiff")[:3]
        cells = tifffile.imread(images / f"{name}__cells.tiff")
        y0 = round(pick.cell_centroid_y) - size // 2
        x0 = round(pick.cell_centroid_x) - size // 2
        if y0 < 0 or x0 < 0 or y0 + size > source.shape[1] or x0 + size > source.shape[2]:
            continue  # a crop over the tile's edge is padded; the unit test covers it
        np.testing.assert_array_equal(crops[t], source[:, y0 : y0 + size, x0 : x0 + size])
        window = cells[y0 : y0 + size, x0 : x0 + size] == pick.phenotype_cell
        np.testing.assert_array_equal(own[t, 0] == t + 1, window)


def test_report_loads_in_chromium_with_every_image(run: Path, tmp_path: Path) -> None:
    report = run / "analysis/qc_report.html"
    text = report.read_text()
    for expected in ("Top hits", PARAMS.coxiv_gene, PARAMS.cenpa_gene, "Montages", "napari"):
        assert expected in text
    shot = tmp_path / "report.png"
    proc = subprocess.run([sys.executable, str(CHECKER), str(report), "--screenshot", str(shot)],
                          capture_output=True, text=True, timeout=400)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    images = int(proc.stdout.split()[1].rstrip(","))
    # plate heat maps, two merge plots, the montage and the montage store's thumbnail
    assert images >= 5 and proc.stdout.strip().endswith("broken 0")
    assert "aggregate/omezarr/P-1__montage.ome.zarr" in text
    assert shot.stat().st_size > 50_000

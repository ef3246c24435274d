"""The whole pipeline on the well geometry: phenotype cells joined to their SBS cells.

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

from opsflow.synth import SynthParams, write_screen

PARAMS = SynthParams(
    seed=2, geometry="well", wells=("A1", "B2"), tiles_per_well=4, sbs_tile_shape=(384, 384)
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    screen = write_screen(tmp_path_factory.mktemp("well_geometry"), PARAMS, workers=2)
    command = [sys.executable, "-m", "opsflow.cli", "run", "--configfile", str(screen["config"])]
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

"""The plate layout end to end: one NGFF HCS plate per stage, well mosaics, shards.

A synthetic screen of two wells named as two microscopes would (``A1``, ``B02``) runs
through ``opsflow run`` with every stage exported as a plate (the default layout), the
SBS stores sharded, and well mosaics of the SBS segmentation and the phenotype
alignment. Expectations come from the TIFF checkpoints, the metadata tables and the
samples: every field equals its TIFF, every mosaic holds its tiles where their stage
positions put them, and a rebuilt or failed field touches nothing else.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tifffile
import yaml
import zarr
from ome_zarr.io import parse_url
from ome_zarr.reader import Reader

from opsflow.export import STAGES
from opsflow.io import plate_fields, read_image, validate_store
from opsflow.steps import get_output
from opsflow.synth import SynthParams, write_screen

PARAMS = SynthParams(
    seed=3, wells=("A1", "B02"), tiles_per_well=2, n_cycles=9, sbs_tile_shape=(192, 192)
)
ROOT = "analysis_plates"
MOSAICS = {"sbs": ["segment_sbs"], "phenotype": ["align_phenotype"]}
SHARDS = [5, 128, 128]  # SBS stores: one shard holds every cycle and channel of 128^2
WELL_PATHS = {"A1": "A/1", "B02": "B/2"}


def _run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "opsflow.cli", "run", "--configfile", str(config), *args]
    return subprocess.run([*command, "-q"], capture_output=True, text=True, timeout=900)


def _tail(proc: subprocess.CompletedProcess[str]) -> str:
    return "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])


@pytest.fixture(scope="module")
def screen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_screen(tmp_path_factory.mktemp("plate_screen"), PARAMS, workers=2)


@pytest.fixture(scope="module")
def config(screen: dict[str, Path]) -> Path:
    data: dict[str, Any] = yaml.safe_load(screen["config"].read_text())
    data["all"].update(root_fp=ROOT, omezarr_export_default=True)
    for module in ("preprocess", "sbs", "phenotype"):
        section = data.setdefault(module, {}) or {}
        section["omezarr_stages"] = [s.name for s in STAGES if s.module == module]
        section["omezarr_chunk_shape"] = [1, 64, 64]
        section["omezarr_mosaic_stages"] = MOSAICS.get(module, [])
        data[module] = section
    data["sbs"]["omezarr_shard_shape"] = SHARDS
    path = screen["root"] / "plates.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def run(screen: dict[str, Path], config: Path) -> Path:
    proc = _run(config)
    assert proc.returncode == 0, _tail(proc)
    return screen["root"] / ROOT


def _samples(screen: dict[str, Path], modality: str) -> pd.DataFrame:
    return pd.read_csv(screen[f"{modality}_samples"], sep="\t", dtype=str)


def _plate(root: Path, stage) -> Path:
    return root / stage.module / "omezarr" / stage.store_dir / f"P-1__{stage.store_what}.ome.zarr"


def _expected_fields(screen: dict[str, Path], stage) -> dict[str, list[str]]:
    """Field names per well path, from the samples: tile, or tile c cycle, or 0 / c cycle."""
    samples = _samples(screen, stage.modality)
    per_tile = stage.name not in ("calculate_ic_sbs", "calculate_ic_phenotype")
    per_cycle = stage.name == "calculate_ic_sbs"
    keys = ["well"] + (["tile"] if per_tile else []) + (["cycle"] if per_cycle else [])
    rows = samples[keys].drop_duplicates()
    rows = rows.assign(**{k: rows[k].astype(int) for k in keys if k != "well"})
    fields: dict[str, list[str]] = {}
    for row in rows.sort_values(keys).itertuples(index=False):
        tile = str(row.tile) if per_tile else ""
        cycle = f"c{row.cycle}" if per_cycle else ""
        fields.setdefault(WELL_PATHS[row.well], []).append(tile + cycle or "0")
    return fields


def _tiff(root: Path, key: str, well: str, field: str) -> Path:
    """The TIFF checkpoint of output ``key`` that a field was exported from."""
    tile, _, cycle = field.partition("c")
    output = get_output(key)
    values = {"plate": "1", "well": well, "tile": tile, "cycle": cycle}
    return Path(str(output.pattern(root)).format(**{w: values[w] for w in output.wildcards}))


def test_one_valid_plate_per_stage_listing_every_field(run: Path, screen: dict[str, Path]):
    for stage in STAGES:
        store = _plate(run, stage)
        assert validate_store(store) == [], stage.name
        assert plate_fields(store) == _expected_fields(screen, stage), stage.name
    nodes = list(Reader(parse_url(str(_plate(run, STAGES[0]))))())
    assert type(nodes[0].specs[0]).__name__ == "Plate"


def test_every_field_equals_its_tiff_and_its_masks(run: Path, screen: dict[str, Path]):
    for stage in STAGES:
        store = _plate(run, stage)
        for well_path, names in _expected_fields(screen, stage).items():
            well = next(w for w, p in WELL_PATHS.items() if p == well_path)
            for name in names:
                tiff = tifffile.imread(_tiff(run, stage.image, well, name))
                field = read_image(store, well=well, tile=name)
                np.testing.assert_array_equal(field.reshape(tiff.shape), tiff, err_msg=name)
                for label, key in stage.labels:
                    mask = tifffile.imread(_tiff(run, key, well, name))
                    got = read_image(store / well_path / name / "labels" / label)
                    np.testing.assert_array_equal(got.reshape(mask.shape), mask)


def test_sbs_fields_are_sharded_into_a_few_files(run: Path):
    store = _plate(run, next(s for s in STAGES if s.name == "align_sbs"))
    field = store / "A/1/0"
    level0 = zarr.open_group(str(field), mode="r")["0"]
    assert level0.shards == (PARAMS.n_cycles, 5, 128, 128) and level0.chunks == (1, 1, 64, 64)
    files = [p for p in (field / "0").rglob("*") if p.is_file()]
    assert len(files) == 1 + 4  # zarr.json and 2 x 2 shards for 192^2 (not 9 x 5 x 9 chunks)


def test_mosaics_hold_every_tile_where_its_stage_position_puts_it(run: Path):
    for names in MOSAICS.values():
        for name in names:
            stage = next(s for s in STAGES if s.name == name)
            for well in PARAMS.wells:
                folder = run / stage.module / "omezarr" / stage.store_dir
                store = folder / f"P-1_W-{well}__{stage.store_what}_mosaic.ome.zarr"
                assert validate_store(store) == []
                mosaic = zarr.open_group(str(store), mode="r")["0"][...]
                meta = pd.read_parquet(
                    run
                    / "preprocess"
                    / "metadata"
                    / stage.modality
                    / f"P-1_W-{well}__combined_metadata.parquet"
                ).drop_duplicates("tile")
                size = meta[["pixel_size_y", "pixel_size_x"]].median().to_numpy()
                pos = meta[["y_pos", "x_pos"]].to_numpy()
                offsets = np.rint((pos - pos.min(axis=0)) / size).astype(int)
                for tile, (y, x) in zip(meta.tile, offsets, strict=True):
                    tiff = tifffile.imread(_tiff(run, stage.image, well, str(tile)))
                    h, w = tiff.shape[-2:]  # synthetic tiles do not overlap: all of it shows
                    np.testing.assert_array_equal(mosaic[..., y : y + h, x : x + w], tiff)


def test_a_second_run_does_nothing(run: Path, config: Path):
    proc = _run(config)
    assert proc.returncode == 0 and "Nothing to be done" in proc.stdout + proc.stderr


def _mtimes(root: Path) -> dict[Path, int]:
    return {p.relative_to(root): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def test_a_deleted_tile_store_is_rebuilt_alone_and_its_field_shows_it(run: Path, config: Path):
    plate = _plate(run, next(s for s in STAGES if s.name == "segment_sbs"))
    field = plate / "B/2/1"
    tile_store = field.resolve()  # a field links to its tile's store
    assert field.is_symlink() and tile_store.name.endswith("__segmentation.ome.zarr")
    before = _mtimes(run / "sbs")
    shutil.rmtree(tile_store)
    proc = _run(config)
    assert proc.returncode == 0, _tail(proc)
    after = _mtimes(run / "sbs")
    changed = {k for k in after if after[k] != before.get(k)}
    # the tile's export job writes its SBS stores; each SBS plate job its plate, row and
    # well metadata (a field is a link to a store, no file of the plate)
    stem = tile_store.name.split("__")[0]
    rebuilt = tile_store.relative_to(run / "sbs")
    assert any(k.is_relative_to(rebuilt) for k in changed)
    tile_job = {k for k in changed if k.parts[2].startswith(f"{stem}__")}
    plates = {k for k in changed if k.parts[2].startswith("P-1__") and k.name == "zarr.json"}
    assert changed == tile_job | plates
    assert all(len(k.parts) <= 6 for k in plates)  # plate, row or well: no field's own file
    assert validate_store(plate) == []


def test_a_failed_export_keeps_the_earlier_store_and_the_plate(run: Path, config: Path):
    stage = next(s for s in STAGES if s.name == "align_phenotype")
    plate = _plate(run, stage)
    tile_store = (plate / "A/1/0").resolve()

    def contents() -> dict[tuple[Path, Path], bytes]:
        return {(p, k): (p / k).read_bytes() for p in (plate, tile_store) for k in _mtimes(p)}

    good = contents()
    tiff = _tiff(run, stage.image, "A1", "0")
    data = tiff.read_bytes()
    try:
        tiff.write_bytes(data[: len(data) // 2])
        proc = _run(config, str(tile_store), "--force")
        assert proc.returncode != 0 and tiff.name in proc.stdout + proc.stderr
    finally:
        tiff.write_bytes(data)
    assert contents() == good
    assert validate_store(plate) == []


def _truth_label(screen: dict[str, Path], modality: str, well: str, table: pd.DataFrame):
    """True cell label under each cell's nucleus centroid (0: on no true cell)."""
    labels = np.zeros(len(table), int)
    for tile, rows in table.groupby("tile"):
        truth = tifffile.imread(screen["truth"] / modality / f"P-1_W-{well}_T-{tile}__cells.tiff")
        y = np.clip(np.rint(rows.nucleus_centroid_y).astype(int), 0, truth.shape[0] - 1)
        x = np.clip(np.rint(rows.nucleus_centroid_x).astype(int), 0, truth.shape[1] - 1)
        labels[table.index.get_indexer(rows.index)] = truth[y, x]
    return labels


def test_merge_joins_phenotype_cells_to_their_own_sbs_cells(run: Path, screen: dict[str, Path]):
    for well in PARAMS.wells:
        parquets = run / "merge" / "parquets"
        matches = pd.read_parquet(parquets / f"P-1_W-{well}__merge.parquet")
        assert list(matches.columns) == [
            "plate", "well", "phenotype_tile", "phenotype_cell", "sbs_tile", "sbs_cell",
            "distance_um",
        ]  # fmt: skip
        pheno = pd.read_parquet(
            run / "phenotype/parquets" / f"P-1_W-{well}__phenotype_cp_min.parquet"
        )
        sbs = pd.read_parquet(run / "sbs/parquets" / f"P-1_W-{well}__sbs_info.parquet")
        pheno = pheno.assign(truth=_truth_label(screen, "phenotype", well, pheno))
        sbs = sbs.assign(truth=_truth_label(screen, "sbs", well, sbs))
        joined = matches.merge(
            pheno[["tile", "label", "truth"]].rename(
                columns={"tile": "phenotype_tile", "label": "phenotype_cell", "truth": "t_p"}
            )
        ).merge(
            sbs[["tile", "cell", "truth"]].rename(
                columns={"tile": "sbs_tile", "cell": "sbs_cell", "truth": "t_s"}
            )
        )
        # the simple geometry: a tile's cells carry the same true label in both modalities
        correct = (joined.phenotype_tile == joined.sbs_tile) & (joined.t_p == joined.t_s)
        correct &= joined.t_p > 0
        assert correct.mean() >= 0.99, correct.mean()
        both = pheno[pheno.truth > 0].merge(sbs[sbs.truth > 0], on=["tile", "truth"])
        # about 40 cells a well here: 2 misses are 5 %; the merge's recall on thousands
        # of cells is held to 0.95 by tests/unit/test_merge.py
        assert correct.sum() >= 0.9 * len(both), (correct.sum(), len(both))
        merged = pd.read_parquet(parquets / f"P-1_W-{well}__merged_cells.parquet")
        assert len(merged) == len(matches) and {"cell_barcode_0", "gene_symbol_0"} <= set(merged)
        assert "cell_COXIV_mean" in merged or any(c.startswith("cell_COXIV") for c in merged)
        transform = pd.read_parquet(parquets / f"P-1_W-{well}__merge_transform.parquet")
        # the simple geometry's truth is the identity: what is left of rotation and scale
        # must move a cell at a tile's edge by less than the fit's own residual
        fit = transform.iloc[0]
        half_tile_um = PARAMS.sbs_tile_shape[0] / 2 * PARAMS.sbs_pixel_size_um
        assert abs(math.radians(fit.rotation_deg)) * half_tile_um < fit.residual_p90_um
        assert abs(fit.scale - 1) * half_tile_um < fit.residual_p90_um
        assert (run / "merge" / "plots" / f"P-1_W-{well}__merge_qc.png").stat().st_size > 10_000

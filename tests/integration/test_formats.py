"""The format-aware pipeline: the same tables whether steps read and write TIFF or OME-Zarr.

One small synthetic screen runs in TIFF mode (the reference), reading its images from
the exported stores with every TIFF deleted once read (``input_format: omezarr``,
``keep_tiff: []``), continued from those stores with the SBS steps rerun in
``compute_format: omezarr``, and from scratch in ``compute_format: omezarr`` (plates
linking tile stores). The expectations are the reference run's own tables and TIFFs,
the NGFF validator and ome-zarr-py's reader.
"""

from __future__ import annotations

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
from ome_zarr.io import parse_url
from ome_zarr.reader import Reader

from opsflow.config import load_config
from opsflow.export import default_stages
from opsflow.io import read_image, validate_store
from opsflow.sbs import illumination_corrected_step
from opsflow.steps import Workflow, get_step, run_step
from opsflow.synth import SynthParams, write_screen

PARAMS = SynthParams(
    seed=3,
    wells=("A1",),
    tiles_per_well=1,
    n_cycles=5,
    sbs_tile_shape=(192, 192),
    n_genes=6,
    sgrnas_per_gene=2,
    n_nontargeting=2,
)
TILE = {"plate": "1", "well": "A1", "tile": "0"}


def _run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "opsflow.cli", "run", "--configfile", str(config), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
    return proc.stdout + proc.stderr


def _tables(root: Path) -> dict[Path, pd.DataFrame]:
    found = {}
    for path in sorted(root.rglob("*")):
        if path.suffix in (".tsv", ".parquet") and "logs" not in path.parts:
            read = pd.read_parquet if path.suffix == ".parquet" else _read_tsv
            found[path.relative_to(root)] = read(path)
    return found


def _read_tsv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t")


def _assert_same_tables(reference: Path, other: Path) -> None:
    want, got = _tables(reference), _tables(other)
    assert sorted(got) == sorted(want)
    assert len(want) > 30  # the per-tile, per-well and per-plate tables of every module
    for rel, table in want.items():
        pd.testing.assert_frame_equal(got[rel], table, check_exact=True, obj=str(rel))


def _tiffs(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*.tiff"))


@pytest.fixture(scope="module")
def screen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    paths = write_screen(tmp_path_factory.mktemp("formats"), PARAMS, workers=2)
    base = yaml.safe_load(paths["config"].read_text())

    def config(name: str, **sections: dict[str, Any]) -> Path:
        data = yaml.safe_load(yaml.safe_dump(base))
        data["all"]["root_fp"] = name
        for section, values in sections.items():
            data.setdefault(section, {}).update(values)
        path = paths["root"] / f"{name}.yml"
        path.write_text(yaml.safe_dump(data))
        return path

    return {"root": paths["root"], "config": config}


@pytest.fixture(scope="module")
def tiff_run(screen: dict[str, Any]) -> Path:
    _ok(_run(screen["config"]("tiff")))
    return screen["root"] / "tiff"


@pytest.fixture(scope="module")
def stores_run(screen: dict[str, Any], tiff_run: Path) -> Path:
    """TIFF compute, every image read from the stores, no TIFF kept (tiles layout)."""
    reads = {"input_format": "omezarr"}
    shared = {"omezarr_layout": "tiles", "keep_tiff": []}
    config = screen["config"]("stores", all=shared, sbs=reads, phenotype=reads)
    _ok(_run(config))
    return screen["root"] / "stores"


@pytest.fixture(scope="module")
def compute_run(screen: dict[str, Any], tiff_run: Path) -> Path:
    shared = {"compute_format": "omezarr", "omezarr_export_default": True}
    _ok(_run(screen["config"]("compute", all=shared)))
    return screen["root"] / "compute"


def test_reading_the_stores_gives_the_same_tables_and_keeps_no_tiff(
    tiff_run: Path, stores_run: Path, screen: dict[str, Any]
):
    _assert_same_tables(tiff_run, stores_run)
    # montages are final products, not intermediates; every other TIFF was deleted
    assert [p.parent.name for p in _tiffs(stores_run)] == ["montages", "montages"]
    assert len(_tiffs(tiff_run)) > 30
    # the deleted TIFFs are not wanted back: a second run has nothing to do
    again = _ok(_run(screen["root"] / "stores.yml", "-n"))
    assert "Nothing to be done" in again


def test_a_tiff_screen_continues_in_omezarr_from_its_stores(
    tiff_run: Path, stores_run: Path, screen: dict[str, Any]
):
    """SBS rerun with compute_format omezarr, reading the preprocess stores of the run."""
    data = yaml.safe_load((screen["root"] / "stores.yml").read_text())
    data["all"]["compute_format"] = "omezarr"
    config = screen["root"] / "stores_compute.yml"
    config.write_text(yaml.safe_dump(data))
    converted = next((stores_run / "preprocess/omezarr/sbs").glob("*T-0__image.ome.zarr"))
    # no step read the aligned image from a store (the tile job had it in memory)
    assert not list(stores_run.glob("sbs/omezarr/aligned/*T-0__aligned.ome.zarr"))
    before = (converted / "zarr.json").stat().st_mtime_ns
    # a different rule now writes the stores: only modification times decide what reruns
    _ok(_run(config, "--rerun-triggers", "mtime", "--forcerun", "sbs_tile"))
    assert (converted / "zarr.json").stat().st_mtime_ns == before  # the input kept
    aligned = stores_run / "sbs/omezarr/aligned/P-1_W-A1_T-0__aligned.ome.zarr"
    assert validate_store(aligned) == []  # SBS computed into its stores
    _assert_same_tables(tiff_run, stores_run)


def test_computing_in_omezarr_gives_the_same_tables_images_and_valid_plates(
    tiff_run: Path, compute_run: Path
):
    _assert_same_tables(tiff_run, compute_run)
    assert [p.parent.name for p in _tiffs(compute_run)] == ["montages", "montages"]
    tile = "P-1_W-A1_T-0"
    for tiff, store, label in [
        (f"sbs/images/{tile}__aligned.tiff", f"sbs/omezarr/aligned/{tile}__aligned", None),
        (
            f"sbs/images/{tile}__cells.tiff",
            f"sbs/omezarr/segmentation/{tile}__segmentation",
            "cells",
        ),
        (
            f"phenotype/images/{tile}__identified_cytoplasms.tiff",
            f"phenotype/omezarr/cytoplasm/{tile}__identified_cytoplasms",
            "cytoplasm",
        ),
    ]:
        want = tifffile.imread(tiff_run / tiff)
        path = compute_run / f"{store}.ome.zarr" / (f"labels/{label}" if label else "")
        got = read_image(path)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.reshape(want.shape), want)
    plates = sorted(compute_run.glob("*/omezarr/**/P-1__*.ome.zarr"))
    modules = ("preprocess", "sbs", "phenotype")
    assert len(plates) == sum(len(default_stages(m)) for m in modules)
    for plate in plates:
        assert validate_store(plate) == [], plate
        fields = [p for p in plate.glob("*/*/*") if p.is_dir()]
        assert fields and all(p.is_symlink() for p in fields)
    plate = compute_run / "sbs/omezarr/segmentation/P-1__segmentation.ome.zarr"
    assert type(next(iter(Reader(parse_url(str(plate)))())).specs[0]).__name__ == "Plate"
    field = next(iter(Reader(parse_url(str(plate / "A" / "1" / "0")))()))  # through the link
    corrected = tifffile.imread(tiff_run / f"sbs/images/{tile}__illumination_corrected.tiff")
    np.testing.assert_array_equal(np.asarray(field.data[0]), corrected)


def test_a_step_reads_only_the_chunks_it_needs(compute_run: Path, tmp_path: Path):
    """Illumination correction of SBS: all of one cycle, DAPI alone of another.

    Every other chunk of the aligned store is overwritten with junk; the step still
    computes the image the intact array gives, and fails once the DAPI chunk goes too.
    """
    root = tmp_path / "copy"
    shutil.copytree(compute_run, root, symlinks=True)
    config = yaml.safe_load((compute_run.parent / "compute.yml").read_text())
    config["all"]["root_fp"] = str(root)
    config["sbs"].update({"dapi_cycle": 0, "cyto_cycle": 2})
    base = compute_run.parent
    workflow = Workflow.from_config(load_config(config, base_dir=base), base_dir=base)
    aligned = Path(workflow.source("align_sbs", TILE))
    intact = read_image(aligned)
    field = read_image(workflow.source("calculate_ic_sbs", {**TILE, "cycle": "3"}))
    want = illumination_corrected_step(intact, field, workflow.config.sbs)
    dapi = workflow.config.sbs.dapi_index
    chunks = [p for p in (aligned / "0" / "c").rglob("*") if p.is_file()]
    kept = {(2, c) for c in range(intact.shape[1])} | {(0, dapi)}
    for chunk in chunks:
        t, c = (int(part) for part in chunk.relative_to(aligned / "0" / "c").parts[:2])
        if (t, c) not in kept:
            chunk.write_bytes(b"junk")
    assert len(chunks) > 3 * len(kept)
    step = get_step("apply_ic_field_sbs")
    run_step(workflow, step, TILE)
    got = read_image(workflow.source("apply_ic_field_sbs", TILE))
    np.testing.assert_array_equal(got, want)
    for chunk in (aligned / "0" / "c" / "0" / str(dapi)).rglob("*"):
        if chunk.is_file():
            chunk.write_bytes(b"junk")
    with pytest.raises(Exception):  # noqa: B017 - the codec's own error for a broken chunk
        run_step(workflow, step, TILE)

"""Segmentation parameter search: each setting's masks are the segment step's own."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from ome_zarr.io import parse_url
from ome_zarr.reader import Reader

from opsflow import phenotype
from opsflow.config import load_config
from opsflow.errors import ConfigError
from opsflow.export import parse_setting, segmentation_grid, segmentation_search
from opsflow.io import read_image, validate_store, write_tiff
from opsflow.synth import SynthParams
from opsflow.synth._render_phenotype import make_phenotype_tile

PARAMS = SynthParams(seed=4, wells=("A1",), tiles_per_well=1, sbs_tile_shape=(96, 96))


def test_grid_and_settings_parse_by_type() -> None:
    assert parse_setting("nuclei_threshold_factor=0.8,1.2") == (
        "nuclei_threshold_factor", [0.8, 1.2])  # fmt: skip
    assert parse_setting("nuclei_min_area=10,30")[1] == [10, 30]
    assert segmentation_grid({"a": [1, 2], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]  # fmt: skip
    with pytest.raises(ConfigError, match="nuclei_size"):
        parse_setting("nuclei_size=3")
    with pytest.raises(ConfigError, match="takes int"):
        parse_setting("nuclei_min_area=big")


def test_each_setting_is_the_segment_steps_own_masks(tmp_path: Path) -> None:
    image = make_phenotype_tile(PARAMS, "A1", 0).image
    config = load_config({})
    grid = {"nuclei_threshold_factor": [0.7, 1.4], "nuclei_min_area": [20]}
    store = tmp_path / "search.ome.zarr"
    table = segmentation_search(
        image,
        store,
        modality="phenotype",
        params=config.phenotype,
        grid=grid,
        channel_names=config.phenotype.channel_names,
    )
    assert validate_store(store) == []
    assert table["setting"].tolist() == [0, 1]
    np.testing.assert_array_equal(read_image(store), image)
    for k, setting in enumerate(segmentation_grid(grid)):
        tried = dataclasses.replace(config.phenotype, segmentation=dataclasses.replace(
            config.phenotype.segmentation, **setting))  # fmt: skip
        nuclei, cells, _ = phenotype.segment_step(image, tried)
        np.testing.assert_array_equal(read_image(store / "labels" / f"nuclei_{k}")[0], nuclei)
        np.testing.assert_array_equal(read_image(store / "labels" / f"cells_{k}")[0], cells)
        assert table["nuclei"][k] == len(np.unique(nuclei)) - 1
    # a stricter threshold finds fewer nucleus pixels
    low, high = (read_image(store / "labels" / f"nuclei_{k}") > 0 for k in (0, 1))
    assert high.sum() < low.sum()
    names = {n.metadata.get("name") for n in Reader(parse_url(str(store)))()}
    assert {"nuclei_0", "cells_1"} <= names
    assert pd.read_csv(f"{store}.tsv", sep="\t").equals(table)


def test_the_command_writes_the_store_and_prints_the_table(tmp_path: Path) -> None:
    tiff = write_tiff(tmp_path / "tile.tiff", make_phenotype_tile(PARAMS, "A1", 0).image,
                      axes="cyx")  # fmt: skip
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump({}))
    out = tmp_path / "out.ome.zarr"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "opsflow.cli",
            "paramsearch",
            str(tiff),
            "--configfile",
            str(config),
            "--set",
            "nuclei_min_area=10,400",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "nuclei_min_area" in proc.stdout and validate_store(out) == []
    small, large = (read_image(out / "labels" / f"nuclei_{k}").max() for k in (0, 1))
    assert large <= small

"""validate_store: a valid store passes; each broken invariant is reported."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import zarr

from opsflow.errors import OpsflowError
from opsflow.io import ExportOptions, validate_store, write_multiscale_omezarr


@pytest.fixture(scope="module")
def good_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 1000, (2, 3, 200, 160)).astype(np.uint16)
    mask = np.zeros((200, 160), np.uint16)
    mask[20:80, 30:90] = 5
    mask[120:190, 10:150] = 9
    out = tmp_path_factory.mktemp("valid") / "good.ome.zarr"
    return write_multiscale_omezarr(
        image,
        out,
        axes="tcyx",
        options=ExportOptions(chunk_shape=(1, 64, 64)),
        labels={"cells": mask},
        channel_labels=["DAPI", "G", "T"],
    )


def _edit_json(path: Path, edit: Callable[[dict], None]) -> None:
    meta = json.loads(path.read_text())
    edit(meta)
    path.write_text(json.dumps(meta))


def _ome(meta: dict) -> dict:
    return meta["attributes"]["ome"]


def _drop_channel(store: Path) -> None:
    _edit_json(store / "zarr.json", lambda m: _ome(m)["omero"]["channels"].pop())


def _inactive_channel(store: Path) -> None:
    _edit_json(store / "zarr.json", lambda m: _ome(m)["omero"]["channels"][0].pop("active"))


def _window_without_end(store: Path) -> None:
    _edit_json(store / "zarr.json", lambda m: _ome(m)["omero"]["channels"][1]["window"].pop("end"))


def _wrong_scale(store: Path) -> None:
    def edit(m: dict) -> None:
        _ome(m)["multiscales"][0]["datasets"][1]["coordinateTransformations"][0]["scale"][-1] = 3.0

    _edit_json(store / "zarr.json", edit)


def _wrong_dimension_names(store: Path) -> None:
    _edit_json(store / "0" / "zarr.json", lambda m: m.update(dimension_names=["t", "c", "x", "y"]))


def _invented_label_value(store: Path) -> None:
    arr = zarr.open_array(str(store / "labels" / "cells" / "1"), mode="r+")
    arr[0, 0, 0, 0] = 77


def _uncoloured_label(store: Path) -> None:
    def edit(m: dict) -> None:
        colors = _ome(m)["image-label"]["colors"]
        _ome(m)["image-label"]["colors"] = [c for c in colors if c["label-value"] != 9]

    _edit_json(store / "labels" / "cells" / "zarr.json", edit)


def _missing_label_level(store: Path) -> None:
    def edit(m: dict) -> None:
        _ome(m)["multiscales"][0]["datasets"].pop()

    _edit_json(store / "labels" / "cells" / "zarr.json", edit)
    shutil.rmtree(store / "labels" / "cells" / "2")


def _wrong_level_shape(store: Path) -> None:
    _edit_json(store / "1" / "zarr.json", lambda m: m.update(shape=[2, 3, 100, 81]))


def _omero_on_labels(store: Path) -> None:
    _edit_json(
        store / "labels" / "cells" / "zarr.json",
        lambda m: _ome(m).update(omero={"channels": []}),
    )


BREAKS = {
    "channel count": (_drop_channel, "omero lists 2 channels, the c axis has 3"),
    "inactive channel": (_inactive_channel, "'active' is not true"),
    "window keys": (_window_without_end, "window lacks ['end']"),
    "scale": (_wrong_scale, "scale of axis 'x'"),
    "dimension names": (_wrong_dimension_names, "dimension_names"),
    "invented label": (_invented_label_value, "values [77] not in level 0"),
    "label colours": (_uncoloured_label, "have no colour"),
    "label levels": (_missing_label_level, "2 levels, its image has 3"),
    "level shape": (_wrong_level_shape, "expected (2, 3, 100, 80)"),
    "omero on labels": (_omero_on_labels, "must not carry an omero block"),
}


def test_good_store_is_valid(good_store: Path) -> None:
    assert validate_store(good_store) == []
    assert len(zarr.open_group(str(good_store), mode="r")["labels"]["cells"]) == 3


@pytest.mark.parametrize("case", list(BREAKS))
def test_each_broken_invariant_is_reported(good_store: Path, tmp_path: Path, case: str) -> None:
    store = tmp_path / "broken.ome.zarr"
    shutil.copytree(good_store, store)
    breaker, message = BREAKS[case]
    breaker(store)
    problems = validate_store(store)
    assert any(message in p for p in problems), problems


def test_not_a_store_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OpsflowError, match="expected an OME-Zarr store"):
        validate_store(tmp_path)

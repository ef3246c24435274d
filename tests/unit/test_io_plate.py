"""HCS plates: well names, plate formats, fields written one by one, and their metadata.

Independent expectations: ome-zarr-models' HCS models, ome-zarr-py's Reader walking the
plate, zarr reading every field back against the arrays written into it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import zarr

from opsflow.errors import InputFileError, OpsflowError
from opsflow.io import (
    ExportOptions,
    field_path,
    plate_fields,
    plate_format,
    validate_store,
    well_position,
    write_multiscale_omezarr,
    write_plate_metadata,
)

CHANNELS = ["DAPI", "G", "T"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("A1", ("A", "1")),
        ("A01", ("A", "1")),
        ("b12", ("B", "12")),
        ("P24", ("P", "24")),
        ("AF48", ("AF", "48")),
        ("H_05", ("H", "5")),
    ],
)
def test_well_names_as_microscopes_write_them(name: str, expected: tuple[str, str]) -> None:
    assert well_position(name) == expected


@pytest.mark.parametrize("name", ["A0", "A49", "AG1", "1A", "well1", "", "A1B", "BA3"])
def test_other_well_names_are_one_clear_error(name: str) -> None:
    with pytest.raises(OpsflowError, match=rf"well {name!r}: expected a well name such as A1"):
        well_position(name)


@pytest.mark.parametrize(
    ("wells", "n"),
    [
        (["A1", "B3"], 6),
        (["C4"], 12),
        (["D6"], 24),
        (["F8"], 48),
        (["H12", "A1"], 96),
        (["P24"], 384),
        (["AF48"], 1536),
    ],
)
def test_the_smallest_standard_plate_that_has_every_well(wells: list[str], n: int) -> None:
    fmt = plate_format(wells)
    assert fmt.wells == n == len(fmt.rows) * len(fmt.columns)
    assert fmt.rows[0] == "A" and fmt.columns[0] == "1"


def _image(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 4000, (2, 3, 150, 140)).astype(np.uint16)


def _mask(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 6, (150, 140)).astype(np.uint16)


def _plate(tmp_path: Path, fields: dict[str, list[str]], **options) -> tuple[Path, dict]:
    store = tmp_path / "P-1__aligned.ome.zarr"
    images = {}
    for w, names in fields.items():
        for f in names:
            seed = len(images)
            images[field_path(w, f)] = (_image(seed), _mask(seed))
            write_multiscale_omezarr(
                _image(seed),
                store / field_path(w, f),
                axes="tcyx",
                pixel_size=(0.5, 0.5),
                channel_labels=CHANNELS,
                labels={"cells": _mask(seed)},
                options=ExportOptions(chunk_shape=(1, 64, 64), **options),
            )
    version = options.get("ngff_version", "0.5")
    write_plate_metadata(store, fields, ngff_version=version)
    return store, images


def test_a_plate_validates_and_every_field_holds_what_was_written(tmp_path: Path) -> None:
    from ome_zarr_models.v05.hcs import HCS

    store, images = _plate(tmp_path, {"A01": ["0", "1"], "B2": ["0"]})
    assert validate_store(store) == []
    hcs = HCS.from_zarr(zarr.open_group(str(store), mode="r"))
    plate = hcs.ome_attributes.plate
    assert [w.path for w in plate.wells] == ["A/1", "B/2"]
    assert [(w.rowIndex, w.columnIndex) for w in plate.wells] == [(0, 0), (1, 1)]
    assert plate.field_count == 2 and len(plate.rows) == 2 and len(plate.columns) == 3
    assert plate_fields(store) == {"A/1": ["0", "1"], "B/2": ["0"]}
    for path, (image, mask) in images.items():
        group = zarr.open_group(str(store / path), mode="r")
        np.testing.assert_array_equal(group["0"][...], image)
        np.testing.assert_array_equal(group["labels/cells/0"][...], mask[None, None])
    for row in ("A", "B"):  # every row group carries its own metadata
        assert json.loads((store / row / "zarr.json").read_text())["attributes"]["ome"] == {
            "version": "0.5"
        }


def test_ome_zarr_py_walks_the_plate_to_every_field(tmp_path: Path) -> None:
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    store, images = _plate(tmp_path, {"A1": ["0", "1"], "A2": ["0"]})
    nodes = list(Reader(parse_url(str(store)))())
    assert type(nodes[0].specs[0]).__name__ == "Plate"
    for path in images:
        field = list(Reader(parse_url(str(store / path)))())
        image = field[0]
        assert image.metadata["channel_names"] == CHANNELS
        labels = [n for n in field if type(n.specs[0]).__name__ == "Label"]
        assert labels and np.asarray(labels[0].data[0]).shape[-2:] == (150, 140)


# napari's own imports raise pydantic deprecation warnings; not ours to fix
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_napari_ome_zarr_gives_layers_for_the_plate_and_a_field(tmp_path: Path) -> None:
    from napari_ome_zarr._reader import napari_get_reader

    store, images = _plate(tmp_path, {"A1": ["0"], "B1": ["0"]})
    for path, height in ((store, 2 * 150), (store / next(iter(images)), 150)):
        layers = napari_get_reader(str(path))(str(path))
        images_ = [meta for _, meta, kind in layers if kind == "image"]
        labels = [data for data, _, kind in layers if kind == "labels"]
        # one image layer per channel, named by its label, and the cells as labels
        assert [m["name"].split(": ")[-1] for m in images_] == CHANNELS
        assert len(labels) == 1 and labels[0][0].shape[-2] == height
        image = next(data for data, _, kind in layers if kind == "image")
        assert image[0].shape[-2] == height and len(image) > 1  # the pyramid, whole plate


def test_ngff_04_plates_on_zarr_v2(tmp_path: Path) -> None:
    from ome_zarr_models.v04.hcs import HCS

    store, _ = _plate(tmp_path, {"C3": ["0", "1"]}, ngff_version="0.4")
    assert validate_store(store) == []
    assert (store / ".zattrs").is_file() and not (store / "zarr.json").exists()
    plate = HCS.from_zarr(zarr.open_group(str(store), mode="r")).attributes.plate
    assert plate.version == "0.4" and plate.wells[0].path == "C/3"


def test_acquisitions_are_listed_by_the_plate_and_named_by_each_well_image(
    tmp_path: Path,
) -> None:
    store, _ = _plate(tmp_path, {"A1": ["0c1", "0c2"]})
    write_plate_metadata(store, {"A1": ["0c1", "0c2"]}, acquisitions={"0c1": 1, "0c2": 2})
    assert validate_store(store) == []
    ome = json.loads((store / "zarr.json").read_text())["attributes"]["ome"]
    assert ome["plate"]["acquisitions"] == [{"id": 1}, {"id": 2}]
    well = json.loads((store / "A/1/zarr.json").read_text())["attributes"]["ome"]["well"]
    assert well["images"] == [{"path": "0c1", "acquisition": 1}, {"path": "0c2", "acquisition": 2}]


def test_the_plate_metadata_refuses_a_field_that_was_not_written(tmp_path: Path) -> None:
    store, _ = _plate(tmp_path, {"A1": ["0"]})
    before = (store / "zarr.json").read_text()
    with pytest.raises(InputFileError, match=r"1 missing \(e\.g\. A/1/7\)"):
        write_plate_metadata(store, {"A1": ["0", "7"]})
    assert (store / "zarr.json").read_text() == before


class _Failing:
    """An image whose reader fails halfway, like a killed export."""

    def __init__(self, image: np.ndarray) -> None:
        self.image, self.shape, self.dtype, self.calls = image, image.shape, image.dtype, 0

    def __getitem__(self, key):
        self.calls += 1
        if self.calls > 2:
            raise OSError("disk went away")
        return self.image[key]


def test_a_failed_field_leaves_its_earlier_version_and_the_other_fields(tmp_path: Path) -> None:
    store, images = _plate(tmp_path, {"A1": ["0", "1"]})
    with pytest.raises(OSError, match="disk went away"):
        write_multiscale_omezarr(
            _Failing(_image(99)),
            store / "A/1/1",
            axes="tcyx",
            options=ExportOptions(chunk_shape=(1, 64, 64)),
        )
    assert validate_store(store) == []
    for path, (image, _) in images.items():
        np.testing.assert_array_equal(zarr.open_group(str(store / path))["0"][...], image)
    assert sorted(p.name for p in (store / "A/1").iterdir()) == ["0", "1", "zarr.json"]


def _files(path: Path) -> int:
    return sum(1 for p in path.rglob("*") if p.is_file())


def test_shards_gather_the_chunks_of_a_field_into_a_handful_of_files(tmp_path: Path) -> None:
    image = np.random.default_rng(3).integers(0, 60000, (11, 5, 300, 260)).astype(np.uint16)
    mask = np.random.default_rng(4).integers(0, 9, (300, 260)).astype(np.uint32)
    written = {}
    for shards in (None, (5, 256, 256)):
        out = tmp_path / f"{shards is not None}.ome.zarr"
        options = ExportOptions(chunk_shape=(1, 64, 64), shard_shape=shards)
        write_multiscale_omezarr(image, out, axes="tcyx", options=options, labels={"c": mask})
        assert validate_store(out) == []
        group = zarr.open_group(str(out), mode="r")
        np.testing.assert_array_equal(group["0"][...], image)
        np.testing.assert_array_equal(group["labels/c/0"][0, 0], mask)
        np.testing.assert_array_equal(group["1"][...], zarr.open_group(str(out))["1"][...])
        written[shards] = (_files(out), group)
    plain, sharded = written[None][0], written[(5, 256, 256)][0]
    group = written[(5, 256, 256)][1]
    assert group["0"].shards == (11, 5, 256, 256) and group["0"].chunks == (1, 1, 64, 64)
    assert group["labels/c/0"].shards == (1, 1, 256, 256)
    assert plain > 20 * sharded  # 11 x 5 x 5 x 5 chunks at level 0 alone against 4 shards
    np.testing.assert_array_equal(
        zarr.open_group(str(tmp_path / "True.ome.zarr"))["2"][...],
        zarr.open_group(str(tmp_path / "False.ome.zarr"))["2"][...],
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"shard_shape": (100, 100)}, "multiples of the chunk shape"),
        ({"shard_shape": (1024, 1024), "ngff_version": "0.4"}, "Zarr v2 has no shards"),
        ({"shard_shape": (0, 512)}, "positive integers"),
    ],
)
def test_bad_shard_shapes_are_refused_before_writing(options: dict, message: str) -> None:
    with pytest.raises(OpsflowError, match=message):
        ExportOptions(**options)

"""Preprocess: conversion, metadata, illumination correction, raw readers (TIFF, ND2)."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import nd2
import nd2.structures as nds
import numpy as np
import pandas as pd
import pytest
import tifffile

from opsflow.errors import ConfigError, InputFileError, InputFileNotFoundError, OpsflowError
from opsflow.io import raw_image_from_nd2, read_raw_image, read_raw_nd2, read_tiff, write_tiff
from opsflow.preprocess import (
    apply_ic_field,
    calculate_ic_field,
    combine_metadata,
    convert_raw,
    convert_tile,
    converted_channel_names,
    tile_metadata,
    to_cyx,
)
from opsflow.steps import get_output
from opsflow.synth import (
    SynthParams,
    illumination_field,
    make_phenotype_tile,
    make_sbs_tile,
)

# ----------------------------------------------------------------- conversion


def _path(root: Path, key: str, **wildcards: object) -> Path:
    """Where the workflow writes one output (the outputs table), under ``root``."""
    return Path(str(get_output(key).pattern(root)).format(**wildcards))


def test_converting_the_synthetic_raw_files_is_exact(
    small_screen: dict, small_params: SynthParams, tmp_path: Path
) -> None:
    root = small_screen["root"]
    samples = pd.read_csv(small_screen["sbs_samples"], sep="\t")
    truth = make_sbs_tile(small_params, "A2", 1)
    rows = samples[(samples["well"] == "A2") & (samples["tile"] == 1)].sort_values("cycle")
    cycles = []
    for fp, cycle in zip(rows["sample_fp"], rows["cycle"], strict=True):
        raw = read_raw_image(root / fp)
        image = convert_raw([raw], channel_order_flip=True)
        assert image.dtype == np.uint16 and image.shape == (5, *small_params.sbs_tile_shape)
        assert np.array_equal(image, truth.image[cycle - 1])
        names = converted_channel_names([raw], channel_order_flip=True)
        assert names == small_params.sbs_channels
        cycles.append(image)
    # the tile's stack of cycles, written and read back through the pipeline's TIFF I/O
    out = _path(tmp_path, "convert_sbs", plate=1, well="A2", tile=1)
    write_tiff(out, np.stack(cycles), axes="tcyx")
    assert np.array_equal(read_tiff(out), truth.image)
    ph_rows = pd.read_csv(small_screen["phenotype_samples"], sep="\t")
    fp = ph_rows.loc[(ph_rows["well"] == "A2") & (ph_rows["tile"] == 1), "sample_fp"].item()
    raw = read_raw_image(root / fp)
    image = convert_raw([raw], channel_order_flip=False)
    assert np.array_equal(image, make_phenotype_tile(small_params, "A2", 1).image)


def test_join_flip_and_z_projection_by_hand() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 4000, size=(2, 8, 9), dtype=np.uint16)  # channels 0, 1
    b = rng.integers(0, 4000, size=(8, 9), dtype=np.uint16)  # channel 2, no C axis
    joined = convert_tile([a, b], axes=["CYX", "YX"])
    assert np.array_equal(joined, np.stack([a[0], a[1], b]))
    flipped = convert_tile([a, b], axes=["CYX", "YX"], channel_order_flip=True)
    assert np.array_equal(flipped, np.stack([b, a[1], a[0]]))
    # explicit Z axis, in a non-canonical order
    z = rng.integers(0, 4000, size=(3, 2, 8, 9), dtype=np.uint16)  # Z, C
    assert np.array_equal(to_cyx(z.transpose(1, 0, 2, 3), axes="CZYX"), z.max(axis=0))
    with pytest.raises(OpsflowError, match="expected 4 z planes"):
        to_cyx(z, axes="ZCYX", n_z_planes=4)
    # flat plane sequence: 2 channels x 3 planes, both interleavings
    planes_zc = z.reshape(6, 8, 9)  # z-major: (z0 c0), (z0 c1), (z1 c0) ...
    assert np.array_equal(to_cyx(planes_zc, axes="QYX", n_z_planes=3), z.max(axis=0))
    planes_cz = z.transpose(1, 0, 2, 3).reshape(6, 8, 9)  # (c0 z0), (c0 z1) ...
    out = to_cyx(planes_cz, axes="CYX", n_z_planes=3, plane_order="cz")
    assert np.array_equal(out, z.max(axis=0))
    with pytest.raises(OpsflowError, match="plane_order must be one of"):
        to_cyx(planes_cz, axes="CYX", n_z_planes=3, plane_order="xy")
    with pytest.raises(OpsflowError, match="divisible by n_z_planes=4"):
        to_cyx(planes_cz, axes="CYX", n_z_planes=4)


def test_conversion_keeps_values_or_refuses() -> None:
    small = np.array([[[0, 7], [255, 3]]], dtype=np.uint8)
    out = convert_tile([small], axes=["CYX"])
    assert out.dtype == np.uint16 and np.array_equal(out, small)
    exact_float = np.array([[[1.0, 65535.0]]])
    assert np.array_equal(convert_tile([exact_float], axes=["CYX"]), [[[1, 65535]]])
    with pytest.raises(OpsflowError, match="non-integer"):
        convert_tile([np.array([[[1.5, 2.0]]])], axes=["CYX"])
    with pytest.raises(OpsflowError, match=r"0\.\.65535"):
        convert_tile([np.array([[[-1, 70000]]], dtype=np.int32)], axes=["CYX"])
    with pytest.raises(OpsflowError, match=r"share one \(Y, X\) size"):
        convert_tile([np.zeros((4, 4), np.uint16), np.zeros((4, 5), np.uint16)], axes=["YX", "YX"])
    with pytest.raises(OpsflowError, match="expected one T per tile"):
        to_cyx(np.zeros((2, 3, 4, 4), np.uint16), axes="TCYX")


# ------------------------------------------------------------------- metadata


def test_metadata_table_has_one_row_per_tile_with_pixel_size(
    small_screen: dict, small_params: SynthParams, tmp_path: Path
) -> None:
    root = small_screen["root"]
    stage = pd.read_csv(small_screen["truth"] / "stage_positions.tsv", sep="\t")
    for modality, samples_key, flip in (
        ("sbs", "sbs_samples", True),
        ("phenotype", "phenotype_samples", False),
    ):
        samples = pd.read_csv(small_screen[samples_key], sep="\t")
        rows = []
        for rec in samples[samples["well"] == "A1"].itertuples():
            raw = read_raw_image(root / rec.sample_fp)
            rows.append(
                tile_metadata(
                    [raw],
                    plate=str(rec.plate),
                    well=rec.well,
                    tile=rec.tile,
                    cycle=getattr(rec, "cycle", None),
                    image_shape=convert_raw([raw], channel_order_flip=flip).shape,
                    pixel_size_um=small_params.phenotype_pixel_size_um,
                    channel_order_flip=flip,
                )
            )
        path = _path(tmp_path, f"combine_metadata_{modality}", plate=1, well="A1")
        path.parent.mkdir(parents=True, exist_ok=True)
        combine_metadata(rows).to_parquet(path)
        table = pd.read_parquet(path)
        n_tiles = len(small_params.tiles)
        if modality == "sbs":
            assert len(table) == n_tiles * small_params.n_cycles
            assert not table.duplicated(["tile", "cycle"]).any()
            # SBS files record their pixel size; it wins over the configured one
            assert (table["pixel_size_x"] == small_params.sbs_pixel_size_um).all()
            assert (table["pixel_size_source"] == "file").all()
            assert (table["channels"] == ",".join(small_params.sbs_channels)).all()
        else:
            assert len(table) == n_tiles and table["tile"].tolist() == list(small_params.tiles)
            assert "cycle" not in table.columns
            assert (table["pixel_size_y"] == small_params.phenotype_pixel_size_um).all()
            assert (table["pixel_size_source"] == "config").all()
        expected = stage[stage["well"] == "A1"].set_index("tile")
        got = table.groupby("tile")[["x_pos", "y_pos"]].first()
        assert np.allclose(got.to_numpy(), expected.loc[got.index, ["x_pos", "y_pos"]].to_numpy())


def test_metadata_without_any_pixel_size_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, np.zeros((2, 4, 4), np.uint16))
    raw = read_raw_image(path)
    assert raw.pixel_size_um is None and raw.stage_position_um is None
    with pytest.raises(ConfigError, match=r"plain\.tif: expected a pixel size"):
        tile_metadata([raw], plate="1", well="A1", tile=0, image_shape=(2, 4, 4))


def test_imagej_resolution_gives_the_pixel_size(tmp_path: Path) -> None:
    path = tmp_path / "ij.tif"
    tifffile.imwrite(
        path,
        np.zeros((3, 4, 4), np.uint16),
        imagej=True,
        resolution=(1 / 0.325, 1 / 0.325),
        metadata={"axes": "CYX", "unit": "um"},
    )
    raw = read_raw_image(path)
    assert raw.axes == "CYX"
    assert raw.pixel_size_um == pytest.approx((0.325, 0.325))


def test_raw_reader_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileNotFoundError, match=r"missing\.tif"):
        read_raw_image(tmp_path / "missing.tif")
    bad = tmp_path / "broken.tif"
    bad.write_bytes(b"not a tiff at all")
    with pytest.raises(InputFileError, match=r"broken\.tif: expected a readable TIFF"):
        read_raw_image(bad)
    with pytest.raises(InputFileError, match=r"found suffix '\.czi'"):
        read_raw_image(tmp_path / "x.czi")


# ----------------------------------------------------------------------- ND2


def _fake_nd2(data: np.ndarray, sizes: dict[str, int], names: list[str]) -> SimpleNamespace:
    """An object with exactly the parts of nd2.ND2File the adapter uses, built from the real
    nd2 structures so attribute names are checked against the installed nd2."""
    channels = [
        nds.Channel(
            channel=nds.ChannelMeta(
                name=n, index=i, color=None, emissionLambdaNm=None, excitationLambdaNm=None
            ),
            loops=None,
            microscope=None,
            volume=None,
        )
        for i, n in enumerate(names)
    ]
    position = nds.Position(
        stagePositionUm=nds.StagePosition(1500.5, -20.25, 3000.0), pfsOffset=None, name=None
    )
    frame = nds.FrameMetadata(
        contents=None,
        channels=[
            nds.FrameChannel(
                channel=None,
                loops=None,
                microscope=None,
                volume=None,
                position=position,
                time=None,
                pfs_status=None,
            )
        ],
    )
    from nd2._util import VoxelSize

    return SimpleNamespace(
        sizes=sizes,
        asarray=lambda: data,
        metadata=nds.Metadata(contents=None, channels=channels),
        voxel_size=lambda channel=0: VoxelSize(0.65, 0.65, 1.0),
        frame_metadata=lambda seq_index: frame,
    )


def test_nd2_adapter_reads_pixels_axes_and_metadata() -> None:
    # the adapter only touches these members of nd2.ND2File
    for member in ("sizes", "asarray", "metadata", "voxel_size", "frame_metadata"):
        assert hasattr(nd2.ND2File, member)
    rng = np.random.default_rng(1)
    data = rng.integers(0, 5000, size=(1, 3, 2, 6, 7), dtype=np.uint16)  # P, Z, C, Y, X
    fake = _fake_nd2(data, {"P": 1, "Z": 3, "C": 2, "Y": 6, "X": 7}, ["DAPI", "GFP"])
    raw = raw_image_from_nd2(fake, "tile.nd2")
    assert raw.axes == "ZCYX" and raw.data.shape == (3, 2, 6, 7)
    assert raw.channel_names == ("DAPI", "GFP")
    assert raw.pixel_size_um == (0.65, 0.65)
    assert raw.stage_position_um == (1500.5, -20.25, 3000.0)
    image = convert_raw([raw], n_z_planes=3, channel_order_flip=True)
    assert np.array_equal(image, data[0].max(axis=0)[::-1])
    assert converted_channel_names([raw], channel_order_flip=True) == ("GFP", "DAPI")


def test_nd2_adapter_refuses_multipoint_files_and_tolerates_missing_metadata(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = np.zeros((2, 4, 4), np.uint16)
    fake = _fake_nd2(data, {"P": 2, "Y": 4, "X": 4}, ["DAPI"])
    with pytest.raises(InputFileError, match=r"multi.nd2: expected one stage position .* P=2"):
        raw_image_from_nd2(fake, "multi.nd2")
    bare = SimpleNamespace(
        sizes={"Y": 4, "X": 4},
        asarray=lambda: np.zeros((4, 4), np.uint16),
        metadata=None,
        voxel_size=lambda channel=0: None,
        frame_metadata=lambda seq_index: None,
    )
    with caplog.at_level(logging.WARNING):
        raw = raw_image_from_nd2(bare, "bare.nd2")
    assert raw.axes == "YX" and raw.channel_names is None and raw.pixel_size_um is None
    assert "bare.nd2" in caplog.text


def test_reading_a_file_that_is_not_nd2_is_a_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "fake.nd2"
    fake.write_bytes(b"\x00" * 4096)
    with pytest.raises(InputFileError, match=r"fake\.nd2: expected a readable ND2 file"):
        read_raw_nd2(fake)
    with pytest.raises(InputFileNotFoundError, match=r"absent\.nd2"):
        read_raw_image(tmp_path / "absent.nd2")


# --------------------------------------------------------- illumination fields


def test_ic_field_of_a_known_multiplicative_field_by_hand() -> None:
    _, xx = np.mgrid[0:64, 0:64]
    field = 1 + 0.5 * (xx / 63)  # 1 .. 1.5 left to right
    tiles = [np.stack([field * 200, np.full((64, 64), 50.0)]) for _ in range(3)]
    ic = calculate_ic_field(tiles, smooth=3, downsample=1)
    assert ic.dtype == np.float32 and ic.shape == (2, 64, 64)
    assert ic.min() >= 1.0
    # a linear ramp survives a median filter; divided by its 2nd percentile
    inner = ic[0, 8:-8, 8:-8]
    expected = (field / np.percentile(field, 2))[8:-8, 8:-8]
    assert np.allclose(inner, np.maximum(expected, 1), rtol=0.01)
    assert np.allclose(ic[1], 1.0)  # a flat channel needs no correction


def test_reduced_grid_median_matches_the_exact_median() -> None:
    p = SynthParams(
        sbs_tile_shape=(128, 128),
        tiles_per_well=4,
        n_cycles=3,
        min_hamming=2,
        n_genes=3,
        sgrnas_per_gene=2,
        n_nontargeting=1,
        wells=("A1",),
    )
    tiles = [make_sbs_tile(p, "A1", t).image[0] for t in range(4)]
    exact = calculate_ic_field(tiles, downsample=1)
    fast = calculate_ic_field(tiles)  # auto: radius 16 -> factor 2
    for c in range(5):
        assert np.corrcoef(exact[c].ravel(), fast[c].ravel())[0, 1] > 0.97
    assert np.median(np.abs(fast / exact - 1)) < 0.02


@pytest.fixture(scope="module")
def ic_well() -> tuple[SynthParams, list[np.ndarray], list[np.ndarray]]:
    """One well of 64 SBS tiles (384^2), cycle 2, and their true cell masks.

    The CellProfiler-style mean-then-median needs many tiles for the cells to average
    out (with 16 tiles DAPI reaches only r = 0.76); real wells have hundreds.
    """
    p = SynthParams(
        sbs_tile_shape=(384, 384),
        tiles_per_well=64,
        n_cycles=3,
        min_hamming=1,
        n_genes=5,
        sgrnas_per_gene=2,
        n_nontargeting=2,
        empty_tile=False,
        wells=("A1",),
    )
    made = [make_sbs_tile(p, "A1", t) for t in p.tiles]
    return p, [m.image[1] for m in made], [m.cells for m in made]


def test_estimated_ic_field_correlates_with_the_true_field(ic_well) -> None:
    p, tiles, _ = ic_well
    field = calculate_ic_field(tiles)
    true = illumination_field(p, "A1", modality="sbs")
    pearson = [np.corrcoef(field[c].ravel(), true.ravel())[0, 1] for c in range(5)]
    logging.getLogger(__name__).info("IC Pearson per channel %s", np.round(pearson, 3))
    assert min(pearson) > 0.9, pearson


def test_correction_reduces_the_background_spread_across_tiles(ic_well) -> None:
    _, tiles, masks = ic_well
    field = calculate_ic_field(tiles)
    before, after = [], []
    for image, cells in zip(tiles, masks, strict=True):
        corrected = apply_ic_field(image, field, dtype=np.float32)
        bg = cells == 0
        for raw, out in ((image, before), (corrected, after)):
            blocks = raw[2].reshape(12, 32, 12, 32)  # channel T, 32 x 32 blocks
            mask = bg.reshape(12, 32, 12, 32)
            for i in range(12):
                for j in range(12):
                    m = mask[i, :, j, :]
                    if m.sum() > 200:
                        out.append(np.median(blocks[i, :, j, :][m]))
    cv = lambda v: np.std(v) / np.mean(v)  # noqa: E731
    logging.getLogger(__name__).info("background CV %.3f -> %.3f", cv(before), cv(after))
    assert cv(after) < 0.6 * cv(before), (cv(before), cv(after))


def test_apply_ic_field_by_hand() -> None:
    image = np.array([[[100, 65535], [7, 0]]], dtype=np.uint16)
    field = np.array([[[2.0, 0.5], [2.0, 1.0]]], dtype=np.float32)
    out = apply_ic_field(image, field)
    assert out.dtype == np.uint16
    assert out.tolist() == [[[50, 65535], [4, 0]]]  # rounded, clipped not wrapped
    stack = np.stack([image, image * 0 + 10])  # (cycle, C, Y, X) broadcasts
    assert apply_ic_field(stack, field, dtype=np.float32)[1].tolist() == [[[5, 20], [5, 10]]]
    with pytest.raises(OpsflowError, match=r"expected an illumination field of shape \(1, 2, 2\)"):
        apply_ic_field(image, np.ones((2, 2, 2)))

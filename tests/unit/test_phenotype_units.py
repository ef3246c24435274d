"""Phenotype functions on small hand-built inputs with hand-computed answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi
from skimage.measure import regionprops_table

from opsflow.errors import ConfigError, OpsflowError
from opsflow.phenotype import (
    STATS,
    AlignStep,
    ChannelAlignParams,
    FociParams,
    LabelMismatchError,
    PhenotypeParams,
    align_channels,
    estimate_channel_shifts,
    extract_features,
    extract_minimal,
    feature_columns,
    foci_per_cell,
    identify_cytoplasm,
    illumination_corrected,
    registration_image,
    segment_phenotype,
)


def reference_stats(values: np.ndarray) -> dict[str, float]:
    return {
        "sum": values.sum(),
        "mean": values.mean(),
        "std": values.std(),
        "min": values.min(),
        "max": values.max(),
        "median": np.median(values),
        "q25": np.percentile(values, 25),
        "q75": np.percentile(values, 75),
    }


def test_features_equal_hand_computed_values():
    cells = np.zeros((6, 8), dtype=np.int32)
    cells[0:3, 0:4] = 1
    cells[3:6, 4:8] = 2
    nuclei = np.zeros_like(cells)
    nuclei[1, 1:3] = 1
    nuclei[4:6, 5] = 2
    image = np.arange(2 * 48, dtype=np.uint16).reshape(2, 6, 8)
    table = extract_features(image, nuclei, cells, channel_names=("A", "B"))
    assert list(table.columns) == feature_columns(("A", "B"))
    row = table.set_index("label").loc[1]
    # cell 1: rows 0-2, columns 0-3 of channel A hold 8 * y + x
    a = np.array([8 * y + x for y in range(3) for x in range(4)], dtype=float)
    assert row["cell_area"] == 12
    assert row["cell_centroid_y"] == 1.0 and row["cell_centroid_x"] == 1.5
    assert [row[f"cell_bounds_{i}"] for i in range(4)] == [0, 0, 3, 4]
    assert row["nucleus_area"] == 2 and row["cytoplasm_area"] == 10
    assert row["nucleus_A_sum"] == 9 + 10
    assert row["cell_A_median"] == np.median(a) == 9.5
    assert row["cell_A_q25"] == np.percentile(a, 25)
    assert row["cell_A_std"] == pytest.approx(a.std())
    assert row["cytoplasm_A_max"] == 19 and row["cytoplasm_A_min"] == 0
    assert row["cell_B_min"] == 48  # channel B is channel A + 48


@settings(max_examples=25, deadline=None)
@given(
    labels=st.lists(st.integers(0, 4), min_size=30, max_size=30),
    values=st.lists(st.integers(0, 65535), min_size=30, max_size=30),
    as_float=st.booleans(),
)
def test_intensity_stats_match_numpy_per_label(labels, values, as_float):
    cells = np.array(labels, dtype=np.int32).reshape(5, 6)
    nuclei = np.where(np.arange(30).reshape(5, 6) % 2 == 0, cells, 0).astype(np.int32)
    channel = np.array(values, dtype=np.float32 if as_float else np.uint16).reshape(1, 5, 6)
    table = extract_features(channel, nuclei, cells, cytoplasm=cells, channel_names=("X",))
    present = sorted(set(labels) - {0})
    assert table["label"].tolist() == present
    for _, row in table.iterrows():
        pixels = channel[0][cells == row["label"]].astype(float)
        for stat, expected in reference_stats(pixels).items():
            assert row[f"cell_X_{stat}"] == pytest.approx(expected, rel=1e-6), stat


def test_geometry_matches_regionprops():
    rng = np.random.default_rng(0)
    cells, n = ndi.label(ndi.binary_dilation(rng.random((40, 50)) > 0.97, iterations=2))
    cells = cells.astype(np.int32)
    table = extract_minimal(np.ones((1, 40, 50), np.uint16), cells, cells, channel_names=("X",))
    props = regionprops_table(cells, properties=("label", "area", "centroid", "bbox"))
    assert table["label"].tolist() == props["label"].tolist() and n == len(table)
    np.testing.assert_array_equal(table["cell_area"], props["area"])
    np.testing.assert_allclose(table["cell_centroid_y"], props["centroid-0"])
    np.testing.assert_allclose(table["cell_centroid_x"], props["centroid-1"])
    for i in range(4):
        np.testing.assert_array_equal(table[f"cell_bounds_{i}"], props[f"bbox-{i}"])


def test_missing_compartment_gives_zero_area_and_nan_stats():
    cells = np.zeros((4, 4), dtype=np.int32)
    cells[:2, :2] = 1
    cells[2:, 2:] = 2
    nuclei = cells.copy()
    nuclei[2, 2] = 0  # cell 2 keeps three cytoplasm pixels; cell 1 has none
    table = extract_features(np.ones((1, 4, 4), np.uint16), nuclei, cells, channel_names=("X",))
    row = table.set_index("label").loc[1]
    assert row["cytoplasm_area"] == 0
    assert np.isnan(row["cytoplasm_X_mean"]) and np.isnan(row["cytoplasm_centroid_y"])
    assert row["cytoplasm_bounds_0"] == -1
    assert table.set_index("label").loc[2, "cytoplasm_area"] == 1


def test_minimal_min_flags_pixels_without_data():
    cells = np.zeros((5, 5), dtype=np.int32)
    cells[1:4, 1:4] = 1
    image = np.full((2, 5, 5), 200, dtype=np.uint16)
    image[1, 1, 1] = 0  # a pixel that alignment filled in
    table = extract_minimal(image, cells, cells, channel_names=("A", "B"))
    assert table["cell_A_min"].item() == 200 and table["cell_B_min"].item() == 0


def test_identify_cytoplasm_keeps_foreign_nucleus_pixels_and_rejects_mismatch():
    cells = np.array([[1, 1, 2, 2], [1, 1, 2, 2]], dtype=np.int32)
    nuclei = np.array([[1, 0, 1, 2], [0, 0, 0, 0]], dtype=np.int32)
    cytoplasm = identify_cytoplasm(nuclei, cells)
    np.testing.assert_array_equal(cytoplasm, [[0, 1, 2, 0], [1, 1, 2, 2]])
    with pytest.raises(LabelMismatchError, match="1 cells without a nucleus"):
        identify_cytoplasm(np.where(nuclei == 2, 0, nuclei), cells)
    with pytest.raises(LabelMismatchError, match="1 nuclei without a cell"):
        identify_cytoplasm(np.where(cells == 1, 3, nuclei).astype(np.int32), cells)
    with pytest.raises(OpsflowError, match="equal shape"):
        identify_cytoplasm(nuclei[:1], cells)


def blob_image(shape=(128, 128), seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    points = np.zeros(shape, np.float32)
    points[tuple(rng.integers(8, shape[0] - 8, size=(2, 40)))] = 1
    return 100 + 5000 * ndi.gaussian_filter(points, 3.0)


def test_estimated_shift_moves_source_and_riders_not_others():
    base = blob_image()
    true = np.array([1.3, -0.7])
    moved = ndi.shift(base, true, order=3, mode="nearest")
    image = np.stack([base, moved, moved, base]).astype(np.uint16)
    names = ("DAPI", "SRC", "RIDER", "OTHER")
    shifts = estimate_channel_shifts(
        image, channel_names=names, steps=[AlignStep("SRC", "DAPI", riders=("RIDER",))]
    )
    np.testing.assert_allclose(shifts[1], true, atol=0.15)
    np.testing.assert_array_equal(shifts[2], shifts[1])
    assert not shifts[0].any() and not shifts[3].any()


def test_fixed_offsets_are_applied_exactly_before_estimation():
    base = blob_image()
    image = np.stack([base, np.roll(base, (2, -3), axis=(0, 1))]).astype(np.uint16)
    aligned = align_channels(image, channel_names=("DAPI", "B"), offsets=[("B", 2.0, -3.0)])
    # B(y, x) = DAPI(y - 2, x + 3): registered B(y, x) = B(y + 2, x - 3)
    np.testing.assert_array_equal(aligned[1, :-2, 3:], image[0, :-2, 3:])
    assert not aligned[1, -2:].any() and not aligned[1, :, :3].any()  # no data: zero
    off = align_channels(image, channel_names=("DAPI", "B"), offsets=[("B", 2, -3)], enabled=False)
    np.testing.assert_array_equal(off, image)


def test_implausible_estimate_is_not_applied(caplog):
    rng = np.random.default_rng(1)
    image = rng.integers(100, 200, size=(2, 64, 64)).astype(np.uint16)  # nothing shared
    shifts = estimate_channel_shifts(
        image, channel_names=("A", "B"), steps=[AlignStep("B", "A")], max_shift=0.01
    )
    assert not shifts.any()
    assert "treated as failed" in caplog.text


def test_edges_registration_aligns_a_ring_to_a_disk():
    yy, xx = np.mgrid[:128, :128]
    centres = [(30, 34), (40, 90), (90, 40), (95, 95), (64, 64)]
    disk = np.zeros((128, 128), np.float32)
    ring = np.zeros((128, 128), np.float32)
    for cy, cx in centres:
        r = np.hypot(yy - cy - 0.0, xx - cx)
        disk += 2000 * (r < 8)
        ring += 800 * ((r >= 8) & (r < 16))
    true = np.array([0.8, 1.2])
    ring = ndi.shift(ndi.gaussian_filter(ring, 1), true, order=3)
    image = np.stack([ndi.gaussian_filter(disk, 1), ring]) + 150
    steps = [AlignStep("B", "A", method="edges")]
    shifts = estimate_channel_shifts(image.astype(np.uint16), channel_names=("A", "B"), steps=steps)
    np.testing.assert_allclose(shifts[1], true, atol=0.25)


def test_registration_image_rejects_unknown_method():
    with pytest.raises(OpsflowError, match="intensity"):
        registration_image(np.ones((4, 4)), method="phase")


def test_foci_counted_per_cell_with_threshold_from_the_data():
    rng = np.random.default_rng(3)
    cells = np.zeros((64, 64), np.int32)
    cells[4:30, 4:30] = 1
    cells[34:60, 34:60] = 2
    cells[4:30, 34:60] = 3
    spots = np.zeros((64, 64), np.float32)
    for y, x in [(10, 10), (10, 20), (22, 14), (40, 40)]:
        spots[y, x] = 1
    image = 200 + 4000 * ndi.gaussian_filter(spots, 1.0) + rng.normal(0, 5, (64, 64))
    count, area = foci_per_cell(image, cells, radius=3, smooth_sigma=0.5, noise_factor=5)
    assert count.tolist() == [3, 1, 0]
    assert area[0] > area[1] > 0 == area[2]
    bright = 200 + 8000 * ndi.gaussian_filter(spots, 1.0) + rng.normal(0, 10, (64, 64))
    assert foci_per_cell(bright, cells)[0].tolist() == [3, 1, 0]  # same at 2x gain


def test_illumination_corrected_subtracts_dark_level_then_divides():
    image = np.full((2, 3, 3), 300, dtype=np.uint16)
    field = np.full((2, 3, 3), 2.0, dtype=np.float32)
    np.testing.assert_array_equal(illumination_corrected(image, field), 150)
    np.testing.assert_array_equal(illumination_corrected(image, field, dark_level=100), 100)
    assert illumination_corrected(image, None).dtype == np.uint16
    with pytest.raises(OpsflowError, match="> 0"):
        illumination_corrected(image, field * 0)
    with pytest.raises(OpsflowError, match=r"\(C, Y, X\)"):
        illumination_corrected(image[0], field)


def test_segment_phenotype_names_missing_channels():
    with pytest.raises(OpsflowError, match="MITO"):
        segment_phenotype(
            np.zeros((2, 32, 32), np.uint16), channel_names=("DAPI", "WGA"), cyto_channels=["MITO"]
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cyto_reducer": "sum"}, "mean"),
        ({"dapi_channel": "Hoechst"}, "channel_names"),
        ({"foci": FociParams(channel="GFP")}, "foci.channel"),
        ({"align": ChannelAlignParams(steps=(AlignStep("GFP"),))}, "channel_names"),
        ({"align": ChannelAlignParams(offsets=(("GFP", 1.0, 0.0),))}, "channel_names"),
        ({"channel_names": ("DAPI", "DAPI")}, "unique"),
        ({"dark_level": -1.0}, "dark_level"),
    ],
)
def test_params_reject_bad_choices(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        PhenotypeParams(**kwargs)


def test_align_section_rejects_a_window_outside_the_tile():
    with pytest.raises(ConfigError, match=r"phenotype\.align\.window"):
        ChannelAlignParams(window=0.0)


def test_align_step_rejects_bad_method_and_roles():
    with pytest.raises(ConfigError, match="intensity"):
        AlignStep("WGA", method="phase")
    with pytest.raises(ConfigError, match="rider"):
        AlignStep("WGA", riders=("WGA",))


def test_every_param_has_help():
    import dataclasses

    for f in dataclasses.fields(PhenotypeParams) + dataclasses.fields(AlignStep):
        assert f.metadata.get("help"), f.name
    assert set(STATS) == {"sum", "mean", "std", "min", "max", "median", "q25", "q75"}

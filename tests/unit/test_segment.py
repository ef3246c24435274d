import importlib.util

import numpy as np
import pytest
from scipy import ndimage as ndi

from opsflow.errors import ConfigError, OpsflowError
from opsflow.segment import (
    CellposeUnavailableError,
    SegmentParams,
    reconcile,
    remove_border_cells,
    segment,
    segment_cellpose,
    segment_cells,
    segment_nuclei,
    segmentation_stats,
)


def _disk(shape, center, radius):
    y, x = np.mgrid[: shape[0], : shape[1]]
    return (y - center[0]) ** 2 + (x - center[1]) ** 2 <= radius**2


@pytest.fixture(scope="module")
def scene():
    """Two touching nuclei, one separate, one speck of debris, on a noisy background."""
    rng = np.random.default_rng(0)
    shape = (96, 96)
    truth = np.zeros(shape, dtype=np.int32)
    for label, (c, r) in enumerate([((40, 30), 9), ((40, 46), 9), ((70, 70), 8)], start=1):
        truth[_disk(shape, c, r) & (truth == 0)] = label
    dapi = 200 + 2000.0 * (truth > 0) + rng.normal(0, 10, shape)
    dapi[15, 80] += 3000  # one-pixel debris
    cyto = (
        200
        + 150.0 * (_disk(shape, (40, 38), 22) | _disk(shape, (70, 70), 16))
        + rng.normal(0, 10, shape)
    )
    return truth, dapi, cyto


def test_segment_nuclei_splits_touching_and_drops_debris(scene):
    truth, dapi, _ = scene
    nuclei = segment_nuclei(dapi, min_area=20, split_min_distance=5)
    assert nuclei.dtype == np.int32
    assert nuclei.max() == 3  # two touching nuclei split, the third separate, debris gone
    for label in (1, 2, 3):
        overlap = np.bincount(nuclei[truth == label], minlength=4)[1:]
        assert overlap.max() / (truth == label).sum() > 0.9


def test_segment_nuclei_threshold_follows_the_data(scene):
    _, dapi, _ = scene
    # the same scene 10x brighter segments identically: no fixed intensity threshold
    np.testing.assert_array_equal(segment_nuclei(dapi), segment_nuclei(dapi * 10))


def test_segment_nuclei_on_background_only_finds_nothing():
    rng = np.random.default_rng(1)
    y, _ = np.mgrid[:96, :96]
    background = 200 + 0.5 * y + rng.normal(0, 10, (96, 96))  # noise plus a gradient
    assert not segment_nuclei(background).any()
    assert not segment_nuclei(np.full((32, 32), 5.0)).any()


def test_segment_cells_grow_from_nuclei_within_foreground(scene):
    _, dapi, cyto = scene
    nuclei = segment_nuclei(dapi)
    cells = segment_cells(cyto, nuclei)
    inside = nuclei > 0
    np.testing.assert_array_equal(cells[inside], nuclei[inside])
    assert set(np.unique(cells)) == {0, 1, 2, 3}
    foreground = _disk(cyto.shape, (40, 38), 22) | _disk(cyto.shape, (70, 70), 16)
    # cells stay in the cytoplasm mask, up to the smoothing's blur of its edge
    near = ndi.binary_dilation(foreground, iterations=3)
    assert not cells[~near].any()
    assert ((cells > 0) & foreground).sum() / foreground.sum() > 0.9


@pytest.fixture(scope="module")
def membrane_scene():
    """Two touching cells whose shared membrane lies 10 px off the nuclei's midpoint.

    Nuclei at x = 24 and x = 72 (midpoint 48); the cells' outline and the membrane
    between them (x = 58) are bright lines, the interiors dim, as in a WGA image.
    """
    rng = np.random.default_rng(2)
    shape = (64, 96)
    nuclei = np.zeros(shape, dtype=np.int32)
    nuclei[_disk(shape, (32, 24), 6)] = 1
    nuclei[_disk(shape, (32, 72), 6)] = 2
    body = np.zeros(shape, dtype=bool)
    body[12:53, 8:89] = True
    membrane = body & ~ndi.binary_erosion(body)
    membrane[12:53, 58] = True
    membrane_image = 100 + 60.0 * body + 600.0 * membrane + rng.normal(0, 5, shape)
    return nuclei, membrane_image, body


def _boundary_columns(cells: np.ndarray) -> np.ndarray:
    """Per row through both cells, the first column of cell 2."""
    rows = [r for r in range(cells.shape[0]) if {1, 2} <= set(np.unique(cells[r]))]
    return np.array([np.argmax(cells[r] == 2) for r in rows])


def test_membrane_watershed_follows_the_membrane_not_the_midpoint(membrane_scene):
    nuclei, image, body = membrane_scene
    by_membrane = segment_cells(image, nuclei, smooth_sigma=1.0, watershed_on="membrane")
    by_distance = segment_cells(image, nuclei, smooth_sigma=1.0, watershed_on="distance")
    for cells in (by_membrane, by_distance):
        np.testing.assert_array_equal(cells[nuclei > 0], nuclei[nuclei > 0])
    assert set(np.unique(by_membrane)) == {0, 1, 2}
    # the membrane split lies on the line at x = 58 (its pixels go to either side) ...
    assert np.all(np.abs(_boundary_columns(by_membrane) - 58.5) <= 1)
    # ... the distance split midway between the nuclei, at x = 48
    assert np.all(np.abs(_boundary_columns(by_distance) - 48) <= 1)
    # cells end at the outer membrane: nothing outside the body, the body nearly all cell
    assert not by_membrane[~body].any()
    assert ((by_membrane > 0) & body).sum() / body.sum() > 0.9
    # and the same through segment(), with nuclei found in a DAPI image
    dapi = 100 + 2000.0 * (nuclei > 0) + np.random.default_rng(3).normal(0, 10, nuclei.shape)
    params = SegmentParams(cells_watershed="membrane", cells_smooth_sigma=1.0)
    found, cells = segment(dapi, image, params=params)
    assert found.max() == cells.max() == 2
    assert np.all(np.abs(_boundary_columns(cells) - 58.5) <= 1)


def test_remove_border_cells_renumbers_both_masks():
    cells = np.zeros((10, 10), dtype=np.int32)
    cells[0:3, 0:3] = 5  # touches the border
    cells[4:7, 4:7] = 7
    nuclei = np.where(cells > 0, cells, 0)
    nuclei[0:3, 0:3] = 0
    nuclei[1, 1] = 5
    new_nuclei, new_cells = remove_border_cells(nuclei, cells)
    assert set(np.unique(new_cells)) == {0, 1} and (new_cells[4:7, 4:7] == 1).all()
    assert set(np.unique(new_nuclei)) == {0, 1}


def test_reconcile_gives_each_cell_its_largest_nucleus():
    cells = np.zeros((8, 8), dtype=np.int32)
    cells[:, :4], cells[:, 4:6] = 3, 9  # cell 9 has no nucleus and is dropped
    nuclei = np.zeros_like(cells)
    nuclei[1:5, 1:3] = 4  # 8 px in cell 3
    nuclei[6, 0] = 2  # 1 px in cell 3: the smaller overlap loses
    new_nuclei, new_cells = reconcile(nuclei, cells)
    assert set(np.unique(new_cells)) == {0, 1}
    assert (new_nuclei == 1).sum() == 8 and new_nuclei[6, 0] == 0


def test_segmentation_stats_hand_values():
    cells = np.zeros((10, 10), dtype=np.int32)
    cells[:2, :5], cells[5:, 5:] = 1, 2  # areas 10 and 25
    nuclei = np.zeros_like(cells)
    nuclei[0, 0:2] = 1  # area 2; cell 2 has none
    row = segmentation_stats(nuclei, cells).iloc[0]
    assert (row["number_nuclei"], row["number_cells"]) == (1, 2)
    assert row["mean_cell_area"] == 17.5 and row["median_nucleus_area"] == 2
    assert row["cells_fraction_of_image"] == pytest.approx(0.35)
    assert row["cells_without_nucleus"] == 1
    empty = segmentation_stats(np.zeros((4, 4), int), np.zeros((4, 4), int)).iloc[0]
    assert empty["number_cells"] == 0 and np.isnan(empty["mean_cell_area"])


def test_segment_dispatch_classic(scene):
    _, dapi, cyto = scene
    nuclei, cells = segment(dapi, cyto, params=SegmentParams(remove_border=False))
    assert nuclei.max() == cells.max() == 3


@pytest.mark.skipif(importlib.util.find_spec("cellpose") is not None, reason="cellpose installed")
def test_cellpose_missing_is_a_clear_error(scene):
    _, dapi, cyto = scene
    with pytest.raises(CellposeUnavailableError, match="pip install cellpose"):
        segment(dapi, cyto, params=SegmentParams(method="cellpose"))
    with pytest.raises(ImportError):  # also catchable as the built-in
        segment_cellpose(dapi, cyto)


def test_segment_params_reject_bad_choices():
    with pytest.raises(ConfigError, match=r"classic.*cellpose"):
        SegmentParams(method="magic")
    with pytest.raises(ConfigError, match="otsu"):
        SegmentParams(nuclei_threshold_method="fixed")
    with pytest.raises(ConfigError, match="membrane"):
        SegmentParams(cells_watershed="outline")
    with pytest.raises(OpsflowError, match="2-D"):
        segment_nuclei(np.zeros((2, 4, 4)))

"""Accuracy of the SBS steps against the synthetic ground truth (issue 4)."""

import numpy as np
import pytest
import scipy.sparse as sps
from _tiles import sbs_tile
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from opsflow.sbs import (
    BASES_COLUMNS,
    CELL_INFO_COLUMNS,
    CELLS_COLUMNS,
    bases_to_array,
    estimate_crosstalk,
    estimate_cycle_shifts,
    reads_columns,
)
from opsflow.segment import SEGMENTATION_STATS_COLUMNS
from opsflow.synth import SynthParams, make_library, make_sbs_tile

PARAMS = SynthParams(seed=0)
TILES = (("A1", 0), ("A1", 1))
BORDER = 8  # px: spots and peaks this close to the edge are not scored


@pytest.fixture(scope="module")
def library():
    return make_library(PARAMS)


@pytest.fixture(scope="module")
def runs(library):
    """Each tile with its truth and the pipeline's outputs; no truth goes into the pipeline."""
    out = []
    for well, tile in TILES:
        truth = make_sbs_tile(PARAMS, well, tile)
        out.append((truth, sbs_tile(truth.image, library=library)))
    return out


def _iou_pairs(true: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """(2, n) label pairs (true, pred) with IoU >= 0.5; such a match is unique."""
    t, q = true.ravel().astype(np.int64), pred.ravel().astype(np.int64)
    both = (t > 0) & (q > 0)
    pairs, inter = np.unique(np.stack([t[both], q[both]]), axis=1, return_counts=True)
    union = np.bincount(t)[pairs[0]] + np.bincount(q)[pairs[1]] - inter
    return pairs[:, inter / union >= 0.5]


def _inside(y, x, shape):
    return (y >= BORDER) & (y < shape[0] - BORDER) & (x >= BORDER) & (x < shape[1] - BORDER)


def test_cycle_shifts_recovered_within_half_pixel(runs):
    errors = [
        np.abs(estimate_cycle_shifts(truth.image[:, 0]) - truth.shifts).max() for truth, _ in runs
    ]
    assert max(errors) < 0.5
    assert max(errors) < 0.2  # what the method achieves on this data (about 0.05 px)


def test_aligned_cycles_match_cycle_zero(runs):
    truth, res = runs[0]
    # DAPI of the last cycle, registered, matches cycle 0 far better than before
    inner = (slice(20, -20), slice(20, -20))
    d0 = res.aligned[0, 0][inner].astype(float)
    before = np.corrcoef(d0.ravel(), truth.image[-1, 0][inner].astype(float).ravel())[0, 1]
    after = np.corrcoef(d0.ravel(), res.aligned[-1, 0][inner].astype(float).ravel())[0, 1]
    assert after > 0.98 and after > before


def test_peaks_recall_and_precision(runs):
    """Recall/precision of candidate reads within 2 px of a true spot.

    Spots closer than the optical resolution (Rayleigh distance, 1.2 x FWHM of the
    PSF) are one object for any detector: 16 % of the synthetic spots have a
    neighbour within 2 px. Recall is therefore scored on resolvable groups (spots
    joined when closer than that distance; a group is found if a peak is within 2 px
    of a member); the per-spot recall is checked at a lower bound.
    """
    rayleigh = 1.2 * 2.355 * PARAMS.spot_sigma
    spot_recall, group_recall, precision = [], [], []
    for truth, res in runs:
        shape = res.peaks.shape
        sp = truth.spots[_inside(truth.spots["y"], truth.spots["x"], shape)]
        true_yx = sp[["y", "x"]].to_numpy()
        py, px = np.nonzero(res.peaks > res.peak_threshold)
        keep = _inside(py, px, shape)
        pred_yx = np.c_[py[keep], px[keep]]
        d_pred, _ = cKDTree(true_yx).query(pred_yx)
        precision.append(np.mean(d_pred <= 2))
        d_true, _ = cKDTree(pred_yx).query(true_yx)
        found = d_true <= 2
        spot_recall.append(found.mean())
        pairs = cKDTree(true_yx).query_pairs(rayleigh, output_type="ndarray")
        graph = sps.coo_matrix(
            (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(sp), len(sp))
        )
        n_groups, group = connected_components(graph, directed=False)
        group_found = np.zeros(n_groups, dtype=bool)
        np.logical_or.at(group_found, group, found)
        group_recall.append(group_found.mean())
    assert min(precision) > 0.90
    assert min(group_recall) > 0.95
    assert min(spot_recall) > 0.90


def test_nuclei_f1_at_iou_half(runs):
    for truth, res in runs:
        cells = truth.cells
        edge = np.unique(np.r_[cells[0], cells[-1], cells[:, 0], cells[:, -1]])
        # cells cut by the tile edge are removed by design; they are not scored
        scored = np.setdiff1d(np.unique(truth.nuclei), np.r_[0, edge])
        pairs = _iou_pairs(truth.nuclei, res.nuclei)
        tp = int(np.isin(pairs[0], scored).sum())
        predicted = np.unique(res.nuclei[res.nuclei > 0])
        fp = len(np.setdiff1d(predicted, pairs[1]))
        fn = len(scored) - tp
        f1 = 2 * tp / (2 * tp + fp + fn)
        assert f1 > 0.9, (tp, fp, fn)


def test_nuclei_and_cells_share_labels(runs):
    _, res = runs[0]
    inside = res.nuclei > 0
    np.testing.assert_array_equal(res.cells[inside], res.nuclei[inside])
    assert set(np.unique(res.nuclei)) == set(np.unique(res.cells))


def test_barcode_per_cell(runs):
    """Among true barcoded cells that are segmented (IoU >= 0.5), the called barcode."""
    n = correct = wrong_mapped = 0
    for truth, res in runs:
        table = res.cells_table.set_index("cell")
        true_bc = truth.cell_barcodes.set_index("cell")
        for t, p in _iou_pairs(truth.cells, res.cells).T:
            b0, b1 = true_bc.loc[t, "barcode_0"], true_bc.loc[t, "barcode_1"]
            if not b0:
                continue
            n += 1
            if p not in table.index:
                continue
            call = table.loc[p, "cell_barcode_0"]
            correct += call == b0
            # the cell's true second barcode is not a wrong one
            wrong_mapped += call not in (b0, b1) and bool(table.loc[p, "cell_barcode_mapped_0"])
    assert n > 200
    assert correct / n >= 0.95
    assert wrong_mapped / n <= 0.02


def test_gene_symbols_come_from_library(runs, library):
    _, res = runs[0]
    mapped = res.cells_table[res.cells_table["cell_barcode_mapped_0"]]
    lookup = dict(
        zip(library["prefix"].str[: PARAMS.n_cycles], library["gene_symbol"], strict=True)
    )
    assert len(mapped) > 50
    assert (mapped["gene_symbol_0"] == mapped["cell_barcode_0"].map(lookup)).all()


def test_crosstalk_estimate_matches_truth(runs):
    for truth, res in runs:
        est = estimate_crosstalk(bases_to_array(res.bases)[1])

        def norm(m):
            return m / m.sum(axis=0, keepdims=True)

        np.testing.assert_allclose(norm(est), norm(truth.crosstalk), atol=0.03)


def test_empty_tile_gives_empty_tables_with_columns(library):
    empty = make_sbs_tile(PARAMS, "A1", PARAMS.tiles_per_well)
    res = sbs_tile(empty.image, library=library)
    assert res.cells_table.empty and list(res.cells_table.columns) == list(CELLS_COLUMNS)
    assert res.cell_info.empty and list(res.cell_info.columns) == list(CELL_INFO_COLUMNS)
    assert list(res.reads.columns) == reads_columns(PARAMS.n_cycles)
    assert list(res.bases.columns) == list(BASES_COLUMNS)
    assert (res.reads["cell"] == 0).all()  # stray amplicons only, no cell
    assert list(res.segmentation_stats.columns) == list(SEGMENTATION_STATS_COLUMNS)
    assert res.segmentation_stats.loc[0, "number_cells"] == 0

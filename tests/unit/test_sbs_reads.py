import numpy as np
import pandas as pd
import pytest

from opsflow.errors import OpsflowError
from opsflow.sbs import (
    BASES_COLUMNS,
    call_reads,
    estimate_crosstalk,
    extract_bases,
    quality,
    reads_columns,
    unmix,
)

BASES = ("G", "T", "A", "C")
MIX = np.array(  # observed = MIX @ true; G bleeds into T, A into C, uneven gains
    [
        [1.0, 0.0, 0.0, 0.0],
        [0.3, 0.8, 0.0, 0.0],
        [0.0, 0.0, 1.2, 0.0],
        [0.0, 0.0, 0.25, 0.9],
    ]
)


def _reads_cube(barcodes, seed=0, noise=15.0):
    """Observed intensities (read, cycle, channel) of reads carrying ``barcodes``."""
    rng = np.random.default_rng(seed)
    n, k = len(barcodes), len(barcodes[0])
    true = np.zeros((n, k, 4))
    for i, bc in enumerate(barcodes):
        for c, letter in enumerate(bc):
            true[i, c, BASES.index(letter)] = rng.lognormal(np.log(1000), 0.3)
    observed = true @ MIX.T + rng.normal(0, noise, true.shape)
    return np.clip(observed, 0, None)


def _bases_table(cube, cells=None):
    n, k, c = cube.shape
    return pd.DataFrame(
        {
            "read": np.repeat(np.arange(n), k * c),
            "y": np.repeat(np.arange(n) + 10, k * c),
            "x": np.repeat(np.arange(n) + 20, k * c),
            "cell": np.repeat(cells if cells is not None else np.ones(n, int), k * c),
            "peak": np.repeat(np.full(n, 100.0), k * c),
            "cycle": np.tile(np.repeat(np.arange(k), c), n),
            "channel": np.tile(np.array(BASES), n * k),
            "intensity": np.rint(cube).astype(np.int64).reshape(-1),
        }
    )


def _random_barcodes(n, k, seed):
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list(BASES), k)) for _ in range(n)]


def test_estimate_crosstalk_recovers_mixing_columns():
    cube = _reads_cube(_random_barcodes(400, 6, seed=1))
    est = estimate_crosstalk(cube)
    norm = lambda m: m / m.sum(axis=0, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(norm(est), norm(MIX), atol=0.03)


def test_unmix_inverts_mixing_and_clips_negative():
    true = np.array([[0.0, 500.0, 0.0, 0.0], [300.0, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(unmix(true @ MIX.T, MIX), true, atol=1e-9)
    assert (unmix(np.array([[0.0, 0.0, 0.0, 100.0]]), MIX) >= 0).all()


def test_quality_hand_values():
    q = quality(np.array([[5.0, 0, 0, 0], [1.0, 1, 1, 1], [2.0, 1, 1, 0], [0.0, 0, 0, 0]]))
    np.testing.assert_allclose(q, [1.0, 0.0, 1 / 3, 0.0])


@pytest.mark.parametrize("per_cycle", [False, True])
def test_call_reads_recovers_barcodes_through_crosstalk(per_cycle):
    barcodes = _random_barcodes(300, 6, seed=2)
    bases = _bases_table(_reads_cube(barcodes, seed=3))
    reads = call_reads(bases, base_channels=BASES, per_cycle=per_cycle, n_cycles=6)
    assert list(reads.columns) == reads_columns(6)
    assert (reads["barcode"].to_numpy() == np.array(barcodes)).mean() > 0.99
    assert reads["Q_min"].between(0, 1).all()
    np.testing.assert_allclose(reads["Q_min"], reads[[f"Q_{k}" for k in range(6)]].min(axis=1))
    assert reads["y"].tolist() == list(range(10, 310))


def test_call_reads_empty_table_has_columns():
    empty = pd.DataFrame({c: [] for c in BASES_COLUMNS})
    reads = call_reads(empty, base_channels=BASES, n_cycles=9)
    assert reads.empty and list(reads.columns) == reads_columns(9)


def test_call_reads_rejects_wrong_channels():
    bases = _bases_table(_reads_cube(["GTAC"]))
    with pytest.raises(OpsflowError, match="channels"):
        call_reads(bases, base_channels=("G", "T", "A", "X"))


def test_extract_bases_reads_every_cycle_and_channel_at_peaks():
    peaks = np.zeros((6, 6), dtype=np.float32)
    peaks[2, 3], peaks[4, 1], peaks[1, 1] = 50.0, 80.0, 5.0  # the last is below threshold
    maxed = np.arange(2 * 4 * 36, dtype=np.uint16).reshape(2, 4, 6, 6)
    cells = np.zeros((6, 6), dtype=np.int32)
    cells[2, 3] = 7
    bases = extract_bases(peaks, maxed, cells, threshold=10.0, base_channels=BASES)
    assert list(bases.columns) == list(BASES_COLUMNS)
    assert len(bases) == 2 * 2 * 4
    first = bases[bases["read"] == 0]
    assert (first["y"] == 2).all() and (first["x"] == 3).all() and (first["cell"] == 7).all()
    row = first[(first["cycle"] == 1) & (first["channel"] == "A")]
    assert row["intensity"].item() == maxed[1, 2, 2, 3]
    assert (bases[bases["read"] == 1]["cell"] == 0).all()


def test_extract_bases_empty_and_mismatched():
    bases = extract_bases(
        np.zeros((4, 4)), np.zeros((2, 4, 4, 4), np.uint16), np.zeros((4, 4), int), threshold=1
    )
    assert bases.empty and list(bases.columns) == list(BASES_COLUMNS)
    with pytest.raises(OpsflowError, match="same Y, X"):
        extract_bases(
            np.zeros((4, 5)), np.zeros((2, 4, 4, 4), np.uint16), np.zeros((4, 4), int), threshold=1
        )

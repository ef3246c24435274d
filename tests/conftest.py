"""Shared fixtures. Keep them generic and clearly named; several test modules use them."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsflow.synth import SynthParams, write_screen


@pytest.fixture(scope="session")
def small_params() -> SynthParams:
    """A small but complete synthetic screen: 2 wells x (3 + 1 empty) tiles, 5 cycles, 192^2."""
    return SynthParams(
        seed=7,
        wells=("A1", "A2"),
        tiles_per_well=3,
        n_cycles=5,
        sbs_tile_shape=(192, 192),
        n_genes=6,
        sgrnas_per_gene=2,
        n_nontargeting=2,
    )


@pytest.fixture(scope="session")
def small_screen(small_params: SynthParams, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``small_params`` written once per session with ``write_screen``; returns its paths."""
    root: Path = tmp_path_factory.mktemp("small_screen")
    return write_screen(root, small_params)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under ``tests/integration`` are the slow tier (``make test-fast`` skips them)."""
    for item in items:
        if "integration" in Path(str(item.fspath)).parts:
            item.add_marker(pytest.mark.slow)

"""``opsflow run`` as a good citizen: a stop signal stops Snakemake, locks do not linger."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from opsflow.cli._snakemake import _snakemake_pids, clear_stale_lock
from opsflow.errors import OpsflowError
from opsflow.synth import SynthParams, write_screen

TINY = SynthParams(
    seed=3, wells=("A1",), tiles_per_well=1, n_cycles=5, sbs_tile_shape=(128, 128),
    n_genes=4, sgrnas_per_gene=2, n_nontargeting=2,
)  # fmt: skip


def _run(config: Path, log: Path) -> subprocess.Popen:
    """``opsflow run`` in the background, its output to ``log`` (a pipe nobody reads
    while the test waits would fill and stall the run)."""
    command = [sys.executable, "-m", "opsflow.cli", "run", "--configfile", str(config)]
    with log.open("w") as out:
        return subprocess.Popen([*command, "--cores", "1"], stdout=out, stderr=out)


def test_sigterm_stops_snakemake_and_the_rerun_needs_no_manual_step(tmp_path: Path) -> None:
    screen = write_screen(tmp_path, TINY)
    images = tmp_path / "analysis" / "preprocess" / "images"
    run = _run(screen["config"], tmp_path / "first.log")
    try:
        deadline = time.monotonic() + 300
        while not any(images.rglob("*.tiff")) and time.monotonic() < deadline:
            assert run.poll() is None, "the run ended before it could be stopped"
            time.sleep(0.2)  # until Snakemake is running jobs
        run.send_signal(signal.SIGTERM)
        code = run.wait(timeout=300)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert code != 0, (tmp_path / "first.log").read_text()[-2000:]
    assert _snakemake_pids(tmp_path.resolve()) == []  # no orphan left running

    rerun = _run(screen["config"], tmp_path / "rerun.log")
    assert rerun.wait(timeout=600) == 0, (tmp_path / "rerun.log").read_text()[-2000:]
    assert (tmp_path / "analysis" / "sbs" / "parquets" / "P-1_W-A1__cells.parquet").is_file()


def test_a_stale_lock_is_cleared_and_a_live_run_is_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    locks = tmp_path / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("x")
    with caplog.at_level(logging.WARNING):
        clear_stale_lock(tmp_path)
    assert not any(locks.iterdir()) and "removed the lock" in caplog.text

    (locks / "0.input.lock").write_text("x")
    holder = subprocess.Popen(  # a process named like Snakemake, working in the directory
        [sys.executable, "-c", "import time; time.sleep(60)", "snakemake"], cwd=tmp_path
    )
    try:
        time.sleep(0.5)
        with pytest.raises(OpsflowError, match=f"another Snakemake run \\(pid {holder.pid}\\)"):
            clear_stale_lock(tmp_path)
        assert (locks / "0.input.lock").exists()
    finally:
        holder.kill()
        holder.wait()

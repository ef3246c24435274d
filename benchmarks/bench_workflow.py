"""Whole-workflow wall time per tile against the sum of its steps' compute, in one run.

Run: ``.venv/bin/python benchmarks/bench_workflow.py [--tiles 6 18] [--cycles 11]
[--cores 1]``. For each size, a synthetic screen (1 well x N SBS tiles x cycles, its
phenotype tiles) runs with ``opsflow run --cores C`` twice, exports off and exports on
(each module's default stages as sharded plates), each in its own root, after a dry run
of it (as one checks a plan first; it also reads the raw headers the run's preflight
would). Every compute job logs how long its kernels took; their sum is the run's
in-memory compute (what the steps cost without files, scheduling, Snakemake or
exports). Every export logs how long it took to read, downsample and write a store: the
work the exports add. ``wall / compute`` is what the workflow adds to the steps,
``wall / (compute + exports)`` what it adds to all the work; with one core (the
default) all of it is serial, so the ratio is not flattered by parallel jobs.

A run also pays once for things no tile adds to (starting Snakemake, planning, the
per-well tables, aggregate, the QC report), which a small screen cannot amortize. With
two sizes or more, the last rows are per tile: what each tile added between the
smallest and the largest screen, wall against compute (and against all the work), which
is what the ratio of a whole run tends to as screens grow.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from opsflow.synth import SynthParams, write_screen

_COMPUTED = re.compile(r"\(computed in ([\d.]+) s\)")
_EXPORTED = re.compile(r": exported \S+ in ([\d.]+) s")


def _run(config: Path, cores: int) -> float:
    command = [sys.executable, "-m", "opsflow.cli", "run", "--configfile", str(config),
               "--cores", str(cores), "-q"]  # fmt: skip
    subprocess.run([*command, "-n"], capture_output=True, check=True)
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode:
        sys.exit(f"{config}: the run failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def _work(root: Path) -> tuple[float, float, int]:
    """Seconds of kernel compute and of exports logged under ``root``, and the job count."""
    computed, exported, jobs = 0.0, 0.0, 0
    for log in (root / "logs").rglob("*.log"):
        text = log.read_text()
        computed += sum(float(s) for s in _COMPUTED.findall(text))
        exported += sum(float(s) for s in _EXPORTED.findall(text))
        jobs += 1
    return computed, exported, jobs


def _screen(base: Path, tiles: int, cycles: int) -> tuple[Path, dict]:
    params = SynthParams(seed=0, wells=("A1",), tiles_per_well=tiles, n_cycles=cycles,
                         empty_tile=False)  # fmt: skip
    screen = write_screen(base / f"screen_{tiles}", params, workers=2)
    return screen["root"], yaml.safe_load(screen["config"].read_text())


def _measure(
    root: Path, config: dict, exports: bool, cores: int
) -> tuple[float, float, float, int]:
    """Wall, compute and export seconds and the job count of one run of the screen."""
    data = yaml.safe_load(yaml.safe_dump(config))
    name = "exports_on" if exports else "exports_off"
    data["all"]["root_fp"] = name
    data["all"]["omezarr_export_default"] = exports
    path = root / f"{name}.yml"
    path.write_text(yaml.safe_dump(data))
    wall = _run(path, cores)
    return (wall, *_work(root / name))


def _row(label: str, exports: bool, wall: float, compute: float, exported: float,
         jobs: float, tiles: float) -> str:  # fmt: skip
    return (f"{label:>12}{'on' if exports else 'off':>8}{wall:>9.1f}{compute:>11.1f}"
            f"{exported:>11.1f}{jobs:>6.0f}{wall / tiles:>13.2f}{wall / compute:>16.2f}"
            f"{wall / (compute + exported):>13.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, nargs="+", default=[6, 18])
    parser.add_argument("--cycles", type=int, default=11)
    parser.add_argument("--cores", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the screens and outputs")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench_workflow_"))
    try:
        _compare(base, sorted(set(args.tiles)), args.cycles, args.cores)
    finally:  # 18 tiles leave about 10 GB of outputs
        if args.keep:
            print(f"screens and outputs kept in {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


def _compare(base: Path, sizes: list[int], cycles: int, cores: int) -> None:
    """Run each size exports off and on; print a row per run and the per-tile rows.

    Sizes run one after another in one process, so their ratios share the machine's state.
    """
    print(f"1 well x {sizes} SBS tiles x {cycles} cycles, {cores} core(s)")
    print(f"{'tiles':>12}{'exports':>8}{'wall s':>9}{'compute s':>11}{'exports s':>11}"
          f"{'jobs':>6}{'wall/tile s':>13}{'wall / compute':>16}{'wall / work':>13}")  # fmt: skip
    runs: dict[tuple[int, bool], tuple[float, ...]] = {}
    for tiles in sizes:
        root, config = _screen(base, tiles, cycles)
        for exports in (False, True):
            runs[tiles, exports] = _measure(root, config, exports, cores)
            print(_row(str(tiles), exports, *runs[tiles, exports], tiles), flush=True)
    if len(sizes) > 1:  # what each tile adds: the difference of the largest and smallest
        small, large = sizes[0], sizes[-1]
        print(f"per tile: what the {large - small} tiles between {small} and {large} added")
        for exports in (False, True):
            pairs = zip(runs[small, exports], runs[large, exports], strict=True)
            added = [b - a for a, b in pairs]
            print(_row(f"{small}->{large}", exports, *added, large - small))


if __name__ == "__main__":
    main()

"""Cluster jobs: one job's start-up on a large screen, and tiles batched per submission.

Run: ``.venv/bin/python benchmarks/bench_cluster.py [--tiles 800] [--jobs 3]
[--screen 4]``. Needs ``snakemake-executor-plugin-cluster-generic`` (in the ``test``
extra). Jobs go through the cluster-generic executor with a local submit script that
runs each job script at once and records its wall time: every job is a fresh Snakemake
process, as on a cluster (it reads the Snakefile, the configuration and the samples,
then runs its jobs).

1. Start-up: on ``bench_plan.py``'s screen (2 wells x N tiles x 11 cycles, links to one
   tile) the run asks for the converted phenotype image of ``--jobs`` tiles. The job's
   log says how long the step took (read, compute, write); the rest is start-up.
2. Batching: a whole screen of 2 wells x ``--screen`` tiles runs through the executor
   twice, as submitted one job at a time and with the groups of ``profiles/slurm``
   (25 tiles' jobs per submission): submissions and wall time of each.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

import yaml

from bench_plan import base_screen, linked_screen

PROFILE = Path(__file__).resolve().parents[1] / "profiles" / "slurm" / "config.yaml"

SUBMIT = """#!/bin/bash
# run the job script now; record its start and end (seconds since the epoch)
start=$(date +%s.%N)
bash "$1" > /dev/null 2>&1
echo "$start $(date +%s.%N) $1" >> "{times}"
echo "local-$$"
exit 0
"""
_STEP = re.compile(r"convert_phenotype: read, computed and wrote in ([\d.]+) s")


def _executor_run(config: Path, times: Path, *extra: str) -> float:
    """Wall seconds of ``opsflow run`` through the local cluster-generic executor."""
    submit = times.with_suffix(".sh")
    submit.write_text(SUBMIT.format(times=times))
    command = [sys.executable, "-m", "opsflow.cli", "run", "--configfile", str(config),
               "--executor", "cluster-generic", "--cluster-generic-submit-cmd",
               f"bash {submit}", "--latency-wait", "0", "-q", *extra]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode:
        sys.exit(f"the cluster run failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def start_up(tiles: int, jobs: int) -> None:
    root, config = base_screen(11)
    run = root.parent / f"n{tiles}"
    path = linked_screen(root, config, run, tiles)
    analysis, times = run / "analysis", run / "job_times.txt"
    targets = [
        str(analysis / f"preprocess/images/phenotype/P-1_W-A1_T-{t}__image.tiff")
        for t in range(jobs)
    ]
    wall = _executor_run(path, times, "--jobs", "1", *targets)
    submitted = [line.split() for line in times.read_text().splitlines()]
    logs = sorted((analysis / "logs" / "convert_phenotype").glob("*.log"))
    steps = [float(m.group(1)) for log in logs for m in _STEP.finditer(log.read_text())]
    print(f"{tiles} tiles per well, {2 * tiles * 11} SBS files; whole run {wall:.1f} s")
    print(f"{'job':>4}{'job wall s':>12}{'step s':>8}{'start-up s':>12}")
    for k, ((begin, end, _), step) in enumerate(zip(submitted, steps, strict=True)):
        seconds = float(end) - float(begin)
        print(f"{k:>4}{seconds:>12.2f}{step:>8.2f}{seconds - step:>12.2f}")


def batching(tiles: int) -> None:
    root, config = base_screen(11)
    profile = yaml.safe_load(PROFILE.read_text())
    grouped = ["--groups", *profile["groups"], "--group-components",
               *profile["group-components"]]  # fmt: skip
    print(f"\n2 wells x {tiles} tiles through the executor (2 jobs at a time)")
    print(f"{'submitted as':>14}{'submissions':>13}{'wall s':>9}")
    for name, extra in (("single jobs", []), ("groups", grouped)):
        run = root.parent / name.replace(" ", "_")
        path = linked_screen(root, dict(config), run, tiles)
        times = run / "job_times.txt"
        wall = _executor_run(path, times, "--jobs", "2", *extra)
        print(f"{name:>14}{len(times.read_text().splitlines()):>13}{wall:>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=800)
    parser.add_argument("--jobs", type=int, default=3)
    parser.add_argument("--screen", type=int, default=4)
    args = parser.parse_args()
    start_up(args.tiles, args.jobs)
    if args.screen:
        batching(args.screen)


if __name__ == "__main__":
    main()

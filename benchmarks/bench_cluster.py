"""What one cluster job costs before its work starts, on a screen of N tiles per well.

Run: ``.venv/bin/python benchmarks/bench_cluster.py [--tiles 800] [--jobs 3]``. Needs the
``snakemake-executor-plugin-cluster-generic`` package (in the ``test`` extra). The screen
is ``bench_plan.py``'s (2 wells x N tiles x 11 cycles, links to one tile); the run asks
for the converted phenotype image of the first ``--jobs`` tiles through the
cluster-generic executor with a local submit script that runs each job script at once
and records its wall time. Each job is a fresh Snakemake process, as on a cluster: it
reads the Snakefile, the configuration and the samples, then runs one job. Its log says
how long the step itself took (read, compute, write); the rest is the job's start-up.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time

from bench_plan import base_screen, linked_screen

SUBMIT = """#!/bin/bash
# run the job script now; record its start and end (seconds since the epoch)
start=$(date +%s.%N)
bash "$1" > /dev/null 2>&1
code=$?
echo "$start $(date +%s.%N) $1" >> "{times}"
echo "local-$$"
exit 0
"""
_STEP = re.compile(r"convert_phenotype: read, computed and wrote in ([\d.]+) s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=800)
    parser.add_argument("--jobs", type=int, default=3)
    args = parser.parse_args()
    root, config = base_screen(11)
    run = root.parent / f"n{args.tiles}"
    path = linked_screen(root, config, run, args.tiles)
    times = run / "job_times.txt"
    submit = run / "submit.sh"
    submit.write_text(SUBMIT.format(times=times))
    analysis = run / "analysis"
    targets = [
        str(analysis / f"preprocess/images/phenotype/P-1_W-A1_T-{t}__image.tiff")
        for t in range(args.jobs)
    ]
    command = [sys.executable, "-m", "opsflow.cli", "run", "--configfile", str(path),
               "--executor", "cluster-generic", "--cluster-generic-submit-cmd",
               f"bash {submit}", "--jobs", "1", "--latency-wait", "0", "-q", *targets]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"the cluster run failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    jobs = [line.split() for line in times.read_text().splitlines()]
    logs = sorted((analysis / "logs" / "convert_phenotype").glob("*.log"))
    steps = [float(m.group(1)) for log in logs for m in _STEP.finditer(log.read_text())]
    print(f"{args.tiles} tiles per well, {2 * args.tiles * 11} SBS files; whole run {wall:.1f} s")
    print(f"{'job':>4}{'job wall s':>12}{'step s':>8}{'start-up s':>12}")
    for k, ((begin, end, _), step) in enumerate(zip(jobs, steps, strict=True)):
        seconds = float(end) - float(begin)
        print(f"{k:>4}{seconds:>12.2f}{step:>8.2f}{seconds - step:>12.2f}")


if __name__ == "__main__":
    main()

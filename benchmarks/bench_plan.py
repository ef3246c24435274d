"""Planning cost of a screen-sized run: ``opsflow run -n`` time and peak memory per size.

Run: ``.venv/bin/python benchmarks/bench_plan.py [--tiles 50 200 800] [--cycles 11]
[--baseline DIR]``; ``DIR`` is another checkout (e.g. ``git worktree add /tmp/old 0f90e55``)
whose ``src`` plans the same screens in the same run, for a ratio on the same machine.
Samples tables of 2 wells x N tiles (x cycles for SBS) name hard links to the files of one
small synthetic tile, so the plan is a real screen's while nothing is computed. Each size
is a dry run with exports on (preflight, Snakefile, DAG), in its own process, twice: the
first reads every raw file's header, the second (like every later plan, and every
cluster job) finds them remembered. The time per tile of the second and its growth
against the smallest size say whether planning scales linearly.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from opsflow.synth import SynthParams, write_screen


def _linked(table: pd.DataFrame, out: Path, tiles: int) -> pd.DataFrame:
    """2 wells x ``tiles`` rows per row of tile 0 of ``table``, each a hard link to its file."""
    first = table[(table.well == table.well.iloc[0]) & (table.tile == "0")]
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for well in ("A1", "B1"):
        for tile in range(tiles):
            for row in first.itertuples():
                source = Path(row.sample_fp)
                cycle = getattr(row, "cycle", None)
                link = out / f"{well}_{tile}_{cycle}{''.join(source.suffixes)}"
                link.hardlink_to(source)
                rows.append({"sample_fp": str(link), "plate": "1", "well": well,
                             "tile": str(tile)} | ({"cycle": cycle} if cycle else {}))  # fmt: skip
    return pd.DataFrame(rows)


def base_screen(cycles: int) -> tuple[Path, dict]:
    """One small synthetic tile (all cycles) and its configuration, exports on."""
    base = Path(tempfile.mkdtemp(prefix="bench_plan_"))
    params = SynthParams(seed=0, wells=("A1",), tiles_per_well=1, n_cycles=cycles,
                         sbs_tile_shape=(128, 128), empty_tile=False)  # fmt: skip
    screen = write_screen(base / "screen", params, workers=2)
    config = yaml.safe_load(screen["config"].read_text())
    config["all"]["omezarr_export_default"] = True
    return screen["root"], config


def linked_screen(root: Path, config: dict, run: Path, tiles: int) -> Path:
    """The configuration of 2 wells x ``tiles`` links to the tile of ``root``, under ``run``."""
    for modality in ("sbs", "phenotype"):
        samples = root / config["preprocess"][modality]["samples_fp"]
        table = pd.read_csv(samples, sep="\t", dtype=str)
        table["sample_fp"] = [str(root / p) for p in table.sample_fp]
        _linked(table, run / modality, tiles).to_csv(run / f"{modality}.tsv", sep="\t",
                                                     index=False)  # fmt: skip
        config["preprocess"][modality]["samples_fp"] = str(run / f"{modality}.tsv")
    config["sbs"]["library_path"] = str(root / "library.tsv")
    config["all"]["root_fp"] = str(run / "analysis")
    path = run / "config.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, nargs="+", default=[50, 200, 800])
    parser.add_argument("--cycles", type=int, default=11)
    parser.add_argument("--baseline", type=Path, default=None)
    args = parser.parse_args()
    root, config = base_screen(args.cycles)
    print(f"{'tiles/well':>10}{'SBS files':>10}{'first s':>9}{'again s':>9}{'s/tile':>8}"
          f"{'x first':>8}{'peak MB':>9}{'baseline s':>11}")  # fmt: skip
    first = None
    for tiles in sorted(args.tiles):
        path = linked_screen(root, config, root.parent / f"n{tiles}", tiles)
        cold, _ = _dry_run(path, None)  # the preflight reads every raw file's header
        seconds, peak = _dry_run(path, None)  # and remembers them: what every later plan costs
        old = f"{_dry_run(path, args.baseline / 'src')[0]:>11.1f}" if args.baseline else ""
        per_tile = seconds / (2 * tiles)
        first = first or per_tile
        print(f"{tiles:>10}{2 * tiles * args.cycles:>10}{cold:>9.1f}{seconds:>9.1f}"
              f"{per_tile:>8.3f}{per_tile / first:>8.2f}{peak:>9.0f}{old}")  # fmt: skip


# runs a command and prints the largest resident size of its processes (MB) last
_PEAK = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024); sys.exit(code)"
)


def _dry_run(config: Path, src: Path | None) -> tuple[float, float]:
    """Seconds of ``opsflow run -n`` and the peak memory of its processes (MB)."""
    command = [sys.executable, "-c", _PEAK, sys.executable, "-m", "opsflow.cli", "run",
               "--configfile", str(config), "-n", "-q"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(src)} if src else None
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    seconds = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"{config}: the dry run failed:\n{proc.stderr[-3000:]}")
    return seconds, float(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()

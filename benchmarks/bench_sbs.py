"""Per-tile SBS compute of this checkout against a baseline checkout, in the same run.

Run: ``.venv/bin/python benchmarks/bench_sbs.py --baseline DIR [--size 640 576]
[--cycles 11] [--repeat 3]``; ``DIR`` is another checkout (e.g. ``git worktree add
/tmp/base 0f90e55``). One synthetic tile is made and saved; each checkout runs the SBS
steps on it in its own process (``_sbs_chain.py``, 2 threads), alternately, ``--repeat``
times (each process times its second pass over the tile, after imports), and the best
time of each step is kept (the least disturbed by other work on a shared machine).
Prints seconds per step, their ratio, and whether the two checkouts called the same
barcode for every cell.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from opsflow.synth import SynthParams, make_library, make_sbs_tile

HERE = Path(__file__).resolve().parent


def _run(src: Path, tile: Path, library: Path, out: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, str(HERE / "_sbs_chain.py"), str(tile), str(library), str(out)]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if proc.returncode:
        sys.exit(f"{src}: the SBS chain failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _same_calls(a: pd.DataFrame, b: pd.DataFrame) -> str:
    columns = [c for c in ("cell", "cell_barcode_0", "cell_barcode_1") if c in a and c in b]
    a, b = (t[columns].sort_values("cell").reset_index(drop=True) for t in (a, b))
    if a.equals(b):
        return f"identical barcode calls ({len(a)} cells, columns {columns})"
    return f"DIFFERENT barcode calls: {len(a)} cells here, {len(b)} in the baseline"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--size", type=int, nargs=2, default=(640, 576))
    parser.add_argument("--cycles", type=int, default=11)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_sbs_"))
    synth = SynthParams(n_cycles=args.cycles, sbs_tile_shape=tuple(args.size))
    tile = make_sbs_tile(synth, "A1", 0)
    np.savez(work / "tile.npz", image=tile.image, illumination=tile.illumination)
    make_library(synth).to_csv(work / "library.tsv", sep="\t", index=False)
    print(f"tile {tile.image.shape} ({tile.image.dtype}), {args.repeat} runs each")
    sources = {"this": HERE.parent / "src", "baseline": args.baseline / "src"}
    best: dict[str, dict[str, float]] = {name: {} for name in sources}
    for _ in range(args.repeat):
        for name, src in sources.items():
            times = _run(src, work / "tile.npz", work / "library.tsv", work / f"{name}.parquet")
            for step, seconds in times.items():
                best[name][step] = min(seconds, best[name].get(step, np.inf))
    print(f"\n{'step':<24}{'this s':>9}{'baseline s':>12}{'ratio':>8}")
    for step, seconds in best["this"].items():
        old = best["baseline"][step]
        print(f"{step:<24}{seconds:>9.3f}{old:>12.3f}{seconds / old:>8.2f}")
    total, old_total = sum(best["this"].values()), sum(best["baseline"].values())
    print(f"{'total':<24}{total:>9.3f}{old_total:>12.3f}{total / old_total:>8.2f}")
    calls = {n: pd.read_parquet(work / f"{n}.parquet") for n in sources}
    print("\n" + _same_calls(calls["this"], calls["baseline"]))


if __name__ == "__main__":
    main()

"""Time of the preflight check on a screen-sized samples table, against a floor.

Run: ``.venv/bin/python benchmarks/bench_preflight.py [--tiles 1600] [--cycles 11]``.
The screen is a small synthetic one whose raw files are linked many times (hard links), so
the table has ``tiles x cycles`` SBS files and ``tiles`` phenotype files, as a real
6-well screen. The floor is opening every file with tifffile and reading its first
page's shape, one file after another: what any header check must at least do.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import tifffile
import yaml

from opsflow.config import load_config
from opsflow.steps import Workflow, preflight
from opsflow.synth import SynthParams, write_screen


def _linked_table(table: pd.DataFrame, root: Path, out: Path, tiles: int, cycles: int):
    sources = list(table.sample_fp)
    rows = []
    for t in range(tiles):
        for c in range(1, cycles + 1) if "cycle" in table else [None]:
            source = root / sources[(t * max(cycles, 1) + (c or 0)) % len(sources)]
            link = out / f"t{t}_c{c}{''.join(source.suffixes)}"
            link.hardlink_to(source)
            row = {"sample_fp": str(link), "plate": "1", "well": f"A{t // 300 + 1}"}
            rows.append(row | {"tile": str(t % 300)} | ({"cycle": str(c)} if c else {}))
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=1600)
    parser.add_argument("--cycles", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        params = SynthParams(n_cycles=args.cycles, wells=("A1",), tiles_per_well=2,
                             sbs_tile_shape=(256, 256))  # fmt: skip
        screen = write_screen(base / "screen", params)
        config = yaml.safe_load(screen["config"].read_text())
        for modality, cycles in (("sbs", args.cycles), ("phenotype", 0)):
            links = base / modality
            links.mkdir()
            table = pd.read_csv(screen[f"{modality}_samples"], sep="\t", dtype=str)
            big = _linked_table(table, screen["root"], links, args.tiles, cycles)
            big.to_csv(base / f"{modality}.tsv", sep="\t", index=False)
            config["preprocess"][modality]["samples_fp"] = str(base / f"{modality}.tsv")
        settings = load_config(config, base_dir=screen["root"])
        workflow = Workflow.from_config(settings, base_dir=screen["root"])
        files = [p for s in workflow.samples.values() for p in s.sample_fp]

        start = time.perf_counter()
        for path in files:
            with tifffile.TiffFile(path) as tif:
                _ = tif.pages.first.shape
        floor = time.perf_counter() - start

        start = time.perf_counter()
        problems = preflight(workflow)
        check = time.perf_counter() - start
    print(f"{len(files)} raw files ({args.tiles} tiles x {args.cycles} cycles SBS + phenotype)")
    print(f"floor (open each file, read one page shape, serially): {floor:7.1f} s")
    print(f"preflight (every check, threads):                     {check:7.1f} s")
    print(f"preflight / floor: {check / floor:.2f}; problems found: {len(problems)}")
    for problem in problems[:5]:
        print(" ", problem[:300])


if __name__ == "__main__":
    main()

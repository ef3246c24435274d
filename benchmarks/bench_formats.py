"""Disk use and wall time of the demo screen in the three formats, in one run.

The demo's configuration (every stage exported as sharded plates, two well mosaics)
runs three times on one synthetic screen, each with its own output root:

- ``tiff``: TIFF compute, exports on (the reference);
- ``input``: the same, but the SBS and phenotype steps read the exported stores;
- ``compute``: ``all.compute_format: omezarr``, no TIFF.

Prints wall time, bytes on disk (TIFF, OME-Zarr, tables; links not followed) and both as
ratios of the reference, and whether every table equals the reference's.

    .venv/bin/python benchmarks/bench_formats.py [--outdir DIR] [--modes tiff,compute]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from opsflow.cli._workflow import _demo_config
from opsflow.synth import SynthParams, write_screen

MODES = {
    "tiff": {},
    "input": {"sbs": {"input_format": "omezarr"}, "phenotype": {"input_format": "omezarr"}},
    "compute": {"all": {"compute_format": "omezarr"}},
}


def _config(screen: Path, demo: Path, mode: str) -> Path:
    data = yaml.safe_load(demo.read_text())
    data["all"]["root_fp"] = f"analysis_{mode}"
    for section, values in MODES[mode].items():
        data[section].update(values)
    path = screen / f"config_{mode}.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _bytes(root: Path) -> dict[str, int]:
    """Bytes of TIFFs, of files inside stores and of tables; links are not followed."""
    sizes = {"tiff": 0, "ome-zarr": 0, "tables": 0}
    for path in root.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        rel = path.relative_to(root)
        if rel.parts[0] in ("logs", ".snakemake"):
            continue
        if ".zarr" in str(rel):
            sizes["ome-zarr"] += path.stat().st_size
        elif path.suffix == ".tiff":
            sizes["tiff"] += path.stat().st_size
        elif path.suffix in (".tsv", ".parquet"):
            sizes["tables"] += path.stat().st_size
    return sizes


def _tables(root: Path) -> dict[Path, pd.DataFrame]:
    found = {}
    for path in sorted(root.rglob("*")):
        if path.suffix in (".tsv", ".parquet") and "logs" not in path.parts:
            rel = path.relative_to(root)
            read = pd.read_parquet if path.suffix == ".parquet" else pd.read_csv
            found[rel] = read(path) if path.suffix == ".parquet" else read(path, sep="\t")
    return found


def _same(reference: dict[Path, pd.DataFrame], other: dict[Path, pd.DataFrame]) -> str:
    if sorted(reference) != sorted(other):
        return "different files"
    for rel, table in reference.items():
        try:
            pd.testing.assert_frame_equal(other[rel], table, check_exact=True)
        except AssertionError:
            return f"differs: {rel}"
    return f"identical ({len(reference)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path, default=None)
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args()
    out = args.outdir or Path(tempfile.mkdtemp(prefix="bench_formats_"))
    modes = args.modes.split(",")
    if (out / "config.yml").exists():
        paths = {"root": out, "config": out / "config.yml"}
    else:
        paths = write_screen(out, SynthParams(seed=0), workers=2)
    demo = _demo_config(paths["config"])
    rows, tables = [], {}
    for mode in modes:
        config = _config(paths["root"], demo, mode)
        start = time.perf_counter()
        command = [sys.executable, "-m", "opsflow.cli", "run", "--configfile", str(config), "-q"]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        if proc.returncode:
            sys.exit(f"{mode}: the run failed:\n{proc.stderr[-3000:]}")
        root = paths["root"] / f"analysis_{mode}"
        tables[mode] = _tables(root)
        rows.append((mode, seconds, _bytes(root)))
    ref_seconds, ref_sizes = rows[0][1], rows[0][2]
    ref_total = sum(ref_sizes.values())
    print(f"screen: {out}; reference: {rows[0][0]}")
    header = f"{'mode':<9}{'wall s':>8}{'x ref':>7}{'TIFF MB':>9}{'Zarr MB':>9}{'all MB':>9}"
    print(header + f"{'x ref':>7}  tables")
    for mode, seconds, sizes in rows:
        total = sum(sizes.values())
        print(
            f"{mode:<9}{seconds:>8.1f}{seconds / ref_seconds:>7.2f}{sizes['tiff'] / 1e6:>9.1f}"
            f"{sizes['ome-zarr'] / 1e6:>9.1f}{total / 1e6:>9.1f}{total / ref_total:>7.2f}  "
            f"{_same(tables[rows[0][0]], tables[mode])}"
        )


if __name__ == "__main__":
    main()

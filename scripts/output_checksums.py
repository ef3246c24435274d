"""Checksums of every output of the demo screen, to prove a refactor changes nothing.

Run the demo with one source tree, write a manifest of SHA-256 sums of every TIFF, table
and OME-Zarr file (array chunks and metadata) under the output root; compare two
manifests. Logs and Snakemake bookkeeping are left out: they hold times and paths.

    python scripts/output_checksums.py run --src /path/to/old/src --out old.json
    python scripts/output_checksums.py run --out new.json
    python scripts/output_checksums.py compare old.json new.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SKIP_PARTS = {"logs", ".snakemake"}
SKIP_NAMES = {".snakemake_timestamp"}


def manifest(root: Path) -> dict[str, str]:
    """SHA-256 of every output file under ``root``, by path relative to it."""
    sums = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or SKIP_PARTS & set(rel.parts) or path.name in SKIP_NAMES:
            continue
        sums[rel.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sums


def run(src: str | None, out: Path, seed: int) -> int:
    """Run ``opsflow demo`` importing opsflow from ``src`` and write its manifest."""
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    # One fixed directory: the metadata tables record the raw files' absolute paths.
    work = Path(tempfile.gettempdir()) / "opsflow_checksums"
    shutil.rmtree(work, ignore_errors=True)
    command = [sys.executable, "-m", "opsflow.cli", "demo", "--outdir", str(work)]
    code = subprocess.call([*command, "--seed", str(seed)], env=env)
    if code:
        return code
    sums = manifest(work / "analysis")
    out.write_text(json.dumps(sums, indent=1, sort_keys=True) + "\n")
    print(f"{out}: {len(sums)} files")
    return 0


def compare(old: Path, new: Path) -> int:
    """Print every file that differs between two manifests; 1 if any does."""
    a, b = json.loads(old.read_text()), json.loads(new.read_text())
    only_old, only_new = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    changed = sorted(k for k in set(a) & set(b) if a[k] != b[k])
    for label, keys in (("only in old", only_old), ("only in new", only_new), ("changed", changed)):
        for key in keys:
            print(f"{label}: {key}")
    same = len(set(a) & set(b)) - len(changed)
    print(f"{same} identical, {len(changed)} changed, {len(only_old)} + {len(only_new)} unpaired")
    return 1 if changed or only_old or only_new else 0


def main() -> int:
    """Command line: ``run`` or ``compare``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run the demo and write a manifest")
    p.add_argument("--src", help="source tree to import opsflow from (default: installed)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("compare", help="compare two manifests (exit 1 on any difference)")
    p.add_argument("old", type=Path)
    p.add_argument("new", type=Path)
    args = parser.parse_args()
    if args.command == "run":
        return run(args.src, args.out, args.seed)
    return compare(args.old, args.new)


if __name__ == "__main__":
    sys.exit(main())

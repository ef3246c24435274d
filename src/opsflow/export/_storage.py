"""How much disk each stage takes, as TIFF and as OME-Zarr (``opsflow du``)."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import pandas as pd

from opsflow.errors import InputFileNotFoundError
from opsflow.export._stages import MODULES, STAGES

__all__ = ["storage_report"]

_TABLES = (".tsv", ".parquet")
_TIFFS = (".tif", ".tiff")


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def storage_report(root: str | os.PathLike[str]) -> pd.DataFrame:
    """Bytes and file counts per module, format and stage under a workflow output root.

    TIFFs and tables are grouped by what they hold (the part of the name after ``__``),
    OME-Zarr stores by the stage that exports them, so the two formats of a checkpoint
    sit side by side.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputFileNotFoundError(f"{root}: expected a workflow output root, found nothing.")
    by_dir = {(s.module, s.store_dir): s.name for s in STAGES}
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for module in MODULES:
        base = root / module
        if not base.is_dir():
            continue
        stores = sorted(p for p in base.rglob("*.ome.zarr") if p.is_dir())
        for store in stores:
            store_dir = store.parent.relative_to(base / "omezarr").as_posix()
            key = (module, "ome-zarr", by_dir.get((module, store_dir), store_dir))
            totals[key][0] += 1
            totals[key][1] += _size(store)
        for path in base.rglob("*"):
            if not path.is_file() or "omezarr" in path.relative_to(base).parts:
                continue
            suffix = path.suffix.lower()
            kind = "tiff" if suffix in _TIFFS else "table" if suffix in _TABLES else None
            if kind is None:
                continue
            what = path.name.split("__")[-1].split(".")[0]
            key = (module, kind, what)
            totals[key][0] += 1
            totals[key][1] += path.stat().st_size
    rows = [
        {"module": m, "format": f, "stage": s, "files": n, "bytes": b}
        for (m, f, s), (n, b) in totals.items()
    ]
    table = pd.DataFrame(rows, columns=["module", "format", "stage", "files", "bytes"])
    return table.sort_values(["module", "format", "stage"], ignore_index=True)

"""How much disk each output takes, as TIFF, table and OME-Zarr (``opsflow du``)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from opsflow.errors import InputFileNotFoundError
from opsflow.export import STAGES
from opsflow.steps._outputs import OUTPUTS

__all__ = ["storage_report"]


def _size(path: Path) -> tuple[int, int]:
    """Bytes and files of a file or a store."""
    if path.is_file():
        return path.stat().st_size, 1
    files = [f for f in path.rglob("*") if f.is_file()]
    return sum(f.stat().st_size for f in files), len(files)


def storage_report(root: str | os.PathLike[str]) -> pd.DataFrame:
    """Bytes, files and stores of every output and export stage under an output root.

    Rows follow the outputs table (``stage`` is the output key, ``format`` tiff or
    table) and the stage registry (``format`` ome-zarr: tile stores or plates, and well
    mosaics as ``{stage} mosaic``), so the formats of one checkpoint sit side by side.
    ``stores`` counts TIFF files, tables, tile stores or plates; ``files`` counts every
    file on disk (a store is many). Files the tables do not name are not counted.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputFileNotFoundError(f"{root}: expected a workflow output root, found nothing.")
    rows = []
    for output in OUTPUTS:
        folder = root / output.module / output.folder
        files = sorted(folder.glob(f"*__{output.what}.{output.ext}"))
        kind = "tiff" if output.is_image else "table"
        rows.append((output.module, kind, output.key, files))
    for stage in STAGES:
        folder = root / stage.module / "omezarr" / stage.store_dir
        for suffix, name in (("", stage.name), ("_mosaic", f"{stage.name} mosaic")):
            pattern = f"*__{stage.store_what}{suffix}.ome.zarr"
            stores = [p for p in folder.glob(pattern) if p.is_dir()]
            rows.append((stage.module, "ome-zarr", name, stores))
    records = []
    for module, kind, stage, paths in rows:
        if paths:
            sizes = [_size(p) for p in paths]
            records.append(
                {
                    "module": module,
                    "format": kind,
                    "stage": stage,
                    "stores": len(paths),
                    "files": sum(n for _, n in sizes),
                    "bytes": sum(b for b, _ in sizes),
                }
            )
    columns = ["module", "format", "stage", "stores", "files", "bytes"]
    table = pd.DataFrame(records, columns=columns)
    return table.sort_values(["module", "format", "stage"], ignore_index=True)

"""How much disk each output takes, as TIFF, table and OME-Zarr (``opsflow du``)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from opsflow.errors import InputFileNotFoundError
from opsflow.export import STAGES
from opsflow.steps._outputs import OUTPUTS

__all__ = ["storage_report"]


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def storage_report(root: str | os.PathLike[str]) -> pd.DataFrame:
    """Bytes and file counts of every output and export stage under an output root.

    Rows follow the outputs table (``stage`` is the output key, ``format`` tiff or
    table) and the stage registry (``format`` ome-zarr), so the two formats of one
    checkpoint sit side by side; files the tables do not name are not counted.
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
        stores = [p for p in folder.glob(f"*__{stage.store_what}.ome.zarr") if p.is_dir()]
        rows.append((stage.module, "ome-zarr", stage.name, stores))
    table = pd.DataFrame(
        [
            {"module": m, "format": f, "stage": s, "files": len(p), "bytes": sum(map(_size, p))}
            for m, f, s, p in rows
            if p
        ],
        columns=["module", "format", "stage", "files", "bytes"],
    )
    return table.sort_values(["module", "format", "stage"], ignore_index=True)

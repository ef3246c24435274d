"""Validation of HCS plates: the spec models of plate and wells, then every field.

ome-zarr-models checks the plate and well schemas (and that each listed well exists);
on top of it we check what the schema cannot: row and column indices that agree with
each well's path, ``field_count`` covering every well, ``ome.version`` in every row
group, and each field as the full image it is (pyramid, omero, labels).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import zarr

from opsflow.io._reader import ngff_attributes

__all__ = ["plate_problems"]


def _model_problems(group: zarr.Group, version: str | None, kind: str) -> list[str]:
    from pydantic import ValidationError

    if version == "0.5":
        from ome_zarr_models.v05.hcs import HCS
        from ome_zarr_models.v05.well import Well
    else:
        from ome_zarr_models.v04.hcs import HCS
        from ome_zarr_models.v04.well import Well
    model = {"plate": HCS, "well": Well}[kind]
    try:
        model.from_zarr(group)
    except ValidationError as exc:
        return [
            f"{kind}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        ]
    except Exception as exc:  # structural problems come as plain errors
        return [f"{kind}: {str(exc).splitlines()[0]}"]
    return []


def _index_problems(plate: dict[str, Any]) -> list[str]:
    rows = [r.get("name") for r in plate.get("rows", [])]
    columns = [c.get("name") for c in plate.get("columns", [])]
    problems = []
    for well in plate.get("wells", []):
        path = str(well.get("path", ""))
        row, _, column = path.partition("/")
        r, c = well.get("rowIndex"), well.get("columnIndex")
        if r is None or c is None or r >= len(rows) or c >= len(columns):
            problems.append(f"plate: well {path!r} has indices outside the plate.")
        elif (rows[r], columns[c]) != (row, column):
            problems.append(
                f"plate: well {path!r} has rowIndex {r} and columnIndex {c}, which name "
                f"{rows[r]}/{columns[c]}."
            )
    return problems


def plate_problems(
    group: zarr.Group, path: Path, validate_image: Callable[[Path], list[str]]
) -> list[str]:
    """Every problem of a plate store, its wells and (through ``validate_image``) fields."""
    ome, version = ngff_attributes(group)
    plate = ome["plate"]
    problems = _model_problems(group, version, "plate") + _index_problems(plate)
    count = int(plate.get("field_count") or 0)
    rows_seen: set[str] = set()
    for well in plate.get("wells", []):
        wpath = str(well.get("path", ""))
        row = wpath.split("/")[0]
        if row not in rows_seen and version == "0.5":
            rows_seen.add(row)
            if ngff_attributes(group[row])[1] != "0.5":
                problems.append(f"{row}: row group lacks ome.version.")
        try:
            wgroup = group[wpath]
        except KeyError:
            problems.append(f"{wpath}: listed in the plate but missing.")
            continue
        problems += [f"{wpath}: {p}" for p in _model_problems(wgroup, version, "well")]
        images = (ngff_attributes(wgroup)[0].get("well") or {}).get("images", [])
        if len(images) > count:
            problems.append(f"{wpath}: {len(images)} fields, the plate's field_count is {count}.")
        for image in images:
            fpath = f"{wpath}/{image.get('path')}"
            problems += [f"{fpath}: {p}" for p in validate_image(path / fpath)]
    return problems

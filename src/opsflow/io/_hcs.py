"""NGFF high-content screening (HCS) plates: wells, fields and the plate's metadata.

A plate store holds one multiscale image per field at ``{row}/{column}/{field}``; the
plate group lists its rows, columns and wells, every well group lists its fields. Fields
are written one at a time by :func:`write_plate_field` (each through a temporary sibling,
so a failed write leaves the other fields and the earlier version of its own intact);
the plate, row and well metadata are written afterwards, in one call, by
:func:`write_plate_metadata`, from the fields that are really there.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from opsflow.errors import InputFileError
from opsflow.io import _ngff
from opsflow.io._atomic import atomic_path
from opsflow.io._reader import is_omezarr, ngff_attributes, open_store
from opsflow.io._wells import field_path, plate_format, well_position

__all__ = ["is_plate", "plate_fields", "write_plate_metadata"]

log = logging.getLogger(__name__)


def _group_document(attributes: Mapping[str, Any], zarr_format: int) -> dict[str, str]:
    """The metadata files of a Zarr group with these attributes, by file name."""
    if zarr_format == 3:
        doc = {"zarr_format": 3, "node_type": "group", "attributes": dict(attributes)}
        return {"zarr.json": json.dumps(doc, indent=2)}
    return {".zgroup": json.dumps({"zarr_format": 2}), ".zattrs": json.dumps(dict(attributes))}


def _write_group(path: Path, attributes: Mapping[str, Any], zarr_format: int) -> None:
    """Write a group's metadata files, each through a temporary sibling.

    By hand rather than through ``zarr.open_group``: zarr writes ``zarr.json`` in place,
    and a killed writer must never leave a plate whose root metadata is half a file.
    """
    path.mkdir(parents=True, exist_ok=True)
    for name, text in _group_document(attributes, zarr_format).items():
        with atomic_path(path / name) as tmp:
            tmp.write_text(text)


def _present_fields(store: Path, wells: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Fields that are really in the store, by well; a missing one is an error."""
    missing = [
        field_path(w, f)
        for w, fs in wells.items()
        for f in fs
        if not is_omezarr(store / field_path(w, f))
    ]
    if missing:
        raise InputFileError(
            f"{store}: expected every listed field to have been written, found "
            f"{len(missing)} missing (e.g. {', '.join(missing[:3])})."
        )
    return {w: [str(f) for f in fs] for w, fs in wells.items() if fs}


def write_plate_metadata(
    store: str | os.PathLike[str],
    fields: Mapping[str, Sequence[str | int]],
    *,
    name: str | None = None,
    ngff_version: str = "0.5",
    acquisitions: Mapping[str, int] | None = None,
) -> Path:
    """Write the plate, row and well metadata of a plate whose fields are written.

    Parameters
    ----------
    store
        The plate store; each listed field must already be a multiscale image in it.
    fields
        Field names by well name (``{"A1": ["0", "1"]}``); the plate lists exactly these.
    name
        The plate's name; default the store's file name without ``.ome.zarr``.
    ngff_version
        "0.5" (Zarr v3) or "0.4" (Zarr v2), as the fields were written.
    acquisitions
        Acquisition id by field name, where fields are acquisitions (SBS cycles): the
        plate lists each acquisition and each well image names its own.

    Returns
    -------
    Path
        The store.
    """
    path = Path(store)
    zarr_format = _ngff.zarr_format_for(ngff_version)
    present = _present_fields(path, {w: [str(f) for f in fs] for w, fs in fields.items()})
    fmt = plate_format(list(present))
    wells = []
    for well, names in present.items():
        row, column = well_position(well)
        acq = acquisitions or {}
        images = [{"path": f, **({"acquisition": acq[f]} if f in acq else {})} for f in names]
        well_attrs: dict[str, Any] = {"well": {"images": images}}
        if ngff_version == "0.4":
            well_attrs["well"]["version"] = "0.4"
        _write_group(
            path / row / column, _ngff.root_attributes(well_attrs, ngff_version), zarr_format
        )
        wells.append(
            {
                "path": f"{row}/{column}",
                "rowIndex": fmt.rows.index(row),
                "columnIndex": fmt.columns.index(column),
            }
        )
    for row in sorted({w["path"].split("/")[0] for w in wells}, key=fmt.rows.index):
        _write_group(path / row, _ngff.root_attributes({}, ngff_version), zarr_format)
    wells.sort(key=lambda w: (w["rowIndex"], w["columnIndex"]))
    plate: dict[str, Any] = {
        "name": name or path.name.removesuffix(".zarr").removesuffix(".ome"),
        "rows": [{"name": r} for r in fmt.rows],
        "columns": [{"name": c} for c in fmt.columns],
        "wells": wells,
        "field_count": max((len(f) for f in present.values()), default=0),
    }
    if acquisitions:
        ids = sorted(set(acquisitions.values()))
        plate["acquisitions"] = [{"id": i} for i in ids]
    plate["version"] = ngff_version  # also under ome in 0.5; readers still ask here
    _write_group(path, _ngff.root_attributes({"plate": plate}, ngff_version), zarr_format)
    log.info("%s: plate of %d wells, %d fields", path, len(wells), sum(map(len, present.values())))
    return path


def is_plate(path: str | os.PathLike[str]) -> bool:
    """True for an OME-Zarr store whose root is an NGFF plate."""
    return is_omezarr(path) and "plate" in ngff_attributes(open_store(path))[0]


def plate_fields(store: str | os.PathLike[str]) -> dict[str, list[str]]:
    """Fields of a plate by well path (``"A/1"``), as its metadata lists them."""
    path = Path(store)
    ome, _ = ngff_attributes(open_store(path))
    plate = ome.get("plate")
    if not plate:
        raise InputFileError(f"{path}: expected an NGFF plate (plate metadata), found none.")
    out = {}
    for well in plate.get("wells", []):
        well_ome, _ = ngff_attributes(open_store(path / well["path"]))
        out[well["path"]] = [i["path"] for i in (well_ome.get("well") or {}).get("images", [])]
    return out

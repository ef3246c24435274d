"""Validation of written stores: the spec model plus the invariants no schema checks.

The spec model is ome-zarr-models, an independent implementation of the NGFF schemas.
On top of it we check what viewers rely on and what a schema cannot express: channel
metadata matching the data, the pyramid following its own coarsening, label images that
never invent values and list a colour for every value they hold.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from opsflow.errors import OpsflowError
from opsflow.io._reader import ngff_attributes, open_store
from opsflow.io._validate_plate import plate_problems

__all__ = ["validate_store"]


def _model_problems(group: zarr.Group, version: str | None, kind: str) -> list[str]:
    """Problems ome-zarr-models finds, one short line each."""
    from pydantic import ValidationError

    if version == "0.5":
        from ome_zarr_models.v05.image import Image
        from ome_zarr_models.v05.image_label import ImageLabel
        from ome_zarr_models.v05.labels import Labels
    elif version == "0.4":
        from ome_zarr_models.v04.image import Image
        from ome_zarr_models.v04.image_label import ImageLabel
        from ome_zarr_models.v04.labels import Labels
    else:
        return [f"{kind}: NGFF version {version!r} is not one opsflow validates (0.4, 0.5)."]
    model = {"image": Image, "label": ImageLabel, "labels": Labels}[kind]
    try:
        model.from_zarr(group)
    except ValidationError as exc:
        return [
            _short(f"{kind}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}")
            for err in exc.errors()
        ]
    except Exception as exc:  # the models raise plain errors for structural problems
        return [_short(f"{kind}: {str(exc).splitlines()[0]}")]
    return []


def _short(problem: str, limit: int = 300) -> str:
    """One problem in at most ``limit`` characters (the models list every label value)."""
    return problem if len(problem) <= limit else problem[: limit - 3] + "..."


def _axes(ms: dict[str, Any]) -> str:
    return "".join(a["name"] if isinstance(a, dict) else str(a) for a in ms.get("axes", []))


def _scale(dataset: dict[str, Any]) -> list[float] | None:
    for t in dataset.get("coordinateTransformations", []):
        if t.get("type") == "scale":
            return [float(v) for v in t["scale"]]
    return None


def _pyramid_problems(
    group: zarr.Group, ms: dict[str, Any], where: str, zarr_format: int
) -> tuple[list[str], list[zarr.Array]]:
    problems: list[str] = []
    axes = _axes(ms)
    datasets = ms.get("datasets", [])
    arrays = []
    for i, ds in enumerate(datasets):
        if ds.get("path") != str(i):
            problems.append(f"{where}: level {i} has path {ds.get('path')!r}, expected '{i}'.")
        try:
            arrays.append(group[ds["path"]])
        except KeyError:
            problems.append(f"{where}: level {i} array {ds.get('path')!r} is missing.")
            return problems, []
    for i, arr in enumerate(arrays):
        if arr.ndim != len(axes):
            problems.append(f"{where}: level {i} has {arr.ndim} dimensions, axes are {axes!r}.")
        if zarr_format == 3:
            names = list(arr.metadata.dimension_names or [])
            if names != list(axes):
                problems.append(
                    f"{where}: level {i} dimension_names {names} differ from axes {list(axes)}."
                )
    scales = [_scale(ds) for ds in datasets]
    if not arrays or any(s is None for s in scales):
        return problems, arrays
    base = scales[0]
    assert base is not None
    yx = [axes.index("y"), axes.index("x")] if {"y", "x"} <= set(axes) else []
    if len(arrays) < 2 or not yx:
        return problems, arrays
    # One factor for the whole pyramid, read off the y scale of level 1.
    f = round(scales[1][yx[0]] / base[yx[0]])  # type: ignore[index]
    if f < 2:
        return [*problems, f"{where}: level 1 is not coarser than level 0."], arrays
    for i in range(1, len(arrays)):
        prev, cur = arrays[i - 1].shape, arrays[i].shape
        want = tuple(math.ceil(n / f) if k in yx else n for k, n in enumerate(prev))
        if tuple(cur) != want:
            problems.append(
                f"{where}: level {i} has shape {tuple(cur)}, expected {want} from level "
                f"{i - 1} coarsened by {f}."
            )
        scale = scales[i]
        assert scale is not None
        for k in range(len(axes)):
            expect = base[k] * (f**i if k in yx else 1)
            if not math.isclose(scale[k], expect, rel_tol=1e-6):
                problems.append(
                    f"{where}: level {i} scale of axis {axes[k]!r} is {scale[k]}, "
                    f"expected {expect}."
                )
    return problems, arrays


def _omero_problems(ome: dict[str, Any], axes: str, shape: tuple[int, ...]) -> list[str]:
    omero = ome.get("omero")
    if omero is None:
        return []
    problems = []
    n = shape[axes.index("c")] if "c" in axes else 1
    channels = omero.get("channels", [])
    if len(channels) != n:
        problems.append(f"omero lists {len(channels)} channels, the c axis has {n}.")
    for i, ch in enumerate(channels):
        color = str(ch.get("color", ""))
        if len(color) != 6 or any(c not in "0123456789ABCDEFabcdef" for c in color):
            problems.append(f"omero channel {i}: colour {color!r} is not hex RRGGBB.")
        if ch.get("active") is not True:
            problems.append(f"omero channel {i}: 'active' is not true (vizarr hides it).")
        missing = {"min", "max", "start", "end"} - set(ch.get("window", {}))
        if missing:
            problems.append(f"omero channel {i}: window lacks {sorted(missing)}.")
    return problems


def _label_problems(
    image: zarr.Group, name: str, n_levels: int, shape: tuple[int, ...], image_axes: str
) -> list[str]:
    where = f"labels/{name}"
    try:
        group = image["labels"][name]
    except KeyError:
        return [f"{where}: listed in labels but missing."]
    ome, version = ngff_attributes(group)
    problems = _model_problems(group, version, "label")
    ms = (ome.get("multiscales") or [{}])[0]
    pyr, arrays = _pyramid_problems(group, ms, where, group.metadata.zarr_format)
    problems += pyr
    if "omero" in ome:
        problems.append(f"{where}: label images must not carry an omero block.")
    if len(arrays) != n_levels:
        problems.append(f"{where}: {len(arrays)} levels, its image has {n_levels}.")
    if not arrays:
        return problems
    axes = _axes(ms)
    spatial = [n for a, n in zip(image_axes, shape, strict=True) if a in "zyx"]
    if [n for a, n in zip(axes, arrays[0].shape, strict=False) if a in "zyx"] != spatial:
        problems.append(
            f"{where}: spatial shape {tuple(arrays[0].shape)} differs from the image's {shape}."
        )
    if np.dtype(arrays[0].dtype).kind not in "ui":
        problems.append(f"{where}: dtype {arrays[0].dtype} is not an integer type.")
        return problems
    level0 = set(np.unique(arrays[0][...]).tolist())
    for i, arr in enumerate(arrays[1:], start=1):
        extra = set(np.unique(arr[...]).tolist()) - level0
        if extra:
            problems.append(f"{where}: level {i} holds values {sorted(extra)[:5]} not in level 0.")
    listed = {c.get("label-value") for c in (ome.get("image-label") or {}).get("colors", [])}
    unlisted = level0 - listed
    if unlisted:
        problems.append(
            f"{where}: {len(unlisted)} label values have no colour (e.g. {sorted(unlisted)[:5]})."
        )
    return problems


def validate_store(path: str | os.PathLike[str]) -> list[str]:
    """Return every problem found in an OME-Zarr image or plate; an empty list means valid.

    A plate is checked as a plate (plate and well metadata) and then field by field, each
    as the image it is; problems of a field start with its path in the plate.

    Raises
    ------
    OpsflowError
        When ``path`` is not a Zarr store at all.
    """
    p = Path(path)
    group = open_store(p)
    ome, version = ngff_attributes(group)
    if not ome.get("multiscales") and not ome.get("plate"):
        raise OpsflowError(
            f"{p}: expected an OME-Zarr image (multiscales) or plate, found neither."
        )
    zarr_format = group.metadata.zarr_format
    if (version, zarr_format) not in {("0.5", 3), ("0.4", 2)}:
        return [f"NGFF {version} on Zarr v{zarr_format}: expected 0.5 on v3 or 0.4 on v2."]
    if ome.get("plate"):
        return plate_problems(group, p, validate_store)
    problems = _model_problems(group, version, "image")
    ms = ome["multiscales"][0]
    pyr, arrays = _pyramid_problems(group, ms, "image", zarr_format)
    problems += pyr
    if not arrays:
        return problems
    axes = _axes(ms)
    problems += _omero_problems(ome, axes, tuple(arrays[0].shape))
    if "labels" in group:
        lome, lversion = ngff_attributes(group["labels"])
        if lversion is None and version == "0.5":
            problems.append("labels: group lacks ome.version.")
        problems += _model_problems(group["labels"], version, "labels")
        for name in lome.get("labels", []):
            problems += _label_problems(group, name, len(arrays), tuple(arrays[0].shape), axes)
    return problems

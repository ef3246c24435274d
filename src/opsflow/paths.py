"""Output file names, built in one place so every module names files the same way.

DESIGN.md fixes the pattern ``P-{plate}_W-{well}[_T-{tile}][_C-{cycle}]__{what}.{ext}``;
modules and the workflow call these helpers instead of formatting strings themselves.
"""

from __future__ import annotations

__all__ = ["MODULES", "file_name", "stem"]

#: The pipeline modules, in order; each writes under ``{root}/{module}/``.
MODULES = ("preprocess", "sbs", "phenotype", "merge", "aggregate")

#: The QC report of a run, at the top of ``all.root_fp``.
REPORT_NAME = "qc_report.html"


def stem(
    plate: str | int,
    well: str | None,
    tile: int | None = None,
    cycle: int | None = None,
) -> str:
    """Return the wildcard part of a file name, e.g. ``P-1_W-A1_T-0_C-1``.

    Parameters
    ----------
    plate, well : str or int
        Plate and well identifiers, written as given; ``well`` None for per-plate outputs.
    tile, cycle : int, optional
        Omitted for per-well (tile) or per-tile (cycle) outputs.

    Examples
    --------
    >>> stem("1", "A1", 3)
    'P-1_W-A1_T-3'
    >>> stem("1", "A1", cycle=2)
    'P-1_W-A1_C-2'
    >>> stem("1", None)
    'P-1'
    """
    parts = [f"P-{plate}"] + ([] if well is None else [f"W-{well}"])
    if tile is not None:
        parts.append(f"T-{tile}")
    if cycle is not None:
        parts.append(f"C-{cycle}")
    return "_".join(parts)


def file_name(
    plate: str | int,
    well: str | None,
    what: str,
    ext: str,
    *,
    tile: int | None = None,
    cycle: int | None = None,
) -> str:
    """Return a full file name, e.g. ``P-1_W-A1_T-0_C-1__image.tiff``.

    Examples
    --------
    >>> file_name("1", "A1", "ic_field", "tiff", cycle=1)
    'P-1_W-A1_C-1__ic_field.tiff'
    """
    return f"{stem(plate, well, tile, cycle)}__{what}.{ext.lstrip('.')}"

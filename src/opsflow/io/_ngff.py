"""OME-NGFF spec knowledge, in one place, per spec version.

Everything that decides which keys go where lives here; the writer only streams data and
hands this module numbers. Only keys the spec defines are written (no ``shape`` in
datasets, no ``omero.pixel_size``).
"""

from __future__ import annotations

import colorsys
from collections.abc import Mapping, Sequence
from typing import Any

from opsflow.errors import OpsflowError

__all__ = [
    "AXIS_ORDER",
    "NGFF_VERSIONS",
    "axes_metadata",
    "channel_colors",
    "check_axes",
    "image_label_metadata",
    "label_colors",
    "labels_group_metadata",
    "level_transforms",
    "multiscale_metadata",
    "omero_metadata",
    "root_attributes",
    "zarr_format_for",
]

NGFF_VERSIONS = ("0.4", "0.5")
AXIS_ORDER = "tczyx"
SPACE_AXES = "zyx"
_AXIS_TYPES = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}

# Distinct, saturated colours in the order a microscopist expects: DAPI blue first,
# then the usual fluorophore colours. Cycled beyond eight channels with hue steps.
_BASE_COLORS = (
    "0000FF",
    "00FF00",
    "FF0000",
    "FF00FF",
    "00FFFF",
    "FFFF00",
    "FF8000",
    "FFFFFF",
)


def zarr_format_for(ngff_version: str) -> int:
    """Zarr format that carries a given NGFF version (0.4 on Zarr v2, 0.5 on Zarr v3)."""
    if ngff_version not in NGFF_VERSIONS:
        raise OpsflowError(
            f"NGFF version {ngff_version!r} is not supported; choose one of {NGFF_VERSIONS}."
        )
    return 2 if ngff_version == "0.4" else 3


def check_axes(axes: str) -> str:
    """Validate an axes string such as ``"tcyx"`` against the NGFF ordering rules."""
    axes = axes.lower()
    if len(set(axes)) != len(axes) or any(a not in AXIS_ORDER for a in axes):
        raise OpsflowError(
            f"axes {axes!r} must be distinct letters from {AXIS_ORDER!r}, e.g. 'cyx' or 'tcyx'."
        )
    if not axes.endswith("yx"):
        raise OpsflowError(f"axes {axes!r} must end with 'yx'.")
    if list(axes) != sorted(axes, key=AXIS_ORDER.index):
        raise OpsflowError(f"axes {axes!r} must follow the NGFF order t, c, z, y, x.")
    return axes


def axes_metadata(axes: str) -> list[dict[str, str]]:
    """NGFF axes list: lowercase names, types, micrometer units on space axes."""
    out = []
    for name in axes:
        entry = {"name": name, "type": _AXIS_TYPES[name]}
        if name in SPACE_AXES:
            entry["unit"] = "micrometer"
        out.append(entry)
    return out


def level_transforms(
    axes: str, pixel_size: Mapping[str, float], factor: int, level: int
) -> list[dict[str, Any]]:
    """Scale (and, above level 0, translation) of one pyramid level.

    Only y and x are coarsened. A block mean over ``factor**level`` pixels moves the pixel
    centre by ``(factor**level - 1) / 2`` original pixels, hence the translation.
    """
    step = factor**level
    scale = [
        float(pixel_size.get(a, 1.0)) * (step if a in "yx" else 1) if a in SPACE_AXES else 1.0
        for a in axes
    ]
    transforms: list[dict[str, Any]] = [{"type": "scale", "scale": scale}]
    if level > 0:
        shift = [float(pixel_size.get(a, 1.0)) * (step - 1) / 2 if a in "yx" else 0.0 for a in axes]
        transforms.append({"type": "translation", "translation": shift})
    return transforms


def multiscale_metadata(
    *,
    name: str,
    axes: str,
    pixel_size: Mapping[str, float],
    factor: int,
    n_levels: int,
    method: str,
    ngff_version: str,
) -> dict[str, Any]:
    """One ``multiscales`` entry with level paths "0", "1", ..."""
    entry: dict[str, Any] = {}
    if ngff_version == "0.4":
        entry["version"] = "0.4"
    entry["name"] = name
    entry["axes"] = axes_metadata(axes)
    entry["datasets"] = [
        {
            "path": str(level),
            "coordinateTransformations": level_transforms(axes, pixel_size, factor, level),
        }
        for level in range(n_levels)
    ]
    entry["type"] = method
    entry["metadata"] = {
        "description": f"{method} over {factor}x{factor} blocks of the previous level",
        "method": f"opsflow.io.{method}",
    }
    return entry


def channel_colors(n: int, colors: Sequence[str] | None = None) -> list[str]:
    """Hex ``RRGGBB`` colours, one per channel, distinct; validates given colours."""
    if colors is not None:
        if len(colors) != n:
            raise OpsflowError(f"{len(colors)} colours given for {n} channels; give one each.")
        out = []
        for c in colors:
            c = c.lstrip("#").upper()
            if len(c) != 6 or any(ch not in "0123456789ABCDEF" for ch in c):
                raise OpsflowError(f"colour {c!r} is not a hex RRGGBB string such as 'FF00FF'.")
            out.append(c)
        return out
    if n == 1:  # one channel: white, as every viewer shows a grey image
        return ["FFFFFF"]
    out = list(_BASE_COLORS[:n])
    for i in range(len(out), n):
        r, g, b = colorsys.hsv_to_rgb((i * 0.618034) % 1.0, 0.8, 1.0)
        out.append(f"{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}")
    return out


def omero_metadata(
    *,
    labels: Sequence[str],
    colors: Sequence[str],
    windows: Sequence[Mapping[str, float]],
    name: str,
) -> dict[str, Any]:
    """The ``omero`` rendering block: label, colour, ``active`` and all four window keys."""
    channels = [
        {
            "label": label,
            "color": color,
            "active": True,
            "coefficient": 1.0,
            "family": "linear",
            "inverted": False,
            "window": {k: float(window[k]) for k in ("min", "max", "start", "end")},
        }
        for label, color, window in zip(labels, colors, windows, strict=True)
    ]
    return {
        "name": name,
        "channels": channels,
        "rdefs": {"defaultT": 0, "defaultZ": 0, "model": "color"},
    }


def label_colors(values: Sequence[int]) -> list[dict[str, Any]]:
    """RGBA colour for every label value present; 0 (background) is transparent.

    Deterministic golden-ratio hues, so neighbouring labels differ and the same label value
    gets the same colour in every store.
    """
    out = []
    for v in sorted(int(v) for v in values):
        if v == 0:
            rgba = [0, 0, 0, 0]
        else:
            r, g, b = colorsys.hsv_to_rgb((v * 0.618034) % 1.0, 0.65 + 0.35 * (v % 2), 1.0)
            rgba = [round(r * 255), round(g * 255), round(b * 255), 255]
        out.append({"label-value": v, "rgba": rgba})
    return out


def image_label_metadata(
    *,
    values: Sequence[int],
    ngff_version: str,
    source: str = "../../",
    properties: Mapping[int, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The ``image-label`` block of one label image.

    ``properties`` (what each value stands for) are listed for exactly the values that
    have a colour, as the spec asks (the background gets its ``label-value`` alone).
    """
    block: dict[str, Any] = {}
    if ngff_version == "0.4":
        block["version"] = "0.4"
    block["colors"] = label_colors(values)
    if properties:
        block["properties"] = [{"label-value": int(v), **properties.get(v, {})} for v in values]
    block["source"] = {"image": source}
    return block


def labels_group_metadata(names: Sequence[str], ngff_version: str) -> dict[str, Any]:
    """Attributes of the ``labels`` group that lists the label images."""
    return root_attributes({"labels": list(names)}, ngff_version)


def root_attributes(ome: Mapping[str, Any], ngff_version: str) -> dict[str, Any]:
    """Wrap NGFF keys the way each version stores them.

    0.5 keeps everything under ``ome`` with ``ome.version``; 0.4 puts the keys at the top of
    ``.zattrs`` and carries the version inside ``multiscales`` and ``image-label``.
    """
    if ngff_version == "0.5":
        return {"ome": {"version": "0.5", **ome}}
    return dict(ome)

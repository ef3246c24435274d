"""NGFF metadata of a written store: multiscales, omero, labels and image-label.

Written after the data, because the omero windows and the label colours depend on
statistics collected while the data streamed. Which keys go where is ``_ngff``'s
business; this module only hands it the plan's numbers and the statistics.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import zarr

from opsflow.errors import OpsflowError
from opsflow.io import _ngff
from opsflow.io._plan import WritePlan
from opsflow.io._stats import Collector

__all__ = ["write_metadata"]


def _multiscales(plan: WritePlan, name: str, method: str) -> list[dict[str, Any]]:
    # image and label images share axes, pixel size and levels; only the name and the
    # downsampling method differ
    return [
        _ngff.multiscale_metadata(
            name=name,
            axes=plan.axes,
            pixel_size=plan.pixel_size,
            factor=plan.options.coarsening_factor,
            n_levels=plan.n_levels,
            method=method,
            ngff_version=plan.options.ngff_version,
        )
    ]


def write_metadata(
    root: zarr.Group,
    plan: WritePlan,
    image_stats: Collector,
    labels: Mapping[str, tuple[zarr.Group, Collector]],
) -> None:
    """Write the attributes of the root group, the ``labels`` group and each label group.

    Parameters
    ----------
    root
        The store's root group, its level arrays already written.
    plan
        The plan the store was written from.
    image_stats
        Statistics of the image, for the omero windows.
    labels
        Each label image's group and statistics, by name, in the plan's order.

    Raises
    ------
    OpsflowError
        A label image holds negative values: NGFF label values are non-negative, and only
        the data can tell.
    """
    version = plan.options.ngff_version
    windows = [c.window(plan.image.dtype) for c in image_stats.channels]
    ome: dict[str, Any] = {
        "multiscales": _multiscales(plan, plan.name, "mean"),
        "omero": _ngff.omero_metadata(
            labels=list(plan.channel_labels),
            colors=list(plan.colors),
            windows=windows,
            name=plan.name,
        ),
    }
    root.attrs.update(_ngff.root_attributes(ome, version))
    if labels:
        root["labels"].attrs.update(_ngff.labels_group_metadata(list(labels), version))
    for lname, (group, stats) in labels.items():
        values = sorted(stats.values)
        if values and values[0] < 0:
            raise OpsflowError(
                f"label image {lname!r}: expected non-negative label values, found {values[0]}."
            )
        lome = {
            "multiscales": _multiscales(plan, lname, "mode"),
            "image-label": _ngff.image_label_metadata(
                values=values, ngff_version=version, properties=plan.label_properties[lname]
            ),
        }
        group.attrs.update(_ngff.root_attributes(lome, version))

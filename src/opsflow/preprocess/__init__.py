"""Preprocess: raw acquisitions to (C, Y, X) tiles, metadata and illumination fields.

Pure functions on arrays and :class:`opsflow.io.RawImage` objects; reading the raw files
(``opsflow.io.read_raw_image``) and writing outputs happen at the edges (workflow scripts,
CLI). :func:`apply_ic_field` (from :mod:`opsflow.illumination`) is re-exported for callers
that correct tiles by hand.
"""

from opsflow.illumination import apply_ic_field
from opsflow.preprocess._convert import (
    PLANE_ORDERS,
    convert_raw,
    convert_tile,
    converted_channel_names,
    converted_shape,
    to_cyx,
)
from opsflow.preprocess._illumination import calculate_ic_field, ic_smoothing_radius
from opsflow.preprocess._metadata import METADATA_COLUMNS, combine_metadata, tile_metadata
from opsflow.preprocess._params import ConvertParams, IcFieldParams
from opsflow.preprocess._steps import combine_metadata_tables, convert_step

__all__ = [
    "ConvertParams",
    "IcFieldParams",
    "METADATA_COLUMNS",
    "PLANE_ORDERS",
    "apply_ic_field",
    "calculate_ic_field",
    "combine_metadata",
    "combine_metadata_tables",
    "convert_raw",
    "convert_step",
    "convert_tile",
    "converted_channel_names",
    "converted_shape",
    "ic_smoothing_radius",
    "tile_metadata",
    "to_cyx",
]

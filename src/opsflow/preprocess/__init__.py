"""Preprocess: raw acquisitions to (C, Y, X) tiles, metadata and illumination fields.

Pure functions on arrays and :class:`opsflow.io.RawImage` objects; reading the raw files
(``opsflow.io.read_raw_image``) and writing outputs happen at the edges (workflow scripts,
CLI). :func:`apply_ic_field` (from :mod:`opsflow.illumination`) is re-exported for callers
that correct tiles by hand.
"""

import lazy_loader

from opsflow.illumination import apply_ic_field

# each name is imported from its submodule when first used: reading the configuration
# or the steps table (every Snakemake process and cluster job) imports no kernel
__getattr__, __dir__, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "_convert": [
            "PLANE_ORDERS",
            "convert_raw",
            "convert_tile",
            "converted_channel_names",
            "converted_shape",
            "to_cyx",
        ],
        "_illumination": ["calculate_ic_field", "ic_smoothing_radius"],
        "_metadata": ["METADATA_COLUMNS", "combine_metadata", "tile_metadata"],
        "_params": ["ConvertParams", "IcFieldParams"],
        "_steps": ["combine_metadata_tables", "convert_step"],
    },
)

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

"""Image I/O: TIFF, raw microscope files, the OME-Zarr writer and reader, validation.

Knows nothing of screens.
"""

import lazy_loader

# each name is imported from its submodule when first used: reading the configuration
# or the steps table (every Snakemake process and cluster job) imports no kernel
__getattr__, __dir__, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "_atomic": ["atomic_path"],
        "_export": ["ensure_omero_channel_colors", "export_tiff_to_omezarr", "ngff_view"],
        "_hcs": ["is_plate", "plate_fields", "write_plate_metadata"],
        "_ngff": ["NGFF_VERSIONS"],
        "_options": ["COMPRESSIONS", "ExportOptions"],
        "_raw": [
            "RawImage",
            "raw_image_from_nd2",
            "read_raw_image",
            "read_raw_nd2",
            "read_raw_tiff",
        ],
        "_raw_header": ["RawHeader", "read_raw_header"],
        "_reader": ["ImageInfo", "image_info", "is_omezarr"],
        "_tiff": ["open_tiff", "read_tiff", "write_tiff"],
        "_validate": ["validate_store"],
        "_view": ["ImageView", "open_image", "read_image"],
        "_wells": ["PLATE_FORMATS", "PlateFormat", "field_path", "plate_format", "well_position"],
        "_writer": ["ArrayLike", "write_multiscale_omezarr"],
    },
)

__all__ = [
    "ArrayLike",
    "COMPRESSIONS",
    "NGFF_VERSIONS",
    "PLATE_FORMATS",
    "PlateFormat",
    "ExportOptions",
    "ImageInfo",
    "ImageView",
    "RawHeader",
    "RawImage",
    "atomic_path",
    "ensure_omero_channel_colors",
    "field_path",
    "export_tiff_to_omezarr",
    "image_info",
    "is_omezarr",
    "is_plate",
    "ngff_view",
    "open_image",
    "open_tiff",
    "plate_fields",
    "plate_format",
    "raw_image_from_nd2",
    "read_image",
    "read_raw_header",
    "read_raw_image",
    "read_raw_nd2",
    "read_raw_tiff",
    "read_tiff",
    "validate_store",
    "well_position",
    "write_multiscale_omezarr",
    "write_plate_metadata",
    "write_tiff",
]

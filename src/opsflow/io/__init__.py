"""Image I/O: TIFF, raw microscope files, the OME-Zarr writer and reader, validation.

Knows nothing of screens.
"""

from opsflow.io._atomic import atomic_path
from opsflow.io._export import ensure_omero_channel_colors, export_tiff_to_omezarr, ngff_view
from opsflow.io._hcs import (
    PLATE_FORMATS,
    PlateFormat,
    field_path,
    is_plate,
    plate_fields,
    plate_format,
    well_position,
    write_plate_metadata,
)
from opsflow.io._ngff import NGFF_VERSIONS
from opsflow.io._options import COMPRESSIONS, ExportOptions
from opsflow.io._raw import (
    RawImage,
    raw_image_from_nd2,
    read_raw_image,
    read_raw_nd2,
    read_raw_tiff,
)
from opsflow.io._raw_header import RawHeader, read_raw_header
from opsflow.io._reader import ImageInfo, image_info, is_omezarr
from opsflow.io._tiff import open_tiff, read_tiff, write_tiff
from opsflow.io._validate import validate_store
from opsflow.io._view import ImageView, open_image, read_image
from opsflow.io._writer import ArrayLike, write_multiscale_omezarr

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

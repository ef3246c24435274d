"""Image I/O: TIFF, the OME-Zarr writer and reader, validation. Knows nothing of screens."""

from opsflow.io._atomic import atomic_path
from opsflow.io._tiff import open_tiff, read_tiff, write_tiff

__all__ = ["atomic_path", "open_tiff", "read_tiff", "write_tiff"]

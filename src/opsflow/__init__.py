"""opsflow: optical pooled screen analysis with a uniform OME-Zarr view of the pipeline."""

from opsflow.errors import (
    ConfigError,
    InputFileError,
    InputFileNotFoundError,
    OpsflowError,
    OutputExistsError,
)

__all__ = [
    "ConfigError",
    "InputFileError",
    "InputFileNotFoundError",
    "OpsflowError",
    "OutputExistsError",
]

__version__ = "0.1.0"

"""One error hierarchy for the whole package.

Every error opsflow raises on purpose derives from :class:`OpsflowError`, which is a
``ValueError``; specific errors also inherit the matching built-in so callers can catch
either. The CLI turns them into one line and a non-zero exit code.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "InputFileError",
    "InputFileNotFoundError",
    "OpsflowError",
    "OutputExistsError",
]


class OpsflowError(ValueError):
    """Base class: bad input, bad configuration or bad data, stated in one sentence."""


class InputFileNotFoundError(OpsflowError, FileNotFoundError):
    """An input path does not exist."""


class InputFileError(OpsflowError):
    """An input file exists but is not what was expected (corrupt, wrong shape or dtype)."""


class OutputExistsError(OpsflowError, FileExistsError):
    """An output exists and overwriting was not allowed."""


class ConfigError(OpsflowError):
    """A configuration key is missing, unknown or of the wrong type."""

"""One error hierarchy for the whole package.

Every error opsflow raises on purpose derives from :class:`OpsflowError`, which is a
``ValueError``; specific errors also inherit the matching built-in so callers can catch
either. The CLI turns them into one line and a non-zero exit code.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "ConfigError",
    "InputFileError",
    "InputFileNotFoundError",
    "OpsflowError",
    "OutputError",
    "OutputExistsError",
    "lookup",
]


class OpsflowError(ValueError):
    """Base class: bad input, bad configuration or bad data, stated in one sentence."""


class InputFileNotFoundError(OpsflowError, FileNotFoundError):
    """An input path does not exist."""


class InputFileError(OpsflowError):
    """An input file exists but is not what was expected (corrupt, wrong shape or dtype)."""


class OutputError(OpsflowError, OSError):
    """An output cannot be written where it was asked for (permissions, a full disk)."""


class OutputExistsError(OpsflowError, FileExistsError):
    """An output exists and overwriting was not allowed."""


class ConfigError(OpsflowError):
    """A configuration key is missing, unknown or of the wrong type."""


def lookup[T](table: Mapping[str, T], name: str, kind: str) -> T:
    """The entry ``name`` of a registry, or a ``ConfigError`` listing every valid name."""
    try:
        return table[name]
    except KeyError:
        valid = ", ".join(table)
        raise ConfigError(f"unknown {kind} {name!r}; valid {kind}s are {valid}.") from None

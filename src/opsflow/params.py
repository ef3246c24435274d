"""Parameter sections as keyword arguments: the glue between settings and kernels.

A settings section whose field names are a kernel's keyword arguments is passed as
``kernel(image, **kwargs(section))``, so no step copies its fields one by one and a
field added to a section reaches its kernel without another edit.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["kwargs"]


def kwargs(section: Any, *, without: tuple[str, ...] = ()) -> dict[str, Any]:
    """A dataclass instance's fields as a dict (not deep-copied, unlike ``asdict``).

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Filter:
    ...     sigma: float = 1.0
    ...     width: int = 3
    >>> kwargs(Filter(), without=("width",))
    {'sigma': 1.0}
    """
    return {
        f.name: getattr(section, f.name)
        for f in dataclasses.fields(section)
        if f.name not in without
    }

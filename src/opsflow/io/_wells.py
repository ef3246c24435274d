"""Plate formats and well names: where a well sits on a plate, without opening a store."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from opsflow.errors import OpsflowError

__all__ = ["PLATE_FORMATS", "PlateFormat", "field_path", "plate_format", "well_position"]


@dataclass(frozen=True)
class PlateFormat:
    """A physical plate format: its row letters and column numbers."""

    wells: int
    n_rows: int
    n_columns: int

    @property
    def rows(self) -> tuple[str, ...]:
        """Row names: A, B, ... Z, AA, AB, ... (1536-well plates have 32 rows)."""
        return tuple(_row_name(i) for i in range(self.n_rows))

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names "1", "2", ..."""
        return tuple(str(i + 1) for i in range(self.n_columns))


#: The standard (SBS/ANSI) plate formats, smallest first.
PLATE_FORMATS = tuple(
    PlateFormat(r * c, r, c)
    for r, c in ((2, 3), (3, 4), (4, 6), (6, 8), (8, 12), (16, 24), (32, 48))
)

_WELL = re.compile(r"^([A-Za-z]{1,2})[-_]?0*(\d{1,2})$")


def _row_name(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else "A" + chr(ord("A") + index - 26)


def _row_index(letters: str) -> int:
    letters = letters.upper()
    if len(letters) == 1:
        return ord(letters) - ord("A")
    if letters[0] != "A":
        return -1  # only 1536-well plates have two-letter rows: AA to AF
    return 26 + ord(letters[1]) - ord("A")


def well_position(name: str) -> tuple[str, str]:
    """Row and column names of a well as microscopes write it (``A1``, ``A01``, ``B12``).

    >>> well_position("A01"), well_position("b12"), well_position("AF48")
    (('A', '1'), ('B', '12'), ('AF', '48'))
    """
    match = _WELL.match(str(name).strip())
    largest = PLATE_FORMATS[-1]
    if match:
        row, column = _row_index(match.group(1)), int(match.group(2))
        if 0 <= row < largest.n_rows and 1 <= column <= largest.n_columns:
            return _row_name(row), str(column)
    raise OpsflowError(
        f"well {name!r}: expected a well name such as A1, A01 or B12 (row letters A to AF, "
        f"column 1 to {largest.n_columns}), found none."
    )


def plate_format(wells: Sequence[str]) -> PlateFormat:
    """The smallest standard plate format that has every well."""
    positions = [well_position(w) for w in wells]
    for fmt in PLATE_FORMATS:
        if all(r in fmt.rows and c in fmt.columns for r, c in positions):
            return fmt
    raise AssertionError("well_position accepts only wells of the largest format")


def field_path(well: str, field: str | int) -> str:
    """Path of a field inside its plate: ``{row}/{column}/{field}``."""
    row, column = well_position(well)
    name = str(field)
    if not name.isalnum():
        raise OpsflowError(f"field {name!r}: expected letters and digits only (an NGFF path).")
    return f"{row}/{column}/{name}"

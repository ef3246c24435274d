"""Sample tables: which raw files make which tile (and cycle)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from opsflow.errors import ConfigError, InputFileError, InputFileNotFoundError

__all__ = ["load_library", "load_samples"]


def load_samples(
    path: str | os.PathLike[str], *, with_cycle: bool, base_dir: str | os.PathLike[str]
) -> pd.DataFrame:
    """Read a samples TSV (``sample_fp, plate, well, tile[, cycle]``), one row per raw file.

    Relative ``sample_fp`` are resolved against ``base_dir`` (the config's directory).
    Rows keep their order, which is the order files of one tile are joined along channels.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileNotFoundError(f"{path}: expected a samples TSV, found nothing there.")
    table = pd.read_csv(path, sep="\t", dtype=str)
    needed = ["sample_fp", "plate", "well", "tile"] + (["cycle"] if with_cycle else [])
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise InputFileError(
            f"{path}: expected columns {', '.join(needed)}, missing {', '.join(missing)}."
        )
    for column in ("tile", "cycle") if with_cycle else ("tile",):
        if not table[column].str.fullmatch(r"\d+").all():
            bad = table.loc[~table[column].str.fullmatch(r"\d+"), column].iloc[0]
            raise InputFileError(
                f"{path}: expected whole numbers in column {column}, found {bad!r}."
            )
    for column in ("plate", "well"):
        if table[column].str.contains(r"[_/\s]").any():
            raise InputFileError(
                f"{path}: {column} names must not contain '_', '/' or spaces (they are part "
                "of file names)."
            )
    # absolute, normalised paths (os.path: a screen lists tens of thousands of files and
    # pathlib objects cost ten times as much; links are kept, not resolved)
    base = os.path.abspath(base_dir)
    table["sample_fp"] = [os.path.normpath(os.path.join(base, p)) for p in table["sample_fp"]]
    absent = [p for p in table["sample_fp"] if not os.path.exists(p)]
    if absent:
        raise InputFileNotFoundError(
            f"{path}: {len(absent)} raw files listed are missing, e.g. {absent[0]}."
        )
    if table.empty:
        raise InputFileError(f"{path}: expected at least one sample row, found none.")
    return table


def load_library(path: str | os.PathLike[str] | None) -> pd.DataFrame | None:
    """Read the barcode library (TSV, CSV or parquet); None without a path."""
    if path is None:
        return None
    path = Path(path)
    if not path.exists():
        raise ConfigError(
            f"{path}: expected the barcode library (sbs.library_path), found nothing."
        )
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, sep="," if path.suffix == ".csv" else "\t")

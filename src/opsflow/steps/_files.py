"""Reading and writing the tables and logs the steps pass between them."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from opsflow.errors import InputFileError, InputFileNotFoundError
from opsflow.io import atomic_path

__all__ = ["read_table", "step_log", "write_table"]


def write_table(path: str | os.PathLike[str], table: pd.DataFrame) -> Path:
    """Write a table as TSV or parquet (by suffix), atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            _text_columns_as_strings(table).to_parquet(tmp, index=False)
        else:
            table.to_csv(tmp, sep="\t", index=False)
    return path


def _text_columns_as_strings(table: pd.DataFrame) -> pd.DataFrame:
    """Object columns as strings (missing stays missing): parquet needs one type a column.

    Per-tile TSVs can read back an identifier column as numbers in one tile and as text
    in another; the per-well table keeps them all as text.
    """
    table = table.copy()
    for column in table.select_dtypes(include="object").columns:
        values = table[column]
        table[column] = values.where(values.isna(), values.astype(str))
    return table


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a TSV or parquet table written by :func:`write_table`."""
    path = Path(path)
    if not path.exists():
        raise InputFileNotFoundError(f"{path}: expected a table, found nothing at that path.")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t")
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except Exception as exc:
        raise InputFileError(f"{path}: expected a readable table, found {exc}.") from exc


class _ThisThread(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.thread = threading.get_ident()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread == self.thread


@contextlib.contextmanager
def step_log(path: str | os.PathLike[str] | None) -> Iterator[None]:
    """Send this thread's opsflow log records to ``path`` while a step runs.

    Snakemake runs ``run:`` blocks of local jobs in threads of one process; the thread
    filter keeps each job's log to its own file.
    """
    if path is None:
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_ThisThread())
    logger = logging.getLogger("opsflow")
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield
    except Exception:
        logger.exception("step failed")
        raise
    finally:
        logger.removeHandler(handler)
        handler.close()

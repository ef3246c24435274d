"""Cytoplasm masks: each cell minus its own nucleus, ``identified_cytoplasms``."""

from __future__ import annotations

import numpy as np

from opsflow.errors import OpsflowError

__all__ = ["LabelMismatchError", "identify_cytoplasm"]


class LabelMismatchError(OpsflowError):
    """Nuclei and cells do not carry the same labels."""


def _labels(mask: np.ndarray) -> np.ndarray:
    present = np.flatnonzero(np.bincount(mask.ravel().astype(np.int64)))
    return present[present > 0]


def identify_cytoplasm(nuclei: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Cytoplasm of every cell: its pixels outside its own nucleus, under the cell's label.

    Features of nucleus, cell and cytoplasm are joined by label, so the three masks must
    share labels; a nucleus without its cell (or a cell without its nucleus) means the
    masks come from different segmentations, and is refused rather than measured wrong.
    A pixel of nucleus ``j`` that lies in cell ``k != j`` stays cytoplasm of ``k``. A cell
    filled by its nucleus has no cytoplasm pixels (its label is then absent here).

    Parameters
    ----------
    nuclei, cells : ndarray, shape (Y, X), integer
        Masks sharing labels, as :func:`opsflow.segment.segment` makes them.

    Returns
    -------
    ndarray, shape (Y, X), dtype of ``cells``

    Raises
    ------
    LabelMismatchError
        If the label sets differ.
    """
    if nuclei.shape != cells.shape or cells.ndim != 2:
        raise OpsflowError(
            f"nuclei {nuclei.shape} and cells {cells.shape} must be 2-D masks of equal shape."
        )
    if not (np.issubdtype(nuclei.dtype, np.integer) and np.issubdtype(cells.dtype, np.integer)):
        raise OpsflowError(
            f"nuclei and cells must be integer label images, got {nuclei.dtype} and {cells.dtype}."
        )
    nucleus_labels, cell_labels = _labels(nuclei), _labels(cells)
    if not np.array_equal(nucleus_labels, cell_labels):
        only_nuclei = np.setdiff1d(nucleus_labels, cell_labels)
        only_cells = np.setdiff1d(cell_labels, nucleus_labels)
        raise LabelMismatchError(
            "nuclei and cells must carry the same labels; found "
            f"{only_nuclei.size} nuclei without a cell (e.g. {only_nuclei[:5].tolist()}) and "
            f"{only_cells.size} cells without a nucleus (e.g. {only_cells[:5].tolist()})."
        )
    cytoplasm = cells.copy()
    cytoplasm[nuclei == cells] = 0
    return cytoplasm

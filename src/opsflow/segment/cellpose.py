"""Optional cellpose segmentation: imported lazily, never downloads weights.

Cellpose fetches missing weights from the internet on first use; opsflow runs on
machines without internet and must be reproducible, so the weights must already be
on disk and a missing package or weights file is a clear error instead.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from opsflow.errors import OpsflowError
from opsflow.segment.classic import reconcile, remove_border_cells

__all__ = ["CellposeUnavailableError", "segment_cellpose"]

INSTALL_HINT = (
    "install it with `pip install cellpose` and put the model weights in "
    "~/.cellpose/models (or $CELLPOSE_LOCAL_MODELS_PATH), or use segment method 'classic'"
)


class CellposeUnavailableError(OpsflowError, ImportError):
    """The cellpose package or its model weights are not present on this machine."""


def _models_dir() -> Path:
    env = os.environ.get("CELLPOSE_LOCAL_MODELS_PATH")
    return Path(env) if env else Path.home() / ".cellpose" / "models"


def _weights_path(model: str) -> Path:
    """Resolve a model name or file path to an existing weights file, or raise."""
    candidate = Path(model).expanduser()
    if candidate.is_file():
        return candidate
    directory = _models_dir()
    matches = sorted(directory.glob(f"{model}*")) if directory.is_dir() else []
    files = [m for m in matches if m.is_file()]
    if not files:
        raise CellposeUnavailableError(
            f"cellpose weights for model {model!r} are not in {directory}; "
            f"opsflow never downloads weights: {INSTALL_HINT}."
        )
    return files[0]


def _import_cellpose() -> Any:
    try:
        return importlib.import_module("cellpose.models")
    except ImportError as err:
        raise CellposeUnavailableError(
            f"segment method 'cellpose' needs the cellpose package: {INSTALL_HINT}."
        ) from err


def segment_cellpose(
    dapi: np.ndarray,
    cyto: np.ndarray,
    *,
    model: str = "cyto3",
    nuclei_model: str = "nuclei",
    diameter: float | None = None,
    nuclei_diameter: float | None = None,
    remove_border: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Segment nuclei and cells with cellpose; labels shared as in the classic method.

    Raises
    ------
    CellposeUnavailableError
        If cellpose is not installed or a model's weights are not on disk.
    """
    if dapi.shape != cyto.shape or dapi.ndim != 2:
        raise OpsflowError(f"dapi {dapi.shape} and cyto {cyto.shape} must be equal 2-D images.")
    models = _import_cellpose()
    cell_weights = _weights_path(model)
    nuclei_weights = _weights_path(nuclei_model)
    cell_net = models.CellposeModel(gpu=False, pretrained_model=str(cell_weights))
    nuclei_net = models.CellposeModel(gpu=False, pretrained_model=str(nuclei_weights))
    rgb = np.stack([cyto, dapi], axis=-1).astype(np.float32)
    cells = np.asarray(cell_net.eval(rgb, diameter=diameter, channels=[1, 2])[0])
    nuclei = np.asarray(
        nuclei_net.eval(dapi.astype(np.float32), diameter=nuclei_diameter, channels=[0, 0])[0]
    )
    nuclei, cells = reconcile(nuclei.astype(np.int64), cells.astype(np.int64))
    if remove_border:
        return remove_border_cells(nuclei, cells)
    return nuclei, cells

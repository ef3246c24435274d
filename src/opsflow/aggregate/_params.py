"""The aggregate module's settings (the ``aggregate:`` section of the configuration)."""

from __future__ import annotations

from dataclasses import dataclass, field

from opsflow.errors import ConfigError

__all__ = ["AggregateParams"]


def _help(default: object, text: str) -> object:
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class AggregateParams:
    """Which cells count, how features are normalised, how hits are called and shown."""

    controls: tuple[str, ...] = _help(
        ("nontargeting",),
        "Gene symbols of the library's control sgRNAs; features are normalised to them "
        "and genes are tested against them.",
    )
    min_reads: int = _help(2, "Reads of a cell's top barcode for the cell to count.")
    single_gene: bool = _help(
        True,
        "Drop cells whose second barcode maps to another gene than the first (with "
        "min_reads reads or more: one stray read is noise).",
    )
    drop_border_cells: bool = _help(
        True, "Drop cells touching the edge of their phenotype tile (cut-off cells)."
    )
    max_distance_um: float | None = _help(
        None, "Drop merges farther apart than this (µm); null keeps every merge."
    )
    features: tuple[str, ...] | None = _help(
        None,
        "Feature columns to aggregate; null: every numeric phenotype feature except "
        "positions and bounding boxes.",
    )
    min_cells: int = _help(5, "Cells a gene needs to be tested.")
    hit_q: float = _help(0.01, "Benjamini-Hochberg q-value under which a test is a hit.")
    montage_genes: int = _help(4, "Top-hit genes shown in the montages (the controls too).")
    montage_cells: int = _help(12, "Cells per gene in a montage.")
    montage_crop_px: int = _help(96, "Side of a montage crop (phenotype pixels).")
    montage_channels: tuple[str, ...] | None = _help(
        None, "Phenotype channels of the montages, at most 3 (RGB); null: the first 3."
    )
    seed: int = _help(0, "Seed of the random choice of montage cells.")

    def __post_init__(self) -> None:
        if not 0 < self.hit_q < 1:
            raise ConfigError(f"aggregate.hit_q must lie in (0, 1); found {self.hit_q}.")
        if self.montage_crop_px < 8:
            raise ConfigError(
                f"aggregate.montage_crop_px must be at least 8; found {self.montage_crop_px}."
            )
        if self.montage_channels is not None and not 1 <= len(self.montage_channels) <= 3:
            raise ConfigError(
                "aggregate.montage_channels must name 1 to 3 channels; "
                f"found {list(self.montage_channels)}."
            )
        for key in ("min_reads", "min_cells", "montage_genes", "montage_cells"):
            if getattr(self, key) < 1:
                found = getattr(self, key)
                raise ConfigError(f"aggregate.{key} must be at least 1; found {found}.")

"""The ``merge:`` section's settings (no kernel imported: the configuration reads them)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["MergeParams"]


def _help(default: object, text: str) -> object:
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class MergeParams:
    """How phenotype cells are joined to SBS cells (the ``merge:`` section)."""

    search_radius_um: float = _help(
        100.0, "Largest error of the stage positions between the acquisitions (µm)."
    )
    vote_bin_um: float = _help(1.0, "Resolution of the offset votes per tile (µm).")
    max_points_per_tile: int = _help(300, "Nuclei per phenotype tile that vote (a subsample).")
    min_votes: int = _help(8, "Agreeing pairs a tile needs for its offset to enter the fit.")
    max_distance_um: float | None = _help(
        None,
        "Largest centroid distance of a match (µm); null: 5 x the fit's 90th-percentile "
        "residual, at most half the typical spacing of SBS nuclei.",
    )
    min_matched_fraction: float = _help(
        0.5, "A tile pair matching fewer of its overlapping cells is flagged poor."
    )
    max_residual_p90_um: float = _help(
        3.0, "A tile pair whose 90th-percentile residual exceeds this is flagged poor (µm)."
    )

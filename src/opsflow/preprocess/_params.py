"""Parameters of the preprocess steps; field names are the kernels' keyword arguments."""

from __future__ import annotations

from dataclasses import dataclass, field

from opsflow.errors import ConfigError

__all__ = ["ConvertParams", "IcFieldParams"]


def _help(default: object, text: str) -> object:
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class ConvertParams:
    """Conversion of one modality's raw files (:func:`opsflow.preprocess.convert_step`)."""

    channel_order_flip: bool = _help(
        False,
        "Reverse the channel order stored in the files during conversion, so converted "
        "tiles follow the module's channel_names (e.g. SBS stored C, A, T, G, DAPI).",
    )
    n_z_planes: int | None = _help(None, "Z planes to max-project per channel; null: none.")
    pixel_size_um: float | None = _help(
        None, "Pixel size in micrometres, used where the files record none."
    )

    def __post_init__(self) -> None:
        """Check ranges once."""
        if self.n_z_planes is not None and self.n_z_planes < 1:
            raise ConfigError(f"n_z_planes must be >= 1 or null, found {self.n_z_planes}.")
        if self.pixel_size_um is not None and not self.pixel_size_um > 0:
            raise ConfigError(f"pixel_size_um must be > 0 or null, found {self.pixel_size_um}.")


@dataclass(frozen=True)
class IcFieldParams:
    """Illumination-correction fields (:func:`opsflow.preprocess.calculate_ic_field`)."""

    percentile: float = _help(2.0, "The illumination field is divided by this percentile.")
    smooth: int | None = _help(
        None, "Median radius of the illumination field in px; null scales with the image."
    )

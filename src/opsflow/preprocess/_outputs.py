"""Names of the preprocess outputs, as DESIGN.md fixes them (relative to the output root)."""

from __future__ import annotations

from pathlib import PurePosixPath

from opsflow.paths import file_name

__all__ = ["MODALITIES", "ic_field_path", "image_path", "metadata_path"]

#: The two imaging modalities preprocess handles.
MODALITIES = ("sbs", "phenotype")


def _check(modality: str) -> None:
    if modality not in MODALITIES:
        raise ValueError(f"modality must be one of {MODALITIES}; got {modality!r}.")


def image_path(
    modality: str, plate: str, well: str, tile: int, cycle: int | None = None
) -> PurePosixPath:
    """``preprocess/images/{modality}/P-{plate}_W-{well}_T-{tile}[_C-{cycle}]__image.tiff``."""
    _check(modality)
    name = file_name(plate, well, "image", "tiff", tile=tile, cycle=cycle)
    return PurePosixPath("preprocess", "images", modality, name)


def ic_field_path(modality: str, plate: str, well: str, cycle: int | None = None) -> PurePosixPath:
    """``preprocess/ic_fields/{modality}/P-{plate}_W-{well}[_C-{cycle}]__ic_field.tiff``."""
    _check(modality)
    name = file_name(plate, well, "ic_field", "tiff", cycle=cycle)
    return PurePosixPath("preprocess", "ic_fields", modality, name)


def metadata_path(modality: str, plate: str, well: str) -> PurePosixPath:
    """``preprocess/metadata/{modality}/P-{plate}_W-{well}__combined_metadata.parquet``."""
    _check(modality)
    name = file_name(plate, well, "combined_metadata", "parquet")
    return PurePosixPath("preprocess", "metadata", modality, name)

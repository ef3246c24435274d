"""ExportOptions: one validated value for every export option, defaults written once."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from opsflow.errors import OpsflowError
from opsflow.io import COMPRESSIONS, NGFF_VERSIONS, ExportOptions


def test_defaults() -> None:
    options = ExportOptions()
    assert options.chunk_shape == (1, 512, 512)
    assert options.coarsening_factor == 2
    assert options.max_levels is None
    assert options.ngff_version == "0.5"
    assert options.compression == "zstd"
    assert options.compression_level == 1


def test_every_field_has_one_sentence_of_help() -> None:
    for f in dataclasses.fields(ExportOptions):
        text = f.metadata["help"]
        assert text.endswith(".") and "\n" not in text, f.name


def test_frozen_and_keyword_only() -> None:
    options = ExportOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.coarsening_factor = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        ExportOptions((1, 64, 64))  # type: ignore[misc]


def test_values_are_normalised_to_plain_ints() -> None:
    options = ExportOptions(
        chunk_shape=[np.int64(1), 64, 64],  # type: ignore[arg-type]
        coarsening_factor=np.int32(3),  # type: ignore[arg-type]
        max_levels=np.uint8(4),  # type: ignore[arg-type]
    )
    assert options.chunk_shape == (1, 64, 64)
    assert all(type(c) is int for c in options.chunk_shape)
    assert type(options.coarsening_factor) is int and type(options.max_levels) is int
    assert options == ExportOptions(chunk_shape=(1, 64, 64), coarsening_factor=3, max_levels=4)
    assert hash(options) == hash(
        ExportOptions(chunk_shape=(1, 64, 64), coarsening_factor=3, max_levels=4)
    )


@pytest.mark.parametrize("ngff_version", NGFF_VERSIONS)
@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_every_listed_choice_is_accepted(ngff_version: str, compression: str) -> None:
    ExportOptions(ngff_version=ngff_version, compression=compression)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"chunk_shape": (1, 0, 512)}, "chunk_shape must be a sequence of positive integers, "),
        ({"chunk_shape": (1, 64.0, 64)}, "chunk_shape must be a sequence of positive integers"),
        ({"chunk_shape": 512}, "chunk_shape must be a sequence of positive integers, found 512."),
        ({"chunk_shape": "1,512,512"}, "chunk_shape must be a sequence of positive integers"),
        ({"coarsening_factor": 1}, "coarsening_factor must be an integer >= 2, found 1."),
        ({"coarsening_factor": 2.5}, "coarsening_factor must be an integer >= 2, found 2.5."),
        ({"coarsening_factor": True}, "coarsening_factor must be an integer >= 2, found True."),
        ({"max_levels": 0}, "max_levels must be an integer >= 1 or None, found 0."),
        ({"ngff_version": "0.6"}, "ngff_version must be one of 0.4, 0.5, found '0.6'."),
        ({"ngff_version": 0.5}, "ngff_version must be one of 0.4, 0.5, found 0.5."),
        ({"compression": "brotli"}, "compression must be one of zstd, lz4, zlib, none, found"),
        ({"compression_level": 10}, "compression_level must be an integer from 0 to 9, found 10."),
        ({"compression_level": -1}, "compression_level must be an integer from 0 to 9, found -1."),
    ],
)
def test_bad_values_are_refused_naming_the_field(kwargs: dict, message: str) -> None:
    with pytest.raises(OpsflowError) as excinfo:
        ExportOptions(**kwargs)
    text = str(excinfo.value)
    assert text.startswith(message)
    assert "\n" not in text

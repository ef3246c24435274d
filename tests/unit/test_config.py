"""Configuration: one source of truth, clear errors, the schema Snakemake validates with."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from opsflow.config import AllSettings, Config, OmeZarrSettings, config_schema, load_config
from opsflow.errors import ConfigError
from opsflow.export import STAGES, channel_labels, default_stages, get_stage, stages_of
from opsflow.io import ExportOptions

SCHEMA_FILE = (
    Path(__file__).resolve().parents[2] / "src/opsflow/workflow/schemas/config.schema.json"
)


def test_committed_schema_matches_the_settings_classes() -> None:
    assert json.loads(SCHEMA_FILE.read_text()) == config_schema()


def test_synthetic_screen_config_is_valid_for_both_validators(small_screen) -> None:
    data = yaml.safe_load(Path(small_screen["config"]).read_text())
    jsonschema.validate(data, config_schema())
    config = load_config(data, base_dir=small_screen["root"])
    assert Path(config.sbs.library_path).is_file()
    assert Path(config.preprocess.sbs.samples_fp).is_file()
    assert config.sbs.channel_names == ("DAPI", "G", "T", "A", "C")


@pytest.mark.parametrize(
    ("data", "message", "schema_rejects"),
    [
        ({"sbs": {"peak_widht": 3}}, "sbs: unknown key peak_widht; valid keys are", True),
        (
            {"sbs": {"find_peaks": {"width": "3"}}},
            "sbs.find_peaks.width must be an integer, found '3'",
            True,
        ),
        ({"sbs": {"align_window": 0.3}}, "sbs.align_window has moved: set sbs.align.window", True),
        (
            {"preprocess": {"sbs_samples_fp": "x.tsv"}},
            "preprocess.sbs_samples_fp has moved: set preprocess.sbs.samples_fp instead.",
            True,
        ),
        ({"phenotype": {"align": False}}, "set phenotype.align.enabled: false instead", True),
        (
            {"preprocess": {"sbs": {"n_z_planes": 0}}},
            "preprocess.sbs: n_z_planes must be >= 1",
            False,
        ),
        ({"all": {"omezarr_export_default": "yes"}}, "must be true or false", True),
        ({"all": {"omezarr_ngff_version": "0.3"}}, "must be one of 0.4, 0.5", True),
        ({"sbs": {"omezarr_chunk_shape": [1, 512]}}, "list of 3 integer", True),
        ({"bogus": {}}, "unknown key bogus", True),
        # Names are checked in code only: the schema cannot know the registry.
        (
            {"sbs": {"omezarr_stages": ["align"]}},
            "unknown stage 'align'; valid stages of sbs",
            False,
        ),
        ({"phenotype": {"omezarr_stages": ["align_sbs"]}}, "valid stages of phenotype are", False),
        ({"all": {"modules": ["sbs", "aggregates"]}}, "unknown module 'aggregates'", False),
        ({"aggregate": {"montage_channels": ["GFP"]}}, "['GFP'] are not among", False),
        ({"aggregate": {"hit_q": 1.5}}, "aggregate.hit_q must lie in (0, 1)", False),
    ],
)
def test_bad_configuration_is_one_clear_sentence(data, message, schema_rejects) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_config(data)
    text = str(excinfo.value)
    assert message in text
    assert "\n" not in text
    if schema_rejects:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(data, config_schema())


def test_export_switches_follow_default_and_overrides() -> None:
    off = load_config({})
    assert all(off.export_stages(m) == () for m in ("preprocess", "sbs", "phenotype"))
    assert off.chosen_stages("sbs") == default_stages("sbs")
    on = load_config(
        {
            "all": {"omezarr_export_default": True},
            "phenotype": {"omezarr_export": False},
            "sbs": {"omezarr_stages": ["find_peaks"]},
        }
    )
    assert on.export_stages("sbs") == ("find_peaks",)
    assert on.export_stages("phenotype") == ()
    assert on.export_stages("preprocess") == default_stages("preprocess")
    only_sbs = load_config({"all": {"omezarr_export_default": True, "modules": ["sbs"]}})
    assert only_sbs.export_stages("phenotype") == ()


def test_registry_names_the_plan_stages_and_channels() -> None:
    assert [s.name for s in stages_of("sbs")] == [
        "align_sbs",
        "apply_ic_field_sbs",
        "segment_sbs",
        "log_filter",
        "compute_standard_deviation",
        "find_peaks",
        "max_filter",
    ]
    assert {s.rule for s in STAGES} >= {
        "export_align_sbs_omezarr",
        "export_segment_phenotype_omezarr",
    }
    assert dict(get_stage("segment_phenotype").labels) == {
        "nuclei": "segment_phenotype_nuclei",
        "cells": "segment_phenotype_cells",
    }
    assert channel_labels(
        get_stage("max_filter"), 4, channel_names="DGTAC", base_channels="GTAC"
    ) == list("GTAC")
    assert channel_labels(get_stage("calculate_ic_sbs"), 2, channel_names=["DAPI", "G"]) == [
        "IC field DAPI",
        "IC field G",
    ]
    with pytest.raises(ConfigError, match="has 3 channels but the configuration names 5"):
        channel_labels(get_stage("align_sbs"), 3, channel_names="DGTAC")
    with pytest.raises(ConfigError, match="valid stages are"):
        get_stage("segment")


def test_partial_section_keeps_that_sections_own_defaults() -> None:
    """Setting one segmentation key of phenotype keeps phenotype's (not SBS's) defaults."""
    default = load_config({})
    config = load_config({"phenotype": {"segmentation": {"nuclei_min_area": 123}}})
    expected = dataclasses.replace(default.phenotype.segmentation, nuclei_min_area=123)
    assert config.phenotype.segmentation == expected
    assert config.phenotype.segmentation != dataclasses.replace(
        default.sbs.segmentation, nuclei_min_area=123
    )
    assert config.sbs == default.sbs


# --- OME-Zarr export options: ExportOptions is the one source of their defaults -------

_EXPORT_KEYS = {
    "omezarr_chunk_shape": "chunk_shape",
    "omezarr_coarsening_factor": "coarsening_factor",
    "omezarr_max_levels": "max_levels",
    "omezarr_compression": "compression",
    "omezarr_compression_level": "compression_level",
}


def test_omezarr_defaults_and_help_are_those_of_export_options() -> None:
    options = {f.name: f for f in dataclasses.fields(ExportOptions)}
    settings = {f.name: f for f in dataclasses.fields(OmeZarrSettings)}
    config = load_config({})
    for key, option in _EXPORT_KEYS.items():
        assert settings[key].metadata["help"] == options[option].metadata["help"]
        for module in ("preprocess", "sbs", "phenotype"):
            assert getattr(config.section(module), key) == getattr(ExportOptions(), option)
    ngff = next(f for f in dataclasses.fields(AllSettings) if f.name == "omezarr_ngff_version")
    assert ngff.metadata["help"] == options["ngff_version"].metadata["help"]
    assert config.all.omezarr_ngff_version == ExportOptions().ngff_version


def test_export_options_follow_the_configuration() -> None:
    assert Config().export_options("sbs") == ExportOptions()
    config = load_config(
        {
            "all": {"omezarr_ngff_version": "0.4"},
            "sbs": {"omezarr_chunk_shape": [1, 256, 256], "omezarr_max_levels": 3},
            "phenotype": {"omezarr_coarsening_factor": 3, "omezarr_compression_level": 5},
            "preprocess": {"omezarr_compression": "lz4"},
        }
    )
    assert config.export_options("sbs") == ExportOptions(
        chunk_shape=(1, 256, 256), max_levels=3, ngff_version="0.4"
    )
    assert config.export_options("phenotype") == ExportOptions(
        coarsening_factor=3, compression_level=5, ngff_version="0.4"
    )
    assert config.export_options("preprocess") == ExportOptions(
        compression="lz4", ngff_version="0.4"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"sbs": {"omezarr_coarsening_factor": 1}},
            "sbs.omezarr_coarsening_factor: coarsening_factor must be an integer >= 2, found 1.",
        ),
        (
            {"phenotype": {"omezarr_max_levels": 0}},
            "phenotype.omezarr_max_levels: max_levels must be an integer >= 1",
        ),
        (
            {"preprocess": {"omezarr_chunk_shape": [1, 0, 512]}},
            "preprocess.omezarr_chunk_shape: chunk_shape must be a sequence of positive integers",
        ),
        (
            {"sbs": {"omezarr_compression_level": 12}},
            "sbs.omezarr_compression_level: compression_level must be an integer from 0 to 9, "
            "found 12.",
        ),
    ],
)
def test_bad_export_option_names_its_key(data, message) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_config(data)
    assert str(excinfo.value).startswith(message)
    assert "\n" not in str(excinfo.value)


def test_every_moved_key_names_a_real_key_and_fails_with_it() -> None:
    from opsflow.config._moved import MOVED

    defaults = Config()
    for section, moved in MOVED.items():
        for old, new in moved.items():
            value = defaults.section(section)
            for part in new.split("."):
                value = getattr(value, part)  # the new key exists, with this default
            nested: dict = {}
            *parents, leaf = new.split(".")
            target = nested
            for part in parents:
                target = target.setdefault(part, {})
            target[leaf] = _jsonable(value)
            load_config({section: nested})  # the new key is accepted
            with pytest.raises(ConfigError, match=f"set {section}.{new} instead"):
                load_config({section: {old: _jsonable(value)}})


def _jsonable(value):
    if dataclasses.is_dataclass(value):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value

"""The Snakemake workflow and its configuration-driven OME-Zarr export layer, end to end.

One small synthetic screen (one well, two tiles with cells plus the empty tile, nine
cycles) runs through ``opsflow run`` twice: once with every stage of the registry
exported (``ON_ROOT``), once with the synthetic screen's own configuration, where exports
are off by default (``OFF_ROOT``). The expectations come from the configuration, the
TIFF checkpoints, the metadata tables and the synthetic ground truth: file names, axes,
channel names and pyramid depths are written out here, not taken from the exporter.
"""

from __future__ import annotations

import hashlib
import math
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pytest
import tifffile
import yaml
import zarr
from ome_zarr.io import parse_url
from ome_zarr.reader import Reader

from opsflow.cli import main
from opsflow.config import load_config
from opsflow.export import STAGES
from opsflow.io import validate_store
from opsflow.report import REPORT_NAME
from opsflow.synth import SynthParams, write_screen

PARAMS = SynthParams(seed=0, wells=("A1",), tiles_per_well=2, n_cycles=9, sbs_tile_shape=(256, 256))
WELL = "A1"
TILES = tuple(range(PARAMS.tiles_per_well + 1))  # the last one is the empty tile
CYCLES = tuple(range(1, PARAMS.n_cycles + 1))
ON_ROOT = "analysis_exports"
OFF_ROOT = "analysis"  # the synthetic screen's own config.yml

# Export settings of the run with every stage on: one module capped by max_levels, one
# with a cap it never reaches, one stopped only by the fits-in-one-chunk rule.
EXPORT_SETTINGS: dict[str, dict[str, Any]] = {
    "preprocess": {"omezarr_chunk_shape": [1, 64, 64], "omezarr_max_levels": 10},
    "sbs": {"omezarr_chunk_shape": [1, 64, 64], "omezarr_max_levels": 2},
    "phenotype": {"omezarr_chunk_shape": [2, 128, 128], "omezarr_max_levels": None},
}
# Pyramid depth per (module, modality) for 256^2 SBS and 512^2 phenotype tiles:
# preprocess/SBS 256 -> 128 -> 64 (fits a 64^2 chunk); preprocess/phenotype 512 -> ... -> 64;
# sbs capped at 2 levels; phenotype 512 -> 256 -> 128 (fits a 128^2 chunk).
EXPECTED_LEVELS = {
    ("preprocess", "sbs"): 3,
    ("preprocess", "phenotype"): 4,
    ("sbs", "sbs"): 2,
    ("phenotype", "phenotype"): 3,
}


class Expect(NamedTuple):
    """What one stage's stores must be: source TIFF, store path, axes, channels, masks."""

    module: str
    modality: str
    per: str  # tile, well_cycle or well: one store per source image
    tiff: str  # relative to the output root, {stem} filled in
    store: str
    axes: str  # axes of the store (2-D TIFFs get a channel axis)
    channels: str  # sbs, phenotype, bases, ic_sbs, ic_phenotype, or a literal label
    labels: tuple[tuple[str, str], ...] = ()


EXPECTED: dict[str, Expect] = {
    "convert_sbs": Expect(
        "preprocess",
        "sbs",
        "tile",
        "preprocess/images/sbs/{stem}__image.tiff",
        "preprocess/omezarr/sbs/{stem}__image.ome.zarr",
        "tcyx",
        "sbs",
    ),
    "convert_phenotype": Expect(
        "preprocess",
        "phenotype",
        "tile",
        "preprocess/images/phenotype/{stem}__image.tiff",
        "preprocess/omezarr/phenotype/{stem}__image.ome.zarr",
        "cyx",
        "phenotype",
    ),
    "calculate_ic_sbs": Expect(
        "preprocess",
        "sbs",
        "well_cycle",
        "preprocess/ic_fields/sbs/{stem}__ic_field.tiff",
        "preprocess/omezarr/ic_fields/sbs/{stem}__ic_field.ome.zarr",
        "cyx",
        "ic_sbs",
    ),
    "calculate_ic_phenotype": Expect(
        "preprocess",
        "phenotype",
        "well",
        "preprocess/ic_fields/phenotype/{stem}__ic_field.tiff",
        "preprocess/omezarr/ic_fields/phenotype/{stem}__ic_field.ome.zarr",
        "cyx",
        "ic_phenotype",
    ),
    "align_sbs": Expect(
        "sbs",
        "sbs",
        "tile",
        "sbs/images/{stem}__aligned.tiff",
        "sbs/omezarr/aligned/{stem}__aligned.ome.zarr",
        "tcyx",
        "sbs",
    ),
    "apply_ic_field_sbs": Expect(
        "sbs",
        "sbs",
        "tile",
        "sbs/images/{stem}__illumination_corrected.tiff",
        "sbs/omezarr/illumination_corrected/{stem}__illumination_corrected.ome.zarr",
        "cyx",
        "sbs",
    ),
    "segment_sbs": Expect(
        "sbs",
        "sbs",
        "tile",
        "sbs/images/{stem}__illumination_corrected.tiff",
        "sbs/omezarr/segmentation/{stem}__segmentation.ome.zarr",
        "cyx",
        "sbs",
        (("nuclei", "sbs/images/{stem}__nuclei.tiff"), ("cells", "sbs/images/{stem}__cells.tiff")),
    ),
    "log_filter": Expect(
        "sbs",
        "sbs",
        "tile",
        "sbs/images/{stem}__log_filtered.tiff",
        "sbs/omezarr/log_filtered/{stem}__log_filtered.ome.zarr",
        "tcyx",
        "sbs",
    ),
    "compute_standard_deviation": Expect(
        "sbs",
        "sbs",
        "tile",
        "sbs/images/{stem}__standard_deviation.tiff",
        "sbs/omezarr/standard_deviation/{stem}__standard_deviation.ome.zarr",
        "cyx",
        "standard deviation",
    ),
    "find_peaks": Expect(
        "sbs",
        "sbs",
        "tile",
        "sbs/images/{stem}__peaks.tiff",
        "sbs/omezarr/peaks/{stem}__peaks.ome.zarr",
        "cyx",
        "peaks",
    ),
    "max_filter": Expect(
        "sbs",
        "sbs",
        "tile",
        "sbs/images/{stem}__max_filtered.tiff",
        "sbs/omezarr/max_filtered/{stem}__max_filtered.ome.zarr",
        "tcyx",
        "bases",
    ),
    "apply_ic_field_phenotype": Expect(
        "phenotype",
        "phenotype",
        "tile",
        "phenotype/images/{stem}__illumination_corrected.tiff",
        "phenotype/omezarr/illumination_corrected/{stem}__illumination_corrected.ome.zarr",
        "cyx",
        "phenotype",
    ),
    "align_phenotype": Expect(
        "phenotype",
        "phenotype",
        "tile",
        "phenotype/images/{stem}__aligned.tiff",
        "phenotype/omezarr/aligned/{stem}__aligned.ome.zarr",
        "cyx",
        "phenotype",
    ),
    "segment_phenotype": Expect(
        "phenotype",
        "phenotype",
        "tile",
        "phenotype/images/{stem}__aligned.tiff",
        "phenotype/omezarr/segmentation/{stem}__segmentation.ome.zarr",
        "cyx",
        "phenotype",
        (
            ("nuclei", "phenotype/images/{stem}__nuclei.tiff"),
            ("cells", "phenotype/images/{stem}__cells.tiff"),
        ),
    ),
    "identify_cytoplasm": Expect(
        "phenotype",
        "phenotype",
        "tile",
        "phenotype/images/{stem}__aligned.tiff",
        "phenotype/omezarr/cytoplasm/{stem}__identified_cytoplasms.ome.zarr",
        "cyx",
        "phenotype",
        (("cytoplasm", "phenotype/images/{stem}__identified_cytoplasms.tiff"),),
    ),
}


# ---------------------------------------------------------------------------- helpers


def _stems(per: str) -> list[tuple[str, int | None]]:
    """(file stem, tile or None) of every source image of a stage."""
    well = f"P-{PARAMS.plate}_W-{WELL}"
    if per == "tile":
        return [(f"{well}_T-{t}", t) for t in TILES]
    if per == "well_cycle":
        return [(f"{well}_C-{c}", None) for c in CYCLES]
    assert per == "well"
    return [(well, None)]


def _expected_stores(root: Path) -> dict[Path, tuple[str, str, int | None]]:
    """Every store of the all-exports run: path -> (stage, stem, tile)."""
    return {
        root / exp.store.format(stem=stem): (name, stem, tile)
        for name, exp in EXPECTED.items()
        for stem, tile in _stems(exp.per)
    }


def _channel_names(kind: str, config: dict[str, Any]) -> list[str]:
    sbs, phenotype = config["sbs"]["channel_names"], config["phenotype"]["channel_names"]
    return {
        "sbs": list(sbs),
        "phenotype": list(phenotype),
        "bases": list(config["sbs"]["base_channels"]),
        "ic_sbs": [f"IC field {c}" for c in sbs],
        "ic_phenotype": [f"IC field {c}" for c in phenotype],
    }.get(kind, [kind])


def _opsflow_run(config: Path, *args: str, quiet: bool = True) -> subprocess.CompletedProcess[str]:
    """``opsflow run --configfile CONFIG ARGS [-q]`` in a subprocess; output captured."""
    quiet_args = ["-q"] if quiet else []
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "opsflow.cli",
            "run",
            "--configfile",
            str(config),
            *args,
            *quiet_args,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _tail(proc: subprocess.CompletedProcess[str], n: int = 40) -> str:
    return "\n".join((proc.stdout + proc.stderr).splitlines()[-n:])


def _write_config(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _files(root: Path, skip: Callable[[Path], bool] = lambda rel: False) -> list[Path]:
    return sorted(
        p.relative_to(root)
        for p in root.rglob("*")
        if p.is_file() and not skip(p.relative_to(root))
    )


def _not_export_or_bookkeeping(rel: Path) -> bool:
    # the QC report shows the stores: it differs with exports on, and is rebuilt with them
    return "omezarr" in rel.parts or rel.parts[0] in ("logs", ".snakemake", REPORT_NAME)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _mtimes(root: Path) -> dict[Path, int]:
    """mtime (ns) of every file under ``root`` except logs and the QC report of the run."""
    return {
        rel: (root / rel).stat().st_mtime_ns
        for rel in _files(root, lambda rel: rel.parts[0] in ("logs", REPORT_NAME))
    }


def _as_store_axes(tiff: np.ndarray, axes: str) -> np.ndarray:
    """A TIFF's array with the store's axes: 2-D (YX) images gain a channel axis."""
    if tiff.ndim == 2 and axes == "cyx":
        return tiff[np.newaxis]
    return tiff


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def screen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_screen(tmp_path_factory.mktemp("workflow_screen"), PARAMS, workers=2)


@pytest.fixture(scope="module")
def base_config(screen: dict[str, Path]) -> dict[str, Any]:
    """The synthetic screen's configuration as written by ``write_screen``."""
    return yaml.safe_load(screen["config"].read_text())


@pytest.fixture(scope="module")
def exports_config(screen: dict[str, Path], base_config: dict[str, Any]) -> Path:
    """The screen's config with every stage of every module exported (own root)."""
    data = yaml.safe_load(yaml.safe_dump(base_config))
    data["all"]["root_fp"] = ON_ROOT
    data["all"]["omezarr_export_default"] = True
    data["all"]["omezarr_layout"] = "tiles"  # one store per tile; plates: test_workflow_plate
    for module, settings in EXPORT_SETTINGS.items():
        data[module]["omezarr_stages"] = [s.name for s in STAGES if s.module == module]
        data[module].update(settings)
    return _write_config(screen["root"] / "exports.yml", data)


@pytest.fixture(scope="module")
def exports_run(screen: dict[str, Path], exports_config: Path) -> Path:
    """Output root of a complete run with every export on."""
    proc = _opsflow_run(exports_config)
    assert proc.returncode == 0, _tail(proc)
    return screen["root"] / ON_ROOT


@pytest.fixture(scope="module")
def default_run(screen: dict[str, Path], exports_run: Path) -> Path:
    """Output root of a complete run with the screen's own (exports off) configuration.

    Runs after ``exports_run``: both use the screen directory as working directory.
    """
    proc = _opsflow_run(screen["config"])
    assert proc.returncode == 0, _tail(proc)
    return screen["root"] / OFF_ROOT


# ---------------------------------------------------------------------------- 1. exports on


def test_expectations_cover_every_registry_stage():
    assert set(EXPECTED) == {s.name for s in STAGES}
    for stage in STAGES:
        assert (EXPECTED[stage.name].module, EXPECTED[stage.name].modality) == (
            stage.module,
            stage.modality,
        )


def test_every_expected_store_and_no_other(exports_run: Path):
    expected = _expected_stores(exports_run)
    found = {p for p in exports_run.rglob("*.ome.zarr") if p.is_dir()}
    # 3 SBS tiles (a stack of cycles each), 3 phenotype tiles, 9 + 1 IC fields; 7 SBS and
    # 4 phenotype stages on 3 tiles each
    assert len(expected) == 3 + 3 + 9 + 1 + 7 * 3 + 4 * 3 == 49
    assert found == set(expected)
    # nothing half-written or moved aside next to a store
    leftovers = [
        p for p in exports_run.rglob(".*.ome.zarr*") if ".tmp-" in p.name or ".old-" in p.name
    ]
    assert leftovers == []


def test_every_store_validates(exports_run: Path):
    problems = {
        str(store.relative_to(exports_run)): validate_store(store)
        for store in _expected_stores(exports_run)
    }
    assert {k: v for k, v in problems.items() if v} == {}


def _pixel_size(root: Path, modality: str, tile: int | None) -> float:
    """Pixel size of a tile (well median for well-level images) from the metadata parquet."""
    table = pd.read_parquet(
        root
        / "preprocess"
        / "metadata"
        / modality
        / f"P-{PARAMS.plate}_W-{WELL}__combined_metadata.parquet"
    )
    if tile is not None:
        table = table[table["tile"] == tile]
    assert len(table) > 0
    y = table["pixel_size_y"].median()
    x = table["pixel_size_x"].median()
    assert y == x
    return float(y)


@pytest.mark.parametrize("stage", list(EXPECTED))
def test_store_contents_follow_tiffs_and_config(
    stage: str, exports_run: Path, base_config: dict[str, Any]
):
    exp = EXPECTED[stage]
    channels = _channel_names(exp.channels, base_config)
    settings = EXPORT_SETTINGS[exp.module]
    n_levels = EXPECTED_LEVELS[(exp.module, exp.modality)]
    true_pixel = {
        "sbs": PARAMS.sbs_pixel_size_um,
        "phenotype": PARAMS.sbs_pixel_size_um / PARAMS.phenotype_scale,
    }[exp.modality]
    for stem, tile in _stems(exp.per):
        store = exports_run / exp.store.format(stem=stem)
        group = zarr.open_group(store, mode="r")
        ome = group.attrs["ome"]
        assert ome["version"] == "0.5"
        (ms,) = ome["multiscales"]
        assert [a["name"] for a in ms["axes"]] == list(exp.axes)

        # level 0 is the TIFF exactly
        tiff = _as_store_axes(tifffile.imread(exports_run / exp.tiff.format(stem=stem)), exp.axes)
        level0 = group["0"]
        assert level0.dtype == tiff.dtype
        np.testing.assert_array_equal(level0[...], tiff)
        assert level0.metadata.dimension_names == tuple(exp.axes)
        chunk_cyx = [
            min(c, n) for c, n in zip(settings["omezarr_chunk_shape"], tiff.shape[-3:], strict=True)
        ]
        assert list(level0.chunks) == [1] * (tiff.ndim - 3) + chunk_cyx
        if exp.axes == "tcyx":
            assert tiff.shape[0] == PARAMS.n_cycles

        # channel names from the config, seen by an independent reader (ome-zarr-py)
        assert [c["label"] for c in ome["omero"]["channels"]] == channels
        assert tiff.shape[exp.axes.index("c")] == len(channels)
        image_node = next(iter(Reader(parse_url(store))()))
        assert image_node.metadata["channel_names"] == channels
        assert len(image_node.data) == n_levels

        # pyramid depth, level shapes and physical scale per level
        assert [d["path"] for d in ms["datasets"]] == [str(k) for k in range(n_levels)]
        pixel = _pixel_size(exports_run, exp.modality, tile)
        assert pixel == pytest.approx(true_pixel)
        for k, dataset in enumerate(ms["datasets"]):
            shape = group[str(k)].shape
            expected_shape = (*tiff.shape[:-2], *(math.ceil(n / 2**k) for n in tiff.shape[-2:]))
            assert shape == expected_shape
            transforms = {t["type"]: t for t in dataset["coordinateTransformations"]}
            spatial = pixel * 2**k
            assert transforms["scale"]["scale"] == pytest.approx(
                [1.0] * (len(exp.axes) - 2) + [spatial, spatial]
            )
            if k:
                shift = pixel * (2**k - 1) / 2
                assert transforms["translation"]["translation"] == pytest.approx(
                    [0.0] * (len(exp.axes) - 2) + [shift, shift]
                )

        # label images are the mask TIFFs exactly, integer, one per mask, same depth
        expected_labels = [name for name, _ in exp.labels]
        if not expected_labels:
            assert "labels" not in group
            continue
        assert group["labels"].attrs["ome"]["labels"] == expected_labels
        for name, mask_pattern in exp.labels:
            mask = tifffile.imread(exports_run / mask_pattern.format(stem=stem))
            label = zarr.open_group(store / "labels" / name, mode="r")
            lab0 = np.asarray(label["0"][...])
            assert lab0.dtype.kind in "iu" and mask.dtype.kind in "iu"
            assert lab0.shape == (1, *mask.shape)
            np.testing.assert_array_equal(lab0[0], mask)
            lms = label.attrs["ome"]["multiscales"][0]
            assert len(lms["datasets"]) == n_levels
            present = set(np.unique(lab0).tolist())
            for k in range(1, n_levels):
                assert set(np.unique(label[str(k)][...]).tolist()) <= present  # no new values
            colored = {c["label-value"] for c in label.attrs["ome"]["image-label"]["colors"]}
            assert present <= colored
            assert "omero" not in label.attrs["ome"]


# ---------------------------------------------------------------------------- 2. exports off


def test_exports_off_writes_no_store_and_the_same_files(default_run: Path, exports_run: Path):
    assert [p for p in default_run.rglob("*") if p.name.endswith(".ome.zarr")] == []
    assert [p for p in default_run.rglob("omezarr")] == []

    off = _files(default_run, _not_export_or_bookkeeping)
    on = _files(exports_run, _not_export_or_bookkeeping)
    assert off == on
    suffixes = {p.suffix for p in off}
    assert {".tiff", ".tsv", ".parquet"} <= suffixes
    different = [
        str(rel) for rel in off if _sha256(default_run / rel) != _sha256(exports_run / rel)
    ]
    assert different == []


def _job_stats(output: str) -> dict[str, int]:
    """The first "Job stats" table of a snakemake run: rule -> job count."""
    lines = output.splitlines()
    start = lines.index("Job stats:") + 3  # title, header, rule
    stats = {}
    for line in lines[start:]:
        if not line.strip():
            break
        rule, count = line.split()
        stats[rule] = int(count)
    return stats


def test_explicit_omezarr_targets_export_the_default_stages_when_exports_are_off(
    default_run: Path, screen: dict[str, Path]
):
    targets = ["all_preprocess_omezarr", "all_sbs_omezarr", "all_phenotype_omezarr"]
    proc = _opsflow_run(screen["config"], *targets, "-n", quiet=False)
    assert proc.returncode == 0, _tail(proc)
    n_tiles = len(TILES)
    defaults = [s.name for s in STAGES if s.default]
    assert _job_stats(proc.stdout + proc.stderr) == {
        # the plan's high-value stages, a field per tile and one plate (the screen's own
        # config has the default layout); nothing upstream reruns
        **{f"plate_{name}_omezarr": 1 for name in defaults},
        "export_convert_sbs_omezarr": n_tiles,  # one store of every cycle per tile
        "export_convert_phenotype_omezarr": n_tiles,
        "export_align_sbs_omezarr": n_tiles,
        "export_apply_ic_field_sbs_omezarr": n_tiles,
        "export_segment_sbs_omezarr": n_tiles,
        "export_apply_ic_field_phenotype_omezarr": n_tiles,
        "export_align_phenotype_omezarr": n_tiles,
        "export_segment_phenotype_omezarr": n_tiles,
        "export_identify_cytoplasm_omezarr": n_tiles,
        **dict.fromkeys(targets, 1),
        "total": 9 * n_tiles + 3 + len(defaults),
    }
    assert [p for p in default_run.rglob("*") if p.name.endswith(".ome.zarr")] == []


# ---------------------------------------------------------------------------- 3. bad config


@pytest.mark.parametrize(
    ("section", "key", "value", "must_say"),
    [
        (
            "sbs",
            "omezarr_stages",
            ["align_sbs", "aligned_sbs"],
            ["sbs.omezarr_stages", "'aligned_sbs'", "align_sbs, apply_ic_field_sbs", "max_filter"],
        ),
        ("sbs", "find_peaks", {"width": "x"}, ["sbs.find_peaks.width", "integer", "'x'"]),
        (
            "phenotype",
            "omezarr_max_level",
            2,
            ["phenotype", "omezarr_max_level", "omezarr_max_levels", "channel_names"],
        ),
    ],
    ids=["unknown-stage", "wrong-type", "unknown-key"],
)
def test_bad_config_fails_before_any_job(
    section: str,
    key: str,
    value: Any,
    must_say: list[str],
    screen: dict[str, Path],
    base_config: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
):
    data = yaml.safe_load(yaml.safe_dump(base_config))
    for inputs in (data["preprocess"]["sbs"], data["preprocess"]["phenotype"]):
        inputs["samples_fp"] = str(screen["root"] / inputs["samples_fp"])
    data["sbs"]["library_path"] = str(screen["root"] / data["sbs"]["library_path"])
    load_config(data, base_dir=tmp_path)  # valid before the one change below
    data[section][key] = value
    config = _write_config(tmp_path / "bad.yml", data)

    code = main(["run", "--configfile", str(config), "-q"])

    assert code == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    for text in must_say:
        assert text in lines[0]
    # no job ran: nothing but the config file in its directory (no root, no .snakemake)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yml"]


# ---------------------------------------------------------------------------- 4. reruns


def test_second_run_does_nothing(exports_run: Path, exports_config: Path):
    before = _mtimes(exports_run)
    proc = _opsflow_run(exports_config)
    assert proc.returncode == 0, _tail(proc)
    assert "Nothing to be done" in proc.stdout + proc.stderr
    assert _mtimes(exports_run) == before


def test_deleted_store_is_rebuilt_by_its_tiles_export_job_alone(
    exports_run: Path, exports_config: Path
):
    stem = f"P-{PARAMS.plate}_W-{WELL}_T-1"
    store = exports_run / EXPECTED["segment_sbs"].store.format(stem=stem)
    rel_store = store.relative_to(exports_run)
    before = _mtimes(exports_run)
    assert any(rel.is_relative_to(rel_store) for rel in before)
    shutil.rmtree(store)

    proc = _opsflow_run(exports_config)

    assert proc.returncode == 0, _tail(proc)
    after = _mtimes(exports_run)

    # one export job writes the SBS stores of tile 1 (aligned, corrected, segmentation,
    # ...): those may be rewritten; no compute job reran, no other tile was touched
    def same_job(rel: Path) -> bool:
        return rel.parts[:2] == ("sbs", "omezarr") and rel.parts[3].startswith(f"{stem}__")

    assert {k: v for k, v in after.items() if not same_job(k)} == {
        k: v for k, v in before.items() if not same_job(k)
    }
    rebuilt = {k: v for k, v in after.items() if k.is_relative_to(rel_store)}
    assert rebuilt and all(v > max(before.values()) for v in rebuilt.values())
    assert validate_store(store) == []
    mask = tifffile.imread(exports_run / "sbs" / "images" / f"{stem}__cells.tiff")
    np.testing.assert_array_equal(zarr.open_group(store, mode="r")["labels/cells/0"][0], mask)


# ---------------------------------------------------------------------------- 5. failed export


def test_failed_export_leaves_no_half_store_and_keeps_the_old_one(
    screen: dict[str, Path], exports_run: Path, tmp_path: Path
):
    # a copy of the screen with the finished run, so corrupting a checkpoint here does
    # not disturb the other tests (mtimes are kept, so nothing upstream is stale)
    copy = tmp_path / "screen"
    top = screen["root"]
    shutil.copytree(
        top,
        copy,
        ignore=lambda d, names: [
            n for n in names if Path(d) == top and n in (OFF_ROOT, ".snakemake")
        ],
    )
    config = copy / "exports.yml"
    root = copy / ON_ROOT
    stem = f"P-{PARAMS.plate}_W-{WELL}_T-0"
    store = root / EXPECTED["align_phenotype"].store.format(stem=stem)
    siblings_before = sorted(p.name for p in store.parent.iterdir())
    assert len(siblings_before) == len(TILES)
    good = {rel: _sha256(store / rel) for rel in _files(store)}
    tiff = root / EXPECTED["align_phenotype"].tiff.format(stem=stem)
    data = tiff.read_bytes()
    tiff.write_bytes(data[: len(data) // 2])  # truncated: the export of this tile must fail

    # an earlier good store survives the failing rebuild, byte for byte
    proc = _opsflow_run(config, str(store))
    assert proc.returncode != 0
    assert tiff.name in proc.stdout + proc.stderr
    assert sorted(p.name for p in store.parent.iterdir()) == siblings_before
    assert {rel: _sha256(store / rel) for rel in _files(store)} == good
    assert validate_store(store) == []

    # without an earlier store, a failed export leaves nothing under (or beside) its name
    shutil.rmtree(store)
    proc = _opsflow_run(config, str(store))
    assert proc.returncode != 0
    assert not store.exists()
    assert sorted(p.name for p in store.parent.iterdir()) == [
        n for n in siblings_before if n != store.name
    ]


# ---------------------------------------------------------------------------- 6. barcodes


def _iou_pairs(true: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """(2, n) label pairs (true, pred) with IoU >= 0.5; such a match is unique."""
    t, q = true.ravel().astype(np.int64), pred.ravel().astype(np.int64)
    both = (t > 0) & (q > 0)
    pairs, inter = np.unique(np.stack([t[both], q[both]]), axis=1, return_counts=True)
    union = np.bincount(t)[pairs[0]] + np.bincount(q)[pairs[1]] - inter
    return pairs[:, inter / union >= 0.5]


def test_barcodes_per_cell_match_the_truth(exports_run: Path, screen: dict[str, Path]):
    """Segmented cells matched to true cells (IoU >= 0.5), scored as in test_sbs_synth."""
    cells = pd.read_parquet(
        exports_run / "sbs" / "parquets" / f"P-{PARAMS.plate}_W-{WELL}__cells.parquet"
    )
    truth = pd.read_csv(
        screen["truth"] / "cell_barcodes.tsv",
        sep="\t",
        keep_default_na=False,
        dtype={"barcode_0": str, "barcode_1": str},
    )
    library = pd.read_csv(screen["library"], sep="\t")
    assert not (cells["tile"] == PARAMS.tiles_per_well).any()  # the empty tile has no cells

    scores = {"all": [0, 0, 0], "in_library": [0, 0, 0]}  # n, correct, wrong and mapped
    for tile in TILES[:-1]:
        stem = f"P-{PARAMS.plate}_W-{WELL}_T-{tile}"
        true_mask = tifffile.imread(screen["truth"] / "sbs" / f"{stem}__cells.tiff")
        pred_mask = tifffile.imread(exports_run / "sbs" / "images" / f"{stem}__cells.tiff")
        table = cells[cells["tile"] == tile].set_index("cell")
        true_bc = truth[truth["tile"] == tile].set_index("cell")
        for t, p in _iou_pairs(true_mask, pred_mask).T:
            b0, b1 = true_bc.loc[t, "barcode_0"], true_bc.loc[t, "barcode_1"]
            if not b0:
                continue
            groups = ["all"] + (["in_library"] if bool(true_bc.loc[t, "in_library_0"]) else [])
            for g in groups:
                scores[g][0] += 1
            if p not in table.index:
                continue
            call = table.loc[p, "cell_barcode_0"]
            wrong = call not in (b0, b1) and bool(table.loc[p, "cell_barcode_mapped_0"])
            for g in groups:
                scores[g][1] += call == b0
                scores[g][2] += wrong
    for group, (n, correct, wrong_mapped) in scores.items():
        assert n >= 50, (group, n)
        assert correct / n >= 0.95, (group, n, correct)
        assert wrong_mapped / n <= 0.02, (group, n, wrong_mapped)

    # genes come from the configured library
    mapped = cells[cells["cell_barcode_mapped_0"]]
    lookup = dict(
        zip(library["prefix"].str[: PARAMS.n_cycles], library["gene_symbol"], strict=True)
    )
    assert len(mapped) > 40
    assert (mapped["gene_symbol_0"] == mapped["cell_barcode_0"].map(lookup)).all()

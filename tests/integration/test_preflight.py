"""The preflight check: bad inputs are refused before any job, each problem named.

Every case starts from a copy of the small synthetic screen (its raw files shared, its
tables, library and config copied), makes one mistake a scientist could make, and runs
``opsflow check``; a few also go through ``opsflow run``. The expectation is written
here: exit code 2, the file or key named, and nothing written under the output root.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tifffile
import yaml

from opsflow.cli import main


class Screen:
    """A copy of the small screen whose tables, library and config a case may change."""

    def __init__(self, source: dict[str, Path], root: Path) -> None:
        self.dir = root
        self.config = yaml.safe_load(source["config"].read_text())
        self.sbs = self._samples(source["sbs_samples"], source["root"])
        self.phenotype = self._samples(source["phenotype_samples"], source["root"])
        self.library = pd.read_csv(source["library"], sep="\t")

    @staticmethod
    def _samples(path: Path, root: Path) -> pd.DataFrame:
        table = pd.read_csv(path, sep="\t", dtype=str)
        table["sample_fp"] = [str(root / p) for p in table["sample_fp"]]
        return table

    def raw_copy(self, row: int, name: str, data: np.ndarray | None = None, **kw: Any) -> Path:
        """Replace the raw file of SBS row ``row`` by a new file (default: a copy)."""
        path = self.dir / name
        if data is None:
            shutil.copy(self.sbs.loc[row, "sample_fp"], path)
        else:
            tifffile.imwrite(path, data, **kw)
        self.sbs.loc[row, "sample_fp"] = str(path)
        return path

    def first_raw(self) -> np.ndarray:
        return tifffile.imread(self.sbs.loc[0, "sample_fp"])

    def write(self, config_text: str | None = None) -> Path:
        pre = self.config["preprocess"]
        for modality, table in (("sbs", self.sbs), ("phenotype", self.phenotype)):
            path = self.dir / f"{modality}_samples.tsv"
            table.to_csv(path, sep="\t", index=False)
            pre[modality]["samples_fp"] = str(path)
        self.library.to_csv(self.dir / "library.tsv", sep="\t", index=False)
        self.config["sbs"]["library_path"] = str(self.dir / "library.tsv")
        self.config["all"]["root_fp"] = str(self.dir / "analysis")
        path = self.dir / "config.yml"
        path.write_text(config_text or yaml.safe_dump(self.config))
        return path


def _truncate(s: Screen) -> list[str]:
    path = s.raw_copy(5, "truncated.ome.tif")
    path.write_bytes(path.read_bytes()[:60_000])
    return [str(path), "ends early"]


def _plain_tiff_without_pixel_size(s: Screen) -> list[str]:
    path = s.raw_copy(3, "plain.tif", s.first_raw())
    s.config["preprocess"]["sbs"]["pixel_size_um"] = None
    return [str(path), "records no pixel size", "preprocess.sbs.pixel_size_um"]


def _drop_pixel_size(s: Screen) -> list[str]:
    s.config["preprocess"]["phenotype"]["pixel_size_um"] = None  # the files record none
    # every image has the same header but its path: each is named or counted, none lost
    images = s.phenotype.groupby(["plate", "well", "tile"]).ngroups
    assert images > 3
    return [s.phenotype.loc[0, "sample_fp"], "preprocess.phenotype.pixel_size_um",
            f"and {images - 3} more files: records no pixel size"]  # fmt: skip


def _float_file(s: Screen) -> list[str]:
    path = s.raw_copy(7, "float.tif", s.first_raw().astype(np.float32))
    return [str(path), "float32", "like the other sbs files"]


def _smaller_tile(s: Screen) -> list[str]:
    path = s.raw_copy(2, "small.tif", s.first_raw()[:, :160, :160])
    return [str(path), "160 x 160"]


def _duplicate_row(s: Screen) -> list[str]:
    s.sbs = pd.concat([s.sbs, s.sbs.iloc[[4]]], ignore_index=True)
    return ["sbs_samples.tsv", "is listed 2 times", "preprocess.sbs.samples_fp"]


def _missing_cycle(s: Screen) -> list[str]:
    rows = (s.sbs.well == "A1") & (s.sbs.tile == "1") & (s.sbs.cycle == "3")
    s.sbs = s.sbs[~rows]
    return ["sbs_samples.tsv", "tile 1 of plate 1 well A1 has no files for cycle 3"]


def _set(section: str, values: dict[str, Any], *must: str) -> Callable[[Screen], list[str]]:
    """Set keys of a config section (a mapping value updates that subsection)."""

    def case(s: Screen) -> list[str]:
        target = s.config.setdefault(section, {})
        for key, value in values.items():
            if isinstance(value, dict):
                target.setdefault(key, {}).update(value)
            else:
                target[key] = value
        return list(must)

    return case


def _library(change: Callable[[pd.DataFrame], pd.DataFrame], *must: str) -> Callable:
    def case(s: Screen) -> list[str]:
        s.library = change(s.library)
        return ["library.tsv", "sbs.library_path", *must]

    return case


def _missing_library(s: Screen) -> list[str]:
    s.write()
    (s.dir / "library.tsv").unlink()
    return ["library.tsv", "sbs.library_path"]


def _file_with(name: str, content: bytes, *must: str) -> Callable[[Screen], list[str]]:
    def case(s: Screen) -> list[str]:
        path = s.dir / name
        path.write_bytes(content)
        s.sbs.loc[6, "sample_fp"] = str(path)
        return [str(path), *must]

    return case


def _empty_samples(s: Screen) -> list[str]:
    s.phenotype = s.phenotype.iloc[:0]
    return ["phenotype_samples.tsv", "at least one sample row"]


def _two_mistakes(s: Screen) -> list[str]:
    s.config["preprocess"]["sbs"]["channel_order_flip"] = False
    s.library = s.library.drop(columns="gene_id")
    return ["2 input problems", "channel_order_flip: true", "'gene_id'"]


CASES: dict[str, Callable[[Screen], list[str]]] = {
    "channel-order-not-flipped": _set(
        "preprocess", {"sbs": {"channel_order_flip": False}}, "C, A, T, G, DAPI",
        "set preprocess.sbs.channel_order_flip: true",
    ),
    "channels-reordered": _set(
        "sbs", {"channel_names": ["DAPI", "T", "G", "A", "C"]}, "reorder sbs.channel_names"
    ),
    "too-few-channel-names": _set(
        "sbs", {"channel_names": ["DAPI", "G", "T", "A"], "base_channels": ["G", "T", "A"]},
        "expected 4 channels", "sbs.channel_names",
    ),
    "too-many-channel-names": _set(
        "sbs", {"channel_names": ["DAPI", "G", "T", "A", "C", "X"]}, "expected 6 channels"
    ),
    "phenotype-channel-count": _set(
        "phenotype",
        {"channel_names": ["DAPI", "COXIV", "CENPA"], "cyto_channels": ["COXIV"],
         "align": {"steps": [{"source": "CENPA", "target": "DAPI"}]}},
        "expected 3 channels", "phenotype.channel_names",
    ),
    "z-planes-do-not-divide": _set(
        "preprocess", {"sbs": {"n_z_planes": 2}}, "divisible by n_z_planes",
        "preprocess.sbs.n_z_planes",
    ),
    "truncated-raw-file": _truncate,
    "no-pixel-size-anywhere-sbs": _plain_tiff_without_pixel_size,
    "no-pixel-size-anywhere-phenotype": _drop_pixel_size,
    "float-raw-file": _float_file,
    "smaller-tile": _smaller_tile,
    "duplicated-sample-row": _duplicate_row,
    "missing-cycle": _missing_cycle,
    "empty-samples-table": _empty_samples,
    "library-without-prefix": _library(lambda t: t.drop(columns="prefix"), "'prefix'"),
    "library-prefix-too-short": _library(
        lambda t: t.assign(prefix=t.prefix.str[:3]), "at least 5 letters"
    ),
    "library-not-acgt": _library(
        lambda t: t.assign(prefix=t.prefix.str.replace("A", "U")), "A, C, G, T only"
    ),
    "library-missing": _missing_library,
    "not-a-raw-suffix": _file_with("tile.png", b"\x89PNG", "ending in .nd2, .tif or .tiff"),
    "corrupt-tiff": _file_with("corrupt.tif", b"II*\x00garbage", "readable raw image"),
    "two-mistakes-both-listed": _two_mistakes,
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_before_any_job(
    case: str, small_screen: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    screen = Screen(small_screen, tmp_path)
    must_say = CASES[case](screen)
    config = screen.write() if case != "library-missing" else tmp_path / "config.yml"

    code = main(["check", "--configfile", str(config)])

    err = capsys.readouterr().err
    assert code == 2, err
    for text in must_say:
        assert text in err, (text, err)
    assert err.startswith("opsflow check: error:"), err  # no traceback, no library log
    assert not (tmp_path / "analysis").exists()


def test_a_config_that_is_not_a_mapping_is_one_sentence(tmp_path: Path, capsys) -> None:
    config = tmp_path / "config.yml"
    config.write_text("- all\n- sbs\n")
    assert main(["check", "--configfile", str(config)]) == 2
    assert "expected a mapping of sections" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["channel-order-not-flipped", "truncated-raw-file"])
def test_run_refuses_before_snakemake_starts(
    case: str, small_screen: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    screen = Screen(small_screen, tmp_path)
    must_say = CASES[case](screen)
    code = main(["run", "--configfile", str(screen.write()), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and must_say[-1] in err, err
    assert not (tmp_path / "analysis").exists() and not (tmp_path / ".snakemake").exists()


def test_the_good_screen_passes(small_screen: dict[str, Path], tmp_path: Path, capsys) -> None:
    config = Screen(small_screen, tmp_path).write()
    assert main(["check", "--configfile", str(config)]) == 0
    out = capsys.readouterr().out
    assert "no problems" in out and "raw files of 16 tiles" in out


def test_headers_are_read_once_until_a_file_changes(
    small_screen: dict[str, Path], tmp_path: Path, capsys, monkeypatch
) -> None:
    from opsflow.steps import _preflight

    screen = Screen(small_screen, tmp_path)
    copy = screen.raw_copy(0, "own_copy.ome.tif")
    config = screen.write()
    read: list[str] = []
    original = _preflight.read_raw_header

    def counted(path):
        read.append(str(path))
        return original(path)

    monkeypatch.setattr(_preflight, "read_raw_header", counted)
    assert main(["check", "--configfile", str(config)]) == 0
    n_files = len(read)
    assert n_files == len(screen.sbs) + len(screen.phenotype)
    assert main(["check", "--configfile", str(config)]) == 0
    assert len(read) == n_files  # the second check read no header
    # a file that changes is read again, and what is wrong with it is found
    copy.write_bytes(copy.read_bytes()[: copy.stat().st_size // 2])
    assert main(["check", "--configfile", str(config)]) == 2
    assert read[n_files:] == [str(copy)]
    assert "own_copy.ome.tif" in capsys.readouterr().err

"""The opsflow command: exit codes, one-line errors, and what it writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from opsflow.cli import main
from opsflow.io import image_info, read_image, validate_store, write_tiff


@pytest.fixture
def stack_tiff(tmp_path: Path) -> Path:
    data = np.random.default_rng(0).integers(0, 3000, (3, 5, 150, 120)).astype(np.uint16)
    return write_tiff(tmp_path / "P-1_W-A1_T-0__aligned.tiff", data)


def test_export_validate_info(tmp_path: Path, stack_tiff: Path, capsys) -> None:
    mask = np.zeros((150, 120), np.uint16)
    mask[10:40, 10:40] = 1
    mask_tif = write_tiff(tmp_path / "nuclei.tiff", mask)
    out = tmp_path / "a.ome.zarr"
    code = main(
        [
            "export",
            str(stack_tiff),
            str(out),
            "--channel-labels",
            "DAPI,G,T,A,C",
            "--pixel-size",
            "0.65 0.65",
            "--chunk-shape",
            "1,64,64",
            "--max-levels",
            "2",
            "--label-image",
            f"nuclei={mask_tif}",
        ]
    )
    assert code == 0
    info = image_info(out)
    assert info.channel_labels == ("DAPI", "G", "T", "A", "C")
    assert info.pixel_size == {"y": 0.65, "x": 0.65}
    assert len(info.level_shapes) == 2 and info.labels == ("nuclei",)
    np.testing.assert_array_equal(read_image(out / "labels" / "nuclei")[0, 0], mask)

    assert main(["validate", str(out)]) == 0
    assert f"{out}: valid" in capsys.readouterr().out

    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "DAPI, G, T, A, C" in text and "level 1:" in text and "nuclei" in text


def test_validate_fails_for_a_broken_store(tmp_path: Path, stack_tiff: Path, capsys) -> None:
    out = tmp_path / "b.ome.zarr"
    assert main(["export", str(stack_tiff), str(out), "--ngff-version", "0.4"]) == 0
    assert validate_store(out) == []
    attrs = json.loads((out / ".zattrs").read_text())
    attrs["omero"]["channels"] = attrs["omero"]["channels"][:2]
    (out / ".zattrs").write_text(json.dumps(attrs))
    capsys.readouterr()
    assert main(["validate", str(out), str(tmp_path / "missing.ome.zarr")]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert any("omero lists 2 channels, the c axis has 5" in line for line in lines)
    assert any("missing.ome.zarr" in line and "found nothing" in line for line in lines)


def test_bad_input_gives_one_line_and_exit_2(tmp_path: Path, stack_tiff: Path, capsys) -> None:
    code = main(
        ["export", str(stack_tiff), str(tmp_path / "c.ome.zarr"), "--channel-labels", "a,b"]
    )
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(stack_tiff) in err and "2 channel labels" in err
    assert not (tmp_path / "c.ome.zarr").exists()


def test_pixel_size_as_two_numbers_and_workers_checked(
    tmp_path: Path, stack_tiff: Path, capsys
) -> None:
    out = tmp_path / "p.ome.zarr"
    assert main(["export", str(stack_tiff), str(out), "--pixel-size", "0.65", "0.5"]) == 0
    assert image_info(out).pixel_size == {"y": 0.65, "x": 0.5}
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(stack_tiff), str(tmp_path / "w.ome.zarr"), "--workers", "0"])
    assert exit_info.value.code == 2
    assert "--workers: expected a whole number >= 1, found 0" in capsys.readouterr().err


def test_compression_options_reach_the_store_and_a_bad_level_is_one_line(
    tmp_path: Path, stack_tiff: Path, capsys
) -> None:
    out = tmp_path / "z.ome.zarr"
    args = ["export", str(stack_tiff), str(out), "--compression", "lz4"]
    assert main([*args, "--compression-level", "5"]) == 0
    codecs = json.loads((out / "0" / "zarr.json").read_text())["codecs"]
    blosc = next(c["configuration"] for c in codecs if c["name"] == "blosc")
    assert (blosc["cname"], blosc["clevel"]) == ("lz4", 5)
    np.testing.assert_array_equal(read_image(out), read_image(stack_tiff))
    bad = tmp_path / "bad.ome.zarr"
    assert main(["export", str(stack_tiff), str(bad), "--compression-level", "12"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "compression_level" in err and "found 12" in err
    assert not bad.exists()


def test_console_script_runs_as_a_process(tmp_path: Path, stack_tiff: Path) -> None:
    exe = Path(sys.executable).with_name("opsflow")
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    missing = subprocess.run(
        [str(exe), "export", str(tmp_path / "nope.tif"), str(tmp_path / "x.ome.zarr")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
    assert "nope.tif: expected a TIFF file, found nothing" in missing.stderr

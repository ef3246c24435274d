"""The QC report's numbers against hand counts, and every embedded picture decodes."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import matplotlib.image
import pandas as pd

from opsflow.report import tile_numbers, well_numbers, write_report
from opsflow.steps import get_output


def _write(root: Path, key: str, table: pd.DataFrame, **wildcards: str) -> None:
    path = Path(str(get_output(key).pattern(root)).format(**wildcards))
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(path)


def _screen(root: Path) -> None:
    for well, mapped, n_pheno, n_merged in (("A1", [True, True, False, True], 5, 4),
                                            ("B3", [False, True], 4, 1)):  # fmt: skip
        n = len(mapped)
        _write(root, "combine_cells", pd.DataFrame({
            "plate": "1", "well": well, "tile": [0] * (n - 1) + [1], "cell": range(n),
            "cell_barcode_mapped_0": mapped, "cell_barcode_count": range(2, n + 2),
        }), plate="1", well=well)  # fmt: skip
        _write(root, "combine_phenotype_minimal",
               pd.DataFrame({"plate": "1", "well": well, "label": range(n_pheno)}),
               plate="1", well=well)  # fmt: skip
        merged = pd.DataFrame({"plate": "1", "well": well, "sbs_cell": range(n_merged)})
        _write(root, "merge", merged, plate="1", well=well)


def test_numbers_are_the_hand_counts(tmp_path: Path) -> None:
    _screen(tmp_path)
    wells = well_numbers(tmp_path).set_index("well")
    assert wells.loc["A1", "mapping_rate"] == 0.75 and wells.loc["B3", "mapping_rate"] == 0.5
    assert wells.loc["A1", "merge_rate"] == 0.8 and wells.loc["B3", "merge_rate"] == 0.25
    assert wells.loc["B3", "sbs_cells"] == 2 and wells.loc["A1", "phenotype_cells"] == 5
    tiles = tile_numbers(tmp_path).set_index(["well", "tile"])
    assert tiles.loc[("A1", 0), "cells"] == 3 and tiles.loc[("A1", 0), "reads_per_cell"] == 3
    assert tiles.loc[("A1", 0), "mapping_rate"] == 2 / 3


def test_report_is_one_file_whose_pictures_decode(tmp_path: Path) -> None:
    _screen(tmp_path)
    page = write_report(tmp_path).read_text()
    assert "<script" not in page and "http" not in page.split("vizarr")[0]
    uris = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(uris) >= 1  # the plate heat maps
    for uri in uris:
        picture = matplotlib.image.imread(io.BytesIO(base64.b64decode(uri)), format="png")
        assert picture.shape[0] > 50 and picture.shape[1] > 50
    assert ">B3<" in page and "0.25" in page

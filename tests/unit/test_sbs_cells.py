import numpy as np
import pandas as pd
import pytest

from opsflow.errors import OpsflowError
from opsflow.sbs import (
    CELL_INFO_COLUMNS,
    CELLS_COLUMNS,
    call_cells,
    cell_info,
    library_lookup,
    reads_columns,
)
from opsflow.tables import combine_tiles

LIBRARY = pd.DataFrame(
    {
        "sgRNA": ["sg1", "sg2", "sg3"],
        "gene_symbol": ["GENE1", "GENE2", "nontargeting"],
        "gene_id": ["1", "2", "nt"],
        "prefix": ["GGGGTT", "TTTTAA", "CCCCGG"],
    }
)


def _reads(rows):
    """rows: (cell, barcode, Q_min)."""
    df = pd.DataFrame(rows, columns=["cell", "barcode", "Q_min"])
    df.insert(0, "read", np.arange(len(df)))
    df["y"], df["x"], df["peak"] = 0, 0, 1.0
    return df


def test_call_cells_counts_ranks_mapped_first_and_maps_genes():
    reads = _reads(
        [(1, "AAAA", 0.9)] * 3  # most frequent in cell 1, but not in the library
        + [(1, "GGGG", 0.8)] * 2
        + [(2, "TTTT", 0.7)] * 4
        + [(0, "GGGG", 0.9)] * 5  # outside cells: not counted
        + [(3, "CCCC", 0.1)]  # below q_min
    )
    cells = call_cells(reads, library=LIBRARY, q_min=0.5, mapped_first=True)
    assert list(cells.columns) == list(CELLS_COLUMNS)
    assert cells["cell"].tolist() == [1, 2]
    c1 = cells.iloc[0]
    assert (c1["cell_barcode_0"], c1["cell_barcode_count_0"]) == ("GGGG", 2)
    assert (c1["gene_symbol_0"], c1["gene_id_0"], c1["cell_barcode_mapped_0"]) == (
        "GENE1",
        "1",
        True,
    )
    assert (c1["cell_barcode_1"], c1["cell_barcode_count_1"]) == ("AAAA", 3)
    assert c1["gene_symbol_1"] == "" and not c1["cell_barcode_mapped_1"]
    assert c1["cell_barcode_Q_0"] == pytest.approx(0.8)
    assert c1["cell_barcode_count"] == 5
    c2 = cells.iloc[1]
    assert (c2["cell_barcode_0"], c2["gene_symbol_0"], c2["cell_barcode_count_0"]) == (
        "TTTT",
        "GENE2",
        4,
    )
    assert c2["cell_barcode_1"] == "" and c2["cell_barcode_count_1"] == 0
    assert np.isnan(c2["cell_barcode_Q_1"])


def test_call_cells_ranks_by_count_then_mapping_by_default():
    reads = _reads([(1, "AAAA", 0.9)] * 3 + [(1, "GGGG", 0.8)] * 2)
    assert call_cells(reads, library=LIBRARY).loc[0, "cell_barcode_0"] == "AAAA"
    without = call_cells(reads)
    assert without.loc[0, "cell_barcode_0"] == "AAAA" and without.loc[0, "gene_symbol_0"] == ""
    # equal counts: the mapped barcode wins the tie even with the lower quality
    tie = _reads([(1, "AAAA", 0.9)] * 2 + [(1, "GGGG", 0.5)] * 2)
    assert call_cells(tie, library=LIBRARY).loc[0, "cell_barcode_0"] == "GGGG"
    assert call_cells(tie).loc[0, "cell_barcode_0"] == "AAAA"  # no library: higher Q


def test_call_cells_empty_has_columns():
    empty = pd.DataFrame({c: [] for c in reads_columns(9)})
    cells = call_cells(empty, library=LIBRARY)
    assert cells.empty and list(cells.columns) == list(CELLS_COLUMNS)


def test_library_lookup_prefix_and_errors():
    table = library_lookup(LIBRARY, 4)
    assert table.loc["TTTT", "gene_symbol"] == "GENE2"
    with pytest.raises(OpsflowError, match="shorter"):
        library_lookup(LIBRARY, 7)
    with pytest.raises(OpsflowError, match="lacks columns"):
        library_lookup(LIBRARY.drop(columns="prefix"), 4)


def test_cell_info_hand_values():
    cells = np.zeros((6, 8), dtype=np.int32)
    nuclei = np.zeros_like(cells)
    cells[1:3, 2:6] = 1  # 2 x 4 = 8 px, centroid (1.5, 3.5)
    nuclei[1:3, 3:5] = 1  # 4 px, centroid (1.5, 3.5)
    cells[4, 0] = 2  # no nucleus
    info = cell_info(nuclei, cells)
    assert list(info.columns) == list(CELL_INFO_COLUMNS)
    r = info.iloc[0]
    assert (r["cell"], r["area"], r["centroid_y"], r["centroid_x"]) == (1, 8, 1.5, 3.5)
    assert (r["bounds_min_y"], r["bounds_min_x"], r["bounds_max_y"], r["bounds_max_x"]) == (
        1,
        2,
        3,
        6,
    )
    assert r["nucleus_area"] == 4
    assert np.isnan(info.iloc[1]["nucleus_area"])


def test_cell_info_empty():
    info = cell_info(np.zeros((4, 4), int), np.zeros((4, 4), int))
    assert info.empty and list(info.columns) == list(CELL_INFO_COLUMNS)


def test_combine_tiles_adds_keys_and_survives_empty_tiles():
    a = pd.DataFrame({"cell": [1, 2]})
    empty = pd.DataFrame({"cell": pd.Series(dtype=np.int64)})
    out = combine_tiles({3: empty, 0: a}, plate="1", well="A1")
    assert out.columns.tolist() == ["plate", "well", "tile", "cell"]
    assert out["tile"].tolist() == [0, 0]
    only_empty = combine_tiles({4: empty}, plate="1", well="A1")
    assert only_empty.empty and "tile" in only_empty

"""One self-contained HTML file per run: numbers, heat maps, thumbnails, hits, montages.

Every picture is embedded as a ``data:`` URI and there is no script, so the file opens
offline, can be mailed, and shows the same in any browser. Sections whose outputs do
not exist yet are left out, so a report of a partial run still works.
"""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path

import pandas as pd

from opsflow.io import atomic_path
from opsflow.paths import REPORT_NAME
from opsflow.report._numbers import hits_table, outputs_of, tile_numbers, well_numbers
from opsflow.report._plots import data_uri, plate_heatmaps, store_thumbnail

__all__ = ["REPORT_NAME", "write_report"]

log = logging.getLogger(__name__)

_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#222}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}td,th{border:1px solid #ccc;
padding:.2em .5em;text-align:right}th{background:#eee}figure{display:inline-block;
margin:.4em;text-align:center;font-size:.8em;width:22em;vertical-align:top}
figcaption{word-break:break-all}code{background:#f4f4f4;padding:.1em .3em}
img{max-width:100%}"""


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:.3g}", border=0)


def _img(uri: str, alt: str) -> str:
    return f'<img src="{uri}" alt="{html.escape(alt)}">'


def _stores(root: Path) -> list[Path]:
    """The stores under ``{module}/omezarr/`` to show, not looking inside any store.

    A plate holds thousands of chunk directories; a recursive glob would visit them all.
    Plates and well mosaics are shown; of a folder's stores of single images only the
    first, and none beside a plate (computed as OME-Zarr, its fields are those stores).
    """
    found = []
    for base in sorted(root.glob("*/omezarr")):
        for folder, dirs, _ in os.walk(base):
            stores = sorted(d for d in dirs if d.endswith(".zarr"))
            plates = [d for d in stores if "_W-" not in d]
            whole = [d for d in stores if d in plates or "_mosaic." in d]
            images = [d for d in stores if d not in whole]
            shown = whole + ([] if plates else images[:1])
            found += [Path(folder) / d for d in shown]
            dirs[:] = [d for d in dirs if not d.endswith(".zarr")]
    return sorted(found)


def _store_section(root: Path) -> list[str]:
    stores = _stores(root)
    if not stores:
        return []
    out = ["<h2>OME-Zarr stores</h2>", "<p>Open one in napari with "
           "<code>napari --plugin napari-ome-zarr STORE</code>, or in the browser: serve "
           f"the output root with <code>npx http-server --cors -p 8000 {html.escape(str(root))}"
           "</code> and open <code>https://hms-dbmi.github.io/vizarr/?source="
           "http://localhost:8000/STORE</code> (STORE as captioned).</p>"]  # fmt: skip
    for store in stores:
        thumb = store_thumbnail(store)
        rel = store.relative_to(root)
        picture = _img(data_uri(thumb), str(rel)) if thumb else "(no thumbnail)"
        out.append(f"<figure>{picture}<figcaption><code>{html.escape(str(rel))}</code>"
                   f"<br><code>napari --plugin napari-ome-zarr {html.escape(str(store))}"
                   "</code></figcaption></figure>")  # fmt: skip
    return out


def _numbers_section(root: Path) -> list[str]:
    out = []
    wells = well_numbers(root)
    if not wells.empty:
        out += ["<h2>Wells</h2>", _table(wells)]
        columns = ["phenotype_cells", "mapping_rate", "merge_rate", "residual_median_um"]
        figure = plate_heatmaps(wells, columns)
        out.append(_img(data_uri(figure), "plate heat maps"))
    tiles = tile_numbers(root)
    if not tiles.empty:
        out += ["<h2>SBS tiles</h2>", _table(tiles)]
    for key, title in (("merge_qc", "Merge"), ("montage_png", "Montages")):
        pictures = outputs_of(root, key)
        if pictures:
            out.append(f"<h2>{title}</h2>")
            out += [_img(data_uri(p.read_bytes()), p.name) for p in pictures]
        if key == "merge_qc":
            hits = hits_table(root)
            if not hits.empty:
                out += ["<h2>Top hits</h2>", _table(hits)]
    return out


def write_report(root: str | os.PathLike[str], output: str | os.PathLike[str] | None = None):
    """Write the QC report of the run under ``root`` (default ``root/qc_report.html``)."""
    root = Path(root)
    output = Path(output) if output else root / REPORT_NAME
    body = [f"<h1>opsflow QC report</h1><p><code>{html.escape(str(root))}</code></p>"]
    body += _numbers_section(root) + _store_section(root)
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>opsflow QC "
            f"report</title><style>{_STYLE}</style></head><body>{''.join(body)}"
            "</body></html>")  # fmt: skip
    with atomic_path(output) as tmp:
        Path(tmp).write_text(page, encoding="utf-8")
    log.info("report: wrote %s (%d KB)", output, len(page) // 1024)
    return output

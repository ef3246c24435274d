"""The QC report: one self-contained HTML file of a run's numbers and pictures."""

from opsflow.report._html import REPORT_NAME, write_report
from opsflow.report._numbers import hits_table, tile_numbers, well_numbers

__all__ = ["REPORT_NAME", "hits_table", "tile_numbers", "well_numbers", "write_report"]

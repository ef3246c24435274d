"""Hit calls: every gene against the control cells, per feature, Mann-Whitney with BH.

Written here rather than calling ``scipy.stats.mannwhitneyu`` once per gene because a
screen has thousands of genes against the same controls: the controls are sorted once per
feature and every cell's pair counts come from one ``searchsorted``, so the cost is
``O(cells x features x log controls)`` instead of a sort of controls per gene. The
statistic, tie correction and continuity correction are scipy's asymptotic method (a
test compares both).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy import special, stats

from opsflow.aggregate._stats import GENE

__all__ = ["HIT_COLUMNS", "call_hits", "mann_whitney"]

log = logging.getLogger(__name__)

HIT_COLUMNS = (
    "plate", "gene", "feature", "n_cells", "n_control_cells", "effect", "u_statistic",
    "p_value", "q_value", "hit", "rank",
)  # fmt: skip


def _tie_sums(x: np.ndarray, group: np.ndarray, c_sorted: np.ndarray, n_groups: int):
    """Per group, sum of (t^3 - t) over tie runs of the group pooled with the controls."""
    values, counts = np.unique(c_sorted, return_counts=True)
    total_controls = float(np.sum(counts.astype(np.float64) ** 3 - counts))
    order = np.lexsort((x, group))
    gx, gg = x[order], group[order]
    start = np.r_[True, (gx[1:] != gx[:-1]) | (gg[1:] != gg[:-1])]
    run_group, run_value = gg[start], gx[start]
    run_count = np.diff(np.r_[np.flatnonzero(start), len(gx)]).astype(np.float64)
    at = np.searchsorted(values, run_value)
    present = (at < len(values)) & (values[np.minimum(at, len(values) - 1)] == run_value)
    c = np.where(present, counts[np.minimum(at, len(values) - 1)], 0).astype(np.float64)
    t = c + run_count
    delta = (t**3 - t) - (c**3 - c)
    return total_controls + np.bincount(run_group, weights=delta, minlength=n_groups)


def mann_whitney(
    x: np.ndarray, group: np.ndarray, controls: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided Mann-Whitney U of each group of ``x`` against ``controls`` (one feature).

    Returns (U of each group, p-value of each group); NaN values are left out.
    """
    keep = ~np.isnan(x)
    x, group = x[keep], group[keep]
    c = np.sort(controls[~np.isnan(controls)])
    if not len(c) or not len(x):  # nothing to compare (e.g. a feature NaN in every cell)
        return np.full(n_groups, np.nan), np.full(n_groups, np.nan)
    n1 = np.bincount(group, minlength=n_groups).astype(np.float64)
    n2 = float(len(c))
    below = np.searchsorted(c, x, side="left")
    ties = np.searchsorted(c, x, side="right") - below
    u = np.bincount(group, weights=below + 0.5 * ties, minlength=n_groups)
    n = n1 + n2
    tie_term = _tie_sums(x, group, c, n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.sqrt(n1 * n2 / 12.0 * ((n + 1) - tie_term / (n * (n - 1))))
        z = (np.abs(u - n1 * n2 / 2.0) - 0.5) / sigma
        p = np.clip(2.0 * special.ndtr(-z), 0.0, 1.0)
    p[(n1 == 0) | (n2 == 0) | ~(sigma > 0)] = np.nan
    return u, p


def call_hits(
    cells: pd.DataFrame,
    features: list[str],
    controls: tuple[str, ...],
    *,
    plate: str,
    min_cells: int = 5,
    hit_q: float = 0.01,
) -> pd.DataFrame:
    """Every (gene, feature) of the non-control genes with enough cells, tested and ranked.

    ``effect`` is the gene's median normalised value minus the controls' (robust z units);
    ``q_value`` is Benjamini-Hochberg over every test of the plate; ``rank`` orders the
    genes within a feature by p-value, then by the size of the effect.
    """
    is_control = cells[GENE].isin(controls).to_numpy()
    counts = cells.loc[~is_control, GENE].value_counts()
    genes = sorted(counts.index[counts >= min_cells])
    if not genes or not is_control.any():
        log.warning(
            "aggregate: nothing to test on plate %s (%d genes with %d+ cells, %d control "
            "cells).", plate, len(genes), min_cells, int(is_control.sum()),
        )  # fmt: skip
        return pd.DataFrame(columns=list(HIT_COLUMNS))
    tested = cells[GENE].isin(genes).to_numpy()
    code = pd.Categorical(cells.loc[tested, GENE], categories=genes).codes.astype(np.int64)
    values = cells[features].to_numpy(dtype=np.float64)
    rows = []
    for j, feature in enumerate(features):
        x, ref = values[tested, j], values[is_control, j]
        u, p = mann_whitney(x, code, ref, len(genes))
        medians = pd.Series(x).groupby(code).median().reindex(range(len(genes))).to_numpy()
        rows.append(pd.DataFrame({
            "gene": genes, "feature": feature, "n_cells": counts[genes].to_numpy(),
            "n_control_cells": int(np.isfinite(ref).sum()),
            "effect": medians - np.nanmedian(ref), "u_statistic": u, "p_value": p,
        }))  # fmt: skip
    table = pd.concat(rows, ignore_index=True)
    tested_p = table["p_value"].notna()
    table["q_value"] = np.nan
    table.loc[tested_p, "q_value"] = stats.false_discovery_control(table.loc[tested_p, "p_value"])
    table["hit"] = table["q_value"] < hit_q
    table["_size"] = -table["effect"].abs()
    table = table.sort_values(["feature", "p_value", "_size"], na_position="last")
    table["rank"] = table.groupby("feature").cumcount() + 1
    table.insert(0, "plate", plate)
    return table[list(HIT_COLUMNS)].reset_index(drop=True)

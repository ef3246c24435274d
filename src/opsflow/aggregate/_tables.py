"""The aggregate step: one plate's merged cells in, gene tables, hits and AnnData out."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from opsflow.aggregate._hits import call_hits
from opsflow.aggregate._params import AggregateParams
from opsflow.aggregate._stats import (
    GENE,
    SGRNA,
    feature_columns,
    filter_cells,
    gene_table,
    normalise,
    sgrna_table,
)

__all__ = ["PICK_COLUMNS", "aggregate_step", "montage_picks", "quiet_anndata", "to_anndata"]

log = logging.getLogger(__name__)

PICK_COLUMNS = (
    "gene", "well", "phenotype_tile", "phenotype_cell", "cell_centroid_y", "cell_centroid_x",
)  # fmt: skip
_OBS = ("plate", "well", "phenotype_tile", "phenotype_cell", "sbs_tile", "sbs_cell",
        "distance_um", GENE, SGRNA, "cell_barcode_count_0")  # fmt: skip


@contextmanager
def quiet_anndata() -> Iterator[None]:
    """Silence a pandas 3 deprecation that anndata 0.13 raises itself (not ours to fix)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*'future.infer_string' option is deprecated")
        yield


def to_anndata(raw: pd.DataFrame, normed: pd.DataFrame, features: list[str], **uns: Any):
    """Cells x features: ``X`` the normalised values, layer ``raw``, genes in ``obs``."""
    with quiet_anndata():
        import anndata

    obs = normed[[c for c in _OBS if c in normed]].rename(columns={GENE: "gene", SGRNA: "sgrna"})
    obs = obs.astype({c: str for c in obs.columns if not pd.api.types.is_numeric_dtype(obs[c])})
    obs.index = [f"{r.well}_{r.phenotype_tile}_{r.phenotype_cell}" for r in obs.itertuples()]
    var = pd.DataFrame(index=pd.Index(features, name="feature"))
    with quiet_anndata():
        return anndata.AnnData(
            X=normed[features].to_numpy(np.float32),
            obs=obs,
            var=var,
            layers={"raw": raw[features].to_numpy(np.float32)},
            uns=uns,
        )


def montage_picks(cells: pd.DataFrame, hits: pd.DataFrame, p: AggregateParams) -> pd.DataFrame:
    """The cells each montage shows: the top hit genes' and the controls', drawn at random.

    Genes are ordered by their best rank over features (then q-value); the controls come
    last as one group named after the first control.
    """
    called = hits[hits["hit"].astype(bool)] if len(hits) else hits
    best = called.sort_values(["rank", "q_value"]).drop_duplicates("gene")
    genes = list(best["gene"][: p.montage_genes])
    rng = np.random.default_rng(p.seed)
    groups = [(g, cells[cells[GENE] == g]) for g in genes]
    groups.append((p.controls[0], cells[cells[GENE].isin(p.controls)]))
    picks = []
    for name, group in groups:
        if not len(group):
            continue
        chosen = rng.choice(len(group), size=min(p.montage_cells, len(group)), replace=False)
        picks.append(group.iloc[np.sort(chosen)].assign(gene=name))
    if not picks:
        return pd.DataFrame(columns=list(PICK_COLUMNS))
    return pd.concat(picks, ignore_index=True)[list(PICK_COLUMNS)]


def aggregate_step(
    merged: Iterable[pd.DataFrame], *, plate: str, p: AggregateParams
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, Any, pd.DataFrame]:
    """One plate: (gene features, sgRNA features, hits, AnnData of cells, montage picks)."""
    cells = pd.concat(list(merged), ignore_index=True)
    log.info("aggregate: plate %s, %d merged cells", plate, len(cells))
    kept = filter_cells(cells, p)
    features = feature_columns(kept, p.features)
    normed = normalise(kept, features, p.controls)
    hits = call_hits(normed, features, p.controls, plate=plate, min_cells=p.min_cells,
                     hit_q=p.hit_q)  # fmt: skip
    log.info("aggregate: plate %s, %d hits of %d tests at q < %g",
             plate, int(hits["hit"].sum()), len(hits), p.hit_q)  # fmt: skip
    adata = to_anndata(kept, normed, features, plate=plate, controls=list(p.controls))
    return (
        gene_table(normed, features, plate),
        sgrna_table(normed, features, plate),
        hits,
        adata,
        montage_picks(normed, hits, p),
    )

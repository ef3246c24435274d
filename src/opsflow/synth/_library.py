"""The sgRNA barcode library and seeded random streams shared by the generator."""

from __future__ import annotations

import numpy as np
import pandas as pd

from opsflow.synth._params import BASES, SynthParams

__all__ = ["make_library", "rng_for"]

_STREAMS = {
    "library": 1, "layout": 2, "sbs": 3, "phenotype": 4, "illumination": 5, "stage": 6,
    "well_layout": 7, "phenotype_stage": 8, "cell_phenotype": 9,
}  # fmt: skip
_SGRNA_LENGTH = 20


def rng_for(params: SynthParams, stream: str, well: str | None = None, tile: int = 0):
    """Return an independent generator for one purpose, well and tile.

    Every random quantity comes from a stream keyed on (seed, purpose, well, tile), so a
    tile can be generated alone, in any order or in another process and still be the same.
    """
    if well is None:
        well_index = 0
    else:
        if well not in params.wells:
            raise ValueError(f"well must be one of {params.wells}; got {well!r}.")
        well_index = params.wells.index(well) + 1
    return np.random.default_rng(
        np.random.SeedSequence([params.seed, _STREAMS[stream], well_index, tile])
    )


def _hamming_to_all(candidate: np.ndarray, accepted: np.ndarray) -> np.ndarray:
    return (accepted != candidate).sum(axis=1)


def _make_prefixes(n: int, length: int, min_hamming: int, rng: np.random.Generator) -> np.ndarray:
    """Greedily draw ``n`` prefixes with pairwise distance >= ``min_hamming``, balancing bases.

    Each prefix uses every base at most ``ceil(length / 2)`` times (no low-complexity
    reads), and among valid candidates the one that most evens out the per-cycle base
    counts is taken: unbalanced cycles make base calling and crosstalk estimation easier
    or harder than in a real, designed library.
    """
    max_per_base = (length + 1) // 2
    counts = np.zeros((length, 4))
    accepted = np.empty((0, length), dtype=np.int8)
    attempts = 0
    while len(accepted) < n:
        attempts += 1
        if attempts > 2000 * n:
            raise ValueError(
                f"cannot find {n} barcodes of length {length} with pairwise Hamming distance "
                f">= {min_hamming}; use fewer barcodes or more cycles."
            )
        candidates = rng.integers(0, 4, size=(64, length), dtype=np.int8)
        composition = np.stack([(candidates == b).sum(axis=1) for b in range(4)], axis=1)
        candidates = candidates[composition.max(axis=1) <= max_per_base]
        if len(accepted):
            ok = [_hamming_to_all(c, accepted).min() >= min_hamming for c in candidates]
            candidates = candidates[np.asarray(ok, dtype=bool)]
        if not len(candidates):
            continue
        # imbalance after adding each candidate: sum over cycles of the chosen base's count
        cost = counts[np.arange(length), candidates].sum(axis=1)
        best = candidates[int(np.argmin(cost))]
        counts[np.arange(length), best] += 1
        accepted = np.vstack([accepted, best])
    return accepted


def make_library(params: SynthParams) -> pd.DataFrame:
    """Return the barcode library as a table (sgRNA, gene_symbol, gene_id, prefix).

    ``prefix`` is the first ``n_cycles`` bases of the sgRNA spacer, the part read in situ;
    prefixes differ pairwise in at least ``min_hamming`` positions so one base error per read
    can be corrected. Targeting sgRNAs come ``sgrnas_per_gene`` per gene (``GENE01``, ...);
    non-targeting controls have gene_symbol ``nontargeting``. The order of rows is the
    order of the ``prefix`` draws, which is fixed by the seed.
    """
    rng = rng_for(params, "library")
    n_targeting = params.n_genes * params.sgrnas_per_gene
    n = n_targeting + params.n_nontargeting
    prefixes = _make_prefixes(n, params.n_cycles, params.min_hamming, rng)
    tail_length = max(_SGRNA_LENGTH - params.n_cycles, 0)
    tails = rng.integers(0, 4, size=(n, tail_length))
    letters = np.array(BASES)
    rows = []
    for i in range(n):
        prefix = "".join(letters[prefixes[i]])
        if i < n_targeting:
            gene_index = i // params.sgrnas_per_gene + 1
            symbol = f"GENE{gene_index:02d}"
            gene_id = str(100000 + gene_index)
        else:
            symbol = "nontargeting"
            gene_id = "nontargeting"
        rows.append(
            {
                "sgRNA": prefix + "".join(letters[tails[i]]),
                "gene_symbol": symbol,
                "gene_id": gene_id,
                "prefix": prefix,
            }
        )
    return pd.DataFrame(rows, columns=["sgRNA", "gene_symbol", "gene_id", "prefix"])


def library_abundance(params: SynthParams, n: int) -> np.ndarray:
    """Return relative sgRNA abundances (sum 1): log-normal, as pooled libraries are skewed."""
    rng = rng_for(params, "library", tile=1)
    weights = rng.lognormal(0.0, params.library_skew, size=n)
    return weights / weights.sum()

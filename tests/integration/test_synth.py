"""The synthetic screen: contract of the generator, realism checks against its own truth."""

from __future__ import annotations

import hashlib
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage as ndi
from skimage.filters import window
from skimage.registration import phase_cross_correlation

from opsflow.synth import (
    BASES,
    SynthParams,
    make_library,
    make_phenotype_tile,
    make_sbs_tile,
    write_screen,
)


def test_library_prefixes_are_distant_balanced_and_prefix_the_sgrna() -> None:
    params = SynthParams()
    lib = make_library(params)
    assert list(lib.columns) == ["sgRNA", "gene_symbol", "gene_id", "prefix"]
    n = params.n_genes * params.sgrnas_per_gene + params.n_nontargeting
    assert len(lib) == n and lib["prefix"].is_unique
    codes = np.array([[BASES.index(b) for b in p] for p in lib["prefix"]])
    assert codes.shape == (n, params.n_cycles)
    distances = [(a != b).sum() for a, b in combinations(codes, 2)]
    assert min(distances) >= 3
    fractions = np.stack([(codes == b).mean(axis=0) for b in range(4)])  # (base, cycle)
    assert fractions.min() >= 0.15 and fractions.max() <= 0.35
    assert all(s.startswith(p) for s, p in zip(lib["sgRNA"], lib["prefix"], strict=True))
    assert (lib["gene_symbol"] == "nontargeting").sum() == params.n_nontargeting


def test_sbs_tile_contract(small_params: SynthParams) -> None:
    p = small_params
    t = make_sbs_tile(p, "A1", 0)
    assert t.image.dtype == np.uint16
    assert t.image.shape == (p.n_cycles, 5, *p.sbs_tile_shape)
    assert np.array_equal(t.shifts[0], [0, 0])
    assert np.abs(t.shifts).max() <= p.max_cycle_shift
    inside = t.nuclei > 0
    assert np.array_equal(t.cells[inside], t.nuclei[inside])  # nucleus i lies in cell i
    labels = np.unique(t.cells[t.cells > 0])
    assert np.array_equal(labels, np.arange(1, len(labels) + 1))
    assert sorted(t.cell_barcodes["cell"]) == list(labels)
    assert np.allclose(t.crosstalk, p.crosstalk_matrix())
    assert t.illumination.shape == p.sbs_tile_shape
    assert t.illumination.mean() == pytest.approx(1.0)
    # each in-cell spot sits on a pixel of its cell
    spots = t.spots[t.spots["cell"] > 0]
    iy, ix = np.rint(spots["y"]).astype(int), np.rint(spots["x"]).astype(int)
    assert (t.cells[iy, ix] == spots["cell"]).mean() > 0.99
    # spots carry their cell's barcodes
    by_cell = t.cell_barcodes.set_index("cell")
    allowed = spots.apply(
        lambda s: (
            s["barcode"] in (by_cell.at[s["cell"], "barcode_0"], by_cell.at[s["cell"], "barcode_1"])
        ),
        axis=1,
    )
    assert allowed.all()
    # touching neighbours exist (realistic density)
    touching = t.cells[:, 1:] != t.cells[:, :-1]
    assert ((t.cells[:, 1:] > 0) & (t.cells[:, :-1] > 0) & touching).any()


def test_nuclei_are_realistic_size_and_not_circles(small_params: SynthParams) -> None:
    t = make_sbs_tile(small_params, "A2", 1)
    labels = np.unique(t.nuclei[t.nuclei > 0])
    areas = ndi.sum_labels(np.ones_like(t.nuclei), t.nuclei, labels)
    radius = np.sqrt(np.median(areas) / np.pi)
    assert 6 <= radius <= 10
    # solidity-like check: a perturbed ellipse fills less of its bounding box than pi/4 at times
    from skimage.measure import regionprops

    ecc = [r.eccentricity for r in regionprops(t.nuclei) if r.area > 50]
    assert np.median(ecc) > 0.3


def test_reads_have_the_configured_error_rate() -> None:
    params = SynthParams(sbs_tile_shape=(256, 256), base_error_rate=0.05, tiles_per_well=1)
    spots = make_sbs_tile(params, "A1", 0).spots
    true = np.array([list(b) for b in spots["barcode"]])
    read = np.array([list(r) for r in spots["read"]])
    n = true.size
    rate = (true != read).mean()
    assert abs(rate - 0.05) < 4 * np.sqrt(0.05 * 0.95 / n)


def test_cycle_shifts_follow_the_documented_convention(small_params: SynthParams) -> None:
    t = make_sbs_tile(small_params, "A1", 1)

    hann = window("hann", small_params.sbs_tile_shape)

    def nuclei_only(image: np.ndarray) -> np.ndarray:
        # remove the fixed background x illumination, which does not move with the sample,
        # and window the edges, as any registration of real tiles must
        image = image.astype(float)
        return (image - ndi.median_filter(image, size=31)) * hann

    reference = nuclei_only(t.image[0, 0])
    for k in range(1, small_params.n_cycles):
        moved = nuclei_only(t.image[k, 0])
        # phase_cross_correlation returns the shift that registers moving onto reference
        estimate, _, _ = phase_cross_correlation(reference, moved, upsample_factor=20)
        assert np.allclose(-estimate, t.shifts[k], atol=0.3), (k, estimate, t.shifts[k])
        # and the documented direction: image_k(y, x) ~ image_0(y - dy, x - dx)
        raw0, rawk = t.image[0, 0].astype(float), t.image[k, 0].astype(float)
        inner = (slice(8, -8), slice(8, -8))
        forward = ndi.shift(raw0, t.shifts[k], order=1)[inner]
        backward = ndi.shift(raw0, -t.shifts[k], order=1)[inner]
        assert np.abs(forward - rawk[inner]).mean() < 0.6 * np.abs(backward - rawk[inner]).mean()


def test_spot_colours_show_the_true_crosstalk() -> None:
    params = SynthParams(sbs_tile_shape=(256, 256), tiles_per_well=1)
    t = make_sbs_tile(params, "A1", 0)
    spots = t.spots[(t.spots["y"].between(5, 250)) & (t.spots["x"].between(5, 250))]
    frame = t.image[0, 1:].astype(float)
    background = np.median(frame, axis=(1, 2))
    iy, ix = np.rint(spots["y"]).astype(int), np.rint(spots["x"]).astype(int)
    values = frame[:, iy, ix].T - background  # (spots, 4)
    first = spots["read"].str[0].to_numpy()
    m = params.crosstalk_matrix()
    for source, target in (("G", "T"), ("A", "C"), ("G", "A")):
        s, d = BASES.index(source), BASES.index(target)
        sel = first == source
        ratio = np.median(values[sel, d] / values[sel, s])
        expected = m[d, s] / m[s, s]
        assert abs(ratio - expected) < 0.06, (source, target, ratio, expected)


def test_phenotype_tile_shows_the_same_cells_at_twice_the_pixels(small_params: SynthParams) -> None:
    p = small_params
    sbs = make_sbs_tile(p, "A1", 2)
    ph = make_phenotype_tile(p, "A1", 2)
    assert ph.image.dtype == np.uint16
    assert ph.image.shape == (4, *p.phenotype_tile_shape)
    assert np.array_equal(ph.channel_shifts[0], [0, 0])
    labels = np.unique(sbs.nuclei[sbs.nuclei > 0])
    ph_labels = np.unique(ph.nuclei[ph.nuclei > 0])
    common = np.intersect1d(labels, ph_labels)
    assert len(common) >= 0.95 * len(labels)
    c_sbs = np.array(ndi.center_of_mass(np.ones_like(sbs.nuclei), sbs.nuclei, common))
    c_ph = np.array(ndi.center_of_mass(np.ones_like(ph.nuclei), ph.nuclei, common))
    s = p.phenotype_scale
    assert np.median(np.abs((c_ph + 0.5) / s - 0.5 - c_sbs)) < 0.3
    area_sbs = ndi.sum_labels(np.ones_like(sbs.cells), sbs.cells, common)
    area_ph = ndi.sum_labels(np.ones_like(ph.cells), ph.cells, common)
    assert np.median(area_ph / area_sbs) == pytest.approx(s**2, rel=0.1)
    values = ph.cell_values.set_index("cell")
    assert set(values.index) == set(sbs.cell_barcodes["cell"])


def test_gene_effects_are_visible_in_the_phenotype_image() -> None:
    params = SynthParams(sbs_tile_shape=(256, 256), tiles_per_well=6, n_genes=3)
    coxiv_on, coxiv_off, foci_on, foci_off = [], [], [], []
    for tile in range(6):
        ph = make_phenotype_tile(params, "A1", tile)
        background = np.percentile(ph.image[1], 5)
        measured = ndi.mean(ph.image[1].astype(float), ph.cells, ph.cell_values["cell"])
        v = ph.cell_values.assign(measured=np.asarray(measured) - background)
        v = v[v["area"] > 1000]
        genes = v["gene_symbol"]
        others = ~v["gene_symbol_1"].isin([params.coxiv_gene, params.cenpa_gene])
        coxiv_on += list(v.loc[genes == params.coxiv_gene, "measured"])
        coxiv_off += list(v.loc[(genes != params.coxiv_gene) & others, "measured"])
        foci_on += list(v.loc[genes == params.cenpa_gene, "cenpa_foci"])
        foci_off += list(v.loc[(genes != params.cenpa_gene) & others, "cenpa_foci"])
    assert len(coxiv_on) >= 5 and len(foci_on) >= 5
    coxiv_fold = np.median(coxiv_on) / np.median(coxiv_off)
    assert coxiv_fold > 1.5 and coxiv_fold < 2.6, coxiv_fold
    assert np.median(foci_on) - np.median(foci_off) >= params.cenpa_extra_foci * 0.7


def test_empty_tile_has_no_cells(small_params: SynthParams) -> None:
    tile = small_params.tiles_per_well
    t = make_sbs_tile(small_params, "A1", tile)
    assert t.cells.max() == 0 and t.nuclei.max() == 0 and len(t.cell_barcodes) == 0
    assert (t.spots["cell"] == 0).all()
    ph = make_phenotype_tile(small_params, "A1", tile)
    assert ph.cells.max() == 0 and len(ph.cell_values) == 0


def test_illumination_is_shared_within_a_well_and_differs_between_wells(
    small_params: SynthParams,
) -> None:
    a = make_sbs_tile(small_params, "A1", 0).illumination
    b = make_sbs_tile(small_params, "A1", 3).illumination
    c = make_sbs_tile(small_params, "A2", 0).illumination
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)
    assert 0.2 < a.max() - a.min() < 0.8  # visible vignetting, not a pathological field


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="sbs_channels"):
        SynthParams(sbs_channels=("DAPI", "A", "C", "G", "T"))
    with pytest.raises(ValueError, match="well must be one of"):
        make_sbs_tile(SynthParams(sbs_tile_shape=(64, 64)), "B7", 0)
    with pytest.raises(ValueError, match="tile must be one of"):
        make_sbs_tile(SynthParams(sbs_tile_shape=(64, 64)), "A1", 99)


def _digest(root: Path) -> dict[str, str]:
    return {
        str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(root.rglob("*"))
        if f.is_file()
    }


def test_generator_is_deterministic_byte_for_byte(tmp_path: Path) -> None:
    params = SynthParams(
        seed=3,
        wells=("A1",),
        tiles_per_well=1,
        n_cycles=4,
        sbs_tile_shape=(64, 64),
        n_genes=3,
        sgrnas_per_gene=2,
        n_nontargeting=1,
    )
    first = _digest(write_screen(tmp_path / "a", params)["root"])
    second = _digest(write_screen(tmp_path / "b", params, workers=2)["root"])
    assert first == second
    assert len(first) > 10
    other = _digest(
        write_screen(tmp_path / "c", SynthParams(**{**params.to_dict(), "seed": 4}))["root"]
    )
    changed = [k for k in first if k.endswith(".ome.tif") and first[k] != other[k]]
    assert changed


def test_written_screen_layout(small_screen: dict, small_params: SynthParams) -> None:
    root = small_screen["root"]
    sbs = pd.read_csv(small_screen["sbs_samples"], sep="\t")
    ph = pd.read_csv(small_screen["phenotype_samples"], sep="\t")
    n_tiles = len(small_params.wells) * len(small_params.tiles)
    assert list(sbs.columns) == ["sample_fp", "plate", "well", "tile", "cycle"]
    assert len(sbs) == n_tiles * small_params.n_cycles and len(ph) == n_tiles
    assert all((root / f).is_file() for f in [*sbs["sample_fp"], *ph["sample_fp"]])
    text = small_screen["config"].read_text()
    for key in ("all:", "preprocess:", "sbs:", "phenotype:", "channel_order_flip: true"):
        assert key in text
    library = pd.read_csv(small_screen["library"], sep="\t")
    assert library.equals(make_library(small_params))
    truth = small_screen["truth"]
    for name in ("spots", "cell_barcodes", "cycle_shifts", "channel_shifts", "phenotype_cells"):
        assert (truth / f"{name}.tsv").is_file()
    assert (truth / "sbs" / "P-1_W-A1_T-0__nuclei.tiff").is_file()
    assert (truth / "illumination" / "P-1_W-A2__phenotype_illumination.tiff").is_file()

"""Property tests: any shape and dtype round-trips, and the pyramid follows its rules."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from opsflow.io import ExportOptions, read_image, validate_store, write_multiscale_omezarr
from opsflow.io._pyramid import block_mode

DTYPES = st.sampled_from([np.uint8, np.uint16, np.int16, np.int32, np.float32])


@st.composite
def images(draw):
    dtype = draw(DTYPES)
    lead = draw(st.lists(st.integers(1, 3), min_size=0, max_size=2))
    shape = (*lead, draw(st.integers(1, 90)), draw(st.integers(1, 90)))
    elements = (
        st.floats(-1e6, 1e6, width=32, allow_nan=False) if np.dtype(dtype).kind == "f" else None
    )
    data = draw(arrays(dtype, shape, elements=elements))
    axes = ("tc" if len(lead) == 2 else "c" if len(lead) == 1 else "") + "yx"
    return data, axes


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(images(), st.integers(8, 40), st.integers(2, 3), st.one_of(st.none(), st.integers(1, 4)))
def test_any_image_round_trips(image, chunk, factor, max_levels):
    data, axes = image
    with tempfile.TemporaryDirectory() as tmp:
        store = write_multiscale_omezarr(
            data,
            Path(tmp) / "p.ome.zarr",
            axes=axes,
            options=ExportOptions(
                chunk_shape=(1, chunk, chunk), coarsening_factor=factor, max_levels=max_levels
            ),
        )
        np.testing.assert_array_equal(read_image(store), data)
        h, w = data.shape[-2:]
        n = 1
        while (h > chunk or w > chunk) and (max_levels is None or n < max_levels):
            h, w, n = math.ceil(h / factor), math.ceil(w / factor), n + 1
        assert read_image(store, level=n - 1).shape[-2:] == (h, w)
        assert validate_store(store) == []


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.int32, st.tuples(st.integers(1, 30), st.integers(1, 30)), elements=st.integers(0, 6)),
    st.integers(2, 4),
)
def test_label_downsampling_never_invents_and_keeps_majorities(mask, factor):
    out = block_mode(mask, factor)
    assert out.shape == (math.ceil(mask.shape[0] / factor), math.ceil(mask.shape[1] / factor))
    for (i, j), value in np.ndenumerate(out):
        block = mask[i * factor : (i + 1) * factor, j * factor : (j + 1) * factor]
        counts = np.bincount(block.ravel())
        assert counts[value] > 0, "a label value that is not in its block"
        if block.size == factor * factor:  # whole block: the winner is a most frequent value
            assert counts[value] == counts.max()


@given(
    arrays(
        st.sampled_from([np.uint8, np.uint16]),
        st.integers(1, 3000),
    ),
    st.floats(0, 100),
)
def test_window_percentiles_from_a_histogram_equal_numpy(data: np.ndarray, q: float) -> None:
    from opsflow.io._stats import _percentiles

    (got,) = _percentiles(data, (q,))
    assert math.isclose(got, float(np.percentile(data, q)), rel_tol=1e-9, abs_tol=1e-9)

"""The frame-wise helpers give scipy's results exactly, in any number of threads."""

import threading

import numpy as np
import pytest
from scipy import ndimage as ndi

from opsflow.frames import limit_threads, map_frames, sliding_max, sliding_min, workers
from opsflow.registration import _shifted_window, shift_frame
from opsflow.sbs import align_cycles


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 9])
@pytest.mark.parametrize("shape", [(37, 41), (3, 5), (1, 8)])
def test_sliding_extremes_equal_scipy_filters(size, shape):
    image = np.random.default_rng(size).integers(0, 4000, shape).astype(np.uint16)
    np.testing.assert_array_equal(sliding_max(image, size), ndi.maximum_filter(image, size))
    np.testing.assert_array_equal(sliding_min(image, size), ndi.minimum_filter(image, size))


def test_linear_shift_equals_scipy_shift():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 3000, (64, 48)).astype(np.uint16)
    for shift in [*rng.normal(0, 3, (40, 2)), (0.5, 0.0), (0.0, -2.5), (70.2, 1.0)]:
        expected = ndi.shift(frame.astype(np.float32), -np.asarray(shift), order=1,
                             mode="constant", cval=0.0, prefilter=False)  # fmt: skip
        expected = np.clip(np.rint(expected), 0, 65535).astype(np.uint16)
        np.testing.assert_array_equal(shift_frame(frame, np.asarray(shift)), expected)


@pytest.mark.parametrize("shift", [(1.3, -0.4), (-6.7, 12.2), (0.0, 3.5)])
def test_shifted_window_is_the_window_of_the_whole_shifted_frame(shift):
    moving = np.random.default_rng(1).random((90, 70)).astype(np.float32)
    whole = ndi.shift(moving, -np.asarray(shift), order=1, mode="nearest")
    window = _shifted_window(moving, np.asarray(shift), 0.5)
    # scipy rounds its float32 result a little differently in a smaller array (1e-7)
    np.testing.assert_allclose(window, whole[22:67, 17:52], rtol=1e-6, atol=0)


def test_map_frames_keeps_order_and_obeys_the_thread_limit():
    seen: set[int] = set()

    def record(i: int) -> int:
        seen.add(threading.get_ident())
        return i * i

    with limit_threads(1):
        assert workers() == 1
        assert map_frames(record, range(20)) == [i * i for i in range(20)]
    assert seen == {threading.get_ident()}  # one thread: the caller's own
    with limit_threads(3):
        assert workers() == 3
        assert map_frames(record, range(20)) == [i * i for i in range(20)]


def test_alignment_is_the_same_in_one_thread_and_in_several():
    rng = np.random.default_rng(2)
    base = ndi.gaussian_filter(rng.random((5, 96, 96)), 2) * 4000
    cycles = np.stack([np.roll(base, (k, -k), axis=(1, 2)) for k in range(4)]).astype(np.uint16)
    with limit_threads(1):
        one = align_cycles(cycles)
    with limit_threads(4):
        several = align_cycles(cycles)
    np.testing.assert_array_equal(one, several)

import numpy as np
import pytest

from opsflow.errors import OpsflowError
from opsflow.sbs import find_peaks, log_filter, max_filter, peak_threshold, standard_deviation


def _spot(shape=(21, 21), center=(10, 10), sigma=1.2, amp=1000.0) -> np.ndarray:
    y, x = np.mgrid[: shape[0], : shape[1]]
    return amp * np.exp(-((y - center[0]) ** 2 + (x - center[1]) ** 2) / (2 * sigma**2))


def test_log_filter_highlights_spot_removes_flat_background_and_keeps_dapi():
    stack = np.zeros((2, 3, 21, 21), dtype=np.uint16)
    stack[:, 0] = 777  # DAPI, kept raw
    stack[:, 1] = 500  # flat background: LoG is exactly 0
    stack[0, 2] = np.rint(200 + _spot()).astype(np.uint16)
    out = log_filter(stack, sigma=1.0, dapi_index=0)
    assert out.dtype == np.uint16 and out.shape == stack.shape
    np.testing.assert_array_equal(out[:, 0], stack[:, 0])
    assert not out[:, 1].any()
    assert np.unravel_index(out[0, 2].argmax(), (21, 21)) == (10, 10)
    # the Gaussian-blob response at its centre: A * 2 s^2 / (s^2 + sigma^2)^2 (hand-derived)
    s2 = 1.2**2
    expected = 1000 * 2 * s2 / (s2 + 1.0) ** 2
    assert out[0, 2, 10, 10] == pytest.approx(expected, rel=0.05)
    # the flanks of the spot, where LoG is negative, are clipped to 0 rather than wrapped
    assert out[0, 2, 10, 15] == 0


def test_standard_deviation_matches_hand_computation():
    stack = np.zeros((2, 3, 1, 2), dtype=np.uint16)
    stack[:, 0] = 1000  # DAPI, ignored
    stack[:, 1, 0, 0] = [0, 10]  # std 5
    stack[:, 2, 0, 0] = [4, 4]  # std 0
    stack[:, 1, 0, 1] = [2, 8]  # std 3
    stack[:, 2, 0, 1] = [0, 2]  # std 1
    out = standard_deviation(stack, base_indices=(1, 2))
    np.testing.assert_allclose(out, [[2.5, 2.0]])
    assert out.dtype == np.float32


def test_max_filter_drops_dapi_and_takes_window_max():
    stack = np.zeros((1, 2, 5, 5), dtype=np.uint16)
    stack[0, 0] = 9
    stack[0, 1, 2, 2] = 7
    out = max_filter(stack, width=3, dapi_index=0)
    assert out.shape == (1, 1, 5, 5)
    expected = np.zeros((5, 5), dtype=np.uint16)
    expected[1:4, 1:4] = 7
    np.testing.assert_array_equal(out[0, 0], expected)


def test_find_peaks_scores_prominence_and_zeroes_border():
    img = np.ones((20, 20), dtype=np.float32)
    img[10, 10] = 11.0  # max 11 - min 1 = 10
    img[9, 10] = 6.0  # shoulder: not a local max
    img[1, 1] = 50.0  # inside the border band
    peaks = find_peaks(img, width=5)
    assert peaks[10, 10] == pytest.approx(10.0)
    assert np.count_nonzero(peaks) == 1


def test_peak_threshold_separates_spots_from_noise_maxima():
    rng = np.random.default_rng(0)
    noise = rng.gamma(4.0, 5.0, 5000)  # many weak maxima
    spots = rng.lognormal(np.log(600), 0.3, 300)  # few strong ones
    peaks = np.zeros(6000)
    peaks[:5000], peaks[5000:5300] = noise, spots
    t = peak_threshold(peaks)
    assert np.mean(spots > t) > 0.99
    assert np.mean(noise > t) < 0.005


def test_peak_threshold_without_spots_keeps_noise_out():
    rng = np.random.default_rng(1)
    noise = rng.gamma(4.0, 5.0, 5000)
    assert np.mean(noise > peak_threshold(noise)) < 0.01
    assert peak_threshold(np.zeros((8, 8))) == float("inf")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: log_filter(np.zeros((3, 3)), sigma=1.0), "cycle, channel"),
        (lambda: log_filter(np.zeros((1, 1, 3, 3)), sigma=0), "sigma"),
        (lambda: max_filter(np.zeros((1, 1, 3, 3)), width=0), "width"),
        (lambda: find_peaks(np.zeros((1, 3, 3))), "2-D"),
        (lambda: standard_deviation(np.zeros((1, 2, 3, 3)), base_indices=(5,)), "outside"),
    ],
)
def test_filters_reject_bad_input(call, match):
    with pytest.raises(OpsflowError, match=match):
        call()


def test_illumination_corrected_takes_dapi_and_cyto_cycles_and_divides_by_field():
    from opsflow.sbs import illumination_corrected
    from opsflow.segment import cytoplasm_image

    aligned = np.zeros((3, 3, 2, 2), dtype=np.uint16)
    aligned[:, 0] = np.array([100, 200, 300])[:, None, None]  # DAPI per cycle
    aligned[:, 1] = np.array([10, 20, 30])[:, None, None]
    aligned[:, 2] = 40
    field = np.full((2, 2), 2.0)
    out = illumination_corrected(aligned, field, dapi_index=0, dapi_cycle=2, cyto_cycle=1)
    assert out.dtype == np.uint16 and out.shape == (3, 2, 2)
    np.testing.assert_array_equal(out[:, 0, 0], [150, 10, 20])
    np.testing.assert_array_equal(illumination_corrected(aligned)[:, 0, 0], [100, 10, 40])
    with pytest.raises(OpsflowError, match="> 0"):
        illumination_corrected(aligned, np.zeros((2, 2)))
    spots = np.array([[[1.0]], [[9.0]], [[2.0]], [[3.0]]])
    assert cytoplasm_image(spots, indices=(0, 1, 2, 3))[0, 0] == 2.5  # median skips spot

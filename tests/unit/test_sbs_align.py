import numpy as np
import pytest
from scipy import ndimage as ndi

from opsflow.errors import OpsflowError
from opsflow.registration import estimate_shift, shift_frame
from opsflow.sbs import align_cycles, estimate_channel_shifts, estimate_cycle_shifts


def _blobs(shape=(128, 128), n=60, seed=0) -> np.ndarray:
    """A nucleus-like reference: smooth random blobs, float."""
    rng = np.random.default_rng(seed)
    img = np.zeros(shape)
    ys, xs = rng.integers(8, shape[0] - 8, n), rng.integers(8, shape[1] - 8, n)
    img[ys, xs] = rng.uniform(500, 1500, n)
    return ndi.gaussian_filter(img, 3) * 50 + 100


def _fourier_shift(image: np.ndarray, shift) -> np.ndarray:
    """Band-limited shift, independent of the code under test: out(y) = image(y - shift)."""
    return np.fft.ifftn(ndi.fourier_shift(np.fft.fftn(image), shift)).real


@pytest.mark.parametrize("shift", [(2.3, -1.7), (-3.0, 0.4), (0.0, 0.0)])
def test_estimate_shift_recovers_subpixel_shift(shift):
    ref = _blobs()
    moving = _fourier_shift(ref, shift)
    est = estimate_shift(ref, moving, window=0.6, upsample_factor=20)
    np.testing.assert_allclose(est, shift, atol=0.1)


def test_shift_frame_undoes_integer_shift_exactly():
    ref = _blobs().astype(np.uint16)
    moving = np.roll(ref, (3, -2), axis=(0, 1))
    back = shift_frame(moving, np.array([3.0, -2.0]))
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back[5:-5, 5:-5], ref[5:-5, 5:-5])
    # rows shifted in from outside are 0, never wrapped-around signal
    assert (back[-3:] == 0).all()


def test_align_cycles_registers_cycles_and_keeps_channels():
    dapi = _blobs(seed=2)
    spots = [_blobs(n=200, seed=10 + c) for c in range(4)]
    truth = np.stack([dapi, *spots])  # (5, Y, X) in the cycle-0 frame
    shifts = np.array([[0, 0], [1.5, -2.25], [-2.0, 0.75]])
    cycles = np.stack([np.stack([_fourier_shift(f, s) for f in truth]) for s in shifts]).clip(
        0, 65535
    )
    cycles = np.rint(cycles).astype(np.uint16)
    np.testing.assert_allclose(
        estimate_cycle_shifts(cycles[:, 0], upsample_factor=20), shifts, atol=0.1
    )
    aligned = align_cycles(cycles, within_cycle=False, upsample_factor=20)
    assert aligned.shape == cycles.shape and aligned.dtype == np.uint16
    inner = (slice(None), slice(8, -8), slice(8, -8))
    for k in range(3):
        err = np.abs(aligned[k][inner].astype(float) - truth[inner])
        before = np.abs(cycles[k][inner].astype(float) - truth[inner])
        # linear interpolation of a smooth image: small residual, far below misregistration
        assert err.mean() < 0.1 * before.mean() + 1.0


def test_align_within_cycle_registers_shifted_base_channel():
    rng = np.random.default_rng(3)
    base = _blobs(seed=4)  # shared background seen by every base channel
    cycles = []
    for _ in range(3):  # the same channel offset in every cycle, plus independent noise
        cycle = np.stack([_blobs(seed=5), base, base, _fourier_shift(base, (1.0, -1.5)), base])
        cycles.append(np.rint(cycle + rng.normal(0, 5, cycle.shape)).astype(np.uint16))
    shifts = estimate_channel_shifts(cycles, base_indices=[1, 2, 3, 4], upsample_factor=20)
    np.testing.assert_allclose(shifts[3], [1.0, -1.5], atol=0.1)
    np.testing.assert_allclose(shifts[[0, 1, 2, 4]], 0, atol=0.1)
    aligned = align_cycles(np.stack(cycles), within_cycle=True, upsample_factor=20)
    inner = (slice(8, -8), slice(8, -8))
    after = np.abs(aligned[0, 3][inner].astype(float) - base[inner]).mean()
    before = np.abs(cycles[0][3][inner].astype(float) - base[inner]).mean()
    assert after < 0.25 * before


def test_align_cycles_with_dapi_only_in_first_cycle():
    dapi = _blobs(seed=6)
    bases = np.stack([_blobs(seed=7 + c) for c in range(4)])
    first = np.rint(np.concatenate([dapi[None], bases])).astype(np.uint16)
    later = np.rint(np.stack([_fourier_shift(b, (2.0, 1.0)) for b in bases])).astype(np.uint16)
    aligned = align_cycles([first, later], within_cycle=False, upsample_factor=20)
    assert aligned.shape == (2, 5, 128, 128)
    np.testing.assert_array_equal(aligned[1, 0], aligned[0, 0])  # DAPI copied
    inner = (slice(None), slice(8, -8), slice(8, -8))
    assert np.abs(aligned[1, 1:][inner].astype(float) - bases[inner]).mean() < 2.0


def test_align_cycles_rejects_bad_choices():
    stack = np.zeros((2, 5, 32, 32), dtype=np.uint16)
    with pytest.raises(OpsflowError, match=r"dapi.*sbs_mean"):
        align_cycles(stack, method="bogus")
    with pytest.raises(ValueError, match="channels"):
        align_cycles(np.zeros((2, 3, 32, 32), dtype=np.uint16))
    # the nuclear channel is named before it is looked up: one clear sentence, not a
    # bare "'Hoechst' is not in list" from list.index
    with pytest.raises(OpsflowError, match=r"dapi_channel 'Hoechst' is not in channel_names"):
        align_cycles(stack, dapi_channel="Hoechst")


def test_estimate_shift_of_blank_images_is_zero():
    blank = np.zeros((64, 64))
    np.testing.assert_array_equal(estimate_shift(blank, blank), [0.0, 0.0])

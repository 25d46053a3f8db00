import numpy as np
import pytest

from vidstyle.flow import FlowConfig, FlowEstimator, estimate_flow, resize_flow
from vidstyle.flow.synthetic import shift_image, textured_image

SHIFT = (2.6, -1.4)  # sub-pixel, both axes


def interior(a: np.ndarray, margin: int = 16) -> np.ndarray:
    return a[margin:-margin, margin:-margin]


@pytest.mark.parametrize(
    "method,preset,scale",
    [("dis", "ultrafast", 1.0), ("dis", "fast", 1.0), ("dis", "medium", 1.0), ("dis", "fast", 0.5), ("farneback", "fast", 1.0)],
)
def test_flow_recovers_a_translation_within_half_a_pixel(method, preset, scale):
    frame2 = textured_image(120, 160, seed=1)
    # frame1(x) = frame2(x + shift): the flow frame1 -> frame2 is +shift everywhere.
    frame1 = shift_image(frame2, -SHIFT[0], -SHIFT[1])
    flow = estimate_flow(frame1, frame2, method=method, preset=preset, scale=scale)
    assert flow.shape == (120, 160, 2) and flow.dtype == np.float32
    err = np.linalg.norm(interior(flow) - np.array(SHIFT, np.float32), axis=-1)
    assert err.mean() < 0.5, f"mean end-point error {err.mean():.3f} px"
    assert np.median(err) < 0.3


def test_flow_of_identical_frames_is_zero():
    frame = textured_image(96, 128, seed=2)
    flow = estimate_flow(frame, frame, preset="medium")
    assert np.abs(flow).max() < 0.05


def test_estimator_reuses_itself_and_gives_both_directions():
    frame2 = textured_image(120, 160, seed=4)
    frame1 = shift_image(frame2, -3.0, 0.0)
    estimator = FlowEstimator(preset="fast")
    fw, bw = estimator.bidirectional(frame1, frame2)
    assert np.median(interior(fw)[..., 0]) == pytest.approx(3.0, abs=0.3)
    assert np.median(interior(bw)[..., 0]) == pytest.approx(-3.0, abs=0.3)
    # Same answer on a second call: no state leaks between pairs.
    assert np.allclose(estimator(frame1, frame2), fw)


def test_resize_flow_rescales_vectors():
    flow = np.zeros((30, 40, 2), np.float32)
    flow[..., 0], flow[..., 1] = 1.5, -2.0
    big = resize_flow(flow, 80, 90)
    assert big.shape == (90, 80, 2)
    assert np.allclose(big[..., 0], 3.0) and np.allclose(big[..., 1], -6.0)


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="preset"):
        FlowConfig(preset="slow")
    with pytest.raises(ValueError, match="method"):
        FlowConfig(method="raft")
    with pytest.raises(ValueError, match="scale"):
        FlowConfig(scale=0.0)
    with pytest.raises(ValueError, match="differ in size"):
        estimate_flow(np.zeros((20, 20, 3), np.uint8), np.zeros((20, 24, 3), np.uint8))

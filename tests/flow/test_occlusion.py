import numpy as np

from vidstyle.flow import FlowEstimator, disocclusion_mask, motion_boundary_mask, visibility_mask
from vidstyle.flow.synthetic import moving_square_frames, textured_image

H, W, SIZE, STEP = 120, 160, 40, 8


def square_scene():
    background = textured_image(H, W, seed=7)
    (frame_prev, frame_cur), positions = moving_square_frames(background, (50, 40), (STEP, 0), SIZE, 2)
    return frame_prev, frame_cur, positions


def region(x: int, y: int, w: int, h: int) -> np.ndarray:
    m = np.zeros((H, W), bool)
    m[y : y + h, x : x + w] = True
    return m


def test_true_flows_mark_exactly_the_revealed_region():
    _, _, ((x0, y0), (x1, _)) = square_scene()
    # Current frame A (square at x1) and previous frame B (square at x0); the flows are known exactly.
    flow_ab = np.zeros((H, W, 2), np.float32)
    flow_ab[y0 : y0 + SIZE, x1 : x1 + SIZE, 0] = -STEP
    flow_ba = np.zeros((H, W, 2), np.float32)
    flow_ba[y0 : y0 + SIZE, x0 : x0 + SIZE, 0] = STEP
    occluded = disocclusion_mask(flow_ab, flow_ba)
    revealed = region(x0, y0, STEP, SIZE)  # background the square uncovered by moving right
    assert occluded[revealed].all()
    assert not occluded[~revealed].any()


def test_dis_flows_mark_the_region_a_moving_square_reveals():
    frame_prev, frame_cur, ((x0, y0), _) = square_scene()
    estimator = FlowEstimator(preset="medium")
    flow_cp, flow_pc = estimator.bidirectional(frame_cur, frame_prev)
    visible = visibility_mask(flow_cp, flow_pc)
    revealed = region(x0, y0, STEP, SIZE)
    far_background = region(0, 0, W, 20) | region(0, H - 20, W, 20)
    assert visible[revealed].mean() < 0.5, "most of the revealed strip must be marked occluded"
    assert visible[far_background].mean() > 0.9, "static background far from the square stays visible"


def test_motion_boundaries_are_found_at_the_edge_of_a_moving_region():
    flow = np.zeros((H, W, 2), np.float32)
    flow[40:80, 60:100, 0] = 5.0
    boundary = motion_boundary_mask(flow)
    assert boundary[60, 59] and boundary[60, 60] and boundary[39, 80]
    assert not boundary[60, 80] and not boundary[10, 10]


def test_pixels_leaving_the_frame_are_not_visible():
    flow = np.zeros((H, W, 2), np.float32)
    flow[..., 0] = 10.0  # everything moves right: the right-most 10 columns leave the frame
    visible = visibility_mask(flow, -flow, motion_boundaries=False)
    assert visible[:, : W - 11].all()
    assert not visible[:, W - 9 :].any()

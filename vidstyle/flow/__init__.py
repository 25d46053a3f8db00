"""Optical flow, warping and occlusion masks, and the flow-based output stabilizer.

Flow convention everywhere: the flow from frame A to frame B is (H, W, 2) float32 (dx, dy) in
pixels with A(x) ≈ B(x + flow(x)); ``warp_image(B, flow)`` shows B on A's pixel grid.
"""
from vidstyle.flow.estimate import DIS_PRESETS, FLOW_METHODS, FlowConfig, FlowEstimator, estimate_flow, resize_flow, to_gray
from vidstyle.flow.flo import endpoint_error, read_flo, write_flo
from vidstyle.flow.occlusion import disocclusion_mask, motion_boundary_mask, visibility_mask
from vidstyle.flow.stabilize import FlowStabilizer, StabilizerConfig
from vidstyle.flow.warp import flow_to_tensor, inside_mask, warp_image, warp_tensor

__all__ = [
    "DIS_PRESETS",
    "FLOW_METHODS",
    "FlowConfig",
    "FlowEstimator",
    "estimate_flow",
    "resize_flow",
    "to_gray",
    "read_flo",
    "write_flo",
    "endpoint_error",
    "disocclusion_mask",
    "motion_boundary_mask",
    "visibility_mask",
    "FlowStabilizer",
    "StabilizerConfig",
    "warp_image",
    "warp_tensor",
    "flow_to_tensor",
    "inside_mask",
]

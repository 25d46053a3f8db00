"""Rendering a video over a Ray cluster (``vidstyle video --cluster``): segments at keyframes, one actor per
worker holding the networks, finished segments cached beside the output, joined by stream copy.

Ray is optional (``pip install 'vidstyle[cluster]'``): nothing here imports it until a render starts.
"""
from vidstyle.pipeline.cluster.driver import render_on_cluster
from vidstyle.pipeline.cluster.options import ClusterOptions
from vidstyle.pipeline.cluster.plan import Plan, Segment, plan_segments

__all__ = ["ClusterOptions", "Plan", "Segment", "plan_segments", "render_on_cluster"]

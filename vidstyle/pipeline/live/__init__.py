"""Live mode: camera -> stylizer -> window/recording/virtual camera with the least latency.

``session.run_live`` runs the loop (``LiveOptions`` in, ``LiveStats`` out); ``mailbox.LatestFrame``
hands the newest camera frame over; ``recorder.Recorder`` encodes on its own thread;
``model_cycle.ModelCycle`` holds what n/p step through and loads models in the background;
``sources`` opens cameras and video files and fits them to ``--size``; ``view`` blends, splits
and letterboxes.
"""
from vidstyle.pipeline.live.mailbox import LatestFrame, capture_into
from vidstyle.pipeline.live.model_cycle import CycleEntry, ModelCycle, SwitchRecord
from vidstyle.pipeline.live.recorder import Recorder
from vidstyle.pipeline.live.session import KEY_ESC, STRENGTH_STEP, TEMPORAL_MODES, LiveOptions, LiveStats, run_live
from vidstyle.pipeline.live.sources import FittedSource, open_live_source
from vidstyle.pipeline.live.view import FIT_MODES, Fit, blend, split_view

__all__ = [
    "FIT_MODES", "KEY_ESC", "STRENGTH_STEP", "TEMPORAL_MODES", "CycleEntry", "Fit", "FittedSource", "LatestFrame",
    "LiveOptions", "LiveStats", "ModelCycle", "Recorder", "SwitchRecord", "blend", "capture_into",
    "open_live_source", "run_live", "split_view",
]

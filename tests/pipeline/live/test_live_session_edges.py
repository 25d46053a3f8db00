"""The live loop's edges, headless: switching while a model loads, keys, pause, device checks first,
aspect ratio, snapshots and the end of a file source."""
from __future__ import annotations

import glob
import os
import queue
import statistics
import threading
import time

import pytest

from vidstyle.errors import DeviceError, InputError
from vidstyle.io.synthetic import TestPatternSource, read_frame_index, write_test_clip
from vidstyle.pipeline.live import LiveOptions, run_live
from vidstyle.runtime.base import FunctionStylizer

CAMERA_FPS = 30
INTERVAL_MS = 1000 / CAMERA_FPS


def invert_stylizer() -> FunctionStylizer:
    return FunctionStylizer(lambda image: 255 - image, name="invert")


def camera(frames=None) -> TestPatternSource:
    return TestPatternSource(64, 48, fps=CAMERA_FPS, realtime=True, frames=frames)


def test_switching_to_a_model_that_loads_slowly_keeps_frames_coming():
    load_seconds = 0.6

    def slow_half():
        time.sleep(load_seconds)  # a model file read and compiled
        return FunctionStylizer(lambda image: image // 2, name="half")

    keys: queue.Queue = queue.Queue()
    seen = []

    def on_frame(info):
        seen.append((info["model"], info["loading"]))
        if info["index"] == 10:
            keys.put("n")

    stats = run_live(LiveOptions(camera=camera(), models=[invert_stylizer(), slow_half], display=False, frames=60,
                                 keys=keys, on_frame=on_frame))
    [switch] = stats.completed_switches
    assert switch.label == "slow_half" and switch.load_ms >= load_seconds * 1000
    # The old style kept running while the new model loaded: frames every camera interval, no freeze.
    during = [model for model, loading in seen if loading == "slow_half"]
    assert set(during) == {"invert"} and len(during) >= 0.5 * load_seconds * CAMERA_FPS
    assert statistics.median(switch.gaps_ms) <= 1.5 * INTERVAL_MS
    # A blocking load would leave one gap as long as the load; a busy test machine may add a hiccup.
    assert switch.max_gap_ms < 0.4 * switch.load_ms
    # ... and the new style came as soon as the model was ready (the next camera frame or so).
    assert switch.key_to_style_ms <= switch.load_ms + 4 * INTERVAL_MS
    assert seen[-1] == ("slow_half", None)
    assert stats.frames_dropped <= 3


def test_keys_typed_at_once_are_all_handled_in_order():
    keys: queue.Queue = queue.Queue()
    strengths = []

    def on_frame(info):
        strengths.append(info["strength"])
        if info["index"] == 3:
            for key in "[[[]":
                keys.put(key)

    stats = run_live(LiveOptions(camera=camera(), models=[invert_stylizer()], display=False, frames=8,
                                 keys=keys, on_frame=on_frame))
    assert stats.keys == ["[", "[", "[", "]"]
    assert strengths[:4] == [1.0] * 4 and strengths[-1] == 0.8


def test_pause_freezes_the_stream_and_fps_leaves_it_out():
    keys: queue.Queue = queue.Queue()
    shown = []
    pause_seconds = 0.8

    def on_frame(info):
        shown.append(read_frame_index(255 - info["image"]))
        if info["index"] == 5:
            keys.put(" ")
            threading.Timer(pause_seconds, keys.put, (" ",)).start()

    stats = run_live(LiveOptions(camera=camera(), models=[invert_stylizer()], display=False, frames=30,
                                 keys=keys, on_frame=on_frame))
    assert stats.paused_seconds == pytest.approx(pause_seconds, abs=0.2)
    # Frames captured meanwhile were not shown, nor queued: the stream resumes at the live frame ...
    assert shown[6] - shown[5] >= 0.6 * pause_seconds * CAMERA_FPS
    # ... and they are not "skipped because the model was slow".
    assert stats.frames_missed >= 0.6 * pause_seconds * CAMERA_FPS and stats.frames_dropped <= 3
    from vidstyle.cli.live import slow_model_hint

    assert slow_model_hint(stats) is None
    assert stats.fps == pytest.approx(stats.frames_shown / (stats.seconds - stats.paused_seconds))
    assert stats.fps > 0.7 * CAMERA_FPS > stats.frames_shown / stats.seconds


def test_a_missing_camera_fails_before_any_model_loads():
    loaded = []

    def model():
        loaded.append(True)
        return invert_stylizer()

    started = time.perf_counter()
    with pytest.raises(InputError, match="cannot open camera"):
        run_live(LiveOptions(camera="/dev/video-missing", models=[model], display=False))
    assert loaded == [] and time.perf_counter() - started < 5


@pytest.mark.skipif(bool(glob.glob("/dev/video*")), reason="a video device exists: the virtual camera may open")
def test_a_missing_virtual_camera_fails_before_the_model_the_window_and_the_recording(tmp_path, monkeypatch):
    clip = write_test_clip(tmp_path / "cam.mp4", width=64, height=48, frames=10, audio=False)
    # A display that does not exist: had the window been opened first, its error would be the one raised.
    monkeypatch.setenv("DISPLAY", ":4321")
    loaded = []

    def model():
        loaded.append(True)
        return invert_stylizer()

    with pytest.raises(DeviceError, match="(?i)virtual"):
        run_live(LiveOptions(camera=str(clip.path), models=[model], display=True, virtual_cam=True,
                             record=str(tmp_path / "rec.mp4")))
    assert loaded == [] and sorted(os.listdir(tmp_path)) == ["cam.mp4"]


def test_size_on_a_file_source_keeps_the_aspect_ratio(tmp_path):
    clip = write_test_clip(tmp_path / "wide.mp4", width=160, height=90, frames=10, audio=False)
    outputs = {}
    for fit in ("letterbox", "crop", "stretch"):
        seen = []
        stats = run_live(LiveOptions(camera=str(clip.path), models=[invert_stylizer()], display=False, frames=2,
                                     size=(64, 64), fit=fit, on_frame=lambda info: seen.append(info["image"])))
        assert stats.frames_shown == 2 and seen[0].shape == (64, 64, 3)
        outputs[fit] = seen[0]
    # Letterbox: 64x36 of picture between black bars, which the (inverting) model never saw.
    assert (outputs["letterbox"][:13] == 0).all() and (outputs["letterbox"][-13:] == 0).all()
    assert outputs["letterbox"][15:49].mean() > 60
    # Crop and stretch fill the frame.
    assert outputs["crop"][:13].mean() > 60 and outputs["stretch"][:13].mean() > 60


def test_snapshots_and_the_end_of_a_file_source_are_reported(tmp_path):
    clip = write_test_clip(tmp_path / "cam.mp4", width=64, height=48, frames=15, fps=30, audio=False)
    keys: queue.Queue = queue.Queue()
    messages = []

    def on_frame(info):
        if info["index"] == 2:
            keys.put("c")

    stats = run_live(LiveOptions(camera=str(clip.path), models=[invert_stylizer()], display=False, keys=keys,
                                 on_frame=on_frame, snapshot_dir=str(tmp_path), on_message=messages.append))
    assert stats.end == "source ended" and 1 <= stats.frames_shown <= 15
    [snapshot] = stats.snapshots
    assert snapshot.parent == tmp_path and snapshot.is_file() and messages == [f"saved snapshot {snapshot}"]
    from vidstyle.cli.live import summary_lines

    lines = summary_lines(stats, ["invert"], str(clip.path))
    assert f"live: snapshot {snapshot}" in lines
    assert lines[-1] == f"live: end of source: {clip.path} has no more frames"


def test_the_summary_reports_style_switches():
    from vidstyle.cli.live import summary_lines
    from vidstyle.pipeline.live import LiveStats, SwitchRecord

    stats = LiveStats(frames_shown=300, frames_captured=300, seconds=12.0, paused_seconds=2.0,
                      intervals_ms=[33.0] * 10, end="quit")
    stats.switches = [SwitchRecord("mosaic-fast", requested_at=1.0, load_ms=2400.0, shown_at=3.45, gaps_ms=[33.0, 61.0]),
                      SwitchRecord("starry_night-fast-painted", requested_at=5.0, load_ms=0.0, shown_at=5.04)]
    lines = summary_lines(stats)
    assert "(30.0 fps, 2.0 s paused)" in lines[0]
    assert lines[1] == ("live: 2 style switches, key to new style median 2450 ms, longest 2450 ms; 1 loaded a model in "
                        "the background (load 2400 ms, key to new style 2450 ms), frames kept coming (longest gap "
                        "61 ms, usual 33 ms)")

"""Live pipeline: newest-frame-only capture, latency, recording, camera faults (headless)."""
from __future__ import annotations

import os
import threading
import time
from fractions import Fraction

import numpy as np
import pytest

from vidstyle.errors import InputError
from vidstyle.io.camera import CameraSource
from vidstyle.io.probe import probe_video
from vidstyle.io.synthetic import TestPatternSource, read_frame_index, write_test_clip
from vidstyle.pipeline.live import LatestFrame, LiveOptions, blend, run_live, split_view
from vidstyle.runtime.base import FunctionStylizer
from vidstyle.types import Frame

invert = FunctionStylizer(lambda image: 255 - image, name="invert")


def frame(i: int) -> Frame:
    return Frame(image=np.zeros((2, 2, 3), np.uint8), pts=i, time_base=Fraction(1, 30), index=i)


def test_latest_frame_keeps_only_the_newest():
    slot = LatestFrame()
    for i in range(5):
        slot.put(frame(i))
    assert slot.get().index == 4
    assert slot.dropped == 4 and slot.captured == 5
    assert slot.get(timeout=0.01) is None and not slot.ended
    slot.close()
    assert slot.ended and slot.get() is None


def test_latest_frame_hands_over_the_producers_error():
    slot = LatestFrame()
    slot.put(frame(0))
    slot.close(InputError("camera gone"))
    assert slot.get().index == 0  # frames before the failure still arrive
    with pytest.raises(InputError, match="camera gone"):
        slot.get()


def test_latest_frame_wakes_a_waiting_consumer():
    slot = LatestFrame()
    threading.Timer(0.05, lambda: slot.put(frame(7))).start()
    started = time.perf_counter()
    got = slot.get(timeout=2.0)
    assert got.index == 7 and time.perf_counter() - started < 1.0


def test_headless_session_with_a_slow_model_skips_stale_frames():
    def slow(image):
        time.sleep(0.05)  # 20 fps model, 60 fps camera
        return 255 - image

    shown = []
    stats = run_live(
        LiveOptions(
            camera=TestPatternSource(64, 48, fps=60, realtime=True), models=[FunctionStylizer(slow)], display=False,
            frames=15, on_frame=lambda info: shown.append(read_frame_index(255 - info["image"])),
        )
    )
    assert stats.frames_shown == 15
    assert stats.frames_dropped > 10  # the camera ran ahead; old frames were skipped, not queued
    # Each shown frame is (about) the newest: latency stays near model time + one camera interval.
    # Queued frames would make latency grow by ~33 ms per frame (median ~250 ms here).
    assert stats.latency_ms_median < 150
    assert shown == sorted(shown) and len(set(shown)) == 15


def test_file_camera_records_every_shown_frame(tmp_path):
    clip = write_test_clip(tmp_path / "cam.mp4", width=96, height=64, frames=45, fps=30, audio=False)
    stats = run_live(
        LiveOptions(camera=str(clip.path), models=[invert], display=False, frames=30, record=str(tmp_path / "rec.mkv"))
    )
    assert stats.frames_shown == 30 and stats.recordings == [tmp_path / "rec.mkv"]
    rec = probe_video(tmp_path / "rec.mkv", keep_images=True)
    assert rec.frame_count == 30
    # Recorded at the capture clock: about 30 fps real time.
    assert float(rec.times[-1] - rec.times[0]) == pytest.approx(29 / 30, abs=0.25)
    assert [read_frame_index(255 - im) for im in rec.images] == sorted(read_frame_index(255 - im) for im in rec.images)


def test_mirror_and_strength(tmp_path):
    seen = []
    run_live(
        LiveOptions(
            camera=TestPatternSource(64, 48, frames=1), models=[FunctionStylizer(lambda im: np.zeros_like(im))],
            display=False, mirror=True, strength=0.5, on_frame=lambda info: seen.append(info["image"]),
        )
    )
    from vidstyle.io.synthetic import pattern_frame

    expected = (pattern_frame(0, 64, 48, 30.0)[:, ::-1] * 0.5).round()
    assert np.abs(seen[0].astype(int) - expected).max() <= 1


def test_blend_and_split_view():
    a = np.full((4, 6, 3), 200, np.uint8)
    b = np.zeros((4, 6, 3), np.uint8)
    assert blend(a, b, 1.0) is b and blend(a, b, 0.0) is a
    assert int(blend(a, b, 0.25)[0, 0, 0]) == 150
    view = split_view(a, b)
    assert (view[:, 0] == 200).all() and (view[:, -1] == 0).all()


def test_camera_that_disappears_fails_clearly_and_keeps_the_recording(tmp_path):
    # OpenCV reads a file like a device; deleting it makes every reconnection attempt fail.
    clip = write_test_clip(tmp_path / "cam.mp4", width=96, height=64, frames=20, fps=30, audio=False)
    camera = CameraSource(str(clip.path), reconnect_seconds=0.5)
    os.unlink(clip.path)
    with pytest.raises(InputError, match="stopped delivering frames"):
        run_live(LiveOptions(camera=camera, models=[invert], display=False, record=str(tmp_path / "rec.mp4")))
    rec = probe_video(tmp_path / "rec.mp4")
    assert 1 <= rec.frame_count <= 20
    assert [p.name for p in tmp_path.iterdir() if ".partial-" in p.name] == []


def test_camera_that_does_not_open():
    with pytest.raises(InputError, match="cannot open camera"):
        CameraSource("/dev/video-does-not-exist")


def test_temporal_trained_runs_the_models_temporal_variant(tmp_path, monkeypatch):
    import torch

    from vidstyle.errors import ModelError
    from vidstyle.io.synthetic import pattern_frame
    from vidstyle.models import build_network, full_arch_params, save_model
    from vidstyle.runtime import create_stylizer

    meta = {"architecture": "fast", "arch_params": full_arch_params("fast")}
    torch.manual_seed(0)
    save_model(tmp_path / "toy-fast.safetensors", build_network("fast"), meta)
    torch.manual_seed(1)
    save_model(tmp_path / "toy-fast-temporal.safetensors", build_network("fast"), {**meta, "temporal": True})
    save_model(tmp_path / "lonely-fast.safetensors", build_network("fast"), meta)
    monkeypatch.setenv("VIDSTYLE_MODELS", str(tmp_path))

    shown = []
    run_live(LiveOptions(camera=TestPatternSource(64, 48, frames=1), models=["toy-fast"], display=False,
                         temporal="trained", backend="torch", on_frame=lambda info: shown.append(info["image"])))
    image = pattern_frame(0, 64, 48, 30.0)
    temporal = create_stylizer("toy-fast-temporal", backend="torch").stylize(image)
    plain = create_stylizer("toy-fast", backend="torch").stylize(image)
    assert np.array_equal(shown[0], temporal) and not np.array_equal(temporal, plain)
    from vidstyle.pipeline.live import ModelCycle

    cycle = ModelCycle.with_registry(["toy-fast-temporal"], temporal_only=True)  # what n/p go through
    assert cycle[0] == "toy-fast-temporal" and "toy-fast" not in cycle and "lonely-fast" not in cycle
    with pytest.raises(ModelError, match="temporal"):
        run_live(LiveOptions(camera=TestPatternSource(64, 48, frames=1), models=["lonely-fast"], display=False,
                             temporal="trained"))

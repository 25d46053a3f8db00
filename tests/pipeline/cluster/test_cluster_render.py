"""vidstyle video --cluster on a real local Ray (2 CPUs): the joined output against a single-process render,
warping error at the joins, a worker killed mid-run, Ctrl-C and resumption."""
from __future__ import annotations

import _thread
import logging
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vidstyle.errors import InputError
from vidstyle.io.probe import probe_video
from vidstyle.io.synthetic import synthetic_style, write_test_clip
from vidstyle.models.registry import find_model
from vidstyle.pipeline.cluster import ClusterOptions
from vidstyle.pipeline.video import stylize_video
from vidstyle.temporal.evaluate import WarpingErrorMeter

ray = pytest.importorskip("ray")

MODEL = "starry_night-fast-painted"
# The same stylizer settings on both sides (inference threads change float rounding), lossless H.264 (crf 0)
# so decoded frames are exactly what was encoded.
SAME = {"threads": 1, "crf": 0, "progress": False}


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    # 75 frames with a keyframe every 10: segments start at keyframes or, where none is near, between them.
    return write_test_clip(tmp_path_factory.mktemp("clip") / "in.mp4", seconds=3.0, fps=25, keyint=10)


@pytest.fixture(scope="module")
def reference(clip, tmp_path_factory):
    """The single-process render every cluster render of ``clip`` must reproduce."""
    out = tmp_path_factory.mktemp("reference") / "single.mp4"
    stylize_video(clip.path, out, MODEL, **SAME)
    return out


def cluster(segment_frames=25, **kw):
    return ClusterOptions(spec="local:2", segment_frames=segment_frames, **kw)


def assert_same_file(a: Path, b: Path, pixels: bool = True):
    pa, pb = probe_video(a, keep_images=True), probe_video(b, keep_images=True)
    assert pa.frame_count == pb.frame_count > 0
    assert pa.times == pb.times
    assert [x.packets for x in pa.audio] == [x.packets for x in pb.audio]
    if pixels:
        for i, (x, y) in enumerate(zip(pa.images, pb.images)):
            assert np.array_equal(x, y), f"frame {i} differs"
    return pa, pb


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".partial-" in p.name or p.name.endswith(".cluster-cache")]


def test_segments_join_into_the_single_process_render(tmp_path, clip, reference):
    result = stylize_video(clip.path, tmp_path / "cluster.mp4", MODEL, cluster=cluster(), **SAME)
    assert len(result.cluster["segments"]) == 3 and result.cluster["resumed"] == 0
    assert result.frames_out == 75 and result.cluster["keyframes"] == 8
    assert_same_file(reference, tmp_path / "cluster.mp4")
    assert leftovers(tmp_path) == []


def test_a_cut_keeps_the_timeline_and_audio_of_a_single_render(tmp_path, clip):
    cut = {"start": 0.5, "end": 2.5}
    stylize_video(clip.path, tmp_path / "single.mkv", MODEL, **cut, **SAME)
    result = stylize_video(clip.path, tmp_path / "cluster.mkv", MODEL, cluster=cluster(16), **cut, **SAME)
    assert len(result.cluster["segments"]) == 4
    single, _ = assert_same_file(tmp_path / "single.mkv", tmp_path / "cluster.mkv")
    assert single.frame_count == 50 and single.times[0] == 0


def join_errors(src: Path, out: Path, segments: list[dict]) -> tuple[list[float], float]:
    """E_warp of each output frame pair, and of the pairs across a join, against the clip's mean."""
    original = probe_video(src, keep_images=True).images
    stylized = probe_video(out, keep_images=True).images
    meter = WarpingErrorMeter()
    for o, s in zip(original[-len(stylized):], stylized):
        meter.update(o, s)
    # errors[k]: pair (k, k + 1); a join with a cross-fade spans every pair from before the fade to after it.
    joins = [max(meter.errors[s["first"] - 1:s["first"] + s["fade"]]) for s in segments[1:]]
    return joins, meter.mean


def test_smooth_joins_flicker_no_more_than_the_rest(tmp_path, clip):
    result = stylize_video(clip.path, tmp_path / "smooth.mp4", MODEL, temporal="smooth", cluster=cluster(), **SAME)
    assert result.cluster["warmup"] >= 20
    joins, mean = join_errors(clip.path, tmp_path / "smooth.mp4", result.cluster["segments"])
    assert max(joins) <= 1.5 * mean, (joins, mean)


def test_optimize_joins_flicker_no_more_than_the_rest(tmp_path):
    clip = write_test_clip(tmp_path / "in.mp4", width=64, height=48, frames=18, fps=12, keyint=6)
    style = tmp_path / "style.png"
    Image.fromarray(synthetic_style(48, 64)).save(style)
    result = stylize_video(clip.path, tmp_path / "opt.mp4", None, temporal="optimize", style=str(style),
                           long_side=40, steps=6, cluster=cluster(6, fade_frames=3), progress=False)
    assert len(result.cluster["segments"]) == 3 and result.frames_out == 18
    assert [s["fade"] for s in result.cluster["segments"]] == [0, 3, 3]
    joins, mean = join_errors(clip.path, tmp_path / "opt.mp4", result.cluster["segments"])
    assert mean > 0 and max(joins) <= 3 * mean, (joins, mean)  # the cross-fade works at all
    if max(joins) > 1.5 * mean:  # the goal, not reached yet: the joins flicker 1.6-1.8x the mean here
        pytest.xfail(f"optimize joins flicker {max(joins) / mean:.2f}x the clip's mean (goal <= 1.5x)")


def _descendants_titled(prefix: str) -> list[int]:
    """PIDs of this test's descendant processes whose title starts with ``prefix`` (Ray retitles its workers)."""
    parents = {}
    titles = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            titles[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
    me = os.getpid()

    def mine(pid: int) -> bool:
        for _ in range(20):
            pid = parents.get(pid, 0)
            if pid == me:
                return True
            if pid <= 1:
                return False
        return False

    return [pid for pid, title in titles.items() if title.startswith(prefix) and mine(pid)]


def test_a_killed_worker_costs_only_its_segment(tmp_path, clip, reference):
    killed: list[int] = []
    stop = threading.Event()

    def kill_one_rendering_worker():
        while not stop.is_set() and not killed:
            for pid in _descendants_titled("ray::SegmentWorker.render"):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_one_rendering_worker, daemon=True)
    killer.start()
    try:
        result = stylize_video(clip.path, tmp_path / "cluster.mp4", MODEL, cluster=cluster(),
                               **SAME)
    finally:
        stop.set()
        killer.join()
    assert killed, "no worker was seen rendering"
    assert killed[0] not in [s["pid"] for s in result.cluster["segments"]]
    assert_same_file(reference, tmp_path / "cluster.mp4")
    assert result.frames_out == 75 and leftovers(tmp_path) == []


def test_ctrl_c_leaves_no_output_and_a_rerun_resumes(tmp_path, clip, reference):
    out = tmp_path / "out.mp4"
    cache = tmp_path / ".out.mp4.cluster-cache"

    caught = threading.Event()

    def interrupt_after_first_segment():
        while not list(cache.glob("*/*.json")):
            time.sleep(0.01)
        while not caught.is_set():  # as a user presses Ctrl-C again when the first is not seen at once
            _thread.interrupt_main()  # what Ctrl-C does
            caught.wait(1.0)

    threading.Thread(target=interrupt_after_first_segment, daemon=True).start()
    options = {"cluster": cluster(10), **SAME}
    try:
        with pytest.raises(KeyboardInterrupt):
            stylize_video(clip.path, out, MODEL, **options)
    finally:
        caught.set()
    assert not out.exists() and [p for p in tmp_path.iterdir() if ".partial-" in p.name] == []
    kept = list(cache.glob("*/*.json"))
    assert kept

    result = stylize_video(clip.path, out, MODEL, **options)
    assert 1 <= result.cluster["resumed"] < len(result.cluster["segments"])
    assert_same_file(reference, out)
    assert not cache.exists()


def test_files_travel_by_hash_where_a_worker_cannot_read_them(tmp_path):
    from vidstyle.pipeline.cluster.worker import FileStore, ShippedFile
    from vidstyle.utils.hashing import file_sha256

    model = Path(find_model(MODEL))
    data = model.read_bytes()
    elsewhere = tmp_path / "on-another-node" / model.name  # the caller's path, which this "node" lacks
    shipped = ShippedFile(name=model.name, sha256=file_sha256(model), size=len(data), path=str(elsewhere),
                          ref=[ray.put(data)])
    store = FileStore()
    store.folder = tmp_path / "store"
    local = store.local(shipped)
    assert local.parent == store.folder and local.read_bytes() == data
    # Other bytes at the caller's path are not taken for the file: the hash decides.
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    assert store.local(shipped) == local
    # Without shipped bytes, a path the worker cannot read is a one-line error.
    with pytest.raises(InputError, match="cannot read"):
        FileStore().local(ShippedFile(name="x.safetensors", sha256="0" * 64, size=1, path=str(tmp_path / "nope")))

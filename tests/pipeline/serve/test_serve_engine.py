"""The serve engine on its own: newest frame wins, background model loads, multi-style mixes, settings checks."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from vidstyle.errors import InputError
from vidstyle.io.synthetic import TestPatternSource
from vidstyle.pipeline.live.mailbox import capture_into
from vidstyle.pipeline.serve.engine import Channel, ChannelSettings, ModelStore, parse_settings
from vidstyle.runtime.base import Stylizer


class Tint(Stylizer):
    """A stylizer that paints every pixel one colour after ``delay`` seconds of "inference"."""

    def __init__(self, colour: tuple[int, int, int], delay: float = 0.0) -> None:
        self.colour = np.array(colour, np.uint8)
        self.delay = delay

    def stylize(self, image: np.ndarray) -> np.ndarray:
        time.sleep(self.delay)
        return np.broadcast_to(self.colour, image.shape).copy()


class Palette(Stylizer):
    """A multi-style stylizer: ``set_style`` picks the weighted mean of its styles' colours."""

    colours = {"red": (255, 0, 0), "blue": (0, 0, 255)}

    def __init__(self) -> None:
        self.styles = list(self.colours)
        self.mixes: list[dict] = []
        self._colour = np.array(self.colours["red"], np.float32)

    def set_style(self, mix: dict[str, float]) -> None:
        self.mixes.append(dict(mix))
        total = sum(mix.values())
        self._colour = sum(np.array(self.colours[k], np.float32) * w for k, w in mix.items()) / total

    def stylize(self, image: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self._colour.round().astype(np.uint8), image.shape).copy()


def store_of(models: dict, load_delay: dict | None = None) -> ModelStore:
    def factory(name: str) -> Stylizer:
        time.sleep((load_delay or {}).get(name, 0.0))
        return models[name]()

    return ModelStore(list(models), factory, warm_size=(32, 24))


def feed(channel: Channel, fps: float = 30.0, width: int = 64, height: int = 48):
    """A real-time pattern source feeding ``channel``; returns (source, stop event)."""
    source = TestPatternSource(width, height, fps=fps, realtime=True)
    stop = threading.Event()
    capture_into(source, channel.slot, stop)
    return source, stop


def collect(channel: Channel, seconds: float) -> list:
    outputs, version, end = [], 0, time.monotonic() + seconds
    while time.monotonic() < end:
        out = channel.output.wait_newer(version, timeout=max(0.01, end - time.monotonic()))
        if out is not None:
            outputs.append(out)
            version = out.version
    return outputs


def test_slow_model_gets_newest_frames_and_latency_stays_bounded():
    store = store_of({"slow": lambda: Tint((200, 10, 10), delay=0.1)})
    store.load("slow")
    channel = Channel("t", store, ChannelSettings(model="slow"))
    source, stop = feed(channel, fps=60)
    try:
        outputs = collect(channel, 1.5)
    finally:
        stop.set()
        channel.close()
        store.close()
    assert len(outputs) >= 5
    # The model takes 100 ms a frame at a 60 fps source: most frames are skipped, none queue up.
    assert channel.slot.dropped > len(outputs)
    latencies = [(o.ready - o.captured) * 1000 for o in outputs[2:]]
    assert max(latencies) < 250, latencies
    assert [o.version for o in outputs] == sorted(o.version for o in outputs)


def test_a_stalled_viewer_does_not_slow_the_worker_or_other_viewers():
    store = store_of({"tint": lambda: Tint((10, 200, 10), delay=0.005)})
    store.load("tint")
    channel = Channel("t", store, ChannelSettings(model="tint"))
    stalled = threading.Event()

    def stalled_viewer() -> None:
        channel.output.wait_newer(0, timeout=5)
        stalled.wait(5)  # holds the frame it got and never asks again

    thread = threading.Thread(target=stalled_viewer, daemon=True)
    thread.start()
    source, stop = feed(channel, fps=30)
    try:
        outputs = collect(channel, 1.5)
    finally:
        stalled.set()
        stop.set()
        channel.close()
        store.close()
    # About every camera frame reaches the live viewer (30 fps source, a 5 ms model).
    assert len(outputs) >= 30, len(outputs)


def test_a_model_loads_in_the_background_while_frames_keep_coming():
    store = store_of({"red": lambda: Tint((255, 0, 0)), "blue": lambda: Tint((0, 0, 255))}, load_delay={"blue": 1.0})
    store.load("red")
    channel = Channel("t", store, ChannelSettings(model="red"))
    source, stop = feed(channel, fps=30)
    try:
        collect(channel, 0.3)
        switched_at = time.perf_counter()
        channel.update({"model": "blue"})
        assert "loading blue" in channel.stats().status
        outputs = collect(channel, 2.0)
        stats = channel.stats()
    finally:
        stop.set()
        channel.close()
        store.close()
    colours = [tuple(o.image[0, 0]) for o in outputs]
    first_blue = colours.index((0, 0, 255))
    # Red frames kept coming during the 1 s load, then blue ones: no gap near the load's length (a load on the
    # worker's thread would leave one of a second; half that allows for a busy machine's scheduling).
    assert first_blue >= 15 and set(colours[:first_blue]) == {(255, 0, 0)}
    assert set(colours[first_blue:]) == {(0, 0, 255)}
    gaps = np.diff([o.ready for o in outputs])
    assert gaps.max() < 0.5, gaps.max()
    assert outputs[first_blue].ready - switched_at >= 1.0
    assert stats.model == "blue" and stats.status == ""


def test_a_model_that_fails_to_load_is_reported_and_the_old_one_keeps_running():
    def broken() -> Stylizer:
        raise InputError("model file is corrupt")

    store = store_of({"red": lambda: Tint((255, 0, 0)), "broken": broken})
    store.load("red")
    channel = Channel("t", store, ChannelSettings(model="red"))
    source, stop = feed(channel)
    try:
        channel.update({"model": "broken"})
        deadline = time.monotonic() + 5
        while store.status("broken") != "error" and time.monotonic() < deadline:
            time.sleep(0.02)
        outputs = collect(channel, 0.5)
        status = channel.stats().status
    finally:
        stop.set()
        channel.close()
        store.close()
    assert "broken failed to load: model file is corrupt" in status
    assert outputs and all(tuple(o.image[0, 0]) == (255, 0, 0) for o in outputs)


def test_strength_split_and_multi_style_mix():
    store = store_of({"palette": Palette})
    palette = store.load("palette")
    assert store.describe()[0]["styles"] == ["red", "blue"]
    channel = Channel("t", store, ChannelSettings(model="palette"))
    source, stop = feed(channel)
    try:
        channel.update({"mix": {"red": 0.5, "blue": 0.5}})
        collect(channel, 0.3)
        mixed = channel.output.latest
        channel.update({"strength": 0.0})
        collect(channel, 0.3)
        original = channel.output.latest
        channel.update({"strength": 1.0, "split": True})
        collect(channel, 0.3)
        split = channel.output.latest
    finally:
        stop.set()
        channel.close()
        store.close()
    assert tuple(mixed.image[10, 10]) == (128, 0, 128)
    assert palette.mixes == [{"blue": 0.5, "red": 0.5}]  # set once, not per frame
    from vidstyle.io.synthetic import pattern_frame

    assert np.array_equal(original.image, original.stylized)  # strength 0: the camera's own picture
    assert np.abs(original.image.astype(int) - pattern_frame(0, 64, 48, 30)[..., :].astype(int))[10:].mean() < 60
    width = split.image.shape[1]
    assert tuple(split.image[30, width - 5]) == (128, 0, 128) and tuple(split.image[30, 5]) != (128, 0, 128)


def test_on_demand_channel_works_only_while_watched():
    store = store_of({"red": lambda: Tint((255, 0, 0))})
    store.load("red")
    channel = Channel("camera", store, ChannelSettings(model="red"), jpeg_quality=80, on_demand=True)
    source, stop = feed(channel)
    try:
        assert collect(channel, 0.4) == []
        channel.viewers = 1
        outputs = collect(channel, 0.4)
    finally:
        stop.set()
        channel.close()
        store.close()
    assert outputs and outputs[-1].jpeg[:2] == b"\xff\xd8"  # encoded once for every MJPEG viewer


@pytest.mark.parametrize("changes, message", [
    ({"model": "other"}, "unknown model"),
    ({"strength": -0.1}, "strength"),
    ({"strength": float("inf")}, "strength"),
    ({"strength": True}, "strength"),
    ({"split": 1}, "split"),
    ({"mix": {"red": "1"}}, "mix"),
    ({"mix": {"red": 0, "blue": 0}}, "all 0"),
    ({"speed": 2}, "unknown setting"),
    ([], "JSON object"),
])
def test_settings_are_checked(changes, message):
    with pytest.raises(InputError, match=message):
        parse_settings(ChannelSettings(model="red"), changes, ["red", "blue"])


def test_a_loaded_models_mix_is_checked_against_its_styles():
    styles = ["red", "blue"]
    s = parse_settings(ChannelSettings(model="red"), {"mix": "red=3,blue=1"}, ["red"], styles)
    assert s.mix == (("red", 0.75), ("blue", 0.25))
    with pytest.raises(InputError, match="unknown style 'green'"):
        parse_settings(ChannelSettings(model="red"), {"mix": {"green": 1}}, ["red"], styles)
    with pytest.raises(InputError, match="holds one style"):
        parse_settings(ChannelSettings(model="red"), {"mix": {"red": 1}}, ["red"], [])


def test_settings_changes_apply_and_a_new_model_resets_the_mix():
    s = parse_settings(ChannelSettings(model="red"), {"mix": {"a": 1}, "strength": 0.25, "split": True}, ["red", "blue"])
    assert s == ChannelSettings(model="red", strength=0.25, split=True, mix=(("a", 1.0),))
    assert parse_settings(s, {"model": "blue"}, ["red", "blue"]).mix == ()


def test_webrtc_frames_in_and_out():
    """A channel fed decoded video frames (as the WebRTC receiver delivers them) returns yuv420p frames to send."""
    import av

    from vidstyle.io.synthetic import pattern_frame
    from vidstyle.types import Frame

    store = store_of({"keep": lambda: Tint((0, 0, 0))})
    store.load("keep")
    channel = Channel("t", store, ChannelSettings(model="keep", strength=0.0), video_frames=True)
    image = pattern_frame(5, 64, 48)
    decoded = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
    try:
        channel.put(Frame(image=decoded, pts=0, time_base=1, index=0, wallclock=time.perf_counter()))
        out = channel.output.wait_newer(0, timeout=5)
    finally:
        channel.close()
        store.close()
    assert out is not None and out.video_frame.format.name == "yuv420p"
    assert (out.video_frame.width, out.video_frame.height) == (64, 48)
    sent = out.video_frame.to_ndarray(format="rgb24").astype(int)
    assert np.abs(sent - image).mean() < 6  # two 4:2:0 conversions of the camera's own picture (strength 0)


def test_the_default_picker_offers_only_real_time_models():
    from vidstyle.models import list_models
    from vidstyle.pipeline.serve.app import live_models

    names = live_models()
    architectures = {m.name: (m.metadata or {}).get("architecture") for m in list_models()}
    assert names[0] == "starry_night-fast-painted"
    assert names and all(architectures[n] in ("fast", "multistyle") for n in names)
    assert not any(architectures[n] == "quality" for n in names)

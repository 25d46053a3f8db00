"""`vidstyle serve` in a real headless Chromium: the page, both camera modes, the controls, a screenshot,
and the WebRTC path's frame rate and glass-to-glass latency measured in the page.

The fake camera plays pattern frames whose index is drawn into them as a barcode (it survives the
style), so the page's frames can be compared with their exact input and timed from capture to display.
"""
from __future__ import annotations

import base64
import os
import statistics
import time

import cv2
import numpy as np
import pytest
from serve_helpers import CAMERA_FRAMES, CLIP_FPS, CLIP_SIZE, MODELS, Browser, difference_from_input, reference_frame

# Mean absolute difference (0-255) from the input: a stylized frame is far above it, compression alone
# (H.264 or VP8 and back, JPEG) far below the second.
STYLIZED_MIN_DIFFERENCE = 20.0
UNSTYLED_MAX_DIFFERENCE = 12.0
# The WebRTC round trip against what the server itself achieved meanwhile (its stylized frames per second,
# arrival-to-ready time and model time, all slower on a busy machine): the page shows nearly every frame the
# server made, and the transport (encode, network, decode, display: CPU work that slows down with the
# model's) adds a bounded delay, not a queue.
MIN_SHARE_OF_SERVER_FPS = 0.7
MAX_TRANSPORT_MS = 250.0
MAX_TRANSPORT_MODEL_TIMES = 2.0
# The product's targets at 640x480 (25 fps, 150 ms glass to glass) held on a quiet machine with the retired
# starry_night-fast (the first model's net without the full-resolution head); check them with
# VIDSTYLE_SERVE_MIN_FPS=25 VIDSTYLE_SERVE_MAX_LATENCY_MS=150.
MIN_FPS = float(os.environ.get("VIDSTYLE_SERVE_MIN_FPS", "0"))
MAX_LATENCY_MS = float(os.environ.get("VIDSTYLE_SERVE_MAX_LATENCY_MS", "inf"))
# Waits for the page: model loads take seconds, more on a busy machine.
PAGE_TIMEOUT_S = 90.0

GRAB_JS = """(() => {
  const el = document.getElementById(%r);
  const w = el.naturalWidth || el.videoWidth, h = el.naturalHeight || el.videoHeight;
  if (!w || !h) return null;
  const c = document.createElement("canvas");
  c.width = w; c.height = h;
  c.getContext("2d").drawImage(el, 0, 0, w, h);
  return c.toDataURL("image/png");
})()"""

# Reads the frame-index barcode (vidstyle.io.synthetic.pattern_frame: INDEX_BITS blocks across the top
# INDEX_BAND_FRACTION of the frame) from every frame the local (sent) and remote (stylized) videos
# present, with its time: the local frame's capture time, the remote frame's expected display time.
PROBE_JS = """(() => {
  const BITS = 12, BAND = 0.12;
  const probe = { local: [], remote: [] };
  function reader(video, list, capture) {
    const canvas = document.createElement("canvas");
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    const tick = (now, meta) => {
      const w = video.videoWidth, h = video.videoHeight;
      if (w && h) {
        canvas.width = w; canvas.height = h;
        ctx.drawImage(video, 0, 0, w, h);
        const band = Math.max(2, Math.floor(h * BAND)), block = Math.max(1, Math.floor(w / BITS));
        const data = ctx.getImageData(0, 0, w, band).data;
        let index = 0;
        for (let bit = 0; bit < BITS; bit++) {
          let sum = 0, n = 0;
          for (let y = Math.floor(band / 4); y < Math.floor(3 * band / 4); y += 2)
            for (let x = bit * block + Math.floor(block / 4); x < bit * block + Math.floor(3 * block / 4); x += 2) {
              const o = 4 * (y * w + x); sum += (data[o] + data[o + 1] + data[o + 2]) / 3; n++;
            }
          if (sum / n > 127) index |= 1 << bit;
        }
        const t = capture && meta.captureTime !== undefined ? meta.captureTime : meta.expectedDisplayTime;
        list.push({ index, t, shown: meta.expectedDisplayTime, presented: meta.presentedFrames });
      }
      video.requestVideoFrameCallback(tick);
    };
    video.requestVideoFrameCallback(tick);
  }
  reader(document.getElementById("local"), probe.local, true);
  reader(document.getElementById("remote"), probe.remote, false);
  window.__probe = probe;
  return true;
})()"""


def grab(browser: Browser, element_id: str) -> np.ndarray | None:
    """The frame an <img>/<video> shows now, as (H, W, 3) uint8 RGB."""
    url = browser.js(GRAB_JS % element_id)
    if not url:
        return None
    data = np.frombuffer(base64.b64decode(url.split(",", 1)[1]), np.uint8)
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def wait_for_frame(browser: Browser, element_id: str, accept, timeout: float = PAGE_TIMEOUT_S) -> np.ndarray:
    """Grab frames until ``accept(image)`` holds; returns that frame."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        image = grab(browser, element_id)
        if image is not None and image.shape[:2] == (CLIP_SIZE[1], CLIP_SIZE[0]):
            last = difference_from_input(image)
            if accept(image):
                return image
        time.sleep(0.2)
    status = browser.js("document.getElementById('status').textContent")
    raise AssertionError(f"no accepted frame in #{element_id} within {timeout} s (last index/difference {last}); "
                         f"status: {status!r}")


def stylized(image: np.ndarray) -> bool:
    return difference_from_input(image)[1] > STYLIZED_MIN_DIFFERENCE


def unstyled(image: np.ndarray) -> bool:
    return difference_from_input(image)[1] < UNSTYLED_MAX_DIFFERENCE


def split_view(image: np.ndarray) -> bool:
    """Left half the input, right half stylized."""
    index, _ = difference_from_input(image)
    ref = reference_frame(index).astype(np.int16)
    half, top = CLIP_SIZE[0] // 2, int(CLIP_SIZE[1] * 0.15)
    left = np.abs(image[top:, : half - 4].astype(np.int16) - ref[top:, : half - 4]).mean()
    right = np.abs(image[top:, half + 4:].astype(np.int16) - ref[top:, half + 4:]).mean()
    return left < UNSTYLED_MAX_DIFFERENCE and right > STYLIZED_MIN_DIFFERENCE


def colour_signature(image: np.ndarray) -> np.ndarray:
    """Mean and spread of each colour channel below the barcode: a style's palette, barely moved by the scene's motion."""
    body = image[int(image.shape[0] * 0.15):].reshape(-1, 3).astype(np.float32)
    return np.concatenate([body.mean(axis=0), body.std(axis=0)])


def palette_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(colour_signature(a) - colour_signature(b)).mean())


def check_new_style(browser: Browser, element_id: str, before: np.ndarray) -> None:
    """The stream now has another palette than ``before`` (frames already in flight may show the old one
    first), and keeps it: the change is the style's, not the scene's motion."""
    other = wait_for_frame(browser, element_id, lambda im: stylized(im) and palette_distance(im, before) > 8)
    time.sleep(0.5)
    same = wait_for_frame(browser, element_id, stylized)
    assert palette_distance(same, before) > 4 * palette_distance(same, other), (
        palette_distance(same, before), palette_distance(same, other))


def set_input(browser: Browser, element_id: str, value, event: str) -> None:
    prop = "checked" if isinstance(value, bool) else "value"
    js_value = str(value).lower() if isinstance(value, bool) else repr(str(value))
    browser.js(f"(() => {{ const el = document.getElementById({element_id!r}); el.{prop} = {js_value}; "
               f"el.dispatchEvent(new Event({event!r})); return true; }})()")


def channel_state(browser: Browser) -> dict:
    return browser.js("fetch(`api/state?channel=${encodeURIComponent(window.vidstyle.channel)}`).then(r => r.json())")


def switch_model(browser: Browser, name: str) -> None:
    set_input(browser, "model", name, "change")
    deadline = time.monotonic() + PAGE_TIMEOUT_S
    while channel_state(browser)["channel"]["stats"]["model"] != name:
        assert time.monotonic() < deadline, f"{name} was not running after {PAGE_TIMEOUT_S} s"
        time.sleep(0.2)


def element_rect(browser: Browser, element_id: str) -> tuple[int, int, int, int]:
    return tuple(round(v) for v in browser.js(
        f"(() => {{ const r = document.getElementById({element_id!r}).getBoundingClientRect(); "
        "return [r.left, r.top, r.width, r.height]; })()"))


def check_screenshot(browser: Browser, element_id: str, path, attempts: int = 5) -> None:
    """A screenshot of the page is not blank, and where the stream sits it shows the stream's picture.

    The stream is grabbed just before and just after the screenshot; the screenshot must show one of those
    two frames (same barcode, same picture at 64x48: the style's fine texture does not survive the page's
    rescaling pixel for pixel). A new frame may arrive in between, so a few attempts are allowed.
    """
    from vidstyle.io.synthetic import read_frame_index

    found = []
    for _ in range(attempts):
        before = grab(browser, element_id)
        browser.screenshot(path)
        after = grab(browser, element_id)
        shot = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        assert shot.std() > 20, "the page screenshot is blank"
        x, y, w, h = element_rect(browser, element_id)
        assert w >= 320 and h >= 240, (w, h)
        crop = cv2.resize(shot[y:y + h, x:x + w], CLIP_SIZE, interpolation=cv2.INTER_AREA)
        assert crop.std() > 20, "the stream's area of the screenshot is blank"
        small = cv2.resize(crop, (64, 48), interpolation=cv2.INTER_AREA).astype(np.float32)
        flat = np.abs(small - small.reshape(-1, 3).mean(axis=0)).mean()
        for frame in (before, after):
            moved = np.abs(small - cv2.resize(frame, (64, 48), interpolation=cv2.INTER_AREA).astype(np.float32)).mean()
            found.append((read_frame_index(crop), read_frame_index(frame), round(float(moved / flat), 2)))
            if found[-1][0] == found[-1][1] and moved < 0.3 * flat:
                return
        # On a busy machine the stream moves on between the two grabs: a screenshot of a frame between them is
        # the live stream too (the barcode counts up).
        shown, first, last = read_frame_index(crop), read_frame_index(before), read_frame_index(after)
        if None not in (shown, first, last) and first <= shown <= last:
            return
    raise AssertionError(f"the screenshot does not show the stream (index shown, index grabbed, difference): {found}")


@pytest.fixture(scope="module")
def browser(chromium, server, serve_media, tmp_path_factory):
    b = Browser(chromium, tmp_path_factory.mktemp("chromium") / "profile", camera_y4m=serve_media["y4m"])
    yield b
    # Hang up as the page does when left, so the server's client slots are free for the next tests.
    b.js("typeof stopSource === 'function' ? stopSource().then(() => true) : true")
    b.close()


def test_page_shows_the_server_camera_stylized_and_its_controls_work(browser, server, tmp_path):
    browser.goto(server.url)
    assert browser.js("document.title") == "vidstyle live"
    options = browser.wait_for("(() => { const o = [...document.getElementById('model').options].map(o => o.value); "
                               "return o.length ? o : null; })()")
    assert options == MODELS
    first = wait_for_frame(browser, "mjpeg", stylized)
    check_screenshot(browser, "mjpeg", tmp_path / "server-camera.png")
    browser.wait_for("/[1-9][0-9.]* fps stylized/.test(document.getElementById('readout').textContent)", timeout=30)
    try:
        # Strength 0 on the slider: the stream becomes the camera's own picture.
        set_input(browser, "strength", 0, "input")
        wait_for_frame(browser, "mjpeg", unstyled)
        set_input(browser, "strength", 1, "input")
        wait_for_frame(browser, "mjpeg", stylized)
        # Another style from the picker: a different palette on the same scene.
        switch_model(browser, MODELS[1])
        check_new_style(browser, "mjpeg", first)
        # Split view: the left half is the input, the right half stylized.
        set_input(browser, "split", True, "change")
        wait_for_frame(browser, "mjpeg", split_view)
    finally:
        set_input(browser, "split", False, "change")
        set_input(browser, "strength", 1, "input")
        set_input(browser, "model", MODELS[0], "change")
    # The snapshot button's request: the stylized frame as a PNG.
    snapshot = browser.js("fetch('api/snapshot.png?channel=camera').then(async r => "
                          "[r.status, r.headers.get('content-type'), (await createImageBitmap(await r.blob())).width])")
    assert snapshot == [200, "image/png", CLIP_SIZE[0]]


def test_browser_camera_over_webrtc_is_stylized_and_follows_the_controls(browser, server, tmp_path):
    browser.goto(server.url + "&source=browser")
    browser.wait_for("window.vidstyle && window.vidstyle.pc && window.vidstyle.pc.connectionState === 'connected'",
                     timeout=PAGE_TIMEOUT_S)
    first = wait_for_frame(browser, "remote", stylized)
    local = wait_for_frame(browser, "local", unstyled)  # the fake camera itself, as sent
    assert local.shape == first.shape
    check_screenshot(browser, "remote", tmp_path / "browser-camera.png")
    set_input(browser, "strength", 0, "input")
    wait_for_frame(browser, "remote", unstyled)
    set_input(browser, "strength", 1, "input")
    wait_for_frame(browser, "remote", stylized)
    switch_model(browser, MODELS[1])
    check_new_style(browser, "remote", first)
    # This connection has settings of its own: the server's camera kept its style.
    camera = browser.js("fetch('api/state?channel=camera').then(r => r.json())")["channel"]
    assert camera["model"] == MODELS[0]


def measure_round_trip(browser: Browser, seconds: float) -> tuple[float, float, int]:
    """(frames per second presented by the remote video, median glass-to-glass latency in ms, frames matched)."""
    browser.js(PROBE_JS)
    time.sleep(1.0)
    browser.js("window.__probe.local.length = 0; window.__probe.remote.length = 0; true")
    time.sleep(seconds)
    probe = browser.js("window.__probe")
    local, remote = probe["local"], probe["remote"]
    assert len(remote) > 2, probe
    span_s = (remote[-1]["shown"] - remote[0]["shown"]) / 1000
    fps = (remote[-1]["presented"] - remote[0]["presented"]) / span_s
    latencies = []
    for frame in remote:
        # The camera loops every CAMERA_FRAMES frames; the matching capture is the latest one of that index before display.
        sent = [f["t"] for f in local if f["index"] == frame["index"] and f["t"] <= frame["shown"]]
        if sent and frame["shown"] - sent[-1] < 500 * CAMERA_FRAMES / CLIP_FPS:
            latencies.append(frame["shown"] - sent[-1])
    assert len(latencies) >= 0.5 * len(remote), (len(latencies), len(remote))
    return fps, statistics.median(latencies), len(latencies)


def test_webrtc_frame_rate_and_glass_to_glass_latency(browser, server, capsys):
    browser.goto(server.url + "&source=browser")
    browser.wait_for("window.vidstyle && window.vidstyle.pc && window.vidstyle.pc.connectionState === 'connected'",
                     timeout=PAGE_TIMEOUT_S)
    wait_for_frame(browser, "remote", stylized)
    assert browser.js("document.getElementById('model').value") == MODELS[0]
    time.sleep(2.0)  # the bandwidth estimate ramps up
    fps, latency_ms, matched = measure_round_trip(browser, 5.0)
    server_stats = channel_state(browser)["channel"]["stats"]
    readout = browser.js("document.getElementById('readout').textContent")
    with capsys.disabled():
        print(f"\nserve WebRTC {CLIP_SIZE[0]}x{CLIP_SIZE[1]} {MODELS[0]}: {fps:.1f} fps in page, glass-to-glass "
              f"latency median {latency_ms:.0f} ms over {matched} frames (server: {server_stats['fps']:.1f} fps, "
              f"arrival to stylized {server_stats['latency_ms']:.0f} ms, model {server_stats['model_ms']:.0f} ms)")
        print(f"page readout: {readout}")
    assert fps >= MIN_SHARE_OF_SERVER_FPS * server_stats["fps"], (fps, server_stats)
    transport_allowance = MAX_TRANSPORT_MS + MAX_TRANSPORT_MODEL_TIMES * server_stats["model_ms"]
    assert latency_ms <= server_stats["latency_ms"] + transport_allowance, (latency_ms, server_stats)
    assert fps >= MIN_FPS, fps
    assert latency_ms <= MAX_LATENCY_MS, latency_ms

"""`vidstyle serve` over plain HTTP: the token, the MJPEG stream, settings validation, client limits,
slow viewers, and the command's errors and Ctrl-C."""
from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import time
from urllib.parse import urlsplit

import cv2
import numpy as np
import pytest
from serve_helpers import MAX_CLIENTS, MODELS, TOKEN, Server, difference_from_input

# Stylized frames differ from their input by far more than this (mean absolute difference, 0-255);
# compression alone (H.264 then JPEG) stays well below it.
STYLIZED_MIN_DIFFERENCE = 20.0


def connect(server: Server, timeout: float = 30.0) -> http.client.HTTPConnection:
    parts = urlsplit(server.url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def request(server: Server, method: str, path: str, body=None, token: str | None = TOKEN) -> tuple[int, dict, bytes]:
    conn = connect(server)
    headers = {"X-Vidstyle-Token": token} if token else {}
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = body if isinstance(body, (bytes, str)) else json.dumps(body)
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), data


class MJPEGReader:
    """A viewer of /stream.mjpg that parses the multipart stream by hand."""

    def __init__(self, server: Server, timeout: float = 60.0, receive_buffer: int | None = None) -> None:
        self.conn = connect(server, timeout)
        if receive_buffer is not None:
            # A small TCP window: a viewer that stops reading holds up the server's writes after a frame or two.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            sock.settimeout(timeout)
            sock.connect((self.conn.host, self.conn.port))
            self.conn.sock = sock
        self.conn.request("GET", "/stream.mjpg", headers={"X-Vidstyle-Token": TOKEN})
        self.response = self.conn.getresponse()
        self.status = self.response.status

    def frame(self) -> tuple[int, np.ndarray]:
        """(version, RGB image) of the next part."""
        headers = {}
        while True:
            line = self.response.fp.readline()
            if not line:
                raise EOFError("the stream ended")
            line = line.strip()
            if not line and headers:
                break
            if b":" in line:
                key, value = line.split(b":", 1)
                headers[key.strip().lower()] = value.strip()
        data = self.response.fp.read(int(headers[b"content-length"]))
        image = cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        return int(headers[b"x-frame-version"]), image

    def close(self) -> None:
        self.conn.close()


def wait_for_free_slots(server: Server, count: int, timeout: float = 10.0) -> None:
    """Wait until ``count`` stream slots are free (a closed viewer is noticed within a second)."""
    deadline = time.monotonic() + timeout
    while True:
        _, _, data = request(server, "GET", "/api/state")
        clients = json.loads(data)["clients"]
        if clients["limit"] - clients["open"] >= count:
            return
        assert time.monotonic() < deadline, clients
        time.sleep(0.1)


def test_token_guards_every_route(server):
    for path in ("/", "/api/state", "/stream.mjpg", "/static/app.js", "/api/snapshot.png"):
        status, _, body = request(server, "GET", path, token=None)
        assert status == 401, path
        assert b"access token" in body
    status, _, _ = request(server, "GET", "/api/state", token="wrong")
    assert status == 401
    # The URL the server printed carries the token; the page then runs on a cookie.
    conn = connect(server)
    conn.request("GET", f"/?token={TOKEN}")
    response = conn.getresponse()
    page = response.read().decode()
    assert response.status == 200 and "vidstyle" in page and 'id="strength"' in page
    assert f"vidstyle_token={TOKEN}" in response.getheader("Set-Cookie", "")
    conn.request("GET", "/api/state", headers={"Cookie": f"vidstyle_token={TOKEN}"})
    response = conn.getresponse()
    state = json.loads(response.read())
    conn.close()
    assert [m["name"] for m in state["models"]] == MODELS
    assert state["server_camera"] is True and state["webrtc"] is True
    assert state["channel"]["id"] == "camera" and state["channel"]["model"] == MODELS[0]


def test_mjpeg_stream_delivers_stylized_frames(server):
    wait_for_free_slots(server, 1)
    reader = MJPEGReader(server)
    try:
        assert reader.status == 200
        assert reader.response.getheader("Content-Type").startswith("multipart/x-mixed-replace")
        frames = [reader.frame() for _ in range(4)]
    finally:
        reader.close()
    versions = [v for v, _ in frames]
    assert versions == sorted(versions) and len(set(versions)) == 4
    for _, image in frames:
        assert image.shape == (480, 640, 3)
        index, difference = difference_from_input(image)
        assert difference > STYLIZED_MIN_DIFFERENCE, (index, difference)


def test_settings_are_validated(server):
    def settings(body):
        status, _, data = request(server, "POST", "/api/settings", body=body)
        return status, json.loads(data)

    status, answer = settings({"channel": "camera", "model": "no-such-model"})
    assert status == 400 and "unknown model" in answer["error"] and MODELS[0] in answer["error"]
    for bad in ({"strength": 2}, {"strength": "1"}, {"split": "yes"}, {"mix": {"a": -1}}, {"colour": 1}):
        status, answer = settings({"channel": "camera", **bad})
        assert status == 400, bad
        assert "\n" not in answer["error"]
    status, _, data = request(server, "POST", "/api/settings", body=b'{"channel": "camera", "strength": NaN}')
    assert status == 400
    status, _, data = request(server, "POST", "/api/settings", body=b"not json")
    assert status == 400 and b"not JSON" in data
    status, answer = settings({"channel": "nobody", "strength": 0.5})
    assert status == 404
    status, answer = settings({"channel": "camera", "strength": 1.0, "split": False})
    assert status == 200 and answer["strength"] == 1.0


def open_streams(server: Server) -> int:
    return json.loads(request(server, "GET", "/api/state")[2])["clients"]["open"]


def test_garbage_offer_is_refused_and_frees_its_slot(server):
    wait_for_free_slots(server, MAX_CLIENTS)
    for body in ({"offer": {"type": "offer", "sdp": "v=0 garbage"}}, {"offer": {"type": "answer", "sdp": ""}}, {}):
        status, _, data = request(server, "POST", "/api/offer", body=body)
        assert status == 400, (body, data)
    assert open_streams(server) == 0


def test_client_limit_and_slot_release(server):
    wait_for_free_slots(server, MAX_CLIENTS)
    readers = []
    try:
        for _ in range(MAX_CLIENTS):
            reader = MJPEGReader(server)
            assert reader.status == 200
            readers.append(reader)
        refused = MJPEGReader(server)
        assert refused.status == 503
        assert b"too many viewers" in refused.response.read()
        refused.close()
        # A viewer that leaves frees its slot within a second, even when no frame is sent to notice it by.
        readers.pop().close()
        wait_for_free_slots(server, 1, timeout=3.0)
        again = MJPEGReader(server)
        assert again.status == 200
        readers.append(again)
    finally:
        for reader in readers:
            reader.close()


def test_slow_viewer_does_not_hold_back_others(server):
    wait_for_free_slots(server, 2)
    slow = MJPEGReader(server, receive_buffer=4096)
    fast = MJPEGReader(server)
    try:
        assert slow.status == fast.status == 200
        slow.frame()
        # The slow viewer stops reading: its buffers fill and the server's writes to it wait.
        seen = [fast.frame()[0] for _ in range(3)]
        started = time.monotonic()
        while time.monotonic() - started < 6.0 or seen[-1] - seen[0] < 20:
            seen.append(fast.frame()[0])
        produced = seen[-1] - seen[0]
        # The fast viewer got (nearly) every frame made meanwhile: nothing waited for the slow one.
        assert len(seen) - 1 >= 0.8 * produced, (len(seen), produced)
        # Reading again, the slow viewer gets the few frames its buffers held, then the newest one:
        # it skips ahead instead of replaying everything it missed.
        versions = [slow.frame()[0] for _ in range(12)]
        assert max(versions) >= seen[-1], (versions, seen[-1])
        assert len(versions) < seen[-1] - versions[0], (versions, seen[-1])
    finally:
        slow.close()
        fast.close()


@pytest.mark.parametrize("args, message", [
    (["--camera", "no-such-clip.mp4"], "no-such-clip.mp4"),
    (["--camera", "0", "--loop"], "--loop"),
    (["--model", "no-such-model"], "no model named"),
    (["--port", "70000"], "--port"),
    (["--max-clients", "0"], "--max-clients"),
    (["--strength", "1.5"], "--strength"),
    (["--model", "starry_night-fast-painted-lite", "--style", "starry_night"], "holds one style"),
])
def test_bad_options_give_one_line_errors(args, message, capfd):
    from vidstyle.cli.main import main

    assert main(["serve", *args]) == 2
    lines = capfd.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vidstyle: error:") and message in lines[0], lines


def test_ctrl_c_stops_cleanly_with_a_viewer_connected(serve_media):
    srv = Server(["--camera", str(serve_media["clip"]), "--loop", "--no-webrtc", "--model", "starry_night-fast-painted-lite"],
                 cwd=serve_media["folder"])
    try:
        parts = urlsplit(srv.url)
        viewer = socket.create_connection((parts.hostname, parts.port), timeout=30)
        viewer.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"200 OK" in viewer.recv(4096)
        started = time.monotonic()
        code = srv.stop(signal.SIGINT, timeout=20)
        took = time.monotonic() - started
    finally:
        srv.stop()
    assert code == 0, srv.log()
    assert took < 10, took
    log = srv.log()
    assert re.search(r"serve: stopped after [\d.]+ s, 1 stream", log), log
    assert "Traceback" not in log
    viewer.settimeout(5)
    rest = b""
    while True:  # the viewer's stream was ended, not left hanging
        chunk = viewer.recv(65536)
        if not chunk:
            break
        rest += chunk
    viewer.close()


def test_size_fits_the_server_camera_keeping_its_shape(serve_media):
    from vidstyle.pipeline.serve.app import _open_camera
    from vidstyle.pipeline.serve.options import ServeOptions

    source = _open_camera(ServeOptions(camera=str(serve_media["clip"]), size=(320, 320), loop=True))
    try:
        frame = next(iter(source))
    finally:
        source.close()
    assert (source.info.width, source.info.height) == (320, 240)  # 4:3 kept inside 320x320, no bars
    assert frame.image.shape == (240, 320, 3)

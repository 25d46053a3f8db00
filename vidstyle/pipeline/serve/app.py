"""``vidstyle serve``: the live filter in a web page (aiohttp).

Routes (all behind the access token when one is set):

* ``GET /``: the page (``static/``); ``GET /static/...``: its script and style sheet.
* ``GET /api/state?channel=ID``: models (with load status and, for multi-style models, styles),
  which camera modes exist, the channel's settings and figures.
* ``POST /api/settings``: ``{"channel", "model"?, "strength"?, "split"?, "mix"?}``.
* ``GET /stream.mjpg``: the server's camera, stylized, as ``multipart/x-mixed-replace`` JPEGs.
* ``POST /api/offer``: a WebRTC offer carrying the browser's camera; answers with the stylized track.
* ``POST /api/hangup``: ``{"channel"}`` ends a WebRTC connection.
* ``GET /api/snapshot.png?channel=ID``: the newest stylized frame as PNG.
"""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

from vidstyle.errors import InputError
from vidstyle.pipeline.serve.engine import Channel, ChannelSettings, ModelStore, parse_settings
from vidstyle.pipeline.serve.options import ServeOptions, ServeSummary, is_loopback

STATIC_DIR = Path(__file__).with_name("static")
CAMERA_CHANNEL = "camera"
TOKEN_COOKIE = "vidstyle_token"
TOKEN_HEADER = "X-Vidstyle-Token"
MJPEG_BOUNDARY = "vidstyle-frame"
# Signals that stop the server cleanly (Ctrl-C, kill, a closed terminal).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
# Kernel and aiohttp send buffer per MJPEG viewer (bytes): about two 640x480 JPEG frames.
MJPEG_SEND_BUFFER = 128 * 1024
# How often an MJPEG viewer waiting for a frame checks whether it is still connected (seconds).
DISCONNECT_CHECK_S = 0.5
# Architectures of the real-time networks (one painting, or many in one net); `quality` nets run
# at a few frames per second on a CPU and are offered only when named with --model.
LIVE_ARCHITECTURES = ("fast", "multistyle")
PREFERRED_MODEL = "starry_night-fast-painted"
# Largest JSON body accepted (an SDP offer is a few kB).
MAX_JSON_BYTES = 1 << 20


def live_models() -> list[str]:
    """Installed models of the real-time architectures, ``starry_night-fast-painted`` first when present."""
    from vidstyle.models import list_models

    names = [m.name for m in list_models() if m.metadata is not None and m.metadata.get("architecture") in LIVE_ARCHITECTURES]
    return sorted(names, key=lambda n: (n != PREFERRED_MODEL, n))


def initial_settings(opts: ServeOptions, store: ModelStore) -> ChannelSettings:
    """What a new stream starts with: the first model (loaded), ``--strength`` and ``--style``'s mix."""
    first = store.names[0]
    settings = ChannelSettings(model=first, strength=float(opts.strength))
    if opts.style:
        settings = parse_settings(settings, {"mix": opts.style}, store.names, store.styles(first))
    return settings


class ClientSlots:
    """A bounded count of open streams (MJPEG viewers and WebRTC connections)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0
        self.total = 0
        self.refused = 0

    def acquire(self) -> bool:
        if self.open >= self.limit:
            self.refused += 1
            return False
        self.open += 1
        self.total += 1
        return True

    def release(self) -> None:
        self.open = max(0, self.open - 1)


class ServeState:
    """Everything the request handlers share: the model store, the channels, the client slots."""

    def __init__(self, opts: ServeOptions, store: ModelStore, camera_channel: Optional[Channel]) -> None:
        self.opts = opts
        self.store = store
        self.camera = camera_channel
        self.clients = ClientSlots(opts.max_clients)
        self.stopping = asyncio.Event()
        self.peers = None
        self.finished: dict[str, dict] = {}
        if opts.webrtc:
            from vidstyle.pipeline.serve.webrtc import PeerSessions, webrtc_available

            if webrtc_available():
                self.peers = PeerSessions(self._open_peer_channel, self._release_peer)
        self._peer_channels: dict[str, Channel] = {}

    def initial_settings(self) -> ChannelSettings:
        return initial_settings(self.opts, self.store)

    def _open_peer_channel(self, channel_id: str, settings: dict) -> Channel:
        settings = settings or {}
        model = settings.get("model", self.store.names[0]) if isinstance(settings, dict) else self.store.names[0]
        styles = self.store.styles(model) if self.store.status(model) == "ready" else None
        initial = parse_settings(self.initial_settings(), settings, self.store.names, styles)
        channel = Channel(channel_id, self.store, initial, video_frames=True)
        self._peer_channels[channel_id] = channel
        return channel

    def _release_peer(self, channel_id: str) -> None:
        channel = self._peer_channels.pop(channel_id, None)
        if channel is not None:
            self.finished[channel_id] = channel.stats().as_dict()
        self.clients.release()

    def channel(self, channel_id: Optional[str]) -> Channel:
        if channel_id in (None, "", CAMERA_CHANNEL) and self.camera is not None:
            return self.camera
        channel = self._peer_channels.get(str(channel_id))
        if channel is None:
            raise KeyError(channel_id)
        return channel

    def channels(self) -> list[Channel]:
        return ([self.camera] if self.camera is not None else []) + list(self._peer_channels.values())


def _json_error(status: int, message: str):
    from aiohttp import web

    return web.json_response({"error": message}, status=status)


def build_app(state: ServeState):
    """The aiohttp application serving ``state``."""
    from aiohttp import web

    token = state.opts.token

    @web.middleware
    async def require_token(request, handler):
        if token is not None:
            given = request.query.get("token") or request.headers.get(TOKEN_HEADER) or request.cookies.get(TOKEN_COOKIE) or ""
            if not hmac.compare_digest(given.encode(), token.encode()):
                return web.Response(status=401, text="vidstyle: wrong or missing access token (open the URL that vidstyle serve printed)\n")
        response = await handler(request)
        if token is not None and request.query.get("token") and not response.prepared:
            # The stream and API requests the page makes carry the cookie, not the token in the URL.
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict")
        return response

    async def index(request):
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})

    async def api_state(request):
        channel_id = request.query.get("channel")
        body: dict[str, Any] = {
            "models": state.store.describe(),
            "server_camera": state.camera is not None,
            "webrtc": state.peers is not None,
            "clients": {"open": state.clients.open, "limit": state.clients.limit},
        }
        with contextlib.suppress(KeyError):
            channel = state.channel(channel_id)
            s = channel.settings
            body["channel"] = {
                "id": channel.id, "model": s.model, "strength": s.strength, "split": s.split, "mix": dict(s.mix),
                "stats": channel.stats().as_dict(),
            }
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    async def read_json(request) -> dict:
        if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
            raise InputError("request too large")
        try:
            body = json.loads(await request.text())
        except (ValueError, UnicodeDecodeError):
            raise InputError("the request body is not JSON") from None
        if not isinstance(body, dict):
            raise InputError("the request body must be a JSON object")
        return body

    async def api_settings(request):
        try:
            body = await read_json(request)
            channel = state.channel(body.get("channel"))
            settings = channel.update(body)
        except KeyError:
            return _json_error(404, "no such stream (it ended, or the server restarted): reload the page")
        except InputError as exc:
            return _json_error(400, str(exc))
        return web.json_response({"model": settings.model, "strength": settings.strength, "split": settings.split,
                                  "mix": dict(settings.mix), "status": state.store.status(settings.model)})

    async def mjpeg(request):
        channel = state.camera
        if channel is None:
            return _json_error(404, "this server has no camera of its own (start it with --camera); use your browser's camera")
        if not state.clients.acquire():
            return _json_error(503, f"too many viewers (at most {state.clients.limit}); try again later")
        boundary = MJPEG_BOUNDARY.encode()
        response = web.StreamResponse(headers={
            "Content-Type": f"multipart/x-mixed-replace; boundary={MJPEG_BOUNDARY}",
            "Cache-Control": "no-store", "Pragma": "no-cache",
        })
        # Small send buffers: a viewer on a slow link then waits for the newest frame instead of
        # receiving seconds of old ones queued in the kernel and in aiohttp.
        sock = request.transport.get_extra_info("socket") if request.transport is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, MJPEG_SEND_BUFFER)
            request.transport.set_write_buffer_limits(high=MJPEG_SEND_BUFFER)
        channel.viewers += 1
        try:
            await response.prepare(request)
            await response.write(b"--" + boundary + b"\r\n")
            version = 0
            while not state.stopping.is_set():
                try:
                    output = await asyncio.wait_for(channel.output.next(version), DISCONNECT_CHECK_S)
                except asyncio.TimeoutError:
                    # No new frame (paused camera): notice a viewer that left, so its slot frees up.
                    if request.transport is None or request.transport.is_closing():
                        break
                    continue
                if output is None or state.stopping.is_set():
                    break
                version = output.version
                if output.jpeg is None:
                    continue
                # The boundary goes right after each picture: browsers show a part when the next boundary arrives.
                await response.write(
                    b"Content-Type: image/jpeg\r\nContent-Length: %d\r\nX-Frame-Version: %d\r\n\r\n" % (len(output.jpeg), version)
                    + output.jpeg + b"\r\n--" + boundary + b"\r\n"
                )
        except (ConnectionResetError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            channel.viewers -= 1
            state.clients.release()
        return response

    async def api_offer(request):
        if state.peers is None:
            return _json_error(404, "WebRTC is not available on this server (pip install 'vidstyle[serve]'); use the server's camera")
        try:
            body = await read_json(request)
        except InputError as exc:
            return _json_error(400, str(exc))
        if not state.clients.acquire():
            return _json_error(503, f"too many viewers (at most {state.clients.limit}); try again later")
        try:
            answer = await state.peers.answer(body.get("offer") or {}, body.get("settings") or {})
        except InputError as exc:
            return _json_error(400, str(exc))
        return web.json_response(answer)

    async def api_hangup(request):
        try:
            body = await read_json(request)
        except InputError as exc:
            return _json_error(400, str(exc))
        closed = state.peers is not None and await state.peers.hangup(str(body.get("channel")))
        return web.json_response({"closed": bool(closed)})

    async def snapshot(request):
        try:
            channel = state.channel(request.query.get("channel"))
        except KeyError:
            return _json_error(404, "no such stream")
        output = channel.output.latest
        if output is None:
            return _json_error(404, "no frame yet")
        import cv2

        ok, png = cv2.imencode(".png", cv2.cvtColor(output.stylized, cv2.COLOR_RGB2BGR))
        name = time.strftime("vidstyle-snapshot-%Y%m%d-%H%M%S.png")
        return web.Response(body=png.tobytes(), content_type="image/png",
                            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})

    app = web.Application(middlewares=[require_token], client_max_size=MAX_JSON_BYTES)
    app.router.add_get("/", index)
    app.router.add_get("/api/state", api_state)
    app.router.add_post("/api/settings", api_settings)
    app.router.add_get("/stream.mjpg", mjpeg)
    app.router.add_post("/api/offer", api_offer)
    app.router.add_post("/api/hangup", api_hangup)
    app.router.add_get("/api/snapshot.png", snapshot)
    app.router.add_static("/static", STATIC_DIR)
    return app


def _open_camera(opts: ServeOptions):
    if opts.camera is None:
        return None
    if not isinstance(opts.camera, (str, int, os.PathLike)):
        return opts.camera  # an already open source
    from vidstyle.pipeline.live.sources import FittedSource, open_live_source
    from vidstyle.pipeline.live.view import Fit

    source = open_live_source(opts.camera, size=opts.size, fps=opts.fps, loop=opts.loop)
    # Pictures scaled to fit --size with their shape kept (a page shows any shape: no bars needed).
    fit = Fit(source.info.width, source.info.height, opts.size, "letterbox")
    return source if fit.passthrough else FittedSource(source, fit)


def _stylizer_factory(opts: ServeOptions) -> Callable[[str], Any]:
    def build(name: str):
        from vidstyle.runtime import create_stylizer

        return create_stylizer(name, backend=opts.backend, device=opts.device, threads=opts.threads, precision=opts.precision)

    return build


def _model_names(opts: ServeOptions) -> list[str]:
    from vidstyle.models import find_model

    if opts.models:
        names = [str(m) for m in opts.models]
        for name in names:
            find_model(name)  # a typo fails now with the list of installed models
        return names
    names = live_models()
    if not names:
        raise InputError("no real-time models are installed (see `vidstyle models list`); give one with --model")
    return names


async def serve(opts: ServeOptions) -> ServeSummary:
    """Serve until SIGINT/SIGTERM (see :func:`vidstyle.pipeline.serve.run_serve`, which checks ``opts`` first)."""
    from aiohttp import web

    started = time.perf_counter()
    summary = ServeSummary()
    names = _model_names(opts)
    source = _open_camera(opts)  # the camera is checked before any model loads
    stop_capture = threading.Event()
    capture_thread = None
    store = camera_channel = state = runner = None
    try:
        warm = (source.info.width, source.info.height) if source is not None else (opts.size or (640, 480))
        store = ModelStore(names, _stylizer_factory(opts), warm_size=warm)
        await asyncio.get_running_loop().run_in_executor(None, store.load, names[0])
        initial_settings(opts, store)  # a --style the first model does not hold fails now, in one line
        if source is not None:
            from vidstyle.pipeline.live.mailbox import capture_into

            camera_channel = Channel(CAMERA_CHANNEL, store, initial_settings(opts, store),
                                     jpeg_quality=opts.jpeg_quality, mirror=opts.mirror, on_demand=True)
            capture_thread = capture_into(source, camera_channel.slot, stop_capture)
        state = ServeState(opts, store, camera_channel)
        runner = web.AppRunner(build_app(state), handle_signals=False, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, opts.host, opts.port)
        try:
            await site.start()
        except OSError as exc:
            raise InputError(f"cannot listen on {opts.host}:{opts.port}: {exc.strerror or exc}") from None
        host, port = runner.addresses[0][:2]
        shown_host = f"[{host}]" if ":" in host else host
        summary.url = f"http://{shown_host}:{port}/" + (f"?token={opts.token}" if opts.token else "")
        if opts.on_ready is not None:
            opts.on_ready(summary.url)
        if not is_loopback(opts.host) and opts.token is None:
            print(f"vidstyle serve: warning: listening on {opts.host} without --token: anyone who can reach this "
                  "machine can watch the camera", file=sys.stderr)

        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, state.stopping.set)
        await state.stopping.wait()
    finally:
        if state is not None:
            state.stopping.set()
            if state.peers is not None:
                await state.peers.close_all()
            summary.clients, summary.refused = state.clients.total, state.clients.refused
            summary.channels.update(state.finished)
        if camera_channel is not None:
            summary.channels[CAMERA_CHANNEL] = camera_channel.stats().as_dict()
            camera_channel.output.close()  # MJPEG viewers leave their loops
        if runner is not None:
            await runner.cleanup()
        stop_capture.set()
        if capture_thread is not None:
            capture_thread.join(timeout=5.0)
        if camera_channel is not None:
            camera_channel.close()
        if source is not None:
            source.close()
        if store is not None:
            await asyncio.get_running_loop().run_in_executor(None, store.close)
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            for sig in STOP_SIGNALS:
                asyncio.get_running_loop().remove_signal_handler(sig)
        summary.seconds = time.perf_counter() - started
    return summary


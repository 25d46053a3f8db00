"""Options and summary of ``vidstyle serve``, and their checks (light: nothing heavy is imported here)."""
from __future__ import annotations

import contextlib
import ipaddress
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from vidstyle.errors import InputError


@dataclass
class ServeOptions:
    """Options of :func:`run_serve` (the ``vidstyle serve`` flags).

    camera: the server's camera (index, /dev/videoN, URL or a video file played like a camera, as
        ``vidstyle live --camera``) or an open source object; None: only browsers' own cameras.
    models: the models the page offers (names or paths; the first is the initial one); empty: every
        installed model of the real-time (``fast``) architecture.
    backend, device, threads, precision: inference runtime (``vidstyle.runtime.create_stylizer``), as for ``vidstyle live``.
    style: initial style mix of a multi-style first model (``NAME`` or ``A=0.6,B=0.4``, as ``--style``
        elsewhere); None: the model's default. strength: initial strength (0-1). size: (width, height) the server's camera pictures are scaled to fit,
        their shape kept (also requested from a camera's driver). fps: requested capture rate.
    mirror: flip the server's camera horizontally. loop: a video file given as ``camera`` starts over at its end.
    host, port: where to listen (port 0: any free port). token: required access token (None: none).
    max_clients: open streams (MJPEG viewers plus WebRTC connections) allowed at once.
    jpeg_quality: MJPEG quality (1-100). webrtc: offer the browser-camera mode when aiortc is installed.
    on_ready: called with the page's URL once the server listens.
    """

    camera: Any = None
    models: Sequence[Any] = ()
    backend: str = "auto"
    device: str = "auto"
    threads: Optional[int] = None
    precision: str = "auto"
    style: Optional[str] = None
    strength: float = 1.0
    size: Optional[tuple[int, int]] = None
    fps: Optional[float] = None
    mirror: bool = False
    loop: bool = False
    host: str = "127.0.0.1"
    port: int = 8080
    token: Optional[str] = None
    max_clients: int = 4
    jpeg_quality: int = 80
    webrtc: bool = True
    on_ready: Optional[Callable[[str], None]] = None


@dataclass
class ServeSummary:
    """What a serve session did."""

    url: str = ""
    seconds: float = 0.0
    clients: int = 0
    refused: int = 0
    channels: dict = field(default_factory=dict)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host).is_loopback
    return False


def check_options(opts: ServeOptions) -> None:
    """InputError for options that cannot work, before anything is opened or loaded."""
    if not 0 <= opts.port <= 65535:
        raise InputError(f"--port must be between 0 and 65535, got {opts.port}")
    if opts.max_clients < 1:
        raise InputError(f"--max-clients must be at least 1, got {opts.max_clients}")
    if not 1 <= opts.jpeg_quality <= 100:
        raise InputError(f"--jpeg-quality must be between 1 and 100, got {opts.jpeg_quality}")
    if not 0.0 <= float(opts.strength) <= 1.0:
        raise InputError(f"--strength must be between 0 and 1, got {opts.strength}")
    if opts.token is not None and not opts.token.strip():
        raise InputError("--token must not be empty")

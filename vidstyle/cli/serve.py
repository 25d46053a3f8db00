"""`vidstyle serve`: the live filter in a browser page (the server's camera, or the browser's own over WebRTC)."""
from __future__ import annotations

import argparse
import sys

from vidstyle.cli.runtime_flags import add_runtime_flags, runtime_options
from vidstyle.io.file import parse_size


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve",
        help="serve the live filter as a web page (server camera as MJPEG, or the browser's camera over WebRTC)",
        description="Serve a page showing a camera stylized live: a style picker, strength, split view, snapshots "
                    "and fps/latency figures. With --camera the page shows the server's camera (MJPEG); a browser "
                    "can also send its own camera over WebRTC and get it back stylized. Stop with Ctrl-C.",
    )
    p.add_argument("--camera", default=None,
                   help="the server's camera: index, /dev/videoN, URL, or a video file played like a camera "
                        "(default: none, browsers use their own cameras)")
    p.add_argument("--model", "-m", action="append", default=None,
                   help="a model the page offers; repeat (or separate with commas); the first is the initial one "
                        "(default: every installed real-time model)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: every network)")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080; 0: any free port)")
    p.add_argument("--token", default=None,
                   help="access token the page's URL must carry (?token=...); use one when listening beyond this machine")
    p.add_argument("--max-clients", type=int, default=4, help="streams open at once: viewers plus browser cameras (default 4)")
    add_runtime_flags(p)
    p.add_argument("--style", default=None, metavar="NAME|A=w,B=w",
                   help="a multi-style model's style, or a blend of its styles (the page can change it)")
    p.add_argument("--strength", type=float, default=1.0, help="initial stylization strength, 0-1")
    p.add_argument("--size", default=None, metavar="WxH", help="the server's camera pictures scaled to fit this size, shape kept (e.g. 640x480)")
    p.add_argument("--fps", type=float, default=None, help="requested capture rate of the server's camera")
    p.add_argument("--mirror", action="store_true", help="flip the server's camera horizontally (selfie view)")
    p.add_argument("--loop", action="store_true", help="a video file given as --camera starts over at its end")
    p.add_argument("--jpeg-quality", type=int, default=80, help="JPEG quality of the MJPEG stream, 1-100 (default 80)")
    p.add_argument("--no-webrtc", action="store_true", help="offer only the server's camera (MJPEG), not browser cameras")
    p.add_argument("--quiet", "-q", action="store_true", help="no summary at the end")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vidstyle.pipeline.serve import ServeOptions, run_serve

    models = [m.strip() for entry in (args.model or []) for m in entry.split(",") if m.strip()]

    def ready(url: str) -> None:
        print(f"vidstyle serve: open {url} (Ctrl-C stops)", file=sys.stderr, flush=True)

    summary = run_serve(
        ServeOptions(
            camera=args.camera,
            models=models,
            **runtime_options(args),
            style=args.style,
            strength=args.strength,
            size=parse_size(args.size) if args.size else None,
            fps=args.fps,
            mirror=args.mirror,
            loop=args.loop,
            host=args.host,
            port=args.port,
            token=args.token,
            max_clients=args.max_clients,
            jpeg_quality=args.jpeg_quality,
            webrtc=not args.no_webrtc,
            on_ready=ready,
        )
    )
    if not args.quiet:
        print(f"serve: stopped after {summary.seconds:.1f} s, {summary.clients} stream(s) served"
              + (f", {summary.refused} refused (over --max-clients)" if summary.refused else ""), file=sys.stderr)
        for name, stats in summary.channels.items():
            label = "server camera" if name == "camera" else f"browser camera {name}"
            print(f"serve: {label}: {stats['frames']} frames stylized, last {stats['fps']:.1f} fps, "
                  f"latency {stats['latency_ms']:.0f} ms, model {stats['model_ms']:.0f} ms/frame", file=sys.stderr)
    return 0

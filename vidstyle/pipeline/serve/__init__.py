"""``vidstyle serve``: the live filter in a browser page (the server's camera as MJPEG, or the browser's camera over WebRTC).

``run_serve(ServeOptions(...))`` serves until Ctrl-C; ``app`` holds the aiohttp application and its routes,
``engine`` the model store and the per-stream workers, ``webrtc`` the aiortc connections, ``static/`` the page.
"""
from __future__ import annotations

import asyncio

from vidstyle.errors import InputError
from vidstyle.pipeline.serve.options import ServeOptions, ServeSummary, check_options


def run_serve(options: ServeOptions) -> ServeSummary:
    """Serve the page until Ctrl-C / SIGTERM; returns what happened.

    Raises InputError for bad options (checked before anything is imported, opened or loaded), a camera
    that cannot be opened, a missing model, or an address that cannot be listened on, all before the
    server accepts anyone.
    """
    check_options(options)
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        raise InputError("vidstyle serve needs aiohttp: pip install 'vidstyle[serve]'") from None
    from vidstyle.pipeline.serve.app import serve

    return asyncio.run(serve(options))


__all__ = ["ServeOptions", "ServeSummary", "run_serve"]

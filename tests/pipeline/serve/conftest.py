"""Fixtures of the ``vidstyle serve`` tests: Chromium, the test media, one server for the session."""
from __future__ import annotations

import sys

import pytest
from serve_helpers import MAX_CLIENTS, MODELS, TOKEN, Server, chromium_binary, make_media


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_binary()
    if path is None:
        message = "chromium is not installed (apt-get install chromium; .ci/run installs it)"
        print(f"SKIP: {message}", file=sys.stderr)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def serve_media(tmp_path_factory) -> dict:
    return make_media(tmp_path_factory.mktemp("serve-media"))


@pytest.fixture(scope="session")
def server(serve_media) -> Server:
    """The session's server: the looped clip as its camera, both models, behind TOKEN, at most MAX_CLIENTS streams."""
    srv = Server(["--camera", str(serve_media["clip"]), "--loop", "--token", TOKEN, "--max-clients", str(MAX_CLIENTS),
                  "--model", ",".join(MODELS)], cwd=serve_media["folder"])
    yield srv
    srv.stop()

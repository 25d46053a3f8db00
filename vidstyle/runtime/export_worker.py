"""A helper process that exports model graphs to ONNX for a process that must stay responsive.

Exporting a network (``torch.onnx`` tracing) is a second or so of Python that holds the interpreter's lock:
a live window loading its next style on a background thread skips frames meanwhile. The helper runs the same
export (:func:`vidstyle.runtime.export.onnx_bytes`) in a process of its own at a lower priority, so only
the graph's compile and warm-up run beside the live loop.

The helper reads models the way every command does (``resolve_network``: registry names and ``.safetensors``
paths, no pickles) and answers one request at a time over its standard input and output:
request: a JSON line ``{"model": ..., "strength": ..., "style_input": ...}``;
answer: a JSON line ``{"size": N}`` followed by N bytes of ONNX, or ``{"error": "..."}``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import BinaryIO, Optional

from vidstyle.errors import ModelError

# How much lower the helper's priority is than its parent's: the live loop's frames come first.
HELPER_NICE = 10
_READY = b"ready\n"


class ExportWorker:
    """One helper process (``python -m vidstyle.runtime.export_worker``), started at once in the background.

    :meth:`export` may be called from any thread (requests are served one at a time); until the helper has
    imported its libraries (:attr:`ready`), and after it failed, callers export in their own process instead.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.failed: Optional[str] = None
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "vidstyle.runtime.export_worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=env, preexec_fn=_lower_priority if os.name == "posix" else None,
        )
        threading.Thread(target=self._wait_ready, name="vidstyle-export-worker-start", daemon=True).start()

    def _wait_ready(self) -> None:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if line == _READY:
            self._ready.set()
        else:
            self.failed = "the export helper did not start"

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self.failed is None and self._proc.poll() is None

    def export(self, model: str, strength: float = 1.0, style_input: bool = False) -> bytes:
        """The uint8 ONNX graph of ``model`` (a registry name or path), as ``onnx_bytes(network, uint8_io=True,
        strength=strength, style_input=style_input)`` would give it here. Raises ModelError when the helper fails."""
        with self._lock:
            if not self.ready:
                raise ModelError(self.failed or "the export helper is not ready")
            assert self._proc.stdin is not None and self._proc.stdout is not None
            try:
                request = {"model": str(model), "strength": float(strength), "style_input": bool(style_input)}
                self._proc.stdin.write(json.dumps(request).encode() + b"\n")
                self._proc.stdin.flush()
                header = json.loads(self._proc.stdout.readline() or b"{}")
                if "size" not in header:
                    raise ModelError(header.get("error") or "the export helper ended")
                data = _read_exactly(self._proc.stdout, int(header["size"]))
            except (OSError, ValueError) as exc:
                self.failed = f"the export helper failed: {exc}"
                raise ModelError(self.failed) from exc
            return data

    def close(self) -> None:
        """End the helper (it also ends by itself when this process's end of the pipe closes)."""
        proc = self._proc
        if proc.poll() is None:
            try:
                assert proc.stdin is not None
                proc.stdin.close()
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()

    def __enter__(self) -> "ExportWorker":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _lower_priority() -> None:
    try:
        os.nice(HELPER_NICE)
    except OSError:
        pass


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise OSError("the export helper ended mid-answer")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """The helper's loop: one export per request line until ``requests`` ends."""
    from vidstyle.runtime.export import onnx_bytes
    from vidstyle.runtime.factory import resolve_network

    answers.write(_READY)
    answers.flush()
    for line in requests:
        try:
            request = json.loads(line)
            network = resolve_network(request["model"])[0].float().eval()
            data = onnx_bytes(network, uint8_io=True, strength=float(request["strength"]),
                              style_input=bool(request["style_input"]))
            answers.write(json.dumps({"size": len(data)}).encode() + b"\n" + data)
        except Exception as exc:  # noqa: BLE001 - told to the caller, which exports itself instead
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            answers.write(json.dumps({"error": reason}).encode() + b"\n")
        answers.flush()


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)
    serve(sys.stdin.buffer, sys.stdout.buffer)

"""Opening what ``--camera`` names, and fitting its pictures to ``--size`` on the capture thread."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator, Optional

from vidstyle.errors import InputError
from vidstyle.pipeline.live.view import Fit
from vidstyle.types import Frame, StreamInfo


def is_file_camera(camera: Any) -> bool:
    """True when ``--camera`` names an existing video file (played at its own rate, like a camera)."""
    text = str(camera)
    return not text.isdigit() and not text.startswith("/dev/") and Path(text).is_file()


def open_live_source(camera: str | int | os.PathLike, size: Optional[tuple[int, int]] = None,
                     fps: Optional[float] = None, reconnect_seconds: float = 3.0, loop: bool = False) -> Any:
    """A camera for ``camera``; an existing video file becomes a source paced at its own frame rate.

    ``size`` is requested from a camera's driver; a file is decoded at its own size (fit it with
    :class:`FittedSource`). ``loop``: play a video file again and again. Raises InputError when the
    camera or file cannot be opened, or ``loop`` names no file.
    """
    if is_file_camera(camera):
        from vidstyle.io.file import FileSource

        return FileSource(str(camera), realtime=True, loop=loop)
    if loop:
        raise InputError(f"--loop plays a video file again and again; {camera} is not a file")
    from vidstyle.io.camera import CameraSource

    return CameraSource(camera, size=size, fps=fps, reconnect_seconds=reconnect_seconds)


class FittedSource:
    """A live source whose frames are fitted by ``fit`` (:meth:`Fit.prepare`) on the capture thread.

    ``info`` reports the fitted (content) size; ``close`` closes the wrapped source.
    """

    def __init__(self, source: Any, fit: Fit) -> None:
        self.source = source
        self.fit = fit

    @property
    def info(self) -> StreamInfo:
        info = self.source.info
        width, height = self.fit.content
        return StreamInfo(width=width, height=height, fps=info.fps, time_base=info.time_base,
                          frame_count=info.frame_count, duration=info.duration, rotation=info.rotation,
                          has_audio=info.has_audio, extra=info.extra)

    def __iter__(self) -> Iterator[Frame]:
        for frame in self.source:
            yield frame if self.fit.passthrough else frame.with_image(self.fit.prepare(frame.image))

    def close(self) -> None:
        self.source.close()

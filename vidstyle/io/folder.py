"""Image-folder source (natural sort order) and sink (one numbered PNG per frame)."""
from __future__ import annotations

import os
import re
import shutil
import time
from fractions import Fraction
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
from PIL import Image

from vidstyle.errors import InputError, OutputError
from vidstyle.io.file import target_size
from vidstyle.types import Frame, StreamInfo
from vidstyle.utils.image import IMAGE_EXTENSIONS, load_image, resize_array


def natural_key(name: str) -> list:
    """Sort key that orders 'frame2' before 'frame10' (digit runs compare as numbers)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


class ImageFolderSource:
    """Frames from the images in a folder, in natural order, at a nominal ``fps``.

    Every image must have the size of the first (or ``size``/``long_side`` rescales them all).
    Yields (H, W, 3) uint8 RGB Frames with pts = index in 1/fps units.
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        fps: float = 25.0,
        size: Optional[tuple[int, int]] = None,
        long_side: Optional[int] = None,
    ) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise InputError(f"not a folder: {self.folder}")
        self.paths = sorted(
            (p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")),
            key=lambda p: natural_key(p.name),
        )
        if not self.paths:
            raise InputError(f"no images ({', '.join(sorted(IMAGE_EXTENSIONS))}) in {self.folder}")
        self.fps = Fraction(fps).limit_denominator(1001 * 1000)
        first = load_image(self.paths[0])
        self.width, self.height = target_size(first.shape[1], first.shape[0], size, long_side)

    @property
    def info(self) -> StreamInfo:
        return StreamInfo(
            width=self.width, height=self.height, fps=self.fps, time_base=1 / self.fps,
            frame_count=len(self.paths), duration=float(len(self.paths) / self.fps),
        )

    def __iter__(self) -> Iterator[Frame]:
        for index, path in enumerate(self.paths):
            image = load_image(path)
            if image.shape[:2] != (self.height, self.width):
                image = resize_array(image, self.width, self.height)
            yield Frame(image=image, pts=index, time_base=1 / self.fps, index=index, wallclock=time.perf_counter())

    def close(self) -> None:
        pass


class ImageFolderSink:
    """Writes each Frame as ``<folder>/<prefix><index:06d>.png`` (lossless), creating the folder."""

    def __init__(self, folder: str | os.PathLike, prefix: str = "frame_", extension: str = ".png") -> None:
        self.folder = Path(folder)
        self.prefix = prefix
        self.extension = extension if extension.startswith(".") else f".{extension}"
        if self.extension.lower() not in IMAGE_EXTENSIONS:
            raise OutputError(f"unsupported image format {self.extension!r}")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create folder {self.folder}: {exc.strerror or exc}") from None
        self.frames_written = 0

    def write(self, frame: Frame) -> None:
        path = self.folder / f"{self.prefix}{self.frames_written:06d}{self.extension}"
        try:
            Image.fromarray(np.ascontiguousarray(frame.image)).save(path)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        self.frames_written += 1

    def close(self, audio_until_video_end: bool = False) -> None:
        """Nothing to finish: every frame is a complete file."""

    def abort(self) -> None:
        """Remove the folder and what was written (the caller wanted no partial output)."""
        shutil.rmtree(self.folder, ignore_errors=True)

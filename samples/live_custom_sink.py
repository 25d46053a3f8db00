"""A live filter whose output goes to your own code instead of a window.

    python samples/live_custom_sink.py [--camera 0] [--seconds 3]

``run_live`` reads the camera (here a generated test pattern paced like a 30 fps camera, or a real one
with --camera), stylizes the newest frame, and calls ``on_frame`` with each stylized frame. This sink
keeps a thumbnail every half second and writes them as one contact sheet, contact_sheet.png.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from vidstyle.io.synthetic import TestPatternSource
from vidstyle.pipeline.live import LiveOptions, run_live
from vidstyle.utils.image import save_image


class ContactSheet:
    """A sink: every ``every``-th frame, shrunk to ``thumb_width`` pixels wide, laid out in rows of ``per_row``."""

    def __init__(self, every: int = 15, thumb_width: int = 160, per_row: int = 4) -> None:
        self.every, self.thumb_width, self.per_row = every, thumb_width, per_row
        self.thumbs: list[np.ndarray] = []

    def __call__(self, frame: dict) -> None:
        # frame: {"index", "image" ((H, W, 3) uint8 RGB, stylized), "latency_ms", ...}
        if frame["index"] % self.every == 0:
            image = frame["image"]
            step = max(1, image.shape[1] // self.thumb_width)
            self.thumbs.append(image[::step, ::step].copy())

    def sheet(self) -> np.ndarray:
        height, width = self.thumbs[0].shape[:2]
        rows = -(-len(self.thumbs) // self.per_row)
        sheet = np.zeros((rows * height, self.per_row * width, 3), np.uint8)
        for i, thumb in enumerate(self.thumbs):
            y, x = (i // self.per_row) * height, (i % self.per_row) * width
            sheet[y:y + height, x:x + width] = thumb[:height, :width]
        return sheet


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--camera", default=None, help="a camera index or video file (default: a test pattern)")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()

    fps = 30
    camera = args.camera or TestPatternSource(width=320, height=240, fps=fps, realtime=True)
    sink = ContactSheet(every=fps // 2)
    stats = run_live(LiveOptions(
        camera=camera,
        models=["starry_night-fast-painted-lite"],
        display=False,                     # no window: every frame goes to on_frame only
        frames=int(args.seconds * fps),
        on_frame=sink,
    ))
    if not sink.thumbs:
        print("no frames came from the camera", file=sys.stderr)
        return 1
    path = save_image(sink.sheet(), "contact_sheet.png")
    print(f"{stats.frames_shown} frames at {stats.fps:.1f} fps, latency median {stats.latency_ms_median:.0f} ms; "
          f"{len(sink.thumbs)} thumbnails in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

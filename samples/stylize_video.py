"""Stylize a video file with a shipped model; frames, timestamps and audio are kept.

    python samples/stylize_video.py [INPUT] [OUTPUT.mp4]

Without INPUT: the first two seconds of a clip from $VIDSTYLE_MEDIA (or ../shared/media) when there is
one, else a generated two-second clip (moving shapes and a tone). Writes stylized.mp4 by default.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import vidstyle
from vidstyle.io.synthetic import write_test_clip


def media_clip() -> Path | None:
    """A video from the media folder, if there is one."""
    media = Path(os.environ.get("VIDSTYLE_MEDIA") or Path(__file__).resolve().parents[2] / "shared" / "media")
    clips = sorted((media / "video").glob("*.mp4"))
    return clips[0] if clips else None


def main() -> int:
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else media_clip()
    if src is None:
        src = write_test_clip("input.mp4", width=320, height=240, fps=25, seconds=2.0).path
    dst = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("stylized.mp4")

    result = vidstyle.stylize_video(
        src, dst,
        model="starry_night-fast-painted-lite",  # a registry name (`vidstyle models list`) or a .safetensors path
        long_side=320,                   # process at 320 px on the long side (None: the input's size)
        end=2.0,                         # only the first two seconds
        strength=0.9,                    # 1.0 full style ... 0.0 the original
        overwrite=True,
        progress=False,
    )
    audio = f", {result.audio_streams} audio stream(s) copied" if result.audio_streams else ""
    print(f"wrote {result.output}: {result.frames_out} frames at {result.width}x{result.height}, "
          f"{result.fps:.1f} fps{audio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

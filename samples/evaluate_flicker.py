"""Measure flicker: the warping error of a stylized video, frame by frame and without vs with smoothing.

    python samples/evaluate_flicker.py [INPUT]

Stylizes INPUT (default: a clip from $VIDSTYLE_MEDIA or ../shared/media, else a generated one) twice,
frame by frame and with ``temporal="smooth"`` (flow-guided blending), and reports each one's warping
error (Lai et al. 2018): how much a stylized frame differs from the previous stylized frame moved along
the original's optical flow. Lower is steadier.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import vidstyle
from vidstyle.io.synthetic import write_test_clip
from vidstyle.runtime import FunctionStylizer
from vidstyle.temporal.evaluate import evaluate_temporal


def media_clip() -> Path | None:
    """A video from the media folder, if there is one."""
    media = Path(os.environ.get("VIDSTYLE_MEDIA") or Path(__file__).resolve().parents[2] / "shared" / "media")
    clips = sorted((media / "video").glob("*.mp4"))
    return clips[0] if clips else None


def media_clip_or_generated() -> Path:
    return media_clip() or write_test_clip("input.mp4", width=192, height=144, fps=25, seconds=1.0, audio=False).path


# A stylizer that returns each frame as it is: stylize_video with it writes the original, cut and scaled.
unchanged = FunctionStylizer(lambda image: image, name="original")


def main() -> int:
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else media_clip_or_generated()
    # The evaluation compares frames one to one, so the original is cut and scaled like the stylized ones.
    cut = dict(long_side=192, end=1.0, overwrite=True, progress=False)
    original = vidstyle.stylize_video(src, "original.mp4", model=unchanged, **cut).output
    errors = {}
    for temporal in ("none", "smooth"):
        out = vidstyle.stylize_video(src, f"flicker-{temporal}.mp4", model="starry_night-fast-painted-lite",
                                     temporal=temporal, **cut).output
        result = evaluate_temporal(original, out, loss_every=1000)  # loss_every: VGG19 losses rarely (slow)
        errors[temporal] = result["warping_error"]
        print(f"temporal={temporal:<6} warping error {result['warping_error']:.5f} over {result['frames']} frames "
              f"({result['visible_fraction']:.0%} of the pixels visible in the previous frame)")
    print(f"smoothing keeps {errors['smooth'] / errors['none']:.0%} of the flicker")
    return 0


if __name__ == "__main__":
    sys.exit(main())

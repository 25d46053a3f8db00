"""Where does a model's flicker sit: on still pixels or on moving ones?

Splits the warping error of Lai et al. 2018 (as in ``vidstyle eval-temporal``) by the flow's magnitude: pixels
that move less than --still-px pixels between frames (background, sensor noise) and the rest (hands, cars).
Reports per model the mean E_warp, each part's mean squared error and each part's share of the total.

    .venv/bin/python benchmarks/flicker_regions.py asl-book.mkv starry_night-fast-painted starry_night-fast-painted-temporal \
        [--frames 48] [--long-side 320]

Media: $VIDSTYLE_MEDIA or ../shared/media next to the repository (the clip is looked up in its video/ folder).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from shared_media import media_root

from vidstyle.flow.estimate import FlowConfig, FlowEstimator
from vidstyle.flow.occlusion import visibility_mask
from vidstyle.runtime import create_stylizer
from vidstyle.io.file import FileSource
from vidstyle.temporal.evaluate import warping_error_map

MEDIA = media_root()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clip", help="file name in the media's video/ folder, or a path")
    ap.add_argument("models", nargs="+", help="registry names or model paths")
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--long-side", type=int, default=320)
    ap.add_argument("--still-px", type=float, default=0.5, help="flow magnitude below which a pixel counts as still")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    clip = Path(args.clip)
    if not clip.is_file():
        clip = MEDIA / "video" / args.clip
    if not clip.is_file():
        print(f"flicker_regions: no clip {args.clip} (media folder {MEDIA})", file=sys.stderr)
        return 1
    frames = []  # decoded and resized as benchmarks/temporal_table.py does
    with FileSource(clip, long_side=args.long_side) as source:
        for frame in source:
            frames.append(frame.image)
            if len(frames) >= args.frames:
                break
    estimator = FlowEstimator(FlowConfig(preset="medium"))
    pairs = []  # (flow t -> t-1, visibility) for t >= 1, computed on the originals
    for t in range(1, len(frames)):
        flow_cp, flow_pc = estimator.bidirectional(frames[t], frames[t - 1])
        pairs.append((flow_cp, visibility_mask(flow_cp, flow_pc, motion_boundaries=False)))  # as eval-temporal

    print(f"{clip.name}: {len(frames)} frames at {frames[0].shape[1]}x{frames[0].shape[0]}")
    for name in args.models:
        stylizer = create_stylizer(name, threads=args.threads)
        out = [stylizer.stylize(f) for f in frames]
        sums = {"still": 0.0, "moving": 0.0}
        weights = {"still": 0.0, "moving": 0.0}
        per_frame = []
        for t, (flow_cp, visible) in enumerate(pairs, start=1):
            sq = warping_error_map(out[t - 1], out[t], flow_cp)
            still = np.linalg.norm(flow_cp, axis=2) < args.still_px
            for part, mask in (("still", visible * still), ("moving", visible * ~still)):
                sums[part] += float((sq * mask).sum())
                weights[part] += float(mask.sum())
            per_frame.append(float((sq * visible).sum() / max(visible.sum(), 1e-9)))
        total = sums["still"] + sums["moving"]
        parts = "  ".join(
            f"{part} {sums[part] / max(weights[part], 1e-9):.5f} "
            f"({weights[part] / (weights['still'] + weights['moving']):.0%} of pixels, {sums[part] / total:.0%} of error)"
            for part in ("still", "moving")
        )
        print(f"{name}: E_warp {np.mean(per_frame):.5f}  {parts}")
        stylizer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`vidstyle eval-temporal ORIGINAL STYLIZED`: warping error (Lai et al. 2018) plus style/content losses."""
from __future__ import annotations

import argparse
import json

from vidstyle.flow.estimate import DIS_PRESETS


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval-temporal",
        help="measure flicker (warping error) and style strength of a stylized video",
        description=(
            "Warping error of Lai et al. 2018: for each frame t, the flow from original frame t to t-1 "
            "(DIS, computed on the originals), an occlusion mask from its forward-backward check, and the "
            "masked mean squared difference in [0,1] RGB between stylized frame t and stylized frame t-1 "
            "warped to t; reported as the mean over the video. With --style, also the mean Gatys style loss "
            "(VGG19) against that image; always the content loss against the originals."
        ),
    )
    p.add_argument("original", help="the unstylized video")
    p.add_argument("stylized", help="the stylized video (same frames, any size)")
    p.add_argument("--style", help="style image, for the style loss")
    p.add_argument("--json", action="store_true", help="print the full result as JSON (per-frame errors too)")
    p.add_argument("--flow-preset", choices=sorted(DIS_PRESETS), default="medium", help="DIS preset (default: medium)")
    p.add_argument("--flow-scale", type=float, default=1.0, help="compute flow at this fraction of the size (default 1)")
    p.add_argument("--max-frames", type=int, help="evaluate only the first N frames")
    p.add_argument("--loss-every", type=int, default=1, help="VGG19 losses on every k-th frame (default 1)")
    p.add_argument("--device", default="auto", help="device for VGG19: auto, cpu, cuda")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vidstyle.temporal.evaluate import EvaluationOptions, evaluate_temporal

    options = EvaluationOptions(
        flow_preset=args.flow_preset,
        flow_scale=args.flow_scale,
        max_frames=args.max_frames,
        loss_every=args.loss_every,
        device=args.device,
    )
    result = evaluate_temporal(args.original, args.stylized, style=args.style, options=options,
                               progress=not args.quiet)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"frames            {result['frames']} ({result['size'][0]}x{result['size'][1]})")
    print(f"warping error     {result['warping_error']:.6f}  (mean masked MSE, [0,1] RGB; lower = steadier)")
    print(f"visible fraction  {result['visible_fraction']:.3f}")
    if result.get("style_loss") is not None:
        print(f"style loss        {result['style_loss']:.6g}")
    print(f"content loss      {result['content_loss']:.6g}")
    return 0

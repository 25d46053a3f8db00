"""``vidstyle bench``: model-only speed per model × size × backend, and end-to-end live figures."""
from __future__ import annotations

import argparse
import json
import sys

from vidstyle.cli.runtime_flags import add_runtime_flags


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench",
        help="measure stylizing speed (ms/frame, fps, live latency)",
        description="Median ms per frame and fps for each model, size and backend after warm-up, "
        "then live fps and capture-to-display latency with a generated clip paced like a camera.",
    )
    p.add_argument("--model", default="fast",
                   help="comma-separated registry names or paths; 'fast'/'quality' = untrained network of that architecture")
    p.add_argument("--sizes", default="320x240,640x480,1280x720,1920x1080", help="comma-separated WIDTHxHEIGHT")
    add_runtime_flags(p, several_backends=True)
    p.add_argument("--runs", type=int, default=20, help="timed frames per case (median reported)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--no-live", dest="live", action="store_false", help="skip the end-to-end live measurement")
    p.add_argument("--live-sizes", default="640x480,1280x720")
    p.add_argument("--live-seconds", type=float, default=8.0)
    p.add_argument("--style", action="append", default=None, metavar="NAME|A=w,B=w",
                   help="a multi-style model's style or blend; repeat to compare (e.g. --style a --style a=0.5,b=0.5: "
                   "the cases are timed interleaved)")
    p.add_argument("--json", action="store_true", help="print the report as JSON instead of tables")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vidstyle.pipeline.bench import BenchOptions, format_report, parse_sizes, run_bench

    options = BenchOptions(
        models=tuple(m.strip() for m in args.model.split(",") if m.strip()),
        sizes=parse_sizes(args.sizes),
        backends=tuple(b.strip() for b in args.backend.split(",") if b.strip()),
        device=args.device,
        threads=args.threads,
        precision=args.precision,
        runs=args.runs,
        warmup=args.warmup,
        live=args.live,
        live_sizes=parse_sizes(args.live_sizes),
        live_seconds=args.live_seconds,
        styles=tuple(args.style or ()),
    )
    progress = None if args.json else (lambda msg: print(msg, file=sys.stderr, flush=True))
    report = run_bench(options, progress=progress)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_report(report))
    return 1 if report.errors and not report.model_only else 0

"""Live style switching: does the window keep showing frames while a new model loads?

A camera-paced test pattern (640×480 at 30 fps) runs through ``run_live`` headless; ``n`` is pressed every
--every frames, each press loading a model not used yet. For each switch: the model's load time (file,
graph export, compile, warm-up), the time from the key to the first frame in the new style, and the
longest gap between frames shown meanwhile, against the camera's interval (goal: no gap longer than two).

    .venv/bin/python benchmarks/bench_switch.py [--models a,b,c] [--size 640x480] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import statistics

from vidstyle.io.synthetic import TestPatternSource
from vidstyle.pipeline.live import LiveOptions, run_live

DEFAULT_MODELS = "starry_night-fast-painted,the_scream-fast-painted,mosaic-fast-painted,great_wave-fast-painted"


def one_session(models: list[str], width: int, height: int, fps: float, every: int, threads: int | None) -> list[dict]:
    keys: queue.Queue = queue.Queue()
    presses = len(models) - 1
    frames = every * (presses + 1) + every // 2

    def on_frame(info: dict) -> None:
        if info["index"] > 0 and info["index"] % every == 0 and info["index"] // every <= presses:
            keys.put("n")

    camera = TestPatternSource(width, height, fps=fps, realtime=True, frames=frames * 2)
    stats = run_live(LiveOptions(camera=camera, models=models, display=False, frames=frames, keys=keys,
                                 on_frame=on_frame, threads=threads))
    return [{"model": s.label, "load_ms": s.load_ms, "key_to_style_ms": s.key_to_style_ms,
             "max_gap_ms": s.max_gap_ms, "median_gap_ms": statistics.median(s.gaps_ms) if s.gaps_ms else None}
            for s in stats.switches]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated; n steps through them in order")
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--every", type=int, default=90, help="frames between presses (time for a load)")
    parser.add_argument("--repeats", type=int, default=3, help="sessions (each loads every model afresh)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    models = [m for m in args.models.split(",") if m]
    interval = 1000 / args.fps
    rows = []
    for repeat in range(args.repeats):
        for row in one_session(models, width, height, args.fps, args.every, args.threads):
            rows.append({"repeat": repeat, **row})
    print(f"load average {os.getloadavg()[0]:.1f}; camera interval {interval:.1f} ms")
    print("| switch to | load ms | key to style ms | longest gap ms (× interval) | median gap ms |")
    print("|---|---|---|---|---|")
    for r in rows:
        if r["key_to_style_ms"] is None:  # the session ended first, or a later key moved on before the load ended
            print(f"| {r['model']} | {r['load_ms']:.0f} | not shown | {r['max_gap_ms']:.0f} | |")
            continue
        print(f"| {r['model']} | {r['load_ms']:.0f} | {r['key_to_style_ms']:.0f} | {r['max_gap_ms']:.0f} "
              f"({r['max_gap_ms'] / interval:.1f}) | {r['median_gap_ms']:.0f} |")
    gaps = [r["max_gap_ms"] for r in rows]
    print(f"longest gap per switch: median {statistics.median(gaps):.0f} ms, max {max(gaps):.0f} ms "
          f"({statistics.median(gaps) / interval:.1f} / {max(gaps) / interval:.1f} intervals; goal <= 2)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"settings": vars(args), "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()

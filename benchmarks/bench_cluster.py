"""`vidstyle video --cluster`: scaling from 1 to 2 workers, and a multi-node run simulated on this machine.

1. Scaling: one local Ray with 2 CPUs; the same segment plan rendered by 1 and by 2 workers, runs alternated,
   for each --temporal mode asked for. Reports the median seconds, the speed-up and the scaling efficiency
   (speed-up / workers; goal >= 0.8 for optimize), and the warping error (Lai et al. 2018) of the frame pairs
   across each join against the clip's mean.
2. Multi-node (``ray.cluster_utils.Cluster``): a head with no CPUs and --nodes nodes of one CPU each, as
   separate raylets on this machine; a render over all of them. Reports on which node each segment ran, the
   joins' warping error, and whether frame count, timestamps and audio equal a single-process render.

    python benchmarks/bench_cluster.py --clip car-detection.mp4 --end 4 --repeats 3
"""
from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import ray
from shared_media import media_root

from vidstyle.io.file import FileSource
from vidstyle.io.probe import probe_video
from vidstyle.io.synthetic import write_test_clip
from vidstyle.pipeline.cluster import ClusterOptions
from vidstyle.pipeline.video import stylize_video
from vidstyle.temporal.evaluate import WarpingErrorMeter

QUIET = {"include_dashboard": False, "logging_level": logging.ERROR, "log_to_driver": False}


def find_clip(name: str, folder: Path) -> Path:
    if name == "synthetic":
        return write_test_clip(folder / "synthetic.mp4", width=640, height=360, seconds=4.0, fps=25, keyint=25).path
    path = Path(name)
    if path.is_file():
        return path
    candidate = media_root() / "video" / name
    if not candidate.is_file():
        sys.exit(f"no clip {name} (looked in {candidate.parent}); give a path or 'synthetic'")
    return candidate


def mode_options(mode: str, args: argparse.Namespace) -> dict:
    if mode == "optimize":
        return {"temporal": "optimize", "style": str(args.style), "long_side": args.optimize_long_side,
                "steps": args.steps}
    return {"temporal": mode, "long_side": args.long_side}


def join_errors(clip: Path, out: Path, segments: list[dict], end: float | None, long_side: int) -> dict:
    """E_warp of the frame pairs at the joins (with optimize's cross-fades: every pair from the last frame
    before a fade to the first after it) against the mean and the largest over all pairs, at the output's size."""
    stylized = probe_video(out, keep_images=True).images
    meter = WarpingErrorMeter()
    with FileSource(clip, long_side=long_side, end=end) as source:
        for frame, image in zip(source, stylized):
            meter.update(frame.image, image)
    # errors[k] is the pair (k, k + 1).
    joins = [max(meter.errors[s["first"] - 1:s["first"] + s.get("fade", 0)]) for s in segments[1:]]
    mean = meter.mean
    return {"mean": mean, "joins": joins, "join_ratio_max": max(joins) / mean if mean else None,
            "pair_ratio_max": max(meter.errors) / mean if mean else None,
            "pair_ratio_p90": float(sorted(meter.errors)[int(0.9 * (len(meter.errors) - 1))] / mean) if mean else None}


def render(clip: Path, out: Path, model: str, options: dict, end: float | None, cluster=None) -> tuple[float, object]:
    if out.exists():
        out.unlink()
    t0 = time.perf_counter()
    result = stylize_video(clip, out, model, end=end, progress=False, cluster=cluster, **options)
    return time.perf_counter() - t0, result


def scaling(args: argparse.Namespace, clip: Path, folder: Path) -> list[dict]:
    rows = []
    ray.init(num_cpus=2, **QUIET)
    try:
        for mode in args.modes.split(","):
            options = mode_options(mode, args)
            counts = [int(w) for w in args.workers.split(",")]
            times: dict[int, list[float]] = {w: [] for w in counts}
            ratios = []
            last = None
            for repeat in range(args.repeats):
                run = {}
                for workers in counts if repeat % 2 == 0 else counts[::-1]:
                    cluster = ClusterOptions(spec="local:2", workers=workers, segment_frames=args.segment_frames,
                                             fade_frames=args.fade_frames)
                    seconds, result = render(clip, folder / f"{mode}-{workers}.mp4", args.model, options, args.end,
                                             cluster)
                    times[workers].append(seconds)
                    run[workers] = seconds
                    if workers == 2:
                        last = result
                    print(f"  {mode}: {workers} worker(s) {seconds:.1f} s ({result.frames_out} frames, "
                          f"{len(result.cluster['segments'])} segments)", flush=True)
                if 1 in run and 2 in run:
                    ratios.append(run[1] / run[2])
            side = args.optimize_long_side if mode == "optimize" else args.long_side
            joins = join_errors(clip, folder / f"{mode}-2.mp4", last.cluster["segments"], args.end, side)
            speedup = statistics.median(ratios) if ratios else None
            rows.append({
                "mode": mode, "frames": last.frames_out, "segments": len(last.cluster["segments"]),
                "fades": [s["fade"] for s in last.cluster["segments"]],
                **{f"seconds_{w}": statistics.median(t) for w, t in times.items()},
                "speedup": speedup, "efficiency": speedup / 2 if speedup else None, "speedups": ratios, **joins,
            })
    finally:
        ray.shutdown()
    return rows


def multi_node(args: argparse.Namespace, clip: Path, folder: Path) -> dict:
    from ray.cluster_utils import Cluster

    options = {"temporal": args.multi_node_mode, "long_side": args.long_side}
    seconds_single, single = render(clip, folder / "single.mp4", args.model, options, args.end)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    for _ in range(args.nodes):
        cluster.add_node(num_cpus=1)
    try:
        ray.init(address=cluster.address, **{k: v for k, v in QUIET.items() if k != "include_dashboard"})
        cluster.wait_for_nodes()
        seconds, result = render(clip, folder / "nodes.mp4", args.model, options, args.end,
                                 ClusterOptions(spec="auto", segment_frames=max(1, args.segment_frames // 2)))
    finally:
        ray.shutdown()
        cluster.shutdown()
    a, b = probe_video(folder / "single.mp4"), probe_video(folder / "nodes.mp4")
    joins = join_errors(clip, folder / "nodes.mp4", result.cluster["segments"], args.end, args.long_side)
    return {
        "mode": args.multi_node_mode, "nodes": result.cluster["nodes"], "workers": result.cluster["workers"],
        "segment_nodes": [s["node"] for s in result.cluster["segments"]], "frames": result.frames_out,
        "seconds": seconds, "seconds_single_process": seconds_single,
        "same_frames_and_timestamps": a.times == b.times,
        "same_audio": [x.packets for x in a.audio] == [x.packets for x in b.audio], **joins,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clip", default="car-detection.mp4", help="a clip of the media folder, a path, or 'synthetic'")
    p.add_argument("--end", type=float, default=4.0, help="render the first END seconds")
    p.add_argument("--model", default="starry_night-fast-painted")
    p.add_argument("--style", default=None, help="style image of optimize (default: the media folder's starry_night)")
    p.add_argument("--modes", default="optimize,none", help="--temporal modes of the scaling part ('' skips it)")
    p.add_argument("--long-side", type=int, default=None, help="render size of the network modes")
    p.add_argument("--optimize-long-side", type=int, default=96)
    p.add_argument("--steps", type=int, default=20, help="optimisation steps per frame (optimize)")
    p.add_argument("--segment-frames", type=int, default=None, help="default: half the frames (two segments)")
    p.add_argument("--fade-frames", type=int, default=None, help="optimize's cross-fade at each join (default: 8)")
    p.add_argument("--workers", default="1,2", help="worker counts of the scaling part ('2' measures joins only)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--nodes", type=int, default=2, help="simulated nodes (0 skips the multi-node part)")
    p.add_argument("--multi-node-mode", default="smooth")
    p.add_argument("--json", default=None)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clip = find_clip(args.clip, folder)
        args.style = Path(args.style) if args.style else media_root() / "styles" / "starry_night.jpg"
        if args.segment_frames is None:
            with FileSource(clip, end=args.end) as source:
                frames = sum(1 for _ in source)
            args.segment_frames = (frames + 1) // 2
        report = {"clip": str(clip.name), "end": args.end, "segment_frames": args.segment_frames}
        if args.modes:
            report["scaling"] = scaling(args, clip, folder)
            for row in report["scaling"]:
                scaling_text = (f"1 worker {row['seconds_1']:.1f} s, 2 workers {row['seconds_2']:.1f} s; speed-up "
                                f"{row['speedup']:.2f}, efficiency {row['efficiency']:.2f}; " if row["speedup"] else "")
                print(f"{row['mode']}: {row['frames']} frames in {row['segments']} segments (fades {row['fades']}); "
                      f"{scaling_text}E_warp at the joins {row['join_ratio_max']:.2f}x the clip's mean at most (any "
                      f"pair: {row['pair_ratio_max']:.2f}x at most, {row['pair_ratio_p90']:.2f}x at the 90th percentile)")
        if args.nodes:
            row = report["multi_node"] = multi_node(args, clip, folder)
            print(f"multi-node ({row['mode']}): {row['frames']} frames on {row['nodes']} nodes, segments on nodes "
                  f"{row['segment_nodes']}; {row['seconds']:.1f} s (single process {row['seconds_single_process']:.1f} s);"
                  f" frames and timestamps {'equal' if row['same_frames_and_timestamps'] else 'DIFFERENT'}, audio "
                  f"{'equal' if row['same_audio'] else 'DIFFERENT'}; E_warp at the joins "
                  f"{row['join_ratio_max']:.2f}x the mean at most")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

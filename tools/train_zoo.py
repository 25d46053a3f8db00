"""Train the shipped model zoo, one model after another, resumably.

    nohup nice -n 10 .venv/bin/python tools/train_zoo.py > runs/zoo/zoo.log 2>&1 &

Run from the repository root. Photos: ../shared/media/train, styles: ../shared/media/styles (or $VIDSTYLE_MEDIA).
Each job writes models/<name>.safetensors (+ .json) and keeps its log, previews and checkpoint in runs/<name>/.
A finished model is skipped; an unfinished one resumes from its checkpoint, so re-running this script after
an interruption (or in a later session) continues where it stopped. Budgets are training minutes on the
2-core development machine, shared with other work, which is why they and the crop size are small.

Style weights: the raw style loss of a photo against a painting differs ×6 between paintings
(starry_night 1.1e6, mosaic 1.5e6, the_scream 2.8e5, great_wave 2.6e5 for 192-px crops, Johnson layers),
so each style's weight is ≈ 1e6 / that value: similar stylization strength for every style. (A first run
with 3× these weights lost the photo within 100 steps; runs/v1-starry_night-fast.)
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("VIDSTYLE_MEDIA", ROOT.parent / "shared" / "media"))

STYLE_WEIGHT = {"starry_night": 1.0, "mosaic": 0.7, "the_scream": 3.3, "great_wave": 4.0}
COMMON = ["--size", "128", "--batch", "2", "--style-size", "512", "--threads", "2", "--log-every", "10",
          "--checkpoint-every", "25", "--preview-every", "100", "--no-progress", "--steps", "100000"]

# (model name, extra arguments); order = priority (fast models first: other parts of vidstyle need them).
JOBS: list[tuple[str, list[str]]] = [
    ("starry_night-fast", ["--arch", "fast", "--lr", "2e-3", "--max-minutes", "10"]),
    ("mosaic-fast", ["--arch", "fast", "--lr", "2e-3", "--max-minutes", "8"]),
    ("the_scream-fast", ["--arch", "fast", "--lr", "2e-3", "--max-minutes", "8"]),
    ("great_wave-fast", ["--arch", "fast", "--lr", "2e-3", "--max-minutes", "8"]),
    ("starry_night-quality", ["--arch", "quality", "--lr", "2e-3", "--max-minutes", "9"]),
    ("mosaic-quality", ["--arch", "quality", "--lr", "2e-3", "--max-minutes", "9"]),
    ("starry_night-fast-temporal", ["--arch", "fast", "--init", "models/starry_night-fast.safetensors",
                                    "--temporal", "--temporal-weight", "5e7", "--lr", "1e-3", "--max-minutes", "3",
                                    "--warmup-free"]),
    # not run in the first session (no time left on the shared CPU); run with: tools/train_zoo.py starry_night-quality-temporal
    ("starry_night-quality-temporal", ["--arch", "quality", "--init", "models/starry_night-quality.safetensors",
                                       "--temporal", "--temporal-weight", "5e7", "--lr", "5e-4", "--max-minutes", "4",
                                       "--warmup-free"]),
]


OPTIONAL = {"starry_night-quality-temporal"}  # only when named on the command line


def command(name: str, extra: list[str]) -> list[str]:
    style = name.split("-")[0]
    extra = [a for a in extra if a != "--warmup-free"]
    args = [sys.executable, "-m", "vidstyle.cli.main", "train",
            "--style", str(MEDIA / "styles" / f"{style}.jpg"), "--data", str(MEDIA / "train"),
            "--out", f"models/{name}.safetensors", "--run-dir", f"runs/{name}", "--style-name", style,
            "--style-weight", str(STYLE_WEIGHT[style]), *COMMON, *extra]
    if (ROOT / "runs" / name / "checkpoint.safetensors").is_file():
        args.append("--resume")
    return args


def main() -> int:
    only = set(sys.argv[1:])
    if not (MEDIA / "train").is_dir():
        print(f"training photos not found under {MEDIA}; set VIDSTYLE_MEDIA", file=sys.stderr)
        return 1
    os.chdir(ROOT)
    for name, extra in JOBS:
        if (only and name not in only) or (not only and name in OPTIONAL):
            continue
        if (ROOT / "models" / f"{name}.safetensors").is_file():
            print(f"[zoo] {name}: done, skipping", flush=True)
            continue
        args = command(name, extra)
        print(f"[zoo] {time.strftime('%H:%M:%S')} start {name}: {' '.join(args[1:])}", flush=True)
        t = time.perf_counter()
        code = subprocess.call(args)
        print(f"[zoo] {time.strftime('%H:%M:%S')} {name} exited {code} after {(time.perf_counter() - t) / 60:.1f} min",
              flush=True)
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())

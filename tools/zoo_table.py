"""Print the model-zoo table for models/README.md from the shipped models' metadata and training logs.

    .venv/bin/python tools/zoo_table.py

"1.25× time": training wall time until the logged style loss (a 10-step mean, runs/<name>/log.jsonl) first
came within 1.25× of the final one; the training-speed figure of issue 4.
"""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def time_to_fraction(log: Path, factor: float = 1.25) -> tuple[float, int] | None:
    if not log.is_file():
        return None
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    if not rows:
        return None
    final = rows[-1]["style"]
    for r in rows:
        if r["style"] <= factor * final:
            return r["time_s"], r["step"]
    return None


def main() -> None:
    print("| model | style image | arch | train size / batch | steps | wall time (2 cores) | final content / style loss | 1.25× style-loss time |")
    print("|---|---|---|---|---|---|---|---|")
    for meta_path in sorted((ROOT / "models").glob("*.json")):
        meta = json.loads(meta_path.read_text())
        t = meta.get("training", {})
        losses = meta.get("losses", {})
        reach = time_to_fraction(ROOT / "runs" / meta_path.stem / "log.jsonl")
        reach_s = f"{reach[0] / 60:.1f} min (step {reach[1]})" if reach else "n/a"
        extra = " + temporal" if meta.get("temporal") else ""
        print(f"| {meta_path.stem} | {meta.get('style_image')} | {meta['architecture']}{extra} | "
              f"{t.get('size')} / {t.get('batch')} | {meta.get('steps')} | "
              f"{meta.get('train_wall_time_s', 0) / 60:.1f} min ({meta.get('train_precision')}) | "
              f"{losses.get('content', 0):.3g} / {losses.get('style', 0):.3g} | {reach_s} |")


if __name__ == "__main__":
    main()

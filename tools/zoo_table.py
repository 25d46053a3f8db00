"""Print a table of the shipped models from their metadata and training logs.

    .venv/bin/python tools/zoo_table.py

"1.25× time": training wall time until the style loss, smoothed over 100 steps (a rolling mean of ten
10-step log lines), first came within 1.25× of the final smoothed value (the last 100 steps): the training-speed
figure of docs/benchmarks.md. The log is that of the model's last recipe stage
(runs/recipes/NAME/STAGE/log.jsonl, written by `vidstyle train --recipe models/recipes/NAME.toml`), else the
newest runs/**/NAME/log.jsonl; "n/a" where the model was not trained on this machine.
"""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def time_to_fraction(log: Path, factor: float = 1.25, window: int = 10) -> tuple[float, int] | None:
    """(training seconds, step) when the rolling-mean style loss first came within ``factor`` of its final value."""
    if not log.is_file():
        return None
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    if len(rows) < window:
        return None
    smooth = [sum(r["style"] for r in rows[i + 1 - window:i + 1]) / window for i in range(window - 1, len(rows))]
    final = smooth[-1]
    for value, row in zip(smooth, rows[window - 1:]):
        if value <= factor * final:
            return row["time_s"], row["step"]
    return None


def training_log(name: str) -> Path:
    """The log of the run that wrote this model's weights: its recipe's last stage, else runs/**/<name>/."""
    recipe = ROOT / "models" / "recipes" / f"{name}.toml"
    if recipe.is_file():
        from vidstyle.train.recipe import load_recipe

        last = load_recipe(recipe).stages[-1].name
        log = ROOT / "runs" / "recipes" / name / last / "log.jsonl"
        if log.is_file():
            return log
    logs = sorted((ROOT / "runs").glob(f"**/{name}/log.jsonl"), key=lambda p: p.stat().st_mtime)
    return logs[-1] if logs else ROOT / "runs" / name / "log.jsonl"


def main() -> None:
    print("| model | style image | arch | train size / batch | steps (runs) | training time | final content / style loss | 1.25× style-loss time |")
    print("|---|---|---|---|---|---|---|---|")
    for meta_path in sorted((ROOT / "models").glob("*.json")):
        meta = json.loads(meta_path.read_text())
        t = meta.get("training", {})
        losses = meta.get("losses", {})
        reach = time_to_fraction(training_log(meta_path.stem))
        reach_s = f"{reach[0] / 60:.1f} min (step {reach[1]})" if reach else "n/a"
        extra = " + temporal" if meta.get("temporal") else ""
        if t.get("teacher"):
            extra += f" {meta['arch_params'].get('channels')} ch, distilled"
        loss_text = (f"L1 to teacher {losses.get('distill', 0) / t.get('distill_weight', 1):.3g}" if t.get("teacher")
                     else f"{losses.get('content', 0):.3g} / {losses.get('style', 0):.3g}")
        runs = [*meta.get("history", []), {"steps": meta.get("steps")}]
        steps = " + ".join(str(r["steps"]) for r in runs)
        total_steps = meta.get("total_steps", meta.get("steps"))
        minutes = meta.get("total_train_wall_time_s", meta.get("train_wall_time_s", 0)) / 60
        print(f"| {meta_path.stem} | {meta.get('style_image')} | {meta['architecture']}{extra} | "
              f"{t.get('size')} / {t.get('batch')} | {total_steps}" + (f" ({steps})" if len(runs) > 1 else "") + " | "
              f"{minutes:.0f} min ({meta.get('train_precision')}, {meta.get('train_threads')} thread(s) last run) | "
              f"{loss_text} | {reach_s} |")


if __name__ == "__main__":
    main()

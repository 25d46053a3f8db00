"""`vidstyle models list|info NAME`: the installed transform networks."""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("models", help="list installed style models or show one",
                              description="List the style models vidstyle can find, or show one model's metadata. "
                              "Search path: the package's models/ folder, $VIDSTYLE_MODELS, ~/.local/share/vidstyle/models.")
    sub = p.add_subparsers(dest="models_command", metavar="ACTION")
    sub.required = True
    ls = sub.add_parser("list", help="list models")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=run_list)
    info = sub.add_parser("info", help="show a model's metadata")
    info.add_argument("name", help="model name or .safetensors path")
    info.add_argument("--json", action="store_true", help="print the raw metadata JSON")
    info.set_defaults(func=run_info)
    path = sub.add_parser("path", help="print the search path")
    path.set_defaults(func=run_path)


def _summary(meta: dict) -> str:
    losses = meta.get("losses") or {}
    # Totals over every run that led to the weights (--init chains), when recorded.
    minutes = meta.get("total_train_wall_time_s", meta.get("train_wall_time_s"))
    parts = [meta.get("architecture", "?"), f"{meta.get('total_steps', meta.get('steps', '?'))} steps"]
    if meta.get("temporal"):
        parts.append("temporal")
    if minutes:
        parts.append(f"{minutes / 60:.0f} min")
    teacher = (meta.get("training") or {}).get("teacher")
    if teacher:  # a distilled model has no style loss of its own
        names = teacher if isinstance(teacher, list) else [teacher]
        parts.append(f"distilled from {', '.join(Path(t).stem for t in names)}")
    elif "style" in losses:
        parts.append(f"style loss {losses['style']:.3g}")
    return ", ".join(parts)


def run_list(args: argparse.Namespace) -> int:
    from vidstyle.models import list_models

    models = list_models()
    if args.json:
        print(json.dumps([{"name": m.name, "path": str(m.path), "metadata": m.metadata, "error": m.error}
                          for m in models], indent=2))
        return 0
    if not models:
        print("no models found (see `vidstyle models path`)")
        return 0
    from vidstyle.models.styles import metadata_styles

    width = max(len(m.name) for m in models)
    for m in models:
        detail = _summary(m.metadata) if m.metadata else f"unreadable: {m.error}"
        print(f"{m.name:{width}s}  {detail}  [{m.path.parent}]")
        styles = metadata_styles(m.metadata)
        if styles:  # a multi-style model: what --style takes
            print(f"{'':{width}s}  {len(styles)} styles: {', '.join(styles)}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    from vidstyle.models import count_parameters, find_model, load_model
    from vidstyle.models.styles import metadata_styles

    loaded = load_model(find_model(args.name))
    meta = loaded.metadata
    if args.json:
        print(json.dumps(meta, indent=2, sort_keys=True))
        return 0
    training = meta.get("training") or {}
    rows = [
        ("name", loaded.name),
        ("path", str(loaded.path)),
        ("architecture", f"{meta['architecture']} {meta['arch_params']}"),
        ("parameters", f"{count_parameters(loaded.network):,}"),
        ("style", f"{meta.get('style_name')} ({meta.get('style_image')}, sha256 {str(meta.get('style_image_sha256'))[:12]}…)"
         if not metadata_styles(meta) else f"{len(metadata_styles(meta))} styles (--style NAME or A=0.6,B=0.4): "
         + ", ".join(metadata_styles(meta))),
        ("temporal", str(bool(meta.get("temporal")))),
        ("steps", str(meta.get("steps")) + (f" (+{meta['total_steps'] - meta['steps']} in earlier runs: "
                                            + ", ".join(f"{r['model']} {r['steps']}" for r in meta["history"]) + ")"
                                            if meta.get("history") else "")),
        ("training", ", ".join(f"{k} {training[k]}" for k in ("size", "batch", "style_size", "lr", "content_weight",
                                                              "style_weight", "tv_weight", "grid_weight",
                                                              "temporal_weight", "teacher") if training.get(k) is not None)),
        ("wall time", f"{meta['train_wall_time_s'] / 60:.1f} min on {meta.get('train_device')} "
                      f"({meta.get('train_threads')} threads, {meta.get('train_precision')})"
                      if meta.get("train_wall_time_s") else "?"),
        ("final losses", ", ".join(f"{k} {v:.4g}" for k, v in (meta.get("losses") or {}).items() if v)),
        ("vidstyle", str(meta.get("vidstyle_version"))),
    ]
    for key, value in rows:
        print(f"{key:13s} {value}")
    return 0


def run_path(args: argparse.Namespace) -> int:
    from vidstyle.models import search_path

    for folder in search_path():
        print(f"{folder}{'' if folder.is_dir() else '  (missing)'}")
    return 0

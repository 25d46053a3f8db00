"""`vidstyle train`: train a transform network for one style on a folder of photos."""
from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path

from vidstyle.cli.runtime_flags import add_precision_flag
from vidstyle.train.config import TrainConfig

_DEFAULTS = TrainConfig(style=Path("."), data=Path("."), out=Path("."))


def register(subparsers: argparse._SubParsersAction) -> None:
    d = _DEFAULTS
    p = subparsers.add_parser(
        "train",
        help="train a feed-forward style network on a folder of photos",
        description="Train a transform network (Johnson et al. 2016) for one style image. Writes a .safetensors "
        "model with JSON metadata; logs, previews and checkpoints go to --run-dir (default runs/<name>/).",
    )
    p.add_argument("--recipe", default=None, metavar="FILE",
                   help="run a recipe: a model's whole training chain from a TOML file (or a shipped model's name, "
                        "models/recipes/NAME.toml); stages go to --run-dir (default runs/recipes/NAME), the final "
                        "model to --out (default models/NAME.safetensors); run it again to resume")
    p.add_argument("--dry-run", action="store_true", help="with --recipe: print the stages and their state, train nothing")
    p.add_argument("--style", type=Path,
                   help="style image (a painting); with --arch multistyle also a folder of paintings")
    p.add_argument("--data", type=Path, help="folder of training photos (searched recursively)")
    p.add_argument("--out", type=Path, help="output model file (.safetensors)")
    p.add_argument("--arch", choices=["fast", "quality", "multistyle"], default=d.arch, help=f"network (default {d.arch})")
    p.add_argument("--arch-param", action="append", default=[], metavar="KEY=VALUE",
                   help="architecture parameter, e.g. channels=32 (repeatable)")
    p.add_argument("--steps", type=int, default=d.steps, help=f"optimizer steps (default {d.steps})")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="stop after this much training time; the learning-rate decay follows whichever ends first")
    p.add_argument("--batch", type=int, default=d.batch, help=f"photos per step (default {d.batch})")
    p.add_argument("--size", type=int, default=d.size, help=f"training crop size in pixels (default {d.size})")
    p.add_argument("--photo-side", type=int, default=None,
                   help="short side the photos are scaled to before cropping (default 1.25 x --size); larger than "
                        "--size trains on patches of bigger photos, cheaper per step")
    p.add_argument("--photos", type=int, default=None, metavar="N",
                   help="train on the first N photos of --data only (sorted; default all): bounds the first pass "
                        "of a slow teacher such as --teacher gatys")
    p.add_argument("--style-size", type=int, default=d.style_size,
                   help=f"long side of the style image in pixels: sets the brush-stroke scale (default {d.style_size})")
    p.add_argument("--lr", type=float, default=d.lr, help=f"Adam learning rate (default {d.lr})")
    p.add_argument("--content-weight", type=float, default=d.content_weight, help=f"default {d.content_weight}")
    p.add_argument("--style-weight", type=float, default=d.style_weight, help=f"default {d.style_weight}")
    p.add_argument("--palette-weight", type=float, default=d.palette_weight,
                   help="weight of the palette loss: the output's colour distribution against the painting's "
                        f"(default {d.palette_weight:g})")
    p.add_argument("--style-lr-factor", type=float, default=d.style_lr_factor,
                   help="multistyle: learning-rate multiplier of the per-style scale and shift rows "
                        f"(default {d.style_lr_factor:g})")
    p.add_argument("--tv-weight", type=float, default=d.tv_weight, help=f"default {d.tv_weight}")
    p.add_argument("--grid-weight", type=float, default=d.grid_weight,
                   help=f"penalty on patterns locked to the network's stride-4 pixel grid (default {d.grid_weight:g}; 0 turns it off)")
    p.add_argument("--style-layers", default=",".join(d.style_layers), help="VGG19 layers for the style loss")
    p.add_argument("--content-layers", default=",".join(d.content_layers), help="VGG19 layers for the content loss")
    p.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every, help="steps between checkpoints")
    p.add_argument("--resume", nargs="?", const="auto", default=None, metavar="CHECKPOINT",
                   help="continue from a checkpoint (default: the run folder's checkpoint.safetensors)")
    p.add_argument("--init", default=None, metavar="MODEL",
                   help="start from a trained model's weights (name or path), e.g. to fine-tune with --temporal")
    p.add_argument("--log-every", type=int, default=d.log_every, help="steps between JSONL log lines")
    p.add_argument("--preview-every", type=int, default=d.preview_every, help="steps between preview grids")
    p.add_argument("--run-dir", type=Path, default=None, help="logs, previews and checkpoints (default runs/<name>)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default=d.device, help="auto, cpu, cuda, cuda:N or mps")
    add_precision_flag(p, default=d.precision,
                       help="autocast dtype: auto (bf16 on CPUs with AVX512-BF16/AMX, fp16 on CUDA, else fp32), fp32, "
                            "bf16 or fp16 (float32, bfloat16 are accepted too)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    p.add_argument("--temporal", action="store_true",
                   help="add the Ruder et al. 2018 temporal loss on synthetic motion, or on real video with "
                   "--video-data (stable video output)")
    p.add_argument("--video-data", type=Path, default=None, metavar="DIR",
                   help="folder of videos (searched recursively): the temporal loss uses their consecutive frames "
                   "with DIS flow and occlusion masks instead of synthetic motion; needs --temporal")
    p.add_argument("--video-pairs", type=int, default=d.video_pairs,
                   help=f"frame pairs kept from --video-data, spread over the videos (default {d.video_pairs})")
    p.add_argument("--temporal-weight", type=float, default=d.temporal_weight, help=f"default {d.temporal_weight}")
    p.add_argument("--temporal-noise", type=float, default=d.temporal_noise,
                   help=f"std of the noise added to the synthetically moved frame (default {d.temporal_noise})")
    p.add_argument("--teacher", action="append", default=None, metavar="MODEL",
                   help="distil: train to reproduce this model's outputs (pixel L1 instead of the VGG losses; "
                        "much faster per step), e.g. a smaller --arch-param channels=32 copy of a zoo model; "
                        "'gatys': each training view is painted once by Gatys optimisation (a painting with no "
                        "network yet; slow per view, so use few --distill-views); with --arch multistyle, "
                        "repeat it with one trained model per painting (matched by the painting)")
    p.add_argument("--distill-weight", type=float, default=d.distill_weight, help=f"default {d.distill_weight:g}")
    p.add_argument("--distill-style-weight", type=float, default=d.distill_style_weight,
                   help="with --teacher: add the Gram style loss at this weight (sharper strokes; one VGG pass "
                        "per step; default 0)")
    p.add_argument("--distill-views", type=int, default=d.distill_views,
                   help=f"fixed crops per photo whose teacher outputs are kept (default {d.distill_views})")
    p.add_argument("--style-name", default=None, help="style name stored in the metadata (default: the file stem)")
    p.add_argument("--overwrite", "-y", action="store_true",
                   help="replace an existing --out (never the --init, --teacher or --resume model)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    # Every option's default, so that --recipe can refuse training options it would otherwise ignore.
    p.set_defaults(func=functools.partial(run, flag_defaults=vars(p.parse_args([]))))


def optimisation_teachers() -> dict:
    """The teachers that are optimisers, not models (``--teacher gatys``), for the trainer."""
    from vidstyle.gatys.teacher import GatysTeacher

    def gatys(style: Path, config: TrainConfig, device) -> GatysTeacher:
        return GatysTeacher(style, config.style_size, device)

    return {"gatys": gatys}


def _parse_arch_params(items: list[str]) -> dict:
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            from vidstyle.errors import InputError

            raise InputError(f"--arch-param expects KEY=VALUE, got {item!r}")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


def run(args: argparse.Namespace, flag_defaults: dict | None = None) -> int:
    from vidstyle.errors import InputError
    from vidstyle.train import train

    if args.recipe:
        return _run_recipe_command(args, flag_defaults or {})
    if args.dry_run:
        raise InputError("--dry-run goes with --recipe")
    missing = [flag for flag, value in (("--style", args.style), ("--data", args.data), ("--out", args.out)) if not value]
    if missing:
        raise InputError(f"{', '.join(missing)} required (or --recipe FILE)")
    if args.out.suffix != ".safetensors":
        raise InputError(f"--out must end in .safetensors, got {args.out}")
    if not args.style.exists():
        raise InputError(f"style image not found: {args.style}")
    config = TrainConfig(
        style=args.style, data=args.data, out=args.out, arch=args.arch,
        arch_params=_parse_arch_params(args.arch_param), steps=args.steps, max_minutes=args.max_minutes,
        batch=args.batch, size=args.size, style_size=args.style_size, photo_side=args.photo_side, lr=args.lr,
        photos=args.photos,
        content_weight=args.content_weight, style_weight=args.style_weight, palette_weight=args.palette_weight, style_lr_factor=args.style_lr_factor, tv_weight=args.tv_weight, grid_weight=args.grid_weight,
        style_layers=tuple(s for s in args.style_layers.split(",") if s),
        content_layers=tuple(s for s in args.content_layers.split(",") if s),
        checkpoint_every=args.checkpoint_every, log_every=args.log_every, preview_every=args.preview_every,
        seed=args.seed, device=args.device, precision=args.precision, temporal=args.temporal,
        temporal_weight=args.temporal_weight, temporal_noise=args.temporal_noise, video_data=args.video_data, video_pairs=args.video_pairs,
        init=args.init, resume=args.resume, run_dir=args.run_dir, teacher=args.teacher[0] if args.teacher and len(args.teacher) == 1 else args.teacher,
        distill_weight=args.distill_weight,
        distill_views=args.distill_views, distill_style_weight=args.distill_style_weight,
        threads=args.threads, progress=not args.no_progress, style_name=args.style_name, overwrite=args.overwrite,
    )
    result = train(config, teachers=optimisation_teachers())
    losses = ", ".join(f"{k} {v:.4g}" for k, v in result.losses.items() if v)
    print(f"saved {result.path} after {result.steps} steps in {result.wall_time_s / 60:.1f} min ({losses})")
    return 0


# Options that apply to a recipe run; the recipe holds every other training setting.
_RECIPE_FLAGS = {"recipe", "dry_run", "out", "run_dir", "overwrite", "no_progress", "device", "precision", "threads"}


def _run_recipe_command(args: argparse.Namespace, flag_defaults: dict) -> int:
    from vidstyle.errors import InputError
    from vidstyle.train.recipe import RecipeOptions, describe, find_recipe, load_recipe, media_root, plan, run_recipe

    ignored = sorted(k for k, v in vars(args).items()
                     if k in flag_defaults and k not in _RECIPE_FLAGS and v != flag_defaults[k])
    if ignored:
        flags = ", ".join("--" + k.replace("_", "-") for k in ignored)
        raise InputError(f"{flags}: --recipe takes the training settings from the recipe file; edit it instead")
    if args.out is not None and args.out.suffix != ".safetensors":
        raise InputError(f"--out must end in .safetensors, got {args.out}")
    recipe = load_recipe(find_recipe(args.recipe))
    machine = {"device": args.device if args.device != flag_defaults.get("device") else None,
               "precision": args.precision if args.precision != flag_defaults.get("precision") else None,
               "threads": args.threads}
    options = RecipeOptions(media=media_root(), run_dir=args.run_dir, out=args.out, overwrite=args.overwrite,
                            progress=not args.no_progress, machine=machine, teachers=optimisation_teachers())
    if args.dry_run:
        print(f"recipe {recipe.name} ({recipe.path}): {recipe.description}".rstrip(": "))
        out = options.output(recipe)
        exists = " (exists: --overwrite replaces it)" if out.exists() else ""
        print(f"media {options.media}, stages in {options.run_folder(recipe)}, model to {out}{exists}")
        print(describe(plan(recipe, options)))
        return 0
    run_recipe(recipe, options)
    return 0
